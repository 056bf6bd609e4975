import { ApiError } from '../api/client'
import { i18n } from '../i18n'

// English texts for the server's stable error codes (its messages are Chinese).
const EN: Record<string, string> = {
  invalid_credentials: 'Wrong account name or password',
  sms_code_required: 'Enter the SMS code sent to your phone',
  invalid_sms_code: 'The SMS code is wrong or expired',
  invalid_captcha: 'Verification failed; please retry',
  captcha_required: 'Please wait for the automatic verification',
  captcha_replayed: 'Verification already used; please retry',
  sms_code_exhausted: 'Too many wrong codes; please get a new one',
  too_many_attempts: 'Too many failed attempts; please wait',
  busy: 'The service is busy; please try again shortly',
  invalid_id_number: 'The ID number is not valid',
  username_taken: 'This account name is taken',
  id_number_taken: 'This ID number already has an account',
  rate_limited: 'Too many attempts; please wait',
  materials_required: 'Please upload proof',
  application_exists: 'This ID number already has an application in progress',
  not_bookable: 'This application cannot be booked now',
  day_full: 'That day is fully booked',
  not_found: 'Not found',
  forbidden: 'Not allowed',
  unauthenticated: 'Please log in',
}

/** A sentence for people, in the current language, from any error. */
export function errorText(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof ApiError) {
    if (e.isNetwork) return t('err.network')
    if (i18n.global.locale.value === 'en') return EN[e.code] ?? (e.status >= 500 ? t('err.generic') : e.message)
    return e.message || t('err.generic')
  }
  return t('err.generic')
}
