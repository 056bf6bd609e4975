//! The HTTP error of every operation: `{"code", "message"}` with a stable code.
//!
//! Each lower layer has its own error enum (`StorageError`, `EphemeralError`, the domain errors
//! of each resource); each maps into `ApiError` exhaustively, so a new variant cannot silently
//! become a 500.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::platform::ephemeral::EphemeralError;
use crate::platform::storage::StorageError;

/// The wait a 503 for an unreachable database or Redis asks for, as `/readyz` does.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

#[derive(Debug, Clone, Default, Object, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_id_number`.
    pub code: String,
    /// A sentence for people, in Chinese.
    pub message: String,
    /// The request field the error is about, when there is one.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before trying again (rate limits, a busy server).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `condition_not_met`: the first day the chosen condition can be used (absent without a
    /// residence registration, from which the period counts).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_from: Option<chrono::NaiveDate>,
    /// `condition_not_met`: the conditions that need no residence period (e.g. `talent`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt_conditions: Option<Vec<String>>,
}

#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request cannot be served as sent.
    #[oai(status_range = "4XX")]
    Client(
        StatusCode,
        Json<ErrorBody>,
        /// Seconds to wait, on a 429 (the body's `retry_after`, for HTTP clients and proxies).
        #[oai(header = "Retry-After")]
        Option<u64>,
    ),
    /// Something on our side failed; the message says nothing internal.
    #[oai(status_range = "5XX")]
    Server(
        StatusCode,
        Json<ErrorBody>,
        /// Seconds to wait, on a 503 when the server is busy.
        #[oai(header = "Retry-After")]
        Option<u64>,
    ),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        let body = Json(ErrorBody {
            code: code.into(),
            message: message.into(),
            ..ErrorBody::default()
        });
        if status.is_server_error() {
            ApiError::Server(status, body, None)
        } else {
            ApiError::Client(status, body, None)
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unprocessable(code: &str, field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
    }
    /// A page size outside 1 to [`page::MAX_LIMIT`](crate::platform::page::MAX_LIMIT).
    pub fn invalid_limit() -> Self {
        Self::unprocessable(
            "invalid_limit",
            "limit",
            format!("每页条数应在1到{}之间", crate::platform::page::MAX_LIMIT),
        )
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "没有权限执行此操作")
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "未找到")
    }
    pub fn conflict(code: &str, field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message).with_field(field)
    }
    pub fn too_many(code: &str, retry_after: u64, message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, message).with_retry_after(retry_after)
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "服务暂时不可用，请稍后再试",
        )
    }
    /// The database or Redis cannot be reached: nothing is wrong with the request, and the
    /// client (or a proxy) may try again after the wait `/readyz` also gives.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "服务暂时不可用，请稍后再试",
        )
        .with_retry_after(UNAVAILABLE_RETRY_SECS)
    }

    /// A rule refused the request; `code` is the storage layer's stable name for the rule.
    pub fn rejected(code: &str) -> Self {
        let (status, message) = match code {
            "too_many_applicants" => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "每个账号最多为5人提交预约申请",
            ),
            "materials_not_accepted" => (
                StatusCode::CONFLICT,
                "每份申请最多上传10个证明材料，且只能在提交前上传",
            ),
            "not_editable" => (StatusCode::CONFLICT, "申请已提交，不能修改"),
            "not_submittable" => (
                StatusCode::CONFLICT,
                "请先选择申领条件并上传证明材料，已提交的申请不能重复提交",
            ),
            "not_cancellable" => (StatusCode::CONFLICT, "该申请已受理或已结束，不能取消"),
            "not_bookable" => (StatusCode::CONFLICT, "该申请当前不能预约"),
            "not_reviewable" => (StatusCode::CONFLICT, "该申请当前不在初审阶段"),
            "no_appointment" => (StatusCode::CONFLICT, "该申请没有有效的预约"),
            "not_checkable" => (StatusCode::CONFLICT, "该预约当前不能受理"),
            "not_today" => (StatusCode::CONFLICT, "只能受理当天的预约"),
            "not_issuable" => (StatusCode::CONFLICT, "该申请尚未受理，不能签发"),
            "endorsement_conflict" => (StatusCode::CONFLICT, "签注状态已变化，请刷新后重试"),
            "already_revoked" => (StatusCode::CONFLICT, "该居住证已注销"),
            "not_submitted" => (StatusCode::CONFLICT, "申请尚未提交"),
            "slot_full" => (StatusCode::CONFLICT, "该时段预约已满，请选择其他日期"),
            _ => (StatusCode::CONFLICT, "请求与当前状态冲突"),
        };
        Self::new(status, code, message)
    }

    /// The wait goes in the body (the PWA shows it) and in the `Retry-After` header.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        let secs = secs.max(1);
        self.body_mut().retry_after = Some(secs);
        match &mut self {
            ApiError::Client(_, _, header) | ApiError::Server(_, _, header) => *header = Some(secs),
        }
        self
    }

    /// A condition refused for the residence period: when it can be used, and what can be now.
    pub fn with_eligibility(
        mut self,
        eligible_from: Option<chrono::NaiveDate>,
        exempt_conditions: Vec<String>,
    ) -> Self {
        let body = self.body_mut();
        body.eligible_from = eligible_from;
        body.exempt_conditions = Some(exempt_conditions);
        self
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.body_mut().field = Some(field.into());
        self
    }

    fn body_mut(&mut self) -> &mut ErrorBody {
        match self {
            ApiError::Client(_, Json(b), _) | ApiError::Server(_, Json(b), _) => b,
        }
    }

    pub fn body(&self) -> &ErrorBody {
        match self {
            ApiError::Client(_, Json(b), _) | ApiError::Server(_, Json(b), _) => b,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client(s, ..) | ApiError::Server(s, ..) => *s,
        }
    }
}

/// A page cursor from the query parameter `field` (`before` or `after`); one this server did
/// not write is refused with `422 invalid_cursor`.
pub fn cursor_query(
    text: Option<&str>,
    field: &str,
) -> Result<Option<crate::platform::page::Cursor>, ApiError> {
    text.map(|t| {
        crate::platform::page::Cursor::parse(t).ok_or_else(|| {
            ApiError::unprocessable("invalid_cursor", field, "分页位置无效，请从第一页重新加载")
        })
    })
    .transpose()
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ApiError::not_found(),
            StorageError::Conflict(what) => {
                ApiError::conflict(&format!("{what}_taken"), what, "该信息已被使用")
            }
            StorageError::ForeignKey => ApiError::new(
                StatusCode::CONFLICT,
                "in_use",
                "相关的记录不存在或仍在使用中",
            ),
            // The same answer as busy password hashers: nothing is wrong with the request.
            StorageError::Busy(err) => {
                tracing::warn!(error = %err, "database busy after a retry");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "当前访问人数较多，请稍后再试",
                )
                .with_retry_after(1)
            }
            StorageError::Database(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::unavailable()
            }
            StorageError::Unavailable(err) => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::unavailable()
            }
            StorageError::Corrupt(what) => {
                tracing::error!(what, "corrupt stored data");
                ApiError::internal()
            }
        }
    }
}

impl From<EphemeralError> for ApiError {
    fn from(e: EphemeralError) -> Self {
        tracing::warn!(error = %e, "ephemeral store error");
        ApiError::unavailable()
    }
}

/// Turns an error that never reached a handler (unknown path, unparsable JSON, missing
/// parameter, body too large) into the same `{"code","message"}` shape.
pub fn error_body_for(status: StatusCode, detail: &str) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "未找到"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持此请求方法"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "请先登录"),
        StatusCode::FORBIDDEN => ("forbidden", "没有权限执行此操作"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "提交的内容过大"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "不支持的内容类型"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "请求过于频繁，请稍后再试"),
        s if s.is_server_error() => ("internal_error", "服务暂时不可用，请稍后再试"),
        _ => ("invalid_request", "请求格式不正确"),
    };
    let message = if status.is_client_error() && !detail.is_empty() && code == "invalid_request" {
        format!("{message}: {detail}")
    } else {
        message.to_string()
    };
    ErrorBody {
        code: code.into(),
        message,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_answers_busy_with_a_wait() {
        let e = ApiError::from(StorageError::Busy(sqlx::Error::PoolTimedOut));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.body().code, "busy");
        assert_eq!(e.body().retry_after, Some(1));
    }

    #[test]
    fn an_unreachable_database_or_redis_answers_503_with_a_wait() {
        let db = ApiError::from(StorageError::Database(sqlx::Error::PoolTimedOut));
        let eph = ApiError::from(EphemeralError::Redis(redis::RedisError::from((
            redis::ErrorKind::Io,
            "connection refused",
        ))));
        for e in [db, eph] {
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(e.body().code, "service_unavailable");
            assert_eq!(e.body().retry_after, Some(UNAVAILABLE_RETRY_SECS));
            let ApiError::Server(_, _, header) = e else {
                panic!("a 503 is a server answer")
            };
            assert_eq!(header, Some(UNAVAILABLE_RETRY_SECS));
        }
    }
}
