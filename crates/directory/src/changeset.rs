//! Changesets: the unit a regional feed publishes and a client applies.
//!
//! A feed is an append-only log. Each changeset is an ordered batch of upserts (full canonical
//! records) and tombstones (ids), numbered `seq` and chained to its predecessor by `prev`, the
//! predecessor's hash. Its hash is the SHA-256 of its canonical bytes, so it can be served at a
//! URL named by that hash, immutable and cacheable forever, and a client can verify both the
//! bytes and the chain.
//!
//! **Frozen format.** The canonical bytes are the compact JSON serialisation of
//! `{"deletes": [...], "prev": "...", "seq": N, "upserts": [...]}` with object keys sorted at
//! every level (serde_json's default map), and records in their stored canonical form. Changing
//! anything here changes every hash a feed has published: don't.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One changeset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changeset {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Hash of changeset `seq - 1`, or "" for the first.
    pub prev: String,
    /// Records to insert or replace, in order.
    pub upserts: Vec<Value>,
    /// Ids to delete, in order (after the upserts).
    pub deletes: Vec<String>,
}

impl Changeset {
    /// The canonical bytes (see the module docs).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::json!({
            "deletes": self.deletes,
            "prev": self.prev,
            "seq": self.seq,
            "upserts": self.upserts,
        });
        serde_json::to_vec(&value).expect("a JSON value serialises")
    }

    /// Hex SHA-256 of the canonical bytes.
    pub fn hash(&self) -> String {
        hash_bytes(&self.canonical_bytes())
    }

    /// Parse bytes received for `expected_hash`, checking the hash first and then that the bytes
    /// are exactly canonical (so no two byte strings can claim one changeset).
    pub fn verify(bytes: &[u8], expected_hash: &str) -> Result<Changeset> {
        verify_canonical(
            bytes,
            expected_hash,
            "changeset",
            Changeset::canonical_bytes,
        )
    }
}

/// Check that `bytes` hash to `expected_hash`, parse them, and check they are exactly the
/// canonical form (so no two byte strings can claim one document).
fn verify_canonical<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    expected_hash: &str,
    what: &str,
    canonical: fn(&T) -> Vec<u8>,
) -> Result<T> {
    let actual = hash_bytes(bytes);
    if actual != expected_hash {
        return Err(Error::Changeset(format!(
            "{what} hash mismatch: expected {expected_hash}, received bytes hash to {actual}"
        )));
    }
    let parsed: T = serde_json::from_slice(bytes)
        .map_err(|e| Error::Changeset(format!("{what} {expected_hash} is not valid: {e}")))?;
    if canonical(&parsed) != bytes {
        return Err(Error::Changeset(format!(
            "{what} {expected_hash} is not in canonical form"
        )));
    }
    Ok(parsed)
}

/// Hex SHA-256.
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Changeset {
        Changeset {
            seq: 2,
            prev: "ab".repeat(32),
            upserts: vec![json!({"id": "s1", "name": "Choir", "status": "active"})],
            deletes: vec!["s0".into()],
        }
    }

    #[test]
    fn canonical_bytes_are_stable_and_verified() {
        let c = sample();
        let bytes = c.canonical_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                r#"{{"deletes":["s0"],"prev":"{}","seq":2,"upserts":[{{"id":"s1","name":"Choir","status":"active"}}]}}"#,
                "ab".repeat(32)
            )
        );
        assert_eq!(Changeset::verify(&bytes, &c.hash()).unwrap(), c);
    }

    #[test]
    fn tampering_is_detected() {
        let c = sample();
        let mut bytes = c.canonical_bytes();
        let hash = c.hash();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        assert!(Changeset::verify(&bytes, &hash)
            .unwrap_err()
            .to_string()
            .contains("hash mismatch"));
        assert!(Changeset::verify(&bytes[..10], &hash).is_err());
        // Same content, other spacing: right JSON, wrong bytes.
        let spaced = serde_json::to_vec_pretty(
            &serde_json::from_slice::<Value>(&c.canonical_bytes()).unwrap(),
        )
        .unwrap();
        assert!(Changeset::verify(&spaced, &hash_bytes(&spaced))
            .unwrap_err()
            .to_string()
            .contains("canonical"));
    }

    #[test]
    fn snapshots_verify_like_changesets() {
        let snap = Snapshot {
            seq: 7,
            head: "cd".repeat(32),
            records: vec![json!({"id": "a", "name": "A", "status": "active"})],
        };
        let bytes = snap.canonical_bytes();
        let hash = hash_bytes(&bytes);
        assert_eq!(Snapshot::verify(&bytes, &hash).unwrap(), snap);
        let mut bad = bytes.clone();
        bad[5] ^= 1;
        assert!(Snapshot::verify(&bad, &hash).is_err());
    }

    proptest::proptest! {
        #[test]
        fn verify_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let h = hash_bytes(&bytes);
            let _ = Changeset::verify(&bytes, &h);
            let _ = Snapshot::verify(&bytes, &h);
        }
    }
}

/// A snapshot: the whole directory as of changeset `seq` (whose hash is `head`), so a new client
/// can start there instead of replaying the log. Frozen like [`Changeset`]: canonical bytes are
/// the compact sorted-key JSON of `{"head": ..., "records": [...by id], "seq": N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The changeset this snapshot is the state after.
    pub seq: u64,
    /// That changeset's hash.
    pub head: String,
    /// Every listing's canonical record, ordered by id.
    pub records: Vec<Value>,
}

impl Snapshot {
    /// The canonical bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value =
            serde_json::json!({"head": self.head, "records": self.records, "seq": self.seq});
        serde_json::to_vec(&value).expect("a JSON value serialises")
    }

    /// Parse bytes received for `expected_hash`, checking hash and canonical form.
    pub fn verify(bytes: &[u8], expected_hash: &str) -> Result<Snapshot> {
        verify_canonical(bytes, expected_hash, "snapshot", Snapshot::canonical_bytes)
    }
}

/// A changeset as a feed's log lists it: enough to fetch it by hash, check it follows, and
/// bound its inflation before reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the log.
    pub seq: u64,
    /// Hex SHA-256 of its canonical bytes; also its URL.
    pub hash: String,
    /// The previous changeset's hash ("" for the first).
    pub prev: String,
    /// Records upserted.
    pub upserts: u64,
    /// Ids deleted.
    pub deletes: u64,
    /// Uncompressed size.
    pub bytes: u64,
}

/// How many changesets one [`LogPage`] lists. Frozen: page `n` (from 1) always lists changesets
/// `(n - 1) * LOG_PAGE + 1 ..= n * LOG_PAGE`, so its bytes, and so its hash, never change.
pub const LOG_PAGE: u64 = 64;

/// A full page of the log, for clients that read the log as static files (`sync/log/{hash}`):
/// `head.json` names the newest page and lists the changesets after it, and each page names the
/// one before, so a client finds every changeset after its cursor by walking back from the
/// head, each step verified by its hash, with no query a static host could not answer.
///
/// Frozen like [`Changeset`]: the canonical bytes are the compact sorted-key JSON of
/// `{"changesets": [...], "prev": "..."}`, each entry's keys sorted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The previous page's hash, or "" for page 1.
    pub prev: String,
    /// Exactly [`LOG_PAGE`] consecutive entries.
    pub changesets: Vec<LogEntry>,
}

impl LogPage {
    /// The canonical bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::json!({"changesets": self.changesets, "prev": self.prev});
        serde_json::to_vec(&value).expect("a JSON value serialises")
    }

    /// Which page this is (from 1), from its first entry.
    pub fn number(&self) -> u64 {
        self.changesets
            .first()
            .map_or(0, |e| (e.seq.saturating_sub(1)) / LOG_PAGE + 1)
    }

    /// Parse bytes received for `expected_hash`: hash, canonical form, and a whole page of
    /// consecutive entries on a page boundary.
    pub fn verify(bytes: &[u8], expected_hash: &str) -> Result<LogPage> {
        let page = verify_canonical(bytes, expected_hash, "log page", LogPage::canonical_bytes)?;
        let first = page.changesets.first().map_or(0, |e| e.seq);
        let whole = page.changesets.len() as u64 == LOG_PAGE
            && first % LOG_PAGE == 1
            && page
                .changesets
                .iter()
                .enumerate()
                .all(|(i, e)| e.seq == first + i as u64);
        if !whole {
            return Err(Error::Changeset(format!(
                "log page {expected_hash} is not {LOG_PAGE} consecutive changesets from a page boundary"
            )));
        }
        Ok(page)
    }
}

#[cfg(test)]
mod page_tests {
    use super::*;

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            seq,
            hash: format!("{seq:064x}"),
            prev: format!("{:064x}", seq - 1),
            upserts: 1,
            deletes: 0,
            bytes: 100,
        }
    }

    #[test]
    fn a_page_verifies_only_whole_and_on_its_boundary() {
        let page = LogPage {
            prev: "ab".repeat(32),
            changesets: (65..=128).map(entry).collect(),
        };
        let bytes = page.canonical_bytes();
        assert!(bytes.starts_with(br#"{"changesets":[{"bytes":100,"deletes":0,"hash":""#));
        let verified = LogPage::verify(&bytes, &hash_bytes(&bytes)).unwrap();
        assert_eq!(verified.number(), 2);
        let short = LogPage {
            prev: String::new(),
            changesets: (65..128).map(entry).collect(),
        };
        let b = short.canonical_bytes();
        assert!(LogPage::verify(&b, &hash_bytes(&b)).is_err());
        let shifted = LogPage {
            prev: String::new(),
            changesets: (66..=129).map(entry).collect(),
        };
        let b = shifted.canonical_bytes();
        assert!(LogPage::verify(&b, &hash_bytes(&b)).is_err());
        assert!(LogPage::verify(&bytes, &"00".repeat(32)).is_err());
    }
}
