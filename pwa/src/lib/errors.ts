import { ApiError } from '../api/client'
import { i18n } from '../i18n'
import { fmtDate } from './format'

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
  username_taken: 'This account name is taken: choose another, and ask for a new SMS code',
  id_number_taken: 'This ID number already has an account: sign in, or, if you did not register it, go to a service-point counter with your ID card',
  rate_limited: 'Too many attempts; please wait',
  materials_required: 'Please upload proof',
  application_exists: 'You have already submitted an application in progress for this ID number',
  application_held_elsewhere: 'Another account has submitted an application for this ID number. If it was not you or your family, go to any service-point counter with your ID card; the clerk can release it',
  nothing_to_release: 'No application that can be released holds this ID number',
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
    if (e.code === 'condition_not_met' && i18n.global.locale.value === 'en') return conditionRefusalEn(e)
    if (i18n.global.locale.value === 'en') return EN[e.code] ?? (e.status >= 500 ? t('err.generic') : e.message)
    return e.message || t('err.generic')
  }
  return t('err.generic')
}

/** Refusals that send the person to a service-point counter with their ID card. */
const COUNTER_CODES = new Set(['application_held_elsewhere', 'id_number_taken'])

/** The advice to show beside the form when a refusal sends the person to a counter, else ''. */
export function counterAdvice(e: unknown): string {
  return e instanceof ApiError && COUNTER_CODES.has(e.code) ? errorText(e) : ''
}

/** Registration says a name or ID number is taken only after checking the SMS code, and that
 * answer spends the code: the form must ask for a new one. */
export function smsCodeSpent(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'username_taken' || e.code === 'id_number_taken')
}

/** condition_not_met in English, from its date and exempt conditions (the message is Chinese). */
function conditionRefusalEn(e: ApiError): string {
  const t = i18n.global.t
  const first = e.eligibleFrom ? t('err.conditionFrom', { date: fmtDate(e.eligibleFrom, 'en') }) : t('err.conditionNoRegistration')
  const exempt = (e.exemptConditions ?? []).map((c) => (i18n.global.te(`cond.${c}`) ? t(`cond.${c}`) : c))
  return exempt.length ? `${first} ${t('err.conditionExempt', { names: exempt.join(', ') })}` : first
}
