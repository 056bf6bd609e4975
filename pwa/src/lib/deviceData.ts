// What signing out leaves on this phone. By default nothing personal: the account's sealed
// wallet and its key, every other IndexedDB entry but the few that hold nothing about a person,
// localStorage but the display preferences and the scanner's unit name, sessionStorage, and any
// API answer in the service worker's caches except the public information (service points,
// articles, regions). Asked to keep the permit, the sealed wallet and its key stay, but the
// account is no longer the one whose wallet opens by itself (vault.ts).
import { keys as idbKeys, del as idbDel } from 'idb-keyval'
import * as vault from './vault'

/** localStorage entries that say nothing about a person. */
const KEEP_LOCAL = new Set(['permit.prefs', 'scan:verifier-name'])
/**
 * IndexedDB entries kept: the scanner's signed trust and status lists and pinned root, and
 * holder-binding keys (a non-extractable private key under a permit's id: useless without the
 * credential, which needs the account's step-up; without it a bound permit could not be shown
 * again on this phone). Sealed wallets are handled separately.
 */
const KEEP_IDB = [/^verifier:/, /^device-key:/]
const SEALED = /^wallet-(sealed|key):(.+)$/
/** The service worker's public-information cache (vite.config.ts, runtimeCaching). */
const PUBLIC_API = /^\/api\/v1\/(service-points|articles|regions)(\/|$|\?)/

export interface ForgetOptions {
  /** Keep the sealed wallet of `accountId` for offline use (shown only when asked for). */
  keepWallet: boolean
  /** Also remove the holder-binding keys of these permits (the account is being closed). */
  permitIds?: string[]
}

export async function forgetPersonalData(accountId: string | null, opts: ForgetOptions): Promise<void> {
  await forgetIndexedDb(accountId, opts).catch(() => undefined)
  forgetWebStorage()
  await forgetCachedAnswers().catch(() => undefined)
}

async function forgetIndexedDb(accountId: string | null, opts: ForgetOptions) {
  await vault.setActiveAccount(null)
  if (accountId && !opts.keepWallet) await vault.forget(accountId)
  const bound = new Set((opts.permitIds ?? []).map((id) => `device-key:${id}`))
  for (const k of await idbKeys()) {
    const name = String(k)
    if (bound.has(name)) await idbDel(k)
    else if (KEEP_IDB.some((re) => re.test(name))) continue
    // Other accounts' kept wallets are theirs to remove; this account's was handled above.
    else if (SEALED.test(name)) continue
    else await idbDel(k)
  }
}

function forgetWebStorage() {
  try {
    for (const k of Object.keys(localStorage)) if (!KEEP_LOCAL.has(k)) localStorage.removeItem(k)
  } catch {
    /* storage refused: nothing was kept */
  }
  try {
    sessionStorage.clear()
  } catch {
    /* as above */
  }
}

async function forgetCachedAnswers() {
  if (typeof caches === 'undefined') return
  for (const name of await caches.keys()) {
    const cache = await caches.open(name)
    for (const req of await cache.keys()) {
      const url = new URL(req.url)
      if (url.pathname.startsWith('/api/') && !PUBLIC_API.test(url.pathname + url.search)) await cache.delete(req)
    }
  }
}
