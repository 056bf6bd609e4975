import { describe, it, expect } from 'vitest'
import { legendFor, isSelectable, monthGrids, LEGEND_ORDER, type CalendarEntry } from '../src/lib/calendar'

describe('booking calendar legend (seed 000 §3.2.3)', () => {
  it('maps the four states to their legend colours', () => {
    expect(legendFor('holiday').cls).toBe('day-holiday') // red 节假日或休息日
    expect(legendFor('full').cls).toBe('day-full') // 满
    expect(legendFor('unavailable').cls).toBe('day-unavailable') // grey 无法预约
    expect(legendFor('available').cls).toBe('day-available') // blue 可以预约
    expect(LEGEND_ORDER).toEqual(['holiday', 'full', 'unavailable', 'available'])
  })
  it('treats unknown states as unavailable', () => {
    expect(legendFor('tomorrow').state).toBe('unavailable')
    expect(legendFor('tomorrow').bookable).toBe(false)
  })
  it('only lets available days (or the own booking) be chosen', () => {
    const e = (state: CalendarEntry['state'], mine = false): CalendarEntry => ({ date: '2026-11-27', state, mine })
    expect(isSelectable(e('available'))).toBe(true)
    expect(isSelectable(e('full'))).toBe(false)
    expect(isSelectable(e('holiday'))).toBe(false)
    expect(isSelectable(e('unavailable'))).toBe(false)
    expect(isSelectable(e('full', true))).toBe(true)
  })
  it('lays out Monday-first month grids across a month boundary', () => {
    const days: CalendarEntry[] = [
      { date: '2026-11-25', state: 'unavailable', mine: false },
      { date: '2026-12-07', state: 'available', remaining: 30, mine: false },
    ]
    const g = monthGrids(days)
    expect(g.map((m) => [m.year, m.month])).toEqual([[2026, 11], [2026, 12]])
    // 2026-11-01 is a Sunday: the first row starts on Monday 2026-10-26.
    expect(g[0].weeks[0][0].date).toBe('2026-10-26')
    expect(g[0].weeks[0][6]).toMatchObject({ date: '2026-11-01', inMonth: true })
    const dec7 = g[1].weeks.flat().find((c) => c.date === '2026-12-07')
    expect(dec7?.entry?.remaining).toBe(30)
    expect(monthGrids([])).toEqual([])
  })
})
