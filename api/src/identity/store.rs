//! Storage of accounts (residents and staff) and their passkeys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Account, IdNumber, NewAccount, PhoneNumber, Role, Sex, StoredPasskey};
use crate::platform::data_keys::DataKeys;
use crate::platform::storage::sealing::{
    ACCOUNT_ID_NUMBER, ACCOUNT_PHONE, ACCOUNT_REAL_NAME, ID_NUMBER,
};
use crate::platform::storage::{
    Database, StorageError, StorageResult, Tx, classify, exec_by, found, one_by, run,
};

pub(crate) const ACCOUNT_COLUMNS: &str = "id, username, password_hash, role, real_name, id_number, sex, phone, region_code, login_sms_required, real_name_verified_at, created_at, custody_point_id";

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    username: String,
    password_hash: String,
    role: String,
    real_name: String,
    id_number: Option<String>,
    sex: Option<String>,
    phone: Option<String>,
    region_code: Option<String>,
    login_sms_required: bool,
    real_name_verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    custody_point_id: Option<Uuid>,
}

impl AccountRow {
    pub(crate) fn open(self, keys: &DataKeys) -> StorageResult<Account> {
        let r = self;
        Ok(Account {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            role: Role::parse(&r.role).ok_or(StorageError::Corrupt("account role"))?,
            real_name: keys.open(ACCOUNT_REAL_NAME, r.id, &r.real_name)?,
            id_number: keys
                .open_opt(ACCOUNT_ID_NUMBER, r.id, r.id_number.as_deref())?
                .map(|n| {
                    IdNumber::parse(&n).map_err(|_| StorageError::Corrupt("account ID number"))
                })
                .transpose()?,
            sex: r
                .sex
                .map(|s| Sex::parse(&s).ok_or(StorageError::Corrupt("account sex")))
                .transpose()?,
            phone: keys
                .open_opt(ACCOUNT_PHONE, r.id, r.phone.as_deref())?
                .map(|p| PhoneNumber::parse(&p).ok_or(StorageError::Corrupt("account phone")))
                .transpose()?,
            region_code: r.region_code,
            login_sms_required: r.login_sms_required,
            real_name_verified_at: r.real_name_verified_at,
            created_at: r.created_at,
            custody_point_id: r.custody_point_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PasskeyRow {
    id: Uuid,
    account_id: Uuid,
    name: String,
    credential_id: String,
    credential: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<PasskeyRow> for StoredPasskey {
    fn from(r: PasskeyRow) -> Self {
        StoredPasskey {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            credential_id: r.credential_id,
            credential_json: r.credential,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// Accounts: sign-up, sign-in look-ups, and the changes a person or an operator makes.
#[async_trait]
pub trait AccountStore: Send + Sync {
    // Accounts.
    async fn create_account(&self, account: &NewAccount) -> StorageResult<Account>;
    async fn account_by_id(&self, id: Uuid) -> StorageResult<Account>;
    async fn account_by_username(&self, username: &str) -> StorageResult<Account>;
    async fn username_taken(&self, username: &str) -> StorageResult<bool>;
    async fn resident_id_number_taken(&self, id_number: &str) -> StorageResult<bool>;
    async fn resident_by_id_number(&self, id_number: &str) -> StorageResult<Account>;
    async fn set_password_hash(&self, id: Uuid, hash: &str) -> StorageResult<()>;
    /// Changes the phone and requires an SMS code at the next login.
    async fn set_phone(&self, id: Uuid, phone: &str) -> StorageResult<()>;
    async fn set_login_sms_required(&self, id: Uuid, required: bool) -> StorageResult<()>;
    async fn set_staff_service_points(&self, id: Uuid, points: &[Uuid]) -> StorageResult<()>;
    async fn staff_service_points(&self, id: Uuid) -> StorageResult<Vec<Uuid>>;
    async fn set_real_name_verified(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

#[async_trait]
impl AccountStore for Database {
    async fn create_account(&self, a: &NewAccount) -> StorageResult<Account> {
        let mut tx = self.begin().await?;
        let account = create_account_in(&mut tx, a, Utc::now()).await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn account_by_id(&self, id: Uuid) -> StorageResult<Account> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!("SELECT {} FROM accounts WHERE id = $1", ACCOUNT_COLUMNS);
        let row: AccountRow = one_by(self, sql, id).await?;
        row.open(self.keys())
    }

    async fn account_by_username(&self, username: &str) -> StorageResult<Account> {
        // Only constant column lists are spliced in; values are always bound.
        // A service point's custody account is no one's to sign in with.
        let sql = format!(
            "SELECT {} FROM accounts WHERE username = $1 AND custody_point_id IS NULL",
            ACCOUNT_COLUMNS
        );
        let row: AccountRow = one_by(self, sql, username.to_string()).await?;
        row.open(self.keys())
    }

    async fn username_taken(&self, username: &str) -> StorageResult<bool> {
        let n: i64 = run!(self, |e| sqlx::query_scalar(
            "SELECT COUNT(*) FROM accounts WHERE username = $1"
        )
        .bind(username)
        .fetch_one(e)
        .await)
        .map_err(classify)?;
        Ok(n > 0)
    }

    async fn resident_id_number_taken(&self, id_number: &str) -> StorageResult<bool> {
        let n: i64 = run!(self, |e| sqlx::query_scalar(
            "SELECT COUNT(*) FROM accounts WHERE id_number_index = $1 AND role = 'resident'",
        )
        .bind(self.keys().index(ID_NUMBER, id_number))
        .fetch_one(e)
        .await)
        .map_err(classify)?;
        Ok(n > 0)
    }

    async fn resident_by_id_number(&self, id_number: &str) -> StorageResult<Account> {
        // Only constant column lists are spliced in; values are always bound.
        let sql = format!(
            "SELECT {} FROM accounts WHERE id_number_index = $1 AND role = 'resident'",
            ACCOUNT_COLUMNS
        );
        let row: AccountRow = one_by(self, sql, self.keys().index(ID_NUMBER, id_number)).await?;
        row.open(self.keys())
    }

    async fn set_password_hash(&self, id: Uuid, hash: &str) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(hash)
        .bind(Utc::now())
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn set_phone(&self, id: Uuid, phone: &str) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE accounts SET phone = $1, login_sms_required = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(self.keys().seal(ACCOUNT_PHONE, id, phone))
        .bind(true)
        .bind(Utc::now())
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn set_login_sms_required(&self, id: Uuid, required: bool) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE accounts SET login_sms_required = $1 WHERE id = $2"
        )
        .bind(required)
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn set_staff_service_points(&self, id: Uuid, points: &[Uuid]) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        run!(tx, |e| sqlx::query(
            "DELETE FROM staff_service_points WHERE account_id = $1"
        )
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        for point in points {
            add_staff_service_point_in(&mut tx, id, *point).await?;
        }
        tx.commit().await
    }

    async fn staff_service_points(&self, id: Uuid) -> StorageResult<Vec<Uuid>> {
        run!(self, |e| sqlx::query_scalar(
            "SELECT service_point_id FROM staff_service_points WHERE account_id = $1 ORDER BY service_point_id",
        )
        .bind(id)
        .fetch_all(e)
        .await)
        .map_err(classify)
    }

    async fn set_real_name_verified(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE accounts SET real_name_verified_at = COALESCE(real_name_verified_at, $2), updated_at = $2 WHERE id = $1",
        )
        .bind(account_id)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }
}

/// Passkeys (WebAuthn credentials) of an account.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    // Passkeys.
    async fn add_passkey(&self, passkey: &StoredPasskey) -> StorageResult<()>;
    async fn passkeys_of(&self, account_id: Uuid) -> StorageResult<Vec<StoredPasskey>>;
    /// Replaces the stored credential (its signature counter moves on every use).
    async fn update_passkey(
        &self,
        id: Uuid,
        credential_json: &str,
        used_at: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Deletes one of the account's passkeys; another account's passkey is `NotFound`.
    async fn delete_passkey(&self, account_id: Uuid, id: Uuid) -> StorageResult<()>;
}

#[async_trait]
impl PasskeyStore for Database {
    async fn add_passkey(&self, p: &StoredPasskey) -> StorageResult<()> {
        run!(self, |e| sqlx::query(
            "INSERT INTO passkeys (id, account_id, name, credential_id, credential, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(p.id)
        .bind(p.account_id)
        .bind(&p.name)
        .bind(&p.credential_id)
        .bind(&p.credential_json)
        .bind(p.created_at)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)
        .map(|_| ())
    }

    async fn passkeys_of(&self, account_id: Uuid) -> StorageResult<Vec<StoredPasskey>> {
        let rows: Vec<PasskeyRow> = run!(self, |e| sqlx::query_as(
            "SELECT id, account_id, name, credential_id, credential, created_at, last_used_at FROM passkeys WHERE account_id = $1 ORDER BY created_at",
        )
        .bind(account_id)
        .fetch_all(e)
        .await)
        .map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn update_passkey(
        &self,
        id: Uuid,
        credential_json: &str,
        used_at: DateTime<Utc>,
    ) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3"
        )
        .bind(credential_json)
        .bind(used_at)
        .bind(id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }

    async fn delete_passkey(&self, account_id: Uuid, id: Uuid) -> StorageResult<()> {
        let done = run!(self, |e| sqlx::query(
            "DELETE FROM passkeys WHERE id = $1 AND account_id = $2"
        )
        .bind(id)
        .bind(account_id)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(done)
    }
}

/// The one-time codes a clerk or administrator enrols their first passkey with.
#[async_trait]
pub trait EnrolmentStore: Send + Sync {
    /// Keeps a new code for the staff account (replacing any earlier one), removes its
    /// passkeys, so the next sign-in enrols a new one.
    async fn reset_staff_enrolment(
        &self,
        account_id: Uuid,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Whether the account has an unspent, unexpired code with this hash.
    async fn staff_enrolment_valid(
        &self,
        account_id: Uuid,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<bool>;
    /// Spends the code and adds the passkey it allows, in one transaction: `NotFound` when the
    /// code is no longer valid (spent by a racing enrolment, or expired).
    async fn finish_staff_enrolment(
        &self,
        passkey: &StoredPasskey,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

#[async_trait]
impl EnrolmentStore for Database {
    async fn reset_staff_enrolment(
        &self,
        account_id: Uuid,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        exec_by(
            &mut tx,
            "DELETE FROM passkeys WHERE account_id = $1",
            account_id,
        )
        .await?;
        exec_by(
            &mut tx,
            "DELETE FROM staff_enrolments WHERE account_id = $1",
            account_id,
        )
        .await?;
        insert_enrolment_in(&mut tx, account_id, code_hash, expires_at, now).await?;
        tx.commit().await
    }

    async fn staff_enrolment_valid(
        &self,
        account_id: Uuid,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let hit: Option<Uuid> = run!(self, |e| sqlx::query_scalar(
            "SELECT account_id FROM staff_enrolments WHERE account_id = $1 AND code_hash = $2 AND expires_at > $3"
        )
        .bind(account_id)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(e)
        .await)
        .map_err(classify)?;
        Ok(hit.is_some())
    }

    async fn finish_staff_enrolment(
        &self,
        p: &StoredPasskey,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        let spent = run!(tx, |e| sqlx::query(
            "DELETE FROM staff_enrolments WHERE account_id = $1 AND code_hash = $2 AND expires_at > $3"
        )
        .bind(p.account_id)
        .bind(code_hash)
        .bind(now)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        found(spent)?;
        run!(tx, |e| sqlx::query(
            "INSERT INTO passkeys (id, account_id, name, credential_id, credential, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(p.id)
        .bind(p.account_id)
        .bind(&p.name)
        .bind(&p.credential_id)
        .bind(&p.credential_json)
        .bind(p.created_at)
        .execute(e)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        tx.commit().await
    }
}
/// The service point's custody account, which holds its walk-ins' applications and permits
/// until each person claims theirs; opened on first need, in the caller's transaction, so two
/// clerks' first walk-ins at once share one. It has no usable password hash and a username no
/// person can register (a colon), and sign-in never finds it (`account_by_username`).
pub(crate) async fn custody_account(tx: &mut Tx, point: Uuid) -> StorageResult<Uuid> {
    let opened = run!(tx, |e| sqlx::query(
        "INSERT INTO accounts (id, username, password_hash, role, real_name, login_sms_required, custody_point_id, created_at, updated_at) \
         SELECT $1, $2, $3, $4, name || '（代管）', $5, id, $6, $6 FROM service_points WHERE id = $7 \
         ON CONFLICT DO NOTHING"
    )
    .bind(Uuid::new_v4())
    .bind(format!("custody:{}", point.simple()))
    .bind(CUSTODY_PASSWORD_HASH)
    .bind(Role::Unit.as_str())
    .bind(false)
    .bind(Utc::now())
    .bind(point)
    .execute(e)
    .await
    .map(|_| ()))
    .map_err(classify);
    opened?;
    let row: Option<(Uuid,)> = run!(tx, |e| sqlx::query_as(
        "SELECT id FROM accounts WHERE custody_point_id = $1"
    )
    .bind(point)
    .fetch_optional(e)
    .await)
    .map_err(classify)?;
    row.map(|(id,)| id).ok_or(StorageError::NotFound)
}

/// No password verifies against it: it is no PHC string.
const CUSTODY_PASSWORD_HASH: &str = "!custody";

/// Creates an account inside the caller's transaction (a registration records the privacy
/// notice agreed to in the same one).
pub(crate) async fn create_account_in(
    tx: &mut Tx,
    a: &NewAccount,
    now: DateTime<Utc>,
) -> StorageResult<Account> {
    // Only constant column lists are spliced in; values are always bound.
    let sql = format!(
        "INSERT INTO accounts (id, username, password_hash, role, real_name, id_number, sex, phone, region_code, login_sms_required, created_at, updated_at, id_number_index) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING {}",
        ACCOUNT_COLUMNS
    );
    let keys = tx.keys();
    let id = Uuid::new_v4();
    let row: AccountRow = run!(tx, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&a.username)
        .bind(&a.password_hash)
        .bind(a.role.as_str())
        .bind(keys.seal(ACCOUNT_REAL_NAME, id, &a.real_name))
        .bind(keys.seal_opt(ACCOUNT_ID_NUMBER, id, a.id_number.as_deref()))
        .bind(a.sex.map(|s| s.as_str()))
        .bind(keys.seal_opt(ACCOUNT_PHONE, id, a.phone.as_deref()))
        .bind(&a.region_code)
        .bind(a.login_sms_required)
        .bind(now)
        .bind(a.id_number.as_deref().map(|n| keys.index(ID_NUMBER, n)))
        .fetch_one(e)
        .await)
    .map_err(classify)?;
    row.open(&keys)
}

/// Serialises changes to one account's applications (the five-people rule).
pub(crate) async fn lock_account(tx: &mut Tx, account_id: Uuid) -> StorageResult<()> {
    let sql = format!(
        "SELECT id FROM accounts WHERE id = $1{}",
        tx.dialect().for_update
    );
    run!(tx, |e| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .fetch_optional(e)
        .await
        .map(|_| ()))
    .map_err(classify)
    .map(|_| ())
}

/// Keeps a staff account's enrolment code inside the caller's transaction.
pub(crate) async fn insert_enrolment_in(
    tx: &mut Tx,
    account_id: Uuid,
    code_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO staff_enrolments (account_id, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(account_id)
    .bind(code_hash)
    .bind(expires_at)
    .bind(now)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Scopes a staff account to one more service point inside the caller's transaction.
pub(crate) async fn add_staff_service_point_in(
    tx: &mut Tx,
    account_id: Uuid,
    point: Uuid,
) -> StorageResult<()> {
    run!(tx, |e| sqlx::query(
        "INSERT INTO staff_service_points (account_id, service_point_id) VALUES ($1, $2)"
    )
    .bind(account_id)
    .bind(point)
    .execute(e)
    .await
    .map(|r| r.rows_affected()))
    .map_err(classify)
    .map(|_| ())
}

/// Whether an account (of any role) has this name, read inside the caller's transaction.
pub(crate) async fn username_taken_in(tx: &mut Tx, username: &str) -> StorageResult<bool> {
    let n: i64 = run!(tx, |e| sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts WHERE username = $1"
    )
    .bind(username)
    .fetch_one(e)
    .await)
    .map_err(classify)?;
    Ok(n > 0)
}
