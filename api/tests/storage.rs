//! The storage suite: every test runs against SQLite and, when the run includes it, PostgreSQL.

mod common;

use chrono::Utc;
use permit_api::directory::{ArticleInput, ArticleKind, ServicePointInput, seed};
use permit_api::identity::model::StoredPasskey;
use permit_api::identity::model::{IdNumber, NewAccount, PhoneNumber, Role, Sex};
use permit_api::platform::storage::StorageError;
use uuid::Uuid;

fn resident(username: &str, id_number: &str) -> NewAccount {
    NewAccount {
        username: username.into(),
        password_hash: "$argon2id$v=19$dummy".into(),
        role: Role::Resident,
        real_name: "李四".into(),
        id_number: Some(IdNumber::parse(id_number).expect("a valid ID number")),
        sex: Some(Sex::Male),
        phone: Some(PhoneNumber::parse("13800001111").expect("a valid phone")),
        region_code: Some("330102001".into()),
        login_sms_required: true,
    }
}

fn point(n: i32, street: &str) -> ServicePointInput {
    ServicePointInput {
        number: n,
        district_code: "330102".into(),
        street_code: Some(street.into()),
        police_station: format!("{n}号派出所"),
        name: format!("{n}号受理点"),
        scope: "辖区".into(),
        address: "某路1号".into(),
        phone: "87000000".into(),
        hours: "9:00-17:00".into(),
        opens_saturday: n == 1,
    }
}

#[tokio::test]
async fn accounts_round_trip_and_unique_fields_conflict() {
    for (backend, storage, _dir) in common::storage_backends().await {
        let a = storage
            .create_account(&resident("li_si", "11010519491231002X"))
            .await
            .expect(backend);
        assert_eq!(a.role, Role::Resident, "{backend}");
        assert!(a.login_sms_required);
        let by_name = storage.account_by_username("li_si").await.expect(backend);
        assert_eq!(by_name.id, a.id);
        assert_eq!(by_name.sex, Some(Sex::Male));
        assert_eq!(
            storage.account_by_id(a.id).await.expect(backend).username,
            "li_si"
        );
        assert!(storage.username_taken("li_si").await.unwrap());
        assert!(
            storage
                .resident_id_number_taken("11010519491231002X")
                .await
                .unwrap()
        );

        let dup_name = storage
            .create_account(&resident("li_si", "110105194912310038"))
            .await;
        assert!(
            matches!(dup_name, Err(StorageError::Conflict("username"))),
            "{backend}: {dup_name:?}"
        );
        let dup_id = storage
            .create_account(&resident("li_si_2", "11010519491231002X"))
            .await;
        assert!(
            matches!(dup_id, Err(StorageError::Conflict("id_number"))),
            "{backend}: {dup_id:?}"
        );
        // A staff account may carry no ID number, and ID uniqueness is for personal accounts.
        let mut clerk = resident("clerk_1", "11010519491231002X");
        clerk.role = Role::Clerk;
        storage
            .create_account(&clerk)
            .await
            .expect("staff share no ID uniqueness");

        storage.set_phone(a.id, "13900002222").await.unwrap();
        storage.set_login_sms_required(a.id, false).await.unwrap();
        storage.set_phone(a.id, "13900003333").await.unwrap();
        let after = storage.account_by_id(a.id).await.unwrap();
        assert_eq!(after.phone.as_deref(), Some("13900003333"));
        assert!(
            after.login_sms_required,
            "{backend}: a phone change asks for an SMS code again"
        );
        storage.set_password_hash(a.id, "new-hash").await.unwrap();
        assert_eq!(
            storage.account_by_id(a.id).await.unwrap().password_hash,
            "new-hash"
        );
        assert!(matches!(
            storage.account_by_id(Uuid::new_v4()).await,
            Err(StorageError::NotFound)
        ));
        assert!(matches!(
            storage.set_password_hash(Uuid::new_v4(), "x").await,
            Err(StorageError::NotFound)
        ));
    }
}

#[tokio::test]
async fn passkeys_belong_to_their_account() {
    for (backend, storage, _dir) in common::storage_backends().await {
        let a = storage
            .create_account(&resident("owner", "11010519491231002X"))
            .await
            .unwrap();
        let b = storage
            .create_account(&resident("other", "110105194912310038"))
            .await
            .unwrap();
        let key = StoredPasskey {
            id: Uuid::new_v4(),
            account_id: a.id,
            name: "手机".into(),
            credential_id: "cred-1".into(),
            credential_json: "{}".into(),
            created_at: Utc::now(),
            last_used_at: None,
        };
        storage.add_passkey(&key).await.expect(backend);
        let dup = StoredPasskey {
            id: Uuid::new_v4(),
            ..key.clone()
        };
        assert!(
            matches!(
                storage.add_passkey(&dup).await,
                Err(StorageError::Conflict(_))
            ),
            "{backend}"
        );
        assert_eq!(storage.passkeys_of(a.id).await.unwrap().len(), 1);
        assert!(storage.passkeys_of(b.id).await.unwrap().is_empty());
        storage
            .update_passkey(key.id, "{\"n\":1}", Utc::now())
            .await
            .unwrap();
        let stored = &storage.passkeys_of(a.id).await.unwrap()[0];
        assert_eq!(stored.credential_json, "{\"n\":1}");
        assert!(stored.last_used_at.is_some());
        assert!(
            matches!(
                storage.delete_passkey(b.id, key.id).await,
                Err(StorageError::NotFound)
            ),
            "{backend}"
        );
        storage.delete_passkey(a.id, key.id).await.unwrap();
        assert!(storage.passkeys_of(a.id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn directory_regions_points_articles_and_staff_scopes() {
    for (backend, storage, _dir) in common::storage_backends().await {
        let n = seed::load_regions(&*storage).await.expect(backend);
        assert!(n > 200);
        assert_eq!(
            seed::load_regions(&*storage).await.unwrap(),
            n,
            "loading twice is harmless"
        );
        let top = storage.regions_under(None).await.unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].name, "杭州市");
        let streets = storage.regions_under(Some("330102")).await.unwrap();
        assert!(streets.len() >= 14, "{backend}");
        assert!(matches!(
            storage.region("nope").await,
            Err(StorageError::NotFound)
        ));

        let p1 = storage
            .create_service_point(&point(1, "330102001"))
            .await
            .expect(backend);
        let p2 = storage
            .create_service_point(&point(2, "330102003"))
            .await
            .unwrap();
        assert!(p1.opens_saturday && !p2.opens_saturday);
        assert_eq!(storage.service_points(None).await.unwrap().len(), 2);
        assert_eq!(
            storage.service_points(Some("330102")).await.unwrap().len(),
            2
        );
        let in_street = storage.service_points(Some("330102003")).await.unwrap();
        assert_eq!(in_street.len(), 1);
        assert_eq!(in_street[0].id, p2.id);
        assert!(
            storage.service_points(Some("%")).await.unwrap().len() <= 2,
            "no LIKE injection"
        );
        let mut edit = point(2, "330102003");
        edit.hours = "8:00-12:00".into();
        assert_eq!(
            storage
                .update_service_point(p2.id, &edit)
                .await
                .unwrap()
                .hours,
            "8:00-12:00"
        );

        let clerk = storage
            .create_account(&NewAccount {
                role: Role::Clerk,
                id_number: None,
                ..resident("clerk", "11010519491231002X")
            })
            .await
            .unwrap();
        storage
            .set_staff_service_points(clerk.id, &[p1.id, p2.id])
            .await
            .unwrap();
        assert_eq!(
            storage.staff_service_points(clerk.id).await.unwrap().len(),
            2
        );
        storage
            .set_staff_service_points(clerk.id, &[p1.id])
            .await
            .unwrap();
        assert_eq!(
            storage.staff_service_points(clerk.id).await.unwrap(),
            vec![p1.id]
        );
        storage.delete_service_point(p2.id).await.unwrap();
        assert!(matches!(
            storage.service_point(p2.id).await,
            Err(StorageError::NotFound)
        ));

        let article = ArticleInput {
            slug: "guide-one".into(),
            kind: ArticleKind::Guide,
            title: "指南".into(),
            title_en: None,
            summary: "摘要".into(),
            body: "正文".into(),
            source: None,
            published_on: None,
        };
        let a = storage.create_article(&article).await.expect(backend);
        assert!(matches!(
            storage.create_article(&article).await,
            Err(StorageError::Conflict("slug"))
        ));
        assert_eq!(storage.article_by_slug("guide-one").await.unwrap().id, a.id);
        assert_eq!(storage.articles(Some("guide")).await.unwrap().len(), 1);
        assert!(storage.articles(Some("policy")).await.unwrap().is_empty());
        storage.delete_article(a.id).await.unwrap();
        assert!(matches!(
            storage.article(a.id).await,
            Err(StorageError::NotFound)
        ));

        assert_eq!(
            storage.setting_get_or_init("k", "first").await.unwrap(),
            "first"
        );
        assert_eq!(
            storage.setting_get_or_init("k", "second").await.unwrap(),
            "first"
        );
        storage.ping().await.unwrap();
    }
}

#[tokio::test]
async fn the_demo_directory_loads_once() {
    for (backend, storage, _dir) in common::storage_backends().await {
        seed::load_regions(&*storage).await.unwrap();
        assert!(seed::load_demo_directory(&*storage).await.expect(backend));
        assert!(!seed::load_demo_directory(&*storage).await.unwrap());
        assert_eq!(
            storage.service_points(None).await.unwrap().len(),
            7,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = permit_api::platform::storage::open(
        Some("mysql://localhost/x"),
        dir.path(),
        common::data_keys(),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("mysql"), "{err}");
    assert!(err.to_string().contains("postgres://"), "{err}");
}

/// The audit log is append-only in the database itself (triggers), so not even code with the
/// connection's full rights, or someone at a SQL prompt, can rewrite or remove what staff did.
#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes_in_the_database() {
    use permit_api::platform::audit::AuditEntry;
    use sqlx::Connection;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut databases = vec![(
        "sqlite",
        permit_api::platform::storage::open(None, dir.path(), common::data_keys())
            .await
            .expect("open SQLite"),
        format!("sqlite://{}", dir.path().join("permit.sqlite").display()),
    )];
    if let Some(admin) = common::postgres_admin_url() {
        let url = common::fresh_postgres(&admin).await;
        let pg = permit_api::platform::storage::open(
            Some(&url),
            std::path::Path::new("/nonexistent"),
            common::data_keys(),
        )
        .await
        .expect("open PostgreSQL");
        databases.push(("postgres", pg, url));
    }
    for (backend, storage, url) in databases {
        let mut clerk = resident("audit_clerk", "11010519491231002X");
        clerk.role = Role::Clerk;
        let clerk = storage.create_account(&clerk).await.expect(backend);
        let entry = AuditEntry {
            at: Utc::now(),
            staff_id: clerk.id,
            action: "revoke_permit".into(),
            object_type: "permit".into(),
            object_id: "RP-1".into(),
            detail: "以欺骗等不正当手段取得".into(),
        };
        storage.audit(&entry).await.expect(backend);

        // Both statements on a raw connection, outside the storage layer.
        macro_rules! refusals {
            ($connection:ty) => {{
                let mut c = <$connection>::connect(&url).await.expect(backend);
                let mut out = Vec::new();
                for sql in [
                    "UPDATE audit_log SET detail = 'rewritten'",
                    "DELETE FROM audit_log",
                ] {
                    let refused = sqlx::query(sql).execute(&mut c).await;
                    out.push(refused.expect_err(sql).to_string());
                }
                out
            }};
        }
        let refusals = if backend == "sqlite" {
            refusals!(sqlx::SqliteConnection)
        } else {
            refusals!(sqlx::PgConnection)
        };
        for r in &refusals {
            assert!(r.contains("append-only"), "{backend}: {r}");
        }
        let kept = storage.audit_log(None, 10).await.expect(backend);
        assert_eq!(kept.len(), 1, "{backend}");
        assert_eq!(kept[0].1.detail, "以欺骗等不正当手段取得", "{backend}");
    }
}

/// The migrations before custody, for a database as it was then.
async fn migrator_before_custody(dialect: &str) -> (sqlx::migrate::Migrator, tempfile::TempDir) {
    migrator_before(dialect, "20261203140002").await
}

/// The migrations before `version`, for a database as it was then.
async fn migrator_before(
    dialect: &str,
    version: &str,
) -> (sqlx::migrate::Migrator, tempfile::TempDir) {
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(dialect);
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&all).expect("migrations") {
        let path = entry.expect("a migration").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < version {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy a migration");
        }
    }
    let migrator = sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("the earlier migrations");
    (migrator, dir)
}

/// The rows of one point's earlier walk-ins, filed under a clerk, and of a resident.
struct Earlier {
    point: Uuid,
    other_point: Uuid,
    clerk: Uuid,
    resident: Uuid,
    walk_in_issued: Uuid,
    walk_in_checked_in: Uuid,
    walk_in_claimed: Uuid,
    own_application: Uuid,
    permit_in_clerk_wallet: Uuid,
    permit_claimed: Uuid,
    own_permit: Uuid,
    notice: Uuid,
}

impl Earlier {
    fn new() -> Earlier {
        Earlier {
            point: Uuid::new_v4(),
            other_point: Uuid::new_v4(),
            clerk: Uuid::new_v4(),
            resident: Uuid::new_v4(),
            walk_in_issued: Uuid::new_v4(),
            walk_in_checked_in: Uuid::new_v4(),
            walk_in_claimed: Uuid::new_v4(),
            own_application: Uuid::new_v4(),
            permit_in_clerk_wallet: Uuid::new_v4(),
            permit_claimed: Uuid::new_v4(),
            own_permit: Uuid::new_v4(),
            notice: Uuid::new_v4(),
        }
    }
}

/// Writes `Earlier`'s rows with the schema before custody (same SQL on both engines).
macro_rules! seed_earlier {
    ($pool:expr, $e:expr) => {{
        let pool = $pool;
        let e: &Earlier = $e;
        let now = Utc::now();
        let today = now.date_naive();
        for (id, n) in [(e.point, 1), (e.other_point, 2)] {
            sqlx::query(
                "INSERT INTO service_points (id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, updated_at) \
                 VALUES ($1, $2, '330102', '330102001', '清波派出所', $3, '辖区', '四宜路61号', '87780283', '9:00-17:30', FALSE, $4)",
            )
            .bind(id)
            .bind(n)
            .bind(format!("{n}号受理点"))
            .bind(now)
            .execute(pool)
            .await
            .expect("a service point");
        }
        for (id, name, role, id_number) in [
            (e.clerk, "clerk", "clerk", None),
            (e.resident, "resident", "resident", Some(common::id_with_check("33010219900101001"))),
        ] {
            sqlx::query(
                "INSERT INTO accounts (id, username, password_hash, role, real_name, id_number, login_sms_required, created_at, updated_at) \
                 VALUES ($1, $2, '$argon2id$v=19$dummy', $3, '王五', $4, FALSE, $5, $5)",
            )
            .bind(id)
            .bind(name)
            .bind(role)
            .bind(id_number)
            .bind(now)
            .execute(pool)
            .await
            .expect("an account");
        }
        for (i, (id, account, status)) in [
            (e.walk_in_issued, e.clerk, "issued"),
            (e.walk_in_checked_in, e.clerk, "checked_in"),
            (e.walk_in_claimed, e.clerk, "issued"),
            (e.own_application, e.resident, "issued"),
        ]
        .into_iter()
        .enumerate()
        {
            sqlx::query(
                "INSERT INTO applications (id, number, account_id, business_type, applicant_name, applicant_id_number, applicant_sex, phone, \
                 district_code, street_code, address_detail, community_code, service_point_id, condition, status, submitted_at, reviewed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'first', '王五', $4, 'male', '13900000000', '330102', '330102001', '四宜路1号', '330102001001', $5, 'residence', $6, $7, $7, $7, $7)",
            )
            .bind(id)
            .bind(format!("JZ2026112400{i:03}"))
            .bind(account)
            .bind(common::id_with_check(&format!("33010219900202{i:03}")))
            .bind(e.point)
            .bind(status)
            .bind(now)
            .execute(pool)
            .await
            .expect("an application");
        }
        for (i, (id, application, account)) in [
            (e.permit_in_clerk_wallet, e.walk_in_issued, e.clerk),
            (e.permit_claimed, e.walk_in_claimed, e.resident),
            (e.own_permit, e.own_application, e.resident),
        ]
        .into_iter()
        .enumerate()
        {
            sqlx::query(
                "INSERT INTO permits (id, number, application_id, account_id, holder_name, id_number, sex, birth_date, district, authority, \
                 service_point_id, first_issued, valid_until, status, status_index, device_key, claimed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, '王五', $5, 'male', $6, '浙江省杭州市上城区', '杭州市公安局上城区分局', $7, $6, $6, 'active', $8, 'ab', $9, $9, $9)",
            )
            .bind(id)
            .bind(format!("3301022026{i:06}"))
            .bind(application)
            .bind(account)
            .bind(common::id_with_check(&format!("33010219900202{i:03}")))
            .bind(today)
            .bind(e.point)
            .bind(i as i64)
            .bind(now)
            .execute(pool)
            .await
            .expect("a permit");
        }
        sqlx::query(
            "INSERT INTO notifications (id, account_id, kind, title, body, application_id, created_at, sms_state) \
             VALUES ($1, $2, 'permit_issued', '居住证已签发', '王五，您的居住证已签发', $3, $4, 'sent')",
        )
        .bind(e.notice)
        .bind(e.clerk)
        .bind(e.walk_in_issued)
        .bind(now)
        .execute(pool)
        .await
        .expect("a notice");
    }};
}

/// What the custody migration must have done to `Earlier`'s rows.
async fn check_moved_to_custody(
    backend: &str,
    storage: &dyn permit_api::platform::storage::Storage,
    e: &Earlier,
) {
    let custody_id = storage
        .application(e.walk_in_issued)
        .await
        .expect(backend)
        .account_id;
    let custody = storage.account_by_id(custody_id).await.expect(backend);
    assert_eq!(custody.custody_point_id, Some(e.point), "{backend}");
    assert_eq!(
        custody.username,
        format!("custody:{}", e.point.simple()),
        "{backend}"
    );
    assert_eq!(custody.role, Role::Unit, "{backend}");
    assert!(custody.phone.is_none(), "{backend}");
    assert!(
        matches!(
            storage.account_by_username(&custody.username).await,
            Err(StorageError::NotFound)
        ),
        "{backend}: no sign-in finds it"
    );
    for walk_in in [e.walk_in_checked_in, e.walk_in_claimed] {
        assert_eq!(
            storage
                .application(walk_in)
                .await
                .expect(backend)
                .account_id,
            custody.id,
            "{backend}"
        );
    }
    assert_eq!(
        storage
            .application(e.own_application)
            .await
            .expect(backend)
            .account_id,
        e.resident,
        "{backend}"
    );
    // The permit in the clerk's wallet is the point's now, to be claimed and stepped up again,
    // with the clerk's device key gone; one its person claimed, and a resident's own, stay.
    let held = storage
        .permit(e.permit_in_clerk_wallet)
        .await
        .expect(backend);
    assert_eq!(held.account_id, custody.id, "{backend}");
    assert!(
        held.claimed_at.is_none() && held.device_key.is_none(),
        "{backend}"
    );
    for kept in [e.permit_claimed, e.own_permit] {
        let p = storage.permit(kept).await.expect(backend);
        assert_eq!(p.account_id, e.resident, "{backend}");
        assert!(
            p.claimed_at.is_some() && p.device_key.is_some(),
            "{backend}"
        );
    }
    assert!(
        storage.permits_of(e.clerk).await.expect(backend).is_empty(),
        "{backend}"
    );
    let notes = storage
        .notifications_of(custody.id, 10)
        .await
        .expect(backend);
    assert_eq!(
        notes.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![e.notice],
        "{backend}"
    );
    assert!(
        storage
            .notifications_of(e.clerk, 10)
            .await
            .expect(backend)
            .is_empty(),
        "{backend}"
    );
    // Only the point with walk-ins got a custody account.
    assert!(
        storage
            .username_taken(&custody.username)
            .await
            .expect(backend),
        "{backend}"
    );
    assert!(
        !storage
            .username_taken(&format!("custody:{}", e.other_point.simple()))
            .await
            .expect(backend),
        "{backend}"
    );
    // A new walk-in at the point joins the same custody account.
    let mut fields = permit_api::casework::applications::model::ApplicationFields {
        business_type: permit_api::casework::applications::model::BusinessType::First,
        applicant_name: "赵六".into(),
        applicant_id_number: IdNumber::parse(&common::id_with_check("33010219900303001")).unwrap(),
        applicant_sex: Sex::Male,
        phone: PhoneNumber::parse("13900000001").unwrap(),
        district_code: "330102".into(),
        street_code: "330102001".into(),
        address_detail: "四宜路2号".into(),
        community_code: "330102001001".into(),
        service_point_id: e.point,
        employer: None,
        condition: Some("residence".into()),
    };
    let filed = permit_api::casework::service::create_for(
        storage,
        permit_api::casework::service::Filer::CustodyOf(e.point),
        &fields,
        i64::MAX,
        Utc::now(),
    )
    .await
    .expect(backend);
    assert_eq!(filed.account_id, custody.id, "{backend}");
    // The other point's first walk-in opens its own.
    fields.service_point_id = e.other_point;
    fields.applicant_id_number =
        IdNumber::parse(&common::id_with_check("33010219900303002")).unwrap();
    let elsewhere = permit_api::casework::service::create_for(
        storage,
        permit_api::casework::service::Filer::CustodyOf(e.other_point),
        &fields,
        i64::MAX,
        Utc::now(),
    )
    .await
    .expect(backend);
    let other = storage
        .account_by_id(elsewhere.account_id)
        .await
        .expect(backend);
    assert_eq!(other.custody_point_id, Some(e.other_point), "{backend}");
}

/// Walk-ins filed before custody sit under the filing clerk's own account; the custody
/// migration moves them (applications, the permits still in the clerk's wallet, their notices)
/// to their point's custody account, and leaves residents' own rows alone.
#[tokio::test]
async fn the_custody_migration_moves_earlier_walk_ins_out_of_the_clerks_account() {
    let earlier = Earlier::new();
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("permit.sqlite"))
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = sqlx::SqlitePool::connect_with(options)
            .await
            .expect("SQLite");
        let (migrator, _files) = migrator_before_custody("sqlite").await;
        migrator.run(&pool).await.expect("the earlier migrations");
        seed_earlier!(&pool, &earlier);
        pool.close().await;
    }
    let storage = permit_api::platform::storage::open(None, dir.path(), common::data_keys())
        .await
        .expect("the custody migration runs");
    check_moved_to_custody("sqlite", &*storage, &earlier).await;

    if let Some(admin) = common::postgres_admin_url() {
        let earlier = Earlier::new();
        let url = common::fresh_postgres(&admin).await;
        {
            let pool = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
            let (migrator, _files) = migrator_before_custody("postgres").await;
            migrator.run(&pool).await.expect("the earlier migrations");
            seed_earlier!(&pool, &earlier);
            pool.close().await;
        }
        let storage = permit_api::platform::storage::open(
            Some(&url),
            std::path::Path::new("/nonexistent"),
            common::data_keys(),
        )
        .await
        .expect("the custody migration runs");
        check_moved_to_custody("postgres", &*storage, &earlier).await;
    }
}

/// Permits revoked and active before the status list was kept in pages, with indexes given in
/// order (same SQL on both engines): 5 and 8200 (the second page) revoked, 6 active.
macro_rules! seed_ordered_permits {
    ($pool:expr) => {{
        let pool = $pool;
        let now = Utc::now();
        let today = now.date_naive();
        let (point, account) = (Uuid::new_v4(), Uuid::new_v4());
        sqlx::query(
            "INSERT INTO service_points (id, number, district_code, street_code, police_station, name, scope, address, phone, hours, opens_saturday, updated_at) \
             VALUES ($1, 1, '330102', '330102001', '清波派出所', '清波派出所受理点', '辖区', '四宜路61号', '87780283', '9:00-17:30', FALSE, $2)",
        )
        .bind(point)
        .bind(now)
        .execute(pool)
        .await
        .expect("a service point");
        sqlx::query(
            "INSERT INTO accounts (id, username, password_hash, role, real_name, login_sms_required, created_at, updated_at) \
             VALUES ($1, 'resident', '$argon2id$v=19$dummy', 'resident', '王五', FALSE, $2, $2)",
        )
        .bind(account)
        .bind(now)
        .execute(pool)
        .await
        .expect("an account");
        for (i, (index, status)) in [(5i64, "revoked"), (6, "active"), (8200, "revoked")]
            .into_iter()
            .enumerate()
        {
            sqlx::query(
                "INSERT INTO permits (id, number, account_id, holder_name, id_number, sex, birth_date, district, authority, \
                 service_point_id, first_issued, valid_until, status, status_index, created_at, updated_at) \
                 VALUES ($1, $2, $3, '王五', $4, 'male', $5, '浙江省杭州市上城区', '杭州市公安局上城区分局', $6, $5, $5, $7, $8, $9, $9)",
            )
            .bind(Uuid::new_v4())
            .bind(format!("3301022026{i:06}"))
            .bind(account)
            .bind(common::id_with_check(&format!("33010219900303{i:03}")))
            .bind(today)
            .bind(point)
            .bind(status)
            .bind(index)
            .bind(now)
            .execute(pool)
            .await
            .expect("a permit");
        }
    }};
}

/// What the pages migration must have built from `seed_ordered_permits!`.
async fn check_pages_built(backend: &str, storage: &dyn permit_api::platform::storage::Storage) {
    let list = storage.status_bits().await.expect(backend);
    assert_eq!(list.len_bits, 1 << 24, "{backend}: the starting capacity");
    assert_eq!(list.bits.len(), 1 << 21, "{backend}");
    let set: Vec<u64> = (0..list.len_bits)
        .filter(|i| list.bits[(i / 8) as usize] >> (i % 8) & 1 == 1)
        .collect();
    assert_eq!(
        set,
        vec![5, 8200],
        "{backend}: the revoked permits, and only they"
    );
    assert_eq!(
        storage.status_list_version().await.expect(backend),
        list.version,
        "{backend}"
    );
}

/// Permits revoked before the status list was kept in pages still show revoked: the migration
/// builds the pages from them, on both engines.
#[tokio::test]
async fn the_pages_migration_keeps_earlier_revocations() {
    let before = "20261204120000";
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("permit.sqlite"))
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = sqlx::SqlitePool::connect_with(options)
            .await
            .expect("SQLite");
        let (migrator, _files) = migrator_before("sqlite", before).await;
        migrator.run(&pool).await.expect("the earlier migrations");
        seed_ordered_permits!(&pool);
        pool.close().await;
    }
    let storage = permit_api::platform::storage::open(None, dir.path(), common::data_keys())
        .await
        .expect("the pages migration runs");
    check_pages_built("sqlite", &*storage).await;

    if let Some(admin) = common::postgres_admin_url() {
        let url = common::fresh_postgres(&admin).await;
        {
            let pool = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
            let (migrator, _files) = migrator_before("postgres", before).await;
            migrator.run(&pool).await.expect("the earlier migrations");
            seed_ordered_permits!(&pool);
            pool.close().await;
        }
        let storage = permit_api::platform::storage::open(
            Some(&url),
            std::path::Path::new("/nonexistent"),
            common::data_keys(),
        )
        .await
        .expect("the pages migration runs");
        check_pages_built("postgres", &*storage).await;
    }
}

/// A fresh database's list: every index clear, at the starting capacity.
#[tokio::test]
async fn a_fresh_status_list_is_all_clear_at_its_starting_capacity() {
    for (backend, storage, _dir) in common::storage_backends().await {
        let list = storage.status_bits().await.expect(backend);
        assert_eq!(list.len_bits, 1 << 24, "{backend}");
        assert_eq!(list.bits.len(), 1 << 21, "{backend}");
        assert!(list.bits.iter().all(|b| *b == 0), "{backend}");
    }
}

/// Each instance keeps the working-day calendar it read, but a year loaded on another instance
/// shows at its next read: the revision in the database says when the kept one is stale.
#[tokio::test]
async fn a_calendar_year_loaded_on_one_instance_shows_on_the_other() {
    use chrono::NaiveDate;
    use permit_api::booking::calendar::{CalendarDay, DayKind};
    use permit_api::platform::storage;

    for (backend, first, dir, url) in common::storage_backends_with_urls().await {
        let second = match &dir {
            Some(d) => storage::open(None, d.path(), common::data_keys()).await,
            None => {
                storage::open(
                    Some(&url),
                    std::path::Path::new("/nonexistent"),
                    common::data_keys(),
                )
                .await
            }
        }
        .expect(backend);
        let day = |d: u32, name: &str| CalendarDay {
            date: NaiveDate::from_ymd_opt(2031, 10, d).unwrap(),
            kind: DayKind::Holiday,
            name: name.into(),
        };
        first
            .replace_calendar_year(2031, &[day(1, "国庆节")])
            .await
            .expect(backend);
        // Both read (and keep) it.
        for s in [&first, &second] {
            let calendar = s.calendar().await.expect(backend);
            assert!(calendar.is_known_year(2031), "{backend}");
            assert!(calendar.day(day(1, "").date).is_some(), "{backend}");
            // Unchanged, the next read is the calendar this instance keeps, not a new read.
            let again = s.calendar().await.expect(backend);
            assert!(std::sync::Arc::ptr_eq(&calendar, &again), "{backend}");
        }
        // The other instance loads the year again with one more holiday: the first sees it.
        second
            .replace_calendar_year(2031, &[day(1, "国庆节"), day(2, "国庆节")])
            .await
            .expect(backend);
        let calendar = first.calendar().await.expect(backend);
        let october: Vec<_> = calendar
            .days()
            .filter(|d| d.date.format("%Y-%m").to_string() == "2031-10")
            .collect();
        assert_eq!(october.len(), 2, "{backend}: {october:?}");
        // And a year that is new to both.
        first.replace_calendar_year(2032, &[]).await.expect(backend);
        let calendar = second.calendar().await.expect(backend);
        assert!(calendar.is_known_year(2032), "{backend}");
    }
}
