//! The resident's application endpoints: create, read, edit, submit, the receipt, cancel.

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::model::Status;
use crate::casework::service;
use crate::identity::auth::SessionAuth;
use crate::identity::rate_limits::APPLICATIONS_PER_ACCOUNT;
use crate::platform::error::ApiError;
use crate::platform::idempotency;
use crate::platform::state::AppState;
use crate::platform::web::ApiTags;
use crate::residence::http::require_applicant;

pub mod views;

use views::{
    ApplicationDetail, ApplicationInput, ApplicationSummary, Created, brief, check_fields, detail,
    load_own, people_limit, summary,
};

pub struct ApplicationsApi;

#[OpenApi(tag = "ApiTags::Applications")]
impl ApplicationsApi {
    /// Step 1 (and optionally step 2): a draft application.
    #[oai(path = "/applications", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ApplicationInput>,
    ) -> Result<Created, ApiError> {
        require_applicant(&auth)?;
        APPLICATIONS_PER_ACCOUNT
            .hit(&*state.ephemeral, &auth.0.account_id.to_string())
            .await?;
        let fields = check_fields(&state, &auth, body.0, None).await?;
        let created = service::create(
            &*state.storage,
            auth.0.account_id,
            &fields,
            people_limit(&auth),
            state.clock.now(),
        )
        .await?;
        Ok(Created::Created(Json(detail(&state, created).await?)))
    }

    /// My applications (我的预约), newest first.
    #[oai(path = "/applications", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<ApplicationSummary>>, ApiError> {
        require_applicant(&auth)?;
        let list = service::applications_of(&*state.storage, auth.0.account_id).await?;
        // An account has at most a handful of applications: one look-up each for its day.
        let mut rows = Vec::with_capacity(list.len());
        for a in &list {
            let appointment = service::current_appointment(&*state.storage, a.id).await?;
            rows.push(summary(a, appointment.as_ref()));
        }
        Ok(Json(rows))
    }

    /// Basic information, proof and appointment.
    #[oai(path = "/applications/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let a = load_own(&state, &auth, id.0).await?;
        Ok(Json(detail(&state, a).await?))
    }

    /// Edit steps 1 and 2 while a draft, or after pre-review returned it.
    #[oai(path = "/applications/:id", method = "patch")]
    async fn edit(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<ApplicationInput>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let current = load_own(&state, &auth, id.0).await?;
        if !current.status.is_editable() {
            return Err(ApiError::rejected("not_editable"));
        }
        let fields = check_fields(&state, &auth, body.0, Some(&current.fields)).await?;
        let updated = service::update(
            &*state.storage,
            auth.0.account_id,
            id.0,
            &fields,
            people_limit(&auth),
            state.clock.now(),
        )
        .await?;
        Ok(Json(detail(&state, updated).await?))
    }

    /// 确认申报. An `Idempotency-Key` makes a repeat harmless.
    #[oai(path = "/applications/:id/submit", method = "post")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let request = format!("submit:{}", id.0);
        let state = &*state;
        let out = idempotency::once(
            state,
            auth.0.account_id,
            key.0.as_deref(),
            &request,
            || async {
                // The service checks ownership, the condition, the proof, then that the
                // condition can be used today.
                let submitted = service::submit(
                    &*state.storage,
                    &state.policy,
                    auth.0.account_id,
                    id.0,
                    state.clock.now(),
                )
                .await?;
                detail(state, submitted).await
            },
            || async {
                let application =
                    service::own_application(&*state.storage, auth.0.account_id, id.0).await?;
                detail(state, application).await
            },
        )
        .await?;
        Ok(Json(out))
    }

    /// 受理回执 (PDF) of a submitted application.
    #[oai(path = "/applications/:id/receipt.pdf", method = "get")]
    async fn receipt(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<poem_openapi::payload::Response<poem_openapi::payload::Binary<Vec<u8>>>, ApiError>
    {
        let a = load_own(&state, &auth, id.0).await?;
        let Some(submitted_at) = a.submitted_at.filter(|_| a.status != Status::Draft) else {
            return Err(ApiError::rejected("not_submitted"));
        };
        let point = brief(&state, a.fields.service_point_id).await?;
        let appointment = service::current_appointment(&*state.storage, a.id)
            .await?
            .map(|ap| {
                format!(
                    "{} {}",
                    ap.day.format("%Y年%m月%d日"),
                    ap.session.label_zh()
                )
            });
        let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
        let fields = crate::credentials::documents::ReceiptFields {
            number: a.number.clone(),
            applicant_name: a.fields.applicant_name.clone(),
            applicant_id_number: a.fields.applicant_id_number.as_str().to_string(),
            business_type: a.fields.business_type.label_zh().to_string(),
            service_point: point.name,
            service_point_address: point.address,
            submitted_at: submitted_at
                .with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            appointment,
            status: a.status.label_zh().to_string(),
        };
        let fonts = state.fonts.clone();
        let pdf = tokio::task::spawn_blocking(move || {
            crate::credentials::documents::receipt(&fonts, &fields)
        })
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(crate::credentials::documents::DocumentError::into_api)?;
        Ok(
            poem_openapi::payload::Response::new(poem_openapi::payload::Binary(pdf))
                .header("Content-Type", "application/pdf")
                .header("Content-Disposition", "inline; filename=\"receipt.pdf\"")
                .header("Cache-Control", "private, no-store"),
        )
    }

    /// Withdraw the application; its place, if any, is given back.
    #[oai(path = "/applications/:id/cancel", method = "post")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ApplicationDetail>, ApiError> {
        let current = load_own(&state, &auth, id.0).await?;
        if !current.status.is_cancellable() {
            return Err(ApiError::rejected("not_cancellable"));
        }
        let cancelled =
            service::cancel(&*state.storage, auth.0.account_id, id.0, state.clock.now()).await?;
        Ok(Json(detail(&state, cancelled).await?))
    }
}
