//! What every handler can reach: configuration, storage, the ephemeral store and services.

use std::sync::Arc;

use webauthn_rs::Webauthn;

use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::eligibility::Policy;
use crate::ephemeral::Ephemeral;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::sms::SmsSender;
use crate::storage::Storage;
use crate::trust::Lists;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub ephemeral: Arc<dyn Ephemeral>,
    pub sms: Arc<dyn SmsSender>,
    pub webauthn: Arc<Webauthn>,
    pub captcha_key: Secret,
    pub metrics: Arc<Metrics>,
    /// Proof files (a local directory or S3-compatible storage).
    pub files: Arc<dyn object_store::ObjectStore>,
    /// The jurisdiction's eligibility policy.
    pub policy: Arc<Policy>,
    /// The root and issuer signing keys.
    pub keys: Arc<KeyRing>,
    /// The signed trust and status lists, as last signed.
    pub lists: Arc<Lists>,
    pub clock: Arc<dyn Clock>,
    /// In development and demo mode, the clock `PUT /api/v1/dev/clock` moves.
    pub dev_clock: Option<Arc<crate::clock::ShiftedClock>>,
    /// The CJK font of PDF documents, read on first use.
    pub fonts: Arc<crate::documents::Fonts>,
}
