// The scanner's trust root: pinned in the build (VITE_TRUST_ROOT) or trusted on first use, and
// lists under any other root refused and not stored. IndexedDB (idb-keyval) is an in-memory
// map; the wasm Verifier is a stand-in that, like the real one, throws unless the trust list is
// signed by the root it is given (here: the list's bytes are "signed-by:<root hex>").
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest'

const h = vi.hoisted(() => ({ store: new Map<string, unknown>(), roots: [] as string[] }))
vi.mock('idb-keyval', () => ({
  get: vi.fn(async (k: string) => h.store.get(k)),
  set: vi.fn(async (k: string, v: unknown) => void h.store.set(k, v)),
}))
vi.mock('../src/lib/verifierWasm', () => {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  class Verifier {
    trustListExpiresAt = 0
    constructor(root: Uint8Array, tl: Uint8Array) {
      if (root.length !== 32) throw new Error('the root public key must be 32 bytes')
      h.roots.push(hex(root))
      if (new TextDecoder().decode(tl) !== `signed-by:${hex(root)}`) throw new Error('trust list: bad signature')
    }
    verify() {
      return JSON.stringify({
        verdict: { verdict: 'valid' }, permit: null, warnings: [{ warning: 'holder_proof_missing' }],
        messages: { verdict: { zh: '有效', en: 'valid' }, warnings: [{ code: 'holder_proof_missing', zh: '凭证绑定了持有人设备但未出示设备签名，请核对身份证件', en: 'check an identity document' }] },
      })
    }
  }
  return { wasmAvailable: true, loadVerifier: async () => Verifier }
})

import { updateLists, verifyOffline, listsFetchedAt, offlineAvailable, TOFU_ROOT_KEY } from '../src/lib/offlineVerify'

const ROOT_A = 'a1'.repeat(32)
const ROOT_B = 'b2'.repeat(32)

/** The server: its JSON names `named`; its binary trust list is signed by `signer`. */
function serve(named: string, signer = named) {
  const calls: string[] = []
  const bytes = (s: string) => new TextEncoder().encode(s).buffer
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    calls.push(url)
    if (url === '/api/v1/trust-list?format=json') return { ok: true, status: 200, json: async () => ({ issuer: 'demo', root_public_key: named, keys: [] }) }
    if (url === '/api/v1/trust-list') return { ok: true, status: 200, arrayBuffer: async () => bytes(`signed-by:${signer}`) }
    if (url === '/api/v1/status-list') return { ok: true, status: 200, arrayBuffer: async () => bytes('status') }
    return { ok: false, status: 404 }
  }))
  return calls
}
const keptLists = () => h.store.get('verifier:lists') as { root: string; fetchedAt: string } | undefined

beforeEach(() => {
  h.store.clear()
  h.roots.length = 0
})
afterEach(() => {
  vi.unstubAllEnvs()
  vi.unstubAllGlobals()
})

describe('offline lists with a root pinned at build time (VITE_TRUST_ROOT)', () => {
  beforeEach(() => vi.stubEnv('VITE_TRUST_ROOT', ROOT_A.toUpperCase()))

  it('accepts lists under the pinned root and verifies with that root', async () => {
    expect(offlineAvailable).toBe(true)
    serve(ROOT_A)
    const u = await updateLists()
    expect(u.refused).toBeNull()
    expect(u.fetchedAt).toBeTruthy()
    expect(keptLists()?.root).toBe(ROOT_A)
    expect(await listsFetchedAt()).toBe(u.fetchedAt)
    // The pin is the trust root: nothing is kept for trust on first use.
    expect(h.store.has(TOFU_ROOT_KEY)).toBe(false)
    h.roots.length = 0
    const r = await verifyOffline('RP1:X')
    expect(r?.valid).toBe(true)
    expect(h.roots).toEqual([ROOT_A])
    // The verifier's own sentences are shown, the warning in words rather than its code.
    expect(r?.message).toBe('有效')
    expect(r?.warnings).toEqual([{ code: 'holder_proof_missing', message: '凭证绑定了持有人设备但未出示设备签名，请核对身份证件', message_en: 'check an identity document' }])
  })

  it('refuses lists for which the server names another root, and stores nothing', async () => {
    const calls = serve(ROOT_B)
    const u = await updateLists()
    expect(calls).toContain('/api/v1/trust-list?format=json')
    expect(u).toEqual({ fetchedAt: null, refused: 'root_mismatch' })
    expect(h.store.size).toBe(0)
    expect(h.roots).toEqual([])
    expect(await verifyOffline('RP1:X')).toBeNull()
    expect((await updateLists()).fetchedAt).toBeNull()
  })

  it('keeps the lists it had when a later fetch names another root', async () => {
    serve(ROOT_A)
    const first = await updateLists()
    serve(ROOT_B)
    const u = await updateLists()
    expect(u).toEqual({ fetchedAt: first.fetchedAt, refused: 'root_mismatch' })
    expect(keptLists()?.root).toBe(ROOT_A)
    expect(keptLists()?.fetchedAt).toBe(first.fetchedAt)
  })

  it('refuses a trust list not signed by the pinned root even when the JSON names the pin', async () => {
    serve(ROOT_A, ROOT_B)
    const u = await updateLists()
    expect(u).toEqual({ fetchedAt: null, refused: 'bad_lists' })
    expect(h.store.size).toBe(0)
  })

  it('does not use lists kept under another root by an earlier build', async () => {
    h.store.set('verifier:lists', { root: ROOT_B, trust: new TextEncoder().encode(`signed-by:${ROOT_B}`), status: null, fetchedAt: '2026-11-01T00:00:00.000Z' })
    expect(await verifyOffline('RP1:X')).toBeNull()
    expect(h.roots).toEqual([])
  })

  it('refuses everything when the pin is malformed, without fetching', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', 'not-a-key')
    const calls = serve(ROOT_A)
    expect(await updateLists()).toEqual({ fetchedAt: null, refused: 'bad_pin' })
    expect(calls).toEqual([])
    expect(h.store.size).toBe(0)
  })
})

describe('offline lists without a pinned root: trust on first use', () => {
  beforeEach(() => vi.stubEnv('VITE_TRUST_ROOT', ''))

  it('does not verify unchanged lists again; only the time they were confirmed moves', async () => {
    serve(ROOT_A)
    const first = await updateLists()
    expect((await verifyOffline('RP1:X'))?.valid).toBe(true)
    h.roots.length = 0
    await new Promise((r) => setTimeout(r, 5))
    const again = await updateLists()
    expect(again.refused).toBeNull()
    expect(again.fetchedAt! > first.fetchedAt!).toBe(true)
    expect(keptLists()?.fetchedAt).toBe(again.fetchedAt)
    expect((await verifyOffline('RP1:X'))?.valid).toBe(true)
    expect(h.roots).toEqual([])
  })
  it('keeps the first root and refuses a changed one', async () => {
    serve(ROOT_A)
    const first = await updateLists()
    expect(first.refused).toBeNull()
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_A)
    expect(keptLists()?.root).toBe(ROOT_A)

    // The server (or someone in between) now names another root with lists signed by it.
    serve(ROOT_B)
    const changed = await updateLists()
    expect(changed).toEqual({ fetchedAt: first.fetchedAt, refused: 'root_changed' })
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_A)
    expect(keptLists()?.root).toBe(ROOT_A)
    expect(keptLists()?.fetchedAt).toBe(first.fetchedAt)
    h.roots.length = 0
    expect((await verifyOffline('RP1:X'))?.valid).toBe(true)
    // The check runs under the first root (a verifier kept from before, or a new one).
    expect(h.roots.filter((r) => r !== ROOT_A)).toEqual([])

    // Lists under the first root are taken again.
    serve(ROOT_A)
    const again = await updateLists()
    expect(again.refused).toBeNull()
    expect(keptLists()?.fetchedAt).toBe(again.fetchedAt)
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_A)
  })

  it('takes the first root from lists kept before the check existed', async () => {
    h.store.set('verifier:lists', { root: ROOT_A, trust: new TextEncoder().encode(`signed-by:${ROOT_A}`), status: null, fetchedAt: '2026-11-01T00:00:00.000Z' })
    serve(ROOT_B)
    expect(await updateLists()).toEqual({ fetchedAt: '2026-11-01T00:00:00.000Z', refused: 'root_changed' })
    expect(h.store.has(TOFU_ROOT_KEY)).toBe(false)
    expect(keptLists()?.root).toBe(ROOT_A)
  })

  it('does not take a first root from lists that do not verify against it', async () => {
    serve(ROOT_A, ROOT_B)
    expect(await updateLists()).toEqual({ fetchedAt: null, refused: 'bad_lists' })
    expect(h.store.size).toBe(0)
    // So a later good fetch is still the first use.
    serve(ROOT_B)
    expect((await updateLists()).refused).toBeNull()
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_B)
  })

  it('keeps the lists it had when offline', async () => {
    serve(ROOT_A)
    const first = await updateLists()
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    expect(await updateLists()).toEqual({ fetchedAt: first.fetchedAt, refused: null })
    expect(keptLists()?.root).toBe(ROOT_A)
  })
})
