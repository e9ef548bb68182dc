//! Applying changesets: all or nothing, in order, with the cursor in the same transaction.
use serde_json::json;
use signpost_directory::changeset::Changeset;

use crate::temp_directory;

fn changeset(
    seq: u64,
    prev: &str,
    upserts: Vec<serde_json::Value>,
    deletes: Vec<&str>,
) -> Changeset {
    Changeset {
        seq,
        prev: prev.to_string(),
        upserts,
        deletes: deletes.into_iter().map(str::to_string).collect(),
    }
}

#[test]
fn applies_in_order_and_rejects_gaps_and_forks() {
    let (_t, mut db) = temp_directory();
    let feed = "http://feed.test";
    let first = changeset(
        1,
        "",
        vec![json!({"id": "a", "name": "A", "status": "active"})],
        vec![],
    );
    db.apply_changeset(feed, &first).unwrap();
    assert_eq!(db.sync_cursor(feed).unwrap(), (1, first.hash()));
    let skip = changeset(3, &first.hash(), vec![], vec!["a"]);
    assert!(db
        .apply_changeset(feed, &skip)
        .unwrap_err()
        .to_string()
        .contains("does not follow"));
    let fork = changeset(2, &"0".repeat(64), vec![], vec!["a"]);
    assert!(db.apply_changeset(feed, &fork).is_err());
    assert!(
        db.listing("a").is_ok(),
        "nothing of a rejected changeset is applied"
    );
    let second = changeset(
        2,
        &first.hash(),
        vec![json!({"id": "b", "name": "B", "status": "active"})],
        vec!["a"],
    );
    let report = db.apply_changeset(feed, &second).unwrap();
    assert_eq!((report.inserted, report.deleted), (1, 1));
    assert!(db.listing("a").is_err() && db.listing("b").is_ok());
    assert_eq!(db.sync_cursor(feed).unwrap(), (2, second.hash()));
    assert_eq!(
        db.sync_cursor("http://other.test").unwrap(),
        (0, String::new()),
        "cursors are per feed"
    );
}

#[test]
fn one_invalid_record_rejects_the_whole_changeset() {
    let (_t, mut db) = temp_directory();
    let feed = "http://feed.test";
    let bad = changeset(
        1,
        "",
        vec![
            json!({"id": "ok", "name": "Fine", "status": "active"}),
            json!({"id": "broken", "status": "active"}),
        ],
        vec![],
    );
    let err = db.apply_changeset(feed, &bad).unwrap_err().to_string();
    assert!(
        err.contains("broken") && err.contains("none of it was applied"),
        "{err}"
    );
    assert!(db.listing("ok").is_err());
    assert_eq!(db.sync_cursor(feed).unwrap(), (0, String::new()));
    assert_eq!(db.stats().unwrap().listings, 0);
}
