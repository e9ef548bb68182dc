//! App benchmarks on the real binary (release build) under Xvfb, driven through tauri-driver:
//! cold start to first results on screen, filter change to repaint, memory, binary size, with
//! 100,000 listings. Prints its figures; BENCHMARKS.md records them.
#[path = "../tests/driver/mod.rs"]
mod driver;

use std::time::{Duration, Instant};

use driver::*;
use serde_json::json;
use signpost_directory::Directory;

const LISTINGS: usize = 100_000;

/// 100k listings spread over Great Britain's towns, like a national directory, with a search
/// remembered from last time (so the app searches as it opens).
fn data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let mut dir = Directory::open(&data.path().join("directory.db")).unwrap();
    let mut seed: u64 = 42;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1_000_000) as f64 / 1_000_000.0
    };
    let access = [
        "drop-in",
        "self-referral",
        "booking-required",
        "referral-required",
    ];
    let interests = ["walking", "music", "arts", "food", "money", "peer-support"];
    let records: Vec<_> = (0..LISTINGS)
        .map(|i| {
            let (lat, lon) = (50.5 + next() * 4.5, -4.5 + next() * 6.0);
            let day = ["MO", "TU", "WE", "TH", "FR"][i % 5];
            json!({"id": format!("b{i}"), "name": format!("Community group {i}"), "status": "active",
                   "description": "A weekly group open to everyone in the area.",
                   "attributes": [
                       {"taxonomy_term_id": format!("signpost:access:{}", access[i % 4])},
                       {"taxonomy_term_id": format!("signpost:interest:{}", interests[i % 6])},
                       {"taxonomy_term_id": if i % 3 == 0 { "signpost:cost:free" } else { "signpost:cost:paid" }}],
                   "schedules": [{"freq": "WEEKLY", "byday": day, "opens_at": "10:00", "closes_at": "12:00"}],
                   "service_at_locations": [{"id": format!("bs{i}"), "location": {"id": format!("bl{i}"), "latitude": lat, "longitude": lon}}]})
        })
        .collect();
    let report = dir
        .import_sources(vec![("bench".into(), records)], &mut |_| {})
        .unwrap();
    assert_eq!(report.inserted, LISTINGS);
    let personal = signpost_personal::Personal::open(&data.path().join("personal.db")).unwrap();
    personal
        .set_setting(
            signpost_personal::Setting::LastSearch,
            r#"{"place": "B1", "radius_km": 10, "limit": 50, "no_referral": false, "free": false, "wheelchair": false, "when": {"kind": "any"}}"#,
        )
        .unwrap();
    data
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Resident memory (kB) of a process and its children (the WebKit web and network processes).
fn tree_rss_kb(pid: u32) -> (u64, u64) {
    let rss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    };
    let mut total = rss(pid);
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        total += tree_rss_kb(child).1;
    }
    (rss(pid), total)
}

fn app_pid() -> Option<u32> {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_signpost-app")).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        (std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == exe).then_some(pid)
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for the list of benchmarks.
    }
    let started = Instant::now();
    let data = data_dir();
    println!(
        "prepared {LISTINGS} listings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_signpost-app"))
        .unwrap()
        .len();
    println!("app binary (UI embedded): {:.1} MB", binary as f64 / 1e6);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Keep the data folder between launches: `launch` takes ownership, so hand over a copy.
    let mut cold = Vec::new();
    for run in 0..5 {
        let copy = tempfile::tempdir().unwrap();
        for f in ["directory.db", "personal.db"] {
            std::fs::copy(data.path().join(f), copy.path().join(f)).unwrap();
        }
        runtime.block_on(async {
            let t0 = Instant::now();
            let app = launch(copy).await;
            wait_until(&app, "first results", "return document.querySelectorAll('#results .result').length > 0").await;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            println!("cold start {run}: {ms:.0} ms to first results on screen");
            cold.push(ms);
            if run == 4 {
                let mut repaint = Vec::new();
                for _ in 0..40 {
                    let before = js(&app, "return Number(document.body.dataset.searches || 0)").await.as_u64().unwrap();
                    click(&app, "#f-free").await;
                    wait_until(&app, "repaint", &format!("return Number(document.body.dataset.searches || 0) > {before}")).await;
                    repaint.push(js(&app, "return Number(document.body.dataset.repaintMs)").await.as_f64().unwrap());
                }
                repaint.sort_by(f64::total_cmp);
                println!(
                    "filter change to repaint (40 toggles of Free, 50 rows): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                    percentile(&repaint, 0.5), percentile(&repaint, 0.95), repaint[repaint.len() - 1]
                );
                if let Some(pid) = app_pid() {
                    let (own, tree) = tree_rss_kb(pid);
                    println!("memory with {LISTINGS} listings loaded: app process {:.0} MB RSS; with its WebKit processes {:.0} MB", own as f64 / 1024.0, tree as f64 / 1024.0);
                }
            }
            app.client.close().await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        });
    }
    cold.sort_by(f64::total_cmp);
    println!(
        "cold start to first results, {LISTINGS} listings: median {:.0} ms, worst {:.0} ms (5 launches)",
        percentile(&cold, 0.5),
        cold[cold.len() - 1]
    );

    // The bundled default regions, as a new user meets them: the first start on a fresh data
    // folder loads them; then a search; then later starts, which search as they open.
    runtime.block_on(async {
        let t0 = Instant::now();
        let app = launch(tempfile::tempdir().unwrap()).await;
        let first = t0.elapsed().as_secs_f64() * 1000.0;
        search_for(&app, "Wigan").await;
        let info = js(&app, "return document.querySelector('#coverage').textContent").await;
        println!("first start on a fresh data folder, bundled regions loaded: {first:.0} ms to the search screen ({info})");
        app.client.clone().close().await.unwrap();
        let mut data = app.into_data();
        let mut later = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let t0 = Instant::now();
            let app = launch(data).await;
            wait_until(&app, "first results", "return document.querySelectorAll('#results .result').length > 0").await;
            later.push(t0.elapsed().as_secs_f64() * 1000.0);
            app.client.clone().close().await.unwrap();
            data = app.into_data();
        }
        later.sort_by(f64::total_cmp);
        println!(
            "cold start to first results, bundled regions (12,624 listings, Wigan remembered): median {:.0} ms, worst {:.0} ms (5 launches)",
            percentile(&later, 0.5),
            later[later.len() - 1]
        );
    });
}
