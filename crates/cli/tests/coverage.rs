//! `signpost coverage` as a user runs it: the CSV contract, the summary, and its errors.
mod common;

use std::path::Path;

use common::signpost;

const HEADER: &str = "sector,latitude,longitude,postcodes,health-and-social-care_km,\
local-facilities_km,personal-interests_km,personal-relationships_km";

/// A directory holding the Greater Manchester region (its libraries are drop-in local
/// facilities; nothing else there needs no referral).
fn gm(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("gm.db");
    let region = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../regions/greater-manchester");
    let out = signpost(&db, &["load-region", region.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn csv_has_the_contract_columns_in_taxonomy_order_and_empty_cells_for_none() {
    let t = tempfile::tempdir().unwrap();
    let db = gm(t.path());
    let csv = stdout(&signpost(
        &db,
        &[
            "coverage",
            "--postcode",
            "M1 1AE",
            "--radius-km",
            "3",
            "--csv",
        ],
    ));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert!(rows.len() >= 10, "{csv}");
    assert!(rows.iter().any(|r| r[0] == "M1 1"));
    let at = signpost_postcodes::Gazetteer::embedded()
        .resolve("M1 1AE")
        .unwrap();
    let centre = (at.latitude, at.longitude);
    for r in &rows {
        assert_eq!(r.len(), 8, "{r:?}");
        let (lat, lon): (f64, f64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        // Within 3 km of the postcode (a degree of latitude is 111 km; of longitude, 66 here).
        let km = ((lat - centre.0) * 111.2).hypot((lon - centre.1) * 66.2);
        assert!(km <= 3.05, "{r:?} is {km} km away");
        assert!(r[3].parse::<u32>().unwrap() > 0);
        // Libraries: a local facility needing no referral is near; nothing else is listed so.
        let local: f64 = r[5].parse().unwrap();
        assert!((0.0..5.0).contains(&local), "{r:?}");
        for empty in [&r[4], &r[6], &r[7]] {
            assert!(empty.is_empty(), "{r:?}");
        }
    }
    // The same area from a point, and from the sector as a place, gives the same rows.
    let point = format!("{},{}", centre.0, centre.1);
    let at = stdout(&signpost(
        &db,
        &["coverage", "--at", &point, "--radius-km", "3", "--csv"],
    ));
    assert_eq!(at, csv);
}

#[test]
fn an_ambiguous_place_lists_the_choices_and_exits_with_status_2() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("empty.db");
    let out = signpost(
        &db,
        &[
            "coverage",
            "--place",
            "Newcastle",
            "--radius-km",
            "5",
            "--csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--place \"Newcastle upon Tyne\""),
        "{stderr}"
    );
    // A qualified name resolves; an empty directory has none anywhere: every cell empty.
    let csv = stdout(&signpost(
        &db,
        &[
            "coverage",
            "--place",
            "Newcastle upon Tyne",
            "--radius-km",
            "2",
            "--csv",
        ],
    ));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.starts_with("NE") && r.ends_with(",,,,")),
        "{csv}"
    );
}

#[test]
fn the_summary_names_the_density_proxy_and_lists_the_sectors_lacking() {
    let t = tempfile::tempdir().unwrap();
    let db = gm(t.path());
    let out = stdout(&signpost(
        &db,
        &[
            "coverage",
            "--place",
            "Wigan",
            "--radius-km",
            "4",
            "--gap-km",
            "1",
        ],
    ));
    assert!(out.contains("stands in for population"), "{out}");
    assert!(out.contains("Sectors with none within 1 km"), "{out}");
    assert!(
        out.contains("health-and-social-care, personal-interests, personal-relationships"),
        "{out}"
    );
    let help = stdout(
        &std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
            .args(["coverage", "--help"])
            .output()
            .unwrap(),
    );
    assert!(
        help.contains("Postcode counts") && help.contains("--radius-km"),
        "{help}"
    );
}

#[test]
fn bad_input_is_refused_in_plain_words() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("empty.db");
    for (args, says) in [
        (
            vec!["--postcode", "BS3 4AB", "--radius-km", "0"],
            "positive",
        ),
        (
            vec!["--postcode", "BS3 4AB", "--radius-km", "-2"],
            "positive",
        ),
        (vec!["--postcode", "BS3 4AB"], "--radius-km"),
        (vec!["--at", "91,0", "--radius-km", "2"], "out of range"),
        (vec!["--at", "51.4,x", "--radius-km", "2"], "not a number"),
        (
            vec!["--postcode", "ZZ9 9ZZ", "--radius-km", "2"],
            "unknown postcode",
        ),
        (
            vec!["--postcode", "BT1 1AA", "--radius-km", "2"],
            "does not cover",
        ),
        (
            vec!["--local-authority", "X99", "--csv"],
            "No postcode sector",
        ),
        (vec!["--radius-km", "2"], "say where"),
    ] {
        let mut all = vec!["coverage"];
        all.extend(&args);
        let out = signpost(&db, &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn a_local_authority_covers_its_own_sectors() {
    let t = tempfile::tempdir().unwrap();
    let db = gm(t.path());
    let csv = stdout(&signpost(
        &db,
        &["coverage", "--local-authority", "E08000010", "--csv"],
    ));
    let rows: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let wigan: Vec<&str> = signpost_postcodes::embedded_sectors()
        .iter()
        .filter(|s| s.local_authority.as_deref() == Some("E08000010"))
        .map(|s| s.code.as_str())
        .collect();
    assert!(rows.len() > 20);
    assert_eq!(rows, wigan);
}
