//! Electronic permits (docs/product.md §4.4): issued by a clerk for a checked-in application, shown as
//! RP1 QR codes signed with the verifier crate, endorsed yearly, revoked when replaced,
//! cancelled or obtained by fraud. A permit's QR is shown only after the holder passed a
//! step-up once (a fresh passkey assertion, or an SMS code for accounts without a passkey).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use permit_verifier::{Presentation, QrEcc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, Response};
use poem_openapi::{Enum, Object, OpenApi};
use uuid::Uuid;

use crate::casework::applications::model::{BusinessType, Status};
use crate::casework::applications::{staff_scope, staff_serves};
use crate::credentials::service::{self, CredentialError};
use crate::identity::auth::SessionAuth;
use crate::identity::auth::verify_sms_code;
use crate::identity::model::SmsPurpose;
use crate::identity::model::{IdNumber, PhoneNumber, Role, mask_id_number};
use crate::identity::views::{CeremonyStarted, FinishCeremony};
use crate::notifications::model::NewNotification;
use crate::platform::audit;
use crate::platform::clock::local_date;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;

mod counter;
mod http;
pub mod model;
mod qr;
pub mod rules;

pub use counter::PermitCounterApi;
pub use http::PermitsApi;
pub use qr::png;
use qr::render_qr;

use model::{NewPermit, Permit, PermitStatus};

/// China Standard Time midnight of a local date, as UTC.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    offset
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PermitState {
    Valid,
    /// 签注期: inside the month before the due date.
    EndorsementDue,
    /// 中止使用: past the due date, not endorsed.
    Suspended,
    Revoked,
}

#[derive(Debug, Clone, Object)]
pub struct PermitView {
    pub id: Uuid,
    /// 居住证号码
    pub number: String,
    pub holder_name: String,
    /// Masked; the QR's `full` presentation carries it whole.
    pub id_number: String,
    pub district: String,
    /// 签发机关
    pub authority: String,
    pub first_issued: NaiveDate,
    pub last_endorsed: Option<NaiveDate>,
    /// The next endorsement due date.
    pub valid_until: NaiveDate,
    pub endorsement_window_opens: NaiveDate,
    pub state: PermitState,
    pub state_label: String,
    pub revoked_reason: Option<String>,
    /// The holder passed the step-up and may show the QR.
    pub in_wallet: bool,
    pub holder_bound: bool,
}

pub fn view(p: &Permit, today: NaiveDate) -> PermitView {
    let state = match (p.status, rules::state(p.valid_until, today)) {
        (PermitStatus::Revoked, _) => PermitState::Revoked,
        (_, rules::State::Valid) => PermitState::Valid,
        (_, rules::State::EndorsementDue) => PermitState::EndorsementDue,
        (_, rules::State::Suspended { .. }) => PermitState::Suspended,
    };
    let label = match state {
        PermitState::Valid => "有效",
        PermitState::EndorsementDue => "有效（请在到期前签注）",
        PermitState::Suspended => "中止使用（未按期签注）",
        PermitState::Revoked => "已注销",
    };
    PermitView {
        id: p.id,
        number: p.number.clone(),
        holder_name: p.holder_name.clone(),
        id_number: mask_id_number(&p.id_number),
        district: p.district.clone(),
        authority: p.authority.clone(),
        first_issued: p.first_issued,
        last_endorsed: p.last_endorsed,
        valid_until: p.valid_until,
        endorsement_window_opens: rules::window_opens(p.valid_until),
        state,
        state_label: label.into(),
        revoked_reason: p.revoked_reason.clone(),
        in_wallet: p.claimed_at.is_some(),
        holder_bound: p.device_key.is_some(),
    }
}

/// Signs a fresh credential for the permit (valid from the last endorsement or first issue to
/// the due date) and remembers that the key signed something living that long.
pub async fn credential(
    state: &AppState,
    p: &Permit,
    presentation: Presentation,
) -> Result<String, ApiError> {
    let device_key = match &p.device_key {
        Some(k) => Some(
            hex::decode(k)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(StorageError::Corrupt("device key"))?,
        ),
        None => None,
    };
    let permit = permit_verifier::Permit {
        permit_number: p.number.clone(),
        name: p.holder_name.clone(),
        sex: match p.sex {
            crate::identity::model::Sex::Male => permit_verifier::Sex::Male,
            crate::identity::model::Sex::Female => permit_verifier::Sex::Female,
        },
        birth_date: p.birth_date,
        id_number: p.id_number.as_str().to_string(),
        district: p.district.clone(),
        authority: p.authority.clone(),
        first_issued: p.first_issued,
        last_endorsed: p.last_endorsed,
        status_index: p.status_index.get(),
        device_key,
    };
    let now = state.clock.now();
    let nbf = start_of(p.last_endorsed.unwrap_or(p.first_issued));
    let exp = start_of(p.valid_until);
    let issuer = state.keys.active();
    state
        .storage
        .record_key_use(&hex::encode(issuer.kid()), exp)
        .await?;
    issuer
        .issue(&permit, presentation, now, nbf, exp)
        .map_err(|e| {
            tracing::error!(error = %e, "issuing a credential");
            ApiError::internal()
        })
}

/// The caller's own permit; anything else is not found.
async fn load_own(state: &AppState, auth: &SessionAuth, id: Uuid) -> Result<Permit, ApiError> {
    let p = state.storage.permit(id).await?;
    if p.account_id != auth.0.account_id {
        return Err(ApiError::not_found());
    }
    Ok(p)
}

/// A permit issued at one of the staff member's service points; any other is not found.
async fn load_served(state: &AppState, auth: &SessionAuth, id: Uuid) -> Result<Permit, ApiError> {
    let p = state.storage.permit(id).await?;
    if !staff_serves(state, auth, p.service_point_id).await? {
        return Err(ApiError::not_found());
    }
    Ok(p)
}

/// The step-up passed: the permit joins the holder's wallet and its QR may be shown.
async fn into_wallet(state: &AppState, id: Uuid) -> Result<Json<PermitView>, ApiError> {
    state.storage.claim_permit(id, state.clock.now()).await?;
    let p = state.storage.permit(id).await?;
    Ok(Json(view(&p, local_date(state.clock.now()))))
}

fn notice_to(
    p: &Permit,
    phone: Option<String>,
    kind: &'static str,
    title: &str,
    body: String,
) -> NewNotification {
    NewNotification {
        account_id: p.account_id,
        kind,
        title: title.into(),
        body,
        application_id: p.application_id,
        sms_phone: phone,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum PresentationName {
    /// 完整: for a police or government counter.
    Full,
    /// 基本: ID number masked, for banks, hospitals, landlords.
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum QrFormat {
    Svg,
    Png,
    Text,
}

#[derive(Debug, Clone, Object)]
pub struct StepUpInput {
    /// The SMS code sent with purpose `step_up`, for accounts without a passkey.
    pub sms_code: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct DeviceKeyInput {
    /// The device's Ed25519 public key, 64 hexadecimal characters.
    pub public_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RevokeReason {
    /// 补领: a replacement was issued.
    Replacement,
    /// 注销
    Cancellation,
    /// 以欺骗等不正当手段取得
    Fraud,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Replacement => "replacement",
            RevokeReason::Cancellation => "cancellation",
            RevokeReason::Fraud => "fraud",
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct RevokeInput {
    pub reason: RevokeReason,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct RealNameInput {
    /// The ID number read from the card, which must match the account's.
    pub id_number: String,
}

/// 签发机关 of a district: the city bureau's sub-bureau for the district.
fn authority_of(city: &str, district: &str) -> String {
    format!("{city}公安局{district}分局")
}

/// Issues the permit of a checked-in application (the counter's 签发).
pub async fn issue(state: &AppState, application_id: Uuid) -> Result<Permit, ApiError> {
    let a = state.storage.application(application_id).await?;
    if a.status == Status::Issued {
        return Err(already_issued());
    }
    let id = a.fields.applicant_id_number.clone();
    let district = state.storage.region(&a.fields.district_code).await?;
    let city = match &district.parent_code {
        Some(code) => state.storage.region(code).await?.name,
        None => String::new(),
    };
    let today = local_date(state.clock.now());
    let phone = Some(a.fields.phone.as_str().to_string());
    let mut tries = 0;
    let permit = loop {
        let number = format!(
            "{}{}{:06}",
            a.fields.district_code,
            today.format("%Y"),
            rand::Rng::gen_range(&mut rand::thread_rng(), 0..1_000_000)
        );
        let new = NewPermit {
            number,
            application_id: a.id,
            account_id: a.account_id,
            holder_name: a.fields.applicant_name.clone(),
            id_number: id.clone(),
            sex: id.sex(),
            birth_date: id.birth_date(),
            district: format!("{}{city}{}", state.policy.name_zh, district.name),
            authority: authority_of(&city, &district.name),
            service_point_id: a.fields.service_point_id,
            first_issued: today,
            valid_until: rules::anniversary(today, 1),
            supersedes: a.fields.business_type != BusinessType::First,
        };
        let notice = NewNotification {
            account_id: a.account_id,
            kind: "permit_issued",
            title: "居住证已签发".into(),
            body: format!(
                "【居住证】{}，您的居住证（{}）已签发，有效期至{}。登录后在“我的居住证”中确认身份即可出示电子居住证。",
                new.holder_name, new.number, new.valid_until
            ),
            application_id: Some(a.id),
            sms_phone: phone.clone(),
        };
        match service::issue(&*state.storage, &new, state.clock.now(), &notice).await {
            Err(CredentialError::Storage(StorageError::Conflict(
                "status_index" | "permit_number",
            ))) if tries < 5 => tries += 1,
            other => break other?,
        }
    };
    Ok(permit)
}

fn already_issued() -> ApiError {
    ApiError::conflict("already_issued", "application", "该申请已签发居住证")
}

/// Every credential refusal has its stable code and words.
impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotFound => ApiError::not_found(),
            CredentialError::AlreadyIssued => already_issued(),
            CredentialError::NotIssuable => ApiError::rejected("not_issuable"),
            CredentialError::EndorsementConflict => ApiError::rejected("endorsement_conflict"),
            CredentialError::AlreadyRevoked => ApiError::rejected("already_revoked"),
            CredentialError::Storage(e) => e.into(),
        }
    }
}

/// The confirmation slip PDF with a freshly signed `full` credential as its QR.
async fn slip_pdf(state: &AppState, p: &Permit) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
    if p.status == PermitStatus::Revoked {
        return Err(ApiError::rejected("already_revoked"));
    }
    let text = credential(state, p, Presentation::Full).await?;
    let fields = crate::credentials::documents::SlipFields {
        holder_name: p.holder_name.clone(),
        id_number: p.id_number.as_str().to_string(),
        permit_number: p.number.clone(),
        valid_from: p.last_endorsed.unwrap_or(p.first_issued),
        valid_until: p.valid_until,
        district: p.district.clone(),
        authority: p.authority.clone(),
    };
    let fonts = state.fonts.clone();
    // Subsetting a CJK font is CPU work: keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || {
        crate::credentials::documents::slip(&fonts, &fields, &text)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(crate::credentials::documents::DocumentError::into_api)?;
    Ok(Response::new(Binary(pdf))
        .header("Content-Type", "application/pdf")
        .header(
            "Content-Disposition",
            "inline; filename=\"permit-slip.pdf\"",
        )
        .header("Cache-Control", "private, no-store"))
}
