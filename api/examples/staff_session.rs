//! Signs a clerk or administrator in to a running permitd with a software passkey (enrolling
//! it with the one-time code at the first sign-in) and prints the session cookie's value. The
//! whole-API fuzz (tests/fuzz/run.sh) makes its clerk session with it.
//!
//!     staff_session BASE ORIGIN USERNAME PASSWORD ENROLMENT_CODE

#[path = "../tests/common/staff_sign_in.rs"]
mod staff_sign_in;

use std::process::ExitCode;

use webauthn_authenticator_rs::softpasskey::SoftPasskey;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, origin, username, password, code] = args.as_slice() else {
        eprintln!("usage: staff_session BASE ORIGIN USERNAME PASSWORD ENROLMENT_CODE");
        return ExitCode::from(2);
    };
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .expect("client");
    let mut passkey = SoftPasskey::new(true);
    let r = staff_sign_in::sign_in(
        &client,
        base,
        origin,
        username,
        password,
        code,
        &mut passkey,
    )
    .await;
    if r.status() != 200 {
        eprintln!(
            "staff sign-in: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
        return ExitCode::FAILURE;
    }
    let url: url::Url = base.parse().expect("base URL");
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url);
    let value = cookies
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|all| {
            all.split(';')
                .filter_map(|c| c.trim().split_once('='))
                .find(|(name, _)| *name == "permit_session")
                .map(|(_, v)| v.to_string())
        });
    match value {
        Some(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("staff sign-in: no session cookie");
            ExitCode::FAILURE
        }
    }
}
