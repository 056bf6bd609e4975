//! Credentials' use cases: issue, endorse and revoke a permit (each owns its transaction, so
//! the permit, the application it came from and the notice to the holder change together or
//! not at all), the holder's wallet and step-up, the signed QR credential and the slip, the
//! staff's permit search and real-name confirmation, and (in `lists`) the signed trust and
//! status lists.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use permit_verifier::Presentation;
use uuid::Uuid;

use super::documents::{self, DocumentError, Fonts, SlipFields};
use super::keys::SigningKeys;
use super::permits::model::{
    NewPermit, Permit, PermitStatus, RevokeReason, authority_of, device_key,
};
use super::permits::rules;
use super::status_list::store as status_list;
use super::store;
use crate::casework;
use crate::casework::applications::model::{BusinessType, Status, Transition};
use crate::identity::model::{Account, IdNumber, IdNumberError, Role, Sex, Staff};
use crate::identity::rate_limits::{Backoff, Outcome, RateLimitError};
use crate::identity::service::serves;
use crate::notifications;
use crate::notifications::model::NewNotification;
use crate::platform::clock::local_date;
use crate::platform::ephemeral::{Ephemeral, EphemeralError};
use crate::platform::page::{self, Cursor, Page};
use crate::platform::storage::{Storage, StorageError, StorageResult};

mod lists;
mod staff;

pub use lists::{ListSigning, SignedList, status_list, trust_list, verify};
pub use staff::{
    account, confirm_real_name, find_resident, find_served, issue, permit_for_application, revoke,
};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("permit not found")]
    NotFound,
    /// The application already has its permit.
    #[error("already issued")]
    AlreadyIssued,
    /// The application was not checked in at the counter.
    #[error("not issuable")]
    NotIssuable,
    /// The validity changed since it was read (another endorsement went first).
    #[error("endorsement conflict")]
    EndorsementConflict,
    #[error("already revoked")]
    AlreadyRevoked,
    /// The session's account no longer exists.
    #[error("session account gone")]
    SessionAccountGone,
    /// The permit is not in the holder's wallet yet (no step-up passed).
    #[error("step-up required to {0:?}")]
    StepUpRequired(StepUpFor),
    #[error("invalid device key")]
    InvalidDeviceKey,
    /// Online endorsement and claiming a unit's permit need a real-name verified account.
    #[error("real name required to {0:?}")]
    RealNameRequired(RealNameFor),
    #[error("endorsement not due before {opens_on}")]
    EndorsementNotDue { opens_on: NaiveDate },
    /// Suspended for more than two years: apply again.
    #[error("reapply required")]
    ReapplyRequired,
    #[error("invalid ID number")]
    InvalidIdNumber(IdNumberError),
    /// A page of 1 to 200 rows.
    #[error("invalid limit")]
    InvalidLimit,
    /// The ID card shown is not the account's, or the account is not a resident's.
    #[error("ID number mismatch")]
    IdNumberMismatch,
    /// The status list has no room for another index, even at its largest (134 million).
    #[error("status list full")]
    StatusListFull,
    /// Signing a credential or a list failed (logged where it happened).
    #[error("signing failed")]
    Signing,
    /// Too many wrong permit numbers: locked out for `retry_after` more seconds.
    #[error("claims locked for {retry_after}s")]
    ClaimLocked { retry_after: u64 },
    #[error(transparent)]
    Ephemeral(EphemeralError),
    #[error(transparent)]
    Document(DocumentError),
    #[error(transparent)]
    Storage(StorageError),
}

/// What the holder wanted to do with a permit not yet in the wallet; each is refused in its
/// own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUpFor {
    ShowQr,
    PrintSlip,
    BindDeviceKey,
}

/// What needed a real-name verified account; each is refused in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealNameFor {
    Endorse,
    Claim,
}

impl From<StorageError> for CredentialError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => CredentialError::NotFound,
            StorageError::Conflict("application") => CredentialError::AlreadyIssued,
            other => CredentialError::Storage(other),
        }
    }
}

type Result<T> = std::result::Result<T, CredentialError>;

/// China Standard Time midnight of a local date, as UTC.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    offset
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

/// What signing a credential needs.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub storage: &'a dyn Storage,
    pub keys: &'a SigningKeys,
    pub now: DateTime<Utc>,
}

/// Signs a fresh credential for the permit (valid from the last endorsement or first issue to
/// the due date) and remembers that the key signed something living that long.
pub async fn credential(s: Signer<'_>, p: &Permit, presentation: Presentation) -> Result<String> {
    let device_key = match &p.device_key {
        Some(k) => Some(
            hex::decode(k)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(StorageError::Corrupt("device key"))?,
        ),
        None => None,
    };
    let permit = permit_verifier::Permit {
        permit_number: p.number.clone(),
        name: p.holder_name.clone(),
        sex: match p.sex {
            Sex::Male => permit_verifier::Sex::Male,
            Sex::Female => permit_verifier::Sex::Female,
        },
        birth_date: p.birth_date,
        id_number: p.id_number.as_str().to_string(),
        district: p.district.clone(),
        authority: p.authority.clone(),
        first_issued: p.first_issued,
        last_endorsed: p.last_endorsed,
        status_index: p.status_index.get(),
        device_key,
    };
    let nbf = start_of(p.last_endorsed.unwrap_or(p.first_issued));
    let exp = start_of(p.valid_until);
    let ring = s.keys.ring(s.storage).await?;
    let issuer = ring.active_at(s.now);
    let kid = hex::encode(issuer.kid());
    if s.keys.use_to_record(&kid, exp) {
        s.storage.record_key_use(&kid, exp).await?;
        s.keys.recorded(&kid, exp);
    }
    issuer
        .issue(&permit, presentation, s.now, nbf, exp)
        .map_err(|e| {
            tracing::error!(error = %e, "issuing a credential");
            CredentialError::Signing
        })
}

/// The holder's permits.
pub async fn wallet(storage: &dyn Storage, holder: Uuid) -> Result<Vec<Permit>> {
    Ok(storage.permits_of(holder).await?)
}

/// The caller's own permit; anything else is not found.
pub async fn own_permit(storage: &dyn Storage, holder: Uuid, id: Uuid) -> Result<Permit> {
    let p = storage.permit(id).await?;
    if p.account_id != holder {
        return Err(CredentialError::NotFound);
    }
    Ok(p)
}

/// A permit issued at one of the staff member's service points; any other is not found.
pub async fn served_permit(storage: &dyn Storage, staff: Staff, id: Uuid) -> Result<Permit> {
    let p = storage.permit(id).await?;
    if !serves(storage, staff, p.service_point_id).await? {
        return Err(CredentialError::NotFound);
    }
    Ok(p)
}

/// The session's account, which a deleted account no longer has.
async fn session_account(storage: &dyn Storage, holder: Uuid) -> Result<Account> {
    storage.account_by_id(holder).await.map_err(|e| match e {
        StorageError::NotFound => CredentialError::SessionAccountGone,
        other => other.into(),
    })
}

/// The step-up passed: the permit joins the holder's wallet and its QR may be shown.
pub async fn into_wallet(storage: &dyn Storage, id: Uuid, now: DateTime<Utc>) -> Result<Permit> {
    storage.claim_permit(id, now).await?;
    Ok(storage.permit(id).await?)
}

/// The holder's permit once it is in the wallet.
async fn stepped_up(
    storage: &dyn Storage,
    holder: Uuid,
    id: Uuid,
    purpose: StepUpFor,
) -> Result<Permit> {
    let p = own_permit(storage, holder, id).await?;
    if p.claimed_at.is_none() {
        return Err(CredentialError::StepUpRequired(purpose));
    }
    Ok(p)
}

/// The QR text of the holder's permit: a freshly signed credential in the chosen presentation.
pub async fn shown_credential(
    s: Signer<'_>,
    holder: Uuid,
    id: Uuid,
    presentation: Presentation,
) -> Result<String> {
    let p = stepped_up(s.storage, holder, id, StepUpFor::ShowQr).await?;
    // A revoked permit (a replacement, 注销, fraud) is never signed again, as the slip is not:
    // an offline verifier with a stale status list would otherwise take it as valid.
    if p.status == PermitStatus::Revoked {
        return Err(CredentialError::AlreadyRevoked);
    }
    credential(s, &p, presentation).await
}

/// The holder's confirmation slip.
pub async fn holder_slip(
    s: Signer<'_>,
    fonts: &Arc<Fonts>,
    holder: Uuid,
    id: Uuid,
) -> Result<Vec<u8>> {
    let p = stepped_up(s.storage, holder, id, StepUpFor::PrintSlip).await?;
    slip(s, fonts, &p).await
}

/// The confirmation slip PDF with a freshly signed `full` credential as its QR.
pub async fn slip(s: Signer<'_>, fonts: &Arc<Fonts>, p: &Permit) -> Result<Vec<u8>> {
    if p.status == PermitStatus::Revoked {
        return Err(CredentialError::AlreadyRevoked);
    }
    let text = credential(s, p, Presentation::Full).await?;
    let fields = SlipFields {
        holder_name: p.holder_name.clone(),
        id_number: p.id_number.as_str().to_string(),
        permit_number: p.number.clone(),
        valid_from: p.last_endorsed.unwrap_or(p.first_issued),
        valid_until: p.valid_until,
        district: p.district.clone(),
        authority: p.authority.clone(),
    };
    let fonts = Arc::clone(fonts);
    // Subsetting a CJK font is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || documents::slip(&fonts, &fields, &text))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "rendering a slip");
            CredentialError::Signing
        })?
        .map_err(CredentialError::Document)
}

/// Binds a device public key for holder-bound presentation.
pub async fn bind_device_key(
    storage: &dyn Storage,
    holder: Uuid,
    id: Uuid,
    public_key: &str,
) -> Result<Permit> {
    let p = own_permit(storage, holder, id).await?;
    let key = device_key(public_key).ok_or(CredentialError::InvalidDeviceKey)?;
    if p.claimed_at.is_none() {
        return Err(CredentialError::StepUpRequired(StepUpFor::BindDeviceKey));
    }
    storage.bind_device_key(p.id, &key).await?;
    Ok(storage.permit(p.id).await?)
}

fn notice_to(
    p: &Permit,
    phone: Option<String>,
    kind: &'static str,
    title: &str,
    body: String,
    sms_params: Vec<(&'static str, String)>,
) -> NewNotification {
    NewNotification {
        sms_params,
        account_id: p.account_id,
        kind,
        title: title.into(),
        body,
        application_id: p.application_id,
        sms_phone: phone,
    }
}

/// 签注 online by the holder: a real-name verified account, a permit not revoked, inside the
/// window or late within two years of suspension.
pub async fn endorse(
    storage: &dyn Storage,
    holder: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Permit> {
    let p = own_permit(storage, holder, id).await?;
    let account = session_account(storage, holder).await?;
    if p.status == PermitStatus::Revoked {
        return Err(CredentialError::AlreadyRevoked);
    }
    // When the window opens comes before real-name: a person asked a year early to verify at a
    // counter they just stood at would not know that the answer is simply "not yet".
    let today = local_date(now);
    let until = rules::endorse(p.first_issued, p.valid_until, today).map_err(|r| match r {
        rules::Refusal::NotDue { opens_on } => CredentialError::EndorsementNotDue { opens_on },
        rules::Refusal::ReapplyRequired => CredentialError::ReapplyRequired,
    })?;
    if account.role == Role::Resident && account.real_name_verified_at.is_none() {
        return Err(CredentialError::RealNameRequired(RealNameFor::Endorse));
    }
    let n = notice_to(
        &p,
        account.phone.as_deref().map(str::to_string),
        "permit_endorsed",
        "签注成功",
        format!(
            "【居住证】{}，您的居住证{}已签注，有效期至{}。",
            p.holder_name, p.number, until
        ),
        vec![
            ("name", p.holder_name.clone()),
            ("permit", p.number.clone()),
            ("date", until.format("%Y年%m月%d日").to_string()),
        ],
    );
    record_endorsement(storage, p.id, p.valid_until, today, until, now, &n).await
}

/// Moves a permit a unit obtained into the holder's own account (real-name verified, same ID
/// number); someone else's permit number is simply not found.
pub async fn claim_from_unit(
    storage: &dyn Storage,
    ephemeral: &dyn Ephemeral,
    holder_id: Uuid,
    permit_number: &str,
) -> Result<Permit> {
    let subject = holder_id.to_string();
    // The attempt is taken before the number is looked up, so parallel guesses cannot pass
    // the limit; a wrong number stays counted.
    let ticket = CLAIMS_PER_ACCOUNT
        .take(ephemeral, &subject)
        .await
        .map_err(claim_attempts)?;
    let claimed = claim_by_number(storage, holder_id, permit_number).await;
    let outcome = match &claimed {
        Ok(_) => Outcome::RightSecret,
        Err(CredentialError::NotFound) => Outcome::WrongSecret,
        Err(_) => Outcome::NotChecked,
    };
    CLAIMS_PER_ACCOUNT
        .settle(ephemeral, &subject, ticket, outcome)
        .await
        .map_err(claim_attempts)?;
    claimed
}

async fn claim_by_number(
    storage: &dyn Storage,
    holder_id: Uuid,
    permit_number: &str,
) -> Result<Permit> {
    let holder = session_account(storage, holder_id).await?;
    if holder.real_name_verified_at.is_none() {
        return Err(CredentialError::RealNameRequired(RealNameFor::Claim));
    }
    let id_number = holder
        .id_number
        .as_deref()
        .and_then(|i| IdNumber::parse(i).ok())
        .ok_or(CredentialError::NotFound)?;
    match storage
        .transfer_permit(permit_number.trim(), id_number.as_str(), holder.id)
        .await
    {
        Ok(permit) => Ok(permit),
        Err(StorageError::NotFound) => Err(CredentialError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Wrong permit numbers per account: 5 free in an hour, then lockouts doubling from 30 s to
/// 15 min, so the numbers of other people's permits cannot be guessed.
pub const CLAIMS_PER_ACCOUNT: Backoff = Backoff::hourly("claim-account", 5);

fn claim_attempts(e: RateLimitError) -> CredentialError {
    match e {
        RateLimitError::Locked { retry_after } => CredentialError::ClaimLocked { retry_after },
        RateLimitError::Refused { retry_after } => CredentialError::ClaimLocked { retry_after },
        RateLimitError::Ephemeral(e) => CredentialError::Ephemeral(e),
    }
}

/// Issues the permit of a checked-in application: the application becomes issued, the permit
/// takes a status-list index drawn at random (the list grows when it is half full), superseded
/// permits are revoked, the holder is told. A racing issuer that took the same number gets
/// `Storage(Conflict(..))` to retry.
async fn record_issue(
    storage: &dyn Storage,
    p: &NewPermit,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let moved =
        casework::service::move_within(&mut tx, Transition::Issue, p.application_id, None, now)
            .await?;
    if !moved {
        return Err(if store::issued_for(&mut tx, p.application_id).await? {
            CredentialError::AlreadyIssued
        } else {
            CredentialError::NotIssuable
        });
    }
    // A taken status index or number stays `Storage(Conflict(..))`, which the caller retries
    // with fresh ones; a second permit for the application is `AlreadyIssued`.
    let capacity = status_list::take_capacity(&mut tx)
        .await?
        .ok_or(CredentialError::StatusListFull)?;
    let permit = store::insert_permit(&mut tx, p, capacity, now).await?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(permit)
}

/// 签注: the validity moves on from `expected_until` to `valid_until`.
async fn record_endorsement(
    storage: &dyn Storage,
    id: Uuid,
    expected_until: NaiveDate,
    endorsed_on: NaiveDate,
    valid_until: NaiveDate,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let endorsed =
        store::endorse_permit(&mut tx, id, expected_until, endorsed_on, valid_until, now)
            .await?
            .ok_or(CredentialError::EndorsementConflict)?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(endorsed)
}

async fn record_revocation(
    storage: &dyn Storage,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Permit> {
    let mut tx = storage.begin().await?;
    let revoked = store::revoke_permit(&mut tx, id, reason, now)
        .await?
        .ok_or(CredentialError::AlreadyRevoked)?;
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(revoked)
}

/// One reminder per permit whose endorsement window opens by `opens_by`.
pub async fn queue_endorsement_reminders(
    storage: &dyn Storage,
    opens_by: NaiveDate,
    limit: i64,
    now: DateTime<Utc>,
    notice: &(dyn Fn(&Permit, Option<String>) -> NewNotification + Send + Sync),
) -> StorageResult<usize> {
    let mut tx = storage.begin().await?;
    let due = store::take_endorsement_reminders(&mut tx, opens_by, limit).await?;
    for permit in &due {
        // The holder's own phone gets the reminder too; a permit in a service point's custody
        // has none, so it is told in the app only.
        let phone = match storage.account_by_id(permit.account_id).await {
            Ok(account) => account.phone.as_deref().map(str::to_string),
            Err(StorageError::NotFound) => None,
            Err(e) => return Err(e),
        };
        notifications::service::queue(&mut tx, &notice(permit, phone), now).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_permit_for_an_application_is_already_issued_and_other_conflicts_are_retried() {
        assert!(matches!(
            CredentialError::from(StorageError::Conflict("application")),
            CredentialError::AlreadyIssued
        ));
        for field in ["status_index", "permit_number"] {
            assert!(matches!(
                CredentialError::from(StorageError::Conflict(field)),
                CredentialError::Storage(StorageError::Conflict(f)) if f == field
            ));
        }
    }
}
