import { createI18n } from 'vue-i18n'
import zh from './locales/zh-CN'
import en from './locales/en'
import { prefs } from './lib/prefs'

export const i18n = createI18n({
  legacy: false,
  locale: prefs.locale,
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})
