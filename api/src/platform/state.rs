//! What every handler can reach: configuration, storage, the ephemeral store and services.

use std::sync::Arc;

use webauthn_rs::Webauthn;

use crate::credentials::keys::SigningKeys;
use crate::credentials::trust::Lists;
use crate::notifications::sms::SmsSender;
use crate::platform::clock::Clock;
use crate::platform::config::{Config, Secret};
use crate::platform::ephemeral::Ephemeral;
use crate::platform::metrics::Metrics;
use crate::platform::storage::Storage;
use crate::residence::eligibility::Policy;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub ephemeral: Arc<dyn Ephemeral>,
    pub sms: Arc<dyn SmsSender>,
    pub webauthn: Arc<Webauthn>,
    pub captcha_key: Secret,
    /// Bounds this process's password hashing (argon2 memory); process-local on purpose.
    pub hashing: Arc<crate::identity::password::Hashing>,
    pub metrics: Arc<Metrics>,
    /// Proof files (a local directory or S3-compatible storage).
    pub files: Arc<dyn object_store::ObjectStore>,
    /// The jurisdiction's eligibility policy.
    pub policy: Arc<Policy>,
    /// The root and issuer signing keys, with the activation schedule every instance reads.
    pub keys: Arc<SigningKeys>,
    /// The signed trust and status lists, as last signed.
    pub lists: Arc<Lists>,
    pub clock: Arc<dyn Clock>,
    /// In development and demo mode, the clock `PUT /api/v1/dev/clock` moves.
    pub dev_clock: Option<Arc<crate::platform::clock::ShiftedClock>>,
    /// The CJK font of PDF documents, read on first use.
    pub fonts: Arc<crate::credentials::documents::Fonts>,
}
