//! The application (预约受理) as the domain sees it: business types, the status lifecycle of
//! docs/product.md §4.3, and the fields of step 1 and step 2.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::booking::calendar::Session;
use crate::identity::model::{IdNumber, PhoneNumber, Sex};

/// Application numbers: the date (China Standard Time) and six random digits, e.g.
/// `JZ20261124042917`.
pub fn new_number(now: DateTime<Utc>) -> String {
    use rand::Rng;
    let n: u32 = rand::thread_rng().gen_range(0..1_000_000);
    format!(
        "JZ{}{n:06}",
        crate::platform::clock::local_date(now).format("%Y%m%d")
    )
}

/// At most this many people per account (the Hangzhou walk-through: 每个账号可以提交5名流动人口的预约申请).
pub const MAX_PEOPLE_PER_ACCOUNT: i64 = 5;
/// At most this many proof files per application.
pub const MAX_MATERIALS: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessType {
    /// 首次申领
    First,
    /// 签注
    Endorsement,
    /// 换领
    Renewal,
    /// 补领
    Replacement,
    /// 再次申领
    Reapplication,
}

impl BusinessType {
    pub fn as_str(self) -> &'static str {
        match self {
            BusinessType::First => "first",
            BusinessType::Endorsement => "endorsement",
            BusinessType::Renewal => "renewal",
            BusinessType::Replacement => "replacement",
            BusinessType::Reapplication => "reapplication",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            BusinessType::First,
            BusinessType::Endorsement,
            BusinessType::Renewal,
            BusinessType::Replacement,
            BusinessType::Reapplication,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            BusinessType::First => "首次申领",
            BusinessType::Endorsement => "签注",
            BusinessType::Renewal => "换领",
            BusinessType::Replacement => "补领",
            BusinessType::Reapplication => "再次申领",
        }
    }
    /// Everything but a first application acts on an existing permit, so the account must be
    /// real-name verified at a counter first.
    pub fn needs_real_name(self) -> bool {
        self != BusinessType::First
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 草稿: steps 1 and 2 in progress.
    Draft,
    /// 已申报: submitted, no appointment yet.
    Submitted,
    /// 已预约，等待初审
    Booked,
    /// 初审通过
    Passed,
    /// 初审退回: fix what the note names, submit and book again.
    Returned,
    /// 已受理
    CheckedIn,
    /// 已签发
    Issued,
    /// 已取消
    Cancelled,
    /// 逾期未到
    NoShow,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Draft,
        Status::Submitted,
        Status::Booked,
        Status::Passed,
        Status::Returned,
        Status::CheckedIn,
        Status::Issued,
        Status::Cancelled,
        Status::NoShow,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Booked => "booked",
            Status::Passed => "passed",
            Status::Returned => "returned",
            Status::CheckedIn => "checked_in",
            Status::Issued => "issued",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已申报，待预约",
            Status::Booked => "已预约，等待初审",
            Status::Passed => "初审通过",
            Status::Returned => "初审退回",
            Status::CheckedIn => "已受理",
            Status::Issued => "已签发",
            Status::Cancelled => "已取消",
            Status::NoShow => "逾期未到",
        }
    }
    /// Steps 1 and 2 and the proof files can be changed: before submission and after a return.
    pub fn is_editable(self) -> bool {
        Transition::Edit.allows(self)
    }
    /// An appointment can be made or moved.
    pub fn is_bookable(self) -> bool {
        Transition::Book.allows(self)
    }
    /// The applicant may still withdraw.
    pub fn is_cancellable(self) -> bool {
        Transition::Cancel.allows(self)
    }
    /// A submitted application in progress holds its person's ID number: no other application
    /// for that person can be submitted (a draft holds nothing). The unique index
    /// `applications_open_id_number` names the same statuses.
    pub fn holds_id_number(self) -> bool {
        matches!(
            self,
            Status::Submitted
                | Status::Booked
                | Status::Passed
                | Status::Returned
                | Status::CheckedIn
        )
    }
    /// The application is over: nothing moves it any more (a returned one may still be
    /// resubmitted, so it has not ended). The moment it got here is its `ended_at`, from which
    /// the retention of its proof files counts.
    pub fn has_ended(self) -> bool {
        Transition::ALL.into_iter().all(|t| !t.allows(self))
    }
    /// `status IN (...)` over the statuses that have ended, for a WHERE clause.
    pub fn sql_ended() -> String {
        format!("status IN ({})", Status::sql_ended_list())
    }
    /// The statuses that have ended as an SQL list (`'issued', ...`).
    pub fn sql_ended_list() -> String {
        let list: Vec<String> = Status::ALL
            .into_iter()
            .filter(|s| s.has_ended())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        list.join(", ")
    }
    /// `status IN (...)` over the statuses that hold an ID number, for a WHERE clause.
    pub fn sql_holding() -> String {
        let list: Vec<String> = Status::ALL
            .into_iter()
            .filter(|s| s.holds_id_number())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("status IN ({})", list.join(", "))
    }
}

/// A draft not submitted within this many days of being started is cancelled by the jobs.
pub const DRAFT_LIFETIME_DAYS: i64 = 30;

/// What moves an application (docs/product.md §4.3). The lifecycle is declared once, in
/// [`Transition::next`]: the services check it, and the SQL that moves a row names exactly the
/// statuses it allows ([`Transition::sql_from`], [`Transition::sql_next`]), so a row the rule
/// forbids is never touched, however many instances race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Steps 1 and 2 or the proof files change; the status stays.
    Edit,
    /// 确认申报.
    Submit,
    /// 现场受理: a clerk files and accepts a walk-in's application at once.
    AdmitWalkIn,
    /// An appointment is made or moved.
    Book,
    /// The applicant gives the appointment back.
    CancelAppointment,
    /// 初审通过.
    Pass,
    /// 初审退回.
    Return,
    /// 已受理 at the counter on the day.
    CheckIn,
    /// The day passed without the applicant.
    MissAppointment,
    /// 已签发: the permit is issued.
    Issue,
    /// The applicant withdraws.
    Cancel,
    /// A draft not submitted in time is cancelled by the jobs.
    Expire,
    /// A counter clerk, having seen the person's ID card, releases their ID number from an
    /// application another account submitted: it is cancelled.
    Release,
}

impl Transition {
    pub const ALL: [Transition; 13] = [
        Transition::Edit,
        Transition::Submit,
        Transition::AdmitWalkIn,
        Transition::Book,
        Transition::CancelAppointment,
        Transition::Pass,
        Transition::Return,
        Transition::CheckIn,
        Transition::MissAppointment,
        Transition::Issue,
        Transition::Cancel,
        Transition::Expire,
        Transition::Release,
    ];

    /// The status after the transition from `from`, or `None` when the rule forbids it.
    pub fn next(self, from: Status) -> Option<Status> {
        use Status::*;
        use Transition as T;
        match (self, from) {
            (T::Edit, Draft | Returned) => Some(from),
            (T::Submit, Draft | Returned) => Some(Submitted),
            (T::AdmitWalkIn, Draft) => Some(CheckedIn),
            (T::Book, Submitted | Booked) => Some(Booked),
            // A passed application keeps its pre-review when the day moves.
            (T::Book, Passed) => Some(Passed),
            (T::CancelAppointment, Booked) => Some(Submitted),
            (T::CancelAppointment, Passed) => Some(Passed),
            (T::Pass, Booked) => Some(Passed),
            (T::Return, Submitted | Booked) => Some(Returned),
            (T::CheckIn, Booked | Passed) => Some(CheckedIn),
            (T::MissAppointment, Booked | Passed) => Some(NoShow),
            (T::Issue, CheckedIn) => Some(Issued),
            (T::Cancel, Draft | Submitted | Booked | Passed | Returned) => Some(Cancelled),
            (T::Expire, Draft) => Some(Cancelled),
            // Accepted at the counter (checked in) means a clerk saw the originals: not released.
            (T::Release, Submitted | Booked | Passed | Returned) => Some(Cancelled),
            _ => None,
        }
    }

    pub fn allows(self, from: Status) -> bool {
        self.next(from).is_some()
    }

    /// The statuses the transition starts from.
    pub fn sources(self) -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(move |s| self.allows(*s))
    }

    /// `status IN (...)` over the statuses the transition starts from, for a WHERE clause.
    pub fn sql_from(self) -> String {
        let list: Vec<String> = self
            .sources()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("status IN ({})", list.join(", "))
    }

    /// The status after the transition, as an SQL expression over the row's `status` (for rows
    /// that [`Transition::sql_from`] selected).
    pub fn sql_next(self) -> String {
        let targets: Vec<(Status, Status)> = self
            .sources()
            .filter_map(|s| self.next(s).map(|n| (s, n)))
            .collect();
        match targets.first() {
            Some((_, first)) if targets.iter().all(|(_, n)| n == first) => {
                format!("'{}'", first.as_str())
            }
            _ => {
                let arms: Vec<String> = targets
                    .iter()
                    .map(|(s, n)| format!("WHEN '{}' THEN '{}'", s.as_str(), n.as_str()))
                    .collect();
                format!("CASE status {} ELSE status END", arms.join(" "))
            }
        }
    }
}

/// What steps 1 and 2 collect, already checked.
#[derive(Debug, Clone)]
pub struct ApplicationFields {
    pub business_type: BusinessType,
    pub applicant_name: String,
    pub applicant_id_number: IdNumber,
    pub applicant_sex: Sex,
    /// Where SMS notices go.
    pub phone: PhoneNumber,
    pub district_code: String,
    pub street_code: String,
    pub address_detail: String,
    pub community_code: String,
    pub service_point_id: Uuid,
    pub employer: Option<String>,
    /// The one 申领条件 chosen in step 2 (a policy condition code).
    pub condition: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: Uuid,
    pub number: String,
    pub account_id: Uuid,
    pub fields: ApplicationFields,
    pub status: Status,
    pub review_note: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    /// Cancelled or moved by the applicant.
    Cancelled,
    /// Given back when pre-review returned the application.
    Released,
    CheckedIn,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Released => "released",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::NoShow => "no_show",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            AppointmentStatus::Booked,
            AppointmentStatus::Cancelled,
            AppointmentStatus::Released,
            AppointmentStatus::CheckedIn,
            AppointmentStatus::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Appointment {
    pub id: Uuid,
    pub application_id: Uuid,
    pub service_point_id: Uuid,
    pub day: NaiveDate,
    pub session: Session,
    pub status: AppointmentStatus,
    pub created_at: DateTime<Utc>,
}

/// A proof file as stored: the bytes live in object storage under `object_key`.
#[derive(Debug, Clone)]
pub struct Material {
    pub id: Uuid,
    pub application_id: Uuid,
    pub object_key: String,
    pub kind: crate::casework::materials::content::MaterialKind,
    pub size_bytes: i64,
    pub file_name: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// The pre-review decision (初审).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Pass,
    Return,
}

/// The service points a staff member acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffScope {
    /// An administrator: every service point.
    All,
    /// A clerk's own points (none for residents and units).
    Points(Vec<Uuid>),
}

impl StaffScope {
    pub fn covers(&self, service_point_id: Uuid) -> bool {
        match self {
            StaffScope::All => true,
            StaffScope::Points(points) => points.contains(&service_point_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn issued_cancelled_and_no_show_are_the_ends() {
        let ended: Vec<Status> = Status::ALL.into_iter().filter(|s| s.has_ended()).collect();
        assert_eq!(ended, vec![Issued, Cancelled, NoShow]);
        assert_eq!(
            Status::sql_ended(),
            "status IN ('issued', 'cancelled', 'no_show')"
        );
    }

    /// Every allowed transition, written out by hand from docs/product.md §4.3; anything not listed is
    /// forbidden.
    const ALLOWED: &[(Transition, Status, Status)] = &[
        (Transition::Edit, Draft, Draft),
        (Transition::Edit, Returned, Returned),
        (Transition::Submit, Draft, Submitted),
        (Transition::Submit, Returned, Submitted),
        (Transition::AdmitWalkIn, Draft, CheckedIn),
        (Transition::Book, Submitted, Booked),
        (Transition::Book, Booked, Booked),
        (Transition::Book, Passed, Passed),
        (Transition::CancelAppointment, Booked, Submitted),
        (Transition::CancelAppointment, Passed, Passed),
        (Transition::Pass, Booked, Passed),
        (Transition::Return, Submitted, Returned),
        (Transition::Return, Booked, Returned),
        (Transition::CheckIn, Booked, CheckedIn),
        (Transition::CheckIn, Passed, CheckedIn),
        (Transition::MissAppointment, Booked, NoShow),
        (Transition::MissAppointment, Passed, NoShow),
        (Transition::Issue, CheckedIn, Issued),
        (Transition::Cancel, Draft, Cancelled),
        (Transition::Cancel, Submitted, Cancelled),
        (Transition::Cancel, Booked, Cancelled),
        (Transition::Cancel, Passed, Cancelled),
        (Transition::Cancel, Returned, Cancelled),
        (Transition::Expire, Draft, Cancelled),
        (Transition::Release, Submitted, Cancelled),
        (Transition::Release, Booked, Cancelled),
        (Transition::Release, Passed, Cancelled),
        (Transition::Release, Returned, Cancelled),
    ];

    #[test]
    fn every_transition_from_every_status_is_allowed_or_forbidden_as_declared() {
        let mut checked = 0;
        for t in Transition::ALL {
            for from in Status::ALL {
                let want = ALLOWED
                    .iter()
                    .find(|(at, af, _)| *at == t && *af == from)
                    .map(|(_, _, to)| *to);
                assert_eq!(t.next(from), want, "{t:?} from {from:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 13 * 9);
    }

    #[test]
    fn nothing_leaves_an_issued_or_cancelled_application_or_a_no_show() {
        for t in Transition::ALL {
            for end in [Issued, Cancelled, NoShow] {
                assert!(!t.allows(end), "{t:?} from {end:?}");
            }
        }
    }

    #[test]
    fn the_sql_names_exactly_the_declared_statuses() {
        assert_eq!(
            Transition::Edit.sql_from(),
            "status IN ('draft', 'returned')"
        );
        assert_eq!(Transition::Submit.sql_next(), "'submitted'");
        assert_eq!(
            Transition::Cancel.sql_from(),
            "status IN ('draft', 'submitted', 'booked', 'passed', 'returned')"
        );
        assert_eq!(
            Transition::Book.sql_next(),
            "CASE status WHEN 'submitted' THEN 'booked' WHEN 'booked' THEN 'booked' \
             WHEN 'passed' THEN 'passed' ELSE status END"
        );
        assert_eq!(
            Transition::CancelAppointment.sql_next(),
            "CASE status WHEN 'booked' THEN 'submitted' WHEN 'passed' THEN 'passed' ELSE status END"
        );
        // Every status a SQL list names parses back, and round-trips through the rule.
        for t in Transition::ALL {
            for s in t.sources() {
                assert_eq!(Status::parse(s.as_str()), Some(s));
                assert!(t.sql_from().contains(&format!("'{}'", s.as_str())));
            }
        }
    }

    #[test]
    fn only_a_submitted_application_in_progress_holds_an_id_number_as_the_index_does() {
        assert_eq!(
            Status::sql_holding(),
            "status IN ('submitted', 'booked', 'passed', 'returned', 'checked_in')"
        );
        for db in ["sqlite", "postgres"] {
            let migration = std::fs::read_to_string(format!(
                "{}/../migrations/{db}/20261203040001_open_applications.sql",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            assert!(
                migration.contains(&format!("WHERE {}", Status::sql_holding())),
                "{db} index names the same statuses"
            );
        }
        assert!(!Draft.holds_id_number());
        // What a clerk can release is exactly what holds an ID number, but for a checked-in one.
        for s in Status::ALL {
            assert_eq!(
                Transition::Release.allows(s),
                s.holds_id_number() && s != CheckedIn,
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_status_helpers_follow_the_transitions() {
        for s in Status::ALL {
            assert_eq!(s.is_editable(), matches!(s, Draft | Returned), "{s:?}");
            assert_eq!(
                s.is_bookable(),
                matches!(s, Submitted | Booked | Passed),
                "{s:?}"
            );
            assert_eq!(
                s.is_cancellable(),
                matches!(s, Draft | Submitted | Booked | Passed | Returned),
                "{s:?}"
            );
        }
    }
}

/// Whether the application's chosen condition can be used on a day: the Zhejiang manual §4.3
/// (a residence period counted from the residence registration, except for the exempt
/// conditions). Only a first application and a reapplication are held to it: a renewal,
/// endorsement or replacement belongs to someone who already holds or held a permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionVerdict {
    /// The condition can be used that day.
    pub eligible: bool,
    /// The condition needs no residence period (special talent, investment).
    pub exempt: bool,
    pub residence_since: Option<NaiveDate>,
    /// The first day the residence period is met.
    pub eligible_from: Option<NaiveDate>,
    pub months_required: u32,
    /// What the applicant lacks, when the condition cannot be used (the policy's own words).
    pub lack: Option<crate::residence::eligibility::Lack>,
    /// The policy's conditions that need no residence period: (code, Chinese name).
    pub exempt_conditions: Vec<(String, String)>,
}

impl ConditionVerdict {
    pub fn of(
        assessment: &crate::residence::eligibility::Assessment,
        business: BusinessType,
        condition: &str,
    ) -> ConditionVerdict {
        let exempt_conditions: Vec<(String, String)> = assessment
            .conditions
            .iter()
            .filter(|c| c.exempt_from_residence)
            .map(|c| (c.code.clone(), c.name_zh.clone()))
            .collect();
        let exempt = exempt_conditions.iter().any(|(code, _)| code == condition);
        let held_to_residence =
            matches!(business, BusinessType::First | BusinessType::Reapplication);
        let eligible = exempt || assessment.eligible || !held_to_residence;
        ConditionVerdict {
            eligible,
            exempt,
            residence_since: assessment.residence_since,
            eligible_from: assessment.eligible_from,
            months_required: assessment.months_required,
            lack: assessment.lacking.first().cloned().filter(|_| !eligible),
            exempt_conditions,
        }
    }
}

#[cfg(test)]
mod condition_verdict_tests {
    use super::*;
    use crate::residence::eligibility::{Facts, assess, zhejiang};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn verdict(
        registered_on: Option<&str>,
        business: BusinessType,
        condition: &str,
    ) -> ConditionVerdict {
        let facts = Facts {
            today: d("2026-12-04"),
            birth_date: d("1990-05-01"),
            registered_on: registered_on.map(d),
        };
        ConditionVerdict::of(&assess(&zhejiang(), &facts), business, condition)
    }

    #[test]
    fn employment_waits_for_six_months_of_registered_residence() {
        let v = verdict(Some("2026-06-05"), BusinessType::First, "employment");
        assert!(!v.eligible);
        assert!(!v.exempt);
        assert_eq!(v.eligible_from, Some(d("2026-12-05")));
        assert_eq!(v.exempt_conditions[0].0, "talent");
        assert_eq!(
            v.lack.as_ref().map(|l| l.code()),
            Some("residence_too_short")
        );
        assert!(verdict(Some("2026-06-04"), BusinessType::First, "employment").eligible);
        let none = verdict(None, BusinessType::Reapplication, "residence");
        assert!(!none.eligible);
        assert_eq!(none.eligible_from, None);
    }

    #[test]
    fn talent_and_holders_of_a_permit_are_not_held_to_the_period() {
        let talent = verdict(None, BusinessType::First, "talent");
        assert!(talent.eligible && talent.exempt);
        assert_eq!(talent.lack, None);
        for business in [
            BusinessType::Renewal,
            BusinessType::Replacement,
            BusinessType::Endorsement,
        ] {
            assert!(
                verdict(None, business, "employment").eligible,
                "{business:?}"
            );
        }
    }
}
