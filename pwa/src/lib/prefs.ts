// User preferences kept on the device: language and large text.
import { reactive, watch } from 'vue'

const KEY = 'permit.prefs'
type Prefs = { locale: 'zh-CN' | 'en'; largeText: boolean }
function load(): Prefs {
  try {
    const p = JSON.parse(localStorage.getItem(KEY) ?? '{}')
    return { locale: p.locale === 'en' ? 'en' : 'zh-CN', largeText: !!p.largeText }
  } catch {
    return { locale: 'zh-CN', largeText: false }
  }
}
export const prefs = reactive<Prefs>(load())

export function applyPrefs() {
  const root = document.documentElement
  root.classList.toggle('large-text', prefs.largeText)
  root.lang = prefs.locale
}
watch(
  prefs,
  () => {
    try {
      localStorage.setItem(KEY, JSON.stringify(prefs))
    } catch {
      /* private mode: keep in memory */
    }
    applyPrefs()
  },
  { deep: true },
)
