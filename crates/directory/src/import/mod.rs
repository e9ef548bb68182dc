//! Turning files into validated listings.
//!
//! Reading is separate from writing: everything here is pure (file in, [`Prepared`] listings
//! and [`RecordError`]s out), so a bad file can never touch the database. The store then writes
//! the prepared listings in transactions.
//!
//! Accepted inputs, detected by content rather than by name:
//! - HSDS 3.0 / ORUK 3.0 JSON: one service, a paged list (`contents`), a plain array of
//!   services, or an organization with its `services`;
//! - ORUK 1.0 list responses (`content` / `totalElements`), mapped field by field;
//! - the HSDS tabular data package (a folder with `datapackage.json` or `services.csv`);
//! - any of these gzip-compressed (`.gz`).
//!
//! What real exports commonly hold (an empty status, 12-hour times) is normalised and unsafe
//! values (links that are not web, mail or phone links; bidirectional control characters) are
//! removed, each with a warning naming record and field (`repair.rs`).
mod hsds;
mod oruk1;
mod repair;
mod tabular;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::coords::{self, CoordStatus};
use crate::error::{Error, RecordError, Result};
use crate::model::Service;
use crate::taxonomy::Facets;
use crate::validate;

pub use hsds::records_from_json;
pub use repair::web_link;

/// One record as read from a file: its JSON text, or a value already built.
///
/// A file's records stay text until the validating thread parses each one. The file is still
/// checked as JSON when it is read, so a broken file changes nothing, but it is never held as
/// one tree of values: that took ten times the file's size in memory, and a single thread's
/// time before any listing could be written.
#[derive(Debug)]
pub enum RawRecord {
    /// The record's JSON text, known to be well-formed.
    Text(Box<RawValue>),
    /// A record built in memory (CSV packages, mapped envelopes, generated data).
    Parsed(Value),
}

impl From<Value> for RawRecord {
    fn from(value: Value) -> Self {
        RawRecord::Parsed(value)
    }
}

impl RawRecord {
    /// The record as a value.
    pub fn into_value(self) -> std::result::Result<Value, serde_json::Error> {
        match self {
            RawRecord::Text(text) => serde_json::from_str(text.get()),
            RawRecord::Parsed(value) => Ok(value),
        }
    }
}

/// A listing that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The typed record.
    pub service: Service,
    /// Canonical JSON (sorted keys) of the normalised record.
    pub record: String,
    /// SHA-256 of `record`.
    pub hash: [u8; 32],
    /// What the filters need.
    pub facets: Facets,
    /// One per `service.service_at_locations`, in order.
    pub coord_status: Vec<CoordStatus>,
}

/// The outcome of preparing a batch: good listings, and problems by record and field.
#[derive(Debug, Default)]
pub struct PreparedBatch {
    /// Listings to store.
    pub listings: Vec<Prepared>,
    /// Records skipped, with why.
    pub errors: Vec<RecordError>,
    /// Records stored with a caveat (e.g. a location left out of the index).
    pub warnings: Vec<RecordError>,
    /// Records skipped (a record with three bad fields is one record, three errors).
    pub skipped: usize,
}

/// The ids already read from one file, so that an id given twice is reported.
#[derive(Debug, Default)]
pub struct SeenIds(HashMap<Box<str>, usize>);

impl SeenIds {
    /// Note the listing [`prepare_record`] just added to `batch` (if it added one) as the
    /// record at `position` of `source`, with a warning if its id came before in that file.
    pub fn note(
        &mut self,
        source: &str,
        position: usize,
        listed_before: usize,
        batch: &mut PreparedBatch,
    ) {
        if batch.listings.len() == listed_before {
            return;
        }
        let Some(listing) = batch.listings.last() else {
            return;
        };
        let id = listing.service.id.as_str();
        if let Some(first) = self.0.get(id) {
            batch.warnings.push(RecordError {
                source: source.to_string(),
                record: id.to_string(),
                field: "/id".into(),
                message: format!(
                    "the id is given twice in this file (records #{} and #{}); the later one is kept",
                    first + 1,
                    position + 1
                ),
            });
        } else {
            self.0.insert(id.into(), position);
        }
    }
}

/// Parse (if still text), normalise, validate and type one record.
pub fn prepare_record(source: &str, position: usize, record: RawRecord, batch: &mut PreparedBatch) {
    match record.into_value() {
        Ok(value) => prepare(source, position, value, batch),
        // Unreachable for text checked when read; kept as a record error, never a panic.
        Err(e) => {
            batch.skipped += 1;
            batch.errors.push(RecordError {
                source: source.to_string(),
                record: format!("#{}", position + 1),
                field: String::new(),
                message: format!("is not valid JSON: {e}"),
            })
        }
    }
}

/// Normalise, validate and type one record. `position` is used when it has no id.
pub fn prepare(source: &str, position: usize, value: Value, batch: &mut PreparedBatch) {
    let listed = batch.listings.len();
    prepare_one(source, position, value, batch);
    if batch.listings.len() == listed {
        batch.skipped += 1;
    }
}

fn prepare_one(source: &str, position: usize, mut value: Value, batch: &mut PreparedBatch) {
    let record_name = value
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{}", position + 1));
    let error = |field: &str, message: String| RecordError {
        source: source.to_string(),
        record: record_name.clone(),
        field: field.to_string(),
        message,
    };
    if !value.is_object() {
        batch.errors.push(error(
            "",
            "is not a JSON object (expected an HSDS service)".into(),
        ));
        return;
    }
    if oruk1::looks_like_v1(&value) {
        value = oruk1::to_hsds3(value);
    }
    hsds::normalise(&mut value);
    // Said only of a record that is kept: a skipped one's reasons are what matter.
    let mut repairs = Vec::new();
    repair::repair(&mut value, &mut |field, message| {
        repairs.push(error(&field, message))
    });
    let problems = validate::listing_errors(&value);
    if !problems.is_empty() {
        for (field, message) in problems {
            batch.errors.push(error(&field, message));
        }
        return;
    }
    let service: Service = match Service::deserialize_from(&value) {
        Ok(s) => s,
        Err(e) => {
            batch.errors.push(error("", e.to_string()));
            return;
        }
    };
    let coord_status: Vec<CoordStatus> = service
        .service_at_locations
        .iter()
        .map(|sal| coords::location_status(&sal.location))
        .collect();
    for (i, status) in coord_status.iter().enumerate() {
        let virtual_location = service.service_at_locations[i]
            .location
            .location_type
            .as_deref()
            == Some("virtual");
        if *status != CoordStatus::Ok && !(virtual_location && *status == CoordStatus::Missing) {
            batch.warnings.push(error(
                &format!("/service_at_locations/{i}/location/latitude"),
                status.explain().to_string(),
            ));
        }
    }
    batch.warnings.append(&mut repairs);
    // Straight into a byte buffer: `Value`'s `Display` goes through the formatting machinery,
    // which was a fifth of validation time (measured).
    let record = serde_json::to_string(&value).expect("a JSON value always serialises");
    let hash: [u8; 32] = Sha256::digest(record.as_bytes()).into();
    let facets = Facets::of(&service);
    batch.listings.push(Prepared {
        service,
        record,
        hash,
        facets,
        coord_status,
    });
}

impl Service {
    fn deserialize_from(value: &Value) -> std::result::Result<Service, serde_json::Error> {
        serde::Deserialize::deserialize(value)
    }
}

/// The most a file may hold, in bytes, once decompressed, unless the caller says otherwise.
///
/// A file is held in memory twice while its records are split out (its text, and each
/// record's text), and a record once more while it is validated, so 256 MB keeps an import's
/// peak well under 1 GB. That is about 450,000 listings of the usual size.
pub const MAX_FILE_BYTES: u64 = 256_000_000;

/// Read every record from a file or folder, unvalidated, in HSDS 3 shape (ORUK 1.0 still in v1
/// shape; [`prepare`] maps it). A file that is not JSON, CSV or a tabular package, or JSON that
/// is not well-formed, is one clear error; so is a file larger than [`MAX_FILE_BYTES`].
pub fn read_path(path: &Path) -> Result<Vec<RawRecord>> {
    read_path_limited(path, MAX_FILE_BYTES)
}

/// [`read_path`] with a limit of `max_bytes` for each file, decompressed.
pub fn read_path_limited(path: &Path, max_bytes: u64) -> Result<Vec<RawRecord>> {
    if path.is_dir() {
        return parsed(tabular::read_package(path, max_bytes));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name == "datapackage.json" {
        return parsed(tabular::read_package(
            path.parent().unwrap_or(Path::new(".")),
            max_bytes,
        ));
    }
    let bytes = read_limited(path, max_bytes)?;
    read_maybe_gzip(path, &bytes, max_bytes)
}

/// A file's bytes as listings, gunzipped first when they are gzip (within `max_bytes`).
fn read_maybe_gzip(path: &Path, bytes: &[u8], max_bytes: u64) -> Result<Vec<RawRecord>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let text = gunzip_limited(path, bytes, max_bytes)?;
        return read_text(path, &text, max_bytes);
    }
    read_text(path, bytes, max_bytes)
}

/// `n` bytes in whole megabytes, for messages.
fn megabytes(n: u64) -> String {
    format!("{} MB", n.div_ceil(1_000_000))
}

/// A file's bytes, refused before reading if it is larger than `max_bytes`.
pub(crate) fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || Error::UnsupportedFile {
        path: path.to_path_buf(),
        message: format!(
            "is larger than {}; the limit is {}",
            megabytes(max_bytes),
            megabytes(max_bytes)
        ),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // The file may grow after its size was read; never read more than the limit.
    if !read_at_most(file, max_bytes, &mut bytes).map_err(io)? {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Read `reader` to its end into `into`, but never more than one byte past `limit`: returns
/// whether it ended within `limit`. Everything untrusted (files, gzip streams, a feed's
/// responses) is read through this, so no input can take more memory than its limit.
pub fn read_at_most(reader: impl Read, limit: u64, into: &mut Vec<u8>) -> std::io::Result<bool> {
    reader.take(limit.saturating_add(1)).read_to_end(into)?;
    Ok(into.len() as u64 <= limit)
}

/// Decompress gzip (every member, as `gzip -d` does), stopping as soon as the text passes
/// `max_bytes`: a small file can inflate a thousandfold.
fn gunzip_limited(path: &Path, compressed: &[u8], max_bytes: u64) -> Result<Vec<u8>> {
    // Room for the most that may be read (deflate inflates at most 1,032 times), taken at once:
    // the pages are only address space until written, and the buffer never grows by copying,
    // which would hold the text twice. If the system will not lend that much, it grows instead.
    let most = (compressed.len() as u64)
        .saturating_mul(1_032)
        .saturating_add(64)
        .min(max_bytes + 1);
    let mut out = Vec::new();
    let _ = out.try_reserve_exact(usize::try_from(most).unwrap_or(usize::MAX));
    let within = read_at_most(
        flate2::read::MultiGzDecoder::new(compressed),
        max_bytes,
        &mut out,
    )
    .map_err(|e| Error::UnsupportedFile {
        path: path.to_path_buf(),
        message: format!("looks gzip-compressed but could not be decompressed: {e}"),
    })?;
    if !within {
        return Err(Error::UnsupportedFile {
            path: path.to_path_buf(),
            message: format!(
                "inflates to more than {}; the limit is {}",
                megabytes(max_bytes),
                megabytes(max_bytes)
            ),
        });
    }
    Ok(out)
}

fn parsed(values: Result<Vec<Value>>) -> Result<Vec<RawRecord>> {
    Ok(values?.into_iter().map(RawRecord::Parsed).collect())
}

/// Like [`read_path`] for a file's bytes already in memory (the bundled regions, a file picked
/// in the app): the same limit, gzip read the same way.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<RawRecord>> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::UnsupportedFile {
            path: path.to_path_buf(),
            message: format!(
                "is larger than {}; the limit is {}",
                megabytes(MAX_FILE_BYTES),
                megabytes(MAX_FILE_BYTES)
            ),
        });
    }
    read_maybe_gzip(path, bytes, MAX_FILE_BYTES)
}

/// [`read_bytes`], with `max_bytes` for each file of a CSV package it is part of.
fn read_text(path: &Path, bytes: &[u8], max_bytes: u64) -> Result<Vec<RawRecord>> {
    let first = bytes
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    match first {
        Some(b'{') | Some(b'[') => {
            hsds::records_from_text(bytes).map_err(|message| Error::UnsupportedFile {
                path: path.to_path_buf(),
                message,
            })
        }
        _ if path.extension().is_some_and(|e| e == "csv") => {
            let dir = path.parent().unwrap_or(Path::new("."));
            if dir.join("services.csv").is_file() {
                parsed(tabular::read_package(dir, max_bytes))
            } else {
                Err(Error::UnsupportedFile {
                    path: path.to_path_buf(),
                    message: "is a CSV file, but not part of an HSDS tabular data package (expected services.csv or datapackage.json beside it)".into(),
                })
            }
        }
        _ => Err(Error::UnsupportedFile {
            path: path.to_path_buf(),
            message: "is neither JSON nor an HSDS CSV data package; nothing was imported".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_record_names_id_and_field() {
        let mut batch = PreparedBatch::default();
        prepare(
            "f.json",
            0,
            json!({"id": "s1", "name": "", "status": "active"}),
            &mut batch,
        );
        prepare(
            "f.json",
            1,
            json!({"name": "No id", "status": "active"}),
            &mut batch,
        );
        prepare(
            "f.json",
            2,
            json!({"id": "s3", "name": "x", "status": "open"}),
            &mut batch,
        );
        prepare("f.json", 3, json!(42), &mut batch);
        assert!(batch.listings.is_empty());
        let by_record: Vec<_> = batch
            .errors
            .iter()
            .map(|e| (e.record.as_str(), e.field.as_str()))
            .collect();
        assert!(by_record.contains(&("s1", "/name")), "{by_record:?}");
        assert!(by_record.contains(&("#2", "/id")), "{by_record:?}");
        assert!(by_record.contains(&("s3", "/status")), "{by_record:?}");
        assert!(by_record.contains(&("#4", "")), "{by_record:?}");
    }

    #[test]
    fn flags_bad_coordinates_but_keeps_listing() {
        let mut batch = PreparedBatch::default();
        let v = json!({"id": "s", "name": "n", "status": "active", "service_at_locations": [
            {"location": {"id": "l1", "latitude": 0, "longitude": 0}},
            {"location": {"id": "l2", "latitude": -2.6, "longitude": 51.44,
                          "addresses": [{"postal_code": "BS3 4AB"}]}},
            {"location": {"id": "l3", "latitude": 25.77, "longitude": -80.19}}
        ]});
        prepare("f.json", 0, v, &mut batch);
        assert_eq!(batch.listings.len(), 1, "{:?}", batch.errors);
        assert_eq!(
            batch.listings[0].coord_status,
            [CoordStatus::Zero, CoordStatus::Swapped, CoordStatus::Ok]
        );
        assert_eq!(batch.warnings.len(), 2);
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-z0-9 :/-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            let keys = prop_oneof![
                Just("id".to_string()),
                Just("name".to_string()),
                Just("status".to_string()),
                Just("service_at_locations".to_string()),
                Just("location".to_string()),
                Just("latitude".to_string()),
                Just("schedules".to_string()),
                Just("byday".to_string()),
                Just("regular_schedules".to_string()),
                Just("content".to_string()),
                Just("contents".to_string()),
                Just("attributes".to_string()),
                "[a-z_]{1,8}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Feeds are untrusted: no input makes the HSDS/ORUK readers panic.
        #[test]
        fn no_json_makes_import_panic(value in any_json()) {
            if let Ok(records) = records_from_json(value.clone()) {
                let mut batch = PreparedBatch::default();
                for (i, r) in records.into_iter().enumerate() {
                    prepare("fuzz", i, r, &mut batch);
                }
            }
            let mut batch = PreparedBatch::default();
            prepare("fuzz", 0, value, &mut batch);
        }

        #[test]
        fn no_bytes_make_the_reader_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = read_bytes(Path::new("fuzz.json"), &bytes);
            let _ = read_bytes(Path::new("fuzz.csv"), &bytes);
        }
    }

    #[test]
    fn not_json_or_csv_is_one_error() {
        let e = read_bytes(Path::new("x.bin"), b"\x00\x01binary").unwrap_err();
        assert!(e.to_string().contains("neither JSON nor"), "{e}");
        let e = read_bytes(Path::new("x.json"), b"{not json").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
    }
}
