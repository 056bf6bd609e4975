//! SMS codes: sending one within the per-phone and per-address limits, and spending one.

use std::time::Duration;

use rand::Rng;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{Deps, IdentityError};
use crate::identity::model::{PhoneNumber, SmsPurpose, check_phone};
use crate::identity::rate_limits::{RateLimit, RateLimitError};
use crate::notifications::sms::SmsMessage;
use crate::platform::ephemeral::Ephemeral;

const MAX_GUESSES: u64 = 5;
/// One code a minute per phone (the interval is configurable).
pub(crate) const fn per_interval(secs: u64) -> RateLimit {
    RateLimit {
        name: "sms-minute",
        max: 1,
        window: Duration::from_secs(secs),
    }
}
/// Ten codes a day per phone.
pub(crate) const PER_DAY: RateLimit = RateLimit {
    name: "sms-day",
    max: 10,
    window: Duration::from_secs(24 * 60 * 60),
};
const PER_IP: RateLimit = RateLimit {
    name: "sms-ip",
    max: 30,
    window: Duration::from_secs(60 * 60),
};

fn code_key(purpose: SmsPurpose, phone: &PhoneNumber) -> String {
    format!("sms-code:{}:{}", purpose.as_str(), phone.as_str())
}

/// A refusal's own wait, or a minute when the count itself failed.
fn wait_of(e: &RateLimitError) -> u64 {
    e.retry_after().unwrap_or(60)
}

/// Who asks for a code: a signed-in account, or anyone with a solved captcha.
pub enum Requester<'a> {
    SignedIn {
        account_id: Uuid,
        captcha: Option<&'a str>,
    },
    Anonymous {
        captcha: Option<&'a str>,
    },
}

/// Codes a signed-in account asks for without a captcha (step-ups, a new phone) in an hour.
const PER_ACCOUNT: RateLimit = RateLimit {
    name: "sms-account",
    max: 10,
    window: Duration::from_secs(60 * 60),
};

/// `POST /sms-codes`: the phone's form first, then (signed out) the captcha, which it spends,
/// then the caller's address allowance, then the code. Answers the phone the code went to.
pub async fn request_code(
    d: Deps<'_>,
    ip: &str,
    raw_phone: Option<&str>,
    purpose: SmsPurpose,
    requester: Requester<'_>,
) -> Result<PhoneNumber, IdentityError> {
    let phone = match (raw_phone, &requester, purpose) {
        // A step-up code needs no typing: it goes to the account's own phone.
        (None, Requester::SignedIn { account_id, .. }, SmsPurpose::StepUp) => d
            .storage
            .account_by_id(*account_id)
            .await?
            .phone
            .ok_or(IdentityError::NotOwnPhone)?,
        (raw, ..) => check_phone(raw.unwrap_or(""), "phone")?,
    };
    // A session spares the captcha only for codes that serve the account itself: a step-up
    // code to its own phone, or the code that proves a new phone; those are counted per
    // account. Anything else costs a proof of work, signed in or not: an SMS is money and a
    // nuisance to whoever owns the number.
    let captcha = match requester {
        Requester::SignedIn {
            account_id,
            captcha,
        } => {
            let own = || async {
                let account = d.storage.account_by_id(account_id).await?;
                Ok::<_, IdentityError>(account.phone.as_ref() == Some(&phone))
            };
            match purpose {
                SmsPurpose::StepUp if !own().await? => return Err(IdentityError::NotOwnPhone),
                SmsPurpose::StepUp | SmsPurpose::ChangePhone => {
                    PER_ACCOUNT
                        .hit(d.ephemeral, &account_id.to_string())
                        .await?;
                    None
                }
                SmsPurpose::Register | SmsPurpose::Login => Some(captcha),
            }
        }
        Requester::Anonymous { captcha } => Some(captcha),
    };
    if let Some(captcha) = captcha {
        let solution = captcha
            .filter(|c| !c.trim().is_empty())
            .ok_or(IdentityError::CaptchaRequired)?;
        super::captcha::verify(
            d.ephemeral,
            d.captcha_key,
            d.config.captcha_difficulty,
            solution,
        )
        .await?;
    }
    PER_IP.hit(d.ephemeral, ip).await?;
    send_code(d, &phone, purpose).await?;
    Ok(phone)
}

/// Sends a code, within the per-phone limits, only when the phone has no live code for the
/// purpose (the last one expired, was used or burnt): a new request does not replace a code on
/// its way. A refusal says how long until a code can be sent again. When the gateway does not
/// take the message, the code is withdrawn (so the person may ask again) and the answer is
/// [`IdentityError::SmsNotSent`].
pub async fn send_code(
    d: Deps<'_>,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
) -> Result<(), IdentityError> {
    let store = d.ephemeral;
    let lifetime = Duration::from_secs(d.config.sms_code_lifetime_secs);
    let key = code_key(purpose, phone);
    let code = fresh_code();
    // Taken in one step, so of two requests at once only one sends.
    if !store.put_if_absent(&key, &code, lifetime).await? {
        let left = store.ttl(&key).await?.map_or(1, |t| t.as_secs().max(1));
        return Err(IdentityError::SmsTooFrequent { retry_after: left });
    }
    let withdraw = || async {
        store.delete(&key).await?;
        Ok::<_, IdentityError>(())
    };
    let interval = d.config.sms_resend_interval_secs;
    if interval > 0
        && let Err(e) = per_interval(interval).hit(store, phone.as_str()).await
    {
        withdraw().await?;
        return Err(IdentityError::SmsTooFrequent {
            retry_after: wait_of(&e),
        });
    }
    if let Err(e) = PER_DAY.hit(store, phone.as_str()).await {
        withdraw().await?;
        return Err(IdentityError::SmsDailyLimit {
            retry_after: wait_of(&e),
        });
    }
    store.delete(&format!("{key}:guesses")).await?;
    let minutes = lifetime.as_secs().div_ceil(60).to_string();
    let message = SmsMessage {
        kind: format!("{}_code", purpose.as_str()),
        text: format!(
            "【居住证服务平台】您的{}验证码为{}，{}分钟内有效。请勿将验证码告诉他人。",
            purpose.label(),
            code,
            minutes
        ),
        params: vec![("code".into(), code), ("minutes".into(), minutes)],
    };
    if let Err(e) = d.sms.send(phone.as_str(), &message).await {
        // The code only: the provider's words may repeat the number.
        tracing::error!(code = %e.code, transient = e.transient, "SMS code not sent");
        withdraw().await?;
        return Err(IdentityError::SmsNotSent {
            retry_after: SMS_UNAVAILABLE_RETRY_SECS,
        });
    }
    Ok(())
}

/// When to ask again after the gateway failed on a code.
const SMS_UNAVAILABLE_RETRY_SECS: u64 = 30;

fn fresh_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
}

/// A fresh code for the phone and purpose, kept for `lifetime`, replacing any other; its
/// guesses start again. (Requests go through [`send_code`], which never replaces a live one.)
pub async fn keep_code(
    store: &dyn Ephemeral,
    lifetime: Duration,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
) -> Result<String, IdentityError> {
    let code = fresh_code();
    let key = code_key(purpose, phone);
    store.put(&key, &code, lifetime).await?;
    store.delete(&format!("{key}:guesses")).await?;
    Ok(code)
}

/// Equal codes, compared in constant time (the length, six digits, is no secret).
fn same_code(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Spends a code: right once, within its lifetime, for this phone and purpose. Each guess is
/// counted before the code is read, so however many arrive at once at most `MAX_GUESSES` are
/// compared; the last of them burns the code, and later guesses are told to ask for a new one.
pub async fn verify_code(
    ephemeral: &dyn Ephemeral,
    code_lifetime: Duration,
    phone: &PhoneNumber,
    purpose: SmsPurpose,
    code: &str,
) -> Result<(), IdentityError> {
    let store = ephemeral;
    let key = code_key(purpose, phone);
    let guesses = store
        .increment(&format!("{key}:guesses"), code_lifetime)
        .await?;
    if guesses > MAX_GUESSES {
        store.delete(&key).await?;
        return Err(IdentityError::SmsCodeExhausted);
    }
    let Some(expected) = store.get(&key).await? else {
        return Err(IdentityError::InvalidSmsCode);
    };
    if !same_code(&expected, code.trim()) {
        if guesses == MAX_GUESSES {
            store.delete(&key).await?;
        }
        return Err(IdentityError::InvalidSmsCode);
    }
    // Of two requests racing with the right code, only the one that takes it succeeds.
    match store.take(&key).await? {
        Some(taken) if same_code(&taken, &expected) => Ok(()),
        _ => Err(IdentityError::InvalidSmsCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ephemeral::MemoryStore;

    #[tokio::test]
    async fn a_phone_gets_at_most_ten_codes_a_day_and_one_a_minute() {
        let store = MemoryStore::new();
        for _ in 0..10 {
            PER_DAY
                .hit(&store, "13800000000")
                .await
                .expect("within the daily allowance");
        }
        let refused = PER_DAY
            .hit(&store, "13800000000")
            .await
            .expect_err("eleventh refused");
        assert!(matches!(refused, RateLimitError::Refused { .. }));
        PER_DAY
            .hit(&store, "13900000000")
            .await
            .expect("another phone is unaffected");
        per_interval(60)
            .hit(&store, "13800000000")
            .await
            .expect("first this minute");
        assert!(per_interval(60).hit(&store, "13800000000").await.is_err());
    }
}
