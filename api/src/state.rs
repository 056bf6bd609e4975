//! What every handler can reach: configuration, storage, the ephemeral store and services.

use std::sync::Arc;

use webauthn_rs::Webauthn;

use crate::config::{Config, Secret};
use crate::ephemeral::Ephemeral;
use crate::metrics::Metrics;
use crate::sms::SmsSender;
use crate::storage::Storage;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub ephemeral: Arc<dyn Ephemeral>,
    pub sms: Arc<dyn SmsSender>,
    pub webauthn: Arc<Webauthn>,
    pub captcha_key: Secret,
    pub metrics: Arc<Metrics>,
}
