// @vitest-environment node
// The holder proof the wallet appends to a holder-bound QR (verifier/src/holder_binding.rs).
import { describe, it, expect } from 'vitest'
const webcrypto = globalThis.crypto
import { base45, holderProofMessage, holderBoundText, b64urlToBuf, bufToB64url, hex } from '../src/lib/wallet'

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
function unbase45(s: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < s.length; i += 3) {
    const c = B45.indexOf(s[i]), d = B45.indexOf(s[i + 1])
    if (i + 2 < s.length) {
      const n = c + d * 45 + B45.indexOf(s[i + 2]) * 2025
      out.push(n >> 8, n & 0xff)
    } else out.push(c + d * 45)
  }
  return new Uint8Array(out)
}

describe('wallet crypto helpers', () => {
  it('encodes base45 as RFC 9285', () => {
    const enc = (s: string) => base45(new TextEncoder().encode(s))
    expect(enc('AB')).toBe('BB8')
    expect(enc('Hello!!')).toBe('%69 VD92EX0')
    expect(enc('base-45')).toBe('UJCLQE7W581')
    expect(enc('')).toBe('')
  })
  it('builds the holder proof message: domain, 0, sha256(credential), u32be(signed_at)', async () => {
    const msg = await holderProofMessage('RP1:ABC', 0x01020304)
    const domain = new TextEncoder().encode('RP1-holder-proof-v1')
    expect(msg.length).toBe(domain.length + 1 + 32 + 4)
    expect([...msg.subarray(0, domain.length)]).toEqual([...domain])
    expect(msg[domain.length]).toBe(0)
    expect(hex(msg.subarray(domain.length + 1, domain.length + 33))).toBe(hex(new Uint8Array(await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode('RP1:ABC')))))
    expect([...msg.subarray(-4)]).toEqual([1, 2, 3, 4])
  })
  it('appends # and base45(signed_at || Ed25519 signature) that verifies with the public key', async () => {
    const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
    expect(pair.privateKey.extractable).toBe(false)
    const now = Date.UTC(2026, 10, 24, 1, 30)
    const text = await holderBoundText('RP1:CRED', pair.privateKey, now)
    const [cred, proof] = text.split('#')
    expect(cred).toBe('RP1:CRED')
    expect(proof).toHaveLength(102)
    const bytes = unbase45(proof)
    expect(bytes.length).toBe(68)
    const signedAt = new DataView(bytes.buffer).getUint32(0, false)
    expect(signedAt).toBe(now / 1000)
    const msg = await holderProofMessage('RP1:CRED', signedAt)
    expect(await webcrypto.subtle.verify({ name: 'Ed25519' }, pair.publicKey, bytes.subarray(4) as BufferSource, msg as BufferSource)).toBe(true)
  })
  it('round-trips base64url for WebAuthn fields', () => {
    const b = new Uint8Array([0, 251, 255, 62, 63]).buffer
    expect(bufToB64url(b)).toBe('APv_Pj8')
    expect([...new Uint8Array(b64urlToBuf('APv_Pj8'))]).toEqual([0, 251, 255, 62, 63])
  })
})
