//! Storage of electronic permits and the keys' last use.
//!
//! One permit per application is a unique index; the status-list index is drawn at random over
//! the list's capacity (a unique index guards it, and a taken one is drawn again), and the list's
//! bit changes in the transaction that revokes (`status_list::store`).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::permits::model::{NewPermit, Permit, PermitStatus, StatusIndex};
use super::status_list::model::{MAX_DRAWS, StatusBits};
use super::status_list::store as status_list;
use crate::identity::model::{IdNumber, Sex};
use crate::platform::data_keys::DataKeys;
use crate::platform::page::Cursor;
use crate::platform::storage::sealing::{ID_NUMBER, PERMIT_HOLDER_NAME, PERMIT_ID_NUMBER};
use crate::platform::storage::{
    Database, StorageError, StorageResult, Tx, all_by, classify, found, one_by, run,
};

pub(crate) const PERMIT_COLUMNS: &str = "id, number, application_id, account_id, holder_name, id_number, sex, birth_date, district, authority, service_point_id, first_issued, last_endorsed, valid_until, status, revoked_reason, status_index, device_key, claimed_at, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct PermitRow {
    pub id: Uuid,
    number: String,
    application_id: Option<Uuid>,
    account_id: Uuid,
    holder_name: String,
    id_number: String,
    sex: String,
    birth_date: NaiveDate,
    district: String,
    authority: String,
    service_point_id: Uuid,
    first_issued: NaiveDate,
    last_endorsed: Option<NaiveDate>,
    valid_until: NaiveDate,
    status: String,
    revoked_reason: Option<String>,
    status_index: i64,
    device_key: Option<String>,
    claimed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl PermitRow {
    pub(crate) fn open(self, keys: &DataKeys) -> StorageResult<Permit> {
        let r = self;
        Ok(Permit {
            id: r.id,
            number: r.number,
            application_id: r.application_id,
            account_id: r.account_id,
            holder_name: keys.open(PERMIT_HOLDER_NAME, r.id, &r.holder_name)?,
            id_number: IdNumber::parse(&keys.open(PERMIT_ID_NUMBER, r.id, &r.id_number)?)
                .map_err(|_| StorageError::Corrupt("permit ID number"))?,
            sex: Sex::parse(&r.sex).ok_or(StorageError::Corrupt("permit sex"))?,
            birth_date: r.birth_date,
            district: r.district,
            authority: r.authority,
            service_point_id: r.service_point_id,
            first_issued: r.first_issued,
            last_endorsed: r.last_endorsed,
            valid_until: r.valid_until,
            status: PermitStatus::parse(&r.status).ok_or(StorageError::Corrupt("permit status"))?,
            revoked_reason: r.revoked_reason,
            status_index: StatusIndex::from_stored(r.status_index)
                .ok_or(StorageError::Corrupt("permit status index"))?,
            device_key: r.device_key,
            claimed_at: r.claimed_at,
            created_at: r.created_at,
        })
    }
}

/// Permits through issue, claim, endorsement and revocation; and which key signed until when.
#[async_trait]
pub trait PermitStore: Send + Sync {
    async fn permit(&self, id: Uuid) -> StorageResult<Permit>;
    async fn permits_of(&self, account_id: Uuid) -> StorageResult<Vec<Permit>>;
    /// The permits issued to the person with this ID number, newest first (equal times by id),
    /// from just after `before`, `limit` at most; with `clerk`, only those of the service
    /// points that clerk serves.
    async fn permits_of_person(
        &self,
        id_number: &str,
        clerk: Option<Uuid>,
        before: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Permit>>;
    /// Moves the permit with `number` and `id_number` to `account_id` (a person claiming what
    /// their unit obtained); the new holder passes a step-up before showing it.
    async fn transfer_permit(
        &self,
        number: &str,
        id_number: &str,
        account_id: Uuid,
    ) -> StorageResult<Permit>;
    /// The holder passed a step-up: the permit joins their wallet.
    async fn claim_permit(&self, id: Uuid, now: DateTime<Utc>) -> StorageResult<()>;
    async fn bind_device_key(&self, id: Uuid, key_hex: &str) -> StorageResult<()>;
    /// The status list's whole bit array and its version (one snapshot), read from its pages
    /// alone, never from the permits.
    async fn status_bits(&self) -> StorageResult<StatusBits>;
    /// The status list's version, which moves on with every change of the list: a cheap check
    /// whether the signed list is still current.
    async fn status_list_version(&self) -> StorageResult<u64>;
    /// Keeps the latest expiry a key signed.
    async fn record_key_use(&self, kid: &str, exp: DateTime<Utc>) -> StorageResult<()>;
    async fn key_usage(&self) -> StorageResult<Vec<(String, DateTime<Utc>)>>;
    /// Records an online verification of the permit with `number`, for its holder's access
    /// log; a number that is not ours records nothing.
    async fn record_verification(
        &self,
        number: &str,
        at: DateTime<Utc>,
        verifier_name: Option<&str>,
    ) -> StorageResult<()>;
}

#[async_trait]
impl PermitStore for Database {
    async fn permit(&self, id: Uuid) -> StorageResult<Permit> {
        let sql = format!("SELECT {} FROM permits WHERE id = $1", PERMIT_COLUMNS);
        let row: PermitRow = one_by(self, sql, id).await?;
        row.open(self.keys())
    }

    async fn permits_of(&self, account_id: Uuid) -> StorageResult<Vec<Permit>> {
        let sql = format!(
            "SELECT {} FROM permits WHERE account_id = $1 ORDER BY created_at DESC",
            PERMIT_COLUMNS
        );
        let rows: Vec<PermitRow> = all_by(self, sql, account_id).await?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn permits_of_person(
        &self,
        id_number: &str,
        clerk: Option<Uuid>,
        before: Option<Cursor>,
        limit: i64,
    ) -> StorageResult<Vec<Permit>> {
        let before_sql = if before.is_some() {
            "AND (created_at, id) < ($4, $5) "
        } else {
            "AND $4 IS NULL AND $5 IS NULL "
        };
        let sql = format!(
            "SELECT {} FROM permits WHERE id_number_index = $1 \
             AND ($2 IS NULL OR service_point_id IN (SELECT service_point_id FROM staff_service_points WHERE account_id = $2)) \
             {before_sql}ORDER BY created_at DESC, id DESC LIMIT $3",
            PERMIT_COLUMNS
        );
        let rows: Vec<PermitRow> = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.keys().index(ID_NUMBER, id_number))
            .bind(clerk)
            .bind(limit)
            .bind(before.map(|c| c.at))
            .bind(before.map(|c| c.id))
            .fetch_all(e)
            .await)
        .map_err(classify)?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }

    async fn transfer_permit(
        &self,
        number: &str,
        id_number: &str,
        account_id: Uuid,
    ) -> StorageResult<Permit> {
        let sql = format!(
            "UPDATE permits SET account_id = $3, claimed_at = NULL, device_key = NULL WHERE number = $1 AND id_number_index = $2 RETURNING {}",
            PERMIT_COLUMNS
        );
        let row: PermitRow = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(number)
            .bind(self.keys().index(ID_NUMBER, id_number))
            .bind(account_id)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        row.open(self.keys())
    }

    async fn claim_permit(&self, id: Uuid, now: DateTime<Utc>) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE permits SET claimed_at = COALESCE(claimed_at, $2) WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn bind_device_key(&self, id: Uuid, key_hex: &str) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE permits SET device_key = $2 WHERE id = $1 AND status = 'active'"
        )
        .bind(id)
        .bind(key_hex)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn status_bits(&self) -> StorageResult<StatusBits> {
        status_list::bits(self).await
    }

    async fn status_list_version(&self) -> StorageResult<u64> {
        status_list::version(self).await
    }

    async fn record_key_use(&self, kid: &str, exp: DateTime<Utc>) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO key_usage (kid, last_exp) VALUES ($1, $2) \
             ON CONFLICT (kid) DO UPDATE SET last_exp = CASE WHEN excluded.last_exp > key_usage.last_exp \
             THEN excluded.last_exp ELSE key_usage.last_exp END",
        )
        .bind(kid)
        .bind(exp)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn key_usage(&self) -> StorageResult<Vec<(String, DateTime<Utc>)>> {
        run!(self, |e| sqlx::query_as(
            "SELECT kid, last_exp FROM key_usage ORDER BY kid"
        )
        .fetch_all(e)
        .await)
        .map_err(classify)
    }

    async fn record_verification(
        &self,
        number: &str,
        at: DateTime<Utc>,
        verifier_name: Option<&str>,
    ) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO permit_verifications (id, permit_id, at, verifier_name) \
             SELECT $1, id, $3, $4 FROM permits WHERE number = $2"
        )
        .bind(Uuid::new_v4())
        .bind(number)
        .bind(at)
        .bind(verifier_name)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }
}

/// The permit issued for the application, if any (the newest, should there be several).
pub(crate) async fn permit_id_for(
    tx: &mut Tx,
    application_id: Uuid,
) -> StorageResult<Option<Uuid>> {
    run!(tx, |e| sqlx::query_scalar(
        "SELECT id FROM permits WHERE application_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(application_id)
    .fetch_optional(e)
    .await)
    .map_err(classify)
}

/// Whether a permit was already issued for the application.
pub(crate) async fn issued_for(tx: &mut Tx, application_id: Uuid) -> StorageResult<bool> {
    Ok(permit_id_for(tx, application_id).await?.is_some())
}

/// Records the permit with a status-list index drawn at random below `capacity` (from
/// [`status_list::take_capacity`], earlier in the transaction): a taken index is rolled back to
/// the savepoint and drawn again, up to [`MAX_DRAWS`] times, then `Conflict("status_index")`.
/// When it supersedes, the person's other active permits are revoked as replaced and their
/// bits set.
pub(crate) async fn insert_permit(
    tx: &mut Tx,
    p: &NewPermit,
    capacity: u64,
    now: DateTime<Utc>,
) -> StorageResult<Permit> {
    let keys = tx.keys();
    let id = Uuid::new_v4();
    let id_index = keys.index(ID_NUMBER, p.id_number.as_str());
    status_list::savepoint(tx).await?;
    let mut draws = 1;
    let row = loop {
        let index = rand::Rng::gen_range(&mut rand::thread_rng(), 0..capacity.max(1));
        match insert_row(tx, p, id, &id_index, index, now).await {
            Ok(row) => break row,
            Err(StorageError::Conflict("status_index")) if draws < MAX_DRAWS => {
                status_list::rollback_to_savepoint(tx).await?;
                draws += 1;
            }
            Err(e) => return Err(e),
        }
    };
    status_list::release_savepoint(tx).await?;
    if p.supersedes {
        let replaced: Vec<i64> = run!(tx, |e| sqlx::query_scalar(
            "UPDATE permits SET status = 'revoked', revoked_reason = 'replacement', revoked_at = $3, updated_at = $3 \
             WHERE id_number_index = $1 AND status = 'active' AND id <> $2 RETURNING status_index",
        )
        .bind(&id_index)
        .bind(row.id)
        .bind(now)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        if !replaced.is_empty() {
            status_list::next_version(tx).await?;
        }
        for index in replaced {
            let index = u64::try_from(index).map_err(|_| StorageError::Corrupt("status index"))?;
            status_list::set_bit(tx, index, true).await?;
        }
    }
    row.open(&keys)
}

async fn insert_row(
    tx: &mut Tx,
    p: &NewPermit,
    id: Uuid,
    id_index: &str,
    index: u64,
    now: DateTime<Utc>,
) -> StorageResult<PermitRow> {
    let index = i64::try_from(index).map_err(|_| StorageError::Corrupt("status index"))?;
    let keys = tx.keys();
    let sql = format!(
        "INSERT INTO permits (id, number, application_id, account_id, holder_name, id_number, sex, birth_date, district, authority, \
         service_point_id, first_issued, valid_until, status, status_index, created_at, updated_at, id_number_index) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $15, $15, $16) RETURNING {}",
        PERMIT_COLUMNS
    );
    run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&p.number)
        .bind(p.application_id)
        .bind(p.account_id)
        .bind(keys.seal(PERMIT_HOLDER_NAME, id, &p.holder_name))
        .bind(keys.seal(PERMIT_ID_NUMBER, id, p.id_number.as_str()))
        .bind(p.sex.as_str())
        .bind(p.birth_date)
        .bind(&p.district)
        .bind(&p.authority)
        .bind(p.service_point_id)
        .bind(p.first_issued)
        .bind(p.valid_until)
        .bind(index)
        .bind(now)
        .bind(id_index)
        .fetch_one(e)
        .await)
    .map_err(classify)
}

/// Moves the validity on if it still ends on `expected_until` (two concurrent endorsements
/// cannot both apply); `None` otherwise.
pub(crate) async fn endorse_permit(
    tx: &mut Tx,
    id: Uuid,
    expected_until: NaiveDate,
    endorsed_on: NaiveDate,
    valid_until: NaiveDate,
    now: DateTime<Utc>,
) -> StorageResult<Option<Permit>> {
    let sql = format!(
        "UPDATE permits SET last_endorsed = $3, valid_until = $4, updated_at = $5 \
         WHERE id = $1 AND valid_until = $2 AND status = 'active' RETURNING {}",
        PERMIT_COLUMNS
    );
    let row: Option<PermitRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(expected_until)
        .bind(endorsed_on)
        .bind(valid_until)
        .bind(now)
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    row.map(|r| r.open(&tx.keys())).transpose()
}

/// Revokes an active permit and sets its status-list bit; `None` when it is not active (the
/// caller drops the transaction, and the version taken with it).
pub(crate) async fn revoke_permit(
    tx: &mut Tx,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> StorageResult<Option<Permit>> {
    status_list::next_version(tx).await?;
    let sql = format!(
        "UPDATE permits SET status = 'revoked', revoked_reason = $2, revoked_at = $3, updated_at = $3 \
         WHERE id = $1 AND status = 'active' RETURNING {}",
        PERMIT_COLUMNS
    );
    let row: Option<PermitRow> = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(reason)
        .bind(now)
        .fetch_optional(e)
        .await)
    .map_err(classify)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let index =
        u64::try_from(row.status_index).map_err(|_| StorageError::Corrupt("status index"))?;
    status_list::set_bit(tx, index, true).await?;
    row.open(&tx.keys()).map(Some)
}

/// Active permits whose endorsement window opens by `opens_by` and that were not yet reminded
/// for their current validity, marked as reminded (`SKIP LOCKED` on PostgreSQL, so several
/// instances share the work).
pub(crate) async fn take_endorsement_reminders(
    tx: &mut Tx,
    opens_by: NaiveDate,
    limit: i64,
) -> StorageResult<Vec<Permit>> {
    let sql = format!(
        "SELECT id FROM permits WHERE status = 'active' AND valid_until <= $1 \
         AND (reminded_for IS NULL OR reminded_for <> valid_until) ORDER BY valid_until LIMIT $2{}",
        tx.dialect().skip_locked
    );
    let ids: Vec<Uuid> = run!(tx, |e| sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(opens_by)
        .bind(limit)
        .fetch_all(e)
        .await)
    .map_err(classify)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let sql = format!(
            "UPDATE permits SET reminded_for = valid_until WHERE id = $1 RETURNING {PERMIT_COLUMNS}"
        );
        let row: PermitRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        out.push(row.open(&tx.keys())?);
    }
    Ok(out)
}
