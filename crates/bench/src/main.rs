//! `signpost-bench`: builds directories of realistic size and shape and prints latency
//! percentiles, throughput and ratios against two baselines measured in the same run.
//!
//! Listings are placed like real UK data: around the real ONSPD postcode district centroids and
//! the real mobile library stops of the default region, not uniformly. Figures go to stdout as
//! Markdown, ready for BENCHMARKS.md.
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{TimeZone, Utc};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{json, Value};
use signpost_directory::{Directory, Filters, NearQuery, Region};

mod caseload;
mod coverage;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Benchmark Signpost's directory: import, index build and near-me search")]
struct Args {
    /// Directory sizes to build.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<usize>,
    /// Queries per measured figure.
    #[arg(long, default_value_t = 2000)]
    queries: usize,
    /// Queries for the brute-force baseline (it is slow).
    #[arg(long, default_value_t = 50)]
    brute_queries: usize,
    /// Seed for the synthetic data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the built databases in this folder and reuse them on the next run (import figures
    /// are then not measured).
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
    /// Feed sizes for the sync benchmark (0 to skip it).
    #[arg(long, value_delimiter = ',', default_value = "100000")]
    sync_sizes: Vec<usize>,
    /// Only write the first size's listings to this JSON file, for `signpost-feed import`
    /// (scripts/bench-feed.sh serves them to wrk).
    #[arg(long)]
    listings_file: Option<std::path::PathBuf>,
    /// Directory size for the caseload benchmark (0 to skip it).
    #[arg(long, default_value_t = 0)]
    caseload_size: usize,
    /// Run the coverage benchmark (all of England's postcode sectors) on the embedded default
    /// region and on a directory of this many listings (0: the default region only).
    #[arg(long)]
    coverage_size: Option<usize>,
    /// Run only the coverage benchmark.
    #[arg(long, requires = "coverage_size")]
    coverage_only: bool,
}

const ACCESS: &[(&str, f64)] = &[
    ("drop-in", 0.15),
    ("self-referral", 0.15),
    ("booking-required", 0.25),
    ("referral-required", 0.25),
];
const INTERESTS: &[&str] = &[
    "arts",
    "music",
    "sport",
    "nature",
    "faith",
    "learning",
    "food",
    "money",
    "peer-support",
];
const WORDS: &[&str] = &[
    "community",
    "group",
    "club",
    "centre",
    "session",
    "support",
    "friendly",
    "local",
    "weekly",
    "meet",
];
const DAYS: &[&str] = &["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Real anchor points: district centroids and stops.
fn anchors() -> Result<Vec<(f64, f64)>> {
    let gaz = signpost_postcodes::Gazetteer::embedded();
    let mut out: Vec<(f64, f64)> = gaz.districts().located().map(|(_, p)| p).collect();
    out.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let region = Region::bundled_by_id("mobile-library-stops")?;
    for (_, records) in region.records()? {
        for r in records {
            let r = r.into_value()?;
            let loc = &r["service_at_locations"][0]["location"];
            if let (Some(lat), Some(lon)) = (loc["latitude"].as_f64(), loc["longitude"].as_f64()) {
                out.push((lat, lon));
            }
        }
    }
    Ok(out)
}

fn listing(i: usize, rng: &mut StdRng, anchors: &[(f64, f64)]) -> Value {
    let (lat, lon) = anchors[rng.random_range(0..anchors.len())];
    // About 2 km of spread: a town's worth of venues around each real centre.
    let (dlat, dlon) = (rng.random_range(-0.02..0.02), rng.random_range(-0.03..0.03));
    let mut attributes = vec![];
    let roll: f64 = rng.random();
    let mut acc = 0.0;
    for (code, p) in ACCESS {
        acc += p;
        if roll < acc {
            attributes.push(json!({"taxonomy_term_id": format!("signpost:access:{code}")}));
            break;
        }
    }
    // "walking" on ~5% of listings: the selective filter in the issue.
    if rng.random_bool(0.05) {
        attributes.push(json!({"taxonomy_term_id": "signpost:interest:walking"}));
    }
    attributes.push(json!({"taxonomy_term_id": format!("signpost:interest:{}", INTERESTS[rng.random_range(0..INTERESTS.len())])}));
    if rng.random_bool(0.5) {
        attributes.push(json!({"taxonomy_term_id": "signpost:cost:free"}));
    }
    // "choir" in ~1% of names: the text query.
    let topic = if rng.random_bool(0.01) {
        "choir"
    } else {
        WORDS[rng.random_range(0..WORDS.len())]
    };
    let schedules = if rng.random_bool(0.6) {
        let open = rng.random_range(8..19);
        json!([{"freq": "WEEKLY", "byday": DAYS[rng.random_range(0..7)], "opens_at": format!("{open:02}:00"), "closes_at": format!("{:02}:00", open + 2)}])
    } else {
        json!([])
    };
    json!({
        "id": format!("bench-{i:08}"),
        "name": format!("{} {} {}", WORDS[i % WORDS.len()], topic, i),
        "description": format!("A {} {} for anyone who wants to come along.", WORDS[(i / 7) % WORDS.len()], topic),
        "status": "active",
        "organization": {"id": format!("org-{}", i / 20), "name": format!("Organisation {}", i / 20)},
        "attributes": attributes,
        "schedules": schedules,
        "service_at_locations": [{"id": format!("bench-{i:08}-sal"), "location": {
            "id": format!("bench-loc-{i:08}"), "latitude": lat + dlat, "longitude": lon + dlon}}],
    })
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn time_queries(
    queries: &[NearQuery],
    mut run: impl FnMut(&NearQuery) -> usize,
) -> (Duration, Duration, f64) {
    let mut samples = Vec::with_capacity(queries.len());
    let mut found = 0;
    for q in queries {
        let t = Instant::now();
        found += run(q);
        samples.push(t.elapsed());
    }
    let (p50, p99) = percentiles(samples);
    (p50, p99, found as f64 / queries.len() as f64)
}

/// The comparison baseline: SQLite's R*Tree, widening a box until it holds k filtered points
/// whose k-th distance fits inside the box, then sorting by haversine.
struct RtreeBaseline {
    conn: Connection,
}

impl RtreeBaseline {
    fn build(db: &Path) -> Result<RtreeBaseline> {
        let conn = Connection::open(db)?;
        conn.execute_batch(
            "DROP TABLE IF EXISTS bench_rtree;
             CREATE VIRTUAL TABLE bench_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon, +no_referral INT);
             INSERT INTO bench_rtree
               SELECT sal.rowid, l.latitude, l.latitude, l.longitude, l.longitude,
                      f.access IN ('drop-in', 'self-referral')
               FROM service_at_location sal JOIN location l ON l.rowid = sal.location_rowid
               JOIN service_facet f ON f.service_rowid = sal.service_rowid
               WHERE l.coord_status = 'ok' AND f.active = 1;",
        )?;
        Ok(RtreeBaseline { conn })
    }

    fn near(&self, q: &NearQuery) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT min_lat, min_lon FROM bench_rtree
             WHERE min_lat >= ?1 AND max_lat <= ?2 AND min_lon >= ?3 AND max_lon <= ?4 AND no_referral >= ?5",
        )?;
        let need_nr = q.filters.no_referral as i64;
        let mut half_km = 0.5f64;
        loop {
            let dlat = half_km / 111.2;
            let dlon = half_km / (111.2 * q.latitude.to_radians().cos());
            let mut d: Vec<f64> = stmt
                .query_map(
                    rusqlite::params![
                        q.latitude - dlat,
                        q.latitude + dlat,
                        q.longitude - dlon,
                        q.longitude + dlon,
                        need_nr
                    ],
                    |r| Ok(haversine(q.latitude, q.longitude, r.get(0)?, r.get(1)?)),
                )?
                .collect::<rusqlite::Result<_>>()?;
            d.sort_by(f64::total_cmp);
            let enough = d.len() >= q.limit && d[q.limit - 1] <= half_km * 1000.0;
            if enough || half_km * 1000.0 >= q.radius_m {
                d.retain(|x| *x <= q.radius_m);
                d.truncate(q.limit);
                return Ok(d.len());
            }
            half_km *= 2.0;
        }
    }
}

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

fn bench_size(n: usize, args: &Args, anchors: &[(f64, f64)]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let db_path = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.join(format!("bench-{n}-{}.db", args.seed))
        }
        None => tmp.path().join("bench.db"),
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let reuse = db_path.exists();

    // Import, in chunks so memory stays bounded; generation is not timed.
    let mut dir = Directory::open(&db_path)?;
    let mut import_time = Duration::ZERO;
    let chunk = 50_000;
    let mut i = if reuse { n } else { 0 };
    while i < n {
        let records: Vec<Value> = (i..(i + chunk).min(n))
            .map(|j| listing(j, &mut rng, anchors))
            .collect();
        i += records.len();
        let t = Instant::now();
        let report = dir.import_sources(vec![("bench".into(), records)], &mut |_| {})?;
        import_time += t.elapsed();
        anyhow::ensure!(
            report.errors.is_empty(),
            "bench data invalid: {}",
            report.errors[0]
        );
    }
    dir.connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    drop(dir);
    let bytes = std::fs::metadata(&db_path)?.len();

    // Open and build the index, cold process state aside.
    let t = Instant::now();
    let dir = Directory::open(&db_path)?;
    let index = dir.index()?;
    let ready = t.elapsed();
    let t = Instant::now();
    index.warm(dir.connection())?;
    let warm = t.elapsed();

    let queries: Vec<NearQuery> = (0..args.queries)
        .map(|_| {
            let (lat, lon) = anchors[rng.random_range(0..anchors.len())];
            NearQuery::at(
                lat + rng.random_range(-0.02..0.02),
                lon + rng.random_range(-0.02..0.02),
            )
        })
        .collect();
    let with = |f: &dyn Fn(&mut Filters)| -> Vec<NearQuery> {
        queries
            .iter()
            .map(|q| {
                let mut q = q.clone();
                f(&mut q.filters);
                q
            })
            .collect()
    };
    let no_ref = with(&|f| f.no_referral = true);
    let walking = with(&|f| f.interests = vec!["walking".into()]);
    let text = with(&|f| f.text = Some("choir".into()));
    // A Tuesday at 10:30 UK time.
    let tuesday = Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).unwrap();
    let open = with(&|f| f.open_at = Some(tuesday));

    let search = |q: &NearQuery| dir.search(q).map(|h| h.len()).unwrap_or(0);
    let plain = time_queries(&queries, search);
    let nr = time_queries(&no_ref, search);
    let walk = time_queries(&walking, search);
    let txt = time_queries(&text, search);
    let op = time_queries(&open, search);
    let full = time_queries(&no_ref, |q| {
        dir.near(q, tuesday).map(|h| h.len()).unwrap_or(0)
    });
    // What a person waits for: the whole query, rows, open now and next session included.
    let near_rows = |q: &NearQuery| dir.near(q, tuesday).map(|h| h.len()).unwrap_or(0);
    let whole = time_queries(&queries, near_rows);
    let whole_open = time_queries(&open, near_rows);
    let whole_text = time_queries(&text, near_rows);
    // A text never asked before each time ("choir" and a number in one name), so none of the
    // index's remembered matches help: the cost of a first ask of a word.
    let first_texts: Vec<NearQuery> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut q = q.clone();
            q.filters.text = Some(format!("choir {}", (i * 7919) % n));
            q
        })
        .collect();
    let first_text = time_queries(&first_texts, near_rows);

    let brute_q = &no_ref[..args.brute_queries.min(no_ref.len())];
    let brute = time_queries(brute_q, |q| {
        index
            .brute_force(dir.connection(), q)
            .map(|h| h.len())
            .unwrap_or(0)
    });
    let rtree = RtreeBaseline::build(&db_path)?;
    let rt = time_queries(&no_ref, |q| rtree.near(q).unwrap_or(0));

    // Check the baselines found what the index found (same counts per query).
    let mismatch = no_ref
        .iter()
        .take(200)
        .filter(|q| rtree.near(q).unwrap_or(0) != search(q))
        .count();
    let distinct_services: HashSet<u32> = no_ref
        .iter()
        .take(50)
        .flat_map(|q| {
            dir.search(q)
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.service)
        })
        .collect();

    println!("\n### {n} listings\n");
    println!("| figure | p50 | p99 | mean results |");
    println!("|---|---|---|---|");
    for (name, (p50, p99, found)) in [
        ("near k=20, no filter", plain),
        ("near k=20, --no-referral (~30%)", nr),
        ("near k=20, --interest walking (~5%)", walk),
        ("text \"choir\" (~1%) + near", txt),
        ("open-now + near (Tue 10:30)", op),
        (
            "near k=20 --no-referral, with row fetch (names, open_now)",
            full,
        ),
        (
            "whole query: near k=20, rows, open now and next session",
            whole,
        ),
        ("whole query: open-now + near (Tue 10:30), rows", whole_open),
        ("whole query: text \"choir\" + near, rows", whole_text),
        (
            "whole query: text never asked before (\"choir N\") + near, rows",
            first_text,
        ),
        ("baseline: brute-force haversine scan, --no-referral", brute),
        (
            "baseline: SQLite R*Tree widening window + sort, --no-referral",
            rt,
        ),
    ] {
        println!(
            "| {name} | {} | {} | {found:.1} |",
            micros(p50),
            micros(p99)
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    println!(
        "- R*Tree window / index (p50): **{:.1}×**; brute force / index (p50): **{:.0}×**",
        ratio(rt.0, nr.0),
        ratio(brute.0, nr.0)
    );
    if !reuse {
        println!(
            "- import: {:.0} listings/s ({n} in {:.1} s)",
            n as f64 / import_time.as_secs_f64(),
            import_time.as_secs_f64()
        );
    }
    println!(
        "- database: {} bytes, {:.0} bytes per listing",
        bytes,
        bytes as f64 / n as f64
    );
    println!("- open + index ready: {:.0} ms ({} points); facet trees and schedules warmed in a further {:.0} ms", ready.as_secs_f64() * 1e3, index.point_count(), warm.as_secs_f64() * 1e3);
    println!("- check: R*Tree baseline result counts differ from the index on {mismatch} of 200 queries; {} distinct services in 50 result lists", distinct_services.len());
    Ok(())
}

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Initial sync of `n` listings from a feed on loopback, then a sync after 1% changed.
fn bench_sync(n: usize, args: &Args, anchors: &[(f64, f64)]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let feed_path = tmp.path().join("feed.db");
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut feed = Directory::open_publisher(&feed_path)?;
    let records: Vec<Value> = (0..n).map(|i| listing(i, &mut rng, anchors)).collect();
    feed.import_sources(vec![("bench".into(), records)], &mut |_| {})?;
    drop(feed);
    let rss_before = rss_bytes();
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = signpost_feed::router(signpost_feed::AppState::new(Directory::open(&feed_path)?));
    runtime.spawn(signpost_feed::serve(
        listener,
        app,
        signpost_feed::Limits::default(),
        std::future::pending(),
    ));

    let mut client = Directory::open(&tmp.path().join("client.db"))?;
    let mut bytes_initial = 0;
    let t = Instant::now();
    signpost_sync::sync(
        &mut client,
        &url,
        &signpost_sync::Options::default(),
        &mut |p| bytes_initial = p.bytes_total,
    )?;
    let initial = t.elapsed();
    let rss_server = rss_bytes().saturating_sub(rss_before);

    // Change 1% of the listings on the feed.
    let mut feed = Directory::open_publisher(&feed_path)?;
    let changed: Vec<Value> = (0..n / 100)
        .map(|k| {
            let i = k * 100;
            let mut l = listing(i, &mut rng, anchors);
            l["name"] = json!(format!("Renamed listing {i}"));
            l
        })
        .collect();
    feed.import_sources(vec![("bench change".into(), changed)], &mut |_| {})?;
    drop(feed);
    let mut bytes_delta = 0;
    let t = Instant::now();
    signpost_sync::sync(
        &mut client,
        &url,
        &signpost_sync::Options::default(),
        &mut |p| bytes_delta = p.bytes_total,
    )?;
    let delta = t.elapsed();
    let same = client.digest()? == Directory::open(&feed_path)?.digest()?;

    println!("\n### Sync of {n} listings over loopback\n");
    println!(
        "- initial sync: {:.2} s ({} bytes of changesets, uncompressed)",
        initial.as_secs_f64(),
        bytes_initial
    );
    println!(
        "- after 1% changed: {:.2} s, {} bytes = {:.2}% of the initial sync",
        delta.as_secs_f64(),
        bytes_delta,
        bytes_delta as f64 * 100.0 / bytes_initial.max(1) as f64
    );
    println!("- digests equal after sync: {same}");
    println!(
        "- process memory grown by serving and syncing {n} listings: {} MB",
        rss_server / 1_000_000
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let anchors = anchors()?;
    println!(
        "Signpost benchmark: {} anchors (postcode district centroids + mobile library stops)",
        anchors.len()
    );
    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    if let Some(path) = &args.listings_file {
        let n = args.sizes.first().copied().unwrap_or(100_000);
        let mut rng = StdRng::seed_from_u64(args.seed);
        let records: Vec<Value> = (0..n).map(|i| listing(i, &mut rng, &anchors)).collect();
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        serde_json::to_writer(file, &records)?;
        println!("{n} listings written to {}", path.display());
        return Ok(());
    }
    if let Some(n) = args.coverage_size {
        coverage::bench_coverage(n, args.seed, args.keep.as_deref(), &|i, rng| {
            listing(i, rng, &anchors)
        })?;
        if args.coverage_only {
            return Ok(());
        }
    }
    for &n in &args.sizes {
        bench_size(n, &args, &anchors)?;
    }
    for &n in args.sync_sizes.iter().filter(|n| **n > 0) {
        bench_sync(n, &args, &anchors)?;
    }
    if args.caseload_size > 0 {
        caseload::bench_caseload(args.caseload_size, args.seed, &|i, rng| {
            listing(i, rng, &anchors)
        })?;
    }
    Ok(())
}
