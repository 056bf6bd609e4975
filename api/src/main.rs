//! `permitd`: serve, or administer from the command line.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use permit_api::credentials::keys::KeyRing;
use permit_api::identity::model::Role;
use permit_api::identity::service::staff;
use permit_api::platform::config::{CONFIG_HELP, Config, LogFormat, Secret};
use permit_api::platform::{app, backup, check, storage};
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "permitd", version, about = "居住证服务平台 server: residence registration, permits, verification", after_help = CONFIG_HELP)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the PWA (the default).
    Serve,
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the configuration before going live: one line of ✓ or ✗ per item, with the fix;
    /// exit code 0 only when all pass. Creates and changes nothing.
    Check,
    /// Create the SQLite database or apply the migrations this version carries, then exit.
    Migrate,
    /// Write one archive (.tar.gz) of the SQLite database (a consistent copy, safe while
    /// permitd runs), the proof files and the keys directory. On PostgreSQL: files and keys,
    /// and the database with pg_dump.
    Backup {
        /// The archive to write; it must not exist.
        path: PathBuf,
    },
    /// Unpack an archive of `permitd backup` into the configured data directory, which must be
    /// empty (absent or with nothing in it).
    Restore {
        /// The archive to read.
        path: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create what is missing of the key set: the root key, a first issuer key, the
    /// personal-data and blind-index keys. Production runs it once, before the first start;
    /// existing keys are never replaced.
    Init,
    /// Add a new issuer key that every instance starts signing with at its activation time,
    /// at least one trust-list time to live ahead (the trust list publishes it at once); older
    /// keys stay in the trust list until their last credential expires.
    Rotate {
        /// When the key starts signing (RFC 3339, e.g. 2027-01-10T02:00:00+08:00); default and
        /// earliest: one trust-list time to live from now.
        #[arg(long)]
        activate_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Print the root public key verifiers pin, and the issuer keys.
    Show,
    /// Add a personal-data key (the first one, and the blind-index key, if there is none) and
    /// reseal every stored value under it, in batches, while the service runs.
    RotateData {
        /// Seconds to wait before resealing, so running instances have picked the new key up
        /// (they look every 30 s).
        #[arg(long, default_value_t = 35)]
        settle_seconds: u64,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account; the password is read from standard input (first line).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: StaffRole,
        /// Display name (defaults to the account name).
        #[arg(long)]
        name: Option<String>,
        /// A service point the clerk works for; repeat for several.
        #[arg(long = "service-point")]
        service_points: Vec<Uuid>,
    },
    /// Give a staff member a new one-time enrolment code (a lost or replaced phone): their
    /// passkeys are removed and their session ends; the next sign-in enrols a new passkey.
    Enrolment {
        #[arg(long)]
        username: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StaffRole {
    Clerk,
    Admin,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Prints what a backup or restore did, or why it stopped.
fn report(result: Result<Vec<String>, backup::BackupError>) -> ExitCode {
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("permitd: {e}");
            ExitCode::from(1)
        }
    }
}

/// The code goes to the person on paper or in person; it is shown once and never stored.
fn print_enrolment(code: &permit_api::identity::model::EnrolmentCode) {
    println!(
        "one-time enrolment code: {} (valid {} days: at the first sign-in, enter it to register a passkey)",
        code.grouped(),
        staff::ENROLMENT_VALID.num_days()
    );
}

async fn open_stores(
    config: &Config,
) -> Result<
    (
        std::sync::Arc<dyn storage::Storage>,
        std::sync::Arc<dyn permit_api::platform::ephemeral::Ephemeral>,
    ),
    String,
> {
    let storage = storage::open_configured(config)
        .await
        .map_err(|e| e.to_string())?;
    let keys =
        permit_api::platform::data_keys::DataKeys::for_config(config).map_err(|e| e.to_string())?;
    let ephemeral = permit_api::platform::ephemeral::open(
        config.redis_url.as_ref().map(Secret::expose),
        &config.redis_prefix,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((
        storage,
        permit_api::platform::ephemeral::pseudonymous(ephemeral, keys),
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("permitd: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match app::build_state(config).await {
            Ok(state) => match app::serve(state).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("permitd: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Staff {
            command:
                StaffCommand::Add {
                    username,
                    role,
                    name,
                    service_points,
                },
        } => {
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_err() {
                eprintln!("permitd: cannot read the password from standard input");
                return ExitCode::from(2);
            }
            let password = line.trim_end_matches(['\r', '\n']);
            let storage = match storage::open_configured(&config).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("permitd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let role = match role {
                StaffRole::Clerk => Role::Clerk,
                StaffRole::Admin => Role::Admin,
            };
            match staff::add(
                &*storage,
                &username,
                role,
                name.as_deref(),
                password,
                &service_points,
            )
            .await
            {
                Ok((account, code)) => {
                    println!(
                        "created {} account {} ({})",
                        role.as_str(),
                        account.username,
                        account.id
                    );
                    print_enrolment(&code);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Staff {
            command: StaffCommand::Enrolment { username },
        } => {
            let (storage, ephemeral) = match open_stores(&config).await {
                Ok(stores) => stores,
                Err(e) => {
                    eprintln!("permitd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match staff::reset_enrolment(&*storage, &*ephemeral, &username, chrono::Utc::now())
                .await
            {
                Ok(code) => {
                    println!("new enrolment code for {}", username.trim());
                    print_enrolment(&code);
                    if config.redis_url.is_none() {
                        println!(
                            "sessions live in the running server's memory: its session of this account ends when it is idle for {} minutes, or at the next restart",
                            config.staff_idle_secs / 60
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Check => {
            let lines = check::run_all(&config).await;
            for line in &lines {
                println!("{line}");
            }
            let failed = lines.iter().filter(|l| !l.ok).count();
            if failed == 0 {
                println!("all {} checks passed", lines.len());
                ExitCode::SUCCESS
            } else {
                println!("{failed} of {} checks failed", lines.len());
                ExitCode::from(1)
            }
        }
        Command::Migrate => match storage::open_configured(&config).await {
            Ok(storage) => {
                println!("database ({}) is up to date", storage.backend());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("permitd: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Backup { path } => report(backup::backup(&config, &path).await),
        Command::Restore { path } => report(backup::restore(&config, &path)),
        Command::Keys {
            command: KeysCommand::Rotate { activate_at },
        } => {
            let now = chrono::Utc::now();
            let result = async {
                let storage = storage::open_configured(&config)
                    .await
                    .map_err(|e| e.to_string())?;
                permit_api::credentials::keys::schedule_rotation(
                    &*storage,
                    &config.keys_dir(),
                    &config.issuer_name,
                    config.trust_list_ttl_secs,
                    activate_at.map(|t| t.with_timezone(&chrono::Utc)),
                    now,
                )
                .await
                .map_err(|e| e.to_string())
            }
            .await;
            match result {
                Ok((kid, at)) => {
                    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
                    println!(
                        "added issuer key {kid}; it is in the trust list now and signs from {} ({})",
                        at.to_rfc3339(),
                        at.with_timezone(&cst).format("%Y-%m-%d %H:%M:%S 北京时间")
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Keys {
            command: KeysCommand::RotateData { settle_seconds },
        } => {
            let kid = match permit_api::platform::data_keys::DataKeys::add_key(
                &config.keys_dir(),
                chrono::Utc::now(),
            ) {
                Ok(kid) => kid,
                Err(e) => {
                    eprintln!("permitd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            println!("added data key {kid}; resealing in {settle_seconds} s");
            tokio::time::sleep(std::time::Duration::from_secs(settle_seconds)).await;
            match storage::reseal(&config).await {
                Ok(done) => {
                    for (table, n) in &done.rows {
                        println!("{table}: {n} row(s) resealed");
                    }
                    println!(
                        "every value is sealed under {kid}; keep the older data-*.key files: the append-only audit log still uses them"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Keys { command } => {
            let dir = config.keys_dir();
            let now = chrono::Utc::now();
            let result = match &command {
                KeysCommand::Init => {
                    KeyRing::load_or_create(&dir, &config.issuer_name, now).map(|ring| {
                        println!(
                            "root public key: {}",
                            hex::encode(ring.root.verifying_key().as_bytes())
                        );
                    })
                }
                KeysCommand::Rotate { .. } | KeysCommand::RotateData { .. } => {
                    unreachable!("handled above")
                }
                KeysCommand::Show => KeyRing::load(&dir, &config.issuer_name).map(|ring| {
                    println!(
                        "root public key: {}",
                        hex::encode(ring.root.verifying_key().as_bytes())
                    );
                    for k in &ring.issuers {
                        println!(
                            "issuer key {} from {}",
                            hex::encode(k.issuer.kid()),
                            k.activates_at
                        );
                    }
                }),
            };
            // `init` makes the personal-data keys as well.
            let result = result.map_err(|e| e.to_string()).and_then(|()| {
                if matches!(command, KeysCommand::Init) {
                    let keys = permit_api::platform::data_keys::DataKeys::load(&dir, true)
                        .map_err(|e| e.to_string())?;
                    println!("personal-data key {}", keys.current_kid());
                }
                Ok(())
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("permitd: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
