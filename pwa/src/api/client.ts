// A small fetch wrapper for permitd's JSON API: same-origin cookies, JSON bodies,
// and errors turned into ApiError with the server's stable code.

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  readonly retryAfter?: number
  /** condition_not_met: the day the chosen condition can be used, and the exempt conditions. */
  readonly eligibleFrom?: string
  readonly exemptConditions?: string[]
  constructor(
    status: number, code: string, message: string, field?: string, retryAfter?: number,
    eligibility?: { eligibleFrom?: string; exemptConditions?: string[] },
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.retryAfter = retryAfter
    this.eligibleFrom = eligibility?.eligibleFrom
    this.exemptConditions = eligibility?.exemptConditions
  }
  get isNetwork() {
    return this.status === 0
  }
  get isUnauthenticated() {
    return this.status === 401 && !['sms_code_required', 'invalid_credentials', 'second_factor_expired'].includes(this.code)
  }
  /** The endpoint does not exist (yet) on this server, e.g. permits before they land. */
  get isMissingEndpoint() {
    return this.status === 404 || this.status === 405 || this.status === 501
  }
}

type Listener = (e: ApiError) => void
const unauthListeners = new Set<Listener>()
/** Called when any request answers 401 unauthenticated (the session ended). */
export function onUnauthenticated(fn: Listener) {
  unauthListeners.add(fn)
  return () => unauthListeners.delete(fn)
}

/** Turns a non-OK response into an ApiError, whatever its body is. */
export async function toApiError(res: Response): Promise<ApiError> {
  let body: {
    code?: unknown; message?: unknown; field?: unknown; retry_after?: unknown; eligible_from?: unknown; exempt_conditions?: unknown
  } | null = null
  try {
    const text = await res.text()
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  const code = typeof body?.code === 'string' ? body.code : `http_${res.status}`
  const message = typeof body?.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`
  const field = typeof body?.field === 'string' ? body.field : undefined
  let retryAfter = typeof body?.retry_after === 'number' ? body.retry_after : undefined
  if (retryAfter === undefined) {
    const h = Number(res.headers.get('retry-after'))
    if (Number.isFinite(h) && h > 0) retryAfter = h
  }
  const eligibleFrom = typeof body?.eligible_from === 'string' ? body.eligible_from : undefined
  const exempt = Array.isArray(body?.exempt_conditions)
    ? body.exempt_conditions.filter((c): c is string => typeof c === 'string')
    : undefined
  return new ApiError(res.status, code, message, field, retryAfter, { eligibleFrom, exemptConditions: exempt })
}

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | boolean | undefined | null>
  headers?: Record<string, string>
  /** The user intent this request carries out, for its `Idempotency-Key`. */
  intent?: Intent
  signal?: AbortSignal
}

/**
 * One user intent (a submission, a booking) and its `Idempotency-Key`. A retry after a lost
 * answer reuses the key, so the server does the work once; once the server has answered, the
 * key is spent (the server keeps that answer for it), so the next attempt, after the person
 * changed something, goes with a new key.
 */
export class Intent {
  key = newIdempotencyKey()
  answered() {
    this.key = newIdempotencyKey()
  }
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  let url = API_BASE + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
    const s = qs.toString()
    if (s) url += (url.includes('?') ? '&' : '?') + s
  }
  return url
}

export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  let body: BodyInit | undefined
  if (opts.body instanceof FormData) body = opts.body
  else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (opts.intent) headers['Idempotency-Key'] = opts.intent.key
  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
  }
  opts.intent?.answered()
  if (!res.ok) {
    const err = await toApiError(res)
    if (err.isUnauthenticated) unauthListeners.forEach((fn) => fn(err))
    throw err
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** A random key for Idempotency-Key headers; one per user intent, reused on retries. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return Math.random().toString(36).slice(2) + Date.now().toString(36)
}

/** GET a text body (e.g. a QR text); errors as in api(). */
export async function apiText(path: string, query?: RequestOptions['query']): Promise<string> {
  let res: Response
  try {
    res = await fetch(buildUrl(path, query), { credentials: 'same-origin', headers: { Accept: 'text/plain, */*' } })
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
  }
  if (!res.ok) throw await toApiError(res)
  const text = await res.text()
  // Some servers wrap text in JSON ({"qr": "..."} or "..."); accept both.
  try {
    const j = JSON.parse(text)
    if (typeof j === 'string') return j
    if (j && typeof j.qr === 'string') return j.qr
    if (j && typeof j.text === 'string') return j.text
  } catch {
    /* plain text */
  }
  return text.trim()
}

/** A file the server sends as an attachment, with the name from Content-Disposition. */
export interface Download { blob: Blob; filename: string }

/** GET a file (e.g. the data export); errors as in api(). */
export async function apiDownload(path: string, fallbackName: string): Promise<Download> {
  let res: Response
  try {
    res = await fetch(buildUrl(path), { credentials: 'same-origin', headers: { Accept: '*/*' } })
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (err.isUnauthenticated) unauthListeners.forEach((fn) => fn(err))
    throw err
  }
  return { blob: await res.blob(), filename: attachmentName(res.headers.get('content-disposition')) ?? fallbackName }
}

/** The file name of `Content-Disposition: attachment; filename="..."` (or filename*=UTF-8''...). */
export function attachmentName(header: string | null): string | null {
  if (!header) return null
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      /* fall back to the plain name */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;\s]+)/i.exec(header)
  const name = plain?.[1] ?? plain?.[2]
  // Only the last path segment: a name is never a path.
  return name ? name.split(/[\\/]/).pop() || null : null
}
