//! Issue 11's two figures, against the real server on 127.0.0.1:
//! 1. submissions accepted per second: valid listings posted by many concurrent clients, each
//!    body parsed, checked against the submission rules and stored durably (WAL, `synchronous =
//!    FULL`) before its 202; every one is counted in the queue afterwards;
//! 2. approval to near-me: a moderator's approval, then a client that already holds the feed
//!    syncs and finds the listing near its point.
//!
//! The per-address limit stays on: each client sends from its own loopback address
//! (127.w.x.y), as many devices would, within the burst the limit allows.
//!
//! `cargo bench -p signpost-feed --bench submissions [-- N]` (default 3,000 submissions).
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_directory::{Directory, NearQuery};

const CONCURRENCY: usize = 32;
/// Submissions per loopback address: within the write limit's burst.
const PER_ADDRESS: usize = 25;

fn listing(n: usize) -> Value {
    let lat = 51.40 + (n % 100) as f64 * 0.001;
    let lon = -2.65 + (n / 100 % 100) as f64 * 0.001;
    json!({
        "id": format!("bench-sub-{n}"), "name": format!("Bench walking group {n}"), "status": "active",
        "description": "A friendly walk round the park, then tea.",
        "attributes": [{"taxonomy_term_id": "signpost:interest:walking"},
                       {"taxonomy_term_id": "signpost:access:drop-in"}],
        "service_at_locations": [{"id": format!("bench-sub-{n}-sal"), "location": {
            "id": format!("bench-sub-{n}-loc"), "name": "Park gates", "latitude": lat, "longitude": lon}}]
    })
}

fn client_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3000);
    let tmp = tempfile::tempdir().unwrap();
    let feed_db = tmp.path().join("feed.db");
    let queue = tmp.path().join("moderation.db");
    {
        let mut publisher = Directory::open_publisher(&feed_db).unwrap();
        let base: Vec<Value> = (0..2000).map(|i| listing(1_000_000 + i)).collect();
        publisher
            .import_sources(vec![("bench-base".into(), base)], &mut |_| {})
            .unwrap();
    }
    let state = signpost_feed::AppState::new(Directory::open_publisher(&feed_db).unwrap())
        .with_moderation(signpost_moderation::Moderation::open(&queue).unwrap());
    let feed = signpost_feed::Background::serve(
        "127.0.0.1:0".parse().unwrap(),
        signpost_feed::router(state),
    )
    .unwrap();
    let base = format!("http://{}", feed.addr());
    println!(
        "## Submissions (issue 11), {} cores, {}\n",
        std::thread::available_parallelism().map_or(0, |p| p.get()),
        chrono::Utc::now().format("%F")
    );

    // 1. Submissions accepted per second.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut latencies: Vec<Duration> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for worker in 0..CONCURRENCY {
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                let mut took = Vec::new();
                let mut client = None;
                for (k, i) in (worker..n).step_by(CONCURRENCY).enumerate() {
                    if k % PER_ADDRESS == 0 {
                        // A new device on a new address.
                        let block = k / PER_ADDRESS;
                        let ip = IpAddr::V4(Ipv4Addr::new(
                            127,
                            1 + worker as u8,
                            (block / 250) as u8,
                            (block % 250 + 2) as u8,
                        ));
                        client = Some(
                            reqwest::Client::builder()
                                .local_address(ip)
                                .build()
                                .unwrap(),
                        );
                    }
                    let body = json!({"client_id": client_id(worker * 1_000_000 + k / PER_ADDRESS), "seq": k % PER_ADDRESS + 1, "service": listing(i)});
                    let t = Instant::now();
                    let r = client
                        .as_ref()
                        .unwrap()
                        .post(format!("{base}/submissions"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap();
                    assert_eq!(status, 202, "{text}");
                    took.push(t.elapsed());
                }
                took
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    latencies.sort();
    let stored = signpost_moderation::Moderation::open(&queue)
        .unwrap()
        .pending()
        .unwrap()
        .len();
    assert_eq!(stored, n, "every accepted submission is in the queue");
    println!("| figure | value |\n|---|---|");
    println!(
        "| submissions accepted per second ({n} valid listings, {CONCURRENCY} concurrent clients, each stored durably before its 202) | {:.0} |",
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "| latency of one submission, p50 / p99 | {} / {} |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );

    // 2. Approval to near-me, for a client that already holds the feed.
    let client_tmp = tempfile::tempdir().unwrap();
    let mut app = Directory::open(&client_tmp.path().join("app.db")).unwrap();
    signpost_sync::sync(
        &mut app,
        &base,
        &signpost_sync::Options::default(),
        &mut |_| {},
    )
    .unwrap();
    let mut moderation = signpost_moderation::Moderation::open(&queue).unwrap();
    let mut publisher = Directory::open_publisher(&feed_db).unwrap();
    let pending = moderation.pending().unwrap();
    let mut spans = Vec::new();
    for item in pending.iter().take(20) {
        let point = &item.body["service"]["service_at_locations"][0]["location"];
        let (lat, lon) = (
            point["latitude"].as_f64().unwrap(),
            point["longitude"].as_f64().unwrap(),
        );
        let t = Instant::now();
        moderation
            .approve(&item.id, "bench", &mut publisher, chrono::Utc::now())
            .unwrap();
        signpost_sync::sync(
            &mut app,
            &base,
            &signpost_sync::Options::default(),
            &mut |_| {},
        )
        .unwrap();
        let mut q = NearQuery::at(lat, lon);
        q.radius_m = 50.0;
        q.limit = 50;
        let found = app
            .near(&q, chrono::Utc::now())
            .unwrap()
            .iter()
            .any(|r| r.service_id == item.service_id);
        spans.push(t.elapsed());
        assert!(
            found,
            "{} is near its point after the sync",
            item.service_id
        );
    }
    spans.sort();
    println!(
        "| approval to near-me (approve, the client's sync, its near-me query), p50 / max of {} | {} / {} |",
        spans.len(),
        ms(percentile(&spans, 0.5)),
        ms(*spans.last().unwrap())
    );
    drop(feed);
}
