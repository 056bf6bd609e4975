// On-device verification for the scanner: the verifier crate's wasm module (./verifierWasm) with
// the signed trust and status lists kept in IndexedDB.
//
// The trust root: the wasm Verifier checks the trust list's signature against the root public
// key it is given, so that key is what the offline verdicts rest on. It is never simply the one
// the server names in /trust-list?format=json:
// - a build with VITE_TRUST_ROOT (64 hex characters, the Ed25519 key `permitd keys show`
//   prints) accepts that root only; lists for which the server names another root are refused;
// - a build without it (development) trusts on first use: the first root seen is kept in
//   IndexedDB and lists under a different root later are refused.
// Refused or unverifiable lists are not stored; the lists kept before stay in use.
import { get, set } from 'idb-keyval'
import type { VerificationResult } from '../api/types'
import { wasmAvailable, loadVerifier, type WasmVerifier } from './verifierWasm'

export const offlineAvailable = wasmAvailable

interface Lists { root: string; trust: Uint8Array; status: Uint8Array | null; fetchedAt: string }
const KEY = 'verifier:lists'
/** The root seen first (trust on first use; not used when the build pins one). */
export const TOFU_ROOT_KEY = 'verifier:root'
const HEX_KEY = /^[0-9a-f]{64}$/

/**
 * Why fetched lists were not stored:
 * - `root_mismatch`: the server names a root other than the one pinned in the build;
 * - `root_changed`: the server names a root other than the one seen first (no pinned root);
 * - `bad_lists`: the lists do not verify against the root (or name no usable root);
 * - `bad_pin`: VITE_TRUST_ROOT is not 64 hex characters; nothing is accepted.
 */
export type ListsRefusal = 'root_mismatch' | 'root_changed' | 'bad_lists' | 'bad_pin'
export interface ListsUpdate {
  /** When the lists in use were fetched (null: none kept). */
  fetchedAt: string | null
  /** Set when the lists just fetched were refused. */
  refused: ListsRefusal | null
}

/** The root public key pinned at build time (VITE_TRUST_ROOT), lower-case hex; '' without one. */
export function pinnedRoot(): string {
  return String(import.meta.env.VITE_TRUST_ROOT ?? '').trim().toLowerCase()
}
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))

// Asked anew each time (304 when unchanged): a revocation must show at the next scan, not when
// the browser's copy of the status list reaches its max-age.
const REVALIDATE: RequestInit = { cache: 'no-cache' }

/** Fetches the signed lists (when online) and keeps them if they pass the root checks. */
export async function updateLists(): Promise<ListsUpdate> {
  const pin = pinnedRoot()
  const refuse = async (refused: ListsRefusal): Promise<ListsUpdate> => ({ fetchedAt: await listsFetchedAt(), refused })
  // A malformed pin refuses everything rather than falling back to trusting the server.
  if (pin && !HEX_KEY.test(pin)) return refuse('bad_pin')
  let tl: ArrayBuffer, sl: ArrayBuffer | null, json: { root_public_key?: unknown }
  try {
    ;[tl, sl, json] = await Promise.all([
      fetch('/api/v1/trust-list', REVALIDATE).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(r.status))),
      fetch('/api/v1/status-list', REVALIDATE).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null),
      fetch('/api/v1/trust-list?format=json', REVALIDATE).then((r) => (r.ok ? r.json() : Promise.reject(r.status))),
    ])
  } catch {
    return { fetchedAt: await listsFetchedAt(), refused: null }
  }
  const served = String(json?.root_public_key ?? '').toLowerCase()
  let root: string
  let first: string | null = null
  if (pin) {
    if (served !== pin) return refuse('root_mismatch')
    root = pin
  } else {
    // Lists kept before this check existed carry the root they were fetched under.
    first = ((await get(TOFU_ROOT_KEY).catch(() => null)) as string | undefined) ?? (await kept())?.root ?? null
    if (first && served !== first) return refuse('root_changed')
    if (!HEX_KEY.test(served)) return refuse('bad_lists')
    root = served
  }
  const lists: Lists = { root, trust: new Uint8Array(tl), status: sl ? new Uint8Array(sl) : null, fetchedAt: new Date().toISOString() }
  // The scanner asks before every check; lists that did not change were verified when they
  // were kept, so only the time they were last confirmed moves on.
  const before = await kept()
  if (before && sameLists(before, lists)) {
    await set(KEY, { ...before, fetchedAt: lists.fetchedAt }).catch(() => null)
    return { fetchedAt: lists.fetchedAt, refused: null }
  }
  try {
    const Verifier = await loadVerifier()
    if (!Verifier) return { fetchedAt: await listsFetchedAt(), refused: null }
    try {
      // Throws unless the trust list is signed by the root (and the status list by a listed key).
      const check = new Verifier(fromHex(root), lists.trust, lists.status ?? undefined) as WasmVerifier & { free?: () => void }
      check.free?.()
    } catch {
      return refuse('bad_lists')
    }
    if (!pin && !first) await set(TOFU_ROOT_KEY, root)
    await set(KEY, lists)
  } catch {
    // The module or IndexedDB failed: keep what was there.
    return { fetchedAt: await listsFetchedAt(), refused: null }
  }
  return { fetchedAt: lists.fetchedAt, refused: null }
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
let verifier: { lists: Lists; v: WasmVerifier } | null = null
async function load(): Promise<WasmVerifier | null> {
  const lists = await kept()
  if (!lists) return null
  const pin = pinnedRoot()
  // Lists kept under another root (an earlier build without the pin, or another pin) are not used.
  if (pin && lists.root !== pin) return null
  // Kept for as long as the lists are the same, whenever they were last confirmed.
  if (verifier && sameLists(verifier.lists, lists)) return verifier.v
  const Verifier = await loadVerifier()
  if (!Verifier) return null
  ;(verifier?.v as { free?: () => void } | undefined)?.free?.()
  verifier = { lists, v: new Verifier(fromHex(lists.root), lists.trust, lists.status ?? undefined) }
  return verifier.v
}


/** Verifies on the device; null when the module or the lists are not available. */
export async function verifyOffline(qr: string, now = Date.now()): Promise<VerificationResult | null> {
  const v = await load()
  if (!v) return null
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = JSON.parse(v.verify(qr, now)) as any
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
