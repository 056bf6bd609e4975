//! `Idempotency-Key`: a client that repeats a booking or submit request with the same key gets
//! the first outcome again instead of a second effect. Keys live in the ephemeral store (shared
//! by every instance when it is Redis) for a day. A record keeps only the request's fingerprint,
//! the status and, for a refusal, the error body: never the answer itself, which names a person;
//! a repeat of a success reads the resource again.

use std::future::Future;
use std::time::Duration;

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::state::AppState;

const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How long a request may hold its key before a repeat may run again: past the bound on one
/// request (a connection wait and a statement timeout), so a first attempt that died with its
/// instance holds the key only briefly.
const PENDING: Duration = Duration::from_secs(20);

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    Pending {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        status: u16,
        err: Option<ErrorBody>,
    },
}

/// Runs `work` once per (account, key): a repeat with the same key and the same request gets
/// the same refusal, or for a success what `reread` answers now; the same key with a different
/// request is refused.
pub async fn once<T, F, Fut, R, RFut>(
    state: &AppState,
    account_id: Uuid,
    key: Option<&str>,
    request: &str,
    work: F,
    reread: R,
) -> Result<T, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
    R: FnOnce() -> RFut,
    RFut: Future<Output = Result<T, ApiError>>,
{
    let Some(key) = key else {
        return work().await;
    };
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key 应为1至128个可见ASCII字符",
        ));
    }
    let slot = format!(
        "idempotency:{account_id}:{}",
        hex::encode(Sha256::digest(key.as_bytes()))
    );
    let fingerprint = hex::encode(Sha256::digest(request.as_bytes()));
    let pending = serde_json::to_string(&Record::Pending {
        fingerprint: fingerprint.clone(),
    })
    .map_err(|_| ApiError::internal())?;
    if !state
        .ephemeral
        .put_if_absent(&slot, &pending, PENDING)
        .await?
    {
        return replay(state, &slot, &fingerprint, reread).await;
    }
    let result = work().await;
    let done = match &result {
        Ok(_) => Some(Record::Done {
            fingerprint,
            status: 200,
            err: None,
        }),
        Err(e) if e.status().is_client_error() => Some(Record::Done {
            fingerprint,
            status: e.status().as_u16(),
            err: Some(e.body().clone()),
        }),
        // A failure on our side may pass: let the client try again with the same key.
        Err(_) => None,
    };
    match done.and_then(|d| serde_json::to_string(&d).ok()) {
        Some(text) => state.ephemeral.put(&slot, &text, KEEP).await?,
        None => state.ephemeral.delete(&slot).await?,
    }
    result
}

async fn replay<T, R, RFut>(
    state: &AppState,
    slot: &str,
    fingerprint: &str,
    reread: R,
) -> Result<T, ApiError>
where
    R: FnOnce() -> RFut,
    RFut: Future<Output = Result<T, ApiError>>,
{
    let stored = state.ephemeral.get(slot).await?;
    let record = stored.and_then(|s| serde_json::from_str::<Record>(&s).ok());
    match record {
        Some(Record::Done { fingerprint: f, .. }) | Some(Record::Pending { fingerprint: f })
            if f != fingerprint =>
        {
            Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "Idempotency-Key",
                "此 Idempotency-Key 已用于另一个请求",
            ))
        }
        Some(Record::Done { status, err, .. }) => match err {
            None => reread().await,
            Some(body) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT);
                let retry_after = body.retry_after;
                Err(ApiError::Client(status, Json(body), retry_after))
            }
        },
        // Still running, or it expired between our two reads.
        _ => Err(ApiError::conflict(
            "request_in_progress",
            "Idempotency-Key",
            "相同的请求正在处理，请稍后再试",
        )
        .with_retry_after(1)),
    }
}
