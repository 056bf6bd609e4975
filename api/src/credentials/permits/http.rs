//! The holder's permit endpoints: the wallet, step-up, the QR, the slip, the device key and
//! the yearly endorsement.

use super::*;

pub struct PermitsApi;

#[OpenApi(tag = "ApiTags::Permits")]
impl PermitsApi {
    /// My permits.
    #[oai(path = "/permits", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<PermitView>>, ApiError> {
        let today = local_date(state.clock.now());
        let permits = state.storage.permits_of(auth.0.account_id).await?;
        Ok(Json(permits.iter().map(|p| view(p, today)).collect()))
    }

    #[oai(path = "/permits/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        Ok(Json(view(&p, local_date(state.clock.now()))))
    }

    /// Step-up with an SMS code (accounts without a passkey): the permit joins the wallet.
    #[oai(path = "/permits/:id/step-up", method = "post")]
    async fn step_up_sms(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<StepUpInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if !state
            .storage
            .passkeys_of(auth.0.account_id)
            .await?
            .is_empty()
        {
            return Err(ApiError::unprocessable(
                "passkey_required",
                "sms_code",
                "您已设置通行密钥，请使用通行密钥确认身份",
            ));
        }
        let account = auth.0.account(&state).await?;
        let phone = account
            .phone
            .as_deref()
            .and_then(PhoneNumber::parse)
            .ok_or_else(|| {
                ApiError::unprocessable("phone_required", "sms_code", "账号未绑定手机号码")
            })?;
        let code = body.0.sms_code.unwrap_or_default();
        verify_sms_code(&state, &phone, SmsPurpose::StepUp, &code).await?;
        into_wallet(&state, p.id).await
    }

    /// Step-up with a passkey: start (the options for `navigator.credentials.get()`).
    #[oai(path = "/permits/:id/step-up/passkey", method = "post")]
    async fn step_up_passkey_start(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        load_own(&state, &auth, id.0).await?;
        crate::identity::auth::start_step_up(&state, auth.0.account_id)
            .await?
            .map(Json)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "no_passkey",
                    "passkey",
                    "账号没有通行密钥，请使用短信验证码",
                )
            })
    }

    /// Step-up with a passkey: finish; the permit joins the wallet.
    #[oai(path = "/permits/:id/step-up/passkey/:ceremony", method = "post")]
    async fn step_up_passkey_finish(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        ceremony: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        crate::identity::auth::finish_step_up(
            &state,
            auth.0.account_id,
            ceremony.0,
            body.0.credential,
        )
        .await?;
        into_wallet(&state, p.id).await
    }

    /// The permit's QR: a freshly signed RP1 credential, as SVG, PNG or text (error
    /// correction M, for screens).
    #[oai(path = "/permits/:id/qr", method = "get")]
    async fn qr(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        presentation: Query<Option<PresentationName>>,
        format: Query<Option<QrFormat>>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份（通行密钥或短信验证码）后再出示居住证",
            ));
        }
        let presentation = match presentation.0.unwrap_or(PresentationName::Full) {
            PresentationName::Full => Presentation::Full,
            PresentationName::Basic => Presentation::Basic,
        };
        let text = credential(&state, &p, presentation).await?;
        let (bytes, content_type) =
            render_qr(&text, format.0.unwrap_or(QrFormat::Svg), QrEcc::Medium)?;
        Ok(Response::new(Binary(bytes))
            .header("Content-Type", content_type)
            .header("Cache-Control", "private, no-store"))
    }

    /// 居住证确认单 (PDF) with the permit's QR, for printing.
    #[oai(path = "/permits/:id/slip.pdf", method = "get")]
    async fn slip(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份（通行密钥或短信验证码）后再打印确认单",
            ));
        }
        slip_pdf(&state, &p).await
    }

    /// Bind a device public key for holder-bound presentation.
    #[oai(path = "/permits/:id/device-key", method = "put")]
    async fn device_key(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<DeviceKeyInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        let key = body.0.public_key.trim().to_ascii_lowercase();
        let valid = hex::decode(&key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| permit_verifier::ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
            .is_some();
        if !valid {
            return Err(ApiError::unprocessable(
                "invalid_device_key",
                "public_key",
                "设备公钥应为64位十六进制的 Ed25519 公钥",
            ));
        }
        if p.claimed_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "step_up_required",
                "请先确认身份",
            ));
        }
        state.storage.bind_device_key(p.id, &key).await?;
        let p = state.storage.permit(p.id).await?;
        Ok(Json(view(&p, local_date(state.clock.now()))))
    }

    /// 签注: within the month before the due date, or late within 2 years of suspension;
    /// needs a real-name verified account.
    #[oai(path = "/permits/:id/endorsements", method = "post")]
    async fn endorse(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = load_own(&state, &auth, id.0).await?;
        let account = auth.0.account(&state).await?;
        if account.role == Role::Resident && account.real_name_verified_at.is_none() {
            return Err(ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "real_name_required",
                "网上签注需先在受理点完成实名认证",
            ));
        }
        if p.status == PermitStatus::Revoked {
            return Err(ApiError::rejected("already_revoked"));
        }
        let today = local_date(state.clock.now());
        let until = rules::endorse(p.first_issued, p.valid_until, today).map_err(|r| match r {
            rules::Refusal::NotDue { opens_on } => ApiError::conflict(
                "endorsement_not_due",
                "permit",
                format!("签注期为有效期届满前一个月，{opens_on} 起可以签注"),
            ),
            rules::Refusal::ReapplyRequired => ApiError::conflict(
                "reapply_required",
                "permit",
                "居住证中止使用已超过两年，不能签注，请重新申领",
            ),
        })?;
        let n = notice_to(
            &p,
            account.phone.as_deref().map(str::to_string),
            "permit_endorsed",
            "签注成功",
            format!(
                "【居住证】{}，您的居住证{}已签注，有效期至{}。",
                p.holder_name, p.number, until
            ),
        );
        let endorsed = service::endorse(
            &*state.storage,
            p.id,
            p.valid_until,
            today,
            until,
            state.clock.now(),
            &n,
        )
        .await?;
        Ok(Json(view(&endorsed, today)))
    }
}
