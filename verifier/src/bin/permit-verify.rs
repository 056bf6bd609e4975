//! `permit-verify`: verify an RP1 electronic residence permit offline.
//!
//! Exit status: 0 valid (also when the endorsement is due), 1 any other verdict, 2 usage error
//! (bad arguments, unreadable files, a trust or status list that does not verify).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use permit_verifier::{
    Policy, StatusList, TrustList, Verification, VerifyOptions, ed25519_dalek::VerifyingKey, verify,
};

/// Which verification policy to apply.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PolicyName {
    /// Old lists, a missing holder proof, a status index beyond the list: warnings.
    Lenient,
    /// A service counter: lists at most 7 days (trust) / 24 hours (status) old, the holder proof
    /// required for device-bound permits, no future iat, the issuer matching its key, the status
    /// index inside the list; each otherwise fails.
    Counter,
}

/// Verify an RP1 electronic residence permit (电子居住证) QR code offline.
///
/// 离线核验电子居住证二维码。Exit status: 0 valid, 1 any other verdict, 2 usage error.
#[derive(Parser, Debug)]
#[command(name = "permit-verify", version)]
struct Args {
    /// The QR text (RP1:...), a path to a PNG or JPEG photo of the QR code, or `-` for
    /// standard input (the default). 二维码文本、照片路径或 `-`（标准输入）。
    input: Option<String>,

    /// A PNG or JPEG photo of the QR code. 二维码照片。
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    image: Option<PathBuf>,

    /// The signed trust list (COSE bytes as served by GET /api/v1/trust-list, or their hex). 信任列表。
    #[arg(long, value_name = "FILE")]
    trust_list: PathBuf,

    /// The pinned root public key that signs the trust list (64 hex characters). 根公钥。
    #[arg(long, value_name = "HEX", env = "PERMIT_ROOT_KEY")]
    root_key: String,

    /// The signed status list (COSE bytes or hex). Without it revocation is not checked. 状态列表。
    #[arg(long, value_name = "FILE")]
    status_list: Option<PathBuf>,

    /// Verify as of this time: RFC 3339 (2025-06-01T08:00:00Z) or Unix seconds. Default: now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,

    /// Clock skew tolerance in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    clock_skew: u32,

    /// How old a holder device proof may be, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    holder_freshness: u32,

    /// The verification policy: `lenient` or `counter` (窗口核验：更严格). 核验策略。
    #[arg(long, value_enum, default_value_t = PolicyName::Lenient)]
    policy: PolicyName,

    /// Print the whole verification as JSON. 以 JSON 输出。
    #[arg(long)]
    json: bool,
}

/// A usage or input error, reported on one line in Chinese and English, exit status 2.
struct UsageError {
    zh: String,
    en: String,
}

fn usage(zh: impl Into<String>, en: impl Into<String>) -> UsageError {
    UsageError {
        zh: zh.into(),
        en: en.into(),
    }
}

/// The most read from standard input or a file (a photo or a list).
const MAX_INPUT: u64 = 64 << 20;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(result) => {
            if args.json {
                match serde_json::to_string_pretty(&result) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("错误：无法输出 JSON / error: cannot write JSON: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print_human(&result);
            }
            if result.verdict.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("错误：{} / error: {}", e.zh, e.en);
            ExitCode::from(2)
        }
    }
}

fn print_human(result: &Verification) {
    let v = &result.verdict;
    let mark = if v.is_valid() { "✓" } else { "✗" };
    let mut line = format!("{mark} {} / {}", v.message_zh(), v.message_en());
    if let Some(p) = &result.permit {
        line.push_str(&format!(
            " — {} {} {}",
            p.name, p.id_number, p.permit_number
        ));
    }
    println!("{line}");
    for w in &result.warnings {
        println!("! 警告：{} / warning: {}", w.message_zh(), w.message_en());
    }
}

fn run(args: &Args) -> Result<Verification, UsageError> {
    let root = parse_root_key(&args.root_key)?;
    let trust_bytes = read_list(&args.trust_list)?;
    let trust_list = TrustList::from_cose(&trust_bytes, &root).map_err(|e| {
        usage(
            format!("信任列表无效（{e}）"),
            format!("trust list rejected: {e}"),
        )
    })?;
    let status_list = match &args.status_list {
        None => None,
        Some(path) => {
            let bytes = read_list(path)?;
            Some(StatusList::from_cose(&bytes, &trust_list).map_err(|e| {
                usage(
                    format!("状态列表无效（{e}）"),
                    format!("status list rejected: {e}"),
                )
            })?)
        }
    };
    let at = match &args.at {
        Some(text) => parse_time(text)?,
        None => DateTime::<Utc>::from(std::time::SystemTime::now()),
    };
    let options = VerifyOptions {
        clock_skew: TimeDelta::seconds(i64::from(args.clock_skew)),
        holder_freshness: TimeDelta::seconds(i64::from(args.holder_freshness)),
        policy: match args.policy {
            PolicyName::Lenient => Policy::lenient(),
            PolicyName::Counter => Policy::counter(),
        },
        ..VerifyOptions::at(at)
    };
    let text = read_qr_text(args)?;
    Ok(verify(&text, &trust_list, status_list.as_ref(), &options))
}

fn parse_root_key(hex_key: &str) -> Result<VerifyingKey, UsageError> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut raw)
        .ok()
        .and_then(|()| VerifyingKey::from_bytes(&raw).ok())
        .ok_or_else(|| {
            usage(
                "根公钥必须是 64 位十六进制的 Ed25519 公钥",
                "--root-key must be a 64-hex-character Ed25519 public key",
            )
        })
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, UsageError> {
    if let Ok(seconds) = text.parse::<i64>()
        && let Some(t) = DateTime::<Utc>::from_timestamp(seconds, 0)
    {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            usage(
                format!("无法识别的时间 {text}"),
                format!("--at {text}: expected RFC 3339 or Unix seconds"),
            )
        })
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, UsageError> {
    let file = std::fs::File::open(path).map_err(|e| {
        usage(
            format!("无法读取文件 {}", path.display()),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT).read_to_end(&mut bytes).map_err(|e| {
        usage(
            "读取文件失败",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    Ok(bytes)
}

/// A list file holds the COSE bytes, or their hex (whitespace allowed).
fn read_list(path: &PathBuf) -> Result<Vec<u8>, UsageError> {
    let bytes = read_file(path)?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if !compact.is_empty()
            && compact.chars().all(|c| c.is_ascii_hexdigit())
            && let Ok(decoded) = hex::decode(&compact)
        {
            return Ok(decoded);
        }
    }
    Ok(bytes)
}

fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

fn read_qr_text(args: &Args) -> Result<String, UsageError> {
    if let Some(path) = &args.image {
        return decode_image(&read_file(path)?);
    }
    let bytes = match args.input.as_deref() {
        None | Some("-") => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(usage(
                    "请提供二维码文本、照片，或从标准输入传入",
                    "give the QR text, a photo, or pipe it on standard input",
                ));
            }
            let mut bytes = Vec::new();
            stdin
                .lock()
                .take(MAX_INPUT)
                .read_to_end(&mut bytes)
                .map_err(|e| usage("读取标准输入失败", format!("cannot read stdin: {e}")))?;
            bytes
        }
        Some(text) if text.starts_with("RP") => return Ok(text.to_owned()),
        Some(other) => {
            let path = PathBuf::from(other);
            if path.is_file() {
                read_file(&path)?
            } else {
                // Not a file: verify it as text (the verdict will say what is wrong).
                return Ok(other.to_owned());
            }
        }
    };
    if is_image(&bytes) {
        return decode_image(&bytes);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        usage(
            "输入既不是文本也不是 PNG/JPEG 图片",
            "input is neither text nor a PNG/JPEG image",
        )
    })?;
    // Scanners and shells add line ends; base45 has a space in its alphabet, so only strip
    // line-end characters.
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn decode_image(bytes: &[u8]) -> Result<String, UsageError> {
    let not_decoded = |why: String| usage("无法识别图片中的二维码", why);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| not_decoded(format!("cannot read the image: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| not_decoded(format!("cannot decode the image: {e}")))?
        .to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        img.get_pixel_checked(x as u32, y as u32)
            .map_or(255, |p| p.0[0])
    });
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .ok_or_else(|| not_decoded("no readable QR code in the image".into()))
}
