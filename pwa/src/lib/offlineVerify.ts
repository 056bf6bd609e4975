// On-device verification for the scanner: the verifier crate's wasm module (built by
// `make verifier-wasm` into target/verifier-wasm-web; when it is missing at build time the
// scanner is online-only) with the signed trust and status lists kept in IndexedDB.
import { get, set } from 'idb-keyval'
import type { VerificationResult } from '../api/types'

interface WasmVerifier { verify(qr: string, atMs: number): string; trustListExpiresAt: number }
interface WasmModule { default: (o: { module_or_path: string }) => Promise<unknown>; Verifier: new (root: Uint8Array, tl: Uint8Array, sl?: Uint8Array) => WasmVerifier }
const jsModules = import.meta.glob('../../../target/verifier-wasm-web/permit_verifier.js')
const wasmUrls = import.meta.glob('../../../target/verifier-wasm-web/permit_verifier_bg.wasm', { query: '?url', import: 'default', eager: true }) as Record<string, string>

export const offlineAvailable = Object.keys(jsModules).length > 0 && Object.keys(wasmUrls).length > 0

interface Lists { root: string; trust: Uint8Array; status: Uint8Array | null; fetchedAt: string }
const KEY = 'verifier:lists'

/** Fetches and keeps the signed lists (when online); returns when they were fetched. */
export async function refreshLists(): Promise<string | null> {
  try {
    const [tl, sl, json] = await Promise.all([
      fetch('/api/v1/trust-list').then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(r.status))),
      fetch('/api/v1/status-list').then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null),
      fetch('/api/v1/trust-list?format=json').then((r) => (r.ok ? r.json() : Promise.reject(r.status))),
    ])
    // TODO: pin the root public key in the build instead of trusting the server's JSON.
    const lists: Lists = { root: json.root_public_key, trust: new Uint8Array(tl), status: sl ? new Uint8Array(sl) : null, fetchedAt: new Date().toISOString() }
    await set(KEY, lists)
    verifier = null
    return lists.fetchedAt
  } catch {
    return listsFetchedAt()
  }
}
export async function listsFetchedAt(): Promise<string | null> {
  try {
    return ((await get(KEY)) as Lists | undefined)?.fetchedAt ?? null
  } catch {
    return null
  }
}

let verifier: WasmVerifier | null = null
async function load(): Promise<WasmVerifier | null> {
  if (verifier) return verifier
  if (!offlineAvailable) return null
  const lists = (await get(KEY).catch(() => null)) as Lists | null
  if (!lists) return null
  const mod = (await Object.values(jsModules)[0]()) as WasmModule
  await mod.default({ module_or_path: Object.values(wasmUrls)[0] })
  const root = Uint8Array.from(lists.root.match(/../g) ?? [], (x) => parseInt(x, 16))
  verifier = new mod.Verifier(root, lists.trust, lists.status ?? undefined)
  return verifier
}

const MESSAGES: Record<string, [string, string]> = {
  valid: ['有效', 'Valid'],
  valid_endorsement_due: ['有效（请提醒持证人按期签注）', 'Valid (endorsement due soon)'],
  suspended: ['中止使用（未按期签注）', 'Suspended (not endorsed in time)'],
  revoked: ['已注销', 'Revoked'],
  not_yet_valid: ['尚未生效', 'Not yet valid'],
  bad_signature: ['签名无效，可能是伪造的', 'Bad signature; possibly forged'],
  unknown_key: ['签发密钥不在信任名单中', 'Signed by an unknown key'],
  malformed: ['二维码内容无法识别', 'The QR content is not a permit'],
  unsupported_version: ['二维码版本不受支持', 'Unsupported QR version'],
  holder_proof_invalid: ['设备签名无效（可能是截图）', 'Device signature invalid (possibly a screenshot)'],
  holder_proof_stale: ['设备签名已过期（可能是截图）', 'Device signature stale (possibly a screenshot)'],
}

/** Verifies on the device; null when the module or the lists are not available. */
export async function verifyOffline(qr: string, now = Date.now()): Promise<VerificationResult | null> {
  const v = await load()
  if (!v) return null
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = JSON.parse(v.verify(qr, now)) as any
  const verdict: string = r.verdict?.verdict ?? 'malformed'
  const [zh, en] = MESSAGES[verdict] ?? [verdict, verdict]
  const p = r.permit
  return {
    valid: verdict === 'valid' || verdict === 'valid_endorsement_due',
    verdict,
    message: zh,
    message_en: en,
    warnings: (r.warnings ?? []).map((w: unknown) => (typeof w === 'string' ? { code: w, message: w } : { code: String((w as { code?: string }).code ?? 'warning'), message: String((w as { message?: string; code?: string }).message ?? (w as { code?: string }).code ?? '') })),
    permit: p ? { ...p, sex: typeof p.sex === 'string' ? p.sex : String(p.sex), valid_until: r.claims?.expires_at ?? '', presentation: r.claims?.presentation ?? '' } : null,
  }
}
