//! `import-oruk` against hostile and broken ORUK feeds, served on 127.0.0.1: a bad pull fails
//! with a reason and changes nothing, deletions need a complete pull (and permission when
//! many), and time, bytes and memory stay bounded.
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use signpost_directory::Directory;
use signpost_feed::pull::{import_oruk, PullError, PullOptions};
use signpost_feed::Background;

use crate::feed;

type PageFn = dyn Fn(u64) -> Response + Send + Sync;

/// A council's feed whose behaviour a test switches, at one base URL (deletions are decided
/// per source, so the good and the bad pulls must come from the same address).
struct Council {
    _server: Background,
    base: String,
    pages: Arc<RwLock<Arc<PageFn>>>,
}

impl Council {
    fn start(pages: impl Fn(u64) -> Response + Send + Sync + 'static) -> Council {
        use axum::extract::Query;
        let pages: Arc<RwLock<Arc<PageFn>>> = Arc::new(RwLock::new(Arc::new(pages)));
        let shared = pages.clone();
        let app = axum::Router::new().route(
            "/services",
            axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
                let answer = shared.read().unwrap().clone();
                async move {
                    let page = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                    // Off the runtime's threads: some answers are slow on purpose.
                    tokio::task::spawn_blocking(move || answer(page))
                        .await
                        .unwrap()
                }
            }),
        );
        let server = Background::serve("127.0.0.1:0".parse().unwrap(), app).unwrap();
        Council {
            base: format!("http://{}", server.addr()),
            _server: server,
            pages,
        }
    }

    fn serve(&self, pages: impl Fn(u64) -> Response + Send + Sync + 'static) {
        *self.pages.write().unwrap() = Arc::new(pages);
    }
}

fn services(n: usize) -> Arc<Vec<Value>> {
    Arc::new(
        (0..n)
            .map(|i| json!({"id": format!("svc-{i:04}"), "name": format!("Service {i}"), "status": "active"}))
            .collect(),
    )
}

const PAGE: usize = 100;

/// `services` in ORUK 3.0 pages of 100, each page passed through `tamper` before it is sent.
fn pages(
    services: Arc<Vec<Value>>,
    tamper: impl Fn(u64, &mut Value) + Send + Sync + 'static,
) -> impl Fn(u64) -> Response + Send + Sync + 'static {
    move |page| {
        let total_pages = services.len().div_ceil(PAGE) as u64;
        let items: Vec<Value> = services
            .iter()
            .skip((page as usize - 1) * PAGE)
            .take(PAGE)
            .cloned()
            .collect();
        let mut body = json!({"total_items": services.len(), "total_pages": total_pages,
            "page_number": page, "size": PAGE, "first_page": page == 1,
            "last_page": page >= total_pages, "empty": items.is_empty(), "contents": items});
        tamper(page, &mut body);
        axum::Json(body).into_response()
    }
}

fn untouched(_: u64, _: &mut Value) {}

/// A feed directory that has pulled 520 listings (6 pages) from `council`.
fn pulled_520(t: &tempfile::TempDir) -> (Council, Directory) {
    let council = Council::start(pages(services(520), untouched));
    let mut dir = Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    let report = import_oruk(&mut dir, &council.base, &PullOptions::default()).unwrap();
    assert_eq!((report.pages, report.import.inserted), (6, 520));
    (council, dir)
}

/// The directory's digest and changeset head: equal before and after means nothing changed.
fn state(dir: &Directory) -> (String, u64) {
    (
        dir.digest().unwrap(),
        dir.changeset_head().unwrap().map_or(0, |h| h.seq),
    )
}

/// Services that would change on import, so a refused pull visibly imported nothing.
fn renamed(n: usize) -> Arc<Vec<Value>> {
    let mut s = (*services(n)).clone();
    s[0]["name"] = json!("Service 0, renamed");
    Arc::new(s)
}

/// The inconsistency the feed shows (checked on `page`, message containing `says`), and that
/// the pull changed nothing.
fn refused(dir: &mut Directory, council: &Council, page: u64, says: &str) {
    let before = state(dir);
    match import_oruk(dir, &council.base, &PullOptions::default()) {
        Err(PullError::Inconsistent {
            page: at, message, ..
        }) => {
            assert_eq!(at, page, "{message}");
            assert!(message.contains(says), "{message}");
        }
        other => panic!("expected an inconsistent pull, got {other:?}"),
    }
    assert_eq!(state(dir), before, "a refused pull changes nothing");
    assert_eq!(dir.listing("svc-0000").unwrap().service.name, "Service 0");
}

#[test]
fn a_middle_page_that_is_empty_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    council.serve(pages(renamed(520), |page, body| {
        if page == 3 {
            body["contents"] = json!([]);
            body["empty"] = json!(true);
        }
    }));
    refused(&mut dir, &council, 3, "the page is empty");
}

#[test]
fn a_last_page_claimed_early_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    council.serve(pages(renamed(520), |page, body| {
        if page == 3 {
            body["last_page"] = json!(true);
        }
    }));
    refused(&mut dir, &council, 3, "says it is the last");
}

#[test]
fn pages_repeating_the_same_records_change_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    let first_page: Vec<Value> = renamed(520).iter().take(PAGE).cloned().collect();
    council.serve(pages(renamed(520), move |_, body| {
        body["contents"] = json!(first_page);
    }));
    refused(
        &mut dir,
        &council,
        2,
        "\"svc-0000\" was already read on page 1",
    );
}

#[test]
fn a_count_disagreeing_with_total_items_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    // Every page claims 600 records on 6 pages; only 520 come.
    council.serve(pages(renamed(520), |_, body| {
        body["total_items"] = json!(600);
    }));
    refused(
        &mut dir,
        &council,
        6,
        "520 records on 6 pages, but page 1 said there are 600",
    );
    // A later page changing its story is caught where it does.
    council.serve(pages(renamed(520), |page, body| {
        if page == 4 {
            body["total_items"] = json!(519);
        }
    }));
    refused(
        &mut dir,
        &council,
        4,
        "total_items is 519, but page 1 said 520",
    );
}

/// Through the real binary: a large deletion needs `--allow-deletions`, and a pull's deletions
/// are one changeset after the import's.
#[test]
fn a_large_deletion_needs_permission_and_is_one_changeset() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let council = Council::start(pages(services(520), untouched));
    let out = feed(&data, &["import-oruk", &council.base]);
    assert!(out.status.success(), "{out:?}");
    let head = || {
        Directory::open(&data.join("feed.db"))
            .unwrap()
            .changeset_head()
            .unwrap()
            .unwrap()
    };
    assert_eq!(head().seq, 1);

    // 20 of 520 (3.8%) go without asking, in one changeset.
    council.serve(pages(services(500), untouched));
    let out = feed(&data, &["import-oruk", &council.base]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.matches("(no longer in the feed)").count(),
        20,
        "{said}"
    );
    assert_eq!((head().seq, head().deletes), (2, 20));

    // 120 of 500 (24%) more, with one listing changed: refused, unchanged, and told how.
    council.serve(pages(renamed(380), untouched));
    let before = (crate::feed_digest(&data), head().seq);
    for args in [vec![], vec!["--allow-deletions", "119"]] {
        let out = feed(
            &data,
            &[&["import-oruk", council.base.as_str()], &args[..]].concat(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {out:?}");
        assert!(
            err.contains("would delete 120 of the 500 listings")
                && err.contains("nothing was changed")
                && err.contains("pass --allow-deletions 120"),
            "{err}"
        );
        assert_eq!((crate::feed_digest(&data), head().seq), before);
    }
    let out = feed(
        &data,
        &["import-oruk", &council.base, "--allow-deletions", "120"],
    );
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 updated"), "{said}");
    assert_eq!(said.matches("(no longer in the feed)").count(), 120);
    let log = Directory::open(&data.join("feed.db"))
        .unwrap()
        .changesets_after(2, 10)
        .unwrap();
    assert_eq!(
        log.iter()
            .map(|c| (c.seq, c.upserts, c.deletes))
            .collect::<Vec<_>>(),
        [(3, 1, 0), (4, 0, 120)],
        "the import's one changeset, then every deletion in one more"
    );
}

#[test]
fn an_oversized_record_is_named_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    let before = state(&dir);
    let mut s = (*renamed(520)).clone();
    s[150]["description"] = json!("x".repeat(1_100_000));
    council.serve(pages(Arc::new(s), untouched));
    let err = import_oruk(&mut dir, &council.base, &PullOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PullError::Limit { .. }), "{message}");
    assert!(
        message.contains("record \"svc-0150\" (#51 on page 2)")
            && message.contains("more than the limit of 1048576 bytes")
            && message.contains("nothing was changed"),
        "{message}"
    );
    assert_eq!(state(&dir), before);
}

/// Twenty pages, each answered after 250 ms: with a one-second deadline the pull stops early.
#[test]
fn a_slow_feed_stops_at_the_deadline() {
    let t = tempfile::tempdir().unwrap();
    let (council, mut dir) = pulled_520(&t);
    let before = state(&dir);
    let slow = pages(services(2000), untouched);
    council.serve(move |page| {
        std::thread::sleep(Duration::from_millis(250));
        slow(page)
    });
    let options = PullOptions {
        deadline: Duration::from_secs(1),
        ..PullOptions::default()
    };
    let err = import_oruk(&mut dir, &council.base, &options).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PullError::Limit { .. }), "{message}");
    assert!(message.contains("deadline of 1 s"), "{message}");
    assert_eq!(state(&dir), before);
}

/// A feed on a bare socket that answers every request with headers and then `body`, which is
/// given the stream to write to for as long as it likes.
fn raw_feed(body: impl Fn(&mut std::net::TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_ok() {
                    body(&mut stream);
                }
            });
        }
    });
    base
}

/// A page whose body trickles, one space a tenth of a second, then is a complete valid page:
/// only the pull's own deadline stops it.
#[test]
fn a_trickling_page_stops_at_the_deadline() {
    let base = raw_feed(|stream| {
        for _ in 0..40 {
            if stream.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let page = json!({"total_items": 1, "total_pages": 1, "last_page": true,
            "contents": [{"id": "t1", "name": "Trickled", "status": "active"}]});
        let _ = stream.write_all(page.to_string().as_bytes());
    });
    let t = tempfile::tempdir().unwrap();
    let mut dir = Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    let options = PullOptions {
        deadline: Duration::from_secs(1),
        ..PullOptions::default()
    };
    let err = import_oruk(&mut dir, &base, &options).unwrap_err();
    assert!(err.to_string().contains("deadline of 1 s"), "{err}");
    assert_eq!(dir.stats().unwrap().listings, 0);
}

/// The peak resident memory allowed to a pull with the default limits, whatever the feed sends.
const RSS_BOUND_KIB: u64 = 1024 * 1024;

/// Run `signpost-feed --data DATA ARGS`, sampling its peak resident memory (VmHWM) every 5 ms.
/// A child past `bound_kib`, or running over three minutes (a guard, not a speed check), is
/// killed and the test fails. Returns whether it succeeded, its stderr and the peak in KiB.
fn run_measured(data: &Path, args: &[&str], bound_kib: u64) -> (bool, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signpost-feed"))
        .arg("--data")
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        peak = peak.max(hwm);
        if peak > bound_kib || started.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "killed after {:?} at a peak of {peak} KiB",
                started.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.success(), stderr, peak)
}

/// One page that never ends: stopped at the per-response limit, in bounded memory.
#[test]
fn a_page_that_never_ends_stops_at_the_response_limit() {
    let base = raw_feed(|stream| {
        let start =
            br#"{"total_items": 1, "total_pages": 1, "contents": [{"id": "endless", "name": ""#;
        let more = vec![b'a'; 64 * 1024];
        if stream.write_all(start).is_err() {
            return;
        }
        while stream.write_all(&more).is_ok() {}
    });
    let t = tempfile::tempdir().unwrap();
    let (ok, stderr, peak) = run_measured(
        &t.path().join("feed"),
        &["import-oruk", &base],
        RSS_BOUND_KIB,
    );
    assert!(!ok);
    assert!(
        stderr.contains("the response is larger than the limit of 67108864 bytes")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    eprintln!("a page that never ends: peak RSS {peak} KiB");
}

/// Pages of 100 fresh 20 KB records for ever (the feed says 10,000 pages): stopped by the
/// byte budget (512 MiB by default), in bounded memory.
#[test]
fn an_endless_loop_of_pages_stops_at_the_byte_budget() {
    let pad = "p".repeat(20_000);
    let council = Council::start(move |page| {
        let mut body = String::with_capacity(PAGE * 20_100);
        body.push_str(r#"{"total_items": 1000000, "total_pages": 10000, "contents": ["#);
        for i in 0..PAGE {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"id": "loop-{page}-{i}", "name": "Looping", "status": "active", "description": "{pad}"}}"#
            ));
        }
        body.push_str("]}");
        ([("content-type", "application/json")], body).into_response()
    });
    let t = tempfile::tempdir().unwrap();
    let (ok, stderr, peak) = run_measured(
        &t.path().join("feed"),
        &["import-oruk", &council.base],
        RSS_BOUND_KIB,
    );
    assert!(!ok);
    assert!(
        stderr.contains("more than the pull's budget of 536870912 bytes")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    eprintln!("an endless loop of pages: peak RSS {peak} KiB");
}

/// The worst a hostile feed can send that passes every check: as many valid 20 KB records as
/// fit the byte budget (here 128 MiB: 6,000 records on 60 pages), pulled and imported under
/// 512 MiB. The import holds a few batches at once, so their size must follow bytes, not just
/// listings: in one 6,000-listing batch this pull peaked at 966 MB. (At the default 512 MiB
/// budget, 24,000 such records peak at 755 MB, under the 1 GiB bound, but take over a minute
/// in a debug build.)
#[test]
fn a_consistent_pull_as_large_as_the_budget_imports_in_bounded_memory() {
    const RECORDS: u64 = 6_000;
    let pad = "q".repeat(20_000);
    let council = Council::start(move |page| {
        let mut body = String::with_capacity(PAGE * 20_100);
        body.push_str(&format!(
            r#"{{"total_items": {RECORDS}, "total_pages": {}, "contents": ["#,
            RECORDS / PAGE as u64
        ));
        for i in 0..PAGE {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"id": "big-{page}-{i}", "name": "Large", "status": "active", "description": "{pad}"}}"#
            ));
        }
        body.push_str("]}");
        ([("content-type", "application/json")], body).into_response()
    });
    let t = tempfile::tempdir().unwrap();
    let (ok, stderr, peak) = run_measured(
        &t.path().join("feed"),
        &["import-oruk", &council.base, "--max-total-mib", "128"],
        512 * 1024,
    );
    assert!(ok, "{stderr}");
    eprintln!("a consistent pull of 6,000 20 KB records: peak RSS {peak} KiB");
}
