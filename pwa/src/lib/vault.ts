// The wallet kept on this device, sealed: each account's permits are encrypted with AES-GCM
// under that account's own WebCrypto key, created with `extractable: false` and stored in
// IndexedDB as a CryptoKey, so no script (ours included) can read the key's bytes and a copy of
// the browser profile's files holds no name or ID number in plaintext. Forgetting an account's
// key makes its sealed wallet unreadable even where the storage engine keeps old pages around.
//
// Which wallet is shown without asking: only the signed-in account's (`wallet-active`, set on
// sign-in and cleared on sign-out). A wallet kept at sign-out is shown only when someone asks
// for it on the wallet screen while nobody is signed in; another account signed in on the
// phone never sees it.
import { get as idbGet, set as idbSet, del as idbDel, keys as idbKeys } from 'idb-keyval'

const SEALED = 'wallet-sealed:'
const KEY = 'wallet-key:'
const ACTIVE = 'wallet-active'
// Before the vault, the wallet was kept in plaintext under these names.
const LEGACY = 'wallet:'
const LEGACY_LAST = 'wallet:last-account'

interface Sealed {
  v: 1
  iv: Uint8Array
  data: ArrayBuffer
  /** When it was sealed: shown with a kept wallet instead of anything personal. */
  savedAt: string
}

/** A wallet kept on this device by an account that is not signed in. */
export interface KeptWallet {
  accountId: string
  savedAt: string
}

// The account id is the associated data: a sealed wallet moved under another account's name
// does not decrypt.
const aad = (accountId: string) => new TextEncoder().encode(`permit-wallet-v1:${accountId}`)

async function accountKey(accountId: string, create: boolean): Promise<CryptoKey | null> {
  const kept = (await idbGet(KEY + accountId)) as CryptoKey | undefined
  if (kept || !create) return kept ?? null
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  await idbSet(KEY + accountId, key)
  return key
}

/** Encrypts `value` (JSON) for `accountId` and keeps it; the account's key is made once. */
export async function seal(accountId: string, value: unknown): Promise<void> {
  const key = (await accountKey(accountId, true))!
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const plain = new TextEncoder().encode(JSON.stringify(value))
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(accountId) }, key, plain)
  const sealed: Sealed = { v: 1, iv, data, savedAt: new Date().toISOString() }
  await idbSet(SEALED + accountId, sealed)
}

/** The account's kept value, or null when there is none or it does not decrypt. */
export async function unseal<T>(accountId: string): Promise<T | null> {
  const sealed = (await idbGet(SEALED + accountId)) as Sealed | undefined
  const key = await accountKey(accountId, false)
  if (!sealed || !key) return null
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv as BufferSource, additionalData: aad(accountId) }, key, sealed.data)
    return JSON.parse(new TextDecoder().decode(plain)) as T
  } catch {
    return null
  }
}

/** Removes the account's sealed wallet and its key. */
export async function forget(accountId: string): Promise<void> {
  await idbDel(SEALED + accountId)
  await idbDel(KEY + accountId)
  if ((await activeAccount()) === accountId) await idbDel(ACTIVE)
}

/** The account signed in on this device, whose wallet opens by itself (also offline). */
export async function activeAccount(): Promise<string | null> {
  return ((await idbGet(ACTIVE)) as string | undefined) ?? null
}
export async function setActiveAccount(accountId: string | null): Promise<void> {
  if (accountId) await idbSet(ACTIVE, accountId)
  else await idbDel(ACTIVE)
}

/**
 * Wallets kept on this device at sign-out, newest first; none while an account is signed in
 * here, so another account never sees them.
 */
export async function keptWallets(): Promise<KeptWallet[]> {
  if (await activeAccount()) return []
  const out: KeptWallet[] = []
  for (const k of await idbKeys()) {
    if (typeof k !== 'string' || !k.startsWith(SEALED)) continue
    const sealed = (await idbGet(k)) as Sealed | undefined
    if (sealed) out.push({ accountId: k.slice(SEALED.length), savedAt: sealed.savedAt })
  }
  return out.sort((a, b) => b.savedAt.localeCompare(a.savedAt))
}

/**
 * Seals the plaintext wallets an earlier version kept (`wallet:<account id>`) and removes them
 * and `wallet:last-account`. The last account stays the one that opens by itself only while
 * this device still says it is signed in; otherwise its wallet counts as kept.
 */
export async function migratePlaintext(signedIn: boolean): Promise<void> {
  const all = await idbKeys()
  const last = (await idbGet(LEGACY_LAST)) as string | undefined
  for (const k of all) {
    if (typeof k !== 'string' || !k.startsWith(LEGACY) || k === LEGACY_LAST) continue
    const accountId = k.slice(LEGACY.length)
    const list = await idbGet(k)
    if (Array.isArray(list) && list.length) await seal(accountId, list)
    await idbDel(k)
  }
  if (last && signedIn && !(await activeAccount())) await setActiveAccount(last)
  await idbDel(LEGACY_LAST)
}

/** Every IndexedDB name the vault or its predecessor uses for `accountId`, for tests. */
export const vaultNames = { sealed: (id: string) => SEALED + id, key: (id: string) => KEY + id, active: ACTIVE }
