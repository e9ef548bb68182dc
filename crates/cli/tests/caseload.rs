//! `signpost caseload` as a connector or a commissioner runs it, on a real data folder.
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASSPHRASE: &str = "kettle lantern orchard mosaic";

fn caseload(data: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signpost"));
    cmd.arg("caseload")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SIGNPOST_CASELOAD_PASSPHRASE")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    if let Some(p) = passphrase {
        cmd.env("SIGNPOST_CASELOAD_PASSPHRASE", p);
    }
    cmd.output().expect("run signpost")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_connector_imports_people_gets_suggestions_reports_and_erases() {
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("people.csv");
    std::fs::write(
        &csv,
        "name,home_area,interests,access_needs,languages,free_times,goals\n\
         Wilhelmina Tarrant,NR2 3,reading,,en,mon-morning;tue-morning;wed-morning;thu-morning;fri-morning;mon-afternoon;tue-afternoon;wed-afternoon;thu-afternoon;fri-afternoon,find company\n\
         Bob Full-Postcode,NR2 3AB,walking,,,,\n\
         Cass Second,NR2,reading;learning,,,,learn computers\n",
    )
    .unwrap();
    let out = caseload(
        data.path(),
        Some(PASSPHRASE),
        &["import-people", csv.to_str().unwrap()],
    );
    let stdout = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout.trim(), "2 added, 1 row left out (reasons above)");
    assert!(
        stderr.contains("line 3: home_area: NR2 3AB is a full postcode"),
        "{stderr}"
    );

    let people: Value = serde_json::from_str(&ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["people", "--json"],
    )))
    .unwrap();
    let names: Vec<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Cass Second", "Wilhelmina Tarrant"]);

    // Suggestions come from the default region the data folder is given on first use.
    let found: Value = serde_json::from_str(&ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["suggest", "Wilhelmina Tarrant", "--json"],
    )))
    .unwrap();
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 10, "{found:?}");
    let mut last = 0.0;
    for s in found {
        assert!(s["service_id"].as_str().unwrap().starts_with("mls-"));
        assert!(!s["name"].as_str().unwrap().is_empty());
        let d = s["distance_m"].as_f64().unwrap();
        assert!(d <= 5000.0, "within the default 5 km: {d}");
        assert!(d >= last, "same rank, so nearest first");
        last = d;
        let reasons: Vec<&str> = s["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(reasons.contains(&"reading and libraries"), "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.ends_with("when you're free")),
            "{reasons:?}"
        );
    }
    let by_id = people[0]["id"].as_str().unwrap();
    assert!(ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["suggest", by_id]
    ))
    .contains(" · "));

    let report = ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["report", "--csv"],
    ));
    assert!(
        report.starts_with("measure,breakdown,count,value\n"),
        "{report}"
    );
    assert!(report.contains("people,referred,<5,"), "{report}");
    for secret in ["Wilhelmina", "Cass", by_id, "find company"] {
        assert!(!report.contains(secret), "{secret} in the report");
    }

    let out = ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["erase", "Wilhelmina Tarrant"],
    ));
    assert!(out.starts_with("Erased Wilhelmina Tarrant ("), "{out}");
    let people: Value = serde_json::from_str(&ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["people", "--json"],
    )))
    .unwrap();
    assert_eq!(people.as_array().unwrap().len(), 1);
    let out = caseload(
        data.path(),
        Some(PASSPHRASE),
        &["suggest", "Wilhelmina Tarrant"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no person \"Wilhelmina Tarrant\""));

    // Nothing about anyone is in the directory beside it, or any other file there.
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "people.csv" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in ["Wilhelmina", "Cass Second", "learn computers"] {
            assert!(!contains(&bytes, secret), "{secret} in {}", path.display());
        }
    }
}

#[test]
fn a_wrong_or_missing_passphrase_exits_non_zero_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("people.csv");
    std::fs::write(&csv, "name,home_area\nAnn,BS3 4\n").unwrap();
    ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["import-people", csv.to_str().unwrap()],
    ));
    let file = data.path().join("caseload.db");
    let before = std::fs::read(&file).unwrap();

    for args in [
        &["people"][..],
        &["erase", "Ann"],
        &["import-people", csv.to_str().unwrap()],
    ] {
        let out = caseload(data.path(), Some("kettle lantern orchard mosaics"), args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim(),
            "Error: that passphrase does not open this caseload (nothing was changed)",
            "{args:?}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{args:?} changed the file"
        );
    }
    let out = caseload(data.path(), None, &["people"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no passphrase: set SIGNPOST_CASELOAD_PASSPHRASE"));

    // A new caseload needs a passphrase long enough to protect it.
    let other = tempfile::tempdir().unwrap();
    let out = caseload(
        other.path(),
        Some("short"),
        &["import-people", csv.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("passphrase: use at least 10 characters"));
    assert!(!other.path().join("caseload.db").exists());
}

#[test]
fn backup_and_restore_onto_a_fresh_data_folder() {
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("people.csv");
    std::fs::write(&csv, "name,home_area\nAnn,BS3 4\nBea,M1\n").unwrap();
    ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["import-people", csv.to_str().unwrap()],
    ));
    let backup = data.path().join("backup.caseload");
    ok(&caseload(
        data.path(),
        Some(PASSPHRASE),
        &["backup", backup.to_str().unwrap()],
    ));
    let fresh = tempfile::tempdir().unwrap();
    let out = caseload(
        fresh.path(),
        Some("not it at all"),
        &["restore", backup.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(!fresh.path().join("caseload.db").exists());
    let out = ok(&caseload(
        fresh.path(),
        Some(PASSPHRASE),
        &["restore", backup.to_str().unwrap()],
    ));
    assert!(out.starts_with("Restored 2 people"), "{out}");
    let people = ok(&caseload(fresh.path(), Some(PASSPHRASE), &["people"]));
    assert!(people.contains("Ann") && people.contains("Bea"), "{people}");
}
