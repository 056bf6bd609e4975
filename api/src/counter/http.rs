//! The clerk's counter endpoints: the pre-review queue of their service points, one
//! application with its proof, the review decision, walk-ins, the day's appointments and
//! check-in. A clerk sees only the service points they are assigned to; anything else is a 404.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::model::{review_due_at, review_overdue};
use super::service::{self, CounterError};
use crate::casework::applications::http::views::{
    ApplicationDetail, ApplicationInput, ApplicationSummary, AppointmentInfo, DecisionView,
    ServicePointBrief, StatusView, appointment_info, check_fields, detail, eligibility, summary,
};
use crate::casework::applications::model::{Application, Decision, Status};
use crate::identity::auth::SessionAuth;
use crate::identity::model::{IdNumber, Role};
use crate::platform::clock::local_date;
use crate::platform::error::{ApiError, cursor_query as cursor};
use crate::platform::state::AppState;
use crate::platform::text::{MultiLineText, Nullable, Text};
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QueueItem {
    #[oai(flatten)]
    pub application: ApplicationSummary,
    pub service_point_id: Uuid,
    /// When pre-review is due.
    pub review_due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Object)]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub staff_id: Uuid,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditPage {
    /// Newest first; entries of the same time by id.
    pub items: Vec<AuditView>,
    /// Send as `before` for the older entries; absent on the last page.
    pub next_before: Option<String>,
}

/// The pre-review queue, a page at a time.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QueuePage {
    /// Oldest submission first (the pre-review deadline order).
    pub items: Vec<QueueItem>,
    /// Send as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// A service point's appointments of a day, a page at a time.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AppointmentPage {
    /// Morning first, then in booking order.
    pub items: Vec<AppointmentInfo>,
    /// Send as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct ReviewInput {
    /// `pass` or `return`.
    pub decision: DecisionView,
    /// Required when returning: what the applicant must fix.
    pub note: Nullable<MultiLineText>,
}

#[derive(Debug, Clone, Object)]
pub struct ReleaseInput {
    /// The person's 公民身份号码, read from the ID card they show at the counter.
    pub id_number: Text,
    /// What the clerk checked (e.g. 核验本人居民身份证原件); written to the audit log.
    pub note: Nullable<MultiLineText>,
}

#[derive(Debug, Clone, Object)]
pub struct Released {
    /// The application that held the number, now cancelled (its account is told in the app).
    pub application_id: Uuid,
    pub number: String,
    pub status: StatusView,
    /// The person's ID number, masked.
    pub id_number_masked: String,
}

fn queue_item(a: &Application, now: DateTime<Utc>) -> QueueItem {
    QueueItem {
        application: summary(a, None),
        service_point_id: a.fields.service_point_id,
        review_due_at: review_due_at(a),
        overdue: review_overdue(a, now),
    }
}

/// Every counter refusal has its stable code and words.
impl From<CounterError> for ApiError {
    fn from(e: CounterError) -> Self {
        match e {
            CounterError::NotFound => ApiError::not_found(),
            CounterError::NoteRequired => {
                ApiError::unprocessable("note_required", "note", "退回时请写明需要补正的内容")
            }
            CounterError::NoteTooLong => {
                ApiError::unprocessable("invalid_note", "note", "说明不超过500个字符")
            }
            CounterError::WrongServicePoint => ApiError::unprocessable(
                "wrong_service_point",
                "service_point_id",
                "只能在本人所在受理点现场受理",
            ),
            CounterError::NotToday => ApiError::rejected("not_today"),
            CounterError::InvalidLimit => ApiError::invalid_limit(),
            CounterError::UsernameTaken => {
                ApiError::conflict("username_taken", "username", "该账号名已被使用")
            }
            CounterError::Casework(e) => e.into(),
            CounterError::Booking(e) => e.into(),
            CounterError::Storage(e) => e.into(),
        }
    }
}

pub struct CounterApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl CounterApi {
    /// The audit log, newest first (administrators), a page at a time: `limit` 1 to 200 (50
    /// unless given); `before`: the previous page's `next_before`.
    #[oai(path = "/staff/audit", method = "get")]
    async fn audit_log(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        limit: Query<Option<i64>>,
        before: Query<Option<String>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let before = cursor(before.0.as_deref(), "before")?;
        let page = service::audit_log(&*state.storage, before, limit.0).await?;
        Ok(Json(AuditPage {
            items: page
                .items
                .into_iter()
                .map(|e| AuditView {
                    at: e.at,
                    staff_id: e.staff_id,
                    action: e.action,
                    object_type: e.object_type,
                    object_id: e.object_id,
                    detail: e.detail,
                })
                .collect(),
            next_before: page.next.map(|c| c.to_text()),
        }))
    }

    /// The applications of my service points, by pre-review deadline; `status=booked` is the
    /// pre-review queue.
    #[oai(path = "/staff/applications", method = "get")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        status: Query<Option<StatusView>>,
        // 1 to 200 (50 unless given); `after`: the previous page's `next_after`.
        limit: Query<Option<i64>>,
        after: Query<Option<String>>,
    ) -> Result<Json<QueuePage>, ApiError> {
        let now = state.clock.now();
        let staff = auth.0.staff()?;
        let after = cursor(after.0.as_deref(), "after")?;
        let page = service::queue(
            &*state.storage,
            staff,
            status.0.map(Into::into),
            after,
            limit.0,
        )
        .await?;
        Ok(Json(QueuePage {
            items: page.items.iter().map(|a| queue_item(a, now)).collect(),
            next_after: page.next.map(|c| c.to_text()),
        }))
    }

    /// One application with its proof, for review.
    #[oai(path = "/staff/applications/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let staff = auth.0.staff()?;
        let a = service::scoped_application(&*state.storage, staff, id.0).await?;
        crate::platform::audit::record(
            &state,
            &auth,
            "read_application",
            "application",
            a.id,
            "detail with ID number and proof list",
        )
        .await?;
        Ok(Json(detail(&state, a).await?))
    }

    /// 初审: pass, or return with a note naming what to fix; the applicant is told by SMS and
    /// in the app.
    #[oai(path = "/staff/applications/:id/review", method = "post")]
    async fn review(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<ReviewInput>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let staff = auth.0.staff()?;
        let decision = Decision::from(body.0.decision);
        let (reviewed, note) = service::review(
            &*state.storage,
            staff,
            id.0,
            decision,
            body.0.note.0.map(String::from),
            state.clock.now(),
        )
        .await?;
        crate::platform::audit::record(
            &state,
            &auth,
            "review",
            "application",
            reviewed.id,
            format!(
                "{:?}: {}",
                body.0.decision,
                note.as_deref().unwrap_or_default()
            ),
        )
        .await?;
        Ok(Json(detail(&state, reviewed).await?))
    }

    /// 现场受理: a person without an appointment is served at the counter. The clerk files the
    /// application (applicant name, ID number and phone required, and the condition checked
    /// against the originals), and it is accepted at once, ready to issue. The application and
    /// its permit are held by the service point (custody), never in the clerk's own account,
    /// until the person claims the permit into their own real-name verified account by its
    /// number; the slip is printed at the counter meanwhile.
    #[oai(path = "/staff/walk-ins", method = "post")]
    async fn walk_in(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ApplicationInput>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let staff = auth.0.staff()?;
        let input = body.0;
        let point = input.service_point_id.ok_or_else(|| {
            ApiError::unprocessable("field_required", "service_point_id", "请选择受理点")
        })?;
        if !crate::identity::service::serves(&*state.storage, staff, point).await? {
            return Err(CounterError::WrongServicePoint.into());
        }
        if input.applicant_id_number.is_none() || input.applicant_name.is_none() {
            return Err(ApiError::unprocessable(
                "person_incomplete",
                "applicant_id_number",
                "请填写申请人的姓名和公民身份号码",
            ));
        }
        if input.condition.is_none() {
            return Err(ApiError::unprocessable(
                "condition_required",
                "condition",
                "请选择申领条件",
            ));
        }
        let fields = check_fields(&state, &auth, input, None).await?;
        let admitted = service::walk_in(&*state.storage, &fields, state.clock.now()).await?;
        crate::platform::audit::record(&state, &auth, "walk_in", "application", admitted.id, "")
            .await?;
        Ok(Json(detail(&state, admitted).await?))
    }

    /// 解除占用: the person shows their ID card at a counter, and the clerk releases their ID
    /// number from the submitted application another account holds it with. That application
    /// is cancelled, its place given back and its account told in the app; the answer names
    /// nothing of that account. Audited. A checked-in application is not released.
    #[oai(path = "/staff/id-number-releases", method = "post")]
    async fn release_id_number(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ReleaseInput>,
    ) -> Result<Json<Released>, ApiError> {
        auth.0.staff()?;
        auth.0.require_fresh_step_up()?;
        let input = body.0;
        let id = IdNumber::parse(&input.id_number)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        let note = input
            .note
            .0
            .map(|n| n.trim().to_string())
            .unwrap_or_default();
        if note.chars().count() > 500 {
            return Err(CounterError::NoteTooLong.into());
        }
        let released = service::release_id_number(&*state.storage, &id, state.clock.now()).await?;
        crate::platform::audit::record(
            &state,
            &auth,
            "release_id_number",
            "application",
            released.id,
            format!("{}: {note}", id.masked()),
        )
        .await?;
        Ok(Json(Released {
            application_id: released.id,
            number: released.number,
            status: released.status.into(),
            id_number_masked: id.masked(),
        }))
    }

    /// A service point's appointments of a day (today by default).
    #[oai(path = "/staff/appointments", method = "get")]
    async fn appointments(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        service_point_id: Query<Uuid>,
        date: Query<Option<chrono::NaiveDate>>,
        // 1 to 200 (50 unless given); `after`: the previous page's `next_after`.
        limit: Query<Option<i64>>,
        after: Query<Option<String>>,
    ) -> Result<Json<AppointmentPage>, ApiError> {
        let staff = auth.0.staff()?;
        let day = date.0.unwrap_or_else(|| local_date(state.clock.now()));
        let after = cursor(after.0.as_deref(), "after")?;
        let (place, page) = service::day_appointments(
            &*state.storage,
            staff,
            service_point_id.0,
            day,
            after,
            limit.0,
        )
        .await?;
        // The list shows each person's full ID number and phone (the counter matches them to
        // the card), so every person shown is a read in the audit log.
        for (_, ap) in &page.items {
            crate::platform::audit::record(
                &state,
                &auth,
                "list_appointment",
                "appointment",
                ap.id,
                day.to_string(),
            )
            .await?;
        }
        let point = ServicePointBrief::from(&place);
        // Each row says whether its condition can be used today and, once issued, which permit
        // came of it, so the counter's list survives a reload (a page has at most 200 rows).
        let mut items = Vec::with_capacity(page.items.len());
        for (a, ap) in &page.items {
            let mut info = appointment_info(a, ap, point.clone());
            info.eligibility = eligibility(&state, a).await?;
            if a.status == Status::Issued {
                info.permit_id =
                    crate::credentials::service::permit_for_application(&*state.storage, a.id)
                        .await?;
            }
            items.push(info);
        }
        Ok(Json(AppointmentPage {
            items,
            next_after: page.next.map(|c| c.to_text()),
        }))
    }

    /// 已受理: the applicant is at the counter on the day of the appointment.
    #[oai(path = "/staff/appointments/:id/check-in", method = "post")]
    async fn check_in(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        let staff = auth.0.staff()?;
        let (a, checked) =
            service::check_in(&*state.storage, staff, id.0, state.clock.now()).await?;
        crate::platform::audit::record(&state, &auth, "check_in", "appointment", checked.id, "")
            .await?;
        let place = service::service_point(&*state.storage, checked.service_point_id).await?;
        Ok(Json(appointment_info(
            &a,
            &checked,
            ServicePointBrief::from(&place),
        )))
    }
}
