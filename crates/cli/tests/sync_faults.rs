//! Fault injection for `signpost sync`: kills at random instants, a feed that corrupts or
//! truncates changesets, and a feed that goes away mid-sync. The feed server runs in-process on
//! 127.0.0.1 with a random port; the client is the real `signpost` binary.
mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
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
    serve_at("127.0.0.1:0".parse().unwrap(), app)
}

fn serve_at(addr: SocketAddr, app: Router) -> Background {
    Background::serve(addr, app).unwrap()
}

/// A feed of `batches` changesets of `per_batch` listings each.
fn build_feed(dir: &Path, batches: usize, per_batch: usize) -> PathBuf {
    let path = dir.join("feed.db");
    let mut feed = Directory::open_publisher(&path).unwrap();
    for b in 0..batches {
        let records: Vec<Value> = (0..per_batch)
            .map(|i| {
                let n = b * per_batch + i;
                json!({"id": format!("f{n:06}"), "name": format!("Listing {n}"), "status": "active",
                       "description": "A community group with a fairly long description so that changesets have some weight to them.",
                       "service_at_locations": [{"location": {"id": format!("l{n}"), "latitude": 51.0 + (n % 100) as f64 / 100.0, "longitude": -2.0 + (n / 100) as f64 / 100.0}}]})
            })
            .collect();
        feed.import_sources(vec![(format!("batch {b}"), records)], &mut |_| {})
            .unwrap();
    }
    path
}

fn digest(db: &Path) -> String {
    String::from_utf8(signpost(db, &["digest"]).stdout)
        .unwrap()
        .trim()
        .to_string()
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
    let addr = serve(app()).addr();
    let url = format!("http://{addr}");
    let mut applied_before_restart = 0;
    for attempt in 0..20 {
        let served = serve_at(addr, app());
        let child = Command::new(env!("CARGO_BIN_EXE_signpost"))
            .arg("--db")
            .arg(&db)
            .args(["sync", "--feed", &url])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(60));
        drop(served); // The server stops (a restart, from the client's side).
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "attempt {attempt}");
        assert!(integrity_ok(&db));
        let cursor: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT coalesce(max(seq), 0) FROM sync_state", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        assert!(
            cursor >= applied_before_restart,
            "the cursor never goes back"
        );
        applied_before_restart = cursor;
        if cursor == 30 {
            break;
        }
    }
    // Whatever was left is fetched once the feed is back.
    let _served = serve_at(addr, app());
    let out = signpost(&db, &["sync", "--feed", &url]);
    assert!(out.status.success());
    assert_eq!(digest(&db), feed_digest);
}
