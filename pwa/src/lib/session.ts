// The signed-in account, shared by every screen.
import { reactive } from 'vue'
import { api, ApiError } from '../api/client'
import type { Me } from '../api/types'
import { setActiveAccount } from './vault'
import { forgetPersonalData, type ForgetOptions } from './deviceData'

/** `offline`: the last /me failed for the network, so `me: null` does not mean logged out. */
export const session = reactive<{ me: Me | null; loaded: boolean; offline: boolean }>({ me: null, loaded: false, offline: false })

// Whether this device signed in last time. Without it a visitor is not asked for /me, so a
// first visit makes no request that is bound to fail (a 401 the console reports as an error).
const HINT = 'permit.signedIn'
function hinted(): boolean {
  try {
    return localStorage.getItem(HINT) === '1'
  } catch {
    return true
  }
}
function remember(me: Me | null) {
  try {
    if (me) localStorage.setItem(HINT, '1')
    else localStorage.removeItem(HINT)
  } catch {
    /* private mode: ask every time */
  }
}

export const isStaff = (me: Me | null) => me?.role === 'clerk' || me?.role === 'admin'

/** The signed-in account. `probe`: ask the server even when this device never signed in. */
export async function loadMe(force = false, probe = hinted()): Promise<Me | null> {
  if (session.loaded && !force) return session.me
  session.offline = false
  if (!probe) {
    session.me = null
    session.loaded = true
    return null
  }
  try {
    session.me = await api<Me>('/me')
    remember(session.me)
    void setActiveAccount(session.me.id).catch(() => undefined)
  } catch (e) {
    if (e instanceof ApiError && e.isNetwork) session.offline = true
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      session.me = null
      remember(null)
      void setActiveAccount(null).catch(() => undefined)
    }
    else if (!(e instanceof ApiError && e.isNetwork)) session.me = null
  }
  session.loaded = true
  return session.me
}

export function setMe(me: Me | null) {
  remember(me)
  // The signed-in account's wallet is the one that opens by itself, also offline; with nobody
  // signed in (signed out, or the session ended) none does.
  void setActiveAccount(me?.id ?? null).catch(() => undefined)
  session.me = me
  session.offline = false
  session.loaded = true
}

/**
 * 退出登录: ends the session and removes what this device holds about the account: everything
 * by default, or everything but the sealed wallet when the person chose to keep the permit.
 * The caller reloads the app afterwards, so no screen keeps personal data in memory.
 */
export async function logout(opts: ForgetOptions = { keepWallet: false }) {
  const accountId = session.me?.id ?? null
  try {
    await api('/sessions/current', { method: 'DELETE' })
  } catch {
    /* offline or already ended: the device is cleared all the same */
  } finally {
    setMe(null)
    await forgetPersonalData(accountId, opts)
  }
}
