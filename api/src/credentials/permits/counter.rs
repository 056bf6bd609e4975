//! The staff's permit operations at the counter: issue, the staff copy of the slip, search by
//! ID number, revocation, real-name verification and the account search it needs. Every one
//! is written to the audit log.

use super::*;

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
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let a = state.storage.application(id.0).await?;
        if !staff_serves(&state, &auth, a.fields.service_point_id).await? {
            return Err(ApiError::not_found());
        }
        let permit = issue(&state, a.id).await?;
        audit::record(
            &state,
            &auth,
            "issue_permit",
            "permit",
            permit.id,
            format!("application {}", a.id),
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
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let p = load_served(&state, &auth, id.0).await?;
        audit::record(&state, &auth, "print_slip", "permit", p.id, "").await?;
        slip_pdf(&state, &p).await
    }

    /// A person's permits issued at my service points, found by the ID number on the card or
    /// the form (to revoke, or to reprint the slip).
    #[oai(path = "/staff/permits", method = "get")]
    async fn find_permits(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<String>,
    ) -> Result<Json<Vec<PermitView>>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let card = IdNumber::parse(&id_number.0)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        let scope = staff_scope(&state, &auth).await?;
        let mut found = state.storage.permits_of_person(card.as_str()).await?;
        found.retain(|p| scope.covers(p.service_point_id));
        for p in &found {
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
        Ok(Json(found.iter().map(|p| view(p, today)).collect()))
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
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let p = load_served(&state, &auth, id.0).await?;
        let n = notice_to(
            &p,
            None,
            "permit_revoked",
            "居住证已注销",
            format!(
                "【居住证】您的居住证{}已注销。如有疑问请联系受理点。",
                p.number
            ),
        );
        let revoked = service::revoke(
            &*state.storage,
            p.id,
            body.0.reason.as_str(),
            state.clock.now(),
            &n,
        )
        .await?;
        audit::record(
            &state,
            &auth,
            "revoke_permit",
            "permit",
            p.id,
            format!(
                "{} {}",
                body.0.reason.as_str(),
                body.0.note.unwrap_or_default()
            ),
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
    ) -> Result<Json<crate::identity::views::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let account = state.storage.account_by_id(id.0).await?;
        let card = IdNumber::parse(&body.0.id_number)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        if account.role != Role::Resident || account.id_number.as_deref() != Some(card.as_str()) {
            return Err(ApiError::unprocessable(
                "id_number_mismatch",
                "id_number",
                "证件号码与账号登记的不一致",
            ));
        }
        state
            .storage
            .set_real_name_verified(account.id, state.clock.now())
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
        let account = state.storage.account_by_id(account.id).await?;
        Ok(Json(
            crate::identity::views::Me::of(&state, &account).await?,
        ))
    }

    /// Find a resident's account by the ID number on the card (for 实名认证).
    #[oai(path = "/staff/accounts", method = "get")]
    async fn find_account(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id_number: Query<String>,
    ) -> Result<Json<crate::identity::views::Me>, ApiError> {
        auth.0.require(&[Role::Clerk, Role::Admin])?;
        let card = IdNumber::parse(&id_number.0)
            .map_err(|e| ApiError::unprocessable(e.code(), "id_number", e.message()))?;
        let account = state.storage.resident_by_id_number(card.as_str()).await?;
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
            crate::identity::views::Me::of(&state, &account).await?,
        ))
    }
}
