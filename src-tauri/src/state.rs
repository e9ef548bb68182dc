//! What the app holds while it runs: the open databases and where files go.
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use anyhow::{Context, Result};
use signpost_directory::{Directory, Region};
use signpost_personal::Personal;

use crate::Options;

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The shared directory (listings), replaceable by sync.
    pub directory: PathBuf,
    /// The person's own data: saved list, reports, settings.
    pub personal: PathBuf,
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
}

impl AppState {
    /// Open both databases (the directory first: opening it creates the data folder); on first
    /// start, load the embedded default region (offline).
    pub fn open(paths: AppPaths) -> Result<AppState> {
        let mut directory = Directory::open(&paths.directory)
            .with_context(|| format!("opening {}", paths.directory.display()))?;
        directory
            .ensure_region(&Region::embedded_default()?)
            .context("loading the default region")?;
        let personal = Personal::open(&paths.personal)
            .with_context(|| format!("opening {}", paths.personal.display()))?;
        Ok(AppState {
            paths,
            directory: Mutex::new(directory),
            personal: Mutex::new(personal),
            syncing: AtomicBool::new(false),
        })
    }
}
