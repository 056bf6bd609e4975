import { describe, it, expect } from 'vitest'
import { mount } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import { Button } from 'vant'
import zh from '../src/locales/zh-CN'
import LoadMore from '../src/components/LoadMore.vue'
import { usePages, type Page } from '../src/lib/pages'

const i18n = () => createI18n({ legacy: false, locale: 'zh-CN', messages: { 'zh-CN': zh } })

/** A list of `rows` served `size` at a time, with the cursor the API would give. */
function server(rows: string[], size: number) {
  const asked: (string | undefined)[] = []
  const fetchPage = async (cursor: string | undefined): Promise<Page<string>> => {
    asked.push(cursor)
    const from = cursor ? rows.indexOf(cursor) + 1 : 0
    const items = rows.slice(from, from + size)
    return { items, next_after: from + size < rows.length ? items[items.length - 1] : undefined }
  }
  return { asked, fetchPage }
}

describe('usePages (加载更多)', () => {
  it('appends each next page once, in order, and stops at the last', async () => {
    const rows = ['a', 'b', 'c', 'd', 'e']
    const s = server(rows, 2)
    const pages = usePages(s.fetchPage)
    await pages.first()
    expect(pages.items.value).toEqual(['a', 'b'])
    expect(pages.next.value).toBe('b')
    // Two taps while the page loads read it once.
    await Promise.all([pages.more(), pages.more()])
    expect(pages.items.value).toEqual(['a', 'b', 'c', 'd'])
    await pages.more()
    expect(pages.items.value).toEqual(rows)
    expect(pages.next.value).toBeNull()
    await pages.more()
    expect(s.asked).toEqual([undefined, 'b', 'd'])
  })
  it('reads next_before like next_after, and first() starts over', async () => {
    const pages = usePages(async (before) => (before ? { items: ['old'] } : { items: ['new'], next_before: 'new' }))
    await pages.first()
    await pages.more()
    expect(pages.items.value).toEqual(['new', 'old'])
    await pages.first()
    expect(pages.items.value).toEqual(['new'])
    expect(pages.next.value).toBe('new')
  })
})

describe('LoadMore', () => {
  it('shows 加载更多 only while there is a next page, and asks for it', async () => {
    const w = mount(LoadMore, { props: { next: 'c1', loading: false }, global: { plugins: [i18n()], components: { VanButton: Button } } })
    expect(w.text()).toContain('加载更多')
    await w.find('[data-testid="load-more"]').trigger('click')
    expect(w.emitted('more')).toHaveLength(1)
    await w.setProps({ next: null })
    expect(w.find('[data-testid="load-more"]').exists()).toBe(false)
  })
})
