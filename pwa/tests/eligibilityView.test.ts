// 查询办证资格: the conditions' proof lists open, and a person whose residence is too short is
// told the date and the conditions they can use now, not sent to register again.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import Eligibility from '../src/views/Eligibility.vue'
import type { EligibilityAnswer } from '../src/api/types'

const conditions: EligibilityAnswer['conditions'] = [
  { code: 'employment', name_zh: '合法稳定就业', name_en: 'Stable employment', exempt_from_residence: false, available_now: false, proof: [{ case_zh: '用人单位就业', documents_zh: ['劳动合同'] }] },
  { code: 'talent', name_zh: '特殊人才', name_en: 'Special talent', exempt_from_residence: true, available_now: true, proof: [{ case_zh: '人才认定', documents_zh: ['人才认定证明'] }] },
]
const answer = (over: Partial<EligibilityAnswer>): EligibilityAnswer => ({
  jurisdiction: 'zj', eligible: false, months_required: 6, minor: false, lacking: [], conditions, guardian_proof_zh: [], ...over,
})
function serve(a: EligibilityAnswer) {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(a), { status: 200 })))
}
const mountIt = () =>
  mount(Eligibility, {
    attachTo: document.body,
    global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' }, 'router-link': true } },
  })

afterEach(() => {
  vi.unstubAllGlobals()
  i18n.global.locale.value = 'zh-CN'
})

describe('Eligibility', () => {
  it('opens a condition to show its proof', async () => {
    serve(answer({ eligible: true, residence_since: '2026-01-01' }))
    const w = mountIt()
    await flushPromises()
    expect(w.text()).not.toContain('劳动合同')
    await w.find('[data-condition=employment] .van-collapse-item__title').trigger('click')
    await flushPromises()
    expect(w.find('[data-condition=employment] .van-collapse-item__content').text()).toContain('劳动合同')
    w.unmount()
  })

  it('tells a person whose residence is too short the date and the exempt conditions', async () => {
    serve(answer({
      residence_since: '2026-10-01', eligible_from: '2027-04-01',
      lacking: [{ code: 'residence_too_short', message: '居住登记时间未满规定期限，2027年04月01日起可申领', message_en: 'x' }],
    }))
    const w = mountIt()
    await flushPromises()
    const next = w.find('[data-testid=elig-next]')
    expect(next.text()).toContain('2027年04月01日起可以申报')
    expect(next.text()).toContain('特殊人才')
    // Not sent back to register: the registration is what starts the period.
    expect(w.find('[data-testid=elig-register]').exists()).toBe(false)
    // The condition not yet usable says from when.
    expect(w.find('[data-condition=employment]').text()).toContain('2027年04月01日起可申领')
    await next.find('button').trigger('click')
    await flushPromises()
    expect(w.find('[data-condition=talent] .van-collapse-item__content').text()).toContain('人才认定证明')
    w.unmount()
  })

  it('sends a person without a registration to register', async () => {
    serve(answer({ lacking: [{ code: 'no_residence_registration', message: '尚未办理居住登记', message_en: 'x' }] }))
    const w = mountIt()
    await flushPromises()
    expect(w.find('[data-testid=elig-register]').exists()).toBe(true)
    expect(w.find('[data-testid=elig-next]').exists()).toBe(false)
    w.unmount()
  })
})
