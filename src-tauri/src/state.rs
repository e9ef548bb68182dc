//! What the app holds while it runs: the open databases and where files go.
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signpost_caseload::Caseload;
use signpost_directory::{Directory, Region};
use signpost_personal::Personal;

/// The caseload locks itself after this long unused: ten minutes, as a screen lock would.
pub const DEFAULT_CASELOAD_IDLE: Duration = Duration::from_secs(600);

use crate::Options;

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The shared directory (listings), replaceable by sync.
    pub directory: PathBuf,
    /// The person's own data: saved list, reports, settings.
    pub personal: PathBuf,
    /// A connector's caseload (encrypted; only there once they make one).
    pub caseload: PathBuf,
    /// Where calendar files are written.
    pub downloads: PathBuf,
}

impl AppPaths {
    /// Paths from the options, or the platform's folders.
    pub fn resolve(options: &Options) -> Result<AppPaths> {
        let data = match &options.data_dir {
            Some(d) => d.clone(),
            None => directories::ProjectDirs::from("uk.org", "Signpost", "Signpost")
                .context("no home folder to keep the directory in; pass --data-dir")?
                .data_dir()
                .to_path_buf(),
        };
        let downloads = options
            .downloads
            .clone()
            .or_else(|| {
                directories::UserDirs::new().and_then(|u| u.download_dir().map(Path::to_path_buf))
            })
            .unwrap_or_else(|| data.clone());
        Ok(AppPaths::in_folder(&data, downloads))
    }

    /// Everything in one folder (tests).
    pub fn in_folder(data: &Path, downloads: PathBuf) -> AppPaths {
        AppPaths {
            directory: data.join("directory.db"),
            personal: data.join("personal.db"),
            caseload: data.join("caseload.db"),
            downloads,
        }
    }
}

/// The app's managed state.
pub struct AppState {
    /// Where files are.
    pub paths: AppPaths,
    /// The directory the UI reads. Replaced (reopened) after a sync so its index is fresh.
    pub directory: Mutex<Directory>,
    /// The person's own data.
    pub personal: Mutex<Personal>,
    /// Set while a sync runs, so a second tap does not start another.
    pub syncing: AtomicBool,
    /// The caseload while it is unlocked; `None` when locked (key and data dropped).
    pub caseload: Mutex<Option<Caseload>>,
    /// When the caseload was last used, for locking it after the idle time.
    pub caseload_used: Mutex<Instant>,
    /// Idle time after which the caseload locks itself.
    pub caseload_idle: Duration,
    /// Where a group's edit keys are kept (the OS keyring, or the personal file).
    pub keys: signpost_personal::KeyStore,
}

impl AppState {
    /// Open both databases (the directory first: opening it creates the data folder); on first
    /// start, load the bundled default regions (offline).
    pub fn open(paths: AppPaths) -> Result<AppState> {
        let mut directory = Directory::open(&paths.directory)
            .with_context(|| format!("opening {}", paths.directory.display()))?;
        directory
            .ensure_regions(&Region::bundled_defaults()?)
            .context("loading the default regions")?;
        let personal = Personal::open(&paths.personal)
            .with_context(|| format!("opening {}", paths.personal.display()))?;
        Ok(AppState {
            paths,
            directory: Mutex::new(directory),
            personal: Mutex::new(personal),
            syncing: AtomicBool::new(false),
            caseload: Mutex::new(None),
            caseload_used: Mutex::new(Instant::now()),
            caseload_idle: DEFAULT_CASELOAD_IDLE,
            // The personal file until `run` chooses from the options (tests keep this).
            keys: signpost_personal::KeyStore::Database,
        })
    }
}
