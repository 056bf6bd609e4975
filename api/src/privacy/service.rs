//! The holder's rights as use cases: where they stand against the privacy notice, agreeing to
//! it, the access log, the export of everything held about them, and closing the account.
//! Personal data is read through the other contexts' stores and services only.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Write;

use chrono::{DateTime, Utc};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{
    AccessEntry, AccessKind, AccessPage, Consent, ConsentState, VERIFY_ACTION, action_label,
    export_download_name, export_file_names, is_current,
};
use super::store;
use crate::casework::applications::model::AppointmentStatus;
use crate::identity::model::Account;
use crate::platform::clock::local_date;
use crate::platform::ephemeral::{Ephemeral, EphemeralError};
use crate::platform::storage::{Storage, StorageError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The version agreed to is not the notice shown now.
    #[error("the privacy notice agreed to is outdated")]
    NoticeOutdated,
    /// Staff accounts are closed by an operator, not by their holder.
    #[error("a staff account")]
    StaffAccount,
    #[error("the page size is out of range")]
    InvalidLimit,
    /// A proof file could not be read for the export.
    #[error("object storage: {0}")]
    Files(#[from] object_store::Error),
    #[error("the export could not be written: {0}")]
    Export(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
}

type Result<T> = std::result::Result<T, PrivacyError>;

/// The most access-log entries one page holds.
pub const ACCESS_PAGE_MAX: i64 = 200;

/// Where the account stands against the current notice.
pub async fn consent_state(
    storage: &dyn Storage,
    account_id: Uuid,
    current_version: &str,
) -> Result<ConsentState> {
    let consents = storage.consents_of(account_id).await?;
    // The agreement to the current version counts, whenever it was given; else the latest.
    let agreed = consents
        .iter()
        .find(|c| c.version == current_version)
        .or(consents.first())
        .cloned();
    Ok(ConsentState {
        current_version: current_version.to_string(),
        agreed,
    })
}

/// The holder agrees to the notice shown now.
pub async fn agree(
    storage: &dyn Storage,
    account_id: Uuid,
    version: &str,
    current_version: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if !is_current(version, current_version) {
        return Err(PrivacyError::NoticeOutdated);
    }
    storage.agree(account_id, current_version, now).await?;
    Ok(())
}

/// Records the agreement a registration carries, inside the registration's transaction.
pub async fn record_consent(
    tx: &mut Tx,
    account_id: Uuid,
    version: &str,
    now: DateTime<Utc>,
) -> std::result::Result<(), StorageError> {
    store::record_consent(tx, account_id, version, now).await
}

/// What the holder owns that staff may read, each with the service point it belongs to (an
/// account read counts for the reader's own point).
async fn holdings(
    storage: &dyn Storage,
    account: &Account,
) -> Result<HashMap<String, Option<Uuid>>> {
    let mut objects = HashMap::new();
    objects.insert(account.id.to_string(), None);
    for a in storage.applications_of(account.id).await? {
        let point = Some(a.fields.service_point_id);
        objects.insert(a.id.to_string(), point);
        for m in storage.materials_of(a.id).await? {
            objects.insert(m.id.to_string(), point);
        }
    }
    for ap in storage.appointments_of(account.id).await? {
        objects.insert(ap.id.to_string(), Some(ap.service_point_id));
    }
    for p in storage.permits_of(account.id).await? {
        objects.insert(p.id.to_string(), Some(p.service_point_id));
    }
    Ok(objects)
}

/// Who looked at the holder's data, newest first: every staff read or action on their
/// account, applications, appointments, proof files and permits (by service point, never the
/// staff member), and every online verification of their permits.
pub async fn access_log(
    storage: &dyn Storage,
    account: &Account,
    before: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<AccessPage> {
    if !(1..=ACCESS_PAGE_MAX).contains(&limit) {
        return Err(PrivacyError::InvalidLimit);
    }
    let objects = holdings(storage, account).await?;
    let ids: Vec<String> = objects.keys().cloned().collect();
    let bound = store::before_or_all(before);
    let staff = storage.staff_accesses(&ids, bound, limit + 1).await?;
    let verifications = storage
        .verifications_of(account.id, bound, limit + 1)
        .await?;

    let mut staff_points: HashMap<Uuid, Option<Uuid>> = HashMap::new();
    let mut point_names: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut items = Vec::with_capacity(staff.len() + verifications.len());
    for s in staff {
        let point = match objects.get(&s.object_id).copied().flatten() {
            Some(point) => Some(point),
            None => {
                if let Entry::Vacant(slot) = staff_points.entry(s.staff_id) {
                    // A clerk of one point stands for it; an administrator for none.
                    let points = storage.staff_service_points(s.staff_id).await?;
                    slot.insert((points.len() == 1).then(|| points[0]));
                }
                staff_points[&s.staff_id]
            }
        };
        let name = match point {
            None => None,
            Some(point) => {
                if let Entry::Vacant(slot) = point_names.entry(point) {
                    slot.insert(match storage.service_point(point).await {
                        Ok(p) => Some(p.name),
                        Err(StorageError::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    });
                }
                point_names[&point].clone()
            }
        };
        let (label, label_en) = action_label(&s.action);
        items.push(AccessEntry {
            at: s.at,
            kind: AccessKind::Staff,
            action: s.action,
            action_label: label,
            action_label_en: label_en,
            service_point_name: name,
            verifier_name: None,
        });
    }
    let (label, label_en) = action_label(VERIFY_ACTION);
    for v in verifications {
        items.push(AccessEntry {
            at: v.at,
            kind: AccessKind::Verification,
            action: VERIFY_ACTION.to_string(),
            action_label: label,
            action_label_en: label_en,
            service_point_name: None,
            verifier_name: v.verifier_name,
        });
    }
    items.sort_by_key(|e| std::cmp::Reverse(e.at));
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_before = if more {
        items.last().map(|e| e.at)
    } else {
        None
    };
    Ok(AccessPage { items, next_before })
}

/// The export download: its file name and the zip.
pub struct Export {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn consent_json(c: &Consent) -> Value {
    json!({"version": c.version, "agreed_at": c.agreed_at})
}

fn access_json(e: &AccessEntry) -> Value {
    json!({
        "at": e.at, "kind": e.kind, "action": e.action, "action_label": e.action_label,
        "action_label_en": e.action_label_en, "service_point_name": e.service_point_name,
        "verifier_name": e.verifier_name,
    })
}

/// Everything permitd holds about the account, as `data.json` with the proof files under
/// `materials/<application number>/<file name>`, in one zip (PIPL art. 45).
pub async fn export(
    storage: &dyn Storage,
    files: &dyn ObjectStore,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Export> {
    let account = storage.account_by_id(account_id).await?;
    let registrations: Vec<Value> = storage
        .registrations_of(account.id)
        .await?
        .iter()
        .map(|r| {
            let f = &r.fields;
            json!({
                "id": r.id, "person_name": f.person_name, "id_number": f.id_number.as_str(),
                "district_code": f.district_code, "street_code": f.street_code,
                "address_detail": f.address_detail, "community_code": f.community_code,
                "moved_in_on": f.moved_in_on, "housing_type": f.housing_type,
                "registered_on": f.registered_on, "created_at": r.created_at,
            })
        })
        .collect();
    let appointments = storage.appointments_of(account.id).await?;
    let mut applications = Vec::new();
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for a in storage.applications_of(account.id).await? {
        let materials = storage.materials_of(a.id).await?;
        let names = export_file_names(
            materials
                .iter()
                .map(|m| (m.file_name.as_str(), m.kind.extension())),
        );
        let mut listed = Vec::new();
        for (m, name) in materials.iter().zip(names) {
            let path = format!("materials/{}/{}", a.number, name);
            let bytes = files
                .get(&ObjectPath::from(m.object_key.as_str()))
                .await?
                .bytes()
                .await?;
            entries.push((path.clone(), bytes.to_vec()));
            listed.push(json!({
                "id": m.id, "file_name": m.file_name, "kind": m.kind.as_str(),
                "size_bytes": m.size_bytes, "sha256": m.sha256, "created_at": m.created_at,
                "path": path,
            }));
        }
        let f = &a.fields;
        let booked: Vec<&super::model::AppointmentRecord> = appointments
            .iter()
            .filter(|ap| ap.application_id == a.id)
            .collect();
        applications.push(json!({
            "id": a.id, "number": a.number, "status": a.status.as_str(),
            "business_type": f.business_type.as_str(), "applicant_name": f.applicant_name,
            "applicant_id_number": f.applicant_id_number.as_str(),
            "applicant_sex": f.applicant_sex.as_str(), "phone": f.phone.as_str(),
            "district_code": f.district_code, "street_code": f.street_code,
            "address_detail": f.address_detail, "community_code": f.community_code,
            "service_point_id": f.service_point_id, "employer": f.employer,
            "condition": f.condition, "review_note": a.review_note,
            "submitted_at": a.submitted_at, "reviewed_at": a.reviewed_at,
            "created_at": a.created_at, "updated_at": a.updated_at,
            "appointments": booked, "materials": listed,
        }));
    }
    let permits: Vec<Value> = storage
        .permits_of(account.id)
        .await?
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "number": p.number, "holder_name": p.holder_name,
                "id_number": p.id_number.as_str(), "sex": p.sex.as_str(),
                "birth_date": p.birth_date, "district": p.district, "authority": p.authority,
                "service_point_id": p.service_point_id, "first_issued": p.first_issued,
                "last_endorsed": p.last_endorsed, "valid_until": p.valid_until,
                "status": p.status.as_str(), "revoked_reason": p.revoked_reason,
                "claimed_at": p.claimed_at, "created_at": p.created_at,
            })
        })
        .collect();
    let notifications: Vec<Value> = storage
        .notifications_of(account.id, i64::from(i32::MAX))
        .await?
        .iter()
        .map(|n| {
            json!({
                "id": n.id, "kind": n.kind, "title": n.title, "body": n.body,
                "application_id": n.application_id, "created_at": n.created_at,
                "read_at": n.read_at,
            })
        })
        .collect();
    let consents: Vec<Value> = storage
        .consents_of(account.id)
        .await?
        .iter()
        .map(consent_json)
        .collect();
    let mut access = Vec::new();
    let mut before = None;
    loop {
        let page = access_log(storage, &account, before, ACCESS_PAGE_MAX).await?;
        access.extend(page.items.iter().map(access_json));
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let data = json!({
        "exported_at": now,
        "account": {
            "id": account.id, "username": account.username, "role": account.role.as_str(),
            "real_name": account.real_name,
            "id_number": account.id_number.as_ref().map(|n| n.as_str()),
            "sex": account.sex.map(|s| s.as_str()),
            "phone": account.phone.as_ref().map(|p| p.as_str()),
            "region_code": account.region_code,
            "real_name_verified_at": account.real_name_verified_at,
            "created_at": account.created_at,
        },
        "residence_registrations": registrations,
        "applications": applications,
        "permits": permits,
        "notifications": notifications,
        "privacy_consents": consents,
        "access_log": access,
    });
    let document =
        serde_json::to_vec_pretty(&data).map_err(|e| PrivacyError::Export(e.to_string()))?;
    // Compressing a few photos is CPU work: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || zip_of(document, entries))
        .await
        .map_err(|e| PrivacyError::Export(e.to_string()))??;
    Ok(Export {
        file_name: export_download_name(local_date(now)),
        bytes,
    })
}

fn zip_of(document: Vec<u8>, files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let failed = |e: &dyn std::fmt::Display| PrivacyError::Export(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("data.json", options)
        .map_err(|e| failed(&e))?;
    zip.write_all(&document).map_err(|e| failed(&e))?;
    for (path, bytes) in files {
        zip.start_file(path, options).map_err(|e| failed(&e))?;
        zip.write_all(&bytes).map_err(|e| failed(&e))?;
    }
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

/// Closes the holder's account (see the `privacy` module doc for what is kept): open
/// applications withdrawn with their places given back, everything personal erased in one
/// transaction, the session ended, then the proof files deleted from object storage. A file
/// the store fails to delete stays listed and the jobs try again; the account is closed either
/// way.
pub async fn close(
    storage: &dyn Storage,
    ephemeral: &dyn Ephemeral,
    files: &dyn ObjectStore,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<()> {
    if account.role.is_staff() {
        return Err(PrivacyError::StaffAccount);
    }
    let mut tx = storage.begin().await?;
    crate::identity::service::hold_account(&mut tx, account.id).await?;
    for id in store::application_ids(&mut tx, account.id).await? {
        crate::booking::service::release_place(&mut tx, id, AppointmentStatus::Cancelled, now)
            .await?;
    }
    let keys = store::close_account(&mut tx, account.id, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account.id, files = keys.len(), "account closed by its holder");
    crate::identity::service::sessions::end_all(ephemeral, account.id).await?;
    erase_files(storage, files, keys).await?;
    Ok(())
}

/// Deletes listed files from object storage; each one deleted (or already gone) leaves the
/// list. Answers how many left it.
async fn erase_files(
    storage: &dyn Storage,
    files: &dyn ObjectStore,
    keys: Vec<String>,
) -> std::result::Result<usize, StorageError> {
    let mut erased = 0;
    for key in keys {
        match files.delete(&ObjectPath::from(key.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                storage.erased(&key).await?;
                erased += 1;
            }
            Err(e) => tracing::warn!(error = %e, "a closed account's file is kept for another try"),
        }
    }
    Ok(erased)
}

/// The jobs' round: files of closed accounts that an earlier delete did not remove.
pub async fn erase_pending_files(
    storage: &dyn Storage,
    files: &dyn ObjectStore,
    limit: i64,
) -> std::result::Result<usize, StorageError> {
    let keys = storage.pending_erasures(limit).await?;
    erase_files(storage, files, keys).await
}
