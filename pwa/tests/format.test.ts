import { describe, expect, it } from 'vitest'
import { cstDate, fmtDateTime, todayInChina } from '../src/lib/format'

describe('fmtDateTime', () => {
  it('shows a moment in China Standard Time whatever the device time zone', () => {
    expect(fmtDateTime('2026-12-03T12:20:00Z')).toBe('2026-12-03 20:20')
    // Past 16:00 UTC it is already the next day in Beijing.
    expect(fmtDateTime('2026-12-31T16:30:00Z')).toBe('2027-01-01 00:30')
    expect(fmtDateTime('2026-12-03T20:20:00+08:00')).toBe('2026-12-03 20:20')
  })
  it('keeps an empty or unreadable value readable', () => {
    expect(fmtDateTime(null)).toBe('—')
    expect(fmtDateTime('soon')).toBe('soon')
  })
})

describe('todayInChina', () => {
  it('is the date on a Beijing calendar, which turns at 16:00 UTC', () => {
    expect(todayInChina(new Date('2026-12-03T15:59:00Z'))).toBe('2026-12-03')
    expect(todayInChina(new Date('2026-12-03T16:00:00Z'))).toBe('2026-12-04')
  })
})

describe('cstDate', () => {
  it("is a moment's Beijing date (the verdict's 有效期至 matches the wallet and slip)", () => {
    expect(cstDate('2027-12-04T16:00:00Z')).toBe('2027-12-05')
    expect(cstDate('2027-12-04T15:59:59Z')).toBe('2027-12-04')
    expect(cstDate('2027-12-05')).toBe('2027-12-05')
    expect(cstDate(null)).toBe('—')
  })
})
