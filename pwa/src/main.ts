import { createApp } from 'vue'
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import zhCN from 'vant/es/locale/lang/zh-CN'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import 'vant/es/image-preview/style'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { prefs, applyPrefs } from './lib/prefs'
import { watch } from 'vue'
import { onUnauthenticated } from './api/client'
import { setMe, session } from './lib/session'
import { installVantA11y } from './lib/vantA11y'

function syncLocale() {
  i18n.global.locale.value = prefs.locale
  if (prefs.locale === 'en') Locale.use('en-US', enUS)
  else Locale.use('zh-CN', zhCN)
  document.title = i18n.global.t('app.title')
}
applyPrefs()
syncLocale()
watch(() => prefs.locale, syncLocale)

// When the session ends (logged in elsewhere, expired), go to the login screen.
onUnauthenticated(() => {
  const wasSignedIn = !!session.me
  setMe(null)
  const cur = router.currentRoute.value
  if (wasSignedIn || cur.meta.auth) router.push({ name: 'login', query: { redirect: cur.fullPath } })
})

createApp(App).use(i18n).use(router).mount('#app')
installVantA11y()
