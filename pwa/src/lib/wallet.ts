// The permit wallet's device side: credentials cached in IndexedDB, the holder-binding device
// key (a non-extractable Ed25519 WebCrypto key, also kept in IndexedDB) and the holder proof
// appended to the QR text (verifier/src/holder_binding.rs):
//   presentation = credential + "#" + base45( u32be(signed_at) || ed25519_sig(message) )
//   message      = "RP1-holder-proof-v1" || 0x00 || sha256(credential) || u32be(signed_at)
import { get as idbGet, set as idbSet, del as idbDel } from 'idb-keyval'
import type { PermitView } from '../api/types'
import * as vault from './vault'

export type Presentation = 'full' | 'basic'
export interface StoredPermit {
  permit: PermitView
  /** Credential QR texts (`RP1:...`) by presentation, as the server signed them. */
  qr: Partial<Record<Presentation, string>>
  savedAt: string
}

// IndexedDB may be missing or refused (private modes, tests): the device key is then not kept.
const get = async (k: string): Promise<unknown> => {
  try {
    return await idbGet(k)
  } catch {
    return null
  }
}
const del = async (k: string): Promise<void> => {
  try {
    await idbDel(k)
  } catch {
    /* nothing kept */
  }
}

// The wallet itself is sealed per account (./vault.ts); these calls never fail, so the wallet
// works online only where IndexedDB or WebCrypto is missing or refused.
let migration: Promise<void> | null = null
function migrated(): Promise<void> {
  migration ??= (async () => {
    let signedIn = false
    try {
      signedIn = localStorage.getItem('permit.signedIn') === '1'
    } catch {
      /* private mode */
    }
    await vault.migratePlaintext(signedIn)
  })().catch(() => undefined)
  return migration
}

/**
 * The wallet to show: `accountId`'s, or with no account known (offline), the wallet of the
 * account signed in on this device. Never a wallet another account kept here.
 */
export async function loadWallet(accountId: string | null): Promise<StoredPermit[]> {
  try {
    await migrated()
    const id = accountId ?? (await vault.activeAccount())
    if (!id) return []
    return (await vault.unseal<StoredPermit[]>(id)) ?? []
  } catch {
    return []
  }
}

/** Seals the signed-in account's wallet on this device. */
export async function saveWallet(accountId: string, list: StoredPermit[]): Promise<void> {
  try {
    await migrated()
    await vault.seal(accountId, JSON.parse(JSON.stringify(list)))
    await vault.setActiveAccount(accountId)
  } catch {
    /* not kept */
  }
}

/** Wallets other accounts kept on this device at sign-out (nothing personal in the list). */
export async function keptWallets(): Promise<vault.KeptWallet[]> {
  try {
    await migrated()
    return await vault.keptWallets()
  } catch {
    return []
  }
}

/** A kept wallet, opened because the person asked for it on the wallet screen. */
export async function openKeptWallet(accountId: string): Promise<StoredPermit[]> {
  try {
    return (await vault.unseal<StoredPermit[]>(accountId)) ?? []
  } catch {
    return []
  }
}

/** Removes an account's wallet from this device. */
export async function forgetWallet(accountId: string): Promise<void> {
  try {
    await migrated()
    await vault.forget(accountId)
  } catch {
    /* nothing kept */
  }
}

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
/** RFC 9285 base45. */
export function base45(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1]
    const c = n % 45
    n = (n - c) / 45
    const d = n % 45
    const e = (n - d) / 45
    out += B45[c] + B45[d] + B45[e]
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1]
    out += B45[n % 45] + B45[Math.floor(n / 45)]
  }
  return out
}

const DOMAIN = new TextEncoder().encode('RP1-holder-proof-v1')
const u32be = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n >>> 0, false)
  return b
}

/** The bytes the device signs (holder_proof_message in the verifier crate). */
export async function holderProofMessage(credential: string, signedAt: number): Promise<Uint8Array> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(credential)))
  const msg = new Uint8Array(DOMAIN.length + 1 + 32 + 4)
  msg.set(DOMAIN, 0)
  msg[DOMAIN.length] = 0
  msg.set(digest, DOMAIN.length + 1)
  msg.set(u32be(signedAt), DOMAIN.length + 33)
  return msg
}

export const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

const deviceKeyName = (permitId: string) => `device-key:${permitId}`

/** Whether this browser has Ed25519 in WebCrypto. */
export async function ed25519Supported(): Promise<boolean> {
  try {
    const k = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])
    return !!(k as CryptoKeyPair).privateKey
  } catch {
    return false
  }
}

/** A new non-extractable device key pair, kept in IndexedDB; returns the raw public key in hex. */
export async function createDeviceKey(permitId: string): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  // Unlike the wallet cache, the key must be kept: without it the bound QR cannot be shown.
  await idbSet(deviceKeyName(permitId), pair)
  return hex(raw)
}

export async function deviceKey(permitId: string): Promise<CryptoKeyPair | null> {
  return ((await get(deviceKeyName(permitId)).catch(() => null)) as CryptoKeyPair | null) ?? null
}
export const forgetDeviceKey = (permitId: string) => del(deviceKeyName(permitId))

/** credential + "#" + base45(signed_at || signature), signed now with the device key. */
export async function holderBoundText(credential: string, key: CryptoKey, now = Date.now()): Promise<string> {
  const signedAt = Math.floor(now / 1000)
  const msg = await holderProofMessage(credential, signedAt)
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, msg as BufferSource))
  const proof = new Uint8Array(68)
  proof.set(u32be(signedAt), 0)
  proof.set(sig, 4)
  return `${credential}#${base45(proof)}`
}

export { b64urlToBuf, bufToB64url, getAssertion } from './webauthn'
