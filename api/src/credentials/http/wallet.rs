//! The holder's permit endpoints: the wallet, step-up, the QR, the slip, the device key and
//! the yearly endorsement.

use permit_verifier::{Presentation, QrEcc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, Response};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::{PermitView, view};
use crate::credentials::permits::qr;
use crate::credentials::service::{self, Signer};
use crate::identity::auth::{self, SessionAuth};
use crate::identity::http::views::{CeremonyStarted, FinishCeremony};
use crate::platform::clock::local_date;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{Nullable, Text};
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum PresentationName {
    /// 完整: for a police or government counter.
    Full,
    /// 基本: ID number masked, for banks, hospitals, landlords.
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum QrFormat {
    Svg,
    Png,
    Text,
}

#[derive(Debug, Clone, Object)]
pub struct StepUpInput {
    /// The SMS code sent with purpose `step_up`, for accounts without a passkey.
    pub sms_code: Nullable<Text>,
}

#[derive(Debug, Clone, Object)]
pub struct DeviceKeyInput {
    /// The device's Ed25519 public key, 64 hexadecimal characters.
    pub public_key: Text,
}

#[derive(Debug, ApiResponse)]
pub enum PermitSteppedUp {
    /// The permit is in the wallet and the session is fresh; the device cookie marks this
    /// device as seen.
    #[oai(status = 200)]
    Ok(Json<PermitView>, #[oai(header = "Set-Cookie")] String),
}

pub(super) fn signer(state: &AppState) -> Signer<'_> {
    Signer {
        storage: &*state.storage,
        keys: &state.keys,
        now: state.clock.now(),
    }
}

/// The QR image (or text) of a credential, with its content type.
fn render_qr(text: &str, format: QrFormat) -> Result<(Vec<u8>, &'static str), ApiError> {
    let failed = |e: String| {
        tracing::error!(error = %e, "rendering a QR code");
        ApiError::internal()
    };
    let ecc = QrEcc::Medium;
    match format {
        QrFormat::Text => Ok((text.as_bytes().to_vec(), "text/plain; charset=utf-8")),
        QrFormat::Svg => Ok((qr::svg(text, ecc).map_err(failed)?, "image/svg+xml")),
        QrFormat::Png => Ok((qr::png(text, ecc).map_err(failed)?, "image/png")),
    }
}

pub(super) fn pdf(bytes: Vec<u8>) -> Response<Binary<Vec<u8>>> {
    Response::new(Binary(bytes))
        .header("Content-Type", "application/pdf")
        .header(
            "Content-Disposition",
            "inline; filename=\"permit-slip.pdf\"",
        )
        .header("Cache-Control", "private, no-store")
}

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
        let permits = service::wallet(&*state.storage, auth.0.account_id).await?;
        Ok(Json(permits.iter().map(|p| view(p, today)).collect()))
    }

    #[oai(path = "/permits/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PermitView>, ApiError> {
        let p = service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
        Ok(Json(view(&p, local_date(state.clock.now()))))
    }

    /// Step-up with an SMS code (accounts without a passkey): the permit joins the wallet,
    /// and the session is fresh as after `POST /sessions/current/step-up`.
    #[oai(path = "/permits/:id/step-up", method = "post")]
    async fn step_up_sms(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        id: Path<Uuid>,
        body: Json<StepUpInput>,
    ) -> Result<PermitSteppedUp, ApiError> {
        let p = service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
        let code = body.0.sms_code.0.unwrap_or_default();
        let cookie = auth::step_up_with_sms(&state, &auth.0, req, &code).await?;
        into_wallet(&state, p.id, cookie).await
    }

    /// Step-up with a passkey: start (the options for `navigator.credentials.get()`).
    #[oai(path = "/permits/:id/step-up/passkey", method = "post")]
    async fn step_up_passkey_start(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CeremonyStarted>, ApiError> {
        service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
        Ok(Json(auth::start_step_up(&state, &auth.0).await?))
    }

    /// Step-up with a passkey: finish; the permit joins the wallet and the session is fresh.
    #[oai(path = "/permits/:id/step-up/passkey/:ceremony", method = "post")]
    async fn step_up_passkey_finish(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        id: Path<Uuid>,
        ceremony: Path<Uuid>,
        body: Json<FinishCeremony>,
    ) -> Result<PermitSteppedUp, ApiError> {
        let p = service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
        let cookie =
            auth::finish_step_up(&state, &auth.0, req, ceremony.0, body.0.credential).await?;
        into_wallet(&state, p.id, cookie).await
    }

    /// The permit's QR: a freshly signed RP1 credential, as SVG, PNG or text (error
    /// correction M, for screens). The full presentation is shown only on a device a step-up
    /// has passed on (or in a fresh session); elsewhere `403 step_up_required`.
    #[oai(path = "/permits/:id/qr", method = "get")]
    async fn qr(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        id: Path<Uuid>,
        presentation: Query<Option<PresentationName>>,
        format: Query<Option<QrFormat>>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        let presentation = match presentation.0.unwrap_or(PresentationName::Full) {
            PresentationName::Full => Presentation::Full,
            PresentationName::Basic => Presentation::Basic,
        };
        if matches!(presentation, Presentation::Full) {
            // The permit first, so another account's permit stays a 404.
            service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
            auth::require_seen_device(&state, &auth.0, req).await?;
        }
        let text = service::shown_credential(signer(&state), auth.0.account_id, id.0, presentation)
            .await?;
        let (bytes, content_type) = render_qr(&text, format.0.unwrap_or(QrFormat::Svg))?;
        Ok(Response::new(Binary(bytes))
            .header("Content-Type", content_type)
            .header("Cache-Control", "private, no-store"))
    }

    /// 居住证确认单 (PDF) with the permit's full QR, for printing: like the full QR, only on a
    /// device a step-up has passed on (or in a fresh session).
    #[oai(path = "/permits/:id/slip.pdf", method = "get")]
    async fn slip(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        req: &Request,
        id: Path<Uuid>,
    ) -> Result<Response<Binary<Vec<u8>>>, ApiError> {
        service::own_permit(&*state.storage, auth.0.account_id, id.0).await?;
        auth::require_seen_device(&state, &auth.0, req).await?;
        let bytes =
            service::holder_slip(signer(&state), &state.fonts, auth.0.account_id, id.0).await?;
        Ok(pdf(bytes))
    }

    /// Bind (or re-bind) a device public key for holder-bound presentation; needs a fresh
    /// step-up.
    #[oai(path = "/permits/:id/device-key", method = "put")]
    async fn device_key(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<DeviceKeyInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        auth.0.require_fresh_step_up()?;
        let p =
            service::bind_device_key(&*state.storage, auth.0.account_id, id.0, &body.0.public_key)
                .await?;
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
        let now = state.clock.now();
        let endorsed = service::endorse(&*state.storage, auth.0.account_id, id.0, now).await?;
        Ok(Json(view(&endorsed, local_date(now))))
    }
}

/// The step-up passed: the permit joins the holder's wallet and its QR may be shown.
async fn into_wallet(
    state: &AppState,
    id: Uuid,
    cookie: String,
) -> Result<PermitSteppedUp, ApiError> {
    let now = state.clock.now();
    let p = service::into_wallet(&*state.storage, id, now).await?;
    Ok(PermitSteppedUp::Ok(Json(view(&p, local_date(now))), cookie))
}

#[derive(Debug, Clone, Object)]
pub struct ClaimInput {
    /// 居住证号码 as printed on the slip.
    pub permit_number: Text,
}

pub struct ClaimApi;

#[OpenApi(tag = "ApiTags::Permits")]
impl ClaimApi {
    /// Move a permit a unit obtained into my own account (real-name verified, same ID number);
    /// needs a fresh step-up, and wrong permit numbers lock the account out for a while.
    #[oai(path = "/permits/claim", method = "post")]
    async fn claim(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<ClaimInput>,
    ) -> Result<Json<PermitView>, ApiError> {
        auth.0.require(&[crate::identity::model::Role::Resident])?;
        auth.0.require_fresh_step_up()?;
        let permit = service::claim_from_unit(
            &*state.storage,
            &*state.ephemeral,
            auth.0.account_id,
            &body.0.permit_number,
        )
        .await?;
        Ok(Json(view(&permit, local_date(state.clock.now()))))
    }
}
