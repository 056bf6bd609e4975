// The wallet kept on the device: sealed with AES-GCM under a non-extractable per-account key in
// IndexedDB (fake-indexeddb, which clones values as a browser does), shown only to the account
// that stored it, and gone after the default sign-out.
import 'fake-indexeddb/auto'
import { describe, it, expect, beforeEach, vi } from 'vitest'
import { get, set, keys, clear } from 'idb-keyval'
import * as vault from '../src/lib/vault'
import { loadWallet, saveWallet, keptWallets, openKeptWallet, type StoredPermit } from '../src/lib/wallet'
import { forgetPersonalData } from '../src/lib/deviceData'

const NAME = '测试居民'
const ID = '330106198801011397'
const permit = (id = 'p1'): StoredPermit => ({
  permit: {
    id, number: '3301022026000001', holder_name: NAME, id_number: ID, district: '浙江省杭州市上城区', authority: '杭州市公安局上城区分局',
    first_issued: '2026-11-27', valid_until: '2027-11-27', endorsement_window_opens: '2027-10-27', state: 'valid', state_label: '有效',
    in_wallet: true, holder_bound: false,
  },
  qr: { basic: 'RP1:BASIC', full: 'RP1:FULL' },
  savedAt: '2026-12-03T08:00:00Z',
})

/** Every byte IndexedDB holds, as text in the encodings a name or ID number could appear in. */
let bytes = 0
async function idbText(): Promise<string> {
  const parts: string[] = []
  bytes = 0
  for (const k of await keys()) {
    parts.push(String(k))
    const walk = (v: unknown): void => {
      // Values come back from another realm (the clone), so no instanceof here.
      const tag = Object.prototype.toString.call(v)
      if (tag === '[object ArrayBuffer]' || ArrayBuffer.isView(v)) {
        const b = ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v as ArrayBuffer)
        bytes += b.byteLength
        parts.push(new TextDecoder('utf-8', { fatal: false }).decode(b), Array.from(b, (x) => String.fromCharCode(x)).join(''))
      } else if (tag === '[object CryptoKey]') parts.push('[CryptoKey]')
      else if (v && typeof v === 'object') Object.values(v).forEach(walk)
      else parts.push(String(v))
    }
    walk(await get(k))
  }
  return parts.join('\n')
}

beforeEach(async () => {
  await clear()
  localStorage.clear()
  sessionStorage.clear()
})

describe('wallet vault', () => {
  it('seals the wallet: it reads back, and IndexedDB holds no name or ID number in plaintext', async () => {
    await saveWallet('acct-a', [permit()])
    expect(await loadWallet('acct-a')).toEqual([permit()])
    const raw = await get(vault.vaultNames.sealed('acct-a'))
    expect(ArrayBuffer.isView(raw.iv) && raw.iv.byteLength).toBe(12)
    const text = await idbText()
    // The ciphertext was read: the JSON plus the 16-byte tag, and the IV.
    expect(bytes).toBe(new TextEncoder().encode(JSON.stringify([permit()])).length + 16 + 12)
    expect(text).not.toContain(NAME)
    expect(text).not.toContain(ID)
    expect(text).not.toContain('RP1:')
    // A fresh IV each time it is sealed.
    await saveWallet('acct-a', [permit()])
    expect((await get(vault.vaultNames.sealed('acct-a'))).iv).not.toEqual(raw.iv)
  })

  it('keeps the key as a non-extractable AES-GCM CryptoKey', async () => {
    await saveWallet('acct-a', [permit()])
    const key = (await get(vault.vaultNames.key('acct-a'))) as CryptoKey
    expect(Object.prototype.toString.call(key)).toBe('[object CryptoKey]')
    expect(key.extractable).toBe(false)
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 })
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow()
    await expect(crypto.subtle.exportKey('jwk', key)).rejects.toThrow()
  })

  it('shows nothing to another account, and a sealed wallet moved to another name does not open', async () => {
    await saveWallet('acct-a', [permit()])
    // B signs in on the same phone.
    await vault.setActiveAccount('acct-b')
    expect(await loadWallet('acct-b')).toEqual([])
    expect(await loadWallet(null)).toEqual([])
    expect(await keptWallets()).toEqual([])
    // A's sealed wallet copied under B's name (with B's key) is refused: the account id is bound.
    await saveWallet('acct-b', [permit('p2')])
    await set(vault.vaultNames.sealed('acct-b'), await get(vault.vaultNames.sealed('acct-a')))
    expect(await loadWallet('acct-b')).toEqual([])
    // And with A's key too: the associated data names A.
    await set(vault.vaultNames.key('acct-b'), await get(vault.vaultNames.key('acct-a')))
    expect(await loadWallet('acct-b')).toEqual([])
  })

  it('opens the signed-in account’s wallet offline by itself, and a kept one only when asked', async () => {
    await saveWallet('acct-a', [permit()])
    expect(await loadWallet(null)).toEqual([permit()])
    expect(await keptWallets()).toEqual([])
    await forgetPersonalData('acct-a', { keepWallet: true })
    // Nobody is signed in: nothing opens by itself, the kept wallet is listed without details.
    expect(await loadWallet(null)).toEqual([])
    const kept = await keptWallets()
    expect(kept).toHaveLength(1)
    expect(Object.keys(kept[0]).sort()).toEqual(['accountId', 'savedAt'])
    expect(await openKeptWallet(kept[0].accountId)).toEqual([permit()])
    expect(await idbText()).not.toContain(NAME)
  })

  it('removes the wallet and every personal detail on the default sign-out', async () => {
    await saveWallet('acct-a', [permit()])
    await saveWallet('acct-c', [permit('p3')])
    await forgetPersonalData('acct-c', { keepWallet: true }) // C kept theirs earlier
    await vault.setActiveAccount('acct-a')
    await set('device-key:p1', { note: 'a key pair' })
    await set('verifier:lists', { trust: 'signed' })
    await set('draft:something', { name: NAME })
    localStorage.setItem('wallet:phone', '13900001111')
    localStorage.setItem('permit.signedIn', '1')
    localStorage.setItem('wallet:presentation', 'full')
    localStorage.setItem('permit.prefs', '{"largeText":true}')
    localStorage.setItem('scan:verifier-name', '某酒店前台')
    sessionStorage.setItem('anything', ID)
    const cached = new Map<string, string>([
      ['http://x/api/v1/me', NAME],
      ['http://x/api/v1/permits', ID],
      ['http://x/api/v1/service-points?district=330102', '[]'],
      ['http://x/assets/index.js', 'js'],
    ])
    vi.stubGlobal('caches', {
      keys: async () => ['public-info'],
      open: async () => ({
        keys: async () => [...cached.keys()].map((url) => new Request(url)),
        delete: async (r: Request) => cached.delete(r.url),
      }),
    })
    await forgetPersonalData('acct-a', { keepWallet: false })
    vi.unstubAllGlobals()
    const left = (await keys()).map(String).sort()
    expect(left).toEqual(['device-key:p1', 'verifier:lists', vault.vaultNames.key('acct-c'), vault.vaultNames.sealed('acct-c')].sort())
    expect(await loadWallet('acct-a')).toEqual([])
    expect(Object.keys(localStorage).sort()).toEqual(['permit.prefs', 'scan:verifier-name'])
    expect(sessionStorage.length).toBe(0)
    expect([...cached.keys()]).toEqual(['http://x/api/v1/service-points?district=330102', 'http://x/assets/index.js'])
  })

  it('closing the account also removes the holder-binding keys of its permits', async () => {
    await saveWallet('acct-a', [permit()])
    await set('device-key:p1', { note: 'a key pair' })
    await set('device-key:other', { note: 'another permit' })
    await forgetPersonalData('acct-a', { keepWallet: false, permitIds: ['p1'] })
    expect((await keys()).map(String)).toEqual(['device-key:other'])
  })

  it('seals a plaintext wallet of an earlier version and removes the plaintext', async () => {
    await set('wallet:acct-old', [permit()])
    await set('wallet:last-account', 'acct-old')
    localStorage.setItem('permit.signedIn', '1')
    vi.resetModules()
    const fresh = await import('../src/lib/wallet')
    expect(await fresh.loadWallet(null)).toEqual([permit()])
    const names = (await keys()).map(String)
    expect(names.filter((k) => k.startsWith('wallet:'))).toEqual([])
    expect(names).toContain(vault.vaultNames.sealed('acct-old'))
    expect(await idbText()).not.toContain(NAME)
  })

  it('treats a migrated wallet as kept when the device was signed out', async () => {
    await set('wallet:acct-old', [permit()])
    await set('wallet:last-account', 'acct-old')
    vi.resetModules()
    const fresh = await import('../src/lib/wallet')
    expect(await fresh.loadWallet(null)).toEqual([])
    expect((await fresh.keptWallets()).map((k) => k.accountId)).toEqual(['acct-old'])
  })
})
