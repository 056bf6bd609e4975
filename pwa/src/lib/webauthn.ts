// WebAuthn JSON (webauthn-rs, base64url fields) ↔ the browser's ArrayBuffers.
export function b64urlToBuf(s: string): ArrayBuffer {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '='))
  const out = new Uint8Array(b.length)
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i)
  return out.buffer
}
export function bufToB64url(buf: ArrayBuffer | null | undefined): string | null {
  if (!buf) return null
  let s = ''
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** navigator.credentials.get() with webauthn-rs request options; returns the JSON credential. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getAssertion(options: any): Promise<unknown> {
  const pk = { ...(options.publicKey ?? options) }
  pk.challenge = b64urlToBuf(pk.challenge)
  if (Array.isArray(pk.allowCredentials))
    pk.allowCredentials = pk.allowCredentials.map((c: { id: string }) => ({ ...c, id: b64urlToBuf(c.id) }))
  const cred = (await navigator.credentials.get({ publicKey: pk, mediation: options.mediation })) as PublicKeyCredential | null
  if (!cred) throw new Error('cancelled')
  const r = cred.response as AuthenticatorAssertionResponse
  return {
    id: cred.id,
    rawId: bufToB64url(cred.rawId),
    type: cred.type,
    extensions: {},
    response: {
      authenticatorData: bufToB64url(r.authenticatorData),
      clientDataJSON: bufToB64url(r.clientDataJSON),
      signature: bufToB64url(r.signature),
      userHandle: bufToB64url(r.userHandle),
    },
  }
}

/** navigator.credentials.create() with webauthn-rs creation options; returns the JSON credential. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createCredential(options: any): Promise<unknown> {
  const pk = { ...(options.publicKey ?? options) }
  pk.challenge = b64urlToBuf(pk.challenge)
  pk.user = { ...pk.user, id: b64urlToBuf(pk.user.id) }
  if (Array.isArray(pk.excludeCredentials))
    pk.excludeCredentials = pk.excludeCredentials.map((c: { id: string }) => ({ ...c, id: b64urlToBuf(c.id) }))
  const cred = (await navigator.credentials.create({ publicKey: pk })) as PublicKeyCredential | null
  if (!cred) throw new Error('cancelled')
  const r = cred.response as AuthenticatorAttestationResponse
  return {
    id: cred.id,
    rawId: bufToB64url(cred.rawId),
    type: cred.type,
    extensions: {},
    response: { attestationObject: bufToB64url(r.attestationObject), clientDataJSON: bufToB64url(r.clientDataJSON) },
  }
}
