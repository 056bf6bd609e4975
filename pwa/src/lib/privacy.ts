// The privacy notice and the account's consent to it (GET /privacy-notice, /me/privacy-consent).
import { reactive } from 'vue'
import { api, ApiError } from '../api/client'
import type { PrivacyConsent, PrivacyNotice } from '../api/types'

/** The current notice, or null when this server has none (an older permitd). */
export async function fetchNotice(): Promise<PrivacyNotice | null> {
  try {
    return await api<PrivacyNotice>('/privacy-notice')
  } catch (e) {
    if (e instanceof ApiError && e.isMissingEndpoint) return null
    throw e
  }
}

/** Whether the signed-in account must agree to a newer notice (App.vue asks it full screen). */
export const consentPrompt = reactive<{ needed: boolean; accountId: string | null }>({ needed: false, accountId: null })

/** Asks the server for the account's consent; a server without the endpoint needs none. */
export async function checkConsent(accountId: string): Promise<PrivacyConsent | null> {
  try {
    const c = await api<PrivacyConsent>('/me/privacy-consent')
    consentPrompt.accountId = accountId
    consentPrompt.needed = c.needs_consent
    return c
  } catch {
    // Offline, staff without consent records, or an older server: do not block the app.
    return null
  }
}

export async function agree(version: string): Promise<void> {
  await api('/me/privacy-consent', { method: 'POST', body: { version } })
  consentPrompt.needed = false
}
