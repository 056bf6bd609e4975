import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import zh from '../src/locales/zh-CN'
import CaptchaField from '../src/components/CaptchaField.vue'
import { captchaRetryDelayMs } from '../src/lib/captchaRetry'

// Challenges shaped like permitd's (altcha-lib-rs): SHA-256(salt + number) with an expiry in the salt.
const SECRET_NUMBERS = [417, 88]
async function challenge(number: number) {
  const salt = `c0ffee${number}abcdef?expires=${Math.floor(Date.now() / 1000) + 600}`
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(salt + number))
  return {
    algorithm: 'SHA-256',
    challenge: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''),
    maxnumber: 1000,
    salt,
    signature: `signature-${number}`,
  }
}

const i18n = () => createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zh } })
const decode = (payload: string) => JSON.parse(atob(payload))
const lastEmitted = (w: { emitted: (e: string) => unknown[][] | undefined }) => {
  const all = w.emitted('update:modelValue') ?? []
  return all[all.length - 1]?.[0] as string
}

async function until(check: () => boolean) {
  for (let i = 0; i < 800 && !check(); i++) {
    await new Promise((r) => setTimeout(r, 10))
    await flushPromises()
  }
  expect(check()).toBe(true)
}

afterEach(() => vi.unstubAllGlobals())

describe('CaptchaField (the altcha widget)', () => {
  it('fetches the challenge from the API, solves it without anyone acting, and emits the widget payload', async () => {
    // What was served, kept: a challenge built again later could fall in the next second of its
    // expiry and hash differently.
    const served: Awaited<ReturnType<typeof challenge>>[] = []
    const fetch = vi.fn(async (_url: string) => {
      const c = await challenge(SECRET_NUMBERS[served.length]!)
      served.push(c)
      return new Response(JSON.stringify(c))
    })
    vi.stubGlobal('fetch', fetch)
    const w = mount(CaptchaField, { props: { modelValue: '' }, global: { plugins: [i18n()] }, attachTo: document.body })
    const payloads = () => (w.emitted('update:modelValue') ?? []).map(([p]) => p as string).filter(Boolean)
    await until(() => payloads().length === 1)

    expect(fetch.mock.calls[0]![0]).toBe('/api/v1/captcha')
    const first = decode(payloads()[0]!)
    expect(first).toMatchObject({ algorithm: 'SHA-256', number: 417, signature: 'signature-417' })
    expect(first.challenge).toBe(served[0]!.challenge)
    expect(first.salt).toBe(served[0]!.salt)
    expect(w.find('[data-testid=captcha-state]').attributes('data-state')).toBe('done')
    // The widget speaks the app's language, not the browser's guess.
    expect(w.text()).toContain(zh.captchaWidget.verified)

    // A solution is spent by one submission: renew() clears it and solves a fresh challenge.
    ;(w.vm as unknown as { renew: () => void }).renew()
    await flushPromises()
    expect(lastEmitted(w)).toBe('')
    await until(() => payloads().length === 2)
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(decode(payloads()[1]!)).toMatchObject({ number: 88, signature: 'signature-88' })
    w.unmount()
  })

  it('shows a failed challenge as not verified, emits no payload, and tries again by itself', async () => {
    let up = false
    const fetch = vi.fn(async () =>
      up ? new Response(JSON.stringify(await challenge(88))) : new Response('{"code":"rate_limited"}', { status: 429 }),
    )
    vi.stubGlobal('fetch', fetch)
    const w = mount(CaptchaField, { props: { modelValue: '' }, global: { plugins: [i18n()] }, attachTo: document.body })
    const state = () => w.find('[data-testid=captcha-state]').attributes('data-state')
    await until(() => state() === 'error')
    expect((w.emitted('update:modelValue') ?? []).every(([p]) => p === '')).toBe(true)
    expect(w.text()).toContain(zh.captchaWidget.error)

    up = true // the server answers again; the field retries after its pause, with no click
    await until(() => state() === 'done')
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(decode(lastEmitted(w))).toMatchObject({ number: 88 })
    w.unmount()
  }, 15_000)
})

describe('CaptchaField after a 429', () => {
  it("waits for the server's Retry-After before asking again", async () => {
    const fetch = vi.fn(async () => new Response('{"code":"rate_limited","retry_after":1800}', { status: 429, headers: { 'retry-after': '1800' } }))
    vi.stubGlobal('fetch', fetch)
    const timers = vi.spyOn(globalThis, 'setTimeout')
    const w = mount(CaptchaField, { props: { modelValue: '' }, global: { plugins: [i18n()] }, attachTo: document.body })
    await until(() => w.find('[data-testid=captcha-state]').attributes('data-state') === 'error')
    expect(timers.mock.calls.some(([, ms]) => ms === 1_800_000)).toBe(true)
    expect(fetch).toHaveBeenCalledTimes(1)
    w.unmount()
    timers.mockRestore()
  })
})

describe('captchaRetryDelayMs', () => {
  it('waits 5 s, then twice as long after each further failure, up to a minute', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => captchaRetryDelayMs(n))).toEqual([5000, 10000, 20000, 40000, 60000, 60000])
  })
  it("never retries before the server's Retry-After", () => {
    expect(captchaRetryDelayMs(1, 1800)).toBe(1_800_000)
    expect(captchaRetryDelayMs(4, 2)).toBe(40000)
  })
})
