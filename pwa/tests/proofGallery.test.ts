import { describe, it, expect } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import zh from '../src/locales/zh-CN'
import ProofGallery from '../src/components/ProofGallery.vue'
import type { MaterialInfo } from '../src/api/types'

const i18n = () => createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zh } })
const material = (id: string, kind: string, file_name: string): MaterialInfo => ({
  id, kind, file_name, content_type: kind === 'pdf' ? 'application/pdf' : `image/${kind}`, size_bytes: 1000, sha256: '00', created_at: '2026-11-24T08:00:00Z',
})
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('ProofGallery', () => {
  it('opens a photo full screen, and a keyboard closes it with Escape and finds its place again', async () => {
    const w = mount(ProofGallery, {
      attachTo: document.body,
      global: { plugins: [i18n()] },
      props: {
        applicationId: 'app-1',
        materials: [material('m1', 'jpeg', '劳动合同.jpg'), material('m2', 'pdf', '社保.pdf'), material('m3', 'png', '租房合同.png')],
        size: 96,
        photoLabel: (m: MaterialInfo, n: number) => `材料 ${n}: ${m.file_name}`,
        pdfLabel: (m: MaterialInfo) => `PDF ${m.file_name}`,
      },
    })
    const thumbs = w.findAll('button.proof-thumb')
    expect(thumbs.map((b) => b.attributes('aria-label'))).toEqual(['劳动合同.jpg', '租房合同.png'])
    expect(w.find('img').attributes('src')).toBe('/api/v1/applications/app-1/materials/m1')
    expect(w.find('a').attributes('href')).toBe('/api/v1/applications/app-1/materials/m2')
    expect(w.find('a').text()).toBe('PDF 社保.pdf')

    const opener = thumbs[1]!.element as HTMLButtonElement
    opener.focus()
    await thumbs[1]!.trigger('click')
    await flushPromises()
    const dialog = document.querySelector<HTMLElement>('.van-image-preview')!
    expect(dialog).not.toBeNull()
    expect(dialog.getAttribute('aria-label')).toBe('图片预览')
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    const close = dialog.querySelector<HTMLElement>('.van-image-preview__close-icon')!
    expect(document.activeElement).toBe(close)
    expect(close.getAttribute('aria-label')).toBe('关闭')
    // It opens on the photo that was chosen (the second photo, not the PDF).
    expect(dialog.querySelector('.van-image-preview__index')?.textContent).toBe('2 / 2')

    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    await flushPromises()
    await wait(400)
    expect(document.activeElement).toBe(opener)
    expect(getComputedStyle(dialog).display).toBe('none')
    w.unmount()
  })
})
