//! The `permit-verify` command-line tool, run as a process against the committed vectors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_permit-verify");

fn vector(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes a vector's lists to files (binary trust list, hex status list) and returns the
/// arguments that point at them.
fn list_args(v: &Value, tag: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("permit-verify-cli-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trust: PathBuf = dir.join("trust-list.cose");
    std::fs::write(
        &trust,
        hex::decode(v["trust_list_hex"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let mut args = vec![
        "--trust-list".to_owned(),
        trust.display().to_string(),
        "--root-key".to_owned(),
        v["root_public_key_hex"].as_str().unwrap().to_owned(),
        "--at".to_owned(),
        v["at"].as_str().unwrap().to_owned(),
    ];
    if let Some(status) = v["status_list_hex"].as_str() {
        let path = dir.join("status-list.hex");
        std::fs::write(&path, format!("{status}\n")).unwrap();
        args.push("--status-list".to_owned());
        args.push(path.display().to_string());
    }
    args
}

fn run(args: &[String], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("PERMIT_ROOT_KEY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn valid_qr_as_argument_exits_0_with_a_bilingual_line() {
    let v = vector("valid");
    let mut args = list_args(&v, "valid");
    args.push(v["qr"].as_str().unwrap().to_owned());
    let out = run(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("有效") && text.contains("valid") && text.contains("欧阳明月"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn the_counter_policy_fails_what_the_default_only_warns_about() {
    let v = vector("counter_holder_proof_required");
    let mut args = list_args(&v, "policy");
    args.push(v["qr"].as_str().unwrap().to_owned());
    let lenient = run(&args, None);
    assert_eq!(lenient.status.code(), Some(0));
    assert!(stdout(&lenient).contains("警告"), "{}", stdout(&lenient));
    args.push("--policy".to_owned());
    args.push("counter".to_owned());
    let counter = run(&args, None);
    assert_eq!(counter.status.code(), Some(1));
    let text = stdout(&counter);
    assert!(text.starts_with('✗') && text.contains("截图"), "{text}");
    args.pop();
    args.push("strict".to_owned());
    assert_eq!(run(&args, None).status.code(), Some(2));
}

#[test]
fn every_vector_gives_its_verdict_and_exit_status() {
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")).unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let v = vector(&name);
        let mut args = list_args(&v, &name);
        args.push("--json".to_owned());
        // The vector's policy, by name (`lenient` is also the default).
        args.push("--policy".to_owned());
        args.push(v["policy"]["name"].as_str().unwrap().to_owned());
        // On standard input, with a trailing newline as a shell would add.
        let input = format!("{}\n", v["qr"].as_str().unwrap());
        let out = run(&args, Some(input.as_bytes()));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let verdict = json["verdict"]["verdict"].as_str().unwrap();
        assert_eq!(
            verdict,
            v["expected"]["verdict"]["verdict"].as_str().unwrap(),
            "{name}"
        );
        let valid = verdict == "valid" || verdict == "valid_endorsement_due";
        assert_eq!(out.status.code(), Some(if valid { 0 } else { 1 }), "{name}");
        assert_eq!(json["warnings"], v["expected"]["warnings"], "{name}");
    }
}

#[test]
fn other_verdicts_exit_1_with_the_reason() {
    let v = vector("suspended");
    let mut args = list_args(&v, "suspended");
    args.push(v["qr"].as_str().unwrap().to_owned());
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("中止使用") && text.contains("suspended since 2026-03-01"),
        "{text}"
    );

    let v = vector("status_list_missing");
    let mut args = list_args(&v, "missing");
    args.push(v["qr"].as_str().unwrap().to_owned());
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("warning: no status list"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn usage_errors_exit_2() {
    let v = vector("valid");
    let qr = v["qr"].as_str().unwrap().to_owned();
    // No trust list.
    let out = run(std::slice::from_ref(&qr), None);
    assert_eq!(out.status.code(), Some(2));
    // A malformed root key.
    let mut args = list_args(&v, "usage1");
    args[3] = "zz".into();
    args.push(qr.clone());
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("root-key"));
    // The wrong root key: the trust list is rejected.
    let mut args = list_args(&v, "usage2");
    args[3] = hex::encode([0x11u8; 32]);
    args.push(qr.clone());
    let out = run(&args, None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("信任列表") && err.contains("trust list"),
        "{err}"
    );
    // An unreadable --at.
    let mut args = list_args(&v, "usage3");
    args[5] = "yesterday".into();
    args.push(qr.clone());
    assert_eq!(run(&args, None).status.code(), Some(2));
    // A missing list file.
    let mut args = list_args(&v, "usage4");
    args[1] = "/nonexistent/trust-list".into();
    args.push(qr);
    assert_eq!(run(&args, None).status.code(), Some(2));
}

#[test]
fn the_root_key_can_come_from_the_environment() {
    let v = vector("valid");
    let mut args = list_args(&v, "env");
    let key = args.remove(3);
    args.remove(2);
    args.push(v["qr"].as_str().unwrap().to_owned());
    let out = Command::new(BIN)
        .args(&args)
        .env("PERMIT_ROOT_KEY", key)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Renders a QR text to a greyscale image, 6 px per module with a 4-module quiet zone.
#[cfg(feature = "issue")]
fn qr_image(text: &str) -> image::GrayImage {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let modules = code.width();
    let colors = code.to_colors();
    let scale = 6;
    let size = ((modules + 8) * scale) as u32;
    image::GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (
            (x as usize / scale).wrapping_sub(4),
            (y as usize / scale).wrapping_sub(4),
        );
        let dark = mx < modules && my < modules && colors[my * modules + mx] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    })
}

#[cfg(feature = "issue")]
#[test]
fn png_and_jpeg_photos_of_the_qr_verify() {
    let v = vector("valid");
    let img = qr_image(v["qr"].as_str().unwrap());
    let dir = std::env::temp_dir().join(format!("permit-verify-cli-{}-img", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("permit.png");
    img.save(&png).unwrap();
    let jpeg = dir.join("permit.jpg");
    img.save(&jpeg).unwrap();
    // --image FILE
    let mut args = list_args(&v, "png");
    args.push("--image".into());
    args.push(png.display().to_string());
    let out = run(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A photo path as the argument.
    let mut args = list_args(&v, "jpeg");
    args.push(jpeg.display().to_string());
    let out = run(&args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A photo on standard input.
    let out = run(
        &list_args(&v, "stdin-png"),
        Some(&std::fs::read(&png).unwrap()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A picture without a QR code is a usage error.
    let blank = dir.join("blank.png");
    image::GrayImage::from_pixel(200, 200, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let mut args = list_args(&v, "blank");
    args.push("--image".into());
    args.push(blank.display().to_string());
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("二维码"));
}
