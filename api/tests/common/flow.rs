//! Helpers that drive the resident and staff flows over HTTP.

use chrono::NaiveDate;
use serde_json::{Value, json};

use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use super::TestApp;

/// A minimal JPEG: SOI, APP0 (JFIF), APP1 (EXIF carrying GPS), DQT, SOF0, SOS, data, EOI.
pub fn jpeg_with_gps() -> Vec<u8> {
    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        [&[0xFF, marker][..], &len, payload].concat()
    }
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    [
        vec![0xFF, 0xD8],
        seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"),
        seg(
            0xE1,
            b"Exif\0\0MM\0*GPSLatitude 30.2741 GPSLongitude 120.1551",
        ),
        seg(0xDB, &dqt),
        seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]),
        seg(0xDA, &[1, 1, 0, 0, 63, 0]),
        vec![0x12, 0x34, 0x56],
        vec![0xFF, 0xD9],
    ]
    .concat()
}

pub fn tiny_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
}

pub struct Place {
    pub qingbo: String,
    pub hubin: String,
    pub community: String,
}

/// Service points and a community of 清波街道 from the demo directory.
pub async fn place(app: &TestApp) -> Place {
    let points: Value = app
        .get("/api/v1/service-points")
        .await
        .json()
        .await
        .unwrap();
    let id_of = |name: &str| {
        points
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let communities: Value = app
        .get("/api/v1/regions?parent=330102001")
        .await
        .json()
        .await
        .unwrap();
    Place {
        qingbo: id_of("清波派出所受理点"),
        hubin: id_of("湖滨派出所受理点"),
        community: communities[0]["code"].as_str().unwrap().to_string(),
    }
}

pub fn step1(place: &Place) -> Value {
    json!({
        "district_code": "330102", "street_code": "330102001",
        "address_detail": "四宜路61号2幢301室", "community_code": place.community,
        "service_point_id": place.qingbo,
    })
}

/// A clerk or administrator signed in on a device of their own, with the password and their
/// software passkey (enrolled with the demo code at their first sign-in on this server); the
/// session starts stepped up.
pub async fn staff(app: &TestApp, username: &str, password: &str) -> TestApp {
    staff_with_code(app, username, password, demo_enrolment_code(username)).await
}

/// [`staff`] for an account `permitd staff add` made, with the enrolment code it printed.
pub async fn staff_with_code(
    app: &TestApp,
    username: &str,
    password: &str,
    enrolment_code: &str,
) -> TestApp {
    let staff = app.another_device();
    let r = staff_sign_in_with(&staff, username, password, enrolment_code).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    staff
}

/// The demo staff's published enrolment codes.
pub fn demo_enrolment_code(username: &str) -> &'static str {
    match username {
        "admin" => permit_api::platform::demo::DEMO_ADMIN_ENROLMENT,
        _ => permit_api::platform::demo::DEMO_CLERK_ENROLMENT,
    }
}

/// A staff sign-in from `device`, answered as it ends (see common/staff_sign_in.rs).
pub async fn staff_sign_in(device: &TestApp, username: &str, password: &str) -> reqwest::Response {
    staff_sign_in_with(device, username, password, demo_enrolment_code(username)).await
}

async fn staff_sign_in_with(
    device: &TestApp,
    username: &str,
    password: &str,
    enrolment_code: &str,
) -> reqwest::Response {
    let taken = device.staff_passkeys.lock().unwrap().remove(username);
    let mut passkey = taken.unwrap_or_else(|| SoftPasskey::new(true));
    let r = super::staff_sign_in::sign_in(
        &device.client,
        &device.address,
        super::ORIGIN,
        username,
        password,
        enrolment_code,
        &mut passkey,
    )
    .await;
    device
        .staff_passkeys
        .lock()
        .unwrap()
        .insert(username.to_string(), passkey);
    r
}

pub async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// The application's applicant has a residence registration of `months` ago at its address,
/// filed by the same account (the policy's period counts from it); written to the store, as a
/// registration cannot be dated back over HTTP.
pub async fn registered_months_ago(app: &TestApp, application: &str, months: u32) {
    use permit_api::platform::clock::Clock;
    let id: uuid::Uuid = application.parse().unwrap();
    let a = app.state.storage.application(id).await.unwrap();
    let today = permit_api::platform::clock::local_date(app.clock.now());
    let registered_on = today - chrono::Months::new(months);
    let f = a.fields;
    app.state
        .storage
        .create_registration(&permit_api::residence::model::NewRegistration {
            account_id: a.account_id,
            person_name: f.applicant_name,
            id_number: f.applicant_id_number,
            district_code: f.district_code,
            street_code: f.street_code,
            address_detail: f.address_detail,
            community_code: f.community_code,
            moved_in_on: registered_on,
            housing_type: "rented".into(),
            registered_on,
        })
        .await
        .unwrap();
}

/// Creates the application `body` describes, uploads one proof PDF named `proof` and submits
/// it (its applicant registered seven months ago, so any condition may be used); returns its
/// id.
pub async fn submit(app: &TestApp, body: &Value, proof: &str) -> String {
    let a = json_of(app.post("/api/v1/applications", body).await, 201).await;
    let id = a["id"].as_str().unwrap().to_string();
    registered_months_ago(app, &id, 7).await;
    let path = format!("/api/v1/applications/{id}/materials");
    json_of(app.upload(&path, proof, tiny_pdf()).await, 201).await;
    json_of(
        app.post(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await,
        200,
    )
    .await;
    id
}

/// A submitted application of the signed-in resident, with one proof file.
pub async fn submitted(app: &TestApp, place: &Place) -> String {
    let mut body = step1(place);
    body["condition"] = json!("employment");
    submit(app, &body, "合同.pdf").await
}

pub async fn available_days(app: &TestApp, id: &str) -> Vec<NaiveDate> {
    let cal = json_of(
        app.get(&format!("/api/v1/applications/{id}/calendar"))
            .await,
        200,
    )
    .await;
    cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "available")
        .map(|d| d["date"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Books the first free day of a submitted application, has the clerk pass it, moves the
/// server clock to that day, checks the applicant in and issues the permit.
pub async fn issue_permit(
    owner: &TestApp,
    clerk: &TestApp,
    application: &str,
    point: &str,
) -> Value {
    checked_in(owner, clerk, application, point).await;
    let permit = json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{application}/issue"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
    // Read again (a reload of the counter's list), the row is issued and links its permit.
    let row = todays_row(clerk, application, point).await;
    assert_eq!(row["application_status"], "issued", "{row}");
    assert_eq!(row["permit_id"], permit["id"], "{row}");
    permit
}

/// The application's row in the service point's list of the server's today.
pub async fn todays_row(clerk: &TestApp, application: &str, point: &str) -> Value {
    let todays = json_of(
        clerk
            .get(&format!(
                "/api/v1/staff/appointments?service_point_id={point}"
            ))
            .await,
        200,
    )
    .await;
    todays["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["application_id"] == application)
        .expect("the appointment is today")
        .clone()
}

/// The application booked, passed and checked in on its day, ready to issue.
pub async fn checked_in(owner: &TestApp, clerk: &TestApp, application: &str, point: &str) {
    let day = available_days(owner, application).await[0];
    json_of(
        owner
            .put(
                &format!("/api/v1/applications/{application}/appointment"),
                &json!({"date": day}),
            )
            .await,
        200,
    )
    .await;
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/applications/{application}/review"),
                &json!({"decision": "pass"}),
            )
            .await,
        200,
    )
    .await;
    owner.clock.shift_to(chrono::TimeZone::from_utc_datetime(
        &chrono::Utc,
        &day.and_hms_opt(2, 0, 0).unwrap(),
    ));
    let row = todays_row(clerk, application, point).await;
    // The counter sees whether the condition can be used today before accepting.
    assert_eq!(row["eligibility"]["eligible"], true, "{row}");
    assert_eq!(row["application_status"], "passed", "{row}");
    let ap = row["id"].as_str().unwrap().to_string();
    json_of(
        clerk
            .post(
                &format!("/api/v1/staff/appointments/{ap}/check-in"),
                &json!({}),
            )
            .await,
        200,
    )
    .await;
}

/// Registers a software passkey for the signed-in account of `client`.
pub async fn register_passkey(
    app: &TestApp,
    client: &reqwest::Client,
    authenticator: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
) -> Value {
    let started: Value = client
        .post(app.url("/api/v1/passkeys/registrations"))
        .json(&json!({"name": "我的手机"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let credential = authenticator
        .do_registration(url::Url::parse(super::ORIGIN).unwrap(), options)
        .expect("software passkey registers");
    let r = client
        .post(app.url(&format!(
            "/api/v1/passkeys/registrations/{}",
            started["id"].as_str().unwrap()
        )))
        .json(&json!({"credential": credential}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    r.json().await.unwrap()
}

/// Steps the session of `client` up with one of its account's passkeys.
pub async fn step_up_with_passkey(
    app: &TestApp,
    client: &reqwest::Client,
    authenticator: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
) -> reqwest::Response {
    let r = client
        .post(app.url("/api/v1/sessions/current/step-up/passkey"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    if r.status() != 200 {
        return r;
    }
    let started: Value = r.json().await.unwrap();
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let credential =
        match authenticator.do_authentication(url::Url::parse(super::ORIGIN).unwrap(), options) {
            Ok(c) => serde_json::to_value(c).unwrap(),
            // No matching credential: a well-formed refusal.
            Err(_) => json!({}),
        };
    client
        .post(app.url(&format!(
            "/api/v1/sessions/current/step-up/passkey/{}",
            started["id"].as_str().unwrap()
        )))
        .json(&json!({"credential": credential}))
        .send()
        .await
        .unwrap()
}

/// The entry of `day` in a booking calendar answer.
pub fn day_of(calendar: &Value, day: NaiveDate) -> &Value {
    calendar["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == day.to_string())
        .unwrap_or_else(|| panic!("{day} is in the calendar"))
}

/// 实名认证 at the counter: the clerk finds the account by ID number and confirms the card.
pub async fn verify_real_name(clerk: &TestApp, id_number: &str) {
    let found = json_of(
        clerk
            .get(&format!("/api/v1/staff/accounts?id_number={id_number}"))
            .await,
        200,
    )
    .await;
    let verified = json_of(
        clerk
            .post(
                &format!(
                    "/api/v1/staff/accounts/{}/real-name",
                    found["id"].as_str().unwrap()
                ),
                &json!({"id_number": id_number}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(verified["real_name_verified"], true);
}

/// The holder's step-up by an SMS code to `phone`: the permit joins the wallet of `app`'s
/// device. Returns the answer.
pub async fn into_wallet(app: &TestApp, phone: &str, permit: &str) -> Value {
    let code = app.sms_code(phone, "step_up").await;
    json_of(
        app.post(
            &format!("/api/v1/permits/{permit}/step-up"),
            &json!({"sms_code": code}),
        )
        .await,
        200,
    )
    .await
}
