import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { parseMarkdown } from '../src/lib/markdown'
import MarkdownView from '../src/components/MarkdownView.vue'

describe('article markdown', () => {
  it('parses headings, lists, paragraphs and bold', () => {
    const b = parseMarkdown('## 办理条件\n\n在本市居住**半年以上**，并且：\n\n- 合法稳定就业\n- 连续就读\n\n1. 第一步\n2. 第二步')
    expect(b[0]).toEqual({ kind: 'heading', level: 3, inline: [{ text: '办理条件', bold: false }] })
    expect(b[1]).toMatchObject({ kind: 'para', inline: [{ text: '在本市居住', bold: false }, { text: '半年以上', bold: true }, { text: '，并且：', bold: false }] })
    expect(b[2]).toMatchObject({ kind: 'list', ordered: false, items: [[{ text: '合法稳定就业' }], [{ text: '连续就读' }]] })
    expect(b[3]).toMatchObject({ kind: 'list', ordered: true })
  })
  it('never shows raw "## " and never renders HTML from the article', () => {
    const w = mount(MarkdownView, { props: { source: '## 标题\n<img src=x onerror=alert(1)> 文字' } })
    expect(w.text()).not.toContain('## ')
    expect(w.find('h3').text()).toBe('标题')
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('p').text()).toContain('<img src=x onerror=alert(1)>')
  })
})
