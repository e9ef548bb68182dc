//! Integration tests of the directory crate, against real SQLite files.
mod assets_schema;
mod bulk;
mod catalogue;
mod feeds;
mod import;
mod log_pages;
mod migrations;
mod nearest;
mod reference;
mod regions;
mod schedules;
mod search;
mod sync;

use std::path::PathBuf;

use signpost_directory::Directory;

/// A file in the repository's `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

/// A path in the repository.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A fresh directory in a real file in a temporary folder.
pub fn temp_directory() -> (tempfile::TempDir, Directory) {
    let dir = tempfile::tempdir().unwrap();
    let db = Directory::open(&dir.path().join("directory.db")).unwrap();
    (dir, db)
}

/// Ignore progress.
pub fn quiet(_: signpost_directory::Progress) {}
