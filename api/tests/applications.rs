//! Residence registration, eligibility, applications with proof, booking and the status
//! lifecycle, through HTTP against a real permitd (SQLite + in-process store, or PostgreSQL +
//! Redis when PERMIT_TEST_BACKEND=postgres).

mod common;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use common::flow::{
    available_days, day_of, jpeg_with_gps, json_of, place, registered_months_ago, staff, step1,
    submitted, tiny_pdf,
};
use common::{Person, TestApp, code_of, id_with_check};
use serde_json::{Value, json};

#[tokio::test]
async fn residence_registration_and_eligibility_explain_what_is_missing() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person::new(1);
    app.register_and_login(&me).await;

    let e = json_of(app.get("/api/v1/eligibility").await, 200).await;
    assert_eq!(e["eligible"], false);
    assert_eq!(e["lacking"][0]["code"], "no_residence_registration");

    let mut reg = json!({"moved_in_on": "2026-01-05", "housing_type": "rented"});
    for (k, v) in step1(&place).as_object().unwrap() {
        if k != "service_point_id" {
            reg[k] = v.clone();
        }
    }
    let r = json_of(app.post("/api/v1/residence-registrations", &reg).await, 201).await;
    assert_eq!(r["person_name"], "张小明");
    assert!(r["id_number"].as_str().unwrap().contains('*'), "masked");
    let list = json_of(app.get("/api/v1/residence-registrations").await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Registered today: eligible six months from now, except as special talent.
    let e = json_of(app.get("/api/v1/eligibility").await, 200).await;
    assert_eq!(e["eligible"], false);
    assert_eq!(e["months_required"], 6);
    assert_eq!(e["lacking"][0]["code"], "residence_too_short");
    let today: NaiveDate = r["registered_on"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        e["eligible_from"].as_str().unwrap(),
        today
            .checked_add_months(chrono::Months::new(6))
            .unwrap()
            .to_string()
    );
    let conditions = e["conditions"].as_array().unwrap();
    let talent = conditions.iter().find(|c| c["code"] == "talent").unwrap();
    assert_eq!(talent["available_now"], true);
    let work = conditions
        .iter()
        .find(|c| c["code"] == "employment")
        .unwrap();
    assert_eq!(work["available_now"], false);
    assert!(!work["proof"].as_array().unwrap().is_empty());

    // Bad input: a street of another district, a future move-in date.
    let mut bad = reg.clone();
    bad["street_code"] = json!("330105001");
    let (status, _) = code_of(app.post("/api/v1/residence-registrations", &bad).await).await;
    assert_eq!(status, 422);
    let mut bad = reg.clone();
    bad["moved_in_on"] = json!("2099-01-01");
    assert_eq!(
        code_of(app.post("/api/v1/residence-registrations", &bad).await).await,
        (422, "invalid_moved_in_on".into())
    );
    // A child: under 16, applies through a guardian with the guardian proof.
    let child = id_with_check("33010220150601002");
    let e = json_of(
        app.get(&format!("/api/v1/eligibility?applicant_id_number={child}"))
            .await,
        200,
    )
    .await;
    assert_eq!(e["minor"], true);
    assert!(!e["guardian_proof_zh"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_application_goes_from_draft_to_booked_returned_rebooked_and_passed() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let me = Person::new(2);
    app.register_and_login(&me).await;

    // Step 1 for the account holder.
    let a = json_of(app.post("/api/v1/applications", &step1(&place)).await, 201).await;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["status"], "draft");
    assert_eq!(a["applicant_id_number"], me.id_number);
    assert_eq!(a["applicant_sex"], "male");
    assert!(a["number"].as_str().unwrap().starts_with("JZ"));
    let base = format!("/api/v1/applications/{id}");

    // Submitting needs a condition and proof.
    assert_eq!(
        code_of(app.post(&format!("{base}/submit"), &json!({})).await).await,
        (422, "condition_required".into())
    );
    json_of(
        app.patch(&base, &json!({"condition": "employment"})).await,
        200,
    )
    .await;
    assert_eq!(
        code_of(app.post(&format!("{base}/submit"), &json!({})).await).await,
        (422, "materials_required".into())
    );
    assert_eq!(
        code_of(app.patch(&base, &json!({"condition": "lottery"})).await).await,
        (422, "invalid_condition".into())
    );

    // Proof: judged by content; EXIF stripped; deletable before submitting.
    let files = format!("{base}/materials");
    let (status, code) = code_of(
        app.upload(&files, "photo.jpg", b"not a photo".to_vec())
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "file_type_unsupported"));
    let (status, code) = code_of(
        app.upload(&files, "cut.jpg", jpeg_with_gps()[..40].to_vec())
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "file_malformed"));
    let mut big = tiny_pdf();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (status, _) = code_of(app.upload(&files, "big.pdf", big).await).await;
    assert_eq!(status, 413);
    let photo = json_of(app.upload(&files, "gps.jpg", jpeg_with_gps()).await, 201).await;
    assert_eq!(photo["kind"], "jpeg");
    let r = app
        .get(&format!("{files}/{}", photo["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let stored = r.bytes().await.unwrap();
    assert!(
        !stored.windows(3).any(|w| w == b"GPS"),
        "GPS metadata removed"
    );
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF removed");
    assert!(stored.starts_with(&[0xFF, 0xD8]) && stored.ends_with(&[0xFF, 0xD9]));
    let pdf = json_of(app.upload(&files, "合同.pdf", tiny_pdf()).await, 201).await;
    let r = app
        .delete(&format!("{files}/{}", pdf["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 204);
    let detail = json_of(app.get(&base).await, 200).await;
    assert_eq!(detail["materials"].as_array().unwrap().len(), 1);

    // Another account sees nothing of it: 404, not 403.
    let other = app.another_device();
    other.register_and_login(&Person::new(3)).await;
    for path in [
        base.clone(),
        format!("{files}/{}", photo["id"].as_str().unwrap()),
    ] {
        assert_eq!(other.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(
        code_of(
            other
                .put(
                    &format!("{base}/appointment"),
                    &json!({"date": "2026-12-01"})
                )
                .await
        )
        .await
        .0,
        404
    );

    // 合法稳定就业 needs six months of registered residence. Without a registration the answer
    // says so and names the condition that needs none; nothing is submitted.
    let submit = format!("{base}/submit");
    let refused = json_of(app.post(&submit, &json!({})).await, 422).await;
    assert_eq!(refused["code"], "condition_not_met", "{refused}");
    assert_eq!(refused["field"], "condition");
    assert!(refused.get("eligible_from").is_none(), "{refused}");
    assert_eq!(refused["exempt_conditions"], json!(["talent"]));
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("尚未办理居住登记"), "{message}");
    assert!(message.contains("特殊人才"), "{message}");
    // Registered three months ago: refused, with the day the period is met.
    registered_months_ago(&app, &id, 3).await;
    let today = permit_api::platform::clock::local_date(permit_api::platform::clock::Clock::now(
        &*app.clock,
    ));
    let from = today - chrono::Months::new(3) + chrono::Months::new(6);
    let refused = json_of(app.post(&submit, &json!({})).await, 422).await;
    assert_eq!(refused["code"], "condition_not_met");
    assert_eq!(refused["eligible_from"], json!(from.to_string()));
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains(&from.format("%Y年%m月%d日").to_string()),
        "{refused}"
    );
    let draft = json_of(app.get(&base).await, 200).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["eligibility"]["eligible"], false);
    assert_eq!(
        draft["eligibility"]["eligible_from"],
        json!(from.to_string())
    );
    assert_eq!(draft["eligibility"]["months_required"], 6);
    // Seven months ago: the period is met, and 确认申报 goes through.
    registered_months_ago(&app, &id, 7).await;
    assert_eq!(
        json_of(app.get(&base).await, 200).await["eligibility"]["eligible"],
        true
    );

    // 确认申报, twice with one Idempotency-Key: one effect, the same answer.
    let first = json_of(
        app.send_with_key(
            reqwest::Method::POST,
            &format!("{base}/submit"),
            "submit-1",
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let again = json_of(
        app.send_with_key(
            reqwest::Method::POST,
            &format!("{base}/submit"),
            "submit-1",
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(first["submitted_at"], again["submitted_at"]);
    assert_eq!(first["status"], "submitted");
    assert_eq!(
        code_of(app.patch(&base, &json!({"employer": "某公司"})).await).await,
        (409, "not_editable".into())
    );

    // The calendar and its window: 2 working days of review, then 7 opening days.
    let cal = json_of(app.get(&format!("{base}/calendar")).await, 200).await;
    assert_eq!(cal["review_days"].as_array().unwrap().len(), 2);
    assert_eq!(cal["bookable_days"].as_array().unwrap().len(), 7);
    let days = available_days(&app, &id).await;
    assert_eq!(days.len(), 7, "{cal}");
    let day = days[0];
    let closed = cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"] == "holiday")
        .map(|d| d["date"].as_str().unwrap().to_string());

    // Bad bookings.
    let appointment = format!("{base}/appointment");
    if let Some(closed) = closed {
        assert_eq!(
            code_of(app.put(&appointment, &json!({"date": closed})).await).await,
            (422, "day_closed".into())
        );
    }
    let far = (days[6] + Duration::days(14)).to_string();
    let far = NaiveDate::parse_from_str(&far, "%Y-%m-%d").unwrap();
    let far = if far.weekday().number_from_monday() >= 6 {
        far + Duration::days(2)
    } else {
        far
    };
    assert_eq!(
        code_of(app.put(&appointment, &json!({"date": far})).await).await,
        (422, "day_outside_window".into())
    );
    assert_eq!(
        code_of(
            app.put(
                &appointment,
                &json!({"date": day, "service_point_id": place.hubin})
            )
            .await
        )
        .await,
        (422, "wrong_service_point".into())
    );

    // Book with an Idempotency-Key; a repeat is harmless.
    let booked = json_of(
        app.send_with_key(
            reqwest::Method::PUT,
            &appointment,
            "book-1",
            &json!({"date": day}),
        )
        .await,
        200,
    )
    .await;
    let repeat = json_of(
        app.send_with_key(
            reqwest::Method::PUT,
            &appointment,
            "book-1",
            &json!({"date": day}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(booked["id"], repeat["id"]);
    assert_eq!(
        code_of(
            app.send_with_key(
                reqwest::Method::PUT,
                &appointment,
                "book-1",
                &json!({"date": days[1]})
            )
            .await
        )
        .await,
        (422, "idempotency_key_reused".into())
    );
    assert_eq!(booked["service_point"]["name"], "清波派出所受理点");
    assert_eq!(booked["handling"], "已预约，等待初审");
    assert_eq!(booked["session"], "morning");
    assert_eq!(booked["application_status"], "booked");
    // 我的预约 shows the day and the session of the appointment.
    let mine = json_of(app.get("/api/v1/applications").await, 200).await;
    let row = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["appointment_date"], json!(day.to_string()), "{row}");
    assert_eq!(row["appointment_session"], "morning");
    let cal = json_of(app.get(&format!("{base}/calendar")).await, 200).await;
    let entry = day_of(&cal, day).clone();
    assert_eq!(entry["mine"], true);
    assert_eq!(entry["remaining"], 29, "30 places by default, one taken");

    // The list (seed 000 §3.3) and the inbox.
    let list = json_of(app.get("/api/v1/applications").await, 200).await;
    assert_eq!(list[0]["status"], "booked");
    assert_eq!(list[0]["status_label"], "已预约，等待初审");
    assert!(
        list[0]["applicant_id_number"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert_eq!(inbox["items"][0]["kind"], "booking_confirmed");
    assert_eq!(inbox["unread"], 1);
    let nid = inbox["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post(&format!("/api/v1/notifications/{nid}/read"), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(
        other
            .post(&format!("/api/v1/notifications/{nid}/read"), &json!({}))
            .await
            .status(),
        404
    );
    // The outbox sends the SMS.
    let round = permit_api::platform::jobs::run_once(&app.state, Utc::now())
        .await
        .unwrap();
    assert!(round.sms_sent >= 1);
    let sms: Value = app
        .get(&format!("/api/v1/dev/sms?phone={}", me.phone))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        sms.as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"].as_str().unwrap().contains("清波派出所受理点"))
    );

    // The clerk of 清波 returns it with a note; the place is given back.
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    let queue = json_of(
        clerk.get("/api/v1/staff/applications?status=booked").await,
        200,
    )
    .await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"] == id.as_str())
    );
    assert_eq!(
        code_of(
            clerk
                .post(
                    &format!("/api/v1/staff/applications/{id}/review"),
                    &json!({"decision": "return"})
                )
                .await
        )
        .await,
        (422, "note_required".into())
    );
    let returned = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/review"),
                &json!({"decision": "return", "note": "劳动合同不满1年，请补充社保证明"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    // The clerk of the application's service point may read its proof.
    let r = clerk
        .get(&format!("{files}/{}", photo["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), stored);
    let detail = json_of(app.get(&base).await, 200).await;
    assert_eq!(detail["review_note"], "劳动合同不满1年，请补充社保证明");
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert_eq!(inbox["items"][0]["kind"], "review_returned");

    // Fix, resubmit, book again, pass.
    json_of(
        app.patch(&base, &json!({"employer": "杭州某科技有限公司"}))
            .await,
        200,
    )
    .await;
    json_of(app.post(&format!("{base}/submit"), &json!({})).await, 200).await;
    let days = available_days(&app, &id).await;
    json_of(app.put(&appointment, &json!({"date": days[0]})).await, 200).await;
    let passed = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{id}/review"),
                &json!({"decision": "pass"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(passed["status"], "passed");

    // The counter's list of that day; check-in only on the day itself.
    let listed = json_of(
        clerk
            .get(&format!(
                "/api/v1/staff/appointments?service_point_id={}&date={}",
                place.qingbo, days[0]
            ))
            .await,
        200,
    )
    .await;
    let listed = &listed["items"];
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["handling"], "初审通过");
    let ap = listed[0]["id"].as_str().unwrap();
    // The list shows full ID numbers: each person shown is a read in the audit log.
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let log = json_of(admin.get("/api/v1/staff/audit?limit=200").await, 200).await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "list_appointment"
                && e["object_id"] == ap
                && e["detail"] == days[0].to_string().as_str()),
        "{log}"
    );
    assert_eq!(
        code_of(
            clerk
                .post(
                    &format!("/api/v1/staff/appointments/{ap}/check-in"),
                    &json!({})
                )
                .await
        )
        .await,
        (409, "not_today".into())
    );
    assert_eq!(
        app.get(&format!(
            "/api/v1/staff/appointments?service_point_id={}",
            place.qingbo
        ))
        .await
        .status(),
        403
    );
    // Proof cannot be removed once submitted.
    assert_eq!(
        code_of(
            app.delete(&format!("{files}/{}", photo["id"].as_str().unwrap()))
                .await
        )
        .await,
        (409, "not_editable".into())
    );

    // The day before: a reminder; after the day: a no-show.
    let booked_day = days[0];
    let eve = Utc.from_utc_datetime(
        &(booked_day - Duration::days(1))
            .and_hms_opt(2, 0, 0)
            .unwrap(),
    );
    let round = permit_api::platform::jobs::run_once(&app.state, eve)
        .await
        .unwrap();
    assert_eq!(round.reminders, 1);
    let round = permit_api::platform::jobs::run_once(&app.state, eve)
        .await
        .unwrap();
    assert_eq!(round.reminders, 0, "one reminder only");
    let after = eve + Duration::days(3);
    let round = permit_api::platform::jobs::run_once(&app.state, after)
        .await
        .unwrap();
    assert_eq!(round.no_shows, 1);
    let detail = json_of(app.get(&base).await, 200).await;
    assert_eq!(detail["status"], "no_show");
    assert_eq!(detail["appointment"]["status"], "no_show");
}

#[tokio::test]
async fn people_per_account_open_applications_and_real_name_rules() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(4)).await;

    for n in 0..5 {
        let mut body = step1(&place);
        body["applicant_name"] = json!("李四");
        body["applicant_id_number"] = json!(id_with_check(&format!("3301021985020300{n}")));
        json_of(app.post("/api/v1/applications", &body).await, 201).await;
    }
    let mut sixth = step1(&place);
    sixth["applicant_name"] = json!("王五");
    sixth["applicant_id_number"] = json!(id_with_check("33010219850203009"));
    assert_eq!(
        code_of(app.post("/api/v1/applications", &sixth).await).await,
        (422, "too_many_applicants".into())
    );
    assert_eq!(
        json_of(app.get("/api/v1/applications").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        5,
        "nothing half-written"
    );

    // The same person in another account's draft: a draft holds no one's ID number.
    let other = app.another_device();
    other.register_and_login(&Person::new(5)).await;
    let mut dup = step1(&place);
    dup["applicant_name"] = json!("李四");
    dup["applicant_id_number"] = json!(id_with_check("33010219850203000"));
    json_of(other.post("/api/v1/applications", &dup).await, 201).await;
    // Renewal and the like need a real-name verified account.
    let mut renew = step1(&place);
    renew["business_type"] = json!("renewal");
    assert_eq!(
        code_of(other.post("/api/v1/applications", &renew).await).await,
        (403, "real_name_required".into())
    );
    // A service point outside the district, a half-named other person.
    let mut wrong = step1(&place);
    wrong["applicant_name"] = json!("赵六");
    assert_eq!(
        code_of(other.post("/api/v1/applications", &wrong).await).await,
        (422, "person_incomplete".into())
    );
    // Staff and anonymous callers do not file applications.
    let anonymous = app.another_device();
    assert_eq!(
        anonymous
            .post("/api/v1/applications", &step1(&place))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_move_to_a_full_day_keeps_the_old_booking() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let admin = staff(&app, "admin", "admin-demo-2026").await;

    let a = app.another_device();
    a.register_and_login(&Person::new(6)).await;
    let a_id = submitted(&a, &place).await;
    let b = app.another_device();
    b.register_and_login(&Person::new(7)).await;
    let b_id = submitted(&b, &place).await;

    let days = available_days(&a, &a_id).await;
    let (d1, d2) = (days[0], days[1]);
    // One place on d2, taken by B.
    let r = admin
        .put(
            &format!(
                "/api/v1/service-points/{}/capacity/{d2}/morning",
                place.qingbo
            ),
            &json!({"capacity": 1}),
        )
        .await;
    assert_eq!(r.status(), 204);
    json_of(
        b.put(
            &format!("/api/v1/applications/{b_id}/appointment"),
            &json!({"date": d2}),
        )
        .await,
        200,
    )
    .await;
    json_of(
        a.put(
            &format!("/api/v1/applications/{a_id}/appointment"),
            &json!({"date": d1}),
        )
        .await,
        200,
    )
    .await;
    let cal = json_of(
        a.get(&format!("/api/v1/applications/{a_id}/calendar"))
            .await,
        200,
    )
    .await;
    let d2_state = day_of(&cal, d2)["state"].clone();
    assert_eq!(d2_state, "full");
    assert_eq!(
        code_of(
            a.put(
                &format!("/api/v1/applications/{a_id}/appointment"),
                &json!({"date": d2})
            )
            .await
        )
        .await,
        (409, "slot_full".into())
    );
    let detail = json_of(a.get(&format!("/api/v1/applications/{a_id}")).await, 200).await;
    assert_eq!(detail["appointment"]["date"], d1.to_string());
    assert_eq!(detail["appointment"]["status"], "booked");
    let cal = json_of(
        a.get(&format!("/api/v1/applications/{a_id}/calendar"))
            .await,
        200,
    )
    .await;
    let d1_left = day_of(&cal, d1)["remaining"].clone();
    assert_eq!(d1_left, 29);

    // A move to a free day gives the old place back; a cancel gives the new one back.
    json_of(
        a.put(
            &format!("/api/v1/applications/{a_id}/appointment"),
            &json!({"date": days[2]}),
        )
        .await,
        200,
    )
    .await;
    let cancelled = json_of(
        a.delete(&format!("/api/v1/applications/{a_id}/appointment"))
            .await,
        200,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    let cal = json_of(
        a.get(&format!("/api/v1/applications/{a_id}/calendar"))
            .await,
        200,
    )
    .await;
    for d in [d1, days[2]] {
        let left = day_of(&cal, d)["remaining"].clone();
        assert_eq!(left, 30, "{d}");
    }
    // Capacity is for administrators only.
    assert_eq!(
        a.put(
            &format!(
                "/api/v1/service-points/{}/capacity/{d2}/morning",
                place.qingbo
            ),
            &json!({"capacity": 100}),
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn the_calendar_is_data_administrators_extend() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let cal = json_of(app.get("/api/v1/calendar?year=2026").await, 200).await;
    assert_eq!(cal["known_years"], json!([2024, 2025, 2026]));
    let days = cal["days"].as_array().unwrap();
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-02-14" && d["kind"] == "workday")
    );
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-02-17" && d["kind"] == "holiday")
    );

    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let year = json!({"days": [
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        {"date": "2027-02-20", "kind": "workday", "name": "春节"}
    ]});
    assert_eq!(
        admin.put("/api/v1/calendar/2027", &year).await.status(),
        204
    );
    let cal = json_of(app.get("/api/v1/calendar?year=2027").await, 200).await;
    assert_eq!(cal["known_years"], json!([2024, 2025, 2026, 2027]));
    assert_eq!(cal["days"].as_array().unwrap().len(), 2);
    let wrong = json!({"days": [{"date": "2028-01-01", "kind": "holiday", "name": "元旦"}]});
    assert_eq!(
        code_of(admin.put("/api/v1/calendar/2027", &wrong).await).await,
        (422, "invalid_calendar_day".into())
    );
    let resident = app.another_device();
    resident.register_and_login(&Person::new(8)).await;
    assert_eq!(
        resident.put("/api/v1/calendar/2027", &year).await.status(),
        403
    );

    // Opening days: a point that opens Saturdays, and a bad opening.
    let points: Value = app
        .get("/api/v1/service-points")
        .await
        .json()
        .await
        .unwrap();
    let qingbo = points
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "清波派出所受理点")
        .unwrap();
    assert_eq!(qingbo["open_weekdays"], json!([1, 2, 3, 4, 5, 6]));
    let id = qingbo["id"].as_str().unwrap();
    let bad = json!({"open_weekdays": [8], "sessions": ["morning"], "capacity_morning": 5, "capacity_afternoon": 5});
    assert_eq!(
        code_of(
            admin
                .put(&format!("/api/v1/service-points/{id}/opening"), &bad)
                .await
        )
        .await,
        (422, "invalid_opening".into())
    );
    let good = json!({"open_weekdays": [1, 2, 3, 4, 5], "sessions": ["morning"], "capacity_morning": 5, "capacity_afternoon": 0});
    let p = json_of(
        admin
            .put(&format!("/api/v1/service-points/{id}/opening"), &good)
            .await,
        200,
    )
    .await;
    assert_eq!(p["opens_saturday"], false);
    assert_eq!(p["sessions"], json!(["morning"]));
}

#[tokio::test]
async fn the_eligibility_policy_comes_from_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy: Value =
        serde_json::from_str(permit_api::residence::eligibility::ZHEJIANG_JSON).unwrap();
    policy["jurisdiction"] = json!("shenzhen");
    policy["residence_months"] = json!(12);
    let path = dir.path().join("policy.json");
    std::fs::write(&path, policy.to_string()).unwrap();
    let app = TestApp::spawn_with(|c| c.eligibility_policy = Some(path.clone())).await;
    app.register_and_login(&Person::new(9)).await;
    let e = json_of(app.get("/api/v1/eligibility").await, 200).await;
    assert_eq!(e["jurisdiction"], "shenzhen");
    assert_eq!(e["months_required"], 12);

    // A broken policy stops permitd at start with a clear error.
    std::fs::write(&path, "{\"jurisdiction\": \"x\"}").unwrap();
    let config = permit_api::platform::config::Config {
        data_dir: dir.path().join("data"),
        eligibility_policy: Some(path.clone()),
        dev: true,
        ..Default::default()
    };
    let err = permit_api::platform::app::build_state(config)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("eligibility policy"), "{err}");
}

/// An SMS the gateway refuses stays queued and is tried again later, each wait twice the last
/// (2, 4, 8, 16 minutes after the 1st to 4th failures); after the 5th it is given up. The
/// in-app notice is there all along.
#[tokio::test]
async fn an_sms_the_gateway_refuses_is_retried_with_growing_waits_then_given_up() {
    use permit_api::notifications::service::dispatch_sms;
    use permit_api::notifications::sms::{Delivered, SmsError, SmsMessage, SmsSender};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct GatewayDown(AtomicUsize);
    #[async_trait::async_trait]
    impl SmsSender for GatewayDown {
        async fn send(&self, _phone: &str, _message: &SmsMessage) -> Result<Delivered, SmsError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(SmsError::transient(
                "bad_answer",
                "HTTP 503 from the gateway",
            ))
        }
    }

    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let person = Person::new(8);
    app.register_and_login(&person).await;
    let id = submitted(&app, &place).await;
    let day = available_days(&app, &id).await[0];
    let appointment = format!("/api/v1/applications/{id}/appointment");
    json_of(app.put(&appointment, &json!({"date": day})).await, 200).await;
    let sent_texts = |app: &TestApp| app.state.sms.sent_to(&person.phone).len();
    let before = sent_texts(&app);

    // The booking's SMS meets a gateway that is down, then one that is back.
    let down_gateway = Arc::new(GatewayDown(AtomicUsize::new(0)));
    let mut down = app.state.clone();
    down.sms = down_gateway.clone();
    let t0 = Utc::now() + Duration::seconds(1);
    assert_eq!(
        dispatch_sms(&*down.storage, &*down.sms, t0).await.unwrap(),
        0
    );
    assert_eq!(down_gateway.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        dispatch_sms(
            &*app.state.storage,
            &*app.state.sms,
            t0 + Duration::seconds(119)
        )
        .await
        .unwrap(),
        0,
        "not due before 2 minutes"
    );
    assert_eq!(
        dispatch_sms(
            &*app.state.storage,
            &*app.state.sms,
            t0 + Duration::minutes(2)
        )
        .await
        .unwrap(),
        1,
        "sent once the gateway is back"
    );
    assert_eq!(sent_texts(&app), before + 1);
    assert_eq!(
        dispatch_sms(&*app.state.storage, &*app.state.sms, t0 + Duration::days(1))
            .await
            .unwrap(),
        0,
        "sent once only"
    );

    // The cancellation's SMS meets a gateway that stays down: five attempts, then no more.
    json_of(app.delete(&appointment).await, 200).await;
    let t1 = t0 + Duration::days(1) + Duration::seconds(1);
    let mut at = t1;
    for (attempt, wait_after) in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 0)] {
        assert_eq!(
            dispatch_sms(&*down.storage, &*down.sms, at).await.unwrap(),
            0
        );
        assert_eq!(
            down_gateway.0.load(Ordering::SeqCst),
            1 + attempt,
            "attempt {attempt}"
        );
        if wait_after > 0 {
            let early = at + Duration::minutes(wait_after) - Duration::seconds(1);
            assert_eq!(
                dispatch_sms(&*down.storage, &*down.sms, early)
                    .await
                    .unwrap(),
                0
            );
            assert_eq!(
                down_gateway.0.load(Ordering::SeqCst),
                1 + attempt,
                "no attempt before the wait is over"
            );
            at += Duration::minutes(wait_after);
        }
    }
    assert_eq!(
        dispatch_sms(
            &*app.state.storage,
            &*app.state.sms,
            at + Duration::days(30)
        )
        .await
        .unwrap(),
        0,
        "given up"
    );
    assert_eq!(down_gateway.0.load(Ordering::SeqCst), 6);
    assert_eq!(sent_texts(&app), before + 1);
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    assert_eq!(inbox["items"][0]["kind"], "booking_cancelled");
}

/// Booking and cancelling another account's application is a 404, and such attempts cost the
/// caller nothing of their booking allowance (30 an hour): only their own bookings count.
#[tokio::test]
async fn another_accounts_appointment_is_not_found_and_costs_no_allowance() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let owner = app.another_device();
    owner.register_and_login(&Person::new(8)).await;
    let theirs = submitted(&owner, &place).await;
    let day = available_days(&owner, &theirs).await[0];

    let prober = app.another_device();
    prober.register_and_login(&Person::new(9)).await;
    let mine = submitted(&prober, &place).await;
    let their_appointment = format!("/api/v1/applications/{theirs}/appointment");
    for _ in 0..30 {
        let r = prober.delete(&their_appointment).await;
        assert_eq!(code_of(r).await, (404, "not_found".into()));
        let r = prober.put(&their_appointment, &json!({"date": day})).await;
        assert_eq!(code_of(r).await, (404, "not_found".into()));
    }
    // The allowance is whole: the prober's own booking goes through.
    json_of(
        prober
            .put(
                &format!("/api/v1/applications/{mine}/appointment"),
                &json!({"date": day}),
            )
            .await,
        200,
    )
    .await;
    // And the owner's application was never touched.
    let detail = json_of(
        owner.get(&format!("/api/v1/applications/{theirs}")).await,
        200,
    )
    .await;
    assert_eq!(detail["status"], "submitted");
}

#[tokio::test]
async fn a_draft_blocks_no_one_and_a_clerk_releases_an_id_number_another_account_submitted() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    let victim = Person::new(20);
    app.register_and_login(&victim).await;
    let squatter = Person::new(21);
    let other = app.another_device();
    other.register_and_login(&squatter).await;

    // The squatter starts a draft for the victim's ID number; the victim's own draft is not
    // blocked by it.
    let mut theirs = step1(&place);
    theirs["applicant_name"] = json!(victim.real_name);
    theirs["applicant_id_number"] = json!(victim.id_number);
    theirs["condition"] = json!("employment");
    let mut mine = step1(&place);
    mine["condition"] = json!("employment");
    let my_draft = json_of(app.post("/api/v1/applications", &mine).await, 201).await;
    let my_id = my_draft["id"].as_str().unwrap().to_string();
    registered_months_ago(&app, &my_id, 7).await;
    json_of(
        app.upload(
            &format!("/api/v1/applications/{my_id}/materials"),
            "合同.pdf",
            tiny_pdf(),
        )
        .await,
        201,
    )
    .await;

    // Submitted, it holds the number: the victim learns of it when applying or submitting,
    // with what to do, and nothing of who holds it.
    let held = common::flow::submit(&other, &theirs, "合同.pdf").await;
    let held_detail = json_of(
        other.get(&format!("/api/v1/applications/{held}")).await,
        200,
    )
    .await;
    let squatter_me = json_of(other.get("/api/v1/me").await, 200).await;
    let refusals = [
        app.post(&format!("/api/v1/applications/{my_id}/submit"), &json!({}))
            .await,
        app.post("/api/v1/applications", &mine).await,
    ];
    for r in refusals {
        assert_eq!(r.status(), 409);
        let text = r.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["code"], "application_held_elsewhere");
        assert_eq!(body["field"], "applicant_id_number");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("受理点") && message.contains("身份证"),
            "{message}"
        );
        for secret in [
            squatter.username.as_str(),
            squatter.phone.as_str(),
            &squatter.phone[7..],
            squatter_me["id"].as_str().unwrap(),
            held.as_str(),
            held_detail["number"].as_str().unwrap(),
        ] {
            assert!(!text.contains(secret), "the refusal names {secret}: {text}");
        }
    }
    // The holder's own account is told it is its own.
    assert_eq!(
        code_of(other.post("/api/v1/applications", &theirs).await).await,
        (409, "application_exists".into())
    );

    // Only staff release, with a valid number; nothing held is a clear refusal.
    let release = |id: &str| json!({"id_number": id, "note": "核验本人居民身份证原件"});
    assert_eq!(
        app.post(
            "/api/v1/staff/id-number-releases",
            &release(&victim.id_number)
        )
        .await
        .status(),
        403
    );
    let clerk = staff(&app, "clerk", "clerk-demo-2026").await;
    assert_eq!(
        code_of(
            clerk
                .post(
                    "/api/v1/staff/id-number-releases",
                    &release("330102199001010013")
                )
                .await
        )
        .await
        .0,
        422
    );
    let released = json_of(
        clerk
            .post(
                "/api/v1/staff/id-number-releases",
                &release(&victim.id_number),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(released["application_id"], held.as_str());
    assert_eq!(released["status"], "cancelled");
    assert!(released["id_number_masked"].as_str().unwrap().contains('*'));
    assert_eq!(
        code_of(
            clerk
                .post(
                    "/api/v1/staff/id-number-releases",
                    &release(&victim.id_number)
                )
                .await
        )
        .await,
        (409, "nothing_to_release".into())
    );

    // Audited; the other application is cancelled and its owner told in the app.
    let admin = staff(&app, "admin", "admin-demo-2026").await;
    let audit = json_of(admin.get("/api/v1/staff/audit?limit=200").await, 200).await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "release_id_number")
        .expect("the release is in the audit log");
    assert_eq!(entry["object_id"], held.as_str());
    assert!(
        !entry["detail"]
            .as_str()
            .unwrap()
            .contains(&victim.id_number)
    );
    let gone = json_of(
        other.get(&format!("/api/v1/applications/{held}")).await,
        200,
    )
    .await;
    assert_eq!(gone["status"], "cancelled");
    let inbox = json_of(other.get("/api/v1/notifications").await, 200).await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "application_released"),
        "{inbox}"
    );

    // Now the victim's own draft goes through.
    let submitted = json_of(
        app.post(&format!("/api/v1/applications/{my_id}/submit"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(submitted["status"], "submitted");
}

#[tokio::test]
async fn a_draft_not_submitted_within_30_days_expires_and_the_applicant_is_told() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(22)).await;
    let draft = json_of(app.post("/api/v1/applications", &step1(&place)).await, 201).await;
    let id = draft["id"].as_str().unwrap();
    let other = app.another_device();
    other.register_and_login(&Person::new(23)).await;
    let kept = submitted(&other, &place).await;

    let now = Utc::now();
    let round = permit_api::platform::jobs::run_once(&app.state, now + Duration::days(29))
        .await
        .unwrap();
    assert_eq!(round.drafts_expired, 0, "29 days is not yet 30");
    let round = permit_api::platform::jobs::run_once(&app.state, now + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(round.drafts_expired, 1, "the submitted one is not a draft");
    // Cancelled, then deleted in the same round by the retention policy (api/tests/retention.rs).
    assert_eq!(round.retention.drafts, 1);
    let gone = app.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(gone.status(), 404);
    let inbox = json_of(app.get("/api/v1/notifications").await, 200).await;
    let notice = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "draft_expired")
        .expect("told in the app");
    assert!(notice["body"].as_str().unwrap().contains("30天"));
    assert_eq!(notice["application_id"], id);
    let kept = json_of(
        other.get(&format!("/api/v1/applications/{kept}")).await,
        200,
    )
    .await;
    assert_eq!(kept["status"], "submitted");
}

#[tokio::test]
async fn special_talent_needs_no_residence_period_and_renewals_are_not_held_to_it() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let place = place(&app).await;
    app.register_and_login(&Person::new(71)).await;
    let mut body = step1(&place);
    body["condition"] = json!("talent");
    let a = json_of(app.post("/api/v1/applications", &body).await, 201).await;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["eligibility"]["eligible"], true);
    assert_eq!(a["eligibility"]["exempt"], true);
    assert!(a["eligibility"].get("residence_since").is_none(), "{a}");
    let files = format!("/api/v1/applications/{id}/materials");
    json_of(app.upload(&files, "人才证明.pdf", tiny_pdf()).await, 201).await;
    let submitted = json_of(
        app.post(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(submitted["status"], "submitted");
}
