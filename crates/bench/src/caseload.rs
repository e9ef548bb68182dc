//! The caseload's figures (issue 10): unlock, the first screen with 1,000 people, suggestions
//! at a million listings, and "something new for someone" after a 1% change.
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use signpost_caseload::suggest::{self, Options};
use signpost_caseload::{Caseload, PersonDetails};
use signpost_directory::Directory;

use crate::percentiles;

const INTERESTS: &[&str] = &[
    "arts", "music", "sport", "walking", "nature", "learning", "food",
];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const PARTS: &[&str] = &["morning", "afternoon", "evening"];

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn people(n: usize, rng: &mut StdRng) -> Vec<PersonDetails> {
    let gazetteer = signpost_postcodes::Gazetteer::embedded();
    // Only districts a home area can be (Northern Ireland's are not covered).
    let mut districts: Vec<String> = gazetteer
        .districts()
        .located()
        .map(|(k, _)| k.to_string())
        .filter(|k| gazetteer.resolve(k).is_ok())
        .collect();
    // The table is a hash map: sorted, the same seed gives the same people.
    districts.sort();
    (0..n)
        .map(|i| PersonDetails {
            name: format!("Person {i}"),
            home_area: districts[rng.random_range(0..districts.len())].clone(),
            interests: (0..rng.random_range(1..3))
                .map(|_| INTERESTS[rng.random_range(0..INTERESTS.len())].to_string())
                .collect(),
            free_times: (0..rng.random_range(3..9))
                .map(|_| {
                    format!(
                        "{}-{}",
                        DAYS[rng.random_range(0..7)],
                        PARTS[rng.random_range(0..3)]
                    )
                })
                .collect(),
            goals: "get out of the house more and meet people".into(),
            no_referral_only: rng.random_bool(0.3),
            ..PersonDetails::default()
        })
        .collect()
}

/// Build an `n`-listing directory with `listing`, then measure.
pub fn bench_caseload(
    n: usize,
    seed: u64,
    listing: &dyn Fn(usize, &mut StdRng) -> Value,
) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let db = tmp.path().join("directory.db");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut dir = Directory::open(&db)?;
    for start in (0..n).step_by(50_000) {
        let records: Vec<Value> = (start..(start + 50_000).min(n))
            .map(|i| listing(i, &mut rng))
            .collect();
        dir.import_sources(vec![("bench".into(), records)], &mut |_| {})?;
    }
    drop(dir);
    let dir = Directory::open(&db)?;
    dir.index()?.warm(dir.connection())?;
    println!("\n### Caseload at {n} listings\n");

    // Unlock: argon2id with its chosen parameters, then SQLCipher's first page.
    let path = tmp.path().join("caseload.db");
    let passphrase = "benchmark passphrase of reasonable length";
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    {
        let c = Caseload::create(&path, passphrase)?;
        let everyone = people(1000, &mut rng);
        let ids = c.add_people(&everyone, today)?;
        for (i, id) in ids.iter().enumerate() {
            c.add_follow_up(
                id,
                today + chrono::Duration::days(i as i64 % 60 - 20),
                "ring",
            )?;
        }
    }
    let mut unlocks = Vec::new();
    let mut screens = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let c = Caseload::open(&path, passphrase)?;
        let unlocked = t.elapsed();
        let t = Instant::now();
        let agenda = c.agenda(today)?;
        screens.push(t.elapsed());
        unlocks.push(unlocked);
        anyhow::ensure!(agenda.people.len() == 1000);
    }
    let (u50, u99) = percentiles(unlocks);
    let (s50, s99) = percentiles(screens);
    println!("| figure | p50 | p99 (max of 7) |\n|---|---|---|");
    println!(
        "| unlock (argon2id 64 MiB, 3 passes, 4 lanes; SQLCipher key check) | {} | {} |",
        ms(u50),
        ms(u99)
    );
    println!(
        "| first screen after unlock, 1,000 people (agenda: due, overdue, people) | {} | {} |",
        ms(s50),
        ms(s99)
    );

    // Suggestions for 250 people on the caseload.
    let c = Caseload::open(&path, passphrase)?;
    let caseload: Vec<_> = c.all_people()?.into_iter().take(250).collect();
    let now = Utc
        .with_ymd_and_hms(2026, 12, 3, 9, 30, 0)
        .single()
        .expect("time");
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..4 {
        for p in &caseload {
            let t = Instant::now();
            found += suggest::suggest(&dir, p, now, Options::default())?.len();
            times.push(t.elapsed());
        }
    }
    let (p50, p99) = percentiles(times);
    println!(
        "| suggestions for one person (10, within 5 km; 1,000 runs over 250 people) | {} | {} |",
        ms(p50),
        ms(p99)
    );
    println!(
        "\n{} suggestions in all ({:.1} a person).",
        found,
        found as f64 / 1000.0
    );

    // Something new for someone: a baseline, a 1% change, then the check.
    let small = Caseload::create(&tmp.path().join("small.db"), passphrase)?;
    let ids: Vec<String> = caseload.iter().map(|p| p.id.clone()).collect();
    let details: Vec<PersonDetails> = caseload.iter().map(|p| p.details.clone()).collect();
    small.add_people(&details, today)?;
    let _ = ids;
    suggest::new_for_people(&small, &dir, now, Options::default(), true)?;
    drop(dir);
    let mut dir = Directory::open(&db)?;
    let mut change = StdRng::seed_from_u64(seed + 1);
    let changed: Vec<Value> = (0..n / 100)
        .map(|_| {
            let i = change.random_range(0..n);
            let mut l = listing(i, &mut StdRng::seed_from_u64(i as u64));
            l["name"] = Value::String(format!("Renamed listing {i}"));
            l["id"] = Value::String(format!("bench-{i:08}"));
            l
        })
        .collect();
    let report = dir.import_sources(vec![("bench-change".into(), changed)], &mut |_| {})?;
    drop(dir);
    let dir = Directory::open(&db)?;
    let t = Instant::now();
    dir.index()?.warm(dir.connection())?;
    let index = t.elapsed();
    let t = Instant::now();
    let new = suggest::new_for_people(&small, &dir, now, Options::default(), true)?;
    let took = t.elapsed();
    println!(
        "\nSomething new for someone after a 1% change ({} listings replaced, {} new): {} for 250 people ({}); before it, rebuilding and warming the search index after the sync's reopen (which the first search after any sync pays): {}.",
        report.replaced,
        report.inserted,
        ms(took),
        new.headline().unwrap_or_else(|| "nothing new".into()),
        ms(index)
    );
    Ok(())
}
