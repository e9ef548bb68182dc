//! Coverage across England (issue 12, part 6): for each of England's ~10,000 postcode sectors,
//! the km to the nearest no-referral listing in each CMHF domain, on the embedded default
//! region and on a million synthetic listings. Goal: ≤ 5 s.
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use signpost_browse::coverage::{coverage, sectors_in, Area, Coverage};
use signpost_directory::{Directory, Region};
use signpost_postcodes::embedded_sectors;

/// A listing's CMHF domain, from its number by a multiplicative hash (no draw from the random
/// generator, so every other field is what the other benchmarks make): ~39% personal
/// interests, ~31% local facilities, ~27% health and social care, ~3% personal relationships
/// (a rare domain, as in real data).
fn domain_of(i: usize) -> &'static str {
    match (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58 {
        0..=24 => "personal-interests",
        25..=44 => "local-facilities",
        45..=61 => "health-and-social-care",
        _ => "personal-relationships",
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Run coverage over England `runs` times; the times and the last answer.
fn england(dir: &Directory, runs: usize) -> Result<(Vec<Duration>, Coverage)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(coverage(dir, embedded_sectors(), &Area::England)?);
        times.push(t.elapsed());
    }
    Ok((times, last.expect("at least one run")))
}

fn report(name: &str, index_ready: Duration, times: &[Duration], c: &Coverage) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let found: Vec<String> = c
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let within5 = c
                .rows
                .iter()
                .filter(|r| r.nearest_km[i].is_some_and(|k| k <= 5.0))
                .count();
            format!("{} {within5}", d.code)
        })
        .collect();
    println!(
        "| {name} | {} | {} | {} | {} | {} |",
        c.rows.len(),
        secs(index_ready),
        secs(times[0]),
        secs(sorted[sorted.len() / 2]),
        found.join(", ")
    );
}

pub fn bench_coverage(
    n: usize,
    seed: u64,
    keep: Option<&Path>,
    listing: &dyn Fn(usize, &mut StdRng) -> Value,
) -> Result<()> {
    let england_sectors = sectors_in(embedded_sectors(), &Area::England)?.len();
    println!("\n### Coverage across England ({england_sectors} sectors)\n");
    println!("| directory | sectors | open + index ready | first run | median of 5 | sectors with one within 5 km, per domain |");
    println!("|---|---|---|---|---|---|");

    // The bundled default regions, as a fresh app or CLI has them.
    let tmp = tempfile::tempdir()?;
    {
        let path = tmp.path().join("default.db");
        let mut dir = Directory::open(&path)?;
        dir.ensure_regions(&Region::bundled_defaults()?)?;
        drop(dir);
        let t = Instant::now();
        let dir = Directory::open(&path)?;
        dir.index()?;
        let ready = t.elapsed();
        let (times, c) = england(&dir, 5)?;
        report(
            &format!(
                "bundled defaults ({} listings)",
                dir.index()?.service_count()
            ),
            ready,
            &times,
            &c,
        );
    }

    if n > 0 {
        let path = match keep {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                d.join(format!("coverage-{n}-{seed}.db"))
            }
            None => tmp.path().join("coverage.db"),
        };
        if !path.exists() {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut dir = Directory::open(&path)?;
            let chunk = 50_000;
            let mut i = 0;
            while i < n {
                let records: Vec<Value> = (i..(i + chunk).min(n))
                    .map(|j| {
                        let mut l = listing(j, &mut rng);
                        if let Some(a) = l["attributes"].as_array_mut() {
                            a.push(json!({"taxonomy_term_id": format!("signpost:domain:{}", domain_of(j))}));
                        }
                        l
                    })
                    .collect();
                i += records.len();
                let r = dir.import_sources(vec![("bench".into(), records)], &mut |_| {})?;
                anyhow::ensure!(r.errors.is_empty(), "bench data invalid: {}", r.errors[0]);
            }
            dir.connection()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        let t = Instant::now();
        let dir = Directory::open(&path)?;
        dir.index()?;
        let ready = t.elapsed();
        let (times, c) = england(&dir, 5)?;
        report(&format!("synthetic, {n} listings"), ready, &times, &c);
    }
    println!(
        "\n- one run: for each of the 4 domains, a tree of the no-referral listings in it, then one \
         nearest-neighbour walk per sector ({} threads)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
