// The scanner's trust root: pinned in the build (VITE_TRUST_ROOT) or trusted on first use, and
// lists under any other root refused and not stored; the lists come in one bundle
// (/api/v1/lists), at most every 30 s, never older than the kept ones, and never dropped when a
// download fails. IndexedDB (idb-keyval) is an in-memory map; the wasm Verifier is a stand-in
// that, like the real one, throws unless the trust list is signed by the root it is given (here
// the trust list's bytes are "signed-by:<root hex>@<iat>", the status list's "status@<iat>").
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest'

const h = vi.hoisted(() => ({ store: new Map<string, unknown>(), roots: [] as string[], policies: [] as string[] }))
vi.mock('idb-keyval', () => ({
  get: vi.fn(async (k: string) => h.store.get(k)),
  set: vi.fn(async (k: string, v: unknown) => void h.store.set(k, v)),
}))
vi.mock('../src/lib/verifierWasm', () => {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  const text = (b: Uint8Array) => new TextDecoder().decode(b)
  class Verifier {
    static counterPolicy() {
      return '{"require_holder_proof":true}'
    }
    trustListExpiresAt = 0
    trustListIssuedAt: number
    statusListIssuedAt?: number
    constructor(root: Uint8Array, tl: Uint8Array, sl?: Uint8Array) {
      if (root.length !== 32) throw new Error('the root public key must be 32 bytes')
      h.roots.push(hex(root))
      const [signer, iat] = text(tl).split('@')
      if (signer !== `signed-by:${hex(root)}`) throw new Error('trust list: bad signature')
      this.trustListIssuedAt = Number(iat ?? 0)
      if (sl) {
        const [kind, siat] = text(sl).split('@')
        if (kind !== 'status') throw new Error('status list: bad signature')
        this.statusListIssuedAt = Number(siat ?? 0)
      }
    }
    verify(): string {
      throw new Error('the scanner verifies with a policy')
    }
    verifyWithPolicy(_qr: string, _at: number, policy: string) {
      h.policies.push(policy)
      return JSON.stringify({
        verdict: { verdict: 'valid' }, permit: null, warnings: [{ warning: 'holder_proof_missing' }],
        messages: { verdict: { zh: '有效', en: 'valid' }, warnings: [{ code: 'holder_proof_missing', zh: '凭证绑定了持有人设备但未出示设备签名，请核对身份证件', en: 'check an identity document' }] },
      })
    }
  }
  return { wasmAvailable: true, loadVerifier: async () => Verifier }
})

import { updateLists, verifyOffline, listsFetchedAt, offlineAvailable, TOFU_ROOT_KEY, REFRESH_MS } from '../src/lib/offlineVerify'

const ROOT_A = 'a1'.repeat(32)
const ROOT_B = 'b2'.repeat(32)

interface Served { named: string; signer?: string; trustIat?: number; statusIat?: number; status?: number }
/**
 * The server: its bundle names `named` as the root; its trust list is signed by `signer`; the
 * lists carry the given `iat`s. A request with the bundle's ETag gets a 304.
 */
function serve(s: Served | string, signedBy?: string) {
  const { named, signer = named, trustIat = 1000, statusIat = 2000, status = 200 } = typeof s === 'string' ? { named: s, signer: signedBy } : s
  const calls: { url: string; ifNoneMatch: string | null }[] = []
  const b64 = (x: string) => btoa(x)
  const etag = `"${named.slice(0, 4)}-${signer.slice(0, 4)}-${trustIat}-${statusIat}"`
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const ifNoneMatch = (init?.headers as Record<string, string> | undefined)?.['If-None-Match'] ?? null
    calls.push({ url, ifNoneMatch })
    if (url !== '/api/v1/lists') return new Response('', { status: 404 })
    if (status !== 200) return new Response('{"code":"unavailable"}', { status })
    if (ifNoneMatch === etag) return new Response(null, { status: 304, headers: { ETag: etag } })
    const body = { root_public_key: named, trust_list: b64(`signed-by:${signer}@${trustIat}`), status_list: b64(`status@${statusIat}`), trust_list_etag: '"t"', status_list_etag: '"s"' }
    return new Response(JSON.stringify(body), { status: 200, headers: { ETag: etag, 'Content-Type': 'application/json' } })
  }))
  return calls
}
const keptLists = () => h.store.get('verifier:lists') as { root: string; fetchedAt: string; trust: Uint8Array; status: Uint8Array; etag?: string } | undefined
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '')
let clock = Date.parse('2026-12-04T02:00:00Z')
/** updateLists at a time that moves on by more than REFRESH_MS each call (no throttling). */
const update = (opts: { force?: boolean } = {}) => updateLists({ ...opts, now: (clock += REFRESH_MS + 1000) })

beforeEach(() => {
  h.store.clear()
  h.roots.length = 0
  h.policies.length = 0
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
    const u = await update()
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
    const u = await update()
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/lists'])
    expect(u).toEqual({ fetchedAt: null, refused: 'root_mismatch' })
    expect(h.store.size).toBe(0)
    expect(h.roots).toEqual([])
    expect(await verifyOffline('RP1:X')).toBeNull()
    expect((await update()).fetchedAt).toBeNull()
  })

  it('keeps the lists it had when a later fetch names another root', async () => {
    serve(ROOT_A)
    const first = await update()
    serve(ROOT_B)
    const u = await update()
    expect(u).toEqual({ fetchedAt: first.fetchedAt, refused: 'root_mismatch' })
    expect(keptLists()?.root).toBe(ROOT_A)
    expect(keptLists()?.fetchedAt).toBe(first.fetchedAt)
  })

  it('refuses a trust list not signed by the pinned root even when the JSON names the pin', async () => {
    serve(ROOT_A, ROOT_B)
    const u = await update()
    expect(u).toEqual({ fetchedAt: null, refused: 'bad_lists' })
    expect(h.store.size).toBe(0)
  })

  it('does not use lists kept under another root by an earlier build', async () => {
    h.store.set('verifier:lists', { root: ROOT_B, trust: new TextEncoder().encode(`signed-by:${ROOT_B}@1`), status: null, fetchedAt: '2026-11-01T00:00:00.000Z' })
    expect(await verifyOffline('RP1:X')).toBeNull()
    expect(h.roots).toEqual([])
  })

  it('refuses everything when the pin is malformed, without fetching', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', 'not-a-key')
    const calls = serve(ROOT_A)
    expect(await update()).toEqual({ fetchedAt: null, refused: 'bad_pin' })
    expect(calls).toEqual([])
    expect(h.store.size).toBe(0)
  })
})

describe('offline lists without a pinned root: trust on first use', () => {
  beforeEach(() => vi.stubEnv('VITE_TRUST_ROOT', ''))

  it('does not verify unchanged lists again; only the time they were confirmed moves', async () => {
    serve(ROOT_A)
    const first = await update()
    expect((await verifyOffline('RP1:X'))?.valid).toBe(true)
    h.roots.length = 0
    const again = await update()
    expect(again.refused).toBeNull()
    expect(again.fetchedAt! > first.fetchedAt!).toBe(true)
    expect(keptLists()?.fetchedAt).toBe(again.fetchedAt)
    expect((await verifyOffline('RP1:X'))?.valid).toBe(true)
    expect(h.roots).toEqual([])
  })
  it('keeps the first root and refuses a changed one', async () => {
    serve(ROOT_A)
    const first = await update()
    expect(first.refused).toBeNull()
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_A)
    expect(keptLists()?.root).toBe(ROOT_A)

    // The server (or someone in between) now names another root with lists signed by it.
    serve(ROOT_B)
    const changed = await update()
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
    const again = await update()
    expect(again.refused).toBeNull()
    expect(keptLists()?.fetchedAt).toBe(again.fetchedAt)
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_A)
  })

  it('takes the first root from lists kept before the check existed', async () => {
    h.store.set('verifier:lists', { root: ROOT_A, trust: new TextEncoder().encode(`signed-by:${ROOT_A}@1`), status: null, fetchedAt: '2026-11-01T00:00:00.000Z' })
    serve(ROOT_B)
    expect(await update()).toEqual({ fetchedAt: '2026-11-01T00:00:00.000Z', refused: 'root_changed' })
    expect(h.store.has(TOFU_ROOT_KEY)).toBe(false)
    expect(keptLists()?.root).toBe(ROOT_A)
  })

  it('does not take a first root from lists that do not verify against it', async () => {
    serve(ROOT_A, ROOT_B)
    expect(await update()).toEqual({ fetchedAt: null, refused: 'bad_lists' })
    expect(h.store.size).toBe(0)
    // So a later good fetch is still the first use.
    serve(ROOT_B)
    expect((await update()).refused).toBeNull()
    expect(h.store.get(TOFU_ROOT_KEY)).toBe(ROOT_B)
  })

  it('keeps the lists it had when offline', async () => {
    serve(ROOT_A)
    const first = await update()
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    expect(await update()).toEqual({ fetchedAt: first.fetchedAt, refused: null })
    expect(keptLists()?.root).toBe(ROOT_A)
  })
})

describe('the lists bundle: one request, not before every scan, never backwards', () => {
  beforeEach(() => vi.stubEnv('VITE_TRUST_ROOT', ''))

  it('asks /api/v1/lists once, sends its ETag back, and a 304 only moves the time', async () => {
    const calls = serve(ROOT_A)
    const first = await update()
    expect(first.refused).toBeNull()
    expect(calls).toEqual([{ url: '/api/v1/lists', ifNoneMatch: null }])
    const before = keptLists()!
    expect(text(before.trust)).toBe(`signed-by:${ROOT_A}@1000`)
    expect(text(before.status)).toBe('status@2000')
    h.roots.length = 0
    const again = await update()
    expect(calls).toHaveLength(2)
    expect(calls[1]).toEqual({ url: '/api/v1/lists', ifNoneMatch: before.etag })
    expect(again.fetchedAt! > first.fetchedAt!).toBe(true)
    expect(keptLists()).toEqual({ ...before, fetchedAt: again.fetchedAt })
    // Nothing was verified again.
    expect(h.roots).toEqual([])
  })

  it('does not download again within 30 seconds, unless the clerk asks', async () => {
    const calls = serve(ROOT_A)
    const t0 = Date.parse('2026-12-04T03:00:00Z')
    await updateLists({ now: t0 })
    expect(calls).toHaveLength(1)
    expect((await updateLists({ now: t0 + REFRESH_MS - 1 })).fetchedAt).toBe(new Date(t0).toISOString())
    expect(calls).toHaveLength(1)
    await updateLists({ now: t0 + 5000, force: true })
    expect(calls).toHaveLength(2)
    await updateLists({ now: t0 + 5000 + REFRESH_MS })
    expect(calls).toHaveLength(3)
  })

  it('refuses a bundle whose status or trust list is older than the kept one, and keeps the kept one', async () => {
    serve({ named: ROOT_A, trustIat: 1000, statusIat: 2000 })
    const first = await update()
    const before = keptLists()!
    for (const older of [{ trustIat: 1000, statusIat: 1999 }, { trustIat: 999, statusIat: 3000 }]) {
      serve({ named: ROOT_A, ...older })
      expect(await update()).toEqual({ fetchedAt: first.fetchedAt, refused: 'older_lists' })
      expect(keptLists()).toEqual(before)
    }
    // Newer lists (or the same iat re-signed) are taken.
    serve({ named: ROOT_A, trustIat: 1000, statusIat: 2500 })
    const newer = await update()
    expect(newer.refused).toBeNull()
    expect(text(keptLists()!.status)).toBe('status@2500')
  })

  it('reads the iat of lists kept by an earlier build from their bytes', async () => {
    h.store.set('verifier:lists', { root: ROOT_A, trust: new TextEncoder().encode(`signed-by:${ROOT_A}@1000`), status: new TextEncoder().encode('status@2000'), fetchedAt: '2026-11-01T00:00:00.000Z' })
    serve({ named: ROOT_A, trustIat: 1000, statusIat: 1500 })
    expect(await update()).toEqual({ fetchedAt: '2026-11-01T00:00:00.000Z', refused: 'older_lists' })
    serve({ named: ROOT_A, trustIat: 1000, statusIat: 2100 })
    expect((await update()).refused).toBeNull()
  })

  it('keeps the lists it had when the download fails, is an error, or is not a bundle', async () => {
    serve(ROOT_A)
    const first = await update()
    const before = keptLists()!
    const failures = [
      () => serve({ named: ROOT_A, status: 503 }),
      () => vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>proxy error</html>', { status: 200 }))),
      () => vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')))),
    ]
    for (const fail of failures) {
      fail()
      expect(await update()).toEqual({ fetchedAt: first.fetchedAt, refused: null })
      expect(keptLists()).toEqual(before)
    }
    // A bundle without a status list does not verify as one.
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ root_public_key: ROOT_A, trust_list: btoa(`signed-by:${ROOT_A}@5000`) }), { status: 200 })))
    expect(await update()).toEqual({ fetchedAt: first.fetchedAt, refused: 'bad_lists' })
    expect(keptLists()).toEqual(before)
  })

  it('verifies with the verifier crate\'s counter policy', async () => {
    serve(ROOT_A)
    await update()
    await verifyOffline('RP1:X')
    expect(h.policies).toEqual(['{"require_holder_proof":true}'])
  })
})
