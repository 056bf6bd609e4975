import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import Home from './views/Home.vue'
import { loadMe, session, isStaff } from './lib/session'

// Home is in the entry chunk; every other screen is its own chunk.
const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: Home },
  { path: '/login', name: 'login', component: () => import('./views/Login.vue') },
  { path: '/register', name: 'register', component: () => import('./views/Register.vue') },
  { path: '/apply', name: 'apply', component: () => import('./views/ApplyHub.vue') },
  { path: '/apply/new', name: 'wizard', component: () => import('./views/ApplicationWizard.vue'), meta: { auth: true } },
  { path: '/apply/:id/edit', name: 'wizard-edit', component: () => import('./views/ApplicationWizard.vue'), meta: { auth: true } },
  { path: '/applications', name: 'applications', component: () => import('./views/Applications.vue'), meta: { auth: true } },
  { path: '/applications/:id', name: 'application', component: () => import('./views/ApplicationDetail.vue'), meta: { auth: true } },
  { path: '/applications/:id/book', name: 'book', component: () => import('./views/Booking.vue'), meta: { auth: true } },
  { path: '/residence', name: 'residence', component: () => import('./views/Residence.vue'), meta: { auth: true } },
  { path: '/eligibility', name: 'eligibility', component: () => import('./views/Eligibility.vue'), meta: { auth: true } },
  { path: '/points', name: 'points', component: () => import('./views/ServicePoints.vue') },
  { path: '/articles/:kind(guide|policy)', name: 'articles', component: () => import('./views/Articles.vue') },
  { path: '/article/:id', name: 'article', component: () => import('./views/ArticleDetail.vue') },
  { path: '/notifications', name: 'notifications', component: () => import('./views/Notifications.vue'), meta: { auth: true } },
  { path: '/me', name: 'me', component: () => import('./views/Me.vue') },
  { path: '/me/privacy', name: 'my-privacy', component: () => import('./views/MyPrivacy.vue'), meta: { auth: true } },
  { path: '/privacy-notice', name: 'privacy-notice', component: () => import('./views/PrivacyNoticePage.vue') },
  { path: '/wallet', name: 'wallet', component: () => import('./views/Wallet.vue') },
  { path: '/staff', name: 'staff', component: () => import('./views/staff/StaffQueue.vue'), meta: { auth: true, staff: true } },
  { path: '/staff/review/:id', name: 'staff-review', component: () => import('./views/staff/StaffReview.vue'), meta: { auth: true, staff: true } },
  { path: '/staff/appointments', name: 'staff-appointments', component: () => import('./views/staff/StaffAppointments.vue'), meta: { auth: true, staff: true } },
  { path: '/passkeys', name: 'passkeys', component: () => import('./views/Passkeys.vue'), meta: { auth: true } },
  { path: '/scan', name: 'scan', component: () => import('./views/Scanner.vue') },
  { path: '/staff/real-name', name: 'staff-real-name', component: () => import('./views/staff/StaffRealName.vue'), meta: { auth: true, staff: true } },
  { path: '/staff/release', name: 'staff-release', component: () => import('./views/staff/StaffRelease.vue'), meta: { auth: true, staff: true } },
  { path: '/staff/permits', name: 'staff-permits', component: () => import('./views/staff/StaffPermits.vue'), meta: { auth: true, staff: true } },
  { path: '/staff/units', name: 'staff-units', component: () => import('./views/staff/StaffUnits.vue'), meta: { auth: true, staff: true } },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

router.beforeEach(async (to) => {
  if (!to.meta.auth) return true
  // Start fetching the screen's code while the session is checked, not after.
  for (const r of to.matched) {
    const load = r.components?.default
    if (typeof load === 'function') Promise.resolve().then(() => (load as () => Promise<unknown>)()).catch(() => null)
  }
  // A protected screen always asks the server: the session cookie may exist without the hint.
  const me = session.me ?? (await loadMe(true, true))
  if (!me) return { name: 'login', query: { redirect: to.fullPath } }
  if (to.meta.staff && !isStaff(me)) return { name: 'home' }
  return true
})
