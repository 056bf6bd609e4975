// China Standard Time is UTC+8 all year (no daylight saving): a moment is shown as the clock on
// a counter's wall reads it, whatever time zone the phone is set to.
const CST_OFFSET_MS = 8 * 60 * 60 * 1000

export function fmtDateTime(s?: string | null): string {
  if (!s) return '—'
  const d = new Date(s)
  if (isNaN(d.getTime())) return s
  const c = new Date(d.getTime() + CST_OFFSET_MS)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${c.getUTCFullYear()}-${p(c.getUTCMonth() + 1)}-${p(c.getUTCDate())} ${p(c.getUTCHours())}:${p(c.getUTCMinutes())}`
}
/** The China Standard Time date of a moment (`YYYY-MM-DD`); a plain date stays as it is. */
export function cstDate(s?: string | null): string {
  if (!s) return '—'
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s
  const d = new Date(s)
  return isNaN(d.getTime()) ? s : todayInChina(d)
}
export function fmtDate(s?: string | null, locale = 'zh-CN'): string {
  if (!s) return '—'
  const [y, m, d] = s.slice(0, 10).split('-')
  return locale === 'zh-CN' ? `${y}年${m}月${d}日` : `${y}-${m}-${d}`
}
export function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}
/** Today's date in China Standard Time, `YYYY-MM-DD` (the counters' day, not the device's). */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10)
}
