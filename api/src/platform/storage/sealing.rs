//! Which columns hold sealed personal data, and the pass that brings every row under the
//! current data key: values from before sealing (plaintext) and values under an older key are
//! resealed and their blind indexes filled, in batches, each row only if nobody changed it
//! meanwhile. It runs at every start (a no-op once done) and from `permitd keys rotate-data`.
//!
//! The audit log is append-only (its triggers refuse updates), so its entries keep the key that
//! sealed them; that is why an old data key is never deleted from the keys directory.

use sqlx::Row;
use uuid::Uuid;

use super::{Database, StorageError, StorageResult, classify, run};
use crate::platform::data_keys::DataKeys;

// Each sealed column, as `table.column`: the name is also the associated data of its values.
pub const ACCOUNT_REAL_NAME: &str = "accounts.real_name";
pub const ACCOUNT_ID_NUMBER: &str = "accounts.id_number";
pub const ACCOUNT_PHONE: &str = "accounts.phone";
pub const REGISTRATION_PERSON_NAME: &str = "residence_registrations.person_name";
pub const REGISTRATION_ID_NUMBER: &str = "residence_registrations.id_number";
pub const REGISTRATION_ADDRESS: &str = "residence_registrations.address_detail";
pub const APPLICANT_NAME: &str = "applications.applicant_name";
pub const APPLICANT_ID_NUMBER: &str = "applications.applicant_id_number";
pub const APPLICANT_PHONE: &str = "applications.phone";
pub const APPLICANT_ADDRESS: &str = "applications.address_detail";
pub const APPLICANT_EMPLOYER: &str = "applications.employer";
pub const PERMIT_HOLDER_NAME: &str = "permits.holder_name";
pub const PERMIT_ID_NUMBER: &str = "permits.id_number";
pub const NOTICE_BODY: &str = "notifications.body";
pub const NOTICE_SMS_PHONE: &str = "notifications.sms_phone";
pub const NOTICE_SMS_PARAMS: &str = "notifications.sms_params";
pub const AUDIT_DETAIL: &str = "audit_log.detail";

/// The blind index kind of ID numbers.
pub const ID_NUMBER: &str = "id_number";

/// A table's sealed columns and the blind indexes computed from them.
struct SealedTable {
    table: &'static str,
    columns: &'static [&'static str],
    /// (index column, the sealed column it indexes, index kind)
    indexes: &'static [(&'static str, &'static str, &'static str)],
}

const TABLES: &[SealedTable] = &[
    SealedTable {
        table: "accounts",
        columns: &[ACCOUNT_REAL_NAME, ACCOUNT_ID_NUMBER, ACCOUNT_PHONE],
        indexes: &[("id_number_index", ACCOUNT_ID_NUMBER, ID_NUMBER)],
    },
    SealedTable {
        table: "residence_registrations",
        columns: &[
            REGISTRATION_PERSON_NAME,
            REGISTRATION_ID_NUMBER,
            REGISTRATION_ADDRESS,
        ],
        indexes: &[("id_number_index", REGISTRATION_ID_NUMBER, ID_NUMBER)],
    },
    SealedTable {
        table: "applications",
        columns: &[
            APPLICANT_NAME,
            APPLICANT_ID_NUMBER,
            APPLICANT_PHONE,
            APPLICANT_ADDRESS,
            APPLICANT_EMPLOYER,
        ],
        indexes: &[("applicant_id_index", APPLICANT_ID_NUMBER, ID_NUMBER)],
    },
    SealedTable {
        table: "permits",
        columns: &[PERMIT_HOLDER_NAME, PERMIT_ID_NUMBER],
        indexes: &[("id_number_index", PERMIT_ID_NUMBER, ID_NUMBER)],
    },
    SealedTable {
        table: "notifications",
        columns: &[NOTICE_BODY, NOTICE_SMS_PHONE, NOTICE_SMS_PARAMS],
        indexes: &[],
    },
];

const BATCH: i64 = 500;

fn column(qualified: &'static str) -> &'static str {
    qualified.split_once('.').map_or(qualified, |(_, c)| c)
}

/// How many values the pass resealed, table by table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resealed {
    pub rows: Vec<(&'static str, u64)>,
}

impl Resealed {
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// Reseals every row not yet under the current key.
pub async fn seal_all(db: &Database) -> StorageResult<Resealed> {
    let mut out = Resealed::default();
    for t in TABLES {
        let n = seal_table(db, t).await?;
        out.rows.push((t.table, n));
    }
    Ok(out)
}

/// Rows of `t` that hold a value not under the current key, or lack an index.
fn stale_rows_sql(t: &SealedTable) -> String {
    let mut conditions: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("({0} IS NOT NULL AND {0} NOT LIKE $1)", column(c)))
        .collect();
    for (index, source, _) in t.indexes {
        conditions.push(format!(
            "({index} IS NULL AND {} IS NOT NULL)",
            column(source)
        ));
    }
    let cols: Vec<&str> = t.columns.iter().map(|c| column(c)).collect();
    format!(
        "SELECT id, {} FROM {} WHERE {} LIMIT $2",
        cols.join(", "),
        t.table,
        conditions.join(" OR ")
    )
}

/// Rewrites one row if its sealed columns still hold what was read.
fn reseal_row_sql(t: &SealedTable) -> String {
    let n = t.columns.len();
    let mut sets: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", column(c), i + 2))
        .collect();
    for (j, (index, _, _)) in t.indexes.iter().enumerate() {
        sets.push(format!("{index} = ${}", n + 2 + j));
    }
    let first_old = n + 2 + t.indexes.len();
    let unchanged: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} IS NOT DISTINCT FROM ${}", column(c), first_old + i))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE id = $1 AND {}",
        t.table,
        sets.join(", "),
        unchanged.join(" AND ")
    )
}

async fn seal_table(db: &Database, t: &SealedTable) -> StorageResult<u64> {
    let keys = db.keys();
    let select = stale_rows_sql(t);
    let update = reseal_row_sql(t);
    let n = t.columns.len();
    let mut resealed = 0u64;
    let mut stalled = 0;
    loop {
        let pattern = DataKeys::like_kid(&keys.current_kid());
        let rows: Vec<(Uuid, Vec<Option<String>>)> = run!(db, |e| {
            match sqlx::query(sqlx::AssertSqlSafe(select.clone()))
                .bind(&pattern)
                .bind(BATCH)
                .fetch_all(e)
                .await
            {
                Ok(rows) => rows
                    .iter()
                    .map(|r| {
                        let id: Uuid = r.try_get(0)?;
                        let values = (1..=n)
                            .map(|i| r.try_get::<Option<String>, _>(i))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok((id, values))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>(),
                Err(e) => Err(e),
            }
        })
        .map_err(classify)?;
        if rows.is_empty() {
            return Ok(resealed);
        }
        let mut changed = 0u64;
        for (id, old) in &rows {
            let mut plain = Vec::with_capacity(n);
            for (c, v) in t.columns.iter().zip(old) {
                plain.push(keys.open_opt(c, *id, v.as_deref())?);
            }
            let sealed: Vec<Option<String>> = t
                .columns
                .iter()
                .zip(&plain)
                .map(|(c, p)| keys.seal_opt(c, *id, p.as_deref()))
                .collect();
            let indexes: Vec<Option<String>> = t
                .indexes
                .iter()
                .map(|(_, source, kind)| {
                    let at = t.columns.iter().position(|c| c == source).unwrap_or(0);
                    plain[at].as_deref().map(|p| keys.index(kind, p))
                })
                .collect();
            let done = run!(db, |e| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(update.clone())).bind(*id);
                for v in sealed.iter().chain(&indexes).chain(old) {
                    q = q.bind(v.clone());
                }
                q.execute(e).await.map(|r| r.rows_affected())
            })
            .map_err(classify)?;
            changed += done;
        }
        resealed += changed;
        if changed == 0 {
            // Every row of the batch changed under us (read again next round). A batch that
            // never moves means a writer still sealing with an older key: the next run (every
            // start, or `rotate-data` again) finishes it.
            stalled += 1;
            if stalled > 20 {
                tracing::warn!(
                    table = t.table,
                    "rows keep changing while resealing; stopping this pass"
                );
                return Ok(resealed);
            }
            keys.refresh();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl From<crate::platform::data_keys::SealError> for StorageError {
    fn from(e: crate::platform::data_keys::SealError) -> Self {
        StorageError::Corrupt(e.0)
    }
}
