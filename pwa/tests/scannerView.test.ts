// The scanner screen says when the offline lists were refused because the root key changed
// since first use (no root pinned in the build), and keeps showing the lists it had.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n, useLocale } from '../src/i18n'
import Scanner from '../src/views/Scanner.vue'

const store = vi.hoisted(() => new Map<string, unknown>())
vi.mock('idb-keyval', () => ({
  get: async (k: string) => store.get(k),
  set: async (k: string, v: unknown) => void store.set(k, v),
}))
vi.mock('../src/lib/verifierWasm', () => ({
  wasmAvailable: true,
  // Like the real Verifier: the trust list must be signed by the root ("signed-by:<hex>").
  loadVerifier: async () =>
    class {
      constructor(root: Uint8Array, tl: Uint8Array) {
        const hex = [...root].map((x) => x.toString(16).padStart(2, '0')).join('')
        if (new TextDecoder().decode(tl) !== `signed-by:${hex}`) throw new Error('bad signature')
      }
      verify() {
        return '{}'
      }
    },
}))

function serve(root: string) {
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    if (url === '/api/v1/trust-list?format=json') return new Response(JSON.stringify({ root_public_key: root }), { status: 200 })
    if (url === '/api/v1/trust-list') return new Response(`signed-by:${root}`, { status: 200 })
    return new Response('', { status: 404 })
  }))
}
const mountScanner = () => mount(Scanner, { global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })

afterEach(() => {
  vi.unstubAllGlobals()
  vi.unstubAllEnvs()
})

describe('Scanner offline lists', () => {
  it('shows the refusal when the root key changed since first use', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', '')
    await useLocale('zh-CN')
    serve('a1'.repeat(32))
    let w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    expect(w.find('[data-testid=lists-refused]').exists()).toBe(false)
    expect(w.find('[data-testid=lists-at]').text()).toContain('本机核验名单更新于')
    w.unmount()

    serve('b2'.repeat(32))
    w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    const refused = w.find('[data-testid=lists-refused]')
    expect(refused.exists()).toBe(true)
    expect(refused.attributes('role')).toBe('alert')
    expect(refused.attributes('data-reason')).toBe('root_changed')
    expect(refused.text()).toBe('根密钥与首次获取时不一致，已拒绝更新核验名单')
    // The lists fetched first stay in use.
    expect(w.find('[data-testid=lists-at]').text()).toContain('本机核验名单更新于')

    await useLocale('en')
    await flushPromises()
    expect(w.find('[data-testid=lists-refused]').text()).toBe('The root key changed since first use; lists not updated')
    await useLocale('zh-CN')
  })
})
