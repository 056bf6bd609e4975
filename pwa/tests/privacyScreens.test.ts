// The holder's screens of issue 14: signing out (the default removes everything), the privacy
// notice at registration and when it changes, and 我的数据与隐私 (download, access log, close).
import 'fake-indexeddb/auto'
import { describe, it, expect, vi, afterEach, beforeEach } from 'vitest'
import { mount, flushPromises, type VueWrapper } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { keys, clear } from 'idb-keyval'
import { i18n, useLocale } from '../src/i18n'
import { setMe, session } from '../src/lib/session'
import { saveWallet, loadWallet, keptWallets } from '../src/lib/wallet'
import { stepUpPrompt, finishStepUp } from '../src/lib/stepUp'
import { consentPrompt } from '../src/lib/privacy'
import type { Me, PrivacyNotice, PermitView } from '../src/api/types'
import Me_ from '../src/views/Me.vue'
import Register from '../src/views/Register.vue'
import MyPrivacy from '../src/views/MyPrivacy.vue'
import PrivacyConsentGate from '../src/components/PrivacyConsentGate.vue'

const restarts = vi.hoisted(() => [] as string[])
vi.mock('../src/lib/restart', () => ({ restartApp: (p: string) => void restarts.push(p) }))
// The altcha widget solves a proof of work; here it is solved at once.
vi.mock('../src/components/CaptchaField.vue', () => ({
  default: { props: ['modelValue'], emits: ['update:modelValue'], mounted(this: { $emit: (e: string, v: string) => void }) { this.$emit('update:modelValue', 'solved') }, methods: { renew() {} }, template: '<div />' },
}))
vi.mock('../src/components/RegionCascader.vue', () => ({
  default: { props: ['modelValue'], emits: ['update:modelValue'], mounted(this: { $emit: (e: string, v: string[]) => void }) { this.$emit('update:modelValue', ['330000', '330100', '330102']) }, template: '<div />' },
}))

const settle = async () => {
  for (let i = 0; i < 10; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 5))
  }
}
const me: Me = { id: 'acct-1', username: 'resident1', role: 'resident', real_name: '测试居民', id_number_masked: '330106********1397', phone_masked: '139****0000', real_name_verified: true, service_points: [] }
const NOTICE: PrivacyNotice = {
  version: '2026-12-03', published_on: '2026-12-03', title: '个人信息保护告知书', title_en: 'Privacy notice',
  sections: [
    { heading: '我们收集什么', heading_en: 'What we collect', body: '姓名、公民身份号码、手机号码、居住地址和证明材料。', body_en: 'Your name, ID number, phone number, address and proof files.' },
    { heading: '保存多久', heading_en: 'How long we keep it', body: '证明材料在申请办结90天后删除。', body_en: 'Proof files are deleted 90 days after the application ends.' },
  ],
}
const permit = (): PermitView => ({
  id: 'p1', number: '3301022026000001', holder_name: '测试居民', id_number: '330106198801011397', district: '浙江省杭州市上城区',
  authority: '杭州市公安局上城区分局', first_issued: '2026-11-27', valid_until: '2027-11-27', endorsement_window_opens: '2027-10-27',
  state: 'valid', state_label: '有效', in_wallet: true, holder_bound: false,
})

type Handler = (url: URL, init: RequestInit) => Response | undefined
function serve(handler: Handler) {
  const calls: { method: string; path: string; body?: unknown }[] = []
  vi.stubGlobal('fetch', vi.fn(async (u: string, init: RequestInit = {}) => {
    const url = new URL(u, 'http://localhost')
    calls.push({ method: init.method ?? 'GET', path: url.pathname + url.search, body: init.body ? JSON.parse(String(init.body)) : undefined })
    return handler(url, init) ?? new Response('{"code":"not_found","message":"没有找到"}', { status: 404 })
  }))
  return calls
}
async function mountAt(component: object, path = '/') {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)', component: { template: '<div />' } }] })
  await router.push(path)
  return mount(component, { attachTo: document.body, global: { plugins: [i18n, router], stubs: { PageLayout: { props: ['title'], template: '<div><h1>{{ title }}</h1><slot /></div>' } } } })
}
const bodyButton = (text: string) => [...document.body.querySelectorAll('button')].find((b) => b.textContent?.includes(text)) as HTMLButtonElement

let w: VueWrapper | null = null
beforeEach(async () => {
  await clear()
  localStorage.clear()
  restarts.length = 0
  await useLocale('zh-CN')
})
afterEach(() => {
  w?.unmount()
  w = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
  setMe(null)
})

describe('signing out', () => {
  async function openDialog() {
    setMe(me)
    await saveWallet(me.id, [{ permit: permit(), qr: { basic: 'RP1:BASIC' }, savedAt: '2026-12-03T08:00:00Z' }])
    localStorage.setItem('wallet:phone', '13900000000')
    const calls = serve((url) => (url.pathname === '/api/v1/sessions/current' ? new Response(null, { status: 204 }) : undefined))
    w = await mountAt(Me_, '/me')
    const button = w.get('[data-testid=sign-out]')
    expect(button.text()).toBe('退出登录')
    expect(w.text()).not.toContain('注销')
    await button.trigger('click')
    await settle()
    const dialog = document.body.querySelector('[data-testid=sign-out-dialog]')!
    return { calls, dialog }
  }
  it('asks, with removing everything as the first, primary choice', async () => {
    const { dialog } = await openDialog()
    const buttons = [...dialog.querySelectorAll('button')]
    expect(buttons[0].dataset.testid).toBe('sign-out-remove')
    expect(buttons[0].className).toContain('van-button--primary')
    expect(buttons[0].className).not.toContain('van-button--plain')
    expect(document.activeElement).toBe(buttons[0])
    expect(buttons[1].dataset.testid).toBe('sign-out-keep')
    expect(dialog.textContent).toContain('是否在这台手机上保留您的电子居住证')
  })
  it('removes the wallet and every personal detail by default, then starts again', async () => {
    const { calls, dialog } = await openDialog()
    ;(dialog.querySelector('[data-testid=sign-out-remove]') as HTMLButtonElement).click()
    await settle()
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/sessions/current')).toBe(true)
    expect(restarts).toEqual(['/'])
    expect(session.me).toBeNull()
    expect(await loadWallet(me.id)).toEqual([])
    expect(await keptWallets()).toEqual([])
    expect((await keys()).map(String)).toEqual([])
    expect(localStorage.getItem('wallet:phone')).toBeNull()
    expect(localStorage.getItem('permit.signedIn')).toBeNull()
  })
  it('keeps the sealed permit when asked, shown only to whoever asks for it while nobody is signed in', async () => {
    const { dialog } = await openDialog()
    ;(dialog.querySelector('[data-testid=sign-out-keep]') as HTMLButtonElement).click()
    await settle()
    expect(restarts).toEqual(['/'])
    expect(await loadWallet(null)).toEqual([])
    expect((await keptWallets()).map((k) => k.accountId)).toEqual([me.id])
    expect(localStorage.getItem('wallet:phone')).toBeNull()
  })
  it('offers no keeping when no permit is on the phone', async () => {
    setMe(me)
    serve(() => undefined)
    w = await mountAt(Me_, '/me')
    await w.get('[data-testid=sign-out]').trigger('click')
    await settle()
    const dialog = document.body.querySelector('[data-testid=sign-out-dialog]')!
    expect(dialog.querySelector('[data-testid=sign-out-keep]')).toBeNull()
    expect(dialog.textContent).toContain('这台手机上与您有关的信息都会删除')
  })
  it('is labelled Sign out in English', async () => {
    await useLocale('en')
    setMe(me)
    serve(() => undefined)
    w = await mountAt(Me_, '/me')
    expect(w.get('[data-testid=sign-out]').text()).toBe('Sign out')
    expect(w.get('[data-testid=to-privacy]').text()).toContain('My data & privacy')
  })
})

describe('the privacy notice at registration', () => {
  async function fill(w: VueWrapper) {
    const set = async (name: string, v: string) => w.get(`input[name=${name}]`).setValue(v)
    await set('username', 'resident1')
    await set('password', 'Passw0rd2026')
    await set('password_confirmation', 'Passw0rd2026')
    await set('real_name', '测试居民')
    await w.get('[role=radio]').trigger('click') // 男
    await set('id_number', '330106198801011399') // male (odd 17th digit), valid check digit
    await set('phone', '13900000000')
    await set('sms_code', '123456')
  }
  it('shows the notice in plain words with an unticked box that must be ticked, and sends the version', async () => {
    const calls = serve((url) => {
      if (url.pathname === '/api/v1/privacy-notice') return new Response(JSON.stringify(NOTICE), { status: 200 })
      if (url.pathname === '/api/v1/accounts') return new Response('{}', { status: 201 })
    })
    w = await mountAt(Register, '/register')
    await settle()
    const notice = w.get('[data-testid=privacy-notice]')
    expect(notice.text()).toContain('我们收集什么')
    expect(notice.text()).toContain('证明材料在申请办结90天后删除')
    const box = w.get('[data-testid=privacy-agree]')
    expect(box.attributes('aria-checked')).toBe('false')
    await fill(w)
    await w.get('form').trigger('submit')
    await settle()
    expect(calls.some((c) => c.path === '/api/v1/accounts')).toBe(false)
    expect(w.text()).toContain('请先阅读告知书，并勾选同意')
    await box.trigger('click')
    await settle()
    expect(box.attributes('aria-checked')).toBe('true')
    await w.get('form').trigger('submit')
    await settle()
    const sent = calls.find((c) => c.path === '/api/v1/accounts')
    expect(sent?.body).toMatchObject({ privacy_notice_version: '2026-12-03', username: 'resident1' })
  })
  it('asks again when a new notice was published while the form was open', async () => {
    let version = '2026-12-03'
    serve((url) => {
      if (url.pathname === '/api/v1/privacy-notice') return new Response(JSON.stringify({ ...NOTICE, version }), { status: 200 })
      if (url.pathname === '/api/v1/accounts') return new Response('{"code":"privacy_notice_outdated","message":"告知书已更新"}', { status: 422 })
    })
    w = await mountAt(Register, '/register')
    await settle()
    await fill(w)
    await w.get('[data-testid=privacy-agree]').trigger('click')
    version = '2027-01-01'
    await w.get('form').trigger('submit')
    await settle()
    expect(w.get('[data-testid=privacy-agree]').attributes('aria-checked')).toBe('false')
    expect(w.get('[data-testid=privacy-notice]').attributes('data-version')).toBe('2027-01-01')
    expect(w.text()).toContain('告知书已更新，请阅读新版本后重新勾选同意')
  })
})

describe('a new notice after sign-in', () => {
  it('asks full screen; agreeing records the version', async () => {
    setMe(me)
    consentPrompt.needed = true
    const calls = serve((url, init) => {
      if (url.pathname === '/api/v1/privacy-notice') return new Response(JSON.stringify(NOTICE), { status: 200 })
      if (url.pathname === '/api/v1/me/privacy-consent' && init.method === 'POST') return new Response(null, { status: 204 })
    })
    w = await mountAt(PrivacyConsentGate)
    await settle()
    expect(w.get('[role=dialog]').attributes('aria-modal')).toBe('true')
    expect(w.text()).toContain('个人信息保护告知书已更新')
    expect(w.text()).toContain('我们收集什么')
    await w.get('[data-testid=consent-agree]').trigger('click')
    await settle()
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/v1/me/privacy-consent', body: { version: '2026-12-03' } })
    expect(consentPrompt.needed).toBe(false)
  })
  it('declining signs out and removes this phone’s copy', async () => {
    setMe(me)
    await saveWallet(me.id, [{ permit: permit(), qr: { basic: 'RP1:BASIC' }, savedAt: '2026-12-03T08:00:00Z' }])
    consentPrompt.needed = true
    const calls = serve((url) => {
      if (url.pathname === '/api/v1/privacy-notice') return new Response(JSON.stringify(NOTICE), { status: 200 })
      if (url.pathname === '/api/v1/sessions/current') return new Response(null, { status: 204 })
    })
    w = await mountAt(PrivacyConsentGate)
    await settle()
    await w.get('[data-testid=consent-decline]').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/sessions/current')).toBe(true)
    expect(await loadWallet(me.id)).toEqual([])
    expect(await keptWallets()).toEqual([])
    expect(restarts).toEqual(['/'])
  })
})

describe('我的数据与隐私', () => {
  const entry = (at: string, over: object = {}) => ({
    at, kind: 'staff', action: 'application.review', action_label: '初审了您的申请', action_label_en: 'Reviewed your application',
    service_point_name: '清波派出所受理点', verifier_name: null, ...over,
  })
  function server(extra: Handler = () => undefined) {
    return serve((url, init) => {
      if (url.pathname === '/api/v1/me/privacy-consent') return new Response(JSON.stringify({ current_version: '2026-12-03', agreed_version: '2026-12-03', agreed_at: '2026-12-03T02:00:00Z', needs_consent: false }), { status: 200 })
      if (url.pathname === '/api/v1/me/access-log' && !url.searchParams.get('before'))
        return new Response(JSON.stringify({ items: [entry('2026-12-03T16:30:00Z'), entry('2026-12-02T01:00:00Z', { kind: 'verification', action: 'verification', action_label: '联网核验了您的居住证', action_label_en: 'Verified your permit online', service_point_name: null, verifier_name: '某酒店前台' })], next_before: '2026-12-02T01:00:00Z' }), { status: 200 })
      if (url.pathname === '/api/v1/me/access-log')
        return new Response(JSON.stringify({ items: [entry('2026-11-30T03:00:00Z', { kind: 'verification', action: 'verification', action_label: '联网核验了您的居住证', action_label_en: 'Verified your permit online', service_point_name: null, verifier_name: null })], next_before: null }), { status: 200 })
      return extra(url, init)
    })
  }
  it('lists who looked, in China Standard Time, without any clerk, a page at a time', async () => {
    setMe(me)
    const calls = server()
    w = await mountAt(MyPrivacy, '/me/privacy')
    await settle()
    const rows = w.findAll('[data-testid=access-row]')
    expect(rows).toHaveLength(2)
    // 16:30 UTC is 00:30 the next day in Beijing.
    expect(rows[0].text()).toContain('2026-12-04 00:30')
    expect(rows[0].text()).toContain('初审了您的申请')
    expect(rows[0].text()).toContain('受理点：清波派出所受理点')
    expect(rows[1].text()).toContain('核验单位：某酒店前台')
    expect(w.text()).toContain('您于 2026-12-03 10:00 同意了 2026-12-03 版告知书')
    await w.get('[data-testid=access-more]').trigger('click')
    await settle()
    expect(calls.some((c) => c.path === '/api/v1/me/access-log?limit=20&before=2026-12-02T01%3A00%3A00Z')).toBe(true)
    expect(w.findAll('[data-testid=access-row]')).toHaveLength(3)
    expect(w.findAll('[data-testid=access-row]')[2].text()).toContain('核验单位：未填写')
    expect(w.find('[data-testid=access-more]').exists()).toBe(false)
    await useLocale('en')
    await flushPromises()
    expect(w.findAll('[data-testid=access-row]')[0].text()).toContain('Reviewed your application')
    expect(w.findAll('[data-testid=access-row]')[0].text()).toContain('Service point: 清波派出所受理点')
  })
  it('downloads my data after the step-up, under the server’s file name', async () => {
    setMe(me)
    let steppedUp = false
    const calls = server((url) => {
      if (url.pathname !== '/api/v1/me/data') return undefined
      if (!steppedUp) return new Response('{"code":"step_up_required","message":"请先确认是您本人"}', { status: 403 })
      return new Response(new Blob(['PK\u0003\u0004zip']), { status: 200, headers: { 'Content-Type': 'application/zip', 'Content-Disposition': 'attachment; filename="permit-data-20261203.zip"' } })
    })
    const saved: string[] = []
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }))
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) { saved.push(this.download) })
    w = await mountAt(MyPrivacy, '/me/privacy')
    await settle()
    await w.get('[data-testid=export]').trigger('click')
    await settle()
    expect(stepUpPrompt.show).toBe(true)
    steppedUp = true
    finishStepUp(true)
    await settle()
    expect(calls.filter((c) => c.path === '/api/v1/me/data')).toHaveLength(2)
    expect(saved).toEqual(['permit-data-20261203.zip'])
    click.mockRestore()
  })
  it('closes the account after reading what is erased and kept and confirming twice; the phone is cleared', async () => {
    setMe(me)
    await saveWallet(me.id, [{ permit: permit(), qr: { basic: 'RP1:BASIC' }, savedAt: '2026-12-03T08:00:00Z' }])
    const calls = server((url, init) => (url.pathname === '/api/v1/me' && init.method === 'DELETE' ? new Response(null, { status: 204 }) : undefined))
    w = await mountAt(MyPrivacy, '/me/privacy')
    await settle()
    await w.get('[data-testid=close-account]').trigger('click')
    await settle()
    const info = document.body.querySelector('[data-testid=close-info]')!
    expect(info.textContent).toContain('将删除')
    expect(info.textContent).toContain('依法保留')
    expect(info.textContent).toContain('已签发居住证的档案记录和审计日志')
    ;(info.querySelector('[data-testid=close-continue]') as HTMLButtonElement).click()
    await settle()
    // Nothing is sent before the second confirmation.
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)
    expect(document.body.textContent).toContain('账号注销后不能恢复')
    bodyButton('确认注销账号').click()
    await settle()
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/me')).toBe(true)
    expect(document.body.textContent).toContain('账号已注销')
    bodyButton('确定').click()
    await settle()
    expect(restarts).toEqual(['/'])
    expect(session.me).toBeNull()
    expect((await keys()).map(String)).toEqual([])
  })
  it('does not offer closing a staff account', async () => {
    setMe({ ...me, role: 'clerk' })
    server()
    w = await mountAt(MyPrivacy, '/me/privacy')
    await settle()
    expect(w.find('[data-testid=close-account]').exists()).toBe(false)
    expect(w.text()).toContain('工作人员账号的注销请联系系统管理员')
  })
})
