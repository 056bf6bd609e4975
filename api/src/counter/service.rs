//! The counter's use cases: what a clerk reads of their service points' work (the queue, one
//! application, a day's appointments, the audit log) and what they do there (review, walk-ins,
//! check-in, unit accounts), the changes delegated to casework, booking and identity's store
//! inside their own transactions.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::booking::service::BookingError;
use crate::casework::applications::model::{
    Application, ApplicationFields, Appointment, Decision, Status,
};
use crate::casework::service::{CaseworkError, Filer};
use crate::directory::ServicePoint;
use crate::identity::model::{Account, IdNumber, NewAccount, Role, Staff};
use crate::identity::service::serves;
use crate::notifications::notice;
use crate::platform::audit::AuditEntry;
use crate::platform::clock::local_date;
use crate::platform::page::{self, Cursor, Page};
use crate::platform::storage::{Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// Outside the staff member's service points, a draft, or not there at all.
    #[error("not found")]
    NotFound,
    /// Returning an application needs a note naming what to fix.
    #[error("note required")]
    NoteRequired,
    #[error("note too long")]
    NoteTooLong,
    /// A walk-in is filed only at one's own service point.
    #[error("wrong service point")]
    WrongServicePoint,
    /// An appointment is checked in on its day only.
    #[error("not today")]
    NotToday,
    #[error("username taken")]
    UsernameTaken,
    /// A page of 1 to 200 rows.
    #[error("invalid limit")]
    InvalidLimit,
    #[error(transparent)]
    Casework(CaseworkError),
    #[error(transparent)]
    Booking(BookingError),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for CounterError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => CounterError::NotFound,
            other => CounterError::Storage(other),
        }
    }
}

impl From<CaseworkError> for CounterError {
    fn from(e: CaseworkError) -> Self {
        CounterError::Casework(e)
    }
}

impl From<BookingError> for CounterError {
    fn from(e: BookingError) -> Self {
        CounterError::Booking(e)
    }
}

type Result<T> = std::result::Result<T, CounterError>;

/// The service points whose work the staff member may see.
pub async fn scope(storage: &dyn Storage, staff: Staff) -> Result<Vec<Uuid>> {
    Ok(match staff.role {
        Role::Admin => storage
            .service_points(None)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect(),
        _ => storage.staff_service_points(staff.account_id).await?,
    })
}

/// The audit log, newest first.
/// A page of the audit log, newest first: `limit` entries (1 to 200) after `before`.
pub async fn audit_log(
    storage: &dyn Storage,
    before: Option<Cursor>,
    limit: Option<i64>,
) -> Result<Page<AuditEntry>> {
    let limit = page::limit(limit).ok_or(CounterError::InvalidLimit)?;
    let rows = storage.audit_log(before, limit + 1).await?;
    let page = Page::of(rows, limit, |(id, e)| Cursor { at: e.at, id: *id });
    Ok(Page {
        items: page.items.into_iter().map(|(_, e)| e).collect(),
        next: page.next,
    })
}

/// A page of the applications of the staff member's service points, oldest submission first
/// (the pre-review deadline order): `limit` (1 to 200) after `after`.
pub async fn queue(
    storage: &dyn Storage,
    staff: Staff,
    status: Option<Status>,
    after: Option<Cursor>,
    limit: Option<i64>,
) -> Result<Page<Application>> {
    let limit = page::limit(limit).ok_or(CounterError::InvalidLimit)?;
    // Each point's next rows after the cursor, merged: the first `limit + 1` of all of them
    // are the first of the union.
    let mut found = Vec::new();
    for point in scope(storage, staff).await? {
        found.extend(
            storage
                .applications_at(point, status, after, limit + 1)
                .await?,
        );
    }
    found.sort_by_key(|a| (queue_key(a).at, queue_key(a).id));
    Ok(Page::of(found, limit, queue_key))
}

/// Where an application stands in the queue: its submission (or, for the few without one,
/// its creation), then its id.
fn queue_key(a: &Application) -> Cursor {
    Cursor {
        at: a.submitted_at.unwrap_or(a.created_at),
        id: a.id,
    }
}

/// A staff member's view of one application, or not found outside their scope.
pub async fn scoped_application(
    storage: &dyn Storage,
    staff: Staff,
    id: Uuid,
) -> Result<Application> {
    let a = storage.application(id).await?;
    if a.status == Status::Draft || !serves(storage, staff, a.fields.service_point_id).await? {
        return Err(CounterError::NotFound);
    }
    Ok(a)
}

/// 初审: pass, or return with a note naming what to fix; the applicant is told.
pub async fn review(
    storage: &dyn Storage,
    staff: Staff,
    id: Uuid,
    decision: Decision,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Application, Option<String>)> {
    let a = scoped_application(storage, staff, id).await?;
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if decision == Decision::Return && note.is_none() {
        return Err(CounterError::NoteRequired);
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(CounterError::NoteTooLong);
    }
    let n = notice::reviewed(&a, decision, note.as_deref());
    let reviewed =
        crate::casework::service::review(storage, a.id, decision, note.as_deref(), now, &n).await?;
    Ok((reviewed, note))
}

/// 现场受理: the application is filed under the service point's custody account (never the
/// clerk's own, whose wallet would then hold the person's permit) and accepted at once, ready
/// to issue. The caller checked that the staff member serves the point.
pub async fn walk_in(
    storage: &dyn Storage,
    fields: &ApplicationFields,
    now: DateTime<Utc>,
) -> Result<Application> {
    // A point holds every walk-in it files until the person claims the permit: no account's
    // people limit applies to it.
    let draft = crate::casework::service::create_for(
        storage,
        Filer::CustodyOf(fields.service_point_id),
        fields,
        i64::MAX,
        now,
    )
    .await?;
    Ok(crate::casework::service::admit_walk_in(storage, draft.id, now).await?)
}

/// Releases a person's ID number, at their request in person with their ID card, from the
/// submitted application another account holds it with: that application is cancelled and
/// its account told in the app. Any clerk or administrator may do it (the person goes to any
/// counter); the caller writes the audit entry.
pub async fn release_id_number(
    storage: &dyn Storage,
    id_number: &IdNumber,
    now: DateTime<Utc>,
) -> Result<Application> {
    Ok(
        crate::casework::service::release(storage, id_number.as_str(), now, &notice::released)
            .await?,
    )
}

/// A service point the staff member serves, with its appointments of a day and their
/// applications.
pub async fn day_appointments(
    storage: &dyn Storage,
    staff: Staff,
    point: Uuid,
    day: NaiveDate,
    after: Option<Cursor>,
    limit: Option<i64>,
) -> Result<(ServicePoint, Page<(Application, Appointment)>)> {
    let limit = page::limit(limit).ok_or(CounterError::InvalidLimit)?;
    if !scope(storage, staff).await?.contains(&point) {
        return Err(CounterError::NotFound);
    }
    let place = storage.service_point(point).await?;
    let mut out = Vec::new();
    for ap in storage
        .appointments_on(point, day, after, limit + 1)
        .await?
    {
        let a = storage.application(ap.application_id).await?;
        out.push((a, ap));
    }
    let page = Page::of(out, limit, |(_, ap)| Cursor {
        at: ap.created_at,
        id: ap.id,
    });
    Ok((place, page))
}

/// 已受理: the applicant is at the counter on the day of the appointment.
pub async fn check_in(
    storage: &dyn Storage,
    staff: Staff,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Application, Appointment)> {
    let ap = storage.appointment(id).await?;
    if !serves(storage, staff, ap.service_point_id).await? {
        return Err(CounterError::NotFound);
    }
    if ap.day != local_date(now) {
        return Err(CounterError::NotToday);
    }
    let checked = crate::booking::service::check_in(storage, ap.id, now).await?;
    let a = storage.application(checked.application_id).await?;
    Ok((a, checked))
}

/// A service point, as it is now.
pub async fn service_point(storage: &dyn Storage, id: Uuid) -> Result<ServicePoint> {
    Ok(storage.service_point(id).await?)
}

/// Opens a unit account (单位代办) with the checked name, phone and password hash.
pub async fn open_unit(storage: &dyn Storage, account: &NewAccount) -> Result<Account> {
    storage.create_account(account).await.map_err(|e| match e {
        StorageError::Conflict(_) => CounterError::UsernameTaken,
        other => other.into(),
    })
}
