// The signed-in account, shared by every screen.
import { reactive } from 'vue'
import { api, ApiError } from '../api/client'
import type { Me } from '../api/types'

/** `offline`: the last /me failed for the network, so `me: null` does not mean logged out. */
export const session = reactive<{ me: Me | null; loaded: boolean; offline: boolean }>({ me: null, loaded: false, offline: false })

export const isStaff = (me: Me | null) => me?.role === 'clerk' || me?.role === 'admin'

export async function loadMe(force = false): Promise<Me | null> {
  if (session.loaded && !force) return session.me
  session.offline = false
  try {
    session.me = await api<Me>('/me')
  } catch (e) {
    if (e instanceof ApiError && e.isNetwork) session.offline = true
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) session.me = null
    else if (!(e instanceof ApiError && e.isNetwork)) session.me = null
  }
  session.loaded = true
  return session.me
}

export function setMe(me: Me | null) {
  session.me = me
  session.offline = false
  session.loaded = true
}

export async function logout() {
  try {
    await api('/sessions/current', { method: 'DELETE' })
  } finally {
    setMe(null)
  }
}
