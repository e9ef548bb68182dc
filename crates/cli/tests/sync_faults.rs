//! Fault injection for `signpost sync`: kills at random instants, a feed that corrupts or
//! truncates changesets, and a feed that goes away mid-sync. The feed server runs in-process on
//! 127.0.0.1 with a random port; the client is the real `signpost` binary.
mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::routing::get;
use axum::Router;
use common::signpost;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use signpost_directory::Directory;
use signpost_feed::Background;

/// Serve `app` on a free local port in the background; it stops when the handle drops.
fn serve(app: Router) -> Background {
    Background::serve("127.0.0.1:0".parse().unwrap(), app).unwrap()
}

/// A feed of `batches` changesets of `per_batch` listings each.
fn build_feed(dir: &Path, batches: usize, per_batch: usize) -> PathBuf {
    let path = dir.join("feed.db");
    publish(&path, 0..batches, per_batch, "Listing");
    path
}

/// Publish batches `batches` of `per_batch` listings each to the feed at `path`; listing `n` is
/// `f{n}`, named "`name` n", so feeds built with different names hold different data.
fn publish(path: &Path, batches: std::ops::Range<usize>, per_batch: usize, name: &str) {
    let mut feed = Directory::open_publisher(path).unwrap();
    for b in batches {
        let records: Vec<Value> = (0..per_batch)
            .map(|i| {
                let n = b * per_batch + i;
                json!({"id": format!("f{n:06}"), "name": format!("{name} {n}"), "status": "active",
                       "description": "A community group with a fairly long description so that changesets have some weight to them.",
                       "service_at_locations": [{"location": {"id": format!("l{n}"), "latitude": 51.0 + (n % 100) as f64 / 100.0, "longitude": -2.0 + (n / 100) as f64 / 100.0}}]})
            })
            .collect();
        feed.import_sources(vec![(format!("batch {b}"), records)], &mut |_| {})
            .unwrap();
    }
}

fn digest(db: &Path) -> String {
    let out = signpost(db, &["digest"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn integrity_ok(db: &Path) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .unwrap()
        == "ok"
}

#[test]
fn fifty_kills_at_random_instants_then_resume() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 25, 200);
    let feed_digest = Directory::open(&feed_path).unwrap().digest().unwrap();
    let served = serve(signpost_feed::router(signpost_feed::AppState::new(
        Directory::open(&feed_path).unwrap(),
    )));
    let url = format!("http://{}", served.addr());
    // How long an uninterrupted sync takes, to spread the kills across it.
    let probe = t.path().join("probe.db");
    let started = std::time::Instant::now();
    assert!(signpost(&probe, &["sync", "--feed", &url]).status.success());
    let full = started.elapsed().max(Duration::from_millis(50));
    assert_eq!(digest(&probe), feed_digest);

    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let mut interrupted = 0;
    for run in 0..50 {
        let db = t.path().join(format!("run{run}.db"));
        // Some runs are killed more than once before they are allowed to finish.
        for _ in 0..rng.random_range(1..=3) {
            let mut child = Command::new(env!("CARGO_BIN_EXE_signpost"))
                .arg("--db")
                .arg(&db)
                .args(["sync", "--feed", &url])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(full.mul_f64(rng.random_range(0.0..1.0)));
            if child.try_wait().unwrap().is_none() {
                interrupted += 1;
            }
            child.kill().ok();
            child.wait().unwrap();
        }
        assert!(integrity_ok(&db), "run {run}: integrity after the kill");
        let out = signpost(&db, &["sync", "--feed", &url]);
        assert!(
            out.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(integrity_ok(&db), "run {run}");
        assert_eq!(digest(&db), feed_digest, "run {run}");
    }
    assert!(
        interrupted >= 25,
        "most kills must land mid-sync ({interrupted})"
    );
}

#[derive(Clone)]
struct Faulty {
    upstream: String,
    mode: &'static str,
}

/// A feed proxy that passes the log through but damages changeset bodies.
async fn faulty_head(State(f): State<Faulty>) -> Vec<u8> {
    reqwest_get(&format!("{}/sync/head", f.upstream)).await
}

async fn faulty_list(
    State(f): State<Faulty>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Vec<u8> {
    reqwest_get(&format!(
        "{}/sync/changesets?{}",
        f.upstream,
        q.unwrap_or_default()
    ))
    .await
}

async fn faulty_body(
    State(f): State<Faulty>,
    UrlPath(hash): UrlPath<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut body = reqwest_get(&format!("{}/sync/changesets/{hash}", f.upstream)).await;
    match f.mode {
        "truncate" => body.truncate(body.len() / 2),
        "corrupt" => {
            // Decompress, flip one byte of content, recompress: valid gzip, wrong content.
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
                .unwrap();
            let i = plain.len() / 2;
            plain[i] ^= 0x01;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, &plain).unwrap();
            body = gz.finish().unwrap();
        }
        _ => {}
    }
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn reqwest_get(url: &str) -> Vec<u8> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        reqwest::blocking::get(url)
            .unwrap()
            .bytes()
            .unwrap()
            .to_vec()
    })
    .await
    .unwrap()
}

#[test]
fn corrupt_or_truncated_changesets_are_rejected_whole() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 3, 50);
    let feed_digest = Directory::open(&feed_path).unwrap().digest().unwrap();
    let upstream = serve(signpost_feed::router(signpost_feed::AppState::new(
        Directory::open(&feed_path).unwrap(),
    )));
    let db = t.path().join("client.db");
    for mode in ["corrupt", "truncate"] {
        let proxy = serve(
            Router::new()
                .route("/sync/head", get(faulty_head))
                .route("/sync/changesets", get(faulty_list))
                .route("/sync/changesets/{hash}", get(faulty_body))
                .with_state(Faulty {
                    upstream: format!("http://{}", upstream.addr()),
                    mode,
                }),
        );
        let out = signpost(
            &db,
            &["sync", "--feed", &format!("http://{}", proxy.addr())],
        );
        assert!(!out.status.success(), "{mode}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("changeset rejected"), "{mode}: {err}");
        assert!(integrity_ok(&db));
        let listings: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM service", [], |r| r.get(0))
            .unwrap();
        assert_eq!(listings, 0, "{mode}: nothing applied");
    }
    // The honest feed then syncs fully.
    let upstream_url = format!("http://{}", upstream.addr());
    assert!(signpost(&db, &["sync", "--feed", &upstream_url])
        .status
        .success());
    assert_eq!(digest(&db), feed_digest);
}

/// A port held for the whole test by a socket that is bound but never listens. While no server
/// runs on it, connections to it are refused, as by a stopped server, and no other program can
/// take it between restarts.
fn reserve_port() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

/// Serve `app` on a reserved port, on its own runtime; the server stops when this is dropped.
fn serve_reserved(addr: SocketAddr, app: Router) -> tokio::runtime::Runtime {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.set_reuseport(true)?;
            socket.bind(addr)?;
            socket.listen(128)
        })
        .unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    runtime
}

/// `app`, serving `cut` changeset bodies and then holding the next request open, after saying
/// so on `reached`: the test knows the client is part-way and stops the feed right then.
fn cut_after(app: Router, cut: usize, reached: std::sync::mpsc::Sender<()>) -> Router {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (served, reached) = (served.clone(), reached.clone());
            async move {
                if request.uri().path().starts_with("/sync/changesets/")
                    && served.fetch_add(1, Ordering::SeqCst) == cut
                {
                    reached.send(()).ok();
                    std::future::pending::<()>().await;
                }
                next.run(request).await
            }
        },
    ))
}

fn cursor(db: &Path) -> u64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT coalesce(max(seq), 0) FROM sync_state", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
}

#[test]
fn a_feed_that_goes_away_mid_sync_is_resumed_later() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 30, 200);
    let feed_digest = Directory::open(&feed_path).unwrap().digest().unwrap();
    let db = t.path().join("client.db");
    let app = || {
        signpost_feed::router(signpost_feed::AppState::new(
            Directory::open(&feed_path).unwrap(),
        ))
    };
    // The same address every time, as a restarted server would have.
    let (_held, addr) = reserve_port();
    let url = format!("http://{addr}");
    let mut applied = 0;
    // Each attempt loses the feed after this many more changesets.
    for cut in [1, 6, 11] {
        let (reached_tx, reached) = std::sync::mpsc::channel();
        let served = serve_reserved(addr, cut_after(app(), cut as usize, reached_tx));
        let mut child = Command::new(env!("CARGO_BIN_EXE_signpost"))
            .arg("--db")
            .arg(&db)
            .args(["sync", "--feed", &url])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if reached.recv_timeout(Duration::from_secs(120)).is_err() {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the client never asked for changeset {}: {}",
                applied + cut + 1,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        drop(served); // The feed goes away while the client waits for a changeset.
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "cut after {cut}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(integrity_ok(&db));
        let now = cursor(&db);
        assert_eq!(now, applied + cut, "every changeset served was kept");
        assert!(0 < now && now < 30, "stopped part-way: {now}");
        applied = now;
    }
    // The rest is fetched once the feed is back.
    let _served = serve_reserved(addr, app());
    let out = signpost(&db, &["sync", "--feed", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(cursor(&db), 30);
    assert_eq!(digest(&db), feed_digest);
}

/// Serve the feed whose database is `path`.
fn serve_feed(path: &Path, addr: SocketAddr) -> Background {
    Background::serve(
        addr,
        signpost_feed::router(signpost_feed::AppState::new(Directory::open(path).unwrap())),
    )
    .unwrap()
}

fn feed_digest(path: &Path) -> String {
    Directory::open(path).unwrap().digest().unwrap()
}

fn sync_ok(db: &Path, url: &str) -> String {
    let out = signpost(db, &["sync", "--feed", url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `digest` on a directory that has synced nothing yet leaves it as it was, so after the first
/// sync its digest is the feed's (it used to load the default region first, for ever after).
#[test]
fn digest_before_the_first_sync_leaves_the_directory_to_the_feed() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 3, 20);
    let served = serve_feed(&feed_path, "127.0.0.1:0".parse().unwrap());
    let url = format!("http://{}", served.addr());
    let db = t.path().join("fresh.db");
    let empty = digest(&db);
    assert!(!db.exists(), "digest created the database");
    sync_ok(&db, &url);
    assert_ne!(digest(&db), empty);
    assert_eq!(digest(&db), feed_digest(&feed_path));
}

/// The case: a feed rebuilt from a fresh import at the same URL (head back to 1,
/// different data) while a client is at cursor 24. The client starts again and ends with the
/// feed's listings, whether the new log is behind its cursor or has passed it.
#[test]
fn a_rebuilt_feed_at_the_same_url_is_caught() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("old")).unwrap();
    std::fs::create_dir(t.path().join("new")).unwrap();
    let old = build_feed(&t.path().join("old"), 24, 50);
    let served = serve_feed(&old, "127.0.0.1:0".parse().unwrap());
    let addr = served.addr();
    let url = format!("http://{addr}");
    let (first, second) = (t.path().join("first.db"), t.path().join("second.db"));
    for db in [&first, &second] {
        sync_ok(db, &url);
        assert_eq!(cursor(db), 24);
        assert_eq!(digest(db), feed_digest(&old));
    }
    drop(served);

    // Rebuilt in a fresh data folder: one changeset of 600 other listings.
    let new = t.path().join("new/feed.db");
    publish(&new, 0..1, 600, "Rebuilt");
    let served = serve_feed(&new, addr);
    let said = sync_ok(&first, &url);
    assert!(
        said.contains("started again") && said.contains("rebuilt"),
        "{said}"
    );
    assert_eq!(cursor(&first), 1);
    assert_eq!(digest(&first), feed_digest(&new));

    // The rebuilt feed passes the old cursor (27 changesets of 20 new listings, from f000600),
    // with a snapshot on the way.
    publish(&new, 30..57, 20, "Rebuilt");
    Directory::open_publisher(&new)
        .unwrap()
        .publish_snapshot()
        .unwrap()
        .unwrap();
    publish(&new, 57..59, 20, "Rebuilt");
    let said = sync_ok(&second, &url);
    assert!(said.contains("started again"), "{said}");
    assert_eq!(cursor(&second), 30);
    assert_eq!(digest(&second), feed_digest(&new));
    // The first client is on the new log already: an ordinary update.
    let said = sync_ok(&first, &url);
    assert!(said.contains("up to date"), "{said}");
    assert_eq!(digest(&first), feed_digest(&new));
    drop(served);
}

/// A feed whose log diverges under the same feed id (its data folder restored from a copy made
/// at changeset 20, then changed differently). Past the client's cursor with a changeset that
/// does not follow the client's, the client starts again from changeset 1. Behind the cursor it
/// looks exactly like a stale copy (a cache not refreshed yet), which must only delay: so the
/// client waits, unchanged, and starts again once the restored log passes its cursor.
#[test]
fn a_feed_whose_log_diverges_at_the_same_id_is_caught() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 20, 30);
    let fork = t.path().join("fork.db");
    rusqlite::Connection::open(&feed_path)
        .unwrap()
        .execute("VACUUM INTO ?1", [fork.to_str().unwrap()])
        .unwrap();
    publish(&feed_path, 20..24, 30, "Listing");
    let served = serve_feed(&feed_path, "127.0.0.1:0".parse().unwrap());
    let addr = served.addr();
    let url = format!("http://{addr}");
    let (behind, past) = (t.path().join("behind.db"), t.path().join("past.db"));
    for db in [&behind, &past] {
        sync_ok(db, &url);
        assert_eq!(cursor(db), 24);
    }
    let held = digest(&behind);
    drop(served);
    assert_eq!(
        Directory::open(&fork).unwrap().feed_id().unwrap(),
        Directory::open(&feed_path).unwrap().feed_id().unwrap()
    );

    publish(&fork, 20..22, 30, "Forked");
    let served = serve_feed(&fork, addr);
    let said = sync_ok(&behind, &url);
    assert!(
        said.contains("nothing newer") && said.contains("behind the 24"),
        "{said}"
    );
    assert_eq!((cursor(&behind), digest(&behind)), (24, held));
    drop(served);

    publish(&fork, 22..26, 30, "Forked");
    let _served = serve_feed(&fork, addr);
    for db in [&past, &behind] {
        let said = sync_ok(db, &url);
        assert!(
            said.contains("started again") && said.contains("diverged"),
            "{said}"
        );
        assert_eq!(cursor(db), 26);
        assert_eq!(digest(db), feed_digest(&fork));
    }
    let said = sync_ok(&behind, &url);
    assert!(said.contains("up to date"), "{said}");
}

#[derive(Clone)]
struct Cut {
    upstream: String,
    bodies_served: Arc<AtomicUsize>,
    bodies_allowed: Arc<AtomicUsize>,
    /// Once cut, serve half of each body instead of 503.
    then_truncate: bool,
}

/// Passes the log through, serves `bodies_allowed` changesets, then answers 503 for ever.
async fn cut_body(
    State(c): State<Cut>,
    UrlPath(hash): UrlPath<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let cut =
        c.bodies_served.fetch_add(1, Ordering::SeqCst) >= c.bodies_allowed.load(Ordering::SeqCst);
    if cut && !c.then_truncate {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut body = reqwest_get(&format!("{}/sync/changesets/{hash}", c.upstream)).await;
    if cut {
        body.truncate(body.len() / 2);
    }
    body.into_response()
}

async fn cut_head(State(c): State<Cut>) -> Vec<u8> {
    reqwest_get(&format!("{}/sync/head", c.upstream)).await
}

async fn cut_list(
    State(c): State<Cut>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Vec<u8> {
    reqwest_get(&format!(
        "{}/sync/changesets?{}",
        c.upstream,
        q.unwrap_or_default()
    ))
    .await
}

/// A sync that applied 5 changesets and was then cut says how far it got, not "offline ...
/// unchanged"; the next sync fetches the rest.
#[test]
fn a_sync_cut_after_some_changesets_says_how_far_it_got() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 10, 20);
    let upstream = serve_feed(&feed_path, "127.0.0.1:0".parse().unwrap());
    let allowed = Arc::new(AtomicUsize::new(5));
    let proxy = serve(
        Router::new()
            .route("/sync/head", get(cut_head))
            .route("/sync/changesets", get(cut_list))
            .route("/sync/changesets/{hash}", get(cut_body))
            .with_state(Cut {
                upstream: format!("http://{}", upstream.addr()),
                bodies_served: Arc::new(AtomicUsize::new(0)),
                bodies_allowed: allowed.clone(),
                then_truncate: false,
            }),
    );
    let db = t.path().join("client.db");
    let url = format!("http://{}", proxy.addr());
    let said = sync_ok(&db, &url);
    assert!(
        said.contains("partly synced")
            && said.contains("5 applied")
            && said.contains("changeset 5 of 10"),
        "{said}"
    );
    assert!(
        !said.contains("unchanged") && !said.contains("offline"),
        "{said}"
    );
    assert_eq!(cursor(&db), 5);
    allowed.store(usize::MAX, Ordering::SeqCst);
    let said = sync_ok(&db, &url);
    assert!(said.contains("5 applied now"), "{said}");
    assert_eq!(digest(&db), feed_digest(&feed_path));
}

/// 1 MiB of gzip that inflates to 1 GiB of zeros.
fn gzip_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..1024 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    gz.finish().unwrap()
}

#[derive(Clone)]
struct Hostile {
    bomb: Arc<Vec<u8>>,
    /// The uncompressed size the log declares.
    declared: u64,
    /// Serve the bomb as a snapshot named in the head instead of as changeset 1.
    as_snapshot: bool,
}

const BOMB_HASH: &str = "abababababababababababababababababababababababababababababababab";

async fn hostile_head(State(h): State<Hostile>) -> axum::Json<Value> {
    let mut head = json!({"seq": 1, "hash": BOMB_HASH, "feed_id": "hostile"});
    if h.as_snapshot {
        head["snapshot"] = json!({"seq": 1, "hash": BOMB_HASH, "bytes": h.declared});
    }
    axum::Json(head)
}

async fn hostile_list(State(h): State<Hostile>) -> axum::Json<Value> {
    axum::Json(json!({"changesets": [
        {"seq": 1, "hash": BOMB_HASH, "prev": "", "upserts": 10, "deletes": 0, "bytes": h.declared}
    ]}))
}

async fn hostile_body(State(h): State<Hostile>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CONTENT_ENCODING, "gzip"),
        ],
        h.bomb.to_vec(),
    )
        .into_response()
}

/// The most memory the `signpost sync` process may use against hostile input (the issue's
/// bound for any process is 1 GB; the old client reached 2.7 GB on this bomb).
const SYNC_RSS_BOUND_KB: u64 = 200 * 1024;

/// Run `signpost --db DB ARGS…`, sampling its peak resident memory (VmHWM) until it exits.
fn run_measuring_peak_rss(db: &Path, args: &[&str]) -> (std::process::Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signpost"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    // VmHWM only grows, so the last reading before exit is the peak up to that instant.
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (child.wait_with_output().unwrap(), peak_kb)
}

/// A gzip bomb (1 MiB inflating to 1 GiB) served as a changeset whose log entry says 15 KB, as
/// one that says 2 MB (so the body is read and inflation must stop), and as a snapshot: each
/// is rejected, the directory is unchanged, and the client's memory stays small.
#[test]
fn a_gzip_bomb_is_rejected_within_a_memory_bound() {
    let t = tempfile::tempdir().unwrap();
    let bomb = Arc::new(gzip_bomb());
    assert!(bomb.len() < 1_100_000, "{}", bomb.len());
    let db = t.path().join("client.db");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/oruk-1.0/services.json");
    assert!(signpost(&db, &["import", fixture.to_str().unwrap()])
        .status
        .success());
    let before = digest(&db);
    for (declared, as_snapshot, says) in [
        (15_000, false, "larger than"),
        (2_000_000, false, "inflates to more than the 2000000 bytes"),
        (2_000_000, true, "snapshot 1"),
    ] {
        let hostile = serve(
            Router::new()
                .route("/sync/head", get(hostile_head))
                .route("/sync/changesets", get(hostile_list))
                .route("/sync/changesets/{hash}", get(hostile_body))
                .route("/sync/snapshots/{hash}", get(hostile_body))
                .with_state(Hostile {
                    bomb: bomb.clone(),
                    declared,
                    as_snapshot,
                }),
        );
        let url = format!("http://{}", hostile.addr());
        let (out, peak_kb) = run_measuring_peak_rss(&db, &["sync", "--feed", &url]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            peak_kb > 0 && peak_kb < SYNC_RSS_BOUND_KB,
            "{declared} {as_snapshot}: peak RSS {peak_kb} kB"
        );
        assert!(!out.status.success(), "{declared}: {err}");
        assert!(err.contains(says), "{declared} {as_snapshot}: {err}");
        eprintln!("bomb declared {declared} (snapshot: {as_snapshot}): peak RSS {peak_kb} kB");
        assert_eq!(digest(&db), before, "the directory is unchanged");
        assert_eq!(cursor(&db), 0);
    }
}

/// A sync that fails verification after applying some changesets says where it stopped, and
/// keeps what it applied.
#[test]
fn a_sync_that_fails_after_some_changesets_says_where_it_stopped() {
    let t = tempfile::tempdir().unwrap();
    let feed_path = build_feed(t.path(), 6, 20);
    let upstream = serve_feed(&feed_path, "127.0.0.1:0".parse().unwrap());
    let proxy = serve(
        Router::new()
            .route("/sync/head", get(cut_head))
            .route("/sync/changesets", get(cut_list))
            .route("/sync/changesets/{hash}", get(cut_body))
            .with_state(Cut {
                upstream: format!("http://{}", upstream.addr()),
                bodies_served: Arc::new(AtomicUsize::new(0)),
                bodies_allowed: Arc::new(AtomicUsize::new(3)),
                then_truncate: true,
            }),
    );
    let db = t.path().join("client.db");
    let out = signpost(
        &db,
        &["sync", "--feed", &format!("http://{}", proxy.addr())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("stopped at changeset 3") && err.contains("changeset rejected"),
        "{err}"
    );
    assert_eq!(cursor(&db), 3);
}

/// Publish `records` to the feed at `path`, as `signpost-feed import` does.
fn publish_records(path: &Path, records: Vec<Value>) {
    Directory::open_publisher(path)
        .unwrap()
        .import_sources(vec![("records".to_string(), records)], &mut |_| {})
        .unwrap();
}

fn listing_named(db: &Path, id: &str) -> Option<String> {
    let out = signpost(db, &["show", id, "--json"]);
    if !out.status.success() {
        return None;
    }
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(shown["name"].as_str().unwrap().to_string())
}

/// Issue 13: two feeds followed at once (a second `sync --feed` adds one), with deletions in
/// one of them: a listing both publish is shown once, by the later check, and a deletion in one
/// feed never removes what the other publishes.
#[test]
fn two_feeds_followed_at_once_with_deletions_in_one() {
    let t = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (t.path().join("a.db"), t.path().join("b.db"));
    publish_records(
        &a_path,
        vec![
            json!({"id": "a1", "name": "Walk A1", "status": "active"}),
            json!({"id": "a2", "name": "Choir A2", "status": "active"}),
            json!({"id": "shared", "name": "Shared from A", "status": "active", "assured_date": "2026-01-05"}),
        ],
    );
    publish_records(
        &b_path,
        vec![
            json!({"id": "b1", "name": "Library B1", "status": "active"}),
            json!({"id": "shared", "name": "Shared from B", "status": "active", "assured_date": "2026-06-01"}),
        ],
    );
    let (a, b) = (
        serve_feed(&a_path, "127.0.0.1:0".parse().unwrap()),
        serve_feed(&b_path, "127.0.0.1:0".parse().unwrap()),
    );
    let (a_url, b_url) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    let db = t.path().join("client.db");
    sync_ok(&db, &a_url);
    sync_ok(&db, &b_url);
    let feeds = |db: &Path| -> Vec<Value> {
        let out = signpost(db, &["feeds", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let counts = |db: &Path| -> Vec<(String, u64, u64, u64)> {
        feeds(db)
            .iter()
            .map(|f| {
                (
                    f["feed"].as_str().unwrap().to_string(),
                    f["listings"].as_u64().unwrap(),
                    f["shadowed"].as_u64().unwrap(),
                    f["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let mut expected = vec![(a_url.clone(), 2, 1, 1), (b_url.clone(), 2, 0, 1)];
    expected.sort();
    assert_eq!(counts(&db), expected);
    assert_eq!(
        listing_named(&db, "shared").as_deref(),
        Some("Shared from B")
    );

    // Feed A deletes a1 and its own copy of `shared` (`signpost-feed delete`).
    Directory::open_publisher(&a_path)
        .unwrap()
        .delete_all(&["a1".to_string(), "shared".to_string()])
        .unwrap();
    sync_ok(&db, &a_url);
    assert_eq!(listing_named(&db, "a1"), None);
    assert_eq!(
        listing_named(&db, "shared").as_deref(),
        Some("Shared from B")
    );
    assert_eq!(listing_named(&db, "b1").as_deref(), Some("Library B1"));
    let mut expected = vec![(a_url.clone(), 1, 0, 2), (b_url.clone(), 2, 0, 1)];
    expected.sort();
    assert_eq!(counts(&db), expected);
    assert!(feeds(&db)
        .iter()
        .all(|f| f["updated_at"].as_str().unwrap().ends_with('Z')));

    // The plain listing names each feed with its count, changeset and last update.
    let out = signpost(&db, &["feeds"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with(&a_url)
            && l.contains(" 1 listings")
            && l.contains("changeset 2")
            && l.contains("updated 20")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&b_url) && l.contains(" 2 listings")),
        "{text}"
    );

    // Unfollowing A removes what only A published, and A's place in its log.
    let out = signpost(&db, &["unfollow", &a_url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listing_named(&db, "a2"), None);
    assert_eq!(counts(&db), vec![(b_url.clone(), 2, 0, 1)]);
    assert!(!signpost(&db, &["unfollow", &a_url]).status.success());
}

/// A static head (as any web server can serve) claiming a log of a trillion pages: refused
/// before a page is fetched, the directory unchanged.
#[test]
fn a_head_claiming_an_endless_log_is_refused_at_once() {
    async fn endless_head() -> axum::Json<Value> {
        let pages: u64 = 1 << 40;
        axum::Json(json!({
            "seq": pages * 64, "hash": BOMB_HASH, "feed_id": "hostile",
            "log": {"pages": pages, "page": BOMB_HASH, "recent": []}
        }))
    }
    let pages_asked = Arc::new(AtomicUsize::new(0));
    let asked = pages_asked.clone();
    let hostile = serve(
        Router::new()
            .route("/sync/head.json", get(endless_head))
            .route(
                "/sync/log/{hash}",
                get(move || {
                    asked.fetch_add(1, Ordering::SeqCst);
                    async { axum::http::StatusCode::NOT_FOUND }
                }),
            ),
    );
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("client.db");
    let out = signpost(
        &db,
        &["sync", "--feed", &format!("http://{}", hostile.addr())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("more than the 1000000 one sync reads"),
        "{err}"
    );
    assert_eq!(pages_asked.load(Ordering::SeqCst), 0);
    assert_eq!(cursor(&db), 0);
}
