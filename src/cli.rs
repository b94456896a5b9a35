//! The command line: `tidings` (or `tidings serve`) runs the server; the other commands
//! look after its database — backups, VAPID keys, admins — and print what they did. Bad
//! input exits with 2, any other failure with 1, each with a message a person can act on.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::keys::import::KeyPair;
use crate::store::{Dialect, Store};

#[derive(Debug, Parser)]
#[command(name = "tidings", version, about = "Self-hosted web push campaigns.")]
#[command(long_about = "Self-hosted web push campaigns. Settings come from the environment or a .env file \
                        (DATABASE_URL, TIDINGS_PUBLIC_URL, …: see the README).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Tidings: the pages, the API and the sender (the default).
    Serve,
    /// Write a consistent copy of the SQLite database while Tidings runs.
    Backup {
        /// Where to write it (replaced if it exists).
        file: PathBuf,
    },
    /// Put a backup in place of the SQLite database (stop Tidings first).
    Restore {
        /// A file written by `tidings backup`.
        file: PathBuf,
    },
    /// The VAPID key pairs subscriptions are bound to.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the key pairs with their state and subscribers.
    List,
    /// Store a key pair from another tool: a PEM file or a file with the base64url key.
    Import {
        /// The private key file.
        file: PathBuf,
        /// A name for it.
        #[arg(long, default_value = "Imported key")]
        label: String,
        /// Make it the key new subscriptions use.
        #[arg(long)]
        current: bool,
    },
    /// Write every key pair as PEM (PKCS#8), for leaving Tidings or a cold copy.
    Export {
        /// The file to write; standard output if left out.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a new key pair and make it current (older keys keep signing for theirs).
    Rotate {
        #[arg(long, default_value = "Rotated key")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin; the password is read from TIDINGS_ADMIN_PASSWORD or standard input.
    Create { username: String },
    /// Set an admin's password; read from TIDINGS_ADMIN_PASSWORD or standard input.
    ResetPassword { username: String },
}

/// A failure of a command: its message, and whether it was the input's fault (exit 2).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub bad_input: bool,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self { message: message.into(), bad_input: true }
    }

    fn other(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), bad_input: false }
    }

    pub fn exit_code(&self) -> i32 {
        if self.bad_input {
            2
        } else {
            1
        }
    }
}

/// Runs every command but `serve`. Returns what to print.
pub async fn run(command: Command, config: &Config) -> Result<String, Failure> {
    match command {
        Command::Serve => unreachable!("serve is run by main"),
        Command::Backup { file } => backup(config, &file).await,
        Command::Restore { file } => restore(config, &file).await,
        Command::Keys { command } => keys(config, command).await,
        Command::Admin { command } => admin(config, command).await,
    }
}

async fn open(config: &Config) -> Result<Store, Failure> {
    Store::open(&config.database_url)
        .await
        .map_err(|e| Failure::other(format!("opening {}: {e}", config.database_shown())))
}

/// The SQLite file `DATABASE_URL` names; backups and restores are for SQLite only.
fn sqlite_file(config: &Config) -> Result<PathBuf, Failure> {
    if Dialect::of(&config.database_url) != Some(Dialect::Sqlite) {
        return Err(Failure::input(
            "backup and restore are for SQLite; back PostgreSQL up with pg_dump (see the README, Backups)",
        ));
    }
    let path = config.database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    Ok(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

async fn backup(config: &Config, file: &Path) -> Result<String, Failure> {
    sqlite_file(config)?;
    let store = open(config).await?;
    let started = std::time::Instant::now();
    let partial = file.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    store
        .backup_into(&partial.to_string_lossy())
        .await
        .map_err(|e| Failure::other(format!("writing {}: {e}", partial.display())))?;
    std::fs::rename(&partial, file)
        .map_err(|e| Failure::other(format!("moving the backup to {}: {e}", file.display())))?;
    store.record_backup().await.map_err(|e| Failure::other(format!("recording the backup: {e}")))?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "Backed up {} to {} ({:.1} MB, {:.1} s). Restore it with: tidings restore {}",
        config.database_url,
        file.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        file.display()
    ))
}

async fn restore(config: &Config, file: &Path) -> Result<String, Failure> {
    let target = sqlite_file(config)?;
    let summary = Store::describe_backup(file)
        .await
        .map_err(|e| Failure::input(format!("{} is not a Tidings backup: {e}", file.display())))?;
    if target.exists() {
        let store = open(config).await?;
        if let Some(age) = store.youngest_heartbeat_age_ms().await.map_err(Failure::other)? {
            if age < 60_000 {
                return Err(Failure::input(format!(
                    "Tidings is running on {} (a heartbeat {} s ago): stop it first",
                    target.display(),
                    age / 1000
                )));
            }
        }
        store.close().await;
    }
    let partial = target.with_extension("restoring");
    std::fs::copy(file, &partial).map_err(|e| Failure::other(format!("copying {}: {e}", file.display())))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    std::fs::rename(&partial, &target).map_err(|e| Failure::other(format!("replacing {}: {e}", target.display())))?;
    Ok(format!("Restored {} from {}: {summary}.", target.display(), file.display()))
}

async fn keys(config: &Config, command: KeysCommand) -> Result<String, Failure> {
    let store = open(config).await?;
    // A database that never served has no key yet: the first is made as on a first start.
    crate::keys::ring::KeyRing::open(&store, config.vapid_subject.clone()).await.map_err(Failure::other)?;
    match command {
        KeysCommand::List => {
            let keys = store.vapid_keys().await.map_err(Failure::other)?;
            Ok(keys
                .iter()
                .map(|k| {
                    format!(
                        "{:>3}  {:<8}  {:>9} subscribers  {}  {}",
                        k.id,
                        k.state.as_str(),
                        k.subscribers,
                        k.public_key,
                        k.label
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        KeysCommand::Import { file, label, current } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::input(format!("reading {}: {e}", file.display())))?;
            let pair = KeyPair::parse(&text).map_err(|why| Failure::input(format!("{}: {why}", file.display())))?;
            let label = crate::keys::api::ssr::label(&label).map_err(|e| Failure::input(e.to_string()))?;
            let id = match store
                .insert_vapid_key(&label, &pair.private_key, &pair.public_key)
                .await
                .map_err(Failure::other)?
            {
                Some(id) => id,
                None => store.key_id_by_private(&pair.private_key).await.map_err(Failure::other)?.unwrap_or_default(),
            };
            if current {
                store.make_key_current(id).await.map_err(Failure::other)?;
            }
            Ok(format!(
                "Key {id} ({label}) stored{}. Its public key: {}",
                if current { " and made current" } else { "" },
                pair.public_key
            ))
        }
        KeysCommand::Export { out } => {
            let mut pem = String::new();
            for row in store.all_key_rows().await.map_err(Failure::other)? {
                let pair = KeyPair::from_stored(&row.private_key).map_err(Failure::other)?;
                pem.push_str(&format!(
                    "# key {} ({}), {}, public key {}\n{}",
                    row.id,
                    row.label,
                    row.state,
                    pair.public_key,
                    pair.to_pem().map_err(Failure::other)?
                ));
            }
            match out {
                Some(path) => {
                    write_private(&path, &pem)
                        .map_err(|e| Failure::other(format!("writing {}: {e}", path.display())))?;
                    Ok(format!("Wrote the key pairs to {} (readable by you only).", path.display()))
                }
                None => Ok(pem.trim_end().to_owned()),
            }
        }
        KeysCommand::Rotate { label } => {
            let label = crate::keys::api::ssr::label(&label).map_err(|e| Failure::input(e.to_string()))?;
            let pair = KeyPair::generate();
            let id =
                store.insert_vapid_key(&label, &pair.private_key, &pair.public_key).await.map_err(Failure::other)?;
            let id = id.ok_or_else(|| Failure::other("a new key collided with a stored one"))?;
            store.make_key_current(id).await.map_err(Failure::other)?;
            Ok(format!(
                "Key {id} ({label}) is current: new subscriptions use it, and returning visitors move to it. \
                 Its public key: {}",
                pair.public_key
            ))
        }
    }
}

/// Private keys are written readable by their owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

async fn admin(config: &Config, command: AdminCommand) -> Result<String, Failure> {
    use crate::admin::auth::ssr::{check_password_strength, hash_password, parse_username};
    let store = open(config).await?;
    let (username, creating) = match &command {
        AdminCommand::Create { username } => (username, true),
        AdminCommand::ResetPassword { username } => (username, false),
    };
    let username = parse_username(username).map_err(|e| Failure::input(e.to_string()))?;
    let password = read_password()?;
    check_password_strength(&password).map_err(|e| Failure::input(e.to_string()))?;
    let hash = hash_password(password).await.map_err(Failure::other)?;
    if creating {
        // Whoever has the server's shell is an owner anyway.
        match store.create_admin(&username, &hash, "owner").await.map_err(Failure::other)? {
            Some(_) => Ok(format!("Admin {username} created; sign in at /admin.")),
            None => Err(Failure::input(format!("There is already an admin called {username}."))),
        }
    } else if store.set_admin_password(&username, &hash).await.map_err(Failure::other)? {
        Ok(format!("The password of {username} is changed."))
    } else {
        Err(Failure::input(format!("There is no admin called {username}.")))
    }
}

fn read_password() -> Result<String, Failure> {
    if let Ok(password) = std::env::var("TIDINGS_ADMIN_PASSWORD") {
        return Ok(password);
    }
    eprintln!("Password (10 or more characters), then Enter:");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Failure::other(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
