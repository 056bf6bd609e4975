// The sign-in hint: a first visit does not ask the server who is signed in (that request could
// only fail); a device that signed in asks, and a protected screen always asks.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest'
import { loadMe, setMe, session } from '../src/lib/session'

const me = { id: 'a1', username: 'u', role: 'resident' as const, real_name: '测试居民', real_name_verified: false, service_points: [] }
let calls: string[] = []
beforeEach(() => {
  calls = []
  localStorage.clear()
  Object.assign(session, { me: null, loaded: false, offline: false })
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    calls.push(String(url))
    return new Response(JSON.stringify(me), { status: 200 })
  }))
})
afterEach(() => vi.unstubAllGlobals())

describe('session hint', () => {
  it('a first visit makes no /me request and shows signed out', async () => {
    expect(await loadMe()).toBeNull()
    expect(calls).toEqual([])
    expect(session.loaded).toBe(true)
  })
  it('a protected screen asks even without the hint', async () => {
    expect((await loadMe(true, true))?.id).toBe('a1')
    expect(calls).toHaveLength(1)
    // Now remembered: the next start asks.
    Object.assign(session, { me: null, loaded: false })
    expect((await loadMe())?.id).toBe('a1')
    expect(calls).toHaveLength(2)
  })
  it('signing out forgets the hint', async () => {
    setMe(me)
    setMe(null)
    Object.assign(session, { loaded: false })
    expect(await loadMe()).toBeNull()
    expect(calls).toEqual([])
  })
})
