//! The staff's permit operations at the counter: issue, the staff copy of the slip, search by
//! ID number, revocation, real-name verification and the account search it needs. Every one
//! is written to the audit log.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, Response};
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::wallet::{pdf, signer};
use super::{PermitView, RevokeReasonView, view};
use crate::credentials::permits::model::RevokeReason;
use crate::credentials::service;
use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::platform::audit;
use crate::platform::clock::local_date;
use crate::platform::error::{ApiError, cursor_query};
use crate::platform::state::AppState;
use crate::platform::text::{MultiLineText, Nullable, Text};
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Object)]
pub struct RevokeInput {
    pub reason: RevokeReasonView,
    pub note: Nullable<MultiLineText>,
}

#[derive(Debug, Clone, Object)]
pub struct RealNameInput {
    /// The ID number read from the card, which must match the account's.
    pub id_number: Text,
}

/// A person's permits at my service points, a page at a time.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PermitPage {
    /// Newest first.
    pub items: Vec<PermitView>,
    /// Send as `before` for the older permits; absent on the last page.
    pub next_before: Option<String>,
}

pub struct PermitCounterApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl PermitCounterApi {
    /// 签发: issue the permit of a checked-in application of my service point.
    #[oai(path = "/staff/applications/:id/issue", method = "post")]
    async fn issue(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let staff = auth.0.staff()?;
        auth.0.require_fresh_step_up()?;
        let permit = service::issue(
            &*state.storage,
            staff,
            id.0,
            &state.policy.name_zh,
            state.clock.now(),
        )
        .await?;
        audit::record(
            &state,
            &auth,
            "issue_permit",
            "permit",
            permit.id,
            format!("application {}", id.0),
        )
        .await?;
        Ok(Json(view(&permit, local_date(state.clock.now()))))
    }

    /// Print the confirmation slip at the counter (older people without a phone).
    #[oai(path = "/staff/permits/:id/slip.pdf", method = "get")]
    async fn staff_slip(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let staff = auth.0.staff()?;
        let p = service::served_permit(&*state.storage, staff, id.0).await?;
        audit::record(&state, &auth, "print_slip", "permit", p.id, "").await?;
        let bytes = service::slip(signer(&state), &state.fonts, &p).await?;
        Ok(pdf(bytes))
    }

    /// A person's permits issued at my service points, found by the ID number on the card or
    /// the form (to revoke, or to reprint the slip).
    #[oai(path = "/staff/permits", method = "get")]
    async fn find_permits(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<Text>,
        // 1 to 200 (50 unless given); `before`: the previous page's `next_before`.
        limit: Query<Option<i64>>,
        before: Query<Option<String>>,
    ) -> Result<Json<PermitPage>, ApiError> {
        let staff = auth.0.staff()?;
        let before = cursor_query(before.0.as_deref(), "before")?;
        let found =
            service::find_served(&*state.storage, staff, &id_number.0, before, limit.0).await?;
        for p in &found.items {
            audit::record(
                &state,
                &auth,
                "find_permit",
                "permit",
                p.id,
                "looked up by ID number",
            )
            .await?;
        }
        let today = local_date(state.clock.now());
        Ok(Json(PermitPage {
            items: found.items.iter().map(|p| view(p, today)).collect(),
            next_before: found.next.map(|c| c.to_text()),
        }))
    }

    /// Revoke a permit (补领, 注销, fraud): its credentials then verify as revoked.
    #[oai(path = "/staff/permits/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<RevokeInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        let staff = auth.0.staff()?;
        auth.0.require_fresh_step_up()?;
        let reason = RevokeReason::from(body.0.reason);
        let revoked =
            service::revoke(&*state.storage, staff, id.0, reason, state.clock.now()).await?;
        audit::record(
            &state,
            &auth,
            "revoke_permit",
            "permit",
            revoked.id,
            format!("{} {}", reason.as_str(), body.0.note.0.unwrap_or_default()),
        )
        .await?;
        Ok(Json(view(&revoked, local_date(state.clock.now()))))
    }

    /// 实名认证: the clerk checked the ID card at the counter.
    #[oai(path = "/staff/accounts/:id/real-name", method = "post")]
    async fn real_name(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<RealNameInput>,
    ) -> Result<Json<crate::identity::http::views::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        auth.0.require_fresh_step_up()?;
        let account =
            service::confirm_real_name(&*state.storage, id.0, &body.0.id_number, state.clock.now())
                .await?;
        audit::record(
            &state,
            &auth,
            "real_name_verified",
            "account",
            account.id,
            "ID card checked",
        )
        .await?;
        let account = service::account(&*state.storage, account.id).await?;
        Ok(Json(
            crate::identity::http::views::Me::of(&state, &account).await?,
        ))
    }

    /// Find a resident's account by the ID number on the card (for 实名认证).
    #[oai(path = "/staff/accounts", method = "get")]
    async fn find_account(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<Text>,
    ) -> Result<Json<crate::identity::http::views::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let account = service::find_resident(&*state.storage, &id_number.0).await?;
        audit::record(
            &state,
            &auth,
            "find_account",
            "account",
            account.id,
            "looked up by ID number",
        )
        .await?;
        Ok(Json(
            crate::identity::http::views::Me::of(&state, &account).await?,
        ))
    }
}
