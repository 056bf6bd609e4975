//! The privacy notice, consent, and the holder's rights over HTTP: the export download, closing
//! the account, and the access log.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::model::{self, AccessEntry, AccessKind, NOTICE_SECTIONS};
use super::service::{self, PrivacyError};
use crate::identity::auth::SessionAuth;
use crate::identity::http::sessions::COOKIE;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
use crate::platform::web::ApiTags;

/// `422 privacy_notice_outdated`: the notice changed; read the new one and agree to it.
pub fn notice_outdated() -> ApiError {
    ApiError::unprocessable(
        "privacy_notice_outdated",
        "privacy_notice_version",
        "个人信息保护告知书已更新，请阅读新版本后再同意",
    )
}

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NoticeOutdated => notice_outdated().with_field("version"),
            PrivacyError::StaffAccount => ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "staff_account",
                "工作人员账号不能自行注销，请联系系统管理员",
            ),
            PrivacyError::InvalidLimit => ApiError::unprocessable(
                "invalid_limit",
                "limit",
                format!("每页条数应在1到{}之间", service::ACCESS_PAGE_MAX),
            ),
            PrivacyError::Files(e) => {
                tracing::error!(error = %e, "object storage");
                ApiError::unavailable()
            }
            PrivacyError::Export(e) => {
                tracing::error!(error = %e, "the export could not be written");
                ApiError::internal()
            }
            PrivacyError::Storage(e) => e.into(),
            PrivacyError::Ephemeral(e) => e.into(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct NoticeSectionView {
    pub heading: String,
    pub heading_en: String,
    pub body: String,
    pub body_en: String,
}

/// The privacy notice registration shows and consent refers to.
#[derive(Debug, Clone, Object)]
pub struct PrivacyNotice {
    /// The version to send back when agreeing.
    pub version: String,
    pub published_on: NaiveDate,
    pub title: String,
    pub title_en: String,
    /// What is collected, why, how long it is kept, who sees it, and the holder's rights.
    pub sections: Vec<NoticeSectionView>,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentView {
    pub current_version: String,
    /// The latest version this account agreed to.
    pub agreed_version: Option<String>,
    pub agreed_at: Option<DateTime<Utc>>,
    /// True until the account agrees to the current version.
    pub needs_consent: bool,
}

#[derive(Debug, Object)]
pub struct ConsentInput {
    /// The notice version read and agreed to.
    pub version: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum AccessKindView {
    /// A staff member of a service point (never named).
    Staff,
    /// An online verification of a permit.
    Verification,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AccessItem {
    pub at: DateTime<Utc>,
    pub kind: AccessKindView,
    /// The action code (`read_application`, `verify_permit`, ...).
    pub action: String,
    pub action_label: String,
    pub action_label_en: String,
    /// The service point whose staff acted; never the staff member.
    pub service_point_name: Option<String>,
    /// The name a verifier declared.
    pub verifier_name: Option<String>,
}

impl From<AccessEntry> for AccessItem {
    fn from(e: AccessEntry) -> Self {
        AccessItem {
            at: e.at,
            kind: match e.kind {
                AccessKind::Staff => AccessKindView::Staff,
                AccessKind::Verification => AccessKindView::Verification,
            },
            action: e.action,
            action_label: e.action_label.into(),
            action_label_en: e.action_label_en.into(),
            service_point_name: e.service_point_name,
            verifier_name: e.verifier_name,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AccessLog {
    /// Newest first.
    pub items: Vec<AccessItem>,
    /// Send as `before` for the older entries; absent on the last page.
    pub next_before: Option<DateTime<Utc>>,
}

#[derive(Debug, ApiResponse)]
pub enum Agreed {
    /// The agreement is recorded.
    #[oai(status = 204)]
    Done,
}

#[derive(Debug, ApiResponse)]
pub enum DataExport {
    /// `data.json` and the proof files under `materials/<application number>/`.
    #[oai(status = 200, content_type = "application/zip")]
    Zip(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[derive(Debug, ApiResponse)]
pub enum Closed {
    /// The account is closed and the session cookie cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

pub struct PrivacyApi;

#[OpenApi(tag = "ApiTags::Privacy")]
impl PrivacyApi {
    /// The privacy notice (个人信息保护告知书), in Chinese and English.
    #[oai(path = "/privacy-notice", method = "get")]
    async fn notice(&self, state: Data<&AppState>) -> Json<PrivacyNotice> {
        Json(PrivacyNotice {
            version: state.config.privacy_notice_version.clone(),
            published_on: model::notice_published_on(),
            title: model::NOTICE_TITLE.into(),
            title_en: model::NOTICE_TITLE_EN.into(),
            sections: NOTICE_SECTIONS
                .iter()
                .map(|s| NoticeSectionView {
                    heading: s.heading.into(),
                    heading_en: s.heading_en.into(),
                    body: s.body.into(),
                    body_en: s.body_en.into(),
                })
                .collect(),
        })
    }

    /// Which notice version I agreed to, and whether the current one still needs my consent.
    #[oai(path = "/me/privacy-consent", method = "get")]
    async fn consent(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<ConsentView>, ApiError> {
        let current = &state.config.privacy_notice_version;
        let s = service::consent_state(&*state.storage, auth.0.account_id, current).await?;
        Ok(Json(ConsentView {
            needs_consent: s.needs_consent(),
            current_version: s.current_version,
            agreed_version: s.agreed.as_ref().map(|c| c.version.clone()),
            agreed_at: s.agreed.map(|c| c.agreed_at),
        }))
    }

    /// Agree to the current notice; another version is `422 privacy_notice_outdated`.
    #[oai(path = "/me/privacy-consent", method = "post")]
    async fn agree(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ConsentInput>,
    ) -> Result<Agreed, ApiError> {
        service::agree(
            &*state.storage,
            auth.0.account_id,
            &body.0.version,
            &state.config.privacy_notice_version,
            state.clock.now(),
        )
        .await?;
        Ok(Agreed::Done)
    }

    /// Everything permitd holds about me, with my proof files, as one zip (needs a fresh
    /// step-up).
    #[oai(path = "/me/data", method = "get")]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<DataExport, ApiError> {
        auth.0.require_fresh_step_up()?;
        let export = service::export(
            &*state.storage,
            &*state.files,
            auth.0.account_id,
            state.clock.now(),
        )
        .await?;
        Ok(DataExport::Zip(
            Binary(export.bytes),
            format!("attachment; filename=\"{}\"", export.file_name),
            "private, no-store".into(),
        ))
    }

    /// Who looked at my data, newest first: staff reads and actions (by service point, never
    /// the staff member) and online verifications of my permits.
    #[oai(path = "/me/access-log", method = "get")]
    async fn access_log(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        // 1 to 200 (50 unless given); `before`: the previous page's `next_before`.
        limit: Query<Option<i64>>,
        before: Query<Option<DateTime<Utc>>>,
    ) -> Result<Json<AccessLog>, ApiError> {
        let account = auth.0.account(&state).await?;
        let page =
            service::access_log(&*state.storage, &account, before.0, limit.0.unwrap_or(50)).await?;
        Ok(Json(AccessLog {
            items: page.items.into_iter().map(Into::into).collect(),
            next_before: page.next_before,
        }))
    }
}

/// Closes the caller's account (`DELETE /me`, mounted with identity's `/me`): staff are
/// refused, a fresh step-up is needed, and the answer clears the session cookie.
pub async fn close(state: &AppState, auth: SessionAuth) -> Result<Closed, ApiError> {
    let account = auth.0.account(state).await?;
    if account.role.is_staff() {
        return Err(PrivacyError::StaffAccount.into());
    }
    auth.0.require_fresh_step_up()?;
    service::close(
        &*state.storage,
        &*state.ephemeral,
        &*state.files,
        &account,
        state.clock.now(),
    )
    .await?;
    let mut cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if state.config.secure_cookies {
        cookie.push_str("; Secure");
    }
    Ok(Closed::Done(cookie))
}
