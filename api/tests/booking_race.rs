//! The rules that must hold under concurrency, raced against each storage backend (SQLite
//! and, when the run includes it, PostgreSQL): the database, not process memory, refuses the
//! place past capacity, the sixth person of an account and the eleventh file.

mod common;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use permit_api::booking::calendar::Session;
use permit_api::booking::model::Booking;
use permit_api::booking::service::{self as booking_service, BookingError};
use permit_api::casework::applications::model::Appointment;
use permit_api::casework::applications::model::{
    Application, ApplicationFields, BusinessType, Material,
};
use permit_api::casework::materials::content::MaterialKind;
use permit_api::casework::service::{self as casework, CaseworkError};
use permit_api::directory::ServicePointInput;
use permit_api::identity::model::{IdNumber, NewAccount, PhoneNumber, Role, Sex};
use permit_api::notifications::model::NewNotification;
use permit_api::platform::ephemeral::Ephemeral;
use permit_api::platform::storage::Storage;
use uuid::Uuid;

fn id_number(n: u32) -> String {
    common::id_with_check(&format!("3301021990{:04}{:03}", 101 + n / 1000, n % 1000))
}

async fn account(storage: &dyn Storage, n: u32) -> Uuid {
    storage
        .create_account(&NewAccount {
            username: format!("racer{n}"),
            password_hash: "$argon2id$v=19$dummy".into(),
            role: Role::Resident,
            real_name: "李四".into(),
            id_number: Some(IdNumber::parse(&id_number(n)).expect("a valid ID number")),
            sex: Some(Sex::Male),
            phone: Some(PhoneNumber::parse(&format!("139{:08}", n)).expect("a valid phone")),
            region_code: None,
            login_sms_required: false,
        })
        .await
        .expect("account")
        .id
}

async fn point(storage: &dyn Storage) -> Uuid {
    storage
        .create_service_point(&ServicePointInput {
            number: 1,
            district_code: "330102".into(),
            street_code: Some("330102001".into()),
            police_station: "清波派出所".into(),
            name: "清波派出所受理点".into(),
            scope: "清波派出所".into(),
            address: "四宜路61号".into(),
            phone: "87780283".into(),
            hours: "9:00-17:30".into(),
            opens_saturday: true,
        })
        .await
        .expect("service point")
        .id
}

fn fields(point: Uuid, person: u32) -> ApplicationFields {
    ApplicationFields {
        business_type: BusinessType::First,
        applicant_name: "王五".into(),
        applicant_id_number: IdNumber::parse(&id_number(10_000 + person))
            .expect("a valid ID number"),
        applicant_sex: Sex::Male,
        phone: PhoneNumber::parse("13900000000").expect("a valid phone"),
        district_code: "330102".into(),
        street_code: "330102001".into(),
        address_detail: "四宜路1号".into(),
        community_code: "330102001001".into(),
        service_point_id: point,
        employer: None,
        // Exempt from the residence period: these drafts have no residence registration.
        condition: Some("talent".into()),
    }
}

fn material(application_id: Uuid) -> Material {
    Material {
        id: Uuid::new_v4(),
        application_id,
        object_key: format!("materials/{}", Uuid::new_v4().simple()),
        kind: MaterialKind::Pdf,
        size_bytes: 10,
        file_name: "proof.pdf".into(),
        sha256: "00".into(),
        created_at: Utc::now(),
    }
}

/// A submitted application of `account` for person `person`.
async fn submitted(storage: &dyn Storage, account: Uuid, point: Uuid, person: u32) -> Uuid {
    let now = Utc::now();
    let a = casework::create(storage, account, &fields(point, person), 5, now)
        .await
        .expect("application");
    storage
        .add_material(&material(a.id), 10)
        .await
        .expect("material")
        .expect("accepted");
    storage
        .submit_application(account, a.id, now)
        .await
        .expect("submit")
        .expect("submittable");
    a.id
}

/// The admission gate of the run: Redis when the run includes it, else the in-process store.
async fn gate() -> Arc<dyn Ephemeral> {
    common::ephemeral_backends()
        .await
        .pop()
        .expect("an ephemeral store")
        .1
}

/// A booking the way `book` takes it: behind the admission gate.
async fn gated(
    storage: &dyn Storage,
    gate: &dyn Ephemeral,
    b: &Booking,
) -> Result<Appointment, BookingError> {
    let point = storage
        .service_point(b.service_point_id)
        .await
        .expect("service point");
    booking_service::place_gated(storage, gate, &point, b).await
}

fn booking(account: Uuid, application: Uuid, point: Uuid, day: NaiveDate) -> Booking {
    Booking {
        account_id: account,
        application_id: application,
        service_point_id: point,
        day,
        session: Session::Morning,
        now: Utc::now(),
        notice: NewNotification {
            account_id: account,
            kind: "booking_confirmed",
            title: "预约成功".into(),
            body: "预约成功".into(),
            application_id: Some(application),
            sms_phone: None,
            sms_params: Vec::new(),
        },
    }
}

#[tokio::test]
async fn many_tasks_racing_for_the_last_places_never_overbook() {
    const CAPACITY: i32 = 10;
    const ALREADY: usize = 7;
    const RACERS: usize = 40;
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let gate = gate().await;
        let point = point(&*storage).await;
        storage
            .set_slot_capacity(point, day, Session::Morning, Some(CAPACITY))
            .await
            .expect(backend);
        let mut apps = Vec::new();
        for i in 0..(ALREADY + RACERS) as u32 {
            let acc = if i % 5 == 0 {
                account(&*storage, i / 5).await
            } else {
                apps.last().map(|(a, _)| *a).unwrap()
            };
            apps.push((acc, submitted(&*storage, acc, point, i).await));
        }
        for (acc, app) in &apps[..ALREADY] {
            booking_service::place(&*storage, &booking(*acc, *app, point, day))
                .await
                .expect(backend);
        }
        // The last 3 places, 40 contenders, all at once.
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let tasks: Vec<_> = apps[ALREADY..]
            .iter()
            .map(|(acc, app)| {
                let (storage, gate) = (storage.clone(), gate.clone());
                let barrier = barrier.clone();
                let b = booking(*acc, *app, point, day);
                tokio::spawn(async move {
                    barrier.wait().await;
                    gated(&*storage, &*gate, &b).await
                })
            })
            .collect();
        let (mut won, mut full) = (0, 0);
        for t in tasks {
            match t.await.expect("task") {
                Ok(_) => won += 1,
                Err(BookingError::SlotFull) => full += 1,
                Err(e) => panic!("{backend}: unexpected {e}"),
            }
        }
        assert_eq!(won, CAPACITY as usize - ALREADY, "{backend}");
        assert_eq!(full, RACERS - won, "{backend}");
        let usage = storage.slots(point, day, day).await.expect(backend);
        assert_eq!(usage[0].booked, CAPACITY, "{backend}");
        let mut holding = 0;
        for (_, app) in &apps {
            if storage
                .current_appointment(*app)
                .await
                .expect(backend)
                .is_some()
            {
                holding += 1;
            }
        }
        assert_eq!(holding, CAPACITY, "{backend}: appointments match places");
    }
}

#[tokio::test]
async fn one_application_moved_concurrently_holds_one_place() {
    let days: Vec<NaiveDate> = (1..=8)
        .map(|d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap())
        .collect();
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let acc = account(&*storage, 1).await;
        let app = submitted(&*storage, acc, point, 1).await;
        let tasks: Vec<_> = days
            .iter()
            .map(|day| {
                let storage = storage.clone();
                let b = booking(acc, app, point, *day);
                tokio::spawn(async move { booking_service::place(&*storage, &b).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("task").expect(backend);
        }
        let usage = storage.slots(point, days[0], days[7]).await.expect(backend);
        let taken: i32 = usage.iter().map(|u| u.booked).sum();
        assert_eq!(taken, 1, "{backend}: one place in all, {usage:?}");
        let current = storage
            .current_appointment(app)
            .await
            .expect(backend)
            .unwrap();
        let held = usage.iter().find(|u| u.booked == 1).unwrap();
        assert_eq!(current.day, held.day, "{backend}");
    }
}

#[tokio::test]
async fn an_account_racing_for_a_sixth_person_and_an_eleventh_file_is_refused() {
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let acc = account(&*storage, 1).await;
        let now = Utc::now();
        let tasks: Vec<_> = (0..12u32)
            .map(|person| {
                let storage = storage.clone();
                tokio::spawn(async move {
                    casework::create(&*storage, acc, &fields(point, person), 5, now).await
                })
            })
            .collect();
        let mut created = Vec::new();
        for t in tasks {
            match t.await.expect("task") {
                Ok(a) => created.push(a.id),
                Err(CaseworkError::TooManyApplicants) => {}
                Err(e) => panic!("{backend}: unexpected {e}"),
            }
        }
        assert_eq!(created.len(), 5, "{backend}");
        assert_eq!(storage.applications_of(acc).await.unwrap().len(), 5);

        let app = created[0];
        let tasks: Vec<_> = (0..15)
            .map(|_| {
                let storage = storage.clone();
                tokio::spawn(async move { storage.add_material(&material(app), 10).await })
            })
            .collect();
        let mut stored = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(Some(_)) => stored += 1,
                // Refused: ten files already.
                Ok(None) => {}
                Err(e) => panic!("{backend}: unexpected {e}"),
            }
        }
        assert_eq!(stored, 10, "{backend}");
        assert_eq!(storage.materials_of(app).await.unwrap().len(), 10);
    }
}

#[tokio::test]
async fn check_in_moves_appointment_and_application_once() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let acc = account(&*storage, 1).await;
        let app = submitted(&*storage, acc, point, 1).await;
        let ap = booking_service::place(&*storage, &booking(acc, app, point, day))
            .await
            .expect(backend);
        assert_eq!(
            storage
                .appointments_on(point, day, None, 200)
                .await
                .unwrap()
                .len(),
            1
        );
        let checked = booking_service::check_in(&*storage, ap.id, Utc::now())
            .await
            .expect(backend);
        assert_eq!(checked.status.as_str(), "checked_in", "{backend}");
        assert_eq!(
            storage.application(app).await.unwrap().status.as_str(),
            "checked_in"
        );
        assert!(matches!(
            booking_service::check_in(&*storage, ap.id, Utc::now()).await,
            Err(BookingError::NotCheckable)
        ));
        // A checked-in application can no longer be cancelled by the applicant.
        assert!(matches!(
            casework::cancel(&*storage, acc, app, Utc::now()).await,
            Err(CaseworkError::NotCancellable)
        ));
    }
}

#[tokio::test]
async fn two_job_runners_mark_each_no_show_once() {
    let past = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let mut booked = Vec::new();
        for i in 0..12u32 {
            let acc = account(&*storage, i).await;
            let app = submitted(&*storage, acc, point, i).await;
            booking_service::place(&*storage, &booking(acc, app, point, past))
                .await
                .expect(backend);
            booked.push((acc, app));
        }
        // Two instances run the job at once, in small batches, so they meet on the same rows.
        let runner = |storage: std::sync::Arc<dyn Storage>| async move {
            let mut total = 0;
            loop {
                let n = booking_service::mark_no_shows(
                    &*storage,
                    today,
                    3,
                    Utc::now(),
                    &|d: &permit_api::booking::model::DueAppointment| NewNotification {
                        account_id: d.application.account_id,
                        kind: "no_show",
                        title: "逾期未到".into(),
                        body: "逾期未到".into(),
                        application_id: Some(d.application.id),
                        sms_phone: None,
                        sms_params: Vec::new(),
                    },
                )
                .await
                .expect("job round");
                total += n;
                if n == 0 {
                    return total;
                }
            }
        };
        let (a, b) = tokio::join!(
            tokio::spawn(runner(storage.clone())),
            tokio::spawn(runner(storage.clone()))
        );
        assert_eq!(
            a.unwrap() + b.unwrap(),
            12,
            "{backend}: each no-show marked once"
        );
        for (acc, app) in booked {
            assert_eq!(
                storage.application(app).await.unwrap().status.as_str(),
                "no_show"
            );
            let notes = storage.notifications_of(acc, 10).await.unwrap();
            let no_shows = notes.iter().filter(|n| n.kind == "no_show").count();
            assert_eq!(no_shows, 1, "{backend}: one notice per no-show");
        }
    }
}

#[tokio::test]
async fn of_many_accounts_drafting_one_person_the_first_to_submit_holds_the_number() {
    const RACERS: u32 = 8;
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let now = Utc::now();
        // Every account drafts for the same person (person 0): drafts hold nothing.
        let mut drafts = Vec::new();
        for n in 0..RACERS {
            let acc = account(&*storage, n).await;
            let a = casework::create(&*storage, acc, &fields(point, 0), 5, now)
                .await
                .unwrap_or_else(|e| panic!("{backend}: draft {n}: {e}"));
            storage
                .add_material(&material(a.id), 10)
                .await
                .expect(backend)
                .expect("accepted");
            drafts.push((acc, a.id));
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS as usize));
        let tasks: Vec<_> = drafts
            .iter()
            .map(|(acc, id)| {
                let (storage, barrier, acc, id) = (storage.clone(), barrier.clone(), *acc, *id);
                tokio::spawn(async move {
                    barrier.wait().await;
                    casework::submit(&*storage, &policy(), acc, id, now).await
                })
            })
            .collect();
        let (mut won, mut held) = (Vec::new(), 0);
        for (t, (acc, _)) in tasks.into_iter().zip(&drafts) {
            match t.await.expect("task") {
                Ok(_) => won.push(*acc),
                Err(CaseworkError::HeldElsewhere) => held += 1,
                Err(e) => panic!("{backend}: unexpected {e}"),
            }
        }
        assert_eq!(won.len(), 1, "{backend}");
        assert_eq!(held, RACERS - 1, "{backend}");
        // The losers' drafts stay drafts; a new draft for the person is refused at once.
        let loser = drafts.iter().find(|(acc, _)| *acc != won[0]).unwrap();
        let kept = storage.application(loser.1).await.expect(backend);
        assert_eq!(kept.status.as_str(), "draft", "{backend}");
        let again = casework::create(&*storage, loser.0, &fields(point, 0), 5, now).await;
        assert!(
            matches!(again, Err(CaseworkError::HeldElsewhere)),
            "{backend}: {again:?}"
        );
        let own = casework::create(&*storage, won[0], &fields(point, 0), 5, now).await;
        assert!(
            matches!(own, Err(CaseworkError::ApplicationExists)),
            "{backend}: {own:?}"
        );

        // A release cancels the holder, and the loser's draft can then be submitted.
        let id = fields(point, 0).applicant_id_number;
        let released = casework::release(&*storage, id.as_str(), now, &notice)
            .await
            .expect(backend);
        assert_eq!(released.account_id, won[0], "{backend}");
        assert_eq!(released.status.as_str(), "cancelled", "{backend}");
        assert!(
            matches!(
                casework::release(&*storage, id.as_str(), now, &notice).await,
                Err(CaseworkError::NothingToRelease)
            ),
            "{backend}"
        );
        casework::submit(&*storage, &policy(), loser.0, loser.1, now)
            .await
            .unwrap_or_else(|e| panic!("{backend}: after the release: {e}"));

        // The other drafts expire after 30 days, once each even with two runners at once.
        let later = now + chrono::Duration::days(31);
        let before = later - chrono::Duration::days(30);
        let runners: Vec<_> = (0..2)
            .map(|_| {
                let storage = storage.clone();
                tokio::spawn(async move {
                    casework::expire_drafts(&*storage, before, 100, later, &notice).await
                })
            })
            .collect();
        let mut expired = 0;
        for r in runners {
            expired += r.await.expect("task").expect(backend);
        }
        assert_eq!(expired, RACERS as usize - 2, "{backend}");
        for (acc, id) in &drafts {
            let status = storage.application(*id).await.expect(backend).status;
            let want = if *acc == loser.0 {
                "submitted"
            } else {
                "cancelled"
            };
            assert_eq!(status.as_str(), want, "{backend}");
            assert_eq!(
                storage
                    .notifications_of(*acc, 10)
                    .await
                    .expect(backend)
                    .len(),
                usize::from(*acc != loser.0),
                "{backend}: the released and the expired are told once"
            );
        }
    }
}

fn notice(a: &Application) -> NewNotification {
    NewNotification {
        account_id: a.account_id,
        kind: "application_released",
        title: "解除".into(),
        body: "解除".into(),
        application_id: Some(a.id),
        sms_phone: None,
        sms_params: Vec::new(),
    }
}

/// Pairs of applications swapping days at once (A from day 1 to day 2 while B goes from day 2
/// to day 1) lock the same two sessions in opposite orders unless every move locks them in one
/// order: on PostgreSQL that was a deadlock, a 503. Each move now takes its place or finds the
/// session full, and the places still add up.
#[tokio::test]
async fn opposite_moves_between_two_days_never_fail_and_keep_the_count() {
    const PAIRS: u32 = 12;
    // Two spare places a day: some moves find room, the others a full session.
    const CAPACITY: i32 = PAIRS as i32 + 2;
    let day1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let day2 = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let gate = gate().await;
        let point = point(&*storage).await;
        for day in [day1, day2] {
            storage
                .set_slot_capacity(point, day, Session::Morning, Some(CAPACITY))
                .await
                .expect(backend);
        }
        // Person 2i starts on day 1 and moves to day 2; person 2i+1 the other way.
        let mut moves = Vec::new();
        for i in 0..2 * PAIRS {
            let acc = account(&*storage, i).await;
            let app = submitted(&*storage, acc, point, i).await;
            let (from, to) = if i % 2 == 0 {
                (day1, day2)
            } else {
                (day2, day1)
            };
            booking_service::place(&*storage, &booking(acc, app, point, from))
                .await
                .expect(backend);
            moves.push((app, booking(acc, app, point, to)));
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(moves.len()));
        let tasks: Vec<_> = moves
            .iter()
            .map(|(_, b)| {
                let (storage, gate) = (storage.clone(), gate.clone());
                let barrier = barrier.clone();
                let b = booking(b.account_id, b.application_id, point, b.day);
                tokio::spawn(async move {
                    barrier.wait().await;
                    gated(&*storage, &*gate, &b).await
                })
            })
            .collect();
        let mut moved = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(_) => moved += 1,
                Err(BookingError::SlotFull) => {}
                Err(e) => panic!("{backend}: a move failed with {e}"),
            }
        }
        assert!(moved >= 2, "{backend}: the spare places were taken");
        let usage = storage.slots(point, day1, day2).await.expect(backend);
        let mut holding = std::collections::HashMap::new();
        for (app, _) in &moves {
            let current = storage
                .current_appointment(*app)
                .await
                .expect(backend)
                .expect("every application still holds a place");
            *holding.entry(current.day).or_insert(0) += 1;
        }
        for u in &usage {
            assert_eq!(
                u.booked,
                holding.get(&u.day).copied().unwrap_or(0),
                "{backend}: {} counts its appointments, {usage:?}",
                u.day
            );
            assert!(u.booked <= CAPACITY, "{backend}: {usage:?}");
        }
        let total: i32 = usage.iter().map(|u| u.booked).sum();
        assert_eq!(
            total,
            2 * PAIRS as i32,
            "{backend}: no place lost or doubled"
        );
    }
}

/// A clerk checking in an appointment while its applicant moves it: the check-in locks the
/// appointment, the move the application, each then wanting the other's row. One wins: the
/// appointment is checked in and the move refused, or it moved and the check-in refused.
#[tokio::test]
async fn a_check_in_racing_a_move_of_the_same_appointment_has_one_winner() {
    const APPLICATIONS: u32 = 16;
    let day1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let day2 = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        let mut racers = Vec::new();
        for i in 0..APPLICATIONS {
            let acc = account(&*storage, i).await;
            let app = submitted(&*storage, acc, point, i).await;
            let ap = booking_service::place(&*storage, &booking(acc, app, point, day1))
                .await
                .expect(backend);
            racers.push((app, ap.id, booking(acc, app, point, day2)));
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(2 * racers.len()));
        let mut tasks = Vec::new();
        for (app, ap, b) in &racers {
            let (storage1, barrier1, ap) = (storage.clone(), barrier.clone(), *ap);
            let check_in = tokio::spawn(async move {
                barrier1.wait().await;
                booking_service::check_in(&*storage1, ap, Utc::now()).await
            });
            let (storage2, barrier2) = (storage.clone(), barrier.clone());
            let b = booking(b.account_id, b.application_id, point, b.day);
            let moved = tokio::spawn(async move {
                barrier2.wait().await;
                booking_service::place(&*storage2, &b).await
            });
            tasks.push((*app, check_in, moved));
        }
        for (app, check_in, moved) in tasks {
            let check_in = check_in.await.expect("task");
            let moved = moved.await.expect("task");
            let current = storage
                .current_appointment(app)
                .await
                .expect(backend)
                .expect("an appointment");
            match (check_in, moved) {
                (Ok(_), Err(BookingError::NotBookable)) => {
                    assert_eq!(current.day, day1, "{backend}");
                    assert_eq!(current.status.as_str(), "checked_in", "{backend}");
                }
                (Err(BookingError::NotCheckable), Ok(_)) => {
                    assert_eq!(current.day, day2, "{backend}");
                    assert_eq!(current.status.as_str(), "booked", "{backend}");
                }
                (c, m) => panic!("{backend}: check-in {c:?}, move {m:?}"),
            }
        }
        let usage = storage.slots(point, day1, day2).await.expect(backend);
        let total: i32 = usage.iter().map(|u| u.booked).sum();
        assert_eq!(total, APPLICATIONS as i32, "{backend}: {usage:?}");
    }
}

/// What raced the no-show job for one past appointment.
#[derive(Debug, Clone, Copy)]
enum Racer {
    Move,
    Cancel,
    CheckIn,
}

fn no_show_notice(d: &permit_api::booking::model::DueAppointment) -> NewNotification {
    NewNotification {
        account_id: d.application.account_id,
        kind: "no_show",
        title: "逾期未到".into(),
        body: "逾期未到".into(),
        application_id: Some(d.application.id),
        sms_phone: None,
        sms_params: Vec::new(),
    }
}

/// The no-show job racing applicants who move or cancel, and clerks who check in, the very
/// appointments it marks. The job used to lock the appointment and then the application, a
/// move, a cancellation and a check-in the application and then the appointment: on
/// PostgreSQL that was a deadlock. Now all lock the application first, so every race ends in
/// a plain answer (the job's mark, or the other's change and the other's refusal), never a
/// storage error, and the places add up.
#[tokio::test]
async fn the_no_show_job_racing_moves_cancels_and_check_ins_never_deadlocks() {
    const ROUNDS: u32 = 8;
    const APPLICATIONS: u32 = 12;
    const RUNNERS: usize = 2;
    let past = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let later = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let point = point(&*storage).await;
        for day in [past, later] {
            storage
                .set_slot_capacity(point, day, Session::Morning, Some(1000))
                .await
                .expect(backend);
        }
        let (mut job_won, mut moved, mut checked_in) = (0, 0, 0);
        for round in 0..ROUNDS {
            let mut racers = Vec::new();
            for i in 0..APPLICATIONS {
                let n = round * APPLICATIONS + i;
                let acc = account(&*storage, n).await;
                let app = submitted(&*storage, acc, point, n).await;
                let ap = booking_service::place(&*storage, &booking(acc, app, point, past))
                    .await
                    .expect(backend);
                let racer = [Racer::Move, Racer::Cancel, Racer::CheckIn][(n % 3) as usize];
                racers.push((acc, app, ap.id, racer));
            }
            let barrier = Arc::new(tokio::sync::Barrier::new(racers.len() + RUNNERS));
            let runners: Vec<_> = (0..RUNNERS)
                .map(|_| {
                    let (storage, barrier) = (storage.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        let mut total = 0;
                        loop {
                            // Small batches, so the runners and the racers meet on the rows.
                            let n = booking_service::mark_no_shows(
                                &*storage,
                                today,
                                2,
                                Utc::now(),
                                &no_show_notice,
                            )
                            .await?;
                            total += n;
                            if n == 0 {
                                return Ok::<_, permit_api::platform::storage::StorageError>(total);
                            }
                        }
                    })
                })
                .collect();
            let tasks: Vec<_> = racers
                .iter()
                .map(|&(acc, app, ap, racer)| {
                    let (storage, barrier) = (storage.clone(), barrier.clone());
                    tokio::spawn(async move {
                        let application = storage.application(app).await.expect("application");
                        barrier.wait().await;
                        match racer {
                            Racer::Move => {
                                booking_service::place(&*storage, &booking(acc, app, point, later))
                                    .await
                                    .map(|_| ())
                            }
                            Racer::Cancel => booking_service::cancel(
                                &*storage,
                                &*gate().await,
                                application,
                                Utc::now(),
                            )
                            .await
                            .map(|_| ()),
                            Racer::CheckIn => booking_service::check_in(&*storage, ap, Utc::now())
                                .await
                                .map(|_| ()),
                        }
                    })
                })
                .collect();
            let mut marked = 0;
            for r in runners {
                marked += r
                    .await
                    .expect("runner")
                    .unwrap_or_else(|e| panic!("{backend}: the job failed with {e:?}"));
            }
            // The runners may have stopped at a batch the racers held: one more pass takes
            // what is left.
            loop {
                let n = booking_service::mark_no_shows(
                    &*storage,
                    today,
                    50,
                    Utc::now(),
                    &no_show_notice,
                )
                .await
                .expect(backend);
                marked += n;
                if n == 0 {
                    break;
                }
            }
            let mut won_this_round: usize = 0;
            for ((acc, app, ap, racer), task) in racers.iter().zip(tasks) {
                let answer = task.await.expect("task");
                let status = storage.application(*app).await.expect(backend).status;
                let first = storage.appointment(*ap).await.expect(backend);
                let current = storage.current_appointment(*app).await.expect(backend);
                match (racer, answer) {
                    (Racer::Move, Err(BookingError::NotBookable))
                    | (Racer::Cancel, Err(BookingError::NoAppointment))
                    | (Racer::CheckIn, Err(BookingError::NotCheckable)) => {
                        assert_eq!(status.as_str(), "no_show", "{backend}: {racer:?}");
                        assert_eq!(first.status.as_str(), "no_show", "{backend}: {racer:?}");
                        let notes = storage.notifications_of(*acc, 10).await.expect(backend);
                        let told = notes.iter().filter(|n| n.kind == "no_show").count();
                        assert_eq!(told, 1, "{backend}: one notice per no-show");
                        won_this_round += 1;
                    }
                    (Racer::Move, Ok(())) => {
                        assert_eq!(status.as_str(), "booked", "{backend}");
                        assert_eq!(first.status.as_str(), "cancelled", "{backend}");
                        let current = current.expect("the new place");
                        assert_eq!(current.day, later, "{backend}");
                        assert_eq!(current.status.as_str(), "booked", "{backend}");
                        moved += 1;
                    }
                    (Racer::Cancel, Ok(())) => {
                        assert_eq!(status.as_str(), "submitted", "{backend}");
                        assert_eq!(first.status.as_str(), "cancelled", "{backend}");
                        assert!(current.is_none(), "{backend}: {current:?}");
                    }
                    (Racer::CheckIn, Ok(())) => {
                        assert_eq!(status.as_str(), "checked_in", "{backend}");
                        assert_eq!(first.status.as_str(), "checked_in", "{backend}");
                        checked_in += 1;
                    }
                    (racer, answer) => panic!("{backend}: {racer:?} answered {answer:?}"),
                }
            }
            assert_eq!(
                marked, won_this_round,
                "{backend}: each no-show marked once"
            );
            job_won += won_this_round as i32;
        }
        let usage = storage.slots(point, past, later).await.expect(backend);
        let booked_on = |day| {
            usage
                .iter()
                .filter(|u| u.day == day)
                .map(|u| u.booked)
                .sum::<i32>()
        };
        // A no-show and a check-in keep their place; a move takes one on the later day and a
        // cancellation gives its place back.
        assert_eq!(
            booked_on(past),
            job_won + checked_in,
            "{backend}: {usage:?}"
        );
        assert_eq!(booked_on(later), moved, "{backend}: {usage:?}");
        assert!(job_won > 0, "{backend}: the job took part in the races");
    }
}

/// Issuing at many counters at once: every permit gets its own status-list index, and none of
/// the applications is left checked in by a collision (issue 16: 23 of 40 failed with
/// `status_index_taken` when the index was MAX + 1).
#[tokio::test]
async fn concurrent_issues_each_get_their_own_status_index() {
    const ISSUES: u32 = 24;
    let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        permit_api::directory::seed::load_regions_once(&*storage)
            .await
            .expect(backend);
        let point = point(&*storage).await;
        storage
            .set_slot_capacity(point, day, Session::Morning, Some(ISSUES as i32))
            .await
            .expect(backend);
        let admin = account(&*storage, 999).await;
        let staff = permit_api::identity::model::Staff {
            account_id: admin,
            role: Role::Admin,
        };
        let mut ready = Vec::new();
        for i in 0..ISSUES {
            let acc = account(&*storage, i).await;
            let app = submitted(&*storage, acc, point, i).await;
            let ap = booking_service::place(&*storage, &booking(acc, app, point, day))
                .await
                .expect(backend);
            booking_service::check_in(&*storage, ap.id, Utc::now())
                .await
                .expect(backend);
            ready.push(app);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(ready.len()));
        let tasks: Vec<_> = ready
            .iter()
            .map(|app| {
                let (storage, barrier, app) = (storage.clone(), barrier.clone(), *app);
                tokio::spawn(async move {
                    barrier.wait().await;
                    permit_api::credentials::service::issue(
                        &*storage,
                        staff,
                        app,
                        "浙江省",
                        Utc::now(),
                    )
                    .await
                })
            })
            .collect();
        let mut indices = std::collections::BTreeSet::new();
        for t in tasks {
            let permit = t.await.expect("task").expect(backend);
            assert!(
                indices.insert(permit.status_index.get()),
                "{backend}: index given twice"
            );
        }
        assert_eq!(indices.len(), ISSUES as usize, "{backend}");
        for app in &ready {
            assert_eq!(
                storage.application(*app).await.unwrap().status.as_str(),
                "issued",
                "{backend}"
            );
        }
    }
}

/// `n` checked-in applications at one point on `day` (persons `first..first + n`), each of its
/// own account, a place left for one more, and an administrator to issue them.
async fn checked_in_applications(
    storage: &dyn Storage,
    day: NaiveDate,
    first: u32,
    n: u32,
) -> (Vec<Uuid>, permit_api::identity::model::Staff) {
    permit_api::directory::seed::load_regions_once(storage)
        .await
        .expect("regions");
    let point = point(storage).await;
    storage
        .set_slot_capacity(point, day, Session::Morning, Some(n as i32 + 1))
        .await
        .expect("capacity");
    let admin = account(storage, 999).await;
    let mut ready = Vec::new();
    for i in first..first + n {
        let acc = account(storage, i).await;
        let app = submitted(storage, acc, point, i).await;
        let ap = booking_service::place(storage, &booking(acc, app, point, day))
            .await
            .expect("a place");
        booking_service::check_in(storage, ap.id, Utc::now())
            .await
            .expect("checked in");
        ready.push(app);
    }
    let staff = permit_api::identity::model::Staff {
        account_id: admin,
        role: Role::Admin,
    };
    (ready, staff)
}

fn bit(list: &permit_api::credentials::status_list::model::StatusBits, index: u64) -> bool {
    list.bits
        .get((index / 8) as usize)
        .is_some_and(|b| b >> (index % 8) & 1 == 1)
}

/// Status-list indexes are drawn at random over the list (the order of issue, and so who got a
/// permit when, does not show), each given once; issuing changes no bit, a replacement sets
/// the replaced permit's bit in a new version.
#[tokio::test]
async fn status_indexes_are_drawn_at_random_not_in_issue_order() {
    const ISSUES: u32 = 50;
    let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        let (ready, staff) = checked_in_applications(&*storage, day, 0, ISSUES).await;
        let version = storage.status_list_version().await.expect(backend);
        let mut indexes = Vec::new();
        let mut first_permit = None;
        for app in &ready {
            let permit = permit_api::credentials::service::issue(
                &*storage,
                staff,
                *app,
                "浙江省",
                Utc::now(),
            )
            .await
            .expect(backend);
            first_permit.get_or_insert(permit.clone());
            indexes.push(permit.status_index.get());
        }
        let distinct: std::collections::BTreeSet<u64> = indexes.iter().copied().collect();
        assert_eq!(distinct.len(), ISSUES as usize, "{backend}: {indexes:?}");
        assert!(
            indexes.iter().all(|i| *i < 1 << 24),
            "{backend}: within the capacity"
        );
        assert!(
            indexes.windows(2).any(|w| w[1] < w[0]),
            "{backend}: not in issue order: {indexes:?}"
        );
        // 50 uniform draws over 2^24 span far more than 50 neighbouring indexes.
        let (lo, hi) = (distinct.first().unwrap(), distinct.last().unwrap());
        assert!(
            hi - lo > 1 << 20,
            "{backend}: spread over the list: {indexes:?}"
        );
        assert_eq!(
            storage.status_list_version().await.expect(backend),
            version,
            "{backend}: issuing sets no bit"
        );
        assert!(
            storage
                .status_bits()
                .await
                .expect(backend)
                .bits
                .iter()
                .all(|b| *b == 0),
            "{backend}"
        );

        // A replacement for the first person revokes the first permit: its bit only.
        let first = first_permit.expect("a permit");
        let acc = storage
            .application(ready[0])
            .await
            .expect(backend)
            .account_id;
        let mut replacement = fields(point_of(&*storage, ready[0]).await, 0);
        replacement.business_type = BusinessType::Replacement;
        let app = casework::create(&*storage, acc, &replacement, 5, Utc::now())
            .await
            .expect(backend);
        storage
            .add_material(&material(app.id), 10)
            .await
            .expect(backend)
            .expect("accepted");
        storage
            .submit_application(acc, app.id, Utc::now())
            .await
            .expect(backend)
            .expect("submittable");
        let point = point_of(&*storage, ready[0]).await;
        let ap = booking_service::place(&*storage, &booking(acc, app.id, point, day))
            .await
            .expect(backend);
        booking_service::check_in(&*storage, ap.id, Utc::now())
            .await
            .expect(backend);
        let new =
            permit_api::credentials::service::issue(&*storage, staff, app.id, "浙江省", Utc::now())
                .await
                .expect(backend);
        let list = storage.status_bits().await.expect(backend);
        assert!(list.version > version, "{backend}: a new version");
        assert!(bit(&list, first.status_index.get()), "{backend}: replaced");
        assert!(
            !bit(&list, new.status_index.get()),
            "{backend}: the new one"
        );
        let set = list.bits.iter().map(|b| b.count_ones()).sum::<u32>();
        assert_eq!(set, 1, "{backend}: every other index stays clear");
    }
}

async fn point_of(storage: &dyn Storage, application: Uuid) -> Uuid {
    storage
        .application(application)
        .await
        .expect("application")
        .fields
        .service_point_id
}

/// The list doubles when it would be more than half full (a new version, a longer list, the
/// indexes still unique); when even the largest list would be more than 3/4 full, issuing is
/// refused with `StatusListFull` and the application stays checked in.
#[tokio::test]
async fn the_status_list_grows_when_half_full_and_refuses_when_full() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    for (backend, storage, _dir, url) in common::storage_backends_with_urls().await {
        let (ready, staff) = checked_in_applications(&*storage, day, 0, 10).await;
        common::execute_sql(
            &url,
            "UPDATE status_list SET capacity = 16, assigned = 0 WHERE id = 1",
        )
        .await;
        let version = storage.status_list_version().await.expect(backend);
        let mut indexes = std::collections::BTreeSet::new();
        for (n, app) in ready[..9].iter().enumerate() {
            let permit = permit_api::credentials::service::issue(
                &*storage,
                staff,
                *app,
                "浙江省",
                Utc::now(),
            )
            .await
            .expect(backend);
            assert!(indexes.insert(permit.status_index.get()), "{backend}");
            let list = storage.status_bits().await.expect(backend);
            if n < 8 {
                // 8 of 16: taken indexes were drawn again, never given twice.
                assert!(permit.status_index.get() < 16, "{backend}");
                assert_eq!((list.len_bits, list.version), (16, version), "{backend}");
            } else {
                assert!(permit.status_index.get() < 32, "{backend}");
                assert_eq!(list.len_bits, 32, "{backend}: doubled");
                assert_eq!(list.bits.len(), 4, "{backend}");
                assert_eq!(list.version, version + 1, "{backend}: a new version");
            }
        }

        common::execute_sql(
            &url,
            "UPDATE status_list SET capacity = 134217728, assigned = 100663296 WHERE id = 1",
        )
        .await;
        let refused = permit_api::credentials::service::issue(
            &*storage,
            staff,
            ready[9],
            "浙江省",
            Utc::now(),
        )
        .await;
        assert!(
            matches!(
                refused,
                Err(permit_api::credentials::service::CredentialError::StatusListFull)
            ),
            "{backend}: {refused:?}"
        );
        assert_eq!(
            storage.application(ready[9]).await.unwrap().status.as_str(),
            "checked_in",
            "{backend}: nothing issued"
        );
    }
}

/// Capacity lowered by an administrator while 30 residents book, and the gate's keys dropped in
/// the middle of the surge (a Redis restart): never more booked than the capacity in force,
/// every refusal a "full", and the gate reopened by the change so the database decides again.
#[tokio::test]
async fn a_surge_behind_the_gate_survives_lowered_capacity_and_a_lost_gate() {
    const RACERS: usize = 30;
    let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        for (g, (gate_backend, gate)) in common::ephemeral_backends().await.into_iter().enumerate()
        {
            let base = 1000 * g as u32;
            let point = point(&*storage).await;
            let sp = storage.service_point(point).await.expect(backend);
            booking_service::set_slot_capacity(
                &*storage,
                &*gate,
                point,
                day,
                Session::Morning,
                Some(20),
            )
            .await
            .expect(backend);
            let mut apps = Vec::new();
            for i in base..base + RACERS as u32 {
                let acc = account(&*storage, i).await;
                apps.push((acc, submitted(&*storage, acc, point, i).await));
            }
            // Two first bookings, then the admin lowers the session to 8 mid-surge.
            for (acc, app) in &apps[..2] {
                gated(&*storage, &*gate, &booking(*acc, *app, point, day))
                    .await
                    .expect(backend);
            }
            let barrier = Arc::new(tokio::sync::Barrier::new(RACERS - 2 + 1));
            let mut tasks: Vec<_> = apps[2..]
                .iter()
                .map(|(acc, app)| {
                    let (storage, gate) = (storage.clone(), gate.clone());
                    let barrier = barrier.clone();
                    let b = booking(*acc, *app, point, day);
                    tokio::spawn(async move {
                        barrier.wait().await;
                        gated(&*storage, &*gate, &b).await.map(|_| ())
                    })
                })
                .collect();
            {
                let (storage, gate) = (storage.clone(), gate.clone());
                let barrier = barrier.clone();
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    booking_service::set_slot_capacity(
                        &*storage,
                        &*gate,
                        point,
                        day,
                        Session::Morning,
                        Some(8),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|_| BookingError::NotFound)
                }));
            }
            let mut won = 2;
            for t in tasks {
                match t.await.expect("task") {
                    Ok(()) => won += 1,
                    Err(BookingError::SlotFull) => {}
                    Err(e) => panic!("{backend}/{gate_backend}: unexpected {e}"),
                }
            }
            won -= 1; // the capacity change
            let usage = storage.slots(point, day, day).await.expect(backend);
            assert_eq!(usage[0].booked as usize, won, "{backend}/{gate_backend}");
            // Places taken before the change may exceed the new capacity; none after it.
            assert!(won <= 20, "{backend}/{gate_backend}: {won}");
            // Full now: a new booking is refused by the database and marks the gate.
            let acc = account(&*storage, base + 900).await;
            let late = submitted(&*storage, acc, point, base + 900).await;
            let capacity = usage[0].capacity;
            if usage[0].booked >= capacity {
                let r = gated(&*storage, &*gate, &booking(acc, late, point, day)).await;
                assert!(
                    matches!(r, Err(BookingError::SlotFull)),
                    "{backend}/{gate_backend}"
                );
            }
            // The gate is lost (Redis restarted): the key is gone, the database still refuses.
            let key = format!("slot-full:{point}:{day}:morning:{}", sp.capacity_morning);
            gate.delete(&key).await.expect("delete the gate key");
            if usage[0].booked >= capacity {
                let r = gated(&*storage, &*gate, &booking(acc, late, point, day)).await;
                assert!(
                    matches!(r, Err(BookingError::SlotFull)),
                    "{backend}/{gate_backend}"
                );
            }
            // The admin raises the capacity: the gate reopens, the next booking gets its place.
            booking_service::set_slot_capacity(
                &*storage,
                &*gate,
                point,
                day,
                Session::Morning,
                Some(usage[0].booked + 1),
            )
            .await
            .expect(backend);
            gated(&*storage, &*gate, &booking(acc, late, point, day))
                .await
                .expect("a place after the capacity went up");
            let usage = storage.slots(point, day, day).await.expect(backend);
            assert_eq!(
                usage[0].booked, usage[0].capacity,
                "{backend}/{gate_backend}"
            );
        }
    }
}

/// Once the database refused a session, the gate answers "full" without it; a cancellation
/// gives the place back and reopens the gate at once.
#[tokio::test]
async fn the_gate_answers_full_and_a_cancellation_reopens_it() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    for (backend, storage, _dir) in common::storage_backends().await {
        for (g, (gate_backend, gate)) in common::ephemeral_backends().await.into_iter().enumerate()
        {
            let base = 1000 * g as u32;
            let point = point(&*storage).await;
            let sp = storage.service_point(point).await.expect(backend);
            storage
                .set_slot_capacity(point, day, Session::Morning, Some(1))
                .await
                .expect(backend);
            let mut apps = Vec::new();
            for i in base..base + 3 {
                let acc = account(&*storage, i).await;
                apps.push((acc, submitted(&*storage, acc, point, i).await));
            }
            gated(
                &*storage,
                &*gate,
                &booking(apps[0].0, apps[0].1, point, day),
            )
            .await
            .expect(backend);
            let key = format!("slot-full:{point}:{day}:morning:{}", sp.capacity_morning);
            assert_eq!(gate.get(&key).await.expect("get"), None, "{gate_backend}");
            let r = gated(
                &*storage,
                &*gate,
                &booking(apps[1].0, apps[1].1, point, day),
            )
            .await;
            assert!(
                matches!(r, Err(BookingError::SlotFull)),
                "{backend}/{gate_backend}"
            );
            assert!(
                gate.get(&key).await.expect("get").is_some(),
                "{gate_backend}: marked"
            );
            // The holder cancels: the place and the gate are back.
            let holder = storage.application(apps[0].1).await.expect(backend);
            booking_service::cancel(&*storage, &*gate, holder, Utc::now())
                .await
                .expect(backend);
            assert_eq!(
                gate.get(&key).await.expect("get"),
                None,
                "{gate_backend}: reopened"
            );
            gated(
                &*storage,
                &*gate,
                &booking(apps[2].0, apps[2].1, point, day),
            )
            .await
            .expect("the place given back");
        }
    }
}

fn policy() -> permit_api::residence::eligibility::Policy {
    permit_api::residence::eligibility::zhejiang()
}
