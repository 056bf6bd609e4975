// The online verification sends the verifying organisation's name when one is typed (the
// holder sees it in their access log), and nothing when the field is left empty.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { i18n, useLocale } from '../src/i18n'
import Scanner from '../src/views/Scanner.vue'

vi.mock('idb-keyval', () => ({ get: async () => undefined, set: async () => undefined }))
// A build without the wasm verifier: every check goes to the server.
vi.mock('../src/lib/verifierWasm', () => ({ wasmAvailable: false, loadVerifier: async () => null }))

const bodies: unknown[] = []
function serve() {
  vi.stubGlobal('fetch', vi.fn(async (_url: string, init: RequestInit = {}) => {
    bodies.push(JSON.parse(String(init.body)))
    return new Response(JSON.stringify({ valid: true, verdict: 'valid', warnings: [], permit: null }), { status: 200 })
  }))
}
const mountScanner = () => mount(Scanner, { global: { plugins: [i18n], stubs: { PageLayout: { template: '<div><slot /></div>' } } } })

afterEach(() => {
  vi.unstubAllGlobals()
  bodies.length = 0
  localStorage.clear()
})

describe('Scanner: 核验单位名称', () => {
  it('sends the trimmed name with the online verification, and remembers it on the device', async () => {
    await useLocale('zh-CN')
    serve()
    const w = mountScanner()
    const field = w.get('[data-testid=verifier-name] input')
    expect(w.get('[data-testid=verifier-name]').text()).toContain('核验单位名称')
    await field.setValue('  西湖宾馆前台  ')
    await w.get('[data-testid=scan-text] textarea').setValue('RP1:TEXT')
    await w.get('[data-testid=scan-verify]').trigger('click')
    await flushPromises()
    expect(bodies).toEqual([{ qr_text: 'RP1:TEXT', verifier_name: '西湖宾馆前台' }])
    expect(localStorage.getItem('scan:verifier-name')).toBe('西湖宾馆前台')
    w.unmount()
    expect(mountScanner().get('[data-testid=verifier-name] input').element).toHaveProperty('value', '西湖宾馆前台')
  })
  it('sends no name when none is given', async () => {
    serve()
    const w = mountScanner()
    await w.get('[data-testid=scan-text] textarea').setValue('RP1:TEXT')
    await w.get('[data-testid=scan-verify]').trigger('click')
    await flushPromises()
    expect(bodies).toEqual([{ qr_text: 'RP1:TEXT' }])
  })
})
