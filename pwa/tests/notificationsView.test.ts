// 消息通知 in English: the titles come from the message kinds (the server writes Chinese).
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n, useLocale } from '../src/i18n'
import Notifications from '../src/views/Notifications.vue'

const inbox = {
  unread: 1,
  items: [
    { id: 'n1', kind: 'review_passed', title: '初审通过', body: '【居住证】您的申请已通过初审', created_at: '2026-12-04T02:00:00Z', read: false },
    { id: 'n2', kind: 'something_new', title: '新消息', body: '正文', created_at: '2026-12-04T03:00:00Z', read: true },
  ],
}
const mountIt = () =>
  mount(Notifications, {
    global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' } }, mocks: { $router: { push: () => {} } } },
  })

afterEach(async () => {
  vi.unstubAllGlobals()
  await useLocale('zh-CN')
})

describe('Notifications', () => {
  it('titles each message from its kind in English, and keeps the server title in Chinese', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(inbox), { status: 200 })))
    await useLocale('en')
    const w = mountIt()
    await flushPromises()
    const titles = w.findAll('[data-testid=notification] strong').map((s) => s.text())
    expect(titles[0]).toBe('Pre-review passed')
    // A kind this version does not know keeps the server's title.
    expect(titles[1]).toBe('新消息')
    await useLocale('zh-CN')
    await flushPromises()
    expect(w.findAll('[data-testid=notification] strong')[0].text()).toBe('初审通过')
  })
})
