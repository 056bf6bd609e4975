// Fresh step-up in the PWA: an operation the server refuses with `403 step_up_required` asks
// the person to confirm who they are (SMS code, or the passkey when the account has one) and
// runs again; the wallet shows the basic QR on a new device and offers the step-up for the full.
import 'fake-indexeddb/auto'
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import { ApiError } from '../src/api/client'
import { withStepUp, stepUpPrompt, finishStepUp, askForStepUp } from '../src/lib/stepUp'
import StepUpDialog from '../src/components/StepUpDialog.vue'
import Wallet from '../src/views/Wallet.vue'
import { loadWallet } from '../src/lib/wallet'
import { setMe } from '../src/lib/session'
import type { PermitView } from '../src/api/types'

// IndexedDB (fake-indexeddb) answers on later ticks: let the screen finish loading.
const settle = async () => {
  for (let i = 0; i < 10; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 5))
  }
}

const assertion = vi.hoisted(() => vi.fn(async () => ({ id: 'cred' })))
vi.mock('../src/lib/webauthn', async (real) => ({ ...(await real<object>()), getAssertion: assertion }))

const required = () => new ApiError(403, 'step_up_required', '为了您的账号安全，请先确认身份（通行密钥或短信验证码）后再继续')
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

afterEach(() => {
  vi.unstubAllGlobals()
  finishStepUp(false)
})

describe('withStepUp', () => {
  it('asks for a step-up when the server wants one, then runs the operation again', async () => {
    const op = vi.fn().mockRejectedValueOnce(required()).mockResolvedValueOnce('done')
    const result = withStepUp(op)
    await flushPromises()
    expect(stepUpPrompt.show).toBe(true)
    finishStepUp(true)
    await expect(result).resolves.toBe('done')
    expect(op).toHaveBeenCalledTimes(2)
    expect(stepUpPrompt.show).toBe(false)
  })
  it('gives the refusal back when the person closes the dialog', async () => {
    const op = vi.fn().mockRejectedValue(required())
    const result = withStepUp(op)
    await flushPromises()
    finishStepUp(false)
    await expect(result).rejects.toMatchObject({ code: 'step_up_required' })
    expect(op).toHaveBeenCalledTimes(1)
  })
  it('leaves other errors alone', async () => {
    const op = vi.fn().mockRejectedValue(new ApiError(404, 'not_found', '未找到'))
    await expect(withStepUp(op)).rejects.toMatchObject({ code: 'not_found' })
    expect(stepUpPrompt.show).toBe(false)
  })
})

const mountDialog = () => mount(StepUpDialog, { global: { plugins: [i18n] }, attachTo: document.body })

describe('StepUpDialog', () => {
  it('steps up with an SMS code for an account without a passkey', async () => {
    setMe({ id: 'a1', username: 'u', role: 'resident', real_name: '测试居民', real_name_verified: false, service_points: [], phone_masked: '139****0000' })
    const calls: { url: string; body?: string }[] = []
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, body: init?.body as string | undefined })
      if (url.endsWith('/passkeys')) return json([])
      if (url.endsWith('/sessions/current/step-up')) return json({ fresh_for: 300 })
      return json({ code: 'not_found', message: 'x' }, 404)
    }))
    const answer = askForStepUp()
    const w = mountDialog()
    await flushPromises()
    expect(document.body.textContent).toContain('确认是您本人')
    expect(document.body.textContent).toContain('为了您的账号安全')
    const code = document.querySelector<HTMLInputElement>('input[name=sms_code]')!
    code.value = '123456'
    code.dispatchEvent(new Event('input'))
    document.querySelector<HTMLButtonElement>('[data-testid=session-step-up-submit]')!.click()
    await flushPromises()
    await expect(answer).resolves.toBe(true)
    const sent = calls.find((c) => c.url.endsWith('/sessions/current/step-up'))
    expect(JSON.parse(sent!.body!)).toEqual({ sms_code: '123456' })
    w.unmount()
  })
  it('uses the passkey when the account has one', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url.endsWith('/passkeys')) return json([{ id: 'k1', name: '我的手机' }])
      if (url.endsWith('/sessions/current/step-up/passkey')) return json({ id: 'c1', options: { publicKey: {} } })
      if (url.endsWith('/sessions/current/step-up/passkey/c1')) return json({ fresh_for: 300 })
      return json({ code: 'not_found', message: 'x' }, 404)
    }))
    const answer = askForStepUp()
    const w = mountDialog()
    await flushPromises()
    expect(document.querySelector('[data-testid=session-step-up-submit]')).toBeNull()
    document.querySelector<HTMLButtonElement>('[data-testid=session-step-up-passkey]')!.click()
    await flushPromises()
    expect(assertion).toHaveBeenCalled()
    await expect(answer).resolves.toBe(true)
    w.unmount()
  })
})

const permit = (over: Partial<PermitView> = {}): PermitView => ({
  id: 'p1', number: '3301022026000001', holder_name: '测试居民', id_number: '330106********1397', district: '浙江省杭州市上城区',
  authority: '杭州市公安局上城区分局', first_issued: '2026-11-27', valid_until: '2027-11-27', endorsement_window_opens: '2027-10-27',
  state: 'valid', state_label: '有效', in_wallet: true, holder_bound: false, ...over,
})

describe('Wallet on a device not seen before', () => {
  it('shows the basic QR and offers a step-up for the full one', async () => {
    localStorage.setItem('wallet:presentation', 'full')
    setMe({ id: 'a9', username: 'u', role: 'resident', real_name: '测试居民', real_name_verified: false, service_points: [] })
    let seen = false
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const u = new URL(url, 'http://x')
      if (u.pathname === '/api/v1/permits') return json([permit()])
      if (u.pathname.endsWith('/qr')) {
        const pres = u.searchParams.get('presentation')
        if (pres === 'full' && !seen) return json({ code: 'step_up_required', message: '请先确认身份' }, 403)
        return new Response(`RP1:${pres?.toUpperCase()}TEXT`, { status: 200 })
      }
      if (u.pathname === '/api/v1/passkeys') return json([])
      return json({ code: 'not_found', message: 'x' }, 404)
    }))
    const w = mount(Wallet, { global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })
    await settle()
    expect((await loadWallet('a9'))[0].qr).toEqual({ basic: 'RP1:BASICTEXT' })
    expect(w.find('[data-testid=permit-qr]').exists()).toBe(false)
    expect(w.find('[data-testid=slip]').exists()).toBe(false)
    await w.find('[data-testid=show-full]').trigger('click')
    expect(stepUpPrompt.show).toBe(true)
    seen = true
    finishStepUp(true)
    await settle()
    expect(w.find('[data-testid=permit-qr]').attributes('data-qr')).toBe('RP1:FULLTEXT')
    localStorage.removeItem('wallet:presentation')
  })
})
