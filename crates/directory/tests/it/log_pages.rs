//! The log's pages: what lets a static copy of a feed list every changeset after any cursor.
use serde_json::json;
use signpost_directory::changeset::{LogPage, LOG_PAGE};
use signpost_directory::Directory;

use crate::quiet;

/// A feed whose log has `n` changesets, one listing each.
fn feed_with(path: &std::path::Path, n: u64) -> Directory {
    let mut feed = Directory::open_publisher(path).unwrap();
    for i in 0..n {
        let listing =
            json!({"id": format!("s{i}"), "name": format!("Group {i}"), "status": "active"});
        feed.import_sources(vec![(format!("batch {i}"), vec![listing])], &mut quiet)
            .unwrap();
    }
    feed
}

#[test]
fn full_pages_chain_back_and_the_tail_lists_the_rest() {
    let t = tempfile::tempdir().unwrap();
    let feed = feed_with(&t.path().join("feed.db"), 2 * LOG_PAGE + 3);
    let hashes = feed.log_page_hashes().unwrap();
    assert_eq!(hashes.len(), 2);
    let all = feed.changesets_after(0, usize::MAX).unwrap();
    let mut prev = String::new();
    for (i, hash) in hashes.iter().enumerate() {
        let page = LogPage::verify(&feed.log_page_body(hash).unwrap(), hash).unwrap();
        assert_eq!(page.number(), i as u64 + 1);
        assert_eq!(page.prev, prev, "each page names the one before");
        let from = i * LOG_PAGE as usize;
        assert_eq!(page.changesets, all[from..from + LOG_PAGE as usize]);
        prev = hash.clone();
    }
    let tail = feed.log_tail().unwrap();
    assert_eq!((tail.pages, tail.page.as_str()), (2, hashes[1].as_str()));
    assert_eq!(tail.recent, all[2 * LOG_PAGE as usize..]);
    assert_eq!(tail.recent.len(), 3);
    assert!(feed.log_page_body(&"0".repeat(64)).is_err());
}

/// A feed made before pages existed gets them, identical to those written as it goes.
#[test]
fn the_migration_pages_an_existing_log_as_writing_would() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("feed.db");
    let written = feed_with(&path, LOG_PAGE + 1).log_page_hashes().unwrap();
    assert_eq!(written.len(), 1);
    {
        let db = Directory::open_publisher(&path).unwrap();
        db.connection()
            .execute_batch("DROP TABLE log_page; PRAGMA user_version = 10;")
            .unwrap();
    }
    let reopened = Directory::open_publisher(&path).unwrap();
    assert_eq!(reopened.log_page_hashes().unwrap(), written);
    let empty = Directory::open(&t.path().join("app.db")).unwrap();
    let tail = empty.log_tail().unwrap();
    assert_eq!(
        (tail.pages, tail.page.as_str(), tail.recent.len()),
        (0, "", 0)
    );
}
