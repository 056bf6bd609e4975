//! Credentials over HTTP: the holder's wallet (`wallet`), the staff's permit work at the
//! counter (`counter`) and the signed lists with online verification (`trust`). Here live the
//! API's views of permits and the mapping of every credential refusal to its code and words.

use chrono::NaiveDate;
use poem::http::StatusCode;
use poem_openapi::Object;
use uuid::Uuid;

use crate::credentials::documents::DocumentError;
use crate::credentials::permits::model::{Permit, PermitState, RevokeReason};
use crate::credentials::permits::rules;
use crate::credentials::service::{CredentialError, RealNameFor, StepUpFor};
use crate::identity::model::mask_id_number;
use crate::platform::error::ApiError;
use crate::platform::web::api_enum;

mod counter;
mod trust;
mod wallet;

pub use counter::PermitCounterApi;
pub use trust::TrustApi;
pub use wallet::{ClaimApi, PermitsApi};

api_enum!(PermitStateView as "PermitState" mirrors PermitState {
    Valid,
    EndorsementDue,
    Suspended,
    Revoked,
});

api_enum!(RevokeReasonView as "RevokeReason" mirrors RevokeReason {
    Replacement,
    Cancellation,
    Fraud,
});

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none, rename = "PermitView")]
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
    pub state: PermitStateView,
    pub state_label: String,
    pub revoked_reason: Option<String>,
    /// The holder passed the step-up and may show the QR.
    pub in_wallet: bool,
    pub holder_bound: bool,
}

pub fn view(p: &Permit, today: NaiveDate) -> PermitView {
    let state = PermitState::of(p, today);
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
        state: state.into(),
        state_label: state.label_zh().into(),
        revoked_reason: p.revoked_reason.clone(),
        in_wallet: p.claimed_at.is_some(),
        holder_bound: p.device_key.is_some(),
    }
}

/// Every credential refusal has its stable code and words.
impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotFound => ApiError::not_found(),
            CredentialError::InvalidLimit => ApiError::invalid_limit(),
            CredentialError::AlreadyIssued => {
                ApiError::conflict("already_issued", "application", "该申请已签发居住证")
            }
            CredentialError::NotIssuable => ApiError::rejected("not_issuable"),
            CredentialError::EndorsementConflict => ApiError::rejected("endorsement_conflict"),
            CredentialError::AlreadyRevoked => ApiError::rejected("already_revoked"),
            CredentialError::SessionAccountGone => ApiError::unauthenticated(),
            CredentialError::StepUpRequired(purpose) => ApiError::new(
                StatusCode::FORBIDDEN,
                "step_up_required",
                match purpose {
                    StepUpFor::ShowQr => "请先确认身份（通行密钥或短信验证码）后再出示居住证",
                    StepUpFor::PrintSlip => "请先确认身份（通行密钥或短信验证码）后再打印确认单",
                    StepUpFor::BindDeviceKey => "请先确认身份",
                },
            ),
            CredentialError::ClaimLocked { retry_after } => ApiError::too_many(
                "too_many_attempts",
                retry_after,
                format!("认领失败次数过多，请 {retry_after} 秒后再试"),
            ),
            CredentialError::Ephemeral(e) => e.into(),
            CredentialError::InvalidDeviceKey => ApiError::unprocessable(
                "invalid_device_key",
                "public_key",
                "设备公钥应为64位十六进制的 Ed25519 公钥",
            ),
            CredentialError::RealNameRequired(purpose) => ApiError::new(
                StatusCode::FORBIDDEN,
                "real_name_required",
                match purpose {
                    RealNameFor::Endorse => "网上签注需先在受理点完成实名认证",
                    RealNameFor::Claim => "认领居住证需先在受理点完成实名认证",
                },
            ),
            CredentialError::EndorsementNotDue { opens_on } => ApiError::conflict(
                "endorsement_not_due",
                "permit",
                format!("签注期为有效期届满前一个月，{opens_on} 起可以签注"),
            ),
            CredentialError::ReapplyRequired => ApiError::conflict(
                "reapply_required",
                "permit",
                "居住证中止使用已超过两年，不能签注，请重新申领",
            ),
            CredentialError::InvalidIdNumber(e) => {
                ApiError::unprocessable(e.code(), "id_number", e.message())
            }
            CredentialError::IdNumberMismatch => ApiError::unprocessable(
                "id_number_mismatch",
                "id_number",
                "证件号码与账号登记的不一致",
            ),
            CredentialError::StatusListFull => {
                tracing::error!("the status list is full: no permit can be issued");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "status_list_full",
                    "居住证状态列表已满，暂时无法签发，请联系系统管理员",
                )
            }
            CredentialError::Signing => ApiError::internal(),
            CredentialError::Document(e) => e.into(),
            CredentialError::Storage(e) => e.into(),
        }
    }
}

/// A missing font is the operator's to fix; the message to the user stays plain.
impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        tracing::error!(error = %e, "PDF document");
        match e {
            DocumentError::NoFont | DocumentError::BadFont(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "font_unavailable",
                "暂时无法生成文档，请联系受理点",
            ),
            DocumentError::Pdf(_) => ApiError::internal(),
        }
    }
}

impl DocumentError {
    /// The receipt handler in casework maps its document errors with this.
    pub fn into_api(self) -> ApiError {
        self.into()
    }
}
