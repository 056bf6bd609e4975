//! Casework's use cases: an application from draft to decision. Each owns its transaction and
//! answers with a [`CaseworkError`]; the lifecycle they follow is [`Transition`].

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::applications::model::{
    Application, ApplicationFields, Appointment, ConditionVerdict, Decision, MAX_MATERIALS,
    Material, StaffScope, Transition, new_number,
};
use super::store;
use crate::booking;
use crate::casework::applications::model::AppointmentStatus;
use crate::directory::ServicePoint;
use crate::identity;
use crate::identity::model::Role;
use crate::notifications;
use crate::notifications::model::NewNotification;
use crate::platform::clock::local_date;
use crate::platform::storage::{Storage, StorageError, StorageResult, Tx};
use crate::residence;
use crate::residence::eligibility::Policy;

#[derive(Debug, thiserror::Error)]
pub enum CaseworkError {
    /// Not there, or another account's.
    #[error("application not found")]
    NotFound,
    /// The account itself already submitted an application in progress for the person.
    #[error("the person has an open application")]
    ApplicationExists,
    /// Another account's submitted application in progress holds the person's ID number; the
    /// answer names nothing of it (the person goes to a counter, where a clerk can release it).
    #[error("another account's application holds the ID number")]
    HeldElsewhere,
    /// A counter release found no application holding the ID number that can be released.
    #[error("nothing to release")]
    NothingToRelease,
    /// The account already applies for five other people.
    #[error("too many applicants")]
    TooManyApplicants,
    #[error("the application can no longer be changed")]
    NotEditable,
    #[error("the application can no longer be cancelled")]
    NotCancellable,
    #[error("the application is not awaiting pre-review")]
    NotReviewable,
    /// No condition chosen or no proof file yet, or already submitted.
    #[error("the application cannot be submitted")]
    NotSubmittable,
    /// Submitting needs the one condition chosen.
    #[error("no condition chosen")]
    ConditionRequired,
    /// The chosen condition needs a residence period not yet met on the day of submitting.
    #[error("the condition is not met today")]
    ConditionNotMet(Box<ConditionVerdict>),
    /// Submitting needs at least one proof file.
    #[error("no proof file")]
    MaterialsRequired,
    /// The chosen service point does not exist.
    #[error("no such service point")]
    InvalidServicePoint,
    /// The chosen service point is not in the district of the address.
    #[error("the service point is outside the district")]
    ServicePointOutsideDistrict,
    /// Ten files already, or the application can no longer be edited.
    #[error("no more proof files are accepted")]
    MaterialsNotAccepted,
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for CaseworkError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => CaseworkError::NotFound,
            StorageError::Conflict("id_number") => CaseworkError::ApplicationExists,
            other => CaseworkError::Storage(other),
        }
    }
}

type Result<T> = std::result::Result<T, CaseworkError>;

/// The caller's own application; another account's is not found.
pub async fn own_application(
    storage: &dyn Storage,
    account_id: Uuid,
    id: Uuid,
) -> Result<Application> {
    let application = storage.application(id).await?;
    if application.account_id != account_id {
        return Err(CaseworkError::NotFound);
    }
    Ok(application)
}

/// The account's applications, newest first.
pub async fn applications_of(storage: &dyn Storage, account_id: Uuid) -> Result<Vec<Application>> {
    Ok(storage.applications_of(account_id).await?)
}

/// The service points a staff member acts for: every one for an administrator, a clerk's own,
/// none for residents and units.
pub async fn staff_scope(
    storage: &dyn Storage,
    account_id: Uuid,
    role: Role,
) -> Result<StaffScope> {
    Ok(match role {
        Role::Admin => StaffScope::All,
        Role::Clerk => StaffScope::Points(storage.staff_service_points(account_id).await?),
        Role::Resident | Role::Unit => StaffScope::Points(Vec::new()),
    })
}

/// A service point an application names; a missing one is not found.
pub async fn service_point(storage: &dyn Storage, id: Uuid) -> Result<ServicePoint> {
    Ok(storage.service_point(id).await?)
}

/// The place an application is booked for, if any.
pub async fn current_appointment(
    storage: &dyn Storage,
    application_id: Uuid,
) -> Result<Option<Appointment>> {
    Ok(storage.current_appointment(application_id).await?)
}

/// An application with what its detail shows: its service point, proof files and place.
pub struct CaseFile {
    pub application: Application,
    pub service_point: ServicePoint,
    pub materials: Vec<Material>,
    pub appointment: Option<Appointment>,
}

pub async fn case_file(storage: &dyn Storage, application: Application) -> Result<CaseFile> {
    let service_point = service_point(storage, application.fields.service_point_id).await?;
    let materials = storage.materials_of(application.id).await?;
    let appointment = storage.current_appointment(application.id).await?;
    Ok(CaseFile {
        application,
        service_point,
        materials,
        appointment,
    })
}

/// The service point chosen on the form must exist and lie in the address's district.
pub async fn check_service_point(
    storage: &dyn Storage,
    id: Uuid,
    district_code: &str,
) -> Result<ServicePoint> {
    let point = match storage.service_point(id).await {
        Ok(p) => p,
        Err(StorageError::NotFound) => return Err(CaseworkError::InvalidServicePoint),
        Err(e) => return Err(e.into()),
    };
    if point.district_code != district_code {
        return Err(CaseworkError::ServicePointOutsideDistrict);
    }
    Ok(point)
}

/// A proof file for its owner or the staff of the application's service point; to anyone else
/// it is not found.
pub async fn readable_material(
    storage: &dyn Storage,
    account_id: Uuid,
    role: Role,
    application_id: Uuid,
    id: Uuid,
) -> Result<(Application, Material)> {
    let application = storage.application(application_id).await?;
    let allowed = application.account_id == account_id
        || staff_scope(storage, account_id, role)
            .await?
            .covers(application.fields.service_point_id);
    if !allowed {
        return Err(CaseworkError::NotFound);
    }
    let material = storage.material(application.id, id).await?;
    Ok((application, material))
}

/// Which refusal a person whose ID number is held gets: their own account's application, or
/// another's (which stays nameless).
fn held_by(holder: &Application, account_id: Uuid) -> CaseworkError {
    if holder.account_id == account_id {
        CaseworkError::ApplicationExists
    } else {
        CaseworkError::HeldElsewhere
    }
}

/// Tells a unique-index refusal (`ApplicationExists` from the storage) apart by who holds it.
async fn who_holds(
    storage: &dyn Storage,
    account_id: Uuid,
    id_number: &str,
    e: CaseworkError,
) -> CaseworkError {
    if !matches!(e, CaseworkError::ApplicationExists) {
        return e;
    }
    let found = async {
        let mut tx = storage.begin().await?;
        store::holder_of(&mut tx, id_number).await
    };
    match found.await {
        Ok(Some(holder)) => held_by(&holder, account_id),
        Ok(None) => CaseworkError::ApplicationExists,
        Err(e) => e.into(),
    }
}

/// Whom a new application is filed under.
#[derive(Debug, Clone, Copy)]
pub enum Filer {
    /// The signed-in resident or unit.
    Account(Uuid),
    /// A walk-in at this service point: its custody account, opened on first need in the same
    /// transaction, holds the application and later its permit until the person claims it.
    CustodyOf(Uuid),
}

/// Step 1 (and 2): a draft, numbered afresh if the random number is taken. A draft holds no
/// ID number; one that another submitted application holds is refused at once, so the person
/// learns of it when they apply.
pub async fn create(
    storage: &dyn Storage,
    account_id: Uuid,
    fields: &ApplicationFields,
    max_people: i64,
    now: DateTime<Utc>,
) -> Result<Application> {
    create_for(storage, Filer::Account(account_id), fields, max_people, now).await
}

/// [`create`], filed under `filer`.
pub async fn create_for(
    storage: &dyn Storage,
    filer: Filer,
    fields: &ApplicationFields,
    max_people: i64,
    now: DateTime<Utc>,
) -> Result<Application> {
    let mut tries = 0;
    loop {
        let mut tx = storage.begin().await?;
        let account_id = match filer {
            Filer::Account(id) => id,
            Filer::CustodyOf(point) => identity::service::custody_account(&mut tx, point).await?,
        };
        identity::service::hold_account(&mut tx, account_id).await?;
        if let Some(holder) = store::holder_of(&mut tx, fields.applicant_id_number.as_str()).await?
        {
            return Err(held_by(&holder, account_id));
        }
        match store::insert_application(
            &mut tx,
            account_id,
            &new_number(now),
            fields,
            max_people,
            now,
        )
        .await
        {
            Ok(Some(created)) => {
                tx.commit().await?;
                return Ok(created);
            }
            Ok(None) => return Err(CaseworkError::TooManyApplicants),
            Err(StorageError::Conflict("number")) if tries < 5 => tries += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Steps 1 and 2 again, while the application is a draft or returned.
pub async fn update(
    storage: &dyn Storage,
    account_id: Uuid,
    id: Uuid,
    fields: &ApplicationFields,
    max_people: i64,
    now: DateTime<Utc>,
) -> Result<Application> {
    let mut tx = storage.begin().await?;
    identity::service::hold_account(&mut tx, account_id).await?;
    let updated = match store::update_fields(&mut tx, account_id, id, fields, max_people, now).await
    {
        Ok(updated) => updated,
        Err(e) => {
            drop(tx);
            let id_number = fields.applicant_id_number.as_str();
            return Err(who_holds(storage, account_id, id_number, e.into()).await);
        }
    };
    if let Some(updated) = updated {
        tx.commit().await?;
        return Ok(updated);
    }
    drop(tx);
    // Tell which rule refused.
    let current = own_application(storage, account_id, id).await?;
    Err(if current.status.is_editable() {
        CaseworkError::TooManyApplicants
    } else {
        CaseworkError::NotEditable
    })
}

/// Whether the application's chosen condition can be used on `today`, counted from the
/// applicant's residence registrations filed by the same account; `None` until a condition is
/// chosen.
pub async fn condition_verdict(
    storage: &dyn Storage,
    policy: &Policy,
    a: &Application,
    today: NaiveDate,
) -> StorageResult<Option<ConditionVerdict>> {
    let Some(condition) = a.fields.condition.as_deref() else {
        return Ok(None);
    };
    let id_number = &a.fields.applicant_id_number;
    let assessment =
        residence::service::assess(storage, policy, a.account_id, id_number, today).await?;
    Ok(Some(ConditionVerdict::of(
        &assessment,
        a.fields.business_type,
        condition,
    )))
}

/// 确认申报 of the caller's own application, once a condition is chosen, a proof file is
/// there, and the condition can be used today.
pub async fn submit(
    storage: &dyn Storage,
    policy: &Policy,
    account_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Application> {
    let current = own_application(storage, account_id, id).await?;
    if !current.status.is_editable() {
        return Err(CaseworkError::NotSubmittable);
    }
    if current.fields.condition.is_none() {
        return Err(CaseworkError::ConditionRequired);
    }
    if storage.materials_of(id).await?.is_empty() {
        return Err(CaseworkError::MaterialsRequired);
    }
    let verdict = condition_verdict(storage, policy, &current, local_date(now))
        .await?
        .ok_or(CaseworkError::ConditionRequired)?;
    if !verdict.eligible {
        return Err(CaseworkError::ConditionNotMet(Box::new(verdict)));
    }
    let id_number = current.fields.applicant_id_number.as_str();
    match storage.submit_application(account_id, id, now).await {
        Ok(submitted) => submitted.ok_or(CaseworkError::NotSubmittable),
        // Another account's drafts for the person stay drafts: they are refused here, and
        // expire unless the ID number is released first.
        Err(e) => Err(who_holds(storage, account_id, id_number, e.into()).await),
    }
}

/// 现场受理: a draft filed by a clerk at the counter is accepted at once, without appointment.
pub async fn admit_walk_in(
    storage: &dyn Storage,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Application> {
    match storage.admit_walk_in(id, now).await {
        Ok(admitted) => admitted.ok_or(CaseworkError::NotSubmittable),
        Err(e) => {
            let draft = storage.application(id).await?;
            let id_number = draft.fields.applicant_id_number.as_str();
            Err(who_holds(storage, draft.account_id, id_number, e.into()).await)
        }
    }
}

/// Cancels up to `limit` drafts started before `before` (not submitted in
/// `DRAFT_LIFETIME_DAYS`), telling each applicant in the app; returns how many.
pub async fn expire_drafts(
    storage: &dyn Storage,
    before: DateTime<Utc>,
    limit: i64,
    now: DateTime<Utc>,
    notice: &(dyn Fn(&Application) -> NewNotification + Sync),
) -> StorageResult<usize> {
    let mut tx = storage.begin().await?;
    let drafts = store::stale_drafts(&mut tx, before, limit).await?;
    let mut expired = 0;
    for draft in &drafts {
        if let Some(cancelled) =
            store::transition(&mut tx, Transition::Expire, draft.id, None, None, now).await?
        {
            notifications::service::queue(&mut tx, &notice(&cancelled), now).await?;
            expired += 1;
        }
    }
    tx.commit().await?;
    Ok(expired)
}

/// A counter clerk releases the person's ID number from the submitted application that holds
/// it: the application is cancelled, its place given back, and its account told in the app.
/// `NothingToRelease` when no application holds the number, or the one that does was already
/// accepted at a counter.
pub async fn release(
    storage: &dyn Storage,
    id_number: &str,
    now: DateTime<Utc>,
    notice: &(dyn Fn(&Application) -> NewNotification + Sync),
) -> Result<Application> {
    let mut tx = storage.begin().await?;
    let holder = store::holder_of(&mut tx, id_number)
        .await?
        .ok_or(CaseworkError::NothingToRelease)?;
    let released = store::transition(&mut tx, Transition::Release, holder.id, None, None, now)
        .await?
        .ok_or(CaseworkError::NothingToRelease)?;
    booking::service::release_place(&mut tx, released.id, AppointmentStatus::Cancelled, now)
        .await?;
    notifications::service::queue(&mut tx, &notice(&released), now).await?;
    tx.commit().await?;
    Ok(released)
}

/// Records a proof file whose bytes are stored, within the application's allowance.
pub async fn add_material(storage: &dyn Storage, material: &Material) -> Result<Material> {
    storage
        .add_material(material, MAX_MATERIALS)
        .await?
        .ok_or(CaseworkError::MaterialsNotAccepted)
}

/// Removes a proof file while the application can still be edited; the caller then deletes
/// the bytes.
pub async fn remove_material(
    storage: &dyn Storage,
    application_id: Uuid,
    id: Uuid,
) -> Result<Material> {
    storage
        .delete_material(application_id, id)
        .await?
        .ok_or(CaseworkError::NotEditable)
}

/// The applicant withdraws; a place they hold is given back.
pub async fn cancel(
    storage: &dyn Storage,
    account_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Application> {
    let mut tx = storage.begin().await?;
    let cancelled = store::transition(&mut tx, Transition::Cancel, id, Some(account_id), None, now)
        .await?
        .ok_or(CaseworkError::NotCancellable)?;
    booking::service::release_place(&mut tx, id, AppointmentStatus::Cancelled, now).await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// 初审: pass keeps the appointment; return gives the place back. The applicant is told.
pub async fn review(
    storage: &dyn Storage,
    id: Uuid,
    decision: Decision,
    note: Option<&str>,
    now: DateTime<Utc>,
    notice: &NewNotification,
) -> Result<Application> {
    let transition = match decision {
        Decision::Pass => Transition::Pass,
        Decision::Return => Transition::Return,
    };
    let mut tx = storage.begin().await?;
    let reviewed = store::transition(&mut tx, transition, id, None, Some(note), now)
        .await?
        .ok_or(CaseworkError::NotReviewable)?;
    if decision == Decision::Return {
        booking::service::release_place(&mut tx, id, AppointmentStatus::Released, now).await?;
    }
    notifications::service::queue(&mut tx, notice, now).await?;
    tx.commit().await?;
    Ok(reviewed)
}

/// Moves the application inside a transaction another context owns (booking, check-in, a
/// missed day, issue); `owner`, when given, must hold it. `false` when the lifecycle or the
/// owner refused.
pub async fn move_within(
    tx: &mut Tx,
    transition: Transition,
    id: Uuid,
    owner: Option<Uuid>,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    Ok(store::transition(tx, transition, id, owner, None, now)
        .await?
        .is_some())
}

/// The application as a transaction another context owns sees it.
pub async fn application_within(tx: &mut Tx, id: Uuid) -> StorageResult<Application> {
    store::application_in(tx, id).await
}
