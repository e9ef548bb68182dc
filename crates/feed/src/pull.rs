//! `import-oruk`: pull a council's ORUK 1.0 or 3.0 feed, page by page, into the published
//! directory. Changes become changesets like any import; listings that came from this feed and
//! are no longer in it are deleted (published as tombstones), but only after every page was read,
//! so a cut-off pull never deletes anything.
use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use signpost_directory::{Directory, ImportReport};

/// Why a pull failed. Nothing is deleted after a failed pull.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The feed could not be read, or did not answer as an ORUK feed.
    #[error("{url}: {message}")]
    Feed {
        /// The URL asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Storing failed.
    #[error(transparent)]
    Directory(#[from] signpost_directory::Error),
}

type Result<T> = std::result::Result<T, PullError>;

fn feed_error(url: &str, message: impl ToString) -> PullError {
    PullError::Feed {
        url: url.to_string(),
        message: message.to_string(),
    }
}

/// A feed claiming more pages than this is not believed.
const MAX_PAGES: u64 = 10_000;
const PER_PAGE: u64 = 100;

/// What a pull did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Pages read.
    pub pages: u64,
    /// The import of the records read.
    pub import: ImportReport,
    /// Listings from this feed that it no longer has, now deleted.
    pub deleted: Vec<String>,
}

fn get(http: &reqwest::blocking::Client, url: &str) -> Result<Value> {
    let mut delay = Duration::from_millis(250);
    let mut last = String::from("no answer");
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(delay);
            delay *= 2;
        }
        match http.get(url).send() {
            Ok(r) if r.status().is_success() => {
                return r
                    .json()
                    .map_err(|e| feed_error(url, format!("not JSON: {e}")))
            }
            Ok(r) if r.status().is_client_error() => {
                return Err(feed_error(url, format!("HTTP {}", r.status())))
            }
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(feed_error(url, last))
}

/// Pull every page of `base`'s `/services` into `directory`.
pub fn import_oruk(directory: &mut Directory, base: &str) -> Result<PullReport> {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| feed_error(base, e))?;
    let base = base.trim_end_matches('/');
    let mut records: Vec<Value> = Vec::new();
    let mut report = PullReport::default();
    let mut page = 1;
    loop {
        let url = format!("{base}/services?page={page}&per_page={PER_PAGE}");
        let body = get(&http, &url)?;
        // ORUK 3.0 pages carry `contents`; ORUK 1.0 pages carry `content`.
        let items = body
            .get("contents")
            .or_else(|| body.get("content"))
            .and_then(Value::as_array)
            .ok_or_else(|| feed_error(&url, "not an ORUK list (no contents or content)"))?;
        report.pages += 1;
        let total_pages = body
            .get("total_pages")
            .or_else(|| body.get("totalPages"))
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let last = body
            .get("last_page")
            .or_else(|| body.get("last"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let empty = items.is_empty();
        records.extend(items.iter().cloned());
        if empty || last || page >= total_pages {
            break;
        }
        page += 1;
        if page > MAX_PAGES {
            return Err(feed_error(
                base,
                format!("more than {MAX_PAGES} pages; not believed"),
            ));
        }
    }
    let remote: HashSet<String> = records
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    report.import = directory.import_sources(vec![(base.to_string(), records)], &mut |_| {})?;
    for id in directory.ids_from_source(base)? {
        if !remote.contains(&id) && directory.delete(&id)? {
            report.deleted.push(id);
        }
    }
    Ok(report)
}
