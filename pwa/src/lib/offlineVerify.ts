// On-device verification for the scanner: the verifier crate's wasm module (./verifierWasm) with
// the signed trust and status lists kept in IndexedDB.
//
// The lists come in one request, GET /api/v1/lists: the trust list and the status list of one
// moment (separate requests could reach instances that disagree), with an ETag, so an unchanged
// bundle costs a 304 that only moves the time the kept lists were last confirmed.
//
// The trust root: the wasm Verifier checks the trust list's signature against the root public
// key it is given, so that key is what the offline verdicts rest on. It is never simply the one
// the bundle names:
// - a build with VITE_TRUST_ROOT (64 hex characters, the Ed25519 key `permitd keys show`
//   prints) accepts that root only; lists for which the server names another root are refused;
// - a build without it (development) trusts on first use: the first root seen is kept in
//   IndexedDB and lists under a different root later are refused.
//
// Kept lists are never dropped for worse ones: a bundle that fails to download, does not
// verify, or whose trust or status list is older (`iat`) than the kept one (a replay, a cache,
// an instance that has not caught up: no rollback) is not stored, and the kept lists stay in use.
//
// How fresh: the scanner asks for the bundle at most once every REFRESH_MS (30 s) before a scan,
// or at once when the clerk taps "update the lists". A revocation therefore shows on a scanner
// that is online within 30 s of the server's status list carrying it. Offline, the counter
// policy of the verifier crate decides: past 7 days (trust list) or 24 hours (status list) the
// verdict is `lists_too_old`, whose message tells the clerk to go online.
import { get, set } from 'idb-keyval'
import type { VerificationResult } from '../api/types'
import { wasmAvailable, loadVerifier, type WasmVerifier, type VerifierCtor } from './verifierWasm'

export const offlineAvailable = wasmAvailable

interface Lists {
  root: string
  trust: Uint8Array
  status: Uint8Array | null
  fetchedAt: string
  /** The bundle's ETag, sent back as If-None-Match. */
  etag?: string
  /** The lists' `iat` in milliseconds (lists kept by older builds have none: read from the bytes). */
  trustIat?: number
  statusIat?: number | null
}
const KEY = 'verifier:lists'
/** The root seen first (trust on first use; not used when the build pins one). */
export const TOFU_ROOT_KEY = 'verifier:root'
const HEX_KEY = /^[0-9a-f]{64}$/
/** The least time between two downloads of the lists before scans (a tap on "update" skips it). */
export const REFRESH_MS = 30_000

/**
 * Why fetched lists were not stored:
 * - `root_mismatch`: the server names a root other than the one pinned in the build;
 * - `root_changed`: the server names a root other than the one seen first (no pinned root);
 * - `bad_lists`: the lists do not verify against the root (or name no usable root);
 * - `bad_pin`: VITE_TRUST_ROOT is not 64 hex characters; nothing is accepted;
 * - `older_lists`: the trust or status list is older than the one kept (no rollback).
 */
export type ListsRefusal = 'root_mismatch' | 'root_changed' | 'bad_lists' | 'bad_pin' | 'older_lists'
export interface ListsUpdate {
  /** When the lists in use were fetched or last confirmed (null: none kept). */
  fetchedAt: string | null
  /** Set when the lists just fetched were refused. */
  refused: ListsRefusal | null
}

/** The root public key pinned at build time (VITE_TRUST_ROOT), lower-case hex; '' without one. */
export function pinnedRoot(): string {
  return String(import.meta.env.VITE_TRUST_ROOT ?? '').trim().toLowerCase()
}
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))
function fromBase64(b: unknown): Uint8Array | null {
  if (typeof b !== 'string' || !b) return null
  try {
    return Uint8Array.from(atob(b), (c) => c.charCodeAt(0))
  } catch {
    return null
  }
}

interface Bundle { root_public_key?: unknown; trust_list?: unknown; status_list?: unknown }
type Fetched = { kind: 'unchanged'; etag: string | null } | { kind: 'bundle'; bundle: Bundle; etag: string | null } | { kind: 'failed' }

async function fetchBundle(etag: string | undefined): Promise<Fetched> {
  try {
    // no-cache: the browser asks the server (a 304 when unchanged) rather than trusting its copy.
    const r = await fetch('/api/v1/lists', { cache: 'no-cache', headers: etag ? { 'If-None-Match': etag } : {} })
    const tag = r.headers?.get?.('ETag') ?? null
    if (r.status === 304) return { kind: 'unchanged', etag: tag }
    if (!r.ok) return { kind: 'failed' }
    return { kind: 'bundle', bundle: (await r.json()) as Bundle, etag: tag }
  } catch {
    return { kind: 'failed' }
  }
}

/**
 * Brings the kept lists up to date when online, at most once every REFRESH_MS unless `force`
 * (the clerk's "update" tap). Returns when the lists in use were confirmed, and a refusal if
 * the downloaded ones were not kept.
 */
export async function updateLists(opts: { force?: boolean; now?: number } = {}): Promise<ListsUpdate> {
  const now = opts.now ?? Date.now()
  const pin = pinnedRoot()
  const refuse = async (refused: ListsRefusal): Promise<ListsUpdate> => ({ fetchedAt: await listsFetchedAt(), refused })
  const unchanged = async (): Promise<ListsUpdate> => ({ fetchedAt: await listsFetchedAt(), refused: null })
  // A malformed pin refuses everything rather than falling back to trusting the server.
  if (pin && !HEX_KEY.test(pin)) return refuse('bad_pin')
  const before = await kept()
  // Lists kept under another root (an earlier build without the pin, or another pin) count as none.
  const usable = before && (!pin || before.root === pin) ? before : null
  if (!opts.force && usable && now - Date.parse(usable.fetchedAt) < REFRESH_MS) return unchanged()

  const fetched = await fetchBundle(usable?.etag)
  if (fetched.kind === 'failed') return unchanged()
  const fetchedAt = new Date(now).toISOString()
  if (fetched.kind === 'unchanged') {
    // 304: the kept lists are the server's current ones; only the time they were confirmed moves.
    if (!usable) return unchanged()
    await set(KEY, { ...usable, fetchedAt }).catch(() => null)
    return { fetchedAt, refused: null }
  }
  const { bundle } = fetched
  const served = String(bundle?.root_public_key ?? '').toLowerCase()
  let root: string
  let first: string | null = null
  if (pin) {
    if (served !== pin) return refuse('root_mismatch')
    root = pin
  } else {
    // Lists kept before this check existed carry the root they were fetched under.
    first = ((await get(TOFU_ROOT_KEY).catch(() => null)) as string | undefined) ?? before?.root ?? null
    if (first && served !== first) return refuse('root_changed')
    if (!HEX_KEY.test(served)) return refuse('bad_lists')
    root = served
  }
  const trust = fromBase64(bundle.trust_list)
  const status = fromBase64(bundle.status_list)
  if (!trust || !status) return refuse('bad_lists')
  const lists: Lists = { root, trust, status, fetchedAt, ...(fetched.etag ? { etag: fetched.etag } : {}) }
  // Lists that did not change were verified when they were kept.
  if (usable && sameLists(usable, lists)) {
    await set(KEY, { ...usable, fetchedAt, etag: lists.etag }).catch(() => null)
    return { fetchedAt, refused: null }
  }
  try {
    const Verifier = await loadVerifier()
    if (!Verifier) return unchanged()
    let check: WasmVerifier
    try {
      // Throws unless the trust list is signed by the root (and the status list by a listed key).
      check = new Verifier(fromHex(root), lists.trust, lists.status ?? undefined)
    } catch {
      return refuse('bad_lists')
    }
    lists.trustIat = check.trustListIssuedAt
    lists.statusIat = check.statusListIssuedAt ?? null
    check.free?.()
    // No rollback: neither list may be older than the one kept under the same root.
    if (usable && usable.root === root) {
      const held = keptIssuedAt(usable, Verifier)
      if (held && (lists.trustIat < held.trust || (held.status != null && (lists.statusIat ?? -Infinity) < held.status))) return refuse('older_lists')
    }
    if (!pin && !first) await set(TOFU_ROOT_KEY, root)
    await set(KEY, lists)
  } catch {
    // The module or IndexedDB failed: keep what was there.
    return unchanged()
  }
  return { fetchedAt, refused: null }
}

/** The `iat`s of kept lists: stored with them, or read from their bytes (lists kept by older builds). */
function keptIssuedAt(lists: Lists, Verifier: VerifierCtor): { trust: number; status: number | null } | null {
  if (lists.trustIat != null) return { trust: lists.trustIat, status: lists.statusIat ?? null }
  try {
    const v = new Verifier(fromHex(lists.root), lists.trust, lists.status ?? undefined)
    const iat = { trust: v.trustListIssuedAt, status: v.statusListIssuedAt ?? null }
    v.free?.()
    return iat
  } catch {
    return null
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (!a || !b) return a === b
  return a.length === b.length && a.every((x, i) => x === b[i])
}
/** The same root and the same list bytes, whenever each was fetched. */
function sameLists(a: Lists, b: Lists): boolean {
  return a.root === b.root && sameBytes(a.trust, b.trust) && sameBytes(a.status, b.status)
}
async function kept(): Promise<Lists | null> {
  try {
    return ((await get(KEY)) as Lists | undefined) ?? null
  } catch {
    return null
  }
}
export async function listsFetchedAt(): Promise<string | null> {
  return (await kept())?.fetchedAt ?? null
}

// The Verifier for the kept lists, rebuilt when they change (here or in another tab).
let verifier: { lists: Lists; v: WasmVerifier; policy: string } | null = null
async function load(): Promise<{ v: WasmVerifier; policy: string } | null> {
  const lists = await kept()
  if (!lists) return null
  const pin = pinnedRoot()
  // Lists kept under another root (an earlier build without the pin, or another pin) are not used.
  if (pin && lists.root !== pin) return null
  // Kept for as long as the lists are the same, whenever they were last confirmed.
  if (verifier && sameLists(verifier.lists, lists)) return verifier
  const Verifier = await loadVerifier()
  if (!Verifier) return null
  verifier?.v.free?.()
  verifier = { lists, v: new Verifier(fromHex(lists.root), lists.trust, lists.status ?? undefined), policy: Verifier.counterPolicy() }
  return verifier
}

/**
 * Verifies on the device with the counter policy of the verifier crate; null when the module or
 * the lists are not available.
 */
export async function verifyOffline(qr: string, now = Date.now()): Promise<VerificationResult | null> {
  const loaded = await load()
  if (!loaded) return null
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = JSON.parse(loaded.v.verifyWithPolicy(qr, now, loaded.policy)) as any
  const verdict: string = r.verdict?.verdict ?? 'malformed'
  // The verifier's own sentences (the same as the CLI's and the server's).
  const m = r.messages ?? {}
  const p = r.permit
  return {
    valid: verdict === 'valid' || verdict === 'valid_endorsement_due',
    verdict,
    message: m.verdict?.zh ?? verdict,
    message_en: m.verdict?.en ?? verdict,
    warnings: (m.warnings ?? []).map((w: { code: string; zh: string; en: string }) => ({ code: w.code, message: w.zh, message_en: w.en })),
    permit: p ? { ...p, sex: typeof p.sex === 'string' ? p.sex : String(p.sex), valid_until: r.claims?.expires_at ?? '', presentation: r.claims?.presentation ?? '' } : null,
  }
}
