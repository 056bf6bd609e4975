import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import zhCN from 'vant/es/locale/lang/zh-CN'
import zh from './locales/zh-CN'

export type AppLocale = 'zh-CN' | 'en'

// Chinese ships with the app; English, the second language, is fetched the first time someone
// chooses it, so the first load of the default language carries no second copy of every text.
export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh } as Record<AppLocale, typeof zh>,
})

let english: Promise<void> | undefined
function loadEnglish() {
  english ??= Promise.all([import('./locales/en'), import('vant/es/locale/lang/en-US')]).then(([app, vant]) => {
    i18n.global.setLocaleMessage('en', app.default)
    Locale.add({ 'en-US': vant.default })
  })
  return english.catch((e) => {
    english = undefined // offline before the app was cached: try again next time
    throw e
  })
}

/**
 * Switches the app (and Vant's own texts) to `locale`, loading its messages if needed.
 * Returns the language in use afterwards: the current one if English could not be loaded.
 */
export async function useLocale(locale: AppLocale): Promise<AppLocale> {
  try {
    if (locale === 'en') await loadEnglish()
  } catch {
    return i18n.global.locale.value as AppLocale
  }
  i18n.global.locale.value = locale
  if (locale === 'en') Locale.use('en-US')
  else Locale.use('zh-CN', zhCN)
  document.title = i18n.global.t('app.title')
  return locale
}
