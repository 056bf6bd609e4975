// The booking calendar of the Zhejiang manual §3.2.3: every day gets one of four legend states.
// red: 节假日或休息日 (rest day or holiday); 满: full; grey: 无法预约 (unavailable); blue: 可以预约.

export type DayState = 'holiday' | 'full' | 'unavailable' | 'available'

export interface CalendarEntry {
  date: string
  state: DayState
  holiday_name?: string | null
  remaining?: number | null
  mine: boolean
}

export interface LegendItem {
  state: DayState
  /** CSS class carrying the colour; colours meet WCAG AA against white text or background. */
  cls: string
  /** i18n key of the legend label. */
  labelKey: string
  /** i18n key of the legend explanation. */
  hintKey: string
  bookable: boolean
}

export const LEGEND: Record<DayState, LegendItem> = {
  holiday: { state: 'holiday', cls: 'day-holiday', labelKey: 'cal.red', hintKey: 'cal.holiday', bookable: false },
  full: { state: 'full', cls: 'day-full', labelKey: 'cal.fullMark', hintKey: 'cal.full', bookable: false },
  unavailable: { state: 'unavailable', cls: 'day-unavailable', labelKey: 'cal.grey', hintKey: 'cal.unavailable', bookable: false },
  available: { state: 'available', cls: 'day-available', labelKey: 'cal.blue', hintKey: 'cal.available', bookable: true },
}

export const LEGEND_ORDER: DayState[] = ['holiday', 'full', 'unavailable', 'available']

/** Legend entry for a state; anything unknown is shown as unavailable (never bookable). */
export function legendFor(state: string): LegendItem {
  return (LEGEND as Record<string, LegendItem>)[state] ?? LEGEND.unavailable
}

/** A day a user may tap: available, or full but already the applicant's own booking. */
export function isSelectable(e: CalendarEntry): boolean {
  return legendFor(e.state).bookable || e.mine
}

export interface MonthCell {
  date: string // YYYY-MM-DD
  day: number
  inMonth: boolean
  entry?: CalendarEntry
}

const pad = (n: number) => String(n).padStart(2, '0')
export const isoDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`

/**
 * Month grids (weeks start on Monday, as in the seed's calendar) covering every entry.
 * Dates outside the entries are cells without an entry (shown grey, 无法预约).
 */
export function monthGrids(entries: CalendarEntry[]): { year: number; month: number; weeks: MonthCell[][] }[] {
  if (!entries.length) return []
  const byDate = new Map(entries.map((e) => [e.date, e]))
  const sorted = [...entries].sort((a, b) => a.date.localeCompare(b.date))
  const first = new Date(sorted[0].date + 'T00:00:00Z')
  const last = new Date(sorted[sorted.length - 1].date + 'T00:00:00Z')
  const months: { year: number; month: number; weeks: MonthCell[][] }[] = []
  let y = first.getUTCFullYear()
  let m = first.getUTCMonth()
  while (y < last.getUTCFullYear() || (y === last.getUTCFullYear() && m <= last.getUTCMonth())) {
    const start = new Date(Date.UTC(y, m, 1))
    const offset = (start.getUTCDay() + 6) % 7 // Monday = 0
    const cur = new Date(start.getTime() - offset * 86400000)
    const weeks: MonthCell[][] = []
    do {
      const week: MonthCell[] = []
      for (let i = 0; i < 7; i++) {
        const date = isoDate(cur)
        week.push({ date, day: cur.getUTCDate(), inMonth: cur.getUTCMonth() === m, entry: byDate.get(date) })
        cur.setUTCDate(cur.getUTCDate() + 1)
      }
      weeks.push(week)
    } while (cur.getUTCMonth() === m)
    months.push({ year: y, month: m + 1, weeks })
    m++
    if (m === 12) {
      m = 0
      y++
    }
  }
  return months
}
