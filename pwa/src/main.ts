import { createApp } from 'vue'
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import 'vant/es/notify/style'
import 'vant/es/image-preview/style'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n, useLocale } from './i18n'
import { prefs, applyPrefs } from './lib/prefs'
import { watch } from 'vue'
import { onUnauthenticated } from './api/client'
import { setMe, session } from './lib/session'
import { installVantA11y } from './lib/vantA11y'

applyPrefs()
watch(
  () => prefs.locale,
  async (wanted) => {
    const inUse = await useLocale(wanted)
    if (inUse !== wanted) prefs.locale = inUse
  },
)

// When the session ends (logged in elsewhere, expired), go to the login screen.
onUnauthenticated(() => {
  const wasSignedIn = !!session.me
  setMe(null)
  const cur = router.currentRoute.value
  if (wasSignedIn || cur.meta.auth) router.push({ name: 'login', query: { redirect: cur.fullPath } })
})

// Someone who chose English sees English from the first paint (Chinese needs no wait).
void useLocale(prefs.locale).then((inUse) => {
  prefs.locale = inUse
  createApp(App).use(i18n).use(router).mount('#app')
  installVantA11y()
})
