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
    Background::serve("127.0.0.1:0".parse().unwrap(), app).unwrap()
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
