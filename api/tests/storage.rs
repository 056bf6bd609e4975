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
    let err = permit_api::platform::storage::open(Some("mysql://localhost/x"), dir.path())
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
        permit_api::platform::storage::open(None, dir.path())
            .await
            .expect("open SQLite"),
        format!("sqlite://{}", dir.path().join("permit.sqlite").display()),
    )];
    if let Some(admin) = common::postgres_admin_url() {
        let url = common::fresh_postgres(&admin).await;
        let pg =
            permit_api::platform::storage::open(Some(&url), std::path::Path::new("/nonexistent"))
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
        let kept = storage.audit_log(10).await.expect(backend);
        assert_eq!(kept.len(), 1, "{backend}");
        assert_eq!(kept[0].detail, "以欺骗等不正当手段取得", "{backend}");
    }
}
