import { describe, it, expect } from 'vitest'
import { validateIdNumber, checkChar, maskIdNumber, maskPhone, normalizeIdNumber } from '../src/lib/idNumber'

const today = new Date('2026-11-24T00:00:00Z')
describe('GB 11643 ID numbers', () => {
  it('computes the MOD 11-2 check character', () => {
    expect(checkChar('11010519491231002')).toBe('X')
    expect(checkChar('33010519790101291')).toBe('0')
  })
  it('accepts valid numbers and derives birth date and sex', () => {
    const r = validateIdNumber('11010519491231002X', { today })
    expect(r).toEqual({ ok: true, info: { birthDate: '1949-12-31', sex: 'female', region: '110105' } })
    expect(validateIdNumber('330105197901012910', { today }).ok).toBe(true)
  })
  it('accepts a lower-case x and spaces', () => {
    expect(validateIdNumber(' 11010519491231002x ', { today }).ok).toBe(true)
    expect(normalizeIdNumber('1101 x')).toBe('1101X')
  })
  it.each([
    ['', 'empty'],
    ['1101051949123100', 'length'],
    ['11010519491231002XX', 'length'],
    ['1101051949123100AX', 'format'],
    ['110105194902300023', 'birth_date'],
    ['110105203001010011', 'birth_date'],
    ['110105194912310021', 'check_digit'],
  ])('rejects %s as %s', (id, error) => {
    expect(validateIdNumber(id, { today })).toEqual({ ok: false, error })
  })
  it('checks the sex digit against the chosen sex', () => {
    expect(validateIdNumber('330105197901012910', { sex: 'female', today })).toEqual({ ok: false, error: 'sex' })
    expect(validateIdNumber('330105197901012910', { sex: 'male', today }).ok).toBe(true)
  })
  it('masks as first 6 and last 4', () => {
    expect(maskIdNumber('330105197901012910')).toBe('330105********2910')
    expect(maskIdNumber('330105********2910')).toBe('330105********2910')
  })
})

describe('maskPhone', () => {
  it('keeps the first 3 and last 4 digits', () => {
    expect(maskPhone('13800138000')).toBe('138****8000')
    expect(maskPhone('138****8000')).toBe('138****8000')
  })
})
