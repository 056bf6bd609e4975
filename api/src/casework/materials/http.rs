//! The proof-file endpoints: upload, download and delete; the bytes go to object storage, the
//! record and its access rules through `casework::service`.

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json, Response};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::casework::applications::http::views::load_own;
use crate::casework::applications::model::Material;
use crate::casework::service;
use crate::identity::auth::SessionAuth;
use crate::identity::rate_limits::UPLOADS_PER_ACCOUNT;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::ApiTags;

use super::content::{self, ContentError, MAX_FILE_BYTES};

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct MaterialInfo {
    pub id: Uuid,
    /// `jpeg`, `png` or `pdf`, from the file's content.
    pub kind: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub file_name: String,
    /// SHA-256 of the stored (cleaned) bytes.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<Material> for MaterialInfo {
    fn from(m: Material) -> Self {
        MaterialInfo {
            id: m.id,
            kind: m.kind.as_str().to_string(),
            content_type: m.kind.mime().to_string(),
            size_bytes: m.size_bytes,
            file_name: m.file_name,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Multipart)]
pub struct MaterialUpload {
    /// A photo (JPEG, PNG) or a PDF, at most 10 MB.
    pub file: Upload,
}

#[derive(Debug, ApiResponse)]
pub enum Uploaded {
    #[oai(status = 201)]
    Created(Json<MaterialInfo>),
}

#[derive(Debug, ApiResponse)]
pub enum Removed {
    #[oai(status = 204)]
    Done,
}

fn content_error(e: ContentError) -> ApiError {
    let status = match e {
        ContentError::TooLarge { .. } => poem::http::StatusCode::PAYLOAD_TOO_LARGE,
        _ => poem::http::StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.code(), e.message_zh()).with_field("file")
}

/// A name safe to show and to put in a header: no path, no control characters, 100 at most.
fn clean_file_name(name: Option<&str>, extension: &str) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(100)
        .collect();
    if cleaned.trim().is_empty() {
        format!("material.{extension}")
    } else {
        cleaned
    }
}

fn object_path(application_id: Uuid) -> ObjectPath {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    ObjectPath::from(format!(
        "materials/{}/{}",
        application_id.simple(),
        hex::encode(secret)
    ))
}

fn store_error(e: object_store::Error) -> ApiError {
    tracing::error!(error = %e, "object storage");
    ApiError::unavailable()
}

pub struct MaterialsApi;

#[OpenApi(tag = "ApiTags::Applications")]
impl MaterialsApi {
    /// Upload one proof file (multipart field `file`) to an application not yet submitted.
    #[oai(path = "/applications/:id/materials", method = "post")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: MaterialUpload,
    ) -> Result<Uploaded, ApiError> {
        let application = load_own(&state, &auth, id.0).await?;
        if !application.status.is_editable() {
            return Err(ApiError::rejected("not_editable"));
        }
        UPLOADS_PER_ACCOUNT
            .hit(&*state.ephemeral, &auth.0.account_id.to_string())
            .await?;
        let upload = body.file;
        if upload.size() > MAX_FILE_BYTES {
            return Err(content_error(ContentError::TooLarge {
                max: MAX_FILE_BYTES,
            }));
        }
        let name = upload.file_name().map(str::to_string);
        let raw = upload
            .into_vec()
            .await
            .map_err(|_| ApiError::bad_request("invalid_upload", "上传的文件无法读取"))?;
        let (kind, clean) = content::sanitize(&raw).map_err(content_error)?;
        let path = object_path(application.id);
        let material = Material {
            id: Uuid::new_v4(),
            application_id: application.id,
            object_key: path.to_string(),
            kind,
            size_bytes: clean.len() as i64,
            file_name: clean_file_name(name.as_deref(), kind.extension()),
            sha256: hex::encode(Sha256::digest(&clean)),
            created_at: state.clock.now(),
        };
        state
            .files
            .put(&path, clean.into())
            .await
            .map_err(store_error)?;
        match service::add_material(&*state.storage, &material).await {
            Ok(stored) => Ok(Uploaded::Created(Json(stored.into()))),
            Err(e) => {
                // Nothing half-written: the bytes go when the row does not come.
                if let Err(del) = state.files.delete(&path).await {
                    tracing::warn!(error = %del, "could not remove an orphaned upload");
                }
                Err(e.into())
            }
        }
    }

    /// The proof file itself, for its owner and the clerks of its service point.
    #[oai(path = "/applications/:id/materials/:mid", method = "get")]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let (application, material) = service::readable_material(
            &*state.storage,
            auth.0.account_id,
            auth.0.role,
            id.0,
            mid.0,
        )
        .await?;
        let bytes = state
            .files
            .get(&ObjectPath::from(material.object_key.as_str()))
            .await
            .map_err(store_error)?
            .bytes()
            .await
            .map_err(store_error)?;
        if auth.0.role.is_staff() {
            crate::platform::audit::record(
                &state,
                &auth,
                "read_material",
                "material",
                material.id,
                format!("application {}", application.id),
            )
            .await?;
        }
        Ok(Response::new(Binary(bytes.to_vec()))
            .header("Content-Type", material.kind.mime())
            .header(
                "Content-Disposition",
                format!(
                    "inline; filename=\"material.{}\"",
                    material.kind.extension()
                ),
            )
            .header("Cache-Control", "private, no-store"))
    }

    /// Delete a proof file before submitting.
    #[oai(path = "/applications/:id/materials/:mid", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        mid: Path<Uuid>,
    ) -> Result<Removed, ApiError> {
        let application = load_own(&state, &auth, id.0).await?;
        let material = service::remove_material(&*state.storage, application.id, mid.0).await?;
        if let Err(e) = state
            .files
            .delete(&ObjectPath::from(material.object_key.as_str()))
            .await
        {
            tracing::warn!(error = %e, "could not remove a deleted proof file's bytes");
        }
        Ok(Removed::Done)
    }
}
