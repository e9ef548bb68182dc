//! `import-oruk`: pull a council's ORUK 1.0 or 3.0 feed, page by page, into the published
//! directory. Changes become changesets like any import; listings that came from this feed and
//! are no longer in it are deleted (published as one changeset of tombstones).
//!
//! A pull changes nothing unless it is complete and consistent: every page read, record ids
//! unique, as many records as the feed's `total_items`, no page empty or claiming to be the last
//! before `total_pages`. A feed that answers short (an empty middle page, a `last_page` too soon,
//! the same records on every page) would otherwise look like a feed that dropped most of its
//! listings. A consistent pull that would still delete more than a share of the feed's listings
//! waits for the operator to allow it. The pull is bounded in time and bytes, and records are
//! held as JSON text, so a hostile or broken feed cannot hold the process for ever or fill memory.
use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use signpost_directory::import::RawRecord;
use signpost_directory::{Directory, ImportReport};

/// Why a pull failed. A failed pull changes nothing: no listing is imported or deleted.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The feed could not be read, or did not answer as an ORUK feed.
    #[error("{url}: {message}; nothing was changed")]
    Feed {
        /// The URL asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The pages disagree with each other or with the counts they announce.
    #[error("the feed is inconsistent on page {page} ({url}): {message}; nothing was changed")]
    Inconsistent {
        /// The page where the disagreement showed.
        page: u64,
        /// That page's URL.
        url: String,
        /// Which check failed.
        message: String,
    },
    /// The pull went past its deadline or one of its size limits.
    #[error("{message}; nothing was changed")]
    Limit {
        /// Which limit, and where.
        message: String,
    },
    /// A complete pull that would delete more listings than allowed.
    #[error(
        "this pull would delete {would_delete} of the {had} listings from this feed, more than \
         the {allowed} allowed; nothing was changed"
    )]
    TooManyDeletions {
        /// Listings from this feed that it no longer has.
        would_delete: usize,
        /// Listings from this feed before the pull.
        had: usize,
        /// The most the pull was allowed to delete.
        allowed: usize,
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

fn limit(message: impl ToString) -> PullError {
    PullError::Limit {
        message: message.to_string(),
    }
}

/// A feed claiming more pages than this is not believed.
const MAX_PAGES: u64 = 10_000;
const PER_PAGE: u64 = 100;
/// One request never waits longer than this, however much of the deadline is left.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const MIB: u64 = 1024 * 1024;

/// The bounds of one pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The whole pull (every page, retries included) must finish within this.
    pub deadline: Duration,
    /// The most response-body bytes the whole pull may read.
    pub max_bytes: u64,
    /// The most bytes one response may have.
    pub max_response_bytes: u64,
    /// The most bytes of JSON one record may have.
    pub max_record_bytes: usize,
    /// Without `allow_deletions`, the most of the feed's listings, in percent, one pull may delete.
    pub max_delete_percent: usize,
    /// The most listings this pull may delete, in place of the percentage.
    pub allow_deletions: Option<usize>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            deadline: Duration::from_secs(600),
            max_bytes: 512 * MIB,
            max_response_bytes: 64 * MIB,
            max_record_bytes: MIB as usize,
            max_delete_percent: 10,
            allow_deletions: None,
        }
    }
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Pages read.
    pub pages: u64,
    /// Response-body bytes read.
    pub bytes: u64,
    /// The import of the records read.
    pub import: ImportReport,
    /// Listings from this feed that it no longer has, now deleted.
    pub deleted: Vec<String>,
}

/// One page of an ORUK 3.0 list (or, by the aliases, a Spring-style ORUK 1.0 one). Records stay
/// JSON text: a page is never held as a tree of values.
#[derive(Deserialize)]
struct Page {
    #[serde(alias = "content")]
    contents: Option<Vec<Box<RawValue>>>,
    #[serde(alias = "totalElements")]
    total_items: Option<u64>,
    #[serde(alias = "totalPages")]
    total_pages: Option<u64>,
    #[serde(alias = "last")]
    last_page: Option<bool>,
}

/// Just a record's id, read without building the rest of it.
#[derive(Deserialize)]
struct RecordId {
    id: Option<serde_json::Value>,
}

/// A record id from a feed, short and printable enough for a message.
fn shown(id: &str) -> String {
    const SHOWN: usize = 80;
    match id.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{:?}… ({} bytes)", &id[..end], id.len()),
        None => format!("{id:?}"),
    }
}

/// HTTP with the pull's deadline and byte budget.
struct Fetcher<'a> {
    http: reqwest::blocking::Client,
    options: &'a PullOptions,
    deadline: Instant,
    read: u64,
}

impl Fetcher<'_> {
    fn past_deadline(&self) -> PullError {
        limit(format!(
            "the pull did not finish within its deadline of {} s (after {} bytes)",
            self.options.deadline.as_secs_f64(),
            self.read
        ))
    }

    fn remaining(&self) -> Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.past_deadline());
        }
        Ok(left)
    }

    /// A response body, retrying a server error or a lost connection twice.
    fn get(&mut self, url: &str) -> Result<Vec<u8>> {
        let mut delay = Duration::from_millis(250);
        let mut last = String::from("no answer");
        for attempt in 0..3 {
            if attempt > 0 {
                if self.remaining()? <= delay {
                    return Err(self.past_deadline());
                }
                std::thread::sleep(delay);
                delay *= 2;
            }
            let timeout = self.remaining()?.min(REQUEST_TIMEOUT);
            match self.http.get(url).timeout(timeout).send() {
                Ok(r) if r.status().is_success() => return self.body(url, r),
                Ok(r) if r.status().is_client_error() => {
                    return Err(feed_error(url, format!("HTTP {}", r.status())))
                }
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
        }
        self.remaining()?;
        Err(feed_error(url, last))
    }

    /// Read a body chunk by chunk, stopping at the response limit, the byte budget or the
    /// deadline, whichever comes first: a body that never ends, or trickles, is cut off.
    fn body(&mut self, url: &str, mut response: reqwest::blocking::Response) -> Result<Vec<u8>> {
        let options = self.options;
        let too_big = || {
            limit(format!(
                "{url}: the response is larger than the limit of {} bytes",
                options.max_response_bytes
            ))
        };
        let over_budget = || {
            limit(format!(
                "the feed sent more than the pull's budget of {} bytes of responses (reading {url})",
                options.max_bytes
            ))
        };
        let declared = response.content_length();
        if declared.is_some_and(|n| n > options.max_response_bytes) {
            return Err(too_big());
        }
        if declared.is_some_and(|n| self.read + n > options.max_bytes) {
            return Err(over_budget());
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
        let mut chunk = vec![0; 64 * 1024];
        loop {
            let n = match response.read(&mut chunk) {
                Ok(n) => n,
                Err(_) if Instant::now() >= self.deadline => return Err(self.past_deadline()),
                Err(e) => return Err(feed_error(url, format!("reading the response: {e}"))),
            };
            if n == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..n]);
            self.read += n as u64;
            if body.len() as u64 > options.max_response_bytes {
                return Err(too_big());
            }
            if self.read > options.max_bytes {
                return Err(over_budget());
            }
            self.remaining()?;
        }
    }
}

/// Every record of a complete, consistent pull.
struct Pulled {
    pages: u64,
    bytes: u64,
    records: Vec<Box<RawValue>>,
    /// Each record id, with the page it was on.
    ids: HashMap<String, u64>,
}

/// Read every page of `base`'s `/services`, checking that the pages agree.
fn pull(base: &str, options: &PullOptions) -> Result<Pulled> {
    let http = reqwest::blocking::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| feed_error(base, e))?;
    let mut fetcher = Fetcher {
        http,
        options,
        deadline: Instant::now() + options.deadline,
        read: 0,
    };
    let mut pulled = Pulled {
        pages: 0,
        bytes: 0,
        records: Vec::new(),
        ids: HashMap::new(),
    };
    // From page 1: how many records, on how many pages.
    let mut expected: Option<(u64, u64)> = None;
    let mut page = 1;
    loop {
        let url = format!("{base}/services?page={page}&per_page={PER_PAGE}");
        let inconsistent = |message: String| PullError::Inconsistent {
            page,
            url: url.clone(),
            message,
        };
        let body = fetcher.get(&url)?;
        let parsed: Page = serde_json::from_slice(&body)
            .map_err(|e| feed_error(&url, format!("not an ORUK list: {e}")))?;
        drop(body);
        let items = parsed
            .contents
            .ok_or_else(|| feed_error(&url, "not an ORUK list (no contents or content)"))?;
        pulled.pages += 1;
        let (total_items, total_pages) = match expected {
            None => {
                let total_items = parsed.total_items.ok_or_else(|| {
                    feed_error(
                        &url,
                        "no total_items (ORUK 3.0) or totalElements (ORUK 1.0), so a short pull \
                         could not be told from a complete one",
                    )
                })?;
                let total_pages = parsed.total_pages.ok_or_else(|| {
                    feed_error(&url, "no total_pages (ORUK 3.0) or totalPages (ORUK 1.0)")
                })?;
                if total_pages > MAX_PAGES {
                    return Err(feed_error(
                        &url,
                        format!(
                            "says it has {total_pages} pages, more than {MAX_PAGES}; not believed"
                        ),
                    ));
                }
                if total_pages == 0 && total_items > 0 {
                    return Err(inconsistent(format!(
                        "total_items is {total_items} but total_pages is 0"
                    )));
                }
                *expected.insert((total_items, total_pages))
            }
            Some(first) => {
                for (name, said, first_said) in [
                    ("total_items", parsed.total_items, first.0),
                    ("total_pages", parsed.total_pages, first.1),
                ] {
                    if said.is_some_and(|n| n != first_said) {
                        return Err(inconsistent(format!(
                            "{name} is {}, but page 1 said {first_said}",
                            said.unwrap_or_default()
                        )));
                    }
                }
                first
            }
        };
        let last = page >= total_pages;
        if items.is_empty() && !last {
            return Err(inconsistent(format!(
                "the page is empty, but page 1 said there are {total_pages} pages"
            )));
        }
        match parsed.last_page {
            Some(true) if !last => {
                return Err(inconsistent(format!(
                    "the page says it is the last, but page 1 said there are {total_pages} pages"
                )))
            }
            Some(false) if last && total_pages > 0 => {
                return Err(inconsistent(format!(
                "page 1 said there are {total_pages} pages, but this one says it is not the last"
            )))
            }
            _ => {}
        }
        for (position, record) in items.into_iter().enumerate() {
            let id = serde_json::from_str::<RecordId>(record.get())
                .ok()
                .and_then(|r| r.id)
                .and_then(|id| id.as_str().map(str::to_string));
            let size = record.get().len();
            if size > options.max_record_bytes {
                return Err(limit(format!(
                    "{url}: record {} (#{} on page {page}) is {size} bytes, more than the limit of {} bytes",
                    id.as_deref().map(shown).unwrap_or_else(|| "without an id".into()),
                    position + 1,
                    options.max_record_bytes
                )));
            }
            if let Some(id) = id {
                if let Some(before) = pulled.ids.insert(id.clone(), page) {
                    return Err(inconsistent(format!(
                        "record id {} was already read on page {before}",
                        shown(&id)
                    )));
                }
            }
            pulled.records.push(record);
            if pulled.records.len() as u64 > total_items {
                return Err(inconsistent(format!(
                    "more records than the {total_items} page 1 said there are"
                )));
            }
        }
        if last {
            if pulled.records.len() as u64 != total_items {
                return Err(inconsistent(format!(
                    "{} records on {} pages, but page 1 said there are {total_items}",
                    pulled.records.len(),
                    pulled.pages
                )));
            }
            pulled.bytes = fetcher.read;
            return Ok(pulled);
        }
        page += 1;
    }
}

/// Pull every page of `base`'s `/services` into `directory`, within `options`' bounds.
pub fn import_oruk(
    directory: &mut Directory,
    base: &str,
    options: &PullOptions,
) -> Result<PullReport> {
    let base = base.trim_end_matches('/');
    let pulled = pull(base, options)?;
    let had = directory.ids_from_source(base)?;
    let gone: Vec<String> = had
        .iter()
        .filter(|id| !pulled.ids.contains_key(*id))
        .cloned()
        .collect();
    let allowed = options
        .allow_deletions
        .unwrap_or(had.len() * options.max_delete_percent / 100);
    if gone.len() > allowed {
        return Err(PullError::TooManyDeletions {
            would_delete: gone.len(),
            had: had.len(),
            allowed,
        });
    }
    let records: Vec<RawRecord> = pulled.records.into_iter().map(RawRecord::Text).collect();
    let mut import = directory.import_sources(vec![(base.to_string(), records)], &mut |_| {})?;
    import.deleted = directory.delete_all(&gone)?;
    Ok(PullReport {
        pages: pulled.pages,
        bytes: pulled.bytes,
        import,
        deleted: gone,
    })
}
