import { describe, it, expect, vi, afterEach } from 'vitest'
import { api, ApiError, Intent, toApiError, onUnauthenticated, buildUrl } from '../src/api/client'

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

afterEach(() => vi.unstubAllGlobals())

describe('API client', () => {
  it('builds URLs under /api/v1 and drops empty query values', () => {
    expect(buildUrl('/regions', { parent: '330100', x: undefined, y: '' })).toBe('/api/v1/regions?parent=330100')
  })
  it('sends JSON with the Idempotency-Key and returns the body', async () => {
    const fetchMock = vi.fn().mockResolvedValue(json(200, { ok: 1 }))
    vi.stubGlobal('fetch', fetchMock)
    const intent = new Intent()
    intent.key = 'k1'
    const r = await api('/applications/1/submit', { method: 'POST', body: { a: 1 }, intent })
    expect(r).toEqual({ ok: 1 })
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/v1/applications/1/submit')
    expect(init.headers['Idempotency-Key']).toBe('k1')
    expect(init.headers['Content-Type']).toBe('application/json')
    expect(init.credentials).toBe('same-origin')
  })
  it("keeps an intent's key across a lost answer and spends it once the server answered", async () => {
    const intent = new Intent()
    const first = intent.key
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('offline')))
    await api('/applications/1/submit', { method: 'POST', intent }).catch(() => null)
    expect(intent.key).toBe(first)
    const fetchMock = vi.fn().mockResolvedValue(json(422, { code: 'condition_not_met', message: 'x' }))
    vi.stubGlobal('fetch', fetchMock)
    await api('/applications/1/submit', { method: 'POST', intent }).catch(() => null)
    // The retry went with the same key; the refusal spent it.
    expect(fetchMock.mock.calls[0][1].headers['Idempotency-Key']).toBe(first)
    expect(intent.key).not.toBe(first)
  })
  it('turns the error body into ApiError with code, field and retry_after', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(json(401, { code: 'sms_code_required', message: '请输入短信验证码', field: 'sms_code', retry_after: 42 })))
    const e: any = await api('/sessions', { method: 'POST', body: {} }).catch((x: any) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 401, code: 'sms_code_required', field: 'sms_code', retryAfter: 42, message: '请输入短信验证码' })
    expect(e.isUnauthenticated).toBe(false)
  })
  it('copes with non-JSON error bodies and the Retry-After header', async () => {
    const e = await toApiError(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'retry-after': '5' } }))
    expect(e).toMatchObject({ status: 502, code: 'http_502', message: 'Bad Gateway', retryAfter: 5 })
  })
  it('reports network failures with code network', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const e: any = await api('/me').catch((x: any) => x)
    expect(e).toMatchObject({ status: 0, code: 'network' })
    expect(e.isNetwork).toBe(true)
  })
  it('tells listeners when the session has ended', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(json(401, { code: 'unauthenticated', message: '请先登录' })))
    const seen: string[] = []
    const off = onUnauthenticated((e) => seen.push(e.code))
    await api('/me').catch(() => null)
    off()
    expect(seen).toEqual(['unauthenticated'])
  })
  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(null, { status: 204 })))
    expect(await api('/sessions/current', { method: 'DELETE' })).toBeUndefined()
  })
  it('marks missing endpoints (permits before they land)', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(json(404, { code: 'not_found', message: '未找到' })))
    const e: any = await api('/permits').catch((x: any) => x)
    expect(e.isMissingEndpoint).toBe(true)
  })
})
