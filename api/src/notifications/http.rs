//! The inbox endpoints: a person's notices, newest first, and marking one read.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::model::unread;
use super::service::{self, NotificationError};
use crate::identity::auth::SessionAuth;
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
