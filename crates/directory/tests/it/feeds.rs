//! Several feeds followed at once: one version of each listing shown, by a rule that does not
//! depend on which feed synced first; a feed's deletion removes only its own version.
use serde_json::json;
use signpost_directory::changeset::{Changeset, Snapshot};
use signpost_directory::{Directory, FeedInfo};

use crate::{quiet, temp_directory};

const A: &str = "http://a.test";
const B: &str = "http://b.test";

fn listing(id: &str, name: &str, assured: Option<&str>) -> serde_json::Value {
    let mut v = json!({"id": id, "name": name, "status": "active"});
    if let Some(date) = assured {
        v["assured_date"] = json!(date);
    }
    v
}

/// Apply the next changeset of `feed` after the directory's cursor.
fn publish(db: &mut Directory, feed: &str, upserts: Vec<serde_json::Value>, deletes: &[&str]) {
    let (seq, prev) = db.sync_cursor(feed).unwrap();
    let changeset = Changeset {
        seq: seq + 1,
        prev,
        upserts,
        deletes: deletes.iter().map(|d| d.to_string()).collect(),
    };
    db.apply_changeset(feed, "log", &changeset).unwrap();
}

/// (id, name, source's feed) of every listing shown.
fn shown(db: &Directory) -> Vec<(String, String, String)> {
    let mut stmt = db
        .connection()
        .prepare("SELECT id, name, source FROM service ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let source: String = r.get(2)?;
            let feed = source.split('#').next().unwrap_or_default().to_string();
            Ok((r.get(0)?, r.get(1)?, feed))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows
}

fn row(id: &str, name: &str, feed: &str) -> (String, String, String) {
    (id.into(), name.into(), feed.into())
}

fn counts(db: &Directory) -> Vec<(String, usize, usize)> {
    db.feeds()
        .unwrap()
        .into_iter()
        .map(|f: FeedInfo| (f.feed, f.listings, f.shadowed))
        .collect()
}

/// What A and B publish: `shared` in both (B's checked later), `same` in both with the same
/// date (A's address sorts first, so A's wins), `twin` identical in both.
fn feed_a() -> Vec<serde_json::Value> {
    vec![
        listing("only-a", "Only A", None),
        listing("shared", "Shared from A", Some("2026-01-10")),
        listing("same", "Same day from A", Some("2026-03-01")),
        listing("twin", "Twin", Some("2026-02-01")),
    ]
}

fn feed_b() -> Vec<serde_json::Value> {
    vec![
        listing("only-b", "Only B", Some("2025-01-01")),
        listing("shared", "Shared from B", Some("2026-05-20")),
        listing("same", "Same day from B", Some("2026-03-01")),
        listing("twin", "Twin", Some("2026-02-01")),
    ]
}

#[test]
fn either_sync_order_shows_the_same_versions() {
    let (_t1, mut ab) = temp_directory();
    publish(&mut ab, A, feed_a(), &[]);
    publish(&mut ab, B, feed_b(), &[]);
    let (_t2, mut ba) = temp_directory();
    publish(&mut ba, B, feed_b(), &[]);
    publish(&mut ba, A, feed_a(), &[]);
    let expected = vec![
        row("only-a", "Only A", A),
        row("only-b", "Only B", B),
        row("same", "Same day from A", A),
        row("shared", "Shared from B", B),
        row("twin", "Twin", A),
    ];
    assert_eq!(shown(&ab), expected);
    assert_eq!(shown(&ba), expected);
    assert_eq!(ab.digest().unwrap(), ba.digest().unwrap());
    let feeds = vec![(A.to_string(), 3, 1), (B.to_string(), 2, 2)];
    assert_eq!(counts(&ab), feeds);
    assert_eq!(counts(&ba), feeds);

    // A later check by A wins the shared listing back, whichever order.
    publish(
        &mut ab,
        A,
        vec![listing(
            "shared",
            "Shared from A, checked",
            Some("2026-07-01"),
        )],
        &[],
    );
    assert_eq!(shown(&ab)[3], row("shared", "Shared from A, checked", A));
    // And B's own older update of it stays behind A's.
    publish(
        &mut ab,
        B,
        vec![listing("shared", "Shared from B again", Some("2026-06-01"))],
        &[],
    );
    assert_eq!(shown(&ab)[3], row("shared", "Shared from A, checked", A));
}

#[test]
fn a_deletion_removes_only_that_feeds_version() {
    let (_t, mut db) = temp_directory();
    db.import_sources(
        vec![(
            "local.json".to_string(),
            vec![listing("local", "Mine", None)],
        )],
        &mut quiet,
    )
    .unwrap();
    publish(&mut db, A, feed_a(), &[]);
    publish(&mut db, B, feed_b(), &[]);
    // A deletes: `shared` (B's shown: stays B's), `same` (A's shown: B's takes its place),
    // `local` (a file's: stays), `only-b` (never A's: stays).
    publish(&mut db, A, vec![], &["shared", "same", "local", "only-b"]);
    assert_eq!(
        shown(&db),
        vec![
            row("local", "Mine", "local.json"),
            row("only-a", "Only A", A),
            row("only-b", "Only B", B),
            row("same", "Same day from B", B),
            row("shared", "Shared from B", B),
            row("twin", "Twin", A),
        ]
    );
    assert_eq!(
        counts(&db),
        vec![(A.to_string(), 2, 0), (B.to_string(), 3, 1)]
    );
    // B's promoted version is a listing like any: searchable text, full record.
    assert_eq!(db.listing("same").unwrap().service.name, "Same day from B");
    let indexed: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM service_fts WHERE service_fts MATCH 'b'
                 AND rowid = (SELECT rowid FROM service WHERE id = 'same')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        indexed, 1,
        "the promoted version is indexed for text search"
    );
    // B deleting `shared` now removes it: A deleted its own.
    publish(&mut db, B, vec![], &["shared"]);
    assert!(db.listing("shared").is_err());
    // A publishing `shared` again shows it from A.
    publish(&mut db, A, vec![listing("shared", "Back", None)], &[]);
    assert_eq!(db.listing("shared").unwrap().service.name, "Back");
}

#[test]
fn starting_again_from_one_feed_leaves_the_others() {
    let (_t, mut db) = temp_directory();
    publish(&mut db, A, feed_a(), &[]);
    publish(&mut db, B, feed_b(), &[]);
    // A was rebuilt: its new state holds only `shared`, checked later than B's, and `new-a`.
    let snapshot = Snapshot {
        seq: 3,
        head: "3".repeat(64),
        records: vec![
            listing("shared", "Shared from new A", Some("2026-09-01")),
            listing("new-a", "New A", None),
        ],
    };
    let mut resync = db.resync(A, "new-log").unwrap();
    resync.apply_snapshot(&snapshot).unwrap();
    resync.commit().unwrap();
    assert_eq!(
        shown(&db),
        vec![
            row("new-a", "New A", A),
            row("only-b", "Only B", B),
            row("same", "Same day from B", B),
            row("shared", "Shared from new A", A),
            row("twin", "Twin", B),
        ]
    );
    assert_eq!(
        counts(&db),
        vec![(A.to_string(), 2, 0), (B.to_string(), 3, 1)]
    );
    assert_eq!(db.sync_position(A).unwrap().feed_id, "new-log");
}

#[test]
fn unfollowing_a_feed_shows_the_others_versions() {
    let (_t, mut db) = temp_directory();
    publish(&mut db, A, feed_a(), &[]);
    publish(&mut db, B, feed_b(), &[]);
    let removed = db.unfollow_feed(A).unwrap();
    assert_eq!(removed, 1, "only-a; same and twin are B's now");
    assert_eq!(
        shown(&db),
        vec![
            row("only-b", "Only B", B),
            row("same", "Same day from B", B),
            row("shared", "Shared from B", B),
            row("twin", "Twin", B),
        ]
    );
    assert_eq!(counts(&db), vec![(B.to_string(), 4, 0)]);
    assert_eq!(db.sync_cursor(A).unwrap(), (0, String::new()));
    assert!(db.unfollow_feed(A).is_err(), "no longer followed");
    // Following it again starts from nothing, by the same rule.
    publish(&mut db, A, feed_a(), &[]);
    assert_eq!(
        counts(&db),
        vec![(A.to_string(), 3, 1), (B.to_string(), 2, 2)]
    );
}

#[test]
fn last_update_moves_with_the_cursor_or_a_confirmation() {
    let (_t, mut db) = temp_directory();
    publish(&mut db, A, feed_a(), &[]);
    let first = db.feeds().unwrap()[0].clone();
    assert_eq!((first.seq, first.feed_id.as_str()), (1, "log"));
    assert!(first.updated_at.ends_with('Z'), "{}", first.updated_at);
    db.connection()
        .execute(
            "UPDATE sync_state SET updated_at = '2020-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    assert!(db.confirm_feed(A).unwrap());
    assert!(db.feeds().unwrap()[0].updated_at.as_str() > "2026");
    assert!(!db.confirm_feed(B).unwrap(), "B is not followed");
}

#[test]
fn a_feed_followed_before_its_first_sync_is_listed_and_fetched_from_the_start() {
    let (_t, mut db) = temp_directory();
    assert!(db.follow_feed(B).unwrap());
    assert!(!db.follow_feed(B).unwrap(), "already followed");
    let listed = db.feeds().unwrap();
    assert_eq!(
        (
            listed[0].feed.as_str(),
            listed[0].seq,
            listed[0].listings,
            listed[0].updated_at.as_str()
        ),
        (B, 0, 0, "")
    );
    // Its first changeset follows the empty cursor; so does a snapshot.
    publish(&mut db, B, feed_b(), &[]);
    assert_eq!(counts(&db), vec![(B.to_string(), 4, 0)]);
    db.follow_feed(A).unwrap();
    let snapshot = Snapshot {
        seq: 7,
        head: "7".repeat(64),
        records: feed_a(),
    };
    db.apply_snapshot(A, "log", &snapshot).unwrap();
    assert_eq!(
        counts(&db),
        vec![(A.to_string(), 3, 1), (B.to_string(), 2, 2)]
    );
}
