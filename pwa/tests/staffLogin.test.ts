// A clerk's sign-in in the PWA: the right password answers `202 second_factor_required`; the
// first time the clerk types the one-time enrolment code and registers a passkey, later the
// passkey confirms at once. An expired ticket sends them back to the password.
import { describe, it, expect, vi, afterEach } from 'vitest'

// The webauthn module is imported on demand: give the dynamic import time to settle.
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}
import { mount, flushPromises } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { i18n } from '../src/i18n'
import Login from '../src/views/Login.vue'
import { session } from '../src/lib/session'

const assertion = vi.hoisted(() => vi.fn(async () => ({ id: 'assertion' })))
const creation = vi.hoisted(() => vi.fn(async () => ({ id: 'created' })))
vi.mock('../src/lib/webauthn', async (real) => ({ ...(await real<object>()), getAssertion: assertion, createCredential: creation }))

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })
const clerk = { id: 'c1', username: 'clerk', role: 'clerk', real_name: '演示民警', real_name_verified: false, service_points: ['p1'] }

afterEach(() => {
  vi.unstubAllGlobals()
  assertion.mockClear()
  creation.mockClear()
})

async function signIn(answers: (url: string, body: Record<string, unknown>) => Response) {
  const calls: { url: string; body: Record<string, unknown> }[] = []
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const body = init?.body ? JSON.parse(init.body as string) : {}
    calls.push({ url, body })
    return answers(url, body)
  }))
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/login', component: Login }, { path: '/:p(.*)', component: { template: '<div />' } }] })
  await router.push('/login')
  const w = mount(Login, { attachTo: document.body, global: { plugins: [i18n, router], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })
  await w.find('input[name=username]').setValue('clerk')
  await w.find('input[name=password]').setValue('clerk-demo-2026')
  await w.find('[data-testid=login-submit]').trigger('submit')
  await settle()
  return { w, calls, router }
}

describe('staff sign-in', () => {
  it('enrols a passkey with the one-time code at the first sign-in', async () => {
    const { w, calls, router } = await signIn((url) => {
      if (url.endsWith('/sessions')) return json({ code: 'second_factor_required', ticket: 't1', enrolment_required: true }, 202)
      if (url.endsWith('/sessions/enrolment')) return json({ options: { publicKey: {} } })
      if (url.endsWith('/sessions/second-factor')) return json(clerk)
      return json({ code: 'not_found', message: 'x' }, 404)
    })
    expect(w.find('[data-testid=enrolment-needed]').text()).toContain('一次性登记码')
    expect(creation).not.toHaveBeenCalled()
    // Without a code the field says so, and nothing is sent.
    await w.find('[data-testid=second-factor-submit]').trigger('submit')
    await settle()
    expect(w.text()).toContain('请填写登记码')
    await w.find('input[name=enrolment_code]').setValue('DEMQ-CLRK-2345-6789')
    await w.find('[data-testid=second-factor-submit]').trigger('submit')
    await settle()
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/staff'))
    expect(calls.find((c) => c.url.endsWith('/sessions/enrolment'))?.body).toEqual({ ticket: 't1', enrolment_code: 'DEMQ-CLRK-2345-6789' })
    expect(creation).toHaveBeenCalledTimes(1)
    expect(calls.find((c) => c.url.endsWith('/sessions/second-factor'))?.body).toEqual({ ticket: 't1', credential: { id: 'created' } })
    expect(session.me?.role).toBe('clerk')
    expect(router.currentRoute.value.path).toBe('/staff')
    w.unmount()
  })

  it('confirms with the passkey at once when the clerk has one', async () => {
    const { w, calls, router } = await signIn((url) => {
      if (url.endsWith('/sessions')) return json({ code: 'second_factor_required', ticket: 't2', enrolment_required: false, options: { publicKey: { challenge: 'AA' } } }, 202)
      if (url.endsWith('/sessions/second-factor')) return json(clerk)
      return json({ code: 'not_found', message: 'x' }, 404)
    })
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/staff'))
    expect(assertion).toHaveBeenCalledWith({ publicKey: { challenge: 'AA' } })
    expect(calls.find((c) => c.url.endsWith('/sessions/second-factor'))?.body).toEqual({ ticket: 't2', credential: { id: 'assertion' } })
    expect(router.currentRoute.value.path).toBe('/staff')
    w.unmount()
  })

  it('shows a wrong code on its field and goes back to the password when the ticket expired', async () => {
    let enrolments = 0
    const { w } = await signIn((url) => {
      if (url.endsWith('/sessions')) return json({ code: 'second_factor_required', ticket: 't3', enrolment_required: true }, 202)
      if (url.endsWith('/sessions/enrolment')) {
        enrolments++
        return enrolments === 1
          ? json({ code: 'invalid_enrolment_code', message: '登记码不正确或已失效，请向系统管理员索取新的登记码', field: 'enrolment_code' }, 422)
          : json({ code: 'second_factor_expired', message: '登录已超时，请重新输入账号名和密码' }, 401)
      }
      return json({ code: 'not_found', message: 'x' }, 404)
    })
    await w.find('input[name=enrolment_code]').setValue('2345-6789-ABCD-EFGH')
    await w.find('[data-testid=second-factor-submit]').trigger('submit')
    await vi.waitFor(() => expect(w.text()).toContain('登记码不正确或已失效'))
    await w.find('[data-testid=second-factor-submit]').trigger('submit')
    await vi.waitFor(() => expect(w.find('[data-testid=login-submit]').exists()).toBe(true))
    // Back on the password form, with the password cleared.
    expect(w.find('[data-testid=login-submit]').exists()).toBe(true)
    expect((w.find('input[name=password]').element as HTMLInputElement).value).toBe('')
    w.unmount()
  })
})
