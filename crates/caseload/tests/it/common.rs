//! Shared setup: a caseload in a temporary folder, people with known details.
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::NaiveDate;
use signpost_caseload::{Caseload, PersonDetails};
use signpost_directory::{Directory, Region};

pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

pub fn new_caseload() -> (tempfile::TempDir, PathBuf, Caseload) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caseload.db");
    let c = Caseload::create(&path, PASSPHRASE).unwrap();
    (dir, path, c)
}

pub fn person(name: &str, area: &str) -> PersonDetails {
    PersonDetails {
        name: name.into(),
        home_area: area.into(),
        ..PersonDetails::default()
    }
}

/// The embedded default region, loaded once into a file shared by the tests (read-only use).
pub fn default_region() -> Directory {
    static PATH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = PATH.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("directory.db");
        let mut d = Directory::open(&path).unwrap();
        d.ensure_regions(&Region::bundled_defaults().unwrap())
            .unwrap();
        (dir, path)
    });
    Directory::open_read_only(path).unwrap()
}

/// Does `haystack` contain `needle` anywhere?
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
