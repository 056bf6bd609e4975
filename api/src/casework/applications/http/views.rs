//! How the API shows an application: the input of steps 1 and 2 and its checks, the list row,
//! the detail and the appointment; shared with the counter, booking and credentials endpoints.

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::casework::materials::http::MaterialInfo;
use crate::casework::service::{self, CaseworkError};
use crate::identity::auth::SessionAuth;
use crate::identity::http::views::SexView;
use crate::identity::model::Role;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::api_enum;
use crate::residence::http::{Address, person_or_holder};

use crate::casework::applications::model::{
    Application, ApplicationFields, Appointment, AppointmentStatus, BusinessType, ConditionVerdict,
    Decision, MAX_PEOPLE_PER_ACCOUNT, StaffScope, Status,
};
use crate::platform::text::{Nullable, Text};

api_enum!(BusinessTypeView as "BusinessType" mirrors BusinessType {
    First,
    Endorsement,
    Renewal,
    Replacement,
    Reapplication,
});
api_enum!(StatusView as "Status" mirrors Status {
    Draft,
    Submitted,
    Booked,
    Passed,
    Returned,
    CheckedIn,
    Issued,
    Cancelled,
    NoShow,
});
api_enum!(AppointmentStatusView as "AppointmentStatus" mirrors AppointmentStatus {
    Booked,
    Cancelled,
    Released,
    CheckedIn,
    NoShow,
});
api_enum!(
    /// The pre-review decision (初审).
    DecisionView as "Decision" mirrors Decision { Pass, Return }
);

/// Step 1 and step 2 as sent. On create, absent applicant fields mean the account holder; on
/// PATCH, absent fields keep their value.
#[derive(Debug, Clone, Default, Object)]
pub struct ApplicationInput {
    /// `first` (default), `endorsement`, `renewal`, `replacement`, `reapplication`.
    pub business_type: Option<BusinessTypeView>,
    pub applicant_name: Nullable<Text>,
    pub applicant_id_number: Nullable<Text>,
    /// The applicant's phone for SMS; the account's phone when absent.
    pub phone: Nullable<Text>,
    pub district_code: Nullable<Text>,
    pub street_code: Nullable<Text>,
    pub address_detail: Nullable<Text>,
    pub community_code: Nullable<Text>,
    /// The 受理网点 (police station) where the applicant will go.
    pub service_point_id: Option<Uuid>,
    /// 服务单位, when the applicant works locally.
    pub employer: Nullable<Text>,
    /// Step 2: the one 申领条件 (`employment`, `residence`, `study`, `talent`).
    pub condition: Nullable<Text>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ServicePointBrief {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub phone: String,
}

/// 预约情况 (the Zhejiang manual §3.2.3).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct AppointmentInfo {
    pub id: Uuid,
    pub application_id: Uuid,
    pub service_point: ServicePointBrief,
    pub date: chrono::NaiveDate,
    /// `morning` or `afternoon`.
    pub session: String,
    pub session_label: String,
    pub business_type: BusinessTypeView,
    pub business_type_label: String,
    pub applicant_id_number: String,
    pub applicant_name: String,
    pub phone: String,
    pub status: AppointmentStatusView,
    /// 预约处理情况, the application's status in words.
    pub handling: String,
    /// The application's status, as a code (clients translate it; `handling` is Chinese).
    pub application_status: StatusView,
    /// The counter's list: the permit issued for the application (its slip's link).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permit_id: Option<Uuid>,
    /// The counter's list: whether the chosen condition can be used today.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<EligibilityVerdict>,
}

/// Whether the application's chosen condition can be used today (the residence period of the
/// policy, counted from the residence registration, or a condition exempt from it).
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct EligibilityVerdict {
    pub eligible: bool,
    /// The chosen condition needs no residence period.
    pub exempt: bool,
    /// The earliest residence registration of the applicant by this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residence_since: Option<chrono::NaiveDate>,
    /// The first day the residence period is met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_from: Option<chrono::NaiveDate>,
    pub months_required: u32,
}

impl From<ConditionVerdict> for EligibilityVerdict {
    fn from(v: ConditionVerdict) -> Self {
        EligibilityVerdict {
            eligible: v.eligible,
            exempt: v.exempt,
            residence_since: v.residence_since,
            eligible_from: v.eligible_from,
            months_required: v.months_required,
        }
    }
}

/// The verdict on `today` (China Standard Time) for the application's chosen condition.
pub async fn eligibility(
    state: &AppState,
    a: &Application,
) -> Result<Option<EligibilityVerdict>, ApiError> {
    let today = crate::platform::clock::local_date(state.clock.now());
    let verdict = service::condition_verdict(&*state.storage, &state.policy, a, today).await?;
    Ok(verdict.map(EligibilityVerdict::from))
}

/// A row of 我的预约 (the Zhejiang manual §3.3).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationSummary {
    pub id: Uuid,
    pub number: String,
    /// Masked.
    pub applicant_id_number: String,
    pub applicant_name: String,
    pub applicant_sex: SexView,
    pub business_type: BusinessTypeView,
    pub submitted_at: Option<DateTime<Utc>>,
    pub status: StatusView,
    pub status_label: String,
    /// The current appointment's day (booked, checked in or missed), when there is one.
    pub appointment_date: Option<chrono::NaiveDate>,
    /// `morning` or `afternoon`, with `appointment_date`.
    pub appointment_session: Option<String>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationDetail {
    pub id: Uuid,
    pub number: String,
    pub business_type: BusinessTypeView,
    pub business_type_label: String,
    pub applicant_name: String,
    /// In full: the owner's own detail screen shows what will be checked at the counter.
    pub applicant_id_number: String,
    pub applicant_sex: String,
    pub phone: String,
    pub district_code: String,
    pub street_code: String,
    pub address_detail: String,
    pub community_code: String,
    pub service_point: ServicePointBrief,
    pub employer: Option<String>,
    pub condition: Option<String>,
    pub status: StatusView,
    pub status_label: String,
    /// The clerk's note when pre-review returned the application.
    pub review_note: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub materials: Vec<MaterialInfo>,
    pub appointment: Option<AppointmentInfo>,
    /// Whether the chosen condition can be used today; absent until a condition is chosen.
    pub eligibility: Option<EligibilityVerdict>,
}

#[derive(Debug, ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<ApplicationDetail>),
}

/// The caller's own application; anything else, another account's included, is not found.
pub async fn load_own(
    state: &AppState,
    auth: &SessionAuth,
    id: Uuid,
) -> Result<Application, ApiError> {
    Ok(service::own_application(&*state.storage, auth.0.account_id, id).await?)
}

/// The service points the caller acts for.
pub async fn staff_scope(state: &AppState, auth: &SessionAuth) -> Result<StaffScope, ApiError> {
    Ok(service::staff_scope(&*state.storage, auth.0.account_id, auth.0.role).await?)
}

/// Whether a clerk works at the service point; administrators work everywhere.
pub async fn staff_serves(
    state: &AppState,
    auth: &SessionAuth,
    service_point_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(staff_scope(state, auth).await?.covers(service_point_id))
}

impl From<&crate::directory::ServicePoint> for ServicePointBrief {
    fn from(p: &crate::directory::ServicePoint) -> Self {
        ServicePointBrief {
            id: p.id,
            name: p.name.clone(),
            address: p.address.clone(),
            phone: p.phone.clone(),
        }
    }
}

pub async fn brief(state: &AppState, id: Uuid) -> Result<ServicePointBrief, ApiError> {
    Ok(ServicePointBrief::from(
        &service::service_point(&*state.storage, id).await?,
    ))
}

pub fn appointment_info(
    application: &Application,
    appointment: &Appointment,
    point: ServicePointBrief,
) -> AppointmentInfo {
    let f = &application.fields;
    AppointmentInfo {
        id: appointment.id,
        application_id: application.id,
        service_point: point,
        date: appointment.day,
        session: appointment.session.as_str().to_string(),
        session_label: appointment.session.label_zh().to_string(),
        business_type: f.business_type.into(),
        business_type_label: format!("居住证{}", f.business_type.label_zh()),
        applicant_id_number: f.applicant_id_number.as_str().to_string(),
        applicant_name: f.applicant_name.clone(),
        phone: f.phone.as_str().to_string(),
        status: appointment.status.into(),
        handling: application.status.label_zh().to_string(),
        application_status: application.status.into(),
        permit_id: None,
        eligibility: None,
    }
}

pub async fn detail(state: &AppState, a: Application) -> Result<ApplicationDetail, ApiError> {
    let case = service::case_file(&*state.storage, a).await?;
    let point = ServicePointBrief::from(&case.service_point);
    let a = case.application;
    let materials = case.materials;
    let appointment = case
        .appointment
        .map(|ap| appointment_info(&a, &ap, point.clone()));
    let eligibility = eligibility(state, &a).await?;
    let f = a.fields;
    Ok(ApplicationDetail {
        id: a.id,
        number: a.number,
        business_type: f.business_type.into(),
        business_type_label: f.business_type.label_zh().to_string(),
        applicant_name: f.applicant_name,
        applicant_id_number: f.applicant_id_number.as_str().to_string(),
        applicant_sex: f.applicant_sex.as_str().to_string(),
        phone: f.phone.as_str().to_string(),
        district_code: f.district_code,
        street_code: f.street_code,
        address_detail: f.address_detail,
        community_code: f.community_code,
        service_point: point,
        employer: f.employer,
        condition: f.condition,
        status: a.status.into(),
        status_label: a.status.label_zh().to_string(),
        review_note: a.review_note,
        submitted_at: a.submitted_at,
        reviewed_at: a.reviewed_at,
        created_at: a.created_at,
        materials: materials.into_iter().map(MaterialInfo::from).collect(),
        appointment,
        eligibility,
    })
}

/// A row of 我的预约, with the day of its current appointment, if any.
pub fn summary(a: &Application, appointment: Option<&Appointment>) -> ApplicationSummary {
    ApplicationSummary {
        id: a.id,
        number: a.number.clone(),
        applicant_id_number: a.fields.applicant_id_number.masked(),
        applicant_name: a.fields.applicant_name.clone(),
        applicant_sex: a.fields.applicant_sex.into(),
        business_type: a.fields.business_type.into(),
        submitted_at: a.submitted_at,
        status: a.status.into(),
        status_label: a.status.label_zh().to_string(),
        appointment_date: appointment.map(|ap| ap.day),
        appointment_session: appointment.map(|ap| ap.session.as_str().to_string()),
    }
}

/// Checks step 1 and 2 fields, filling what is absent from `base` (the stored application on
/// PATCH) or from the account holder (on create).
pub(crate) async fn check_fields(
    state: &AppState,
    auth: &SessionAuth,
    input: ApplicationInput,
    base: Option<&ApplicationFields>,
) -> Result<ApplicationFields, ApiError> {
    let missing =
        |field: &str| ApiError::unprocessable("field_required", field, format!("请填写 {field}"));
    let business_type = input
        .business_type
        .map(BusinessType::from)
        .or(base.map(|b| b.business_type))
        .unwrap_or(BusinessType::First);
    let account = auth.0.account(state).await?;
    // Units act for their people; a person acting alone must be verified at a counter.
    if business_type.needs_real_name()
        && account.role == Role::Resident
        && account.real_name_verified_at.is_none()
    {
        return Err(ApiError::new(
            poem::http::StatusCode::FORBIDDEN,
            "real_name_required",
            "签注、换领、补领和再次申领需先在受理点完成实名认证",
        ));
    }
    let (name, id_number) = match (base, &input.applicant_name.0, &input.applicant_id_number.0) {
        (Some(b), None, None) => (b.applicant_name.clone(), b.applicant_id_number.clone()),
        (Some(b), name, id) => {
            let p = person_or_holder(
                state,
                auth,
                Some(name.as_deref().unwrap_or(&b.applicant_name)),
                Some(id.as_deref().unwrap_or(b.applicant_id_number.as_str())),
            )
            .await?;
            (p.name, p.id_number)
        }
        (None, name, id) => {
            let p = person_or_holder(state, auth, name.as_deref(), id.as_deref()).await?;
            (p.name, p.id_number)
        }
    };
    let phone_text = input
        .phone
        .0
        .map(String::from)
        .or(base.map(|b| b.phone.as_str().to_string()))
        .or(account.phone.as_deref().map(str::to_string))
        .ok_or_else(|| missing("phone"))?;
    let phone = crate::identity::model::check_phone(&phone_text, "phone")?;
    let address = Address {
        district_code: input
            .district_code
            .0
            .map(String::from)
            .or(base.map(|b| b.district_code.clone()))
            .ok_or_else(|| missing("district_code"))?
            .into(),
        street_code: input
            .street_code
            .0
            .map(String::from)
            .or(base.map(|b| b.street_code.clone()))
            .ok_or_else(|| missing("street_code"))?
            .into(),
        address_detail: input
            .address_detail
            .0
            .map(String::from)
            .or(base.map(|b| b.address_detail.clone()))
            .ok_or_else(|| missing("address_detail"))?
            .trim()
            .to_string()
            .into(),
        community_code: input
            .community_code
            .0
            .map(String::from)
            .or(base.map(|b| b.community_code.clone()))
            .ok_or_else(|| missing("community_code"))?
            .into(),
    };
    address.check(state).await?;
    let service_point_id = input
        .service_point_id
        .or(base.map(|b| b.service_point_id))
        .ok_or_else(|| missing("service_point_id"))?;
    service::check_service_point(&*state.storage, service_point_id, &address.district_code).await?;
    let employer = match input.employer.0 {
        Some(e) => Some(e.trim().to_string()).filter(|e| !e.is_empty()),
        None => base.and_then(|b| b.employer.clone()),
    };
    if employer.as_ref().is_some_and(|e| e.chars().count() > 100) {
        return Err(ApiError::unprocessable(
            "invalid_employer",
            "employer",
            "服务单位名称不超过100个字符",
        ));
    }
    let condition = input
        .condition
        .0
        .map(String::from)
        .or(base.and_then(|b| b.condition.clone()));
    if let Some(c) = &condition
        && state.policy.condition(c).is_none()
    {
        return Err(ApiError::unprocessable(
            "invalid_condition",
            "condition",
            "请选择有效的申领条件",
        ));
    }
    Ok(ApplicationFields {
        business_type,
        applicant_name: name,
        applicant_sex: id_number.sex(),
        applicant_id_number: id_number,
        phone,
        district_code: address.district_code.into(),
        street_code: address.street_code.into(),
        address_detail: address.address_detail.into(),
        community_code: address.community_code.into(),
        service_point_id,
        employer,
        condition,
    })
}

/// How many people an account may file for.
pub(super) fn people_limit(auth: &SessionAuth) -> i64 {
    if auth.0.role == Role::Unit {
        crate::counter::units::MAX_PEOPLE_PER_UNIT
    } else {
        MAX_PEOPLE_PER_ACCOUNT
    }
}

/// Every casework refusal has its stable code and words.
impl From<CaseworkError> for ApiError {
    fn from(e: CaseworkError) -> Self {
        match e {
            CaseworkError::NotFound => ApiError::not_found(),
            CaseworkError::ApplicationExists => ApiError::conflict(
                "application_exists",
                "applicant_id_number",
                "您已为该公民身份号码提交过申请，正在办理中，请在“我的预约”中查看",
            ),
            // Names no account, person or phone: only that the number is held, and what to do.
            CaseworkError::HeldElsewhere => ApiError::conflict(
                "application_held_elsewhere",
                "applicant_id_number",
                "该公民身份号码已被其他账号提交的申请占用。如果不是您本人或家人代为申请，请携带本人居民身份证到任一受理点窗口，工作人员核验后可为您解除占用",
            ),
            CaseworkError::NothingToRelease => ApiError::conflict(
                "nothing_to_release",
                "id_number",
                "该公民身份号码没有可以解除的办理中申请（已在窗口受理的申请不能解除）",
            ),
            CaseworkError::TooManyApplicants => ApiError::rejected("too_many_applicants"),
            CaseworkError::NotEditable => ApiError::rejected("not_editable"),
            CaseworkError::NotCancellable => ApiError::rejected("not_cancellable"),
            CaseworkError::NotReviewable => ApiError::rejected("not_reviewable"),
            CaseworkError::NotSubmittable => ApiError::rejected("not_submittable"),
            CaseworkError::MaterialsNotAccepted => ApiError::rejected("materials_not_accepted"),
            CaseworkError::ConditionRequired => {
                ApiError::unprocessable("condition_required", "condition", "请选择申领条件")
            }
            CaseworkError::ConditionNotMet(verdict) => {
                // The policy's words for what is lacking, and its exempt conditions by name.
                let (codes, names): (Vec<String>, Vec<String>) =
                    verdict.exempt_conditions.into_iter().unzip();
                let mut message = verdict.lack.map(|l| l.message_zh()).unwrap_or_default();
                if !names.is_empty() {
                    message.push_str(&format!("；{}不受居住时间限制", names.join("、")));
                }
                ApiError::unprocessable("condition_not_met", "condition", message)
                    .with_eligibility(verdict.eligible_from, codes)
            }
            CaseworkError::MaterialsRequired => {
                ApiError::unprocessable("materials_required", "materials", "请上传证明材料")
            }
            CaseworkError::InvalidServicePoint => ApiError::unprocessable(
                "invalid_service_point",
                "service_point_id",
                "请选择有效的受理点",
            ),
            CaseworkError::ServicePointOutsideDistrict => ApiError::unprocessable(
                "service_point_outside_district",
                "service_point_id",
                "请选择居住地所在区县的受理点",
            ),
            CaseworkError::Storage(e) => e.into(),
        }
    }
}
