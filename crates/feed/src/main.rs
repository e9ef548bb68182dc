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
}

fn open(data: &Path) -> Result<Directory> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let path = data.join("feed.db");
    Directory::open_publisher(&path).with_context(|| format!("opening {}", path.display()))
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
                signpost_feed::serve(listener, router(AppState::new(directory)), limits, shutdown)
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
        Command::Snapshot => match open(&cli.data)?.publish_snapshot()? {
            Some((seq, hash)) => println!("snapshot at changeset {seq}: {hash}"),
            None => println!("nothing published yet; no snapshot made"),
        },
        Command::Digest => println!("{}", open(&cli.data)?.digest()?),
    }
    Ok(())
}
