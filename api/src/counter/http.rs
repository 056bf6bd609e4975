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
use crate::casework::applications::model::{Application, Decision, Status};
use crate::casework::applications::{
    ApplicationDetail, ApplicationInput, ApplicationSummary, AppointmentInfo, DecisionView,
    StatusView, appointment_info, brief, check_fields, detail, staff_serves, summary,
};
use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::notifications::notice;
use crate::platform::clock::local_date;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Object)]
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

#[derive(Debug, Clone, Object)]
pub struct ReviewInput {
    /// `pass` or `return`.
    pub decision: DecisionView,
    /// Required when returning: what the applicant must fix.
    pub note: Option<String>,
}

/// The service points whose work the caller may see.
async fn scope(state: &AppState, auth: &SessionAuth) -> Result<Vec<Uuid>, ApiError> {
    auth.0.require(&[Role::Clerk, Role::Admin])?;
    match auth.0.role {
        Role::Admin => Ok(state
            .storage
            .service_points(None)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect()),
        _ => Ok(state
            .storage
            .staff_service_points(auth.0.account_id)
            .await?),
    }
}

fn queue_item(a: &Application, now: DateTime<Utc>) -> QueueItem {
    QueueItem {
        application: summary(a),
        service_point_id: a.fields.service_point_id,
        review_due_at: review_due_at(a),
        overdue: review_overdue(a, now),
    }
}

/// A staff member's view of one application, or not found outside their scope.
async fn load_scoped(
    state: &AppState,
    auth: &SessionAuth,
    id: Uuid,
) -> Result<Application, ApiError> {
    auth.0.require(&[Role::Clerk, Role::Admin])?;
    let a = state.storage.application(id).await?;
    if a.status == Status::Draft || !staff_serves(state, auth, a.fields.service_point_id).await? {
        return Err(ApiError::not_found());
    }
    Ok(a)
}

pub struct CounterApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl CounterApi {
    /// The audit log, newest first (administrators).
    #[oai(path = "/staff/audit", method = "get")]
    async fn audit_log(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<AuditView>>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let entries = state.storage.audit_log(500).await?;
        Ok(Json(
            entries
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
        ))
    }

    /// The applications of my service points, by pre-review deadline; `status=booked` is the
    /// pre-review queue.
    #[oai(path = "/staff/applications", method = "get")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        status: Query<Option<StatusView>>,
    ) -> Result<Json<Vec<QueueItem>>, ApiError> {
        let now = state.clock.now();
        let mut items = Vec::new();
        for point in scope(&state, &auth).await? {
            for a in state
                .storage
                .applications_at(point, status.0.map(Into::into))
                .await?
            {
                items.push(queue_item(&a, now));
            }
        }
        items.sort_by_key(|i| i.review_due_at);
        Ok(Json(items))
    }

    /// One application with its proof, for review.
    #[oai(path = "/staff/applications/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let a = load_scoped(&state, &auth, id.0).await?;
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
        let a = load_scoped(&state, &auth, id.0).await?;
        let decision = Decision::from(body.0.decision);
        let note = body
            .0
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if decision == Decision::Return && note.is_none() {
            return Err(ApiError::unprocessable(
                "note_required",
                "note",
                "退回时请写明需要补正的内容",
            ));
        }
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(ApiError::unprocessable(
                "invalid_note",
                "note",
                "说明不超过500个字符",
            ));
        }
        let n = notice::reviewed(&a, decision, note.as_deref());
        let reviewed = crate::casework::service::review(
            &*state.storage,
            a.id,
            decision,
            note.as_deref(),
            state.clock.now(),
            &n,
        )
        .await?;
        crate::platform::audit::record(
            &state,
            &auth,
            "review",
            "application",
            a.id,
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
    /// against the originals), and it is accepted at once, ready to issue. The permit is held
    /// under the service point's staff until the person claims it into their own verified
    /// account; the slip is printed at the counter meanwhile.
    #[oai(path = "/staff/walk-ins", method = "post")]
    async fn walk_in(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ApplicationInput>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let input = body.0;
        let point = input.service_point_id.ok_or_else(|| {
            ApiError::unprocessable("field_required", "service_point_id", "请选择受理点")
        })?;
        if !staff_serves(&state, &auth, point).await? {
            return Err(ApiError::unprocessable(
                "wrong_service_point",
                "service_point_id",
                "只能在本人所在受理点现场受理",
            ));
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
        let now = state.clock.now();
        let draft = crate::casework::service::create(
            &*state.storage,
            auth.0.account_id,
            &fields,
            crate::counter::units::MAX_PEOPLE_PER_UNIT,
            now,
        )
        .await?;
        let admitted =
            crate::casework::service::admit_walk_in(&*state.storage, draft.id, now).await?;
        crate::platform::audit::record(&state, &auth, "walk_in", "application", admitted.id, "")
            .await?;
        Ok(Json(detail(&state, admitted).await?))
    }

    /// A service point's appointments of a day (today by default).
    #[oai(path = "/staff/appointments", method = "get")]
    async fn appointments(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        service_point_id: Query<Uuid>,
        date: Query<Option<chrono::NaiveDate>>,
    ) -> Result<Json<Vec<AppointmentInfo>>, ApiError> {
        if !scope(&state, &auth).await?.contains(&service_point_id.0) {
            return Err(ApiError::not_found());
        }
        let day = date.0.unwrap_or_else(|| local_date(state.clock.now()));
        let point = brief(&state, service_point_id.0).await?;
        let mut out = Vec::new();
        for ap in state
            .storage
            .appointments_on(service_point_id.0, day)
            .await?
        {
            let a = state.storage.application(ap.application_id).await?;
            out.push(appointment_info(&a, &ap, point.clone()));
        }
        Ok(Json(out))
    }

    /// 已受理: the applicant is at the counter on the day of the appointment.
    #[oai(path = "/staff/appointments/:id/check-in", method = "post")]
    async fn check_in(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let ap = state.storage.appointment(id.0).await?;
        if !staff_serves(&state, &auth, ap.service_point_id).await? {
            return Err(ApiError::not_found());
        }
        if ap.day != local_date(state.clock.now()) {
            return Err(ApiError::rejected("not_today"));
        }
        let checked =
            crate::booking::service::check_in(&*state.storage, ap.id, state.clock.now()).await?;
        let a = state.storage.application(checked.application_id).await?;
        crate::platform::audit::record(&state, &auth, "check_in", "appointment", ap.id, "").await?;
        Ok(Json(appointment_info(
            &a,
            &checked,
            brief(&state, ap.service_point_id).await?,
        )))
    }
}
