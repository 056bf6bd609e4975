// GB 11643-1999 citizen ID numbers: 6-digit region, 8-digit birth date, 3-digit sequence
// (odd for men, even for women), and an ISO 7064 MOD 11-2 check character (0-9 or X).

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

export type IdNumberError = 'empty' | 'length' | 'format' | 'birth_date' | 'check_digit' | 'sex'

export interface IdNumberInfo {
  birthDate: string // YYYY-MM-DD
  sex: 'male' | 'female'
  region: string
}

/** The check character of the first 17 digits. */
export function checkChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK[sum % 11]
}

export function normalizeIdNumber(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase()
}

/** Validates an ID number; `today` bounds the birth date (no one is born in the future). */
export function validateIdNumber(
  raw: string,
  opts: { sex?: 'male' | 'female'; today?: Date } = {},
): { ok: true; info: IdNumberInfo } | { ok: false; error: IdNumberError } {
  const id = normalizeIdNumber(raw)
  if (!id) return { ok: false, error: 'empty' }
  if (id.length !== 18) return { ok: false, error: 'length' }
  if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, error: 'format' }
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  const date = new Date(Date.UTC(y, m - 1, d))
  const today = opts.today ?? new Date()
  if (
    y < 1900 ||
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== m - 1 ||
    date.getUTCDate() !== d ||
    date.getTime() > today.getTime()
  )
    return { ok: false, error: 'birth_date' }
  if (checkChar(id) !== id[17]) return { ok: false, error: 'check_digit' }
  const sex = Number(id[16]) % 2 === 1 ? 'male' : 'female'
  if (opts.sex && opts.sex !== sex) return { ok: false, error: 'sex' }
  return {
    ok: true,
    info: { birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`, sex, region: id.slice(0, 6) },
  }
}

/** First 6 and last 4 characters, as the server masks them. */
export function maskIdNumber(id: string): string {
  if (!id || id.length < 10 || id.includes('*')) return id
  return id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4)
}

/** First 3 and last 4 digits of a phone number (as on the 我的 screen). */
export function maskPhone(phone: string): string {
  if (!phone || phone.length < 8 || phone.includes('*')) return phone
  return phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4)
}
