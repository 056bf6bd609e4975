// ALTCHA proof-of-work: find `number` with SHA-256(salt + number) == challenge (hex).
import type { CaptchaChallenge } from '../api/types'

const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('')

export async function solveChallenge(c: CaptchaChallenge, onProgress?: (n: number) => void): Promise<number | null> {
  if (c.algorithm.toUpperCase() !== 'SHA-256') throw new Error(`unsupported algorithm ${c.algorithm}`)
  const enc = new TextEncoder()
  const target = c.challenge.toLowerCase()
  for (let n = 0; n <= c.maxnumber; n++) {
    const digest = await crypto.subtle.digest('SHA-256', enc.encode(c.salt + n))
    if (hex(digest) === target) return n
    if (onProgress && n % 5000 === 0) onProgress(n)
  }
  return null
}

/** The registration body's `captcha` field: base64(JSON{algorithm, challenge, number, salt, signature}). */
export function encodeSolution(c: CaptchaChallenge, number: number): string {
  const json = JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number, salt: c.salt, signature: c.signature })
  return btoa(json)
}
