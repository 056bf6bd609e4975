// Types of permitd's API (from /openapi.json).
export type Role = 'resident' | 'unit' | 'clerk' | 'admin'
export type Sex = 'male' | 'female'
export type Status =
  | 'draft' | 'submitted' | 'booked' | 'passed' | 'returned' | 'checked_in' | 'issued' | 'cancelled' | 'no_show'
export type BusinessType = 'first' | 'endorsement' | 'renewal' | 'replacement' | 'reapplication'

export interface Me {
  id: string
  username: string
  role: Role
  real_name: string
  id_number_masked?: string
  sex?: Sex
  phone_masked?: string
  region_code?: string
  real_name_verified: boolean
  service_points: string[]
}
export interface Region { code: string; parent_code?: string | null; name: string; name_en?: string | null; level: string }
export interface ServicePoint {
  id: string; number: number; district_code: string; street_code?: string | null; police_station: string
  name: string; scope: string; address: string; phone: string; hours: string; opens_saturday: boolean
  open_weekdays: number[]; sessions: string[]; capacity_morning: number; capacity_afternoon: number
}
export interface ServicePointBrief { id: string; name: string; address: string; phone: string }
export interface Article {
  id: string; slug: string; kind: 'policy' | 'guide'; title: string; title_en?: string | null; summary: string
  body: string; source?: string | null; published_on?: string | null; updated_at: string
}
export interface ResidenceRegistration {
  id: string; person_name: string; id_number: string; district_code: string; street_code: string
  address_detail: string; community_code: string; moved_in_on: string; housing_type: string; registered_on: string
}
export interface ProofOption { case_zh: string; documents_zh: string[] }
export interface ConditionAnswer {
  code: string; name_zh: string; name_en: string; exempt_from_residence: boolean; available_now: boolean; proof: ProofOption[]
}
export interface EligibilityAnswer {
  jurisdiction: string; eligible: boolean; residence_since?: string | null; eligible_from?: string | null
  months_required: number; minor: boolean; lacking: { code: string; message: string; message_en: string }[]
  conditions: ConditionAnswer[]; guardian_proof_zh: string[]
}
export interface MaterialInfo {
  id: string; kind: string; content_type: string; size_bytes: number; file_name: string; sha256: string; created_at: string
}
export interface AppointmentInfo {
  id: string; application_id: string; service_point: ServicePointBrief; date: string; session: string
  session_label: string; business_type: BusinessType; business_type_label: string; applicant_id_number: string
  applicant_name: string; phone: string; status: 'booked' | 'cancelled' | 'released' | 'checked_in' | 'no_show'; handling: string
  /** The application's status as a code (the counter's list after a reload). */
  application_status?: Status
  permit_id?: string | null
  eligibility?: EligibilityVerdict | null
}
/** Whether the chosen condition can be used today (the server's verdict). */
export interface EligibilityVerdict {
  eligible: boolean; exempt: boolean; months_required: number; residence_since?: string | null; eligible_from?: string | null
}
export interface ApplicationDetail {
  id: string; number: string; business_type: BusinessType; business_type_label: string; applicant_name: string
  applicant_id_number: string; applicant_sex: string; phone: string; district_code: string; street_code: string
  address_detail: string; community_code: string; service_point: ServicePointBrief; employer?: string | null
  condition?: string | null; status: Status; status_label: string; review_note?: string | null
  submitted_at?: string | null; reviewed_at?: string | null; created_at: string; materials: MaterialInfo[]
  appointment?: AppointmentInfo | null
  eligibility?: EligibilityVerdict | null
}
export interface ApplicationSummary {
  id: string; number: string; applicant_id_number: string; applicant_name: string; applicant_sex: Sex
  business_type: BusinessType; submitted_at?: string | null; status: Status; status_label: string
  appointment_date?: string | null; appointment_session?: 'morning' | 'afternoon' | null
}
export interface QueueItem extends ApplicationSummary { service_point_id: string; review_due_at?: string | null; overdue: boolean }
export interface ApplicationInput {
  business_type?: BusinessType; applicant_name?: string; applicant_id_number?: string; phone?: string
  district_code?: string; street_code?: string; address_detail?: string; community_code?: string
  service_point_id?: string; employer?: string; condition?: string
}
export interface BookingCalendar {
  application_id: string; service_point: ServicePointBrief; session: 'morning' | 'afternoon'
  review_days: string[]; bookable_days: string[]
  days: { date: string; state: 'holiday' | 'full' | 'unavailable' | 'available'; holiday_name?: string | null; remaining?: number | null; mine: boolean }[]
}
export interface NotificationView {
  id: string; kind: string; title: string; body: string; application_id?: string | null; created_at: string; read: boolean
}
export interface Inbox { unread: number; items: NotificationView[] }
/** A permit as GET /api/v1/permits lists it. */
export interface PermitView {
  id: string; number: string; holder_name: string; id_number: string; district: string; authority: string
  first_issued: string; last_endorsed?: string | null; valid_until: string; endorsement_window_opens: string
  state: 'valid' | 'endorsement_due' | 'suspended' | 'revoked'; state_label: string; revoked_reason?: string | null
  in_wallet: boolean; holder_bound: boolean
}
export interface VerificationResult {
  valid: boolean; verdict: string; message: string; message_en: string; warnings: { code: string; message: string; message_en?: string }[]
  permit?: { permit_number: string; name: string; sex: string; birth_date: string; id_number: string; district: string; authority: string; first_issued: string; last_endorsed?: string | null; valid_until: string; presentation: string } | null
}
/** POST /staff/id-number-releases: the application that held the number, now cancelled. */
export interface IdNumberReleased {
  application_id: string; number: string; status: string; id_number_masked: string
}

// The holder's rights (issue 14).
export interface PrivacyNoticeSection { heading: string; heading_en: string; body: string; body_en: string }
export interface PrivacyNotice {
  version: string; published_on: string; title: string; title_en: string; sections: PrivacyNoticeSection[]
}
export interface PrivacyConsent {
  current_version: string; agreed_version: string | null; agreed_at: string | null; needs_consent: boolean
}
export interface AccessLogEntry {
  at: string; kind: 'staff' | 'verification'; action: string; action_label: string; action_label_en: string
  service_point_name: string | null; verifier_name: string | null
}
export interface AccessLogPage { items: AccessLogEntry[]; next_before: string | null }
