//! Electronic permits (DESIGN §4.4): issued by a clerk for a checked-in application, shown as
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
use crate::identity::accounts::{IdNumber, PhoneNumber, Role, mask_id_number};
use crate::identity::passkeys::{CeremonyStarted, FinishCeremony};
use crate::identity::sessions::SessionAuth;
use crate::identity::sms::{self, SmsPurpose};
use crate::notifications::model::NewNotification;
use crate::platform::audit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::platform::web::ApiTags;
use crate::residence::local_date;

pub mod model;
pub mod rules;

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
            crate::identity::accounts::Sex::Male => permit_verifier::Sex::Male,
            crate::identity::accounts::Sex::Female => permit_verifier::Sex::Female,
        },
        birth_date: p.birth_date,
        id_number: p.id_number.clone(),
        district: p.district.clone(),
        authority: p.authority.clone(),
        first_issued: p.first_issued,
        last_endorsed: p.last_endorsed,
        status_index: p.status_index as u64,
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
    let id = IdNumber::parse(&a.fields.applicant_id_number)
        .map_err(|_| StorageError::Corrupt("applicant id number"))?;
    let district = state.storage.region(&a.fields.district_code).await?;
    let city = match &district.parent_code {
        Some(code) => state.storage.region(code).await?.name,
        None => String::new(),
    };
    let today = local_date(state.clock.now());
    let phone = Some(a.fields.phone.clone());
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
            id_number: id.as_str().to_string(),
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

fn render_qr(
    text: &str,
    format: QrFormat,
    ecc: QrEcc,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    let failed = |e: String| {
        tracing::error!(error = %e, "rendering a QR code");
        ApiError::internal()
    };
    match format {
        QrFormat::Text => Ok((text.as_bytes().to_vec(), "text/plain; charset=utf-8")),
        QrFormat::Svg => Ok((
            permit_verifier::to_svg(text, ecc)
                .map_err(|e| failed(e.to_string()))?
                .into_bytes(),
            "image/svg+xml",
        )),
        QrFormat::Png => Ok((png(text, ecc).map_err(failed)?, "image/png")),
    }
}

/// A QR code as a PNG (8 pixels a module, quiet zone included).
pub fn png(text: &str, ecc: QrEcc) -> Result<Vec<u8>, String> {
    let level = match ecc {
        QrEcc::Low => qrcode::EcLevel::L,
        QrEcc::Medium => qrcode::EcLevel::M,
        QrEcc::Quartile => qrcode::EcLevel::Q,
        QrEcc::High => qrcode::EcLevel::H,
    };
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level)
        .map_err(|e| e.to_string())?;
    let image = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

pub struct PermitsApi;

#[OpenApi(tag = "ApiTags::Permits")]
impl PermitsApi {
    /// My permits.
    #[oai(path = "/permits", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<PermitView>>, ApiError> {
        let today = local_date(state.clock.now());
        let permits = state.storage.permits_of(auth.0.account_id).await?;
        Ok(Json(permits.iter().map(|p| view(p, today)).collect()))
    }

    #[oai(path = "/permits/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        Ok(Json(view(&p, local_date(state.clock.now()))))
    }

    /// Step-up with an SMS code (accounts without a passkey): the permit joins the wallet.
    #[oai(path = "/permits/:id/step-up", method = "post")]
    async fn step_up_sms(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<StepUpInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if !state
            .storage
            .passkeys_of(auth.0.account_id)
            .await?
            .is_empty()
        {
            return Err(ApiError::unprocessable(
                "passkey_required",
                "sms_code",
                "您已设置通行密钥，请使用通行密钥确认身份",
            ));
        }
        let account = auth.0.account(&state).await?;
        let phone = account
            .phone
            .as_deref()
            .and_then(PhoneNumber::parse)
            .ok_or_else(|| {
                ApiError::unprocessable("phone_required", "sms_code", "账号未绑定手机号码")
            })?;
        let code = body.0.sms_code.unwrap_or_default();
        sms::verify_code(&state, &phone, SmsPurpose::StepUp, &code).await?;
        into_wallet(&state, p.id).await
    }

    /// Step-up with a passkey: start (the options for `navigator.credentials.get()`).
    #[oai(path = "/permits/:id/step-up/passkey", method = "post")]
    async fn step_up_passkey_start(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        load_own(&state, &auth, id.0).await?;
        crate::identity::passkeys::start_step_up(&state, auth.0.account_id)
            .await?
            .map(Json)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "no_passkey",
                    "passkey",
                    "账号没有通行密钥，请使用短信验证码",
                )
            })
    }

    /// Step-up with a passkey: finish; the permit joins the wallet.
    #[oai(path = "/permits/:id/step-up/passkey/:ceremony", method = "post")]
    async fn step_up_passkey_finish(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        ceremony: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        crate::identity::passkeys::finish_step_up(
            &state,
            auth.0.account_id,
            ceremony.0,
            body.0.credential,
        )
        .await?;
        into_wallet(&state, p.id).await
    }

    /// The permit's QR: a freshly signed RP1 credential, as SVG, PNG or text (error
    /// correction M, for screens).
    #[oai(path = "/permits/:id/qr", method = "get")]
    async fn qr(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        presentation: Query<Option<PresentationName>>,
        format: Query<Option<QrFormat>>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份（通行密钥或短信验证码）后再出示居住证",
            ));
        }
        let presentation = match presentation.0.unwrap_or(PresentationName::Full) {
            PresentationName::Full => Presentation::Full,
            PresentationName::Basic => Presentation::Basic,
        };
        let text = credential(&state, &p, presentation).await?;
        let (bytes, content_type) =
            render_qr(&text, format.0.unwrap_or(QrFormat::Svg), QrEcc::Medium)?;
        Ok(Response::new(Binary(bytes))
            .header("Content-Type", content_type)
            .header("Cache-Control", "private, no-store"))
    }

    /// 居住证确认单 (PDF) with the permit's QR, for printing.
    #[oai(path = "/permits/:id/slip.pdf", method = "get")]
    async fn slip(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份（通行密钥或短信验证码）后再打印确认单",
            ));
        }
        slip_pdf(&state, &p).await
    }

    /// Bind a device public key for holder-bound presentation.
    #[oai(path = "/permits/:id/device-key", method = "put")]
    async fn device_key(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<DeviceKeyInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        let key = body.0.public_key.trim().to_ascii_lowercase();
        let valid = hex::decode(&key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| permit_verifier::ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
            .is_some();
        if !valid {
            return Err(ApiError::unprocessable(
                "invalid_device_key",
                "public_key",
                "设备公钥应为64位十六进制的 Ed25519 公钥",
            ));
        }
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份",
            ));
        }
        state.storage.bind_device_key(p.id, &key).await?;
        let p = state.storage.permit(p.id).await?;
        Ok(Json(view(&p, local_date(state.clock.now()))))
    }

    /// 签注: within the month before the due date, or late within 2 years of suspension;
    /// needs a real-name verified account.
    #[oai(path = "/permits/:id/endorsements", method = "post")]
    async fn endorse(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        let account = auth.0.account(&state).await?;
        if account.role == Role::Resident && account.real_name_verified_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "real_name_required",
                "网上签注需先在受理点完成实名认证",
            ));
        }
        if p.status == PermitStatus::Revoked {
            return Err(ApiError::rejected("already_revoked"));
        }
        let today = local_date(state.clock.now());
        let until = rules::endorse(p.first_issued, p.valid_until, today).map_err(|r| match r {
            rules::Refusal::NotDue { opens_on } => ApiError::conflict(
                "endorsement_not_due",
                "permit",
                format!("签注期为有效期届满前一个月，{opens_on} 起可以签注"),
            ),
            rules::Refusal::ReapplyRequired => ApiError::conflict(
                "reapply_required",
                "permit",
                "居住证中止使用已超过两年，不能签注，请重新申领",
            ),
        })?;
        let n = notice_to(
            &p,
            Some(account.phone.clone().unwrap_or_default()).filter(|s| !s.is_empty()),
            "permit_endorsed",
            "签注成功",
            format!(
                "【居住证】{}，您的居住证{}已签注，有效期至{}。",
                p.holder_name, p.number, until
            ),
        );
        let endorsed = service::endorse(
            &*state.storage,
            p.id,
            p.valid_until,
            today,
            until,
            state.clock.now(),
            &n,
        )
        .await?;
        Ok(Json(view(&endorsed, today)))
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
        id_number: p.id_number.clone(),
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

pub struct PermitCounterApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl PermitCounterApi {
    /// 签发: issue the permit of a checked-in application of my service point.
    #[oai(path = "/staff/applications/:id/issue", method = "post")]
    async fn issue(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let a = state.storage.application(id.0).await?;
        if !staff_serves(&state, &auth, a.fields.service_point_id).await? {
            return Err(ApiError::not_found());
        }
        let permit = issue(&state, a.id).await?;
        audit::record(
            &state,
            &auth,
            "issue_permit",
            "permit",
            permit.id,
            format!("application {}", a.id),
        )
        .await?;
        Ok(Json(view(&permit, local_date(state.clock.now()))))
    }

    /// Print the confirmation slip at the counter (older people without a phone).
    #[oai(path = "/staff/permits/:id/slip.pdf", method = "get")]
    async fn staff_slip(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let p = load_served(&state, &auth, id.0).await?;
        audit::record(&state, &auth, "print_slip", "permit", p.id, "").await?;
        slip_pdf(&state, &p).await
    }

    /// A person's permits issued at my service points, found by the ID number on the card or
    /// the form (to revoke, or to reprint the slip).
    #[oai(path = "/staff/permits", method = "get")]
    async fn find_permits(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<String>,
    ) -> Result<Json<Vec<PermitView>>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let card = IdNumber::parse(&id_number.0)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        let scope = staff_scope(&state, &auth).await?;
        let mut found = state.storage.permits_of_person(card.as_str()).await?;
        found.retain(|p| scope.covers(p.service_point_id));
        for p in &found {
            audit::record(
                &state,
                &auth,
                "find_permit",
                "permit",
                p.id,
                "looked up by ID number",
            )
            .await?;
        }
        let today = local_date(state.clock.now());
        Ok(Json(found.iter().map(|p| view(p, today)).collect()))
    }

    /// Revoke a permit (补领, 注销, fraud): its credentials then verify as revoked.
    #[oai(path = "/staff/permits/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<RevokeInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let p = load_served(&state, &auth, id.0).await?;
        let n = notice_to(
            &p,
            None,
            "permit_revoked",
            "居住证已注销",
            format!(
                "【居住证】您的居住证{}已注销。如有疑问请联系受理点。",
                p.number
            ),
        );
        let revoked = service::revoke(
            &*state.storage,
            p.id,
            body.0.reason.as_str(),
            state.clock.now(),
            &n,
        )
        .await?;
        audit::record(
            &state,
            &auth,
            "revoke_permit",
            "permit",
            p.id,
            format!(
                "{} {}",
                body.0.reason.as_str(),
                body.0.note.unwrap_or_default()
            ),
        )
        .await?;
        Ok(Json(view(&revoked, local_date(state.clock.now()))))
    }

    /// 实名认证: the clerk checked the ID card at the counter.
    #[oai(path = "/staff/accounts/:id/real-name", method = "post")]
    async fn real_name(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<RealNameInput>,
    ) -> Result<Json<crate::identity::accounts::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let account = state.storage.account_by_id(id.0).await?;
        let card = IdNumber::parse(&body.0.id_number)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        if account.role != Role::Resident || account.id_number.as_deref() != Some(card.as_str()) {
            return Err(ApiError::unprocessable(
                "id_number_mismatch",
                "id_number",
                "证件号码与账号登记的不一致",
            ));
        }
        state
            .storage
            .set_real_name_verified(account.id, state.clock.now())
            .await?;
        audit::record(
            &state,
            &auth,
            "real_name_verified",
            "account",
            account.id,
            "ID card checked",
        )
        .await?;
        let account = state.storage.account_by_id(account.id).await?;
        Ok(Json(
            crate::identity::accounts::Me::of(&state, &account).await?,
        ))
    }

    /// Find a resident's account by the ID number on the card (for 实名认证).
    #[oai(path = "/staff/accounts", method = "get")]
    async fn find_account(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<String>,
    ) -> Result<Json<crate::identity::accounts::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let card = IdNumber::parse(&id_number.0)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        let account = state.storage.resident_by_id_number(card.as_str()).await?;
        audit::record(
            &state,
            &auth,
            "find_account",
            "account",
            account.id,
            "looked up by ID number",
        )
        .await?;
        Ok(Json(
            crate::identity::accounts::Me::of(&state, &account).await?,
        ))
    }
}
