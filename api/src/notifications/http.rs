//! The inbox endpoints: a person's notices, newest first, and marking one read; and the
//! administrators' list of SMS the gateway gave up on.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::model::{masked_phone, unread};
use super::service::{self, NotificationError};
use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub application_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone, Object)]
pub struct Inbox {
    pub unread: u32,
    pub items: Vec<NotificationView>,
}

/// An SMS given up for good: the provider refused it (a bad template or number), or its
/// attempts were spent on throttling or timeouts.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct FailedSmsView {
    /// The notification the SMS belongs to.
    pub id: Uuid,
    /// The message kind (its template): `review_passed`, `reminder`, ...
    pub kind: String,
    /// The phone, masked.
    pub phone: String,
    pub attempts: i32,
    /// The provider's error code (`isv.SMS_TEMPLATE_ILLEGAL`, ...) or ours (`timeout`,
    /// `unreachable`, `template_missing`).
    pub error_code: Option<String>,
    /// The provider's words about it.
    pub error_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, ApiResponse)]
pub enum Marked {
    #[oai(status = 204)]
    Done,
}

pub struct NotificationsApi;

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// My notifications, newest first (the last 100).
    #[oai(path = "/notifications", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Inbox>, ApiError> {
        let items = service::inbox(&*state.storage, auth.0.account_id).await?;
        Ok(Json(Inbox {
            unread: unread(&items),
            items: items
                .into_iter()
                .map(|n| NotificationView {
                    id: n.id,
                    kind: n.kind,
                    title: n.title,
                    body: n.body,
                    application_id: n.application_id,
                    created_at: n.created_at,
                    read: n.read_at.is_some(),
                })
                .collect(),
        }))
    }

    /// SMS the gateway gave up on, the latest first (the last 200; administrators only).
    #[oai(path = "/admin/sms-failures", method = "get")]
    async fn sms_failures(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<FailedSmsView>>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let failed = service::failed_sms(&*state.storage).await?;
        Ok(Json(
            failed
                .into_iter()
                .map(|f| FailedSmsView {
                    id: f.id,
                    kind: f.kind,
                    phone: masked_phone(&f.phone),
                    attempts: f.attempts,
                    error_code: f.error_code,
                    error_detail: f.error_detail,
                    created_at: f.created_at,
                    failed_at: f.failed_at,
                })
                .collect(),
        ))
    }

    /// Mark one as read.
    #[oai(path = "/notifications/:id/read", method = "post")]
    async fn read(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Marked, ApiError> {
        service::mark_read(&*state.storage, auth.0.account_id, id.0, state.clock.now()).await?;
        Ok(Marked::Done)
    }
}

impl From<NotificationError> for ApiError {
    fn from(e: NotificationError) -> Self {
        match e {
            NotificationError::NotFound => ApiError::not_found(),
            NotificationError::Storage(e) => e.into(),
        }
    }
}
