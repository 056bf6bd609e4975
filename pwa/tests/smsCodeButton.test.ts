import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import { Button } from 'vant'
import zh from '../src/locales/zh-CN'
import SmsCodeButton from '../src/components/SmsCodeButton.vue'

const i18n = () => createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zh } })
const ok = () => new Response(JSON.stringify({ phone: '138****5678', expires_in: 300 }), { status: 200, headers: { 'content-type': 'application/json' } })
const mountButton = (props: Record<string, unknown>) =>
  mount(SmsCodeButton, { props: { phone: '13812345678', purpose: 'register', ...props }, global: { plugins: [i18n()], components: { VanButton: Button } } })

afterEach(() => vi.unstubAllGlobals())

describe('SmsCodeButton', () => {
  it('signed out: sends the captcha solution with the request and asks for a new one after', async () => {
    const fetchMock = vi.fn().mockResolvedValue(ok())
    vi.stubGlobal('fetch', fetchMock)
    const w = mountButton({ captcha: 'solution-1' })
    await w.find('[data-testid=sms-button]').trigger('click')
    await flushPromises()
    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ phone: '13812345678', purpose: 'register', captcha: 'solution-1' })
    expect(w.emitted('captcha-used')).toHaveLength(1)
    expect(w.emitted('sent')).toHaveLength(1)
  })
  it('signed out: waits for the captcha instead of sending without it', async () => {
    const fetchMock = vi.fn().mockResolvedValue(ok())
    vi.stubGlobal('fetch', fetchMock)
    const w = mountButton({ captcha: '' })
    await w.find('[data-testid=sms-button]').trigger('click')
    await flushPromises()
    expect(fetchMock).not.toHaveBeenCalled()
    expect(w.emitted('captcha-used')).toBeUndefined()
  })
  it("a step-up sends no phone: the code goes to the account's own", async () => {
    const fetchMock = vi.fn().mockResolvedValue(ok())
    vi.stubGlobal('fetch', fetchMock)
    const w = mountButton({ phone: null, purpose: 'step_up' })
    await w.find('[data-testid=sms-button]').trigger('click')
    await flushPromises()
    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ phone: null, purpose: 'step_up' })
    expect(w.emitted('sent')).toHaveLength(1)
  })
  it('signed in: sends no captcha', async () => {
    const fetchMock = vi.fn().mockResolvedValue(ok())
    vi.stubGlobal('fetch', fetchMock)
    const w = mountButton({ purpose: 'step_up' })
    await w.find('[data-testid=sms-button]').trigger('click')
    await flushPromises()
    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ phone: '13812345678', purpose: 'step_up' })
    expect(w.emitted('captcha-used')).toBeUndefined()
  })
})
