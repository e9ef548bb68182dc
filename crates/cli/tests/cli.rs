//! The `signpost` binary as a user runs it, on real database files.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::signpost;
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Run `signpost ARGS…` on its default database, kept in `home` (the platform data folder).
fn signpost_default(home: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .env_remove("SIGNPOST_DB")
        .env("XDG_DATA_HOME", home)
        .env("HOME", home)
        .args(args)
        .output()
        .expect("run signpost")
}

#[test]
fn near_postcode_on_the_default_region_is_in_exact_distance_order() {
    let t = tempfile::tempdir().unwrap();
    let out = signpost_default(
        t.path(),
        &["near", "--postcode", "NR20", "--no-referral", "--json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let results: Vec<Value> = serde_json::from_str(&ok(&out)).unwrap();
    assert!(stderr.contains("Loaded the default region"), "{stderr}");
    assert_eq!(results.len(), 20);
    let distances: Vec<f64> = results
        .iter()
        .map(|r| r["distance_m"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[19] <= 10_000.0);
    for r in &results {
        for key in [
            "service_id",
            "location_id",
            "name",
            "organization",
            "latitude",
            "longitude",
            "free",
            "open_now",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["access"], "drop-in");
        assert!(r["name"].as_str().unwrap().starts_with("Mobile library"));
    }
    assert!(t.path().join("signpost/directory.db").exists());
    // Second run: the region is not loaded again.
    let again = signpost_default(t.path(), &["near", "--postcode", "nr20", "--json"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("Loaded"));
    let table = ok(&signpost_default(
        t.path(),
        &["near", "--postcode", "NR20 4"],
    ));
    assert!(
        table.contains("Near NR20 4") && table.contains("Mobile library"),
        "{table}"
    );
    let place = ok(&signpost_default(
        t.path(),
        &["near", "--place", "Swanton Morley", "--limit", "3"],
    ));
    assert!(place.contains("Swanton Morley"), "{place}");
}

#[test]
fn unknown_postcodes_are_clear_errors() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    for (pc, says) in [
        ("ZZ99 9ZZ", "unknown postcode"),
        ("hello", "not a UK postcode"),
        ("GIR", "no location"),
    ] {
        let out = signpost(&db, &["near", "--postcode", pc]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{pc}: {err}");
    }
    let out = signpost(&db, &["near", "--at", "91,0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("latitude"));
}

#[test]
fn import_show_and_filters() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let report = ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    assert!(
        report.contains("2 new") && report.contains("1 skipped"),
        "{report}"
    );
    assert!(
        report.contains("v1-broken-003") && report.contains("name"),
        "{report}"
    );
    let again = ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    assert!(again.contains("2 unchanged"), "{again}");
    let shown = ok(&signpost(&db, &["show", "v1-walk-001"]));
    assert!(shown.contains("Bedminster Health Walk"), "{shown}");
    assert!(shown.contains("Tuesdays 10:00–11:00"), "{shown}");
    let near = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["near", "--at", "51.4399,-2.5859", "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&signpost(&db, &args))).unwrap()
    };
    assert_eq!(near(&[]).len(), 2);
    assert_eq!(near(&["--wheelchair"]).len(), 1);
    assert_eq!(near(&["--text", "foodbank"]).len(), 1);
    assert_eq!(
        near(&["--text", "foodbank"])[0]["service_id"],
        "v1-foodbank-002"
    );
    assert_eq!(
        near(&["--open-at", "2026-11-24 10:30"]).len(),
        1,
        "Tuesday walk"
    );
    assert_eq!(
        near(&["--open-at", "2026-11-26 18:00"])[0]["service_id"],
        "v1-foodbank-002"
    );
    assert_eq!(near(&["--open-at", "2026-11-25 10:30"]).len(), 0);
    assert_eq!(
        near(&["--no-referral"]).len(),
        0,
        "no Signpost taxonomy: access unknown"
    );
    let json: Value =
        serde_json::from_str(&ok(&signpost(&db, &["show", "v1-walk-001", "--json"]))).unwrap();
    assert_eq!(json["id"], "v1-walk-001");
}

#[test]
fn import_of_a_non_feed_is_one_error_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    let out = signpost(
        &db,
        &["import", fixture("bad/not-a-feed.zip").to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither JSON nor"));
    let stats: Value = serde_json::from_str(&ok(&signpost(&db, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 2);
}

#[test]
fn control_characters_in_listings_do_not_reach_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let feed = t.path().join("feed.json");
    std::fs::write(
        &feed,
        r#"[{"id":"esc","name":"Evil \u001b[31mred\u001b[0m <script>x</script>","status":"active",
             "service_at_locations":[{"location":{"id":"l","latitude":51.0,"longitude":-1.0}}]}]"#,
    )
    .unwrap();
    ok(&signpost(&db, &["import", feed.to_str().unwrap()]));
    let table = ok(&signpost(&db, &["near", "--at", "51,-1"]));
    assert!(!table.contains('\u{1b}'), "{table:?}");
    assert!(
        table.contains("<script>x</script>"),
        "shown literally: {table}"
    );
}

#[test]
fn digests_are_equal_for_equal_directories() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a.db"), t.path().join("b.db"));
    let feed = fixture("oruk-1.0/services.json");
    ok(&signpost(&a, &["import", feed.to_str().unwrap()]));
    ok(&signpost(&b, &["import", feed.to_str().unwrap()]));
    let digest = |db: &Path| ok(&signpost(db, &["digest"])).trim().to_string();
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(digest(&a).len(), 64);
    ok(&signpost(
        &b,
        &[
            "import",
            fixture("oruk-3.0/service_list.json").to_str().unwrap(),
        ],
    ));
    assert_ne!(digest(&a), digest(&b));
}

#[test]
fn sync_with_an_unreachable_feed_says_offline_and_keeps_the_data() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    let before = ok(&signpost(&db, &["digest"]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = ok(&signpost(
        &db,
        &["sync", "--feed", &format!("http://127.0.0.1:{port}")],
    ));
    assert!(
        out.contains("offline") && out.contains("unchanged"),
        "{out}"
    );
    assert_eq!(ok(&signpost(&db, &["digest"])), before);
}

/// SHA-256 of nothing: the digest of an empty directory.
const EMPTY_DIGEST: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Looking at a database the user named never writes to it: a missing file is not created,
/// an empty one is not seeded with the default region, and its bytes stay as they were.
#[test]
fn read_only_commands_never_write_to_a_named_database() {
    let t = tempfile::tempdir().unwrap();
    let fresh = t.path().join("fresh.db");
    let reads: [&[&str]; 4] = [
        &["digest"],
        &["stats"],
        &["near", "--at", "52.7,1.0"],
        &["show", "no-such-listing"],
    ];
    for args in reads {
        let out = signpost(&fresh, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("Loaded"), "{args:?}: {err}");
        assert!(!fresh.exists(), "{args:?} created the database");
    }
    assert_eq!(ok(&signpost(&fresh, &["digest"])).trim(), EMPTY_DIGEST);

    // An empty database (made by a sync that found its feed offline) stays empty and unchanged.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let empty = t.path().join("empty.db");
    ok(&signpost(
        &empty,
        &["sync", "--feed", &format!("http://127.0.0.1:{port}")],
    ));
    let before = std::fs::read(&empty).unwrap();
    for args in reads {
        signpost(&empty, args);
    }
    assert_eq!(std::fs::read(&empty).unwrap(), before);
    let stats: Value = serde_json::from_str(&ok(&signpost(&empty, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 0);
    assert_eq!(ok(&signpost(&empty, &["digest"])).trim(), EMPTY_DIGEST);

    // Even the default database is not touched by `digest`.
    let home = t.path().join("home");
    assert_eq!(
        ok(&signpost_default(&home, &["digest"])).trim(),
        EMPTY_DIGEST
    );
    assert!(!home.join("signpost/directory.db").exists());
}
