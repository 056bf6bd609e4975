// The wallet screen: a permit not yet in the wallet asks for the step-up; one in the wallet
// shows its QR drawn on the device from the credential text, switching full / basic.
import 'fake-indexeddb/auto'
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import Wallet from '../src/views/Wallet.vue'
import { loadWallet, saveWallet } from '../src/lib/wallet'
import { activeAccount } from '../src/lib/vault'
import { setMe, session } from '../src/lib/session'
import type { PermitView } from '../src/api/types'

// IndexedDB (fake-indexeddb) answers on later ticks: let the screen finish loading.
const settle = async () => {
  for (let i = 0; i < 10; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 5))
  }
}


const permit = (over: Partial<PermitView> = {}): PermitView => ({
  id: 'p1', number: '3301022026000001', holder_name: '测试居民', id_number: '330106********1397', district: '浙江省杭州市上城区',
  authority: '杭州市公安局上城区分局', first_issued: '2026-11-27', valid_until: '2027-11-27', endorsement_window_opens: '2027-10-27',
  state: 'valid', state_label: '有效', in_wallet: true, holder_bound: false, ...over,
})
function mockServer(list: PermitView[]) {
  const fetchMock = vi.fn(async (url: string) => {
    const u = new URL(url, 'http://x')
    if (u.pathname === '/api/v1/permits') return new Response(JSON.stringify(list), { status: 200 })
    if (u.pathname.endsWith('/qr')) return new Response(`RP1:${u.searchParams.get('presentation')?.toUpperCase()}TEXT`, { status: 200 })
    if (u.pathname === '/api/v1/passkeys') return new Response('[]', { status: 200 })
    return new Response('{"code":"not_found","message":"x"}', { status: 404 })
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}
const mountWallet = () =>
  mount(Wallet, { global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })

afterEach(() => vi.unstubAllGlobals())

describe('Wallet', () => {
  it('asks for the step-up before the first QR', async () => {
    setMe({ id: 'a1', username: 'u', role: 'resident', real_name: '测试居民', real_name_verified: false, service_points: [], phone_masked: '139****0000' })
    mockServer([permit({ in_wallet: false })])
    const w = mountWallet()
    await settle()
    expect(w.find('[data-testid=step-up]').exists()).toBe(true)
    expect(w.find('[data-testid=permit-qr]').exists()).toBe(false)
    expect(w.text()).toContain('3301022026000001')
  })
  it('says when 网上签注 opens before its window, and offers it once open', async () => {
    setMe({ id: 'a3', username: 'u', role: 'resident', real_name: '测试居民', real_name_verified: true, service_points: [] })
    mockServer([permit({ id: 'p-later', endorsement_window_opens: '2999-10-27' }), permit({ id: 'p-open', number: '3301022026000002', endorsement_window_opens: '2020-10-27' })])
    const w = mountWallet()
    await settle()
    expect(w.find('[data-testid=endorse-later]').text()).toContain('2999年10月27日起可以在这里网上签注')
    expect(w.findAll('[data-testid=endorse]')).toHaveLength(1)
    expect(w.findAll('[data-testid=endorse-later]')).toHaveLength(1)
  })
  it('draws the QR on the device and switches presentation', async () => {
    setMe({ id: 'a2', username: 'u', role: 'resident', real_name: '测试居民', real_name_verified: false, service_points: [] })
    const f = mockServer([permit()])
    const w = mountWallet()
    await settle()
    const qr = w.find('[data-testid=permit-qr]')
    expect(qr.exists()).toBe(true)
    expect(qr.find('svg').exists()).toBe(true)
    expect(['RP1:BASICTEXT', 'RP1:FULLTEXT']).toContain(qr.attributes('data-qr'))
    expect(f.mock.calls.some(([u]) => String(u).includes('/permits/p1/qr?presentation=full&format=text'))).toBe(true)
    expect(w.find('[data-testid=slip]').attributes('href')).toBe('/api/v1/permits/p1/slip.pdf')
    // Kept for offline use.
    expect((await loadWallet('a2'))[0].qr).toEqual({ full: 'RP1:FULLTEXT', basic: 'RP1:BASICTEXT' })
    expect(await activeAccount()).toBe('a2')
  })
  it('shows the kept QR when the network is down', async () => {
    session.loaded = false
    session.me = null
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('offline') }))
    const w = mountWallet()
    await settle()
    expect(w.find('[data-testid=wallet-offline]').exists()).toBe(true)
    expect(w.find('[data-testid=permit-qr] svg').exists()).toBe(true)
  })
  it('shows nothing by itself once nobody is signed in; a wallet left on the phone opens only when asked', async () => {
    setMe(null)
    mockServer([])
    const w = mountWallet()
    await settle()
    expect(w.find('[data-testid=permit-qr]').exists()).toBe(false)
    expect(w.text()).not.toContain('测试居民')
    expect(w.text()).not.toContain('3301022026000001')
    expect(w.find('[data-testid=wallet-kept]').exists()).toBe(true)
    await w.find('[data-testid=show-kept]').trigger('click')
    await settle()
    expect(w.find('[data-testid=wallet-kept-open]').exists()).toBe(true)
    expect(w.find('[data-testid=permit-qr] svg').exists()).toBe(true)
    expect(w.text()).toContain('测试居民')
    // Read-only: nothing that needs a session is offered.
    expect(w.find('[data-testid=endorse]').exists()).toBe(false)
    expect(w.find('[data-testid=claim]').exists()).toBe(false)
  })
  it('never shows a wallet another account kept to the account signed in now', async () => {
    await saveWallet('a-kept', [{ permit: permit({ id: 'pk', holder_name: '另一位居民' }), qr: { basic: 'RP1:KEPT' }, savedAt: '2026-12-01T00:00:00Z' }])
    setMe({ id: 'b1', username: 'b', role: 'resident', real_name: '乙', real_name_verified: false, service_points: [] })
    mockServer([])
    const w = mountWallet()
    await settle()
    expect(w.find('[data-testid=wallet-empty]').exists()).toBe(true)
    expect(w.find('[data-testid=show-kept]').exists()).toBe(false)
    expect(w.text()).not.toContain('另一位居民')
    // Offline, still signed in as b1: b1's (empty) wallet, not the kept one.
    session.loaded = false
    session.me = null
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('offline') }))
    const off = mountWallet()
    await settle()
    expect(off.find('[data-testid=permit-qr]').exists()).toBe(false)
    expect(off.find('[data-testid=show-kept]').exists()).toBe(false)
    expect(off.text()).not.toContain('另一位居民')
  })
})
