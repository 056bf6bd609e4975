// Accessible names for icon-only controls: the proof uploader's delete marks say which file they
// delete (and the before-delete confirmation still guards them); Vant's unnamed close icons and
// backspace key get names in the current language.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import { defineComponent, h, ref, nextTick } from 'vue'
import { Popup, Cascader, NumberKeyboard, ActionSheet } from 'vant'
import { i18n, useLocale } from '../src/i18n'
import ApplicationWizard from '../src/views/ApplicationWizard.vue'
import { nameVantControls } from '../src/lib/vantA11y'

const material = (id: string, file_name: string) => ({ id, kind: 'image', content_type: 'image/png', size_bytes: 10, file_name, sha256: '', created_at: '2026-11-24T00:00:00Z' })
function mockServer() {
  const app = {
    id: 'app1', number: 'A1', business_type: 'first', business_type_label: '首次申领', applicant_name: '测试居民', applicant_id_number: '330106********1397',
    applicant_sex: 'male', phone: '139****0000', district_code: '330102', street_code: '330102001', community_code: '330102001001', address_detail: '四宜路61号',
    service_point: { id: 'sp1', name: '清波派出所受理点', address: 'x', phone: '1' }, condition: null, status: 'draft', status_label: '草稿', created_at: '2026-11-24T00:00:00Z',
    materials: [material('m1', '劳动合同.png'), material('m2', '社保缴费证明.png')],
  }
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const u = new URL(url, 'http://x')
    if (u.pathname === '/api/v1/service-points') return new Response('[]', { status: 200 })
    if (u.pathname === '/api/v1/eligibility') return new Response('{"conditions":[]}', { status: 200 })
    if (u.pathname === '/api/v1/applications/app1') return new Response(JSON.stringify(app), { status: 200 })
    if (u.pathname === '/api/v1/regions') return new Response('[]', { status: 200 })
    if (init?.method === 'DELETE') return new Response(null, { status: 204 })
    return new Response('{"code":"not_found","message":"x"}', { status: 404 })
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

afterEach(async () => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
  await useLocale('zh-CN')
})

describe('proof uploader', () => {
  it('names each delete mark after its file and keeps the delete confirmation', async () => {
    const fetchMock = mockServer()
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/apply/:id/edit', component: ApplicationWizard }, { path: '/:p(.*)', component: { template: '<div />' } }] })
    await router.push('/apply/app1/edit?step=2')
    const w = mount(ApplicationWizard, { attachTo: document.body, global: { plugins: [i18n, router], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })
    for (let i = 0; i < 6; i++) await flushPromises()
    const marks = w.findAll('.van-uploader__preview-delete')
    expect(marks.map((m) => m.attributes('aria-label'))).toEqual(['删除 劳动合同.png', '删除 社保缴费证明.png'])
    expect(marks.every((m) => m.attributes('role') === 'button')).toBe(true)
    expect(w.findAll('.van-uploader__preview img').map((i) => i.attributes('alt'))).toEqual(['劳动合同.png', '社保缴费证明.png'])
    expect(w.find('input[type=file]').attributes('aria-label')).toContain('选择证明材料')

    // Deleting the first asks first (before-delete), then the marks follow the remaining file.
    await marks[0].trigger('click')
    await flushPromises()
    const confirm = document.querySelector<HTMLButtonElement>('.van-dialog__confirm')
    expect(confirm).not.toBeNull()
    expect(w.findAll('.van-uploader__preview')).toHaveLength(2)
    confirm!.click()
    for (let i = 0; i < 4; i++) await flushPromises()
    expect(fetchMock.mock.calls.some(([u, init]) => String(u).endsWith('/applications/app1/materials/m1') && init?.method === 'DELETE')).toBe(true)
    expect(w.findAll('.van-uploader__preview-delete').map((m) => m.attributes('aria-label'))).toEqual(['删除 社保缴费证明.png'])

    await useLocale('en')
    for (let i = 0; i < 2; i++) await flushPromises()
    expect(w.find('.van-uploader__preview-delete').attributes('aria-label')).toBe('Delete 社保缴费证明.png')
    w.unmount()
  })
})

describe('Vant icon-only controls', () => {
  it('get names in the current language, and the close icons work from the keyboard', async () => {
    const closed = ref(0)
    const Host = defineComponent({
      setup() {
        const show = ref(true)
        return () => [
          h(Popup, { show: show.value, closeable: true, teleport: null, onClickCloseIcon: () => closed.value++ }, () => h('p', 'popup')),
          h(Cascader, { title: '所在区域', options: [{ text: '上城区', value: '330102' }], closeable: true }),
          h(NumberKeyboard, { show: true, teleport: null, extraKey: 'X' }),
          h(ActionSheet, { show: true, title: '受理点', actions: [{ name: 'a' }], teleport: null }),
        ]
      },
    })
    const w = mount(Host, { attachTo: document.body })
    await nextTick()
    nameVantControls()
    const close = document.querySelector<HTMLElement>('.van-popup__close-icon')!
    expect(close.getAttribute('aria-label')).toBe('关闭')
    close.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }))
    expect(closed.value).toBe(1)
    const cascaderClose = document.querySelector<HTMLElement>('.van-cascader__close-icon')!
    expect(cascaderClose.getAttribute('aria-label')).toBe('关闭')
    expect(cascaderClose.getAttribute('role')).toBe('button')
    expect(cascaderClose.tabIndex).toBe(0)
    expect(document.querySelector('.van-action-sheet__close')?.getAttribute('aria-label')).toBe('关闭')
    expect(document.querySelector('.van-key--delete')?.getAttribute('aria-label')).toBe('删除')
    await useLocale('en')
    nameVantControls()
    expect(close.getAttribute('aria-label')).toBe('Close')
    expect(document.querySelector('.van-key--delete')?.getAttribute('aria-label')).toBe('Backspace')
    w.unmount()
  })
})
