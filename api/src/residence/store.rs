//! Storage of residence registrations (居住登记).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::model::{NewRegistration, ResidenceRegistration};
use crate::identity::model::IdNumber;
use crate::platform::data_keys::DataKeys;
use crate::platform::storage::sealing::{
    ID_NUMBER, REGISTRATION_ADDRESS, REGISTRATION_ID_NUMBER, REGISTRATION_PERSON_NAME,
};
use crate::platform::storage::{Database, StorageError, StorageResult, all_by, classify, run};

pub(crate) const REGISTRATION_COLUMNS: &str = "id, account_id, person_name, id_number, district_code, street_code, address_detail, community_code, moved_in_on, housing_type, registered_on, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct RegistrationRow {
    id: Uuid,
    account_id: Uuid,
    person_name: String,
    id_number: String,
    district_code: String,
    street_code: String,
    address_detail: String,
    community_code: String,
    moved_in_on: NaiveDate,
    housing_type: String,
    registered_on: NaiveDate,
    created_at: DateTime<Utc>,
}

impl RegistrationRow {
    fn open(self, keys: &DataKeys) -> StorageResult<ResidenceRegistration> {
        let r = self;
        Ok(ResidenceRegistration {
            id: r.id,
            fields: NewRegistration {
                account_id: r.account_id,
                person_name: keys.open(REGISTRATION_PERSON_NAME, r.id, &r.person_name)?,
                id_number: IdNumber::parse(&keys.open(
                    REGISTRATION_ID_NUMBER,
                    r.id,
                    &r.id_number,
                )?)
                .map_err(|_| StorageError::Corrupt("registration ID number"))?,
                district_code: r.district_code,
                street_code: r.street_code,
                address_detail: keys.open(REGISTRATION_ADDRESS, r.id, &r.address_detail)?,
                community_code: r.community_code,
                moved_in_on: r.moved_in_on,
                housing_type: r.housing_type,
                registered_on: r.registered_on,
            },
            created_at: r.created_at,
        })
    }
}

/// A person's residence registrations.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    // Residence registrations.
    async fn create_registration(
        &self,
        r: &NewRegistration,
    ) -> StorageResult<ResidenceRegistration>;
    async fn registrations_of(&self, account_id: Uuid)
    -> StorageResult<Vec<ResidenceRegistration>>;
}

#[async_trait]
impl RegistrationStore for Database {
    async fn create_registration(
        &self,
        r: &NewRegistration,
    ) -> StorageResult<ResidenceRegistration> {
        let sql = format!(
            "INSERT INTO residence_registrations ({cols}, id_number_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {cols}",
            cols = REGISTRATION_COLUMNS
        );
        let keys = self.keys();
        let id = Uuid::new_v4();
        let row: RegistrationRow = run!(self, |e| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(r.account_id)
            .bind(keys.seal(REGISTRATION_PERSON_NAME, id, &r.person_name))
            .bind(keys.seal(REGISTRATION_ID_NUMBER, id, r.id_number.as_str()))
            .bind(&r.district_code)
            .bind(&r.street_code)
            .bind(keys.seal(REGISTRATION_ADDRESS, id, &r.address_detail))
            .bind(&r.community_code)
            .bind(r.moved_in_on)
            .bind(&r.housing_type)
            .bind(r.registered_on)
            .bind(Utc::now())
            .bind(keys.index(ID_NUMBER, r.id_number.as_str()))
            .fetch_one(e)
            .await)
        .map_err(classify)?;
        row.open(keys)
    }

    async fn registrations_of(
        &self,
        account_id: Uuid,
    ) -> StorageResult<Vec<ResidenceRegistration>> {
        let sql = format!(
            "SELECT {} FROM residence_registrations WHERE account_id = $1 ORDER BY registered_on, created_at",
            REGISTRATION_COLUMNS
        );
        let rows: Vec<RegistrationRow> = all_by(self, sql, account_id).await?;
        rows.into_iter().map(|r| r.open(self.keys())).collect()
    }
}
