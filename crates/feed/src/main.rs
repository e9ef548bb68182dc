//! `signpost-feed`: run the regional feed server, or manage its directory.
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use signpost_directory::Directory;
use signpost_feed::pull::{import_oruk, PullError, PullOptions};
use signpost_feed::{router, AppState, Limits};
use signpost_moderation::Moderation;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Signpost regional feed server.
#[derive(Parser)]
#[command(name = "signpost-feed", version, about)]
struct Cli {
    /// The folder holding the feed's directory (created if missing).
    #[arg(long, global = true, default_value = "signpost-feed-data")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ORUK API.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Open connections at most (lowered to fit the file-descriptor limit); more are
        /// closed at once.
        #[arg(long, default_value_t = Limits::default().max_connections)]
        max_connections: usize,
        /// Seconds a connection may take to send a request's headers; a keep-alive connection
        /// idle this long is closed.
        #[arg(long, default_value_t = Limits::default().header_timeout.as_secs())]
        header_timeout: u64,
        /// Mark the moderators' session cookies Secure: use this when the feed is reached over
        /// HTTPS (perhaps through a proxy), so browsers never send them over plain HTTP.
        #[arg(long)]
        secure_cookies: bool,
        /// Also publish the sync layout to this target (as `publish --to`) at start and after
        /// every change (an import, a pull, an approval), checked every few seconds.
        #[arg(long, value_name = "TARGET")]
        publish_to: Option<String>,
    },
    /// Copy the sync layout (head, changesets, log pages, snapshot) to an object store or a
    /// folder, so devices can sync from a CDN or any static web server. Files already there are
    /// skipped, and the head goes last: run again after a failure to resume.
    Publish {
        /// A folder, a file:// URL, or s3://bucket/prefix (also gs://, az://), configured by the
        /// usual environment variables (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
        /// AWS_SECRET_ACCESS_KEY, ...).
        #[arg(long, value_name = "TARGET")]
        to: String,
        /// Also read back every file already there and put again any that differs from the
        /// feed's (a copy damaged on the host, which clients refuse).
        #[arg(long)]
        verify: bool,
    },
    /// Import listing files into the published directory (the formats `signpost import` takes).
    Import {
        /// Files or package folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Pull a council's ORUK 1.0 or 3.0 feed into the published directory; listings it no
    /// longer has are deleted. A pull that is cut short, inconsistent or over a limit changes
    /// nothing.
    ImportOruk {
        /// The feed's base URL (the one that serves /services).
        url: String,
        /// The most listings this pull may delete. Without it, a pull that would delete more
        /// than 10% of the listings from this feed stops and changes nothing.
        #[arg(long, value_name = "N")]
        allow_deletions: Option<usize>,
        /// Give up, changing nothing, if the whole pull takes longer than this.
        #[arg(long, value_name = "SECONDS", default_value_t = PullOptions::default().deadline.as_secs())]
        deadline_secs: u64,
        /// Give up, changing nothing, after reading this many MiB of responses in all.
        #[arg(long, value_name = "MIB", default_value_t = PullOptions::default().max_bytes >> 20)]
        max_total_mib: u64,
        /// Give up, changing nothing, on a response larger than this many MiB.
        #[arg(long, value_name = "MIB", default_value_t = PullOptions::default().max_response_bytes >> 20)]
        max_response_mib: u64,
        /// Give up, changing nothing, on a record larger than this many KiB of JSON.
        #[arg(long, value_name = "KIB", default_value_t = PullOptions::default().max_record_bytes >> 10)]
        max_record_kib: usize,
    },
    /// Delete listings by id (published as tombstones).
    Delete {
        /// Listing ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Publish a snapshot of the whole directory, so new clients start there.
    Snapshot,
    /// Print the hex digest of the published directory.
    Digest,
    /// List what groups sent that waits for a moderator: id, kind, name, submitted.
    Queue {
        /// Print JSON (with each item's body).
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV (id, kind, name, service_id, submitted_at), as the web queue's download;
        /// a cell a spreadsheet would run as a formula starts with '.
        #[arg(long)]
        csv: bool,
    },
    /// Approve an item: a listing is published (one changeset), a closure publishes the
    /// listing as inactive; the decision and every changed field are audited.
    Approve {
        /// The item's id (from `queue`).
        id: String,
        /// Who decides, for the audit trail.
        #[arg(long = "as", value_name = "NAME", default_value = "operator")]
        who: String,
    },
    /// Send freshness reminders due today: to each listing not checked by its publisher for 10,
    /// 11 or 12 months, once per step. Run it daily (cron or a systemd timer).
    Remind {
        /// The mail server, `smtp://host:port` (plain, for a local relay) or
        /// `smtps://user:pass@host` (TLS). Without it, each reminder is written as an .eml file
        /// to DATA/outbox/ for someone to send.
        #[arg(long, env = "SIGNPOST_SMTP_URL")]
        smtp: Option<String>,
        /// The sender address.
        #[arg(
            long,
            env = "SIGNPOST_MAIL_FROM",
            default_value = "Signpost directory <directory@localhost>"
        )]
        from: String,
        /// The day to count from (YYYY-MM-DD); today by default.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// The feed's public address (`https://feed.example.org`): each reminder then links to
        /// its listing's page of the web form (`/group/{id}`), where the group can confirm it is
        /// still running or update it.
        #[arg(long, env = "SIGNPOST_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Listings not checked for over 12 months, as CSV, for moderators to follow up.
    Stale {
        /// The day to count from (YYYY-MM-DD); today by default.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Reject an item, with the reason the group will see.
    Reject {
        /// The item's id (from `queue`).
        id: String,
        /// Why, for the group to read.
        #[arg(long)]
        reason: String,
        /// Who decides, for the audit trail.
        #[arg(long = "as", value_name = "NAME", default_value = "operator")]
        who: String,
    },
    /// Make an admin account for the web queue (`/moderate`); admins add moderators there.
    /// The password comes from SIGNPOST_ADMIN_PASSWORD, or is asked for twice.
    AddAdmin {
        /// The name to sign in with; it names the admin in the audit trail.
        name: String,
    },
}

/// The new admin's password: from the environment (for scripts), else asked for twice without
/// echo. Too short a password is refused before anything is written.
fn admin_password() -> Result<String> {
    let password = match std::env::var("SIGNPOST_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let p = rpassword::prompt_password("Password for the new admin: ")?;
            if rpassword::prompt_password("Same password again: ")? != p {
                bail!("the two passwords differ; nothing was changed");
            }
            p
        }
    };
    signpost_moderation::check_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(password)
}

fn moderation(data: &Path) -> Result<Moderation> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let path = data.join("moderation.db");
    Moderation::open(&path).with_context(|| format!("opening {}", path.display()))
}

fn open(data: &Path) -> Result<Directory> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let path = data.join("feed.db");
    Directory::open_publisher(&path).with_context(|| format!("opening {}", path.display()))
}

/// `serve --publish-to`: publish at start, then whenever the data changed (whoever changed it:
/// this server's approvals, or `import` in another process), looking every few seconds. A
/// failure is logged and tried again at the next look; the last good head stays published.
fn publish_on_change(path: &Path, target: &signpost_feed::publish::Target) {
    // One connection throughout: a data version compares only with the same connection's.
    let mut held: Option<(Directory, Option<signpost_directory::DataVersion>)> = None;
    loop {
        let result = (|| -> std::result::Result<(), signpost_feed::publish::PublishError> {
            if held.is_none() {
                held = Some((Directory::open_read_only(path)?, None));
            }
            let (directory, published) = held.as_mut().expect("opened above");
            let version = directory.data_version()?;
            if published.as_ref() != Some(&version) {
                let done =
                    signpost_feed::publish::publish(directory, target, false, &mut |_, _| {})?;
                tracing::info!(seq = done.seq, put = done.put, "published");
                *published = Some(version);
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "publishing failed; trying again");
            held = None;
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// After a change: publish a snapshot when one is due, and say so.
fn snapshot_if_due(directory: &mut Directory) -> Result<()> {
    if let Some((seq, hash)) = signpost_feed::snapshot_if_due(directory)? {
        println!("snapshot at changeset {seq}: {hash}");
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            max_connections,
            header_timeout,
            secure_cookies,
            publish_to,
        } => {
            tracing_subscriber::fmt()
                .json()
                .with_writer(std::io::stderr)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .init();
            let directory = open(&cli.data)?;
            let store = moderation(&cli.data)?;
            if let Some(target) = publish_to {
                let target = signpost_feed::publish::Target::parse(&target)?;
                let path = cli.data.join("feed.db");
                std::thread::Builder::new()
                    .name("publish".into())
                    .spawn(move || publish_on_change(&path, &target))?;
            }
            let limits = Limits {
                max_connections,
                header_timeout: Duration::from_secs(header_timeout),
            }
            .within_descriptors();
            tracing::info!(max_connections = limits.max_connections, "serving");
            let runtime = signpost_feed::runtime()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listening on {listen}"))?;
                let addr = listener.local_addr()?;
                println!("listening on http://{addr}");
                std::io::stdout().flush()?;
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                signpost_feed::serve(
                    listener,
                    router(
                        AppState::new(directory)
                            .with_moderation(store)
                            .with_secure_cookies(secure_cookies),
                    ),
                    limits,
                    shutdown,
                )
                .await?;
                Ok::<(), anyhow::Error>(())
            })?;
        }
        Command::Import { paths } => {
            let mut directory = open(&cli.data)?;
            let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
            let report = directory.import_paths(&paths, &mut |_| {})?;
            snapshot_if_due(&mut directory)?;
            println!("{report}");
            for e in &report.errors {
                println!("skipped: {e}");
            }
        }
        Command::ImportOruk {
            url,
            allow_deletions,
            deadline_secs,
            max_total_mib,
            max_response_mib,
            max_record_kib,
        } => {
            let options = PullOptions {
                deadline: Duration::from_secs(deadline_secs),
                max_bytes: max_total_mib.saturating_mul(1 << 20),
                max_response_bytes: max_response_mib.saturating_mul(1 << 20),
                max_record_bytes: max_record_kib.saturating_mul(1 << 10),
                allow_deletions,
                ..PullOptions::default()
            };
            let mut directory = open(&cli.data)?;
            let report = match import_oruk(&mut directory, &url, &options) {
                Err(e @ PullError::TooManyDeletions { would_delete, .. }) => {
                    bail!("{e}. To go ahead, pass --allow-deletions {would_delete}")
                }
                other => other?,
            };
            snapshot_if_due(&mut directory)?;
            println!("{} pages read; {}", report.pages, report.import);
            for e in &report.import.errors {
                println!("skipped: {e}");
            }
            for id in &report.deleted {
                println!("deleted {id} (no longer in the feed)");
            }
        }
        Command::Delete { ids } => {
            let mut directory = open(&cli.data)?;
            // One changeset for the lot, so clients' heads move by one, not one per id.
            let deleted = directory.delete_all(&ids)?;
            let missing = ids.len() - deleted;
            println!(
                "deleted {deleted} of {} listing{} in one changeset{}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                if missing > 0 {
                    format!("; {missing} not found")
                } else {
                    String::new()
                }
            );
            snapshot_if_due(&mut directory)?;
        }
        Command::Publish { to, verify } => {
            let directory = open(&cli.data)?;
            let target = signpost_feed::publish::Target::parse(&to)?;
            let mut last = std::time::Instant::now();
            let done = signpost_feed::publish::publish(
                &directory,
                &target,
                verify,
                &mut |done, total| {
                    if done == total || last.elapsed() >= Duration::from_secs(1) {
                        last = std::time::Instant::now();
                        eprintln!("publishing: {done} of {total} files");
                    }
                },
            )?;
            println!(
                "published changeset {} to {to}: {} files put ({} KB), {} already there",
                done.seq,
                done.put,
                done.bytes.div_ceil(1024),
                done.skipped
            );
            if verify {
                println!("{} damaged files put again", done.repaired);
            }
        }
        Command::Snapshot => match open(&cli.data)?.publish_snapshot()? {
            Some((seq, hash)) => println!("snapshot at changeset {seq}: {hash}"),
            None => println!("nothing published yet; no snapshot made"),
        },
        Command::Digest => println!("{}", open(&cli.data)?.digest()?),
        Command::Queue { json, csv } => {
            let items = moderation(&cli.data)?.pending()?;
            if csv {
                std::io::stdout().write_all(&signpost_feed::export::queue_csv(&items))?;
            } else if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                for i in &items {
                    // Names are what a group typed: printed with control characters removed.
                    let name: String = i.name.chars().filter(|c| !c.is_control()).collect();
                    println!("{}\t{}\t{}\t{}", i.id, i.kind_words(), name, i.submitted_at);
                }
                println!("{} waiting", items.len());
            }
        }
        Command::Approve { id, who } => {
            let mut directory = open(&cli.data)?;
            let rows =
                moderation(&cli.data)?.approve(&id, &who, &mut directory, chrono::Utc::now())?;
            snapshot_if_due(&mut directory)?;
            let changed: Vec<&str> = rows
                .iter()
                .filter(|r| r.action == "update")
                .map(|r| r.field.as_str())
                .collect();
            println!(
                "approved {id}{}",
                if changed.is_empty() {
                    String::new()
                } else {
                    format!("; published, changing {}", changed.join(", "))
                }
            );
        }
        Command::Remind {
            smtp,
            from,
            today,
            public_url,
        } => {
            let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
            let directory = open(&cli.data)?;
            let store = moderation(&cli.data)?;
            let due = store.reminders_due(&directory, today)?;
            let from: lettre::message::Mailbox = from
                .parse()
                .with_context(|| format!("--from {from:?} is not an address"))?;
            let smtp = smtp
                .map(|url| {
                    lettre::SmtpTransport::from_url(&url)
                        .map(|b| b.build())
                        .with_context(|| {
                            "--smtp must look like smtp://host:port or smtps://user:pass@host"
                        })
                })
                .transpose()?;
            let outbox = cli.data.join("outbox");
            let (mut sent, mut failed) = (0, 0);
            for d in &due {
                let (subject, body) =
                    signpost_moderation::reminders::letter(d, public_url.as_deref());
                let to: lettre::message::Mailbox = match d.email.parse() {
                    Ok(to) => to,
                    Err(_) => {
                        eprintln!(
                            "{}: its email address cannot be written to; skipped",
                            d.service_id
                        );
                        failed += 1;
                        continue;
                    }
                };
                let message = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body)
                    .context("building a reminder")?;
                use lettre::Transport;
                let how = match &smtp {
                    Some(mailer) => match mailer.send(&message) {
                        Ok(_) => "smtp",
                        Err(e) => {
                            // The address is the group's, not a person's: fine to name the listing.
                            eprintln!("{}: the mail server refused it: {e}", d.service_id);
                            failed += 1;
                            continue;
                        }
                    },
                    None => {
                        std::fs::create_dir_all(&outbox)
                            .with_context(|| format!("creating {}", outbox.display()))?;
                        lettre::FileTransport::new(&outbox)
                            .send(&message)
                            .with_context(|| format!("writing to {}", outbox.display()))?;
                        "outbox"
                    }
                };
                store.reminder_sent(d, how, chrono::Utc::now())?;
                sent += 1;
            }
            println!(
                "{sent} reminder{} {}{}",
                if sent == 1 { "" } else { "s" },
                if smtp.is_some() {
                    "sent".to_string()
                } else {
                    format!("written to {}", outbox.display())
                },
                if failed > 0 {
                    format!("; {failed} could not be sent (above), and will be tried again")
                } else {
                    String::new()
                }
            );
            if failed > 0 && sent == 0 {
                bail!("no reminder could be sent");
            }
        }
        Command::Stale { today } => {
            let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
            let directory = open(&cli.data)?;
            let stale = moderation(&cli.data)?.stale(&directory, today)?;
            std::io::stdout().write_all(&signpost_feed::export::stale_csv(&stale))?;
        }
        Command::AddAdmin { name } => {
            let password = admin_password()?;
            moderation(&cli.data)?.add_account(
                &name,
                &password,
                signpost_moderation::Role::Admin,
                chrono::Utc::now(),
            )?;
            println!("added an admin account; sign in at /moderate");
        }
        Command::Reject { id, reason, who } => {
            moderation(&cli.data)?.reject(&id, &reason, &who, chrono::Utc::now())?;
            println!("rejected {id}");
        }
    }
    Ok(())
}
