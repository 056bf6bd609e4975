// The verifier crate's wasm module, built by `make verifier-wasm` into target/verifier-wasm-web
// and picked up at build time; when it is missing the scanner is online-only. Kept apart from
// offlineVerify.ts so that tests can stand in for the module.
export interface WasmVerifier {
  verify(qr: string, atMs: number): string
  /** With a policy as JSON (the crate's `Policy`), e.g. `Verifier.counterPolicy()`. */
  verifyWithPolicy(qr: string, atMs: number, policyJson: string): string
  trustListExpiresAt: number
  /** The lists' `iat`, in milliseconds (statusListIssuedAt undefined without a status list). */
  trustListIssuedAt: number
  statusListIssuedAt?: number
  free?: () => void
}
/** Verifies the trust list against the root public key (32 bytes) and the status list against the trust list; throws when either fails. */
export type VerifierCtor = {
  new (root: Uint8Array, tl: Uint8Array, sl?: Uint8Array): WasmVerifier
  /** The service counter's policy (the crate's `Policy::counter`) as JSON. */
  counterPolicy(): string
}
interface WasmModule { default: (o: { module_or_path: string }) => Promise<unknown>; Verifier: VerifierCtor }

const jsModules = import.meta.glob('../../../target/verifier-wasm-web/permit_verifier.js')
const wasmUrls = import.meta.glob('../../../target/verifier-wasm-web/permit_verifier_bg.wasm', { query: '?url', import: 'default', eager: true }) as Record<string, string>

export const wasmAvailable = Object.keys(jsModules).length > 0 && Object.keys(wasmUrls).length > 0

let ctor: Promise<VerifierCtor> | null = null
/** The module's Verifier class, instantiated once; null when the module was not built in. */
export async function loadVerifier(): Promise<VerifierCtor | null> {
  if (!wasmAvailable) return null
  ctor ??= (async () => {
    const mod = (await Object.values(jsModules)[0]()) as WasmModule
    await mod.default({ module_or_path: Object.values(wasmUrls)[0] })
    return mod.Verifier
  })()
  try {
    return await ctor
  } catch (e) {
    ctor = null
    throw e
  }
}
