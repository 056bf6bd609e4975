// The scanner screen says when the offline lists were refused because the root key changed
// since first use (no root pinned in the build), and keeps showing the lists it had; it updates
// the lists when the clerk asks, and shows the device's "lists too old" verdict when the server
// cannot be reached either.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n, useLocale } from '../src/i18n'
import Scanner from '../src/views/Scanner.vue'

const store = vi.hoisted(() => new Map<string, unknown>())
const device = vi.hoisted(() => ({ verdict: 'valid' }))
vi.mock('idb-keyval', () => ({
  get: async (k: string) => store.get(k),
  set: async (k: string, v: unknown) => void store.set(k, v),
}))
vi.mock('../src/lib/verifierWasm', () => ({
  wasmAvailable: true,
  // Like the real Verifier: the trust list must be signed by the root ("signed-by:<hex>").
  loadVerifier: async () =>
    class {
      static counterPolicy() {
        return '{}'
      }
      trustListIssuedAt = 1
      statusListIssuedAt = 1
      constructor(root: Uint8Array, tl: Uint8Array) {
        const hex = [...root].map((x) => x.toString(16).padStart(2, '0')).join('')
        if (new TextDecoder().decode(tl) !== `signed-by:${hex}`) throw new Error('bad signature')
      }
      verify() {
        return '{}'
      }
      verifyWithPolicy() {
        const tooOld = device.verdict === 'lists_too_old'
        return JSON.stringify({
          verdict: { verdict: device.verdict },
          warnings: [],
          messages: { verdict: tooOld ? { zh: '本机注销名单太旧，无法核验，请联网更新核验名单后再扫', en: 'the revocation list on this device is too old: go online to update the lists, then scan again' } : { zh: '有效', en: 'valid' }, warnings: [] },
        })
      }
    },
}))

function serve(root: string) {
  const calls: string[] = []
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    calls.push(url)
    if (url === '/api/v1/lists') return new Response(JSON.stringify({ root_public_key: root, trust_list: btoa(`signed-by:${root}`), status_list: btoa('status') }), { status: 200 })
    return new Response('', { status: 404 })
  }))
  return calls
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

    // A new root at the next download (the mount within 30 s of the last one would not ask).
    serve('b2'.repeat(32))
    store.set('verifier:lists', { ...(store.get('verifier:lists') as object), fetchedAt: '2026-01-01T00:00:00.000Z' })
    w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    const refused = w.find('[data-testid=lists-refused]')
    expect(refused.exists()).toBe(true)
    expect(refused.attributes('role')).toBe('alert')
    expect(refused.attributes('data-reason')).toBe('root_changed')
    expect(refused.text()).toBe('根密钥与首次获取时不一致，已拒绝更新核验名单')
    // The lists fetched first stay in use.
    expect(w.find('[data-testid=lists-at]').text()).toContain('本机核验名单更新于 2026-01-01 08:00（北京时间）')

    await useLocale('en')
    await flushPromises()
    expect(w.find('[data-testid=lists-refused]').text()).toBe('The root key changed since first use; lists not updated')
    await useLocale('zh-CN')
  })

  it('updates the lists at once when the clerk asks, though they were fetched seconds ago', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', '')
    await useLocale('zh-CN')
    store.clear()
    const calls = serve('a1'.repeat(32))
    const w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    expect(calls).toEqual(['/api/v1/lists'])
    await w.find('[data-testid=scan-text] textarea').setValue('RP1:X')
    await w.find('[data-testid=scan-verify]').trigger('click')
    for (let i = 0; i < 5; i++) await flushPromises()
    // The scan did not download again (within 30 s), and was decided on the device.
    expect(calls).toEqual(['/api/v1/lists'])
    expect(w.find('[data-testid=verdict]').attributes('data-valid')).toBe('true')
    await w.find('[data-testid=scan-again]').trigger('click')
    await w.find('[data-testid=lists-refresh]').trigger('click')
    for (let i = 0; i < 5; i++) await flushPromises()
    expect(calls).toEqual(['/api/v1/lists', '/api/v1/lists'])
    w.unmount()
  })

  it('shows the device\'s "lists too old" verdict when the server cannot be reached either', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', '')
    await useLocale('zh-CN')
    store.clear()
    serve('a1'.repeat(32))
    const w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    device.verdict = 'lists_too_old'
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    try {
      await w.find('[data-testid=scan-text] textarea').setValue('RP1:X')
      await w.find('[data-testid=scan-verify]').trigger('click')
      for (let i = 0; i < 8; i++) await flushPromises()
      const v = w.find('[data-testid=verdict]')
      expect(v.attributes('data-verdict')).toBe('lists_too_old')
      expect(v.attributes('data-valid')).toBe('false')
      expect(v.text()).toContain('请联网更新核验名单')
    } finally {
      device.verdict = 'valid'
      w.unmount()
    }
  })

  it('asks the server when the device\'s status list is older than the permit', async () => {
    vi.stubEnv('VITE_TRUST_ROOT', '')
    await useLocale('zh-CN')
    store.clear()
    const calls = serve('a1'.repeat(32))
    const w = mountScanner()
    for (let i = 0; i < 5; i++) await flushPromises()
    device.verdict = 'status_index_out_of_range'
    const online = { valid: true, verdict: 'valid', message: '有效', message_en: 'valid', warnings: [], permit: null }
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push(url)
      return url.endsWith('/verifications') ? new Response(JSON.stringify(online), { status: 200, headers: { 'Content-Type': 'application/json' } }) : new Response('', { status: 404 })
    }))
    try {
      await w.find('[data-testid=scan-text] textarea').setValue('RP1:X')
      await w.find('[data-testid=scan-verify]').trigger('click')
      for (let i = 0; i < 8; i++) await flushPromises()
      expect(calls.some((u) => u.endsWith('/verifications'))).toBe(true)
      expect(w.find('[data-testid=verdict]').attributes('data-valid')).toBe('true')
      expect(w.find('[data-testid=verdict-source]').text()).toBe('联网核验结果')
    } finally {
      device.verdict = 'valid'
      w.unmount()
    }
  })
})
