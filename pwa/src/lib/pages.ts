import { ref, type Ref } from 'vue'

/** One page of a staff list, as the API answers it: the cursor of the next page, if any. */
export interface Page<T> {
  items: T[]
  next_after?: string | null
  next_before?: string | null
}

/**
 * A list read a page at a time (加载更多): `first` loads the first page and forgets the rest,
 * `more` appends the next one. `fetchPage` gets the cursor of the page it should read
 * (`undefined` for the first). While one read runs, another `more` does nothing, so a second
 * tap never appends the same page twice.
 */
export function usePages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  const items = ref([]) as Ref<T[]>
  const next = ref<string | null>(null)
  const loadingMore = ref(false)
  const cursorOf = (p: Page<T>) => p.next_after ?? p.next_before ?? null
  async function first() {
    const page = await fetchPage(undefined)
    items.value = page.items
    next.value = cursorOf(page)
  }
  async function more() {
    if (!next.value || loadingMore.value) return
    loadingMore.value = true
    try {
      const page = await fetchPage(next.value)
      items.value = [...items.value, ...page.items]
      next.value = cursorOf(page)
    } finally {
      loadingMore.value = false
    }
  }
  function clear() {
    items.value = []
    next.value = null
  }
  return { items, next, loadingMore, first, more, clear }
}
