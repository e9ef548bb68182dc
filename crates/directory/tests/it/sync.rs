//! Applying changesets: all or nothing, in order, with the cursor in the same transaction.
use serde_json::json;
use signpost_directory::changeset::{Changeset, Snapshot};
use signpost_directory::Directory;

use crate::{quiet, temp_directory};

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
    db.apply_changeset(feed, "", &first).unwrap();
    assert_eq!(db.sync_cursor(feed).unwrap(), (1, first.hash()));
    let skip = changeset(3, &first.hash(), vec![], vec!["a"]);
    assert!(db
        .apply_changeset(feed, "", &skip)
        .unwrap_err()
        .to_string()
        .contains("does not follow"));
    let fork = changeset(2, &"0".repeat(64), vec![], vec!["a"]);
    assert!(db.apply_changeset(feed, "", &fork).is_err());
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
    let report = db.apply_changeset(feed, "", &second).unwrap();
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
    let err = db.apply_changeset(feed, "", &bad).unwrap_err().to_string();
    assert!(
        err.contains("broken") && err.contains("none of it was applied"),
        "{err}"
    );
    assert!(db.listing("ok").is_err());
    assert_eq!(db.sync_cursor(feed).unwrap(), (0, String::new()));
    assert_eq!(db.stats().unwrap().listings, 0);
}

fn ids(db: &Directory) -> Vec<String> {
    let mut stmt = db
        .connection()
        .prepare("SELECT id FROM service ORDER BY id")
        .unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    ids
}

fn listing(id: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "status": "active"})
}

/// A client whose feed was rebuilt starts again from the new state in one transaction: until it
/// commits, nothing changes (for another reader, or at all if it is dropped); then listings from
/// the old log that the new state lacks are gone, local ones stay, and the cursor is the new one.
#[test]
fn starting_again_swaps_the_new_state_in_at_once() {
    let (t, mut db) = temp_directory();
    let feed = "http://feed.test";
    db.import_sources(
        vec![("local.json".to_string(), vec![listing("local", "Mine")])],
        &mut quiet,
    )
    .unwrap();
    let first = changeset(
        1,
        "",
        vec![listing("a", "A"), listing("b", "B"), listing("c", "C")],
        vec![],
    );
    db.apply_changeset(feed, "old-log", &first).unwrap();
    assert_eq!(db.sync_position(feed).unwrap().feed_id, "old-log");
    let before = db.digest().unwrap();

    let snapshot = Snapshot {
        seq: 5,
        head: "5".repeat(64),
        records: vec![listing("b", "B renamed"), listing("d", "D")],
    };
    let sixth = changeset(6, &snapshot.head, vec![listing("e", "E")], vec!["d"]);
    // Dropped before commit: nothing happened.
    {
        let mut resync = db.resync(feed, "new-log").unwrap();
        resync.apply_snapshot(&snapshot).unwrap();
        resync.apply_changeset(&sixth).unwrap();
        let reader = Directory::open_read_only(&t.path().join("directory.db")).unwrap();
        assert_eq!(reader.digest().unwrap(), before, "readers see the old data");
        // A changeset that does not follow is refused within the new start too.
        assert!(resync
            .apply_changeset(&changeset(8, "x", vec![], vec![]))
            .is_err());
    }
    assert_eq!(db.digest().unwrap(), before);
    assert_eq!(db.sync_cursor(feed).unwrap(), (1, first.hash()));

    let mut resync = db.resync(feed, "new-log").unwrap();
    resync.apply_snapshot(&snapshot).unwrap();
    resync.apply_changeset(&sixth).unwrap();
    let report = resync.commit().unwrap();
    assert_eq!(ids(&db), ["b", "e", "local"]);
    assert_eq!(db.listing("b").unwrap().service.name, "B renamed");
    assert_eq!(
        report.deleted, 3,
        "a and c from the old log, d by changeset 6"
    );
    let cursor = db.sync_position(feed).unwrap();
    assert_eq!(
        (cursor.seq, cursor.hash, cursor.feed_id.as_str()),
        (6, sixth.hash(), "new-log")
    );
    assert!(db.listing("a").is_err());
}

#[test]
fn every_directory_has_its_own_feed_id() {
    let (_a, a) = temp_directory();
    let (_b, b) = temp_directory();
    let id = a.feed_id().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(id, b.feed_id().unwrap());
}
