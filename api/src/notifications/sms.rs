//! The SMS gateway every text goes through. The development sink keeps messages in memory
//! (readable at `GET /api/v1/dev/sms` only in demo or development mode); a real gateway
//! implements `SmsSender`.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
#[error("SMS gateway: {0}")]
pub struct SmsError(pub String);

#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    async fn send(&self, phone: &str, text: &str) -> Result<(), SmsError>;
    /// What was sent to a phone, newest last; only the development sink keeps this.
    fn sent_to(&self, _phone: &str) -> Vec<SentSms> {
        Vec::new()
    }
}

#[derive(Debug, Clone)]
pub struct SentSms {
    pub phone: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// Keeps the last messages per phone in memory.
#[derive(Default)]
pub struct DevSmsSink {
    messages: Mutex<HashMap<String, Vec<SentSms>>>,
}

const DEV_SINK_KEEP: usize = 20;

#[async_trait]
impl SmsSender for DevSmsSink {
    async fn send(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        let mut map = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.entry(phone.to_string()).or_default();
        list.push(SentSms {
            phone: phone.to_string(),
            text: text.to_string(),
            sent_at: Utc::now(),
        });
        if list.len() > DEV_SINK_KEEP {
            list.remove(0);
        }
        Ok(())
    }

    fn sent_to(&self, phone: &str) -> Vec<SentSms> {
        let map = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        map.get(phone).cloned().unwrap_or_default()
    }
}
