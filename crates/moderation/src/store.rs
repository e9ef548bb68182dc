//! [`Moderation`]: the public API over `moderation.db`, which sits beside a feed's directory.
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::{json, Map, Value};
use signpost_directory::coords::CoordStatus;
use signpost_directory::import::{self, PreparedBatch};
use signpost_directory::Directory;

use crate::error::{Error, Result};
use crate::schema;

/// What a device sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A new or updated listing.
    Submission,
    /// "This is our group": a request to manage an existing listing.
    Claim,
    /// "This has closed", "details are wrong" or, from the group that runs it, "this is still
    /// running, nothing changed".
    Report,
}

impl Kind {
    /// The word stored, shown and used in the queue's filter.
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    /// The kind a word names, if any.
    pub fn parse(word: &str) -> Option<Kind> {
        ["submission", "claim", "report"]
            .contains(&word)
            .then(|| Kind::from_code(word))
    }

    fn code(self) -> &'static str {
        match self {
            Kind::Submission => "submission",
            Kind::Claim => "claim",
            Kind::Report => "report",
        }
    }

    fn from_code(code: &str) -> Kind {
        match code {
            "claim" => Kind::Claim,
            "report" => Kind::Report,
            _ => Kind::Submission,
        }
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a moderator.
    InReview,
    /// Approved (and published, for a submission or a closure).
    Approved,
    /// Rejected, with a reason.
    Rejected,
    /// Refused on arrival (its number is used; the reason is kept).
    Invalid,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::InReview => "in_review",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Invalid => "invalid",
        }
    }

    fn from_code(code: &str) -> Status {
        match code {
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "invalid" => Status::Invalid,
            _ => Status::InReview,
        }
    }
}

/// The answer to a send: which item it is, and whether it had arrived before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Receipt {
    /// The item's id.
    pub id: String,
    /// Where it stands.
    pub status: Status,
    /// True when this was a retry of something already received (nothing new was stored).
    pub duplicate: bool,
}

/// How an item's sender stood with the listing's edit key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyProof {
    /// Not a matter of keys (a report).
    NotNeeded,
    /// An update that gave the listing's current edit key (which was replaced at once by the
    /// next one it named).
    Verified,
    /// No key given: a new listing, a claim, or an update of a listing that had no key (the
    /// moderator checks who sent it, as for a claim).
    Unverified,
    /// A wrong, used or missing key: the item was refused.
    Refused,
}

impl KeyProof {
    fn code(self) -> &'static str {
        match self {
            KeyProof::NotNeeded => "",
            KeyProof::Verified => "verified",
            KeyProof::Unverified => "none",
            KeyProof::Refused => "refused",
        }
    }

    fn from_code(code: &str) -> KeyProof {
        match code {
            "verified" => KeyProof::Verified,
            "none" => KeyProof::Unverified,
            "refused" => KeyProof::Refused,
            _ => KeyProof::NotNeeded,
        }
    }
}

/// One item, as the queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Id.
    pub id: String,
    /// What it is.
    pub kind: Kind,
    /// The listing it is about.
    pub service_id: String,
    /// Its name (as sent).
    pub name: String,
    /// Where it stands.
    pub status: Status,
    /// Why it was rejected or refused.
    pub reason: String,
    /// When it arrived (RFC 3339).
    pub submitted_at: String,
    /// When it was decided.
    pub decided_at: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// What was sent (without the device's id and number, and without any edit key).
    pub body: Value,
    /// How the sender stood with the listing's edit key.
    pub edit_key: KeyProof,
    /// Whether approving it gives its sender the listing's edit key (a new listing, a claim
    /// or an unverified update that named the hash of a key).
    pub grants_key: bool,
}

impl Item {
    /// Its kind as the queue shows it: `submission`, `claim`, or a report with what it
    /// reports, `report: closed`, `report: wrong-details` or `report: still-running`.
    pub fn kind_words(&self) -> String {
        match (self.kind, self.body["kind"].as_str()) {
            (Kind::Report, Some(what)) => format!("report: {what}"),
            (kind, _) => kind.as_str().to_string(),
        }
    }
}

/// One audit row: a decision, or one field it changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    /// The item.
    pub item_id: String,
    /// When.
    pub at: String,
    /// Who.
    pub who: String,
    /// "approve", "reject", "update" for a field an approval changed, "edit" for a field a
    /// moderator revised before approving, or "merge" (the item merged into `new_value`).
    pub action: String,
    /// The field changed (empty for a decision).
    pub field: String,
    /// Before.
    pub old_value: Option<String>,
    /// After.
    pub new_value: Option<String>,
}

/// New items one device may send in an hour (retries of items already received are always
/// answered): enough for a group entering its activities, not for a flood.
pub const MAX_ITEMS_PER_DEVICE_PER_HOUR: u32 = 60;

/// The largest comment or note a report or claim may carry, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// The moderation store.
pub struct Moderation {
    pub(crate) conn: Connection,
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::BadRequest {
        field: field.into(),
        message: message.into(),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A device id: a UUID, 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The envelope every kind shares: `client_id` and `seq`.
fn envelope(body: &Value) -> Result<(&Map<String, Value>, String, u64)> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("", "the body must be a JSON object"))?;
    let client_id = obj
        .get("client_id")
        .and_then(Value::as_str)
        .filter(|s| is_uuid(s))
        .ok_or_else(|| bad("/client_id", "give the device's id, a UUID"))?
        .to_ascii_lowercase();
    let seq = obj
        .get("seq")
        .and_then(Value::as_u64)
        .filter(|n| (1..=(1u64 << 53)).contains(n))
        .ok_or_else(|| bad("/seq", "give the item's number on this device, from 1"))?;
    Ok((obj, client_id, seq))
}

fn text<'a>(obj: &'a Map<String, Value>, field: &str, max: usize) -> Result<Option<&'a str>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(invalid(
            &format!("/{field}"),
            format!("{} characters; the limit is {max}", s.chars().count()),
        )),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(&format!("/{field}"), "must be text")),
    }
}

fn required<'a>(obj: &'a Map<String, Value>, field: &str, max: usize) -> Result<&'a str> {
    text(obj, field, max)?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(&format!("/{field}"), "required"))
}

/// The kinds of report: "this has closed", "details are wrong", and a group's "this is still
/// running, nothing changed", whose approval renews the listing's check date.
pub const REPORT_KINDS: [&str; 3] = ["closed", "wrong-details", "still-running"];

/// What an item holds once checked: (listing id, name, body to keep).
fn check(kind: Kind, obj: &Map<String, Value>) -> Result<(String, String, Value)> {
    match kind {
        Kind::Submission => {
            let service = obj
                .get("service")
                .filter(|s| s.is_object())
                .ok_or_else(|| invalid("/service", "give the listing as an HSDS 3.0 service"))?;
            let mut batch = PreparedBatch::default();
            import::prepare("submission", 0, service.clone(), &mut batch);
            if let Some(e) = batch.errors.first() {
                return Err(invalid(&format!("/service{}", e.field), e.message.clone()));
            }
            let listing = batch
                .listings
                .first()
                .ok_or_else(|| invalid("/service", "the listing could not be read"))?;
            for (i, status) in listing.coord_status.iter().enumerate() {
                let words = match status {
                    CoordStatus::Ok | CoordStatus::Missing => continue,
                    CoordStatus::Zero => "0,0 is not a place; give the real point or leave it out",
                    CoordStatus::OutOfRange => {
                        "out of range: latitude is -90 to 90 and longitude -180 to 180"
                    }
                    CoordStatus::Swapped => {
                        "latitude and longitude look swapped (the point is outside the UK)"
                    }
                };
                return Err(invalid(
                    &format!("/service/service_at_locations/{i}/location/latitude"),
                    words,
                ));
            }
            Ok((
                listing.service.id.clone(),
                listing.service.name.clone(),
                json!({ "service": service }),
            ))
        }
        Kind::Report => {
            let service_id = required(obj, "service_id", 200)?;
            let what = required(obj, "kind", 40)?;
            if !REPORT_KINDS.contains(&what) {
                return Err(invalid("/kind", "closed, wrong-details or still-running"));
            }
            let comment = text(obj, "comment", MAX_NOTE_CHARS)?.unwrap_or_default();
            let name = text(obj, "service_name", 500)?.unwrap_or(service_id);
            Ok((
                service_id.into(),
                name.into(),
                json!({"kind": what, "comment": comment, "service_name": name}),
            ))
        }
        Kind::Claim => {
            let service_id = required(obj, "service_id", 200)?;
            let contact_name = required(obj, "contact_name", 200)?;
            let email = required(obj, "contact_email", 320)?;
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return Err(invalid(
                    "/contact_email",
                    "an email address, like name@example.org",
                ));
            }
            let note = text(obj, "note", MAX_NOTE_CHARS)?.unwrap_or_default();
            let name = text(obj, "service_name", 500)?.unwrap_or(service_id);
            Ok((
                service_id.into(),
                name.into(),
                json!({"contact_name": contact_name, "contact_email": email, "note": note, "service_name": name}),
            ))
        }
    }
}

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let kind: String = r.get(1)?;
    let status: String = r.get(4)?;
    let body: String = r.get(9)?;
    Ok(Item {
        id: r.get(0)?,
        kind: Kind::from_code(&kind),
        service_id: r.get(2)?,
        name: r.get(3)?,
        status: Status::from_code(&status),
        reason: r.get(5)?,
        submitted_at: r.get(6)?,
        decided_at: r.get(7)?,
        decided_by: r.get(8)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        edit_key: KeyProof::from_code(&r.get::<_, String>(10)?),
        grants_key: r.get(11)?,
    })
}

const ITEM_COLUMNS: &str = "id, kind, service_id, name, status, reason, submitted_at, decided_at, decided_by, body, edit_key, grant_sha256 IS NOT NULL";

/// The hex SHA-256 of a key, as a key hash is sent and stored: 64 lowercase hex digits.
fn is_key_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A key hash the item names, if it names one; a malformed one makes the item invalid.
fn key_hash<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_key_hash(s) => Ok(Some(s)),
        Some(_) => Err(invalid(
            &format!("/{field}"),
            "the SHA-256 of a new key, as 64 lowercase hex digits",
        )),
    }
}

/// The SHA-256 of an edit key as sent (64 hex digits encoding 32 random bytes), or `None` if
/// it is not one.
fn digest_of_key(key: &str) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let raw: [u8; 32] = hex::decode(key).ok()?.try_into().ok()?;
    Some(Sha256::digest(raw).into())
}

/// Whether `digest` is the hash stored as `stored_hex`, in time that does not depend on where
/// they differ.
fn same_key(digest: &[u8; 32], stored_hex: &str) -> bool {
    use subtle::ConstantTimeEq;
    let mut stored = [0u8; 32];
    hex::decode_to_slice(stored_hex, &mut stored).is_ok() && bool::from(digest.ct_eq(&stored))
}

/// What the edit key check decided for an item that is otherwise valid.
enum KeyCheck {
    /// Store it: how the sender stood, and the hash approving it would grant.
    Store(KeyProof, Option<String>),
    /// Store it, and replace the listing's key (`old`, retired) with `next` now.
    Ratchet { old: String, next: String },
    /// Refuse it (403), for this reason.
    Refuse(String),
}

/// The message for a replayed key.
pub const USED_KEY: &str = "this edit key was already used; send the newest key this device holds, or send a claim to manage the listing again";
/// The message for a wrong key.
pub const WRONG_KEY: &str =
    "this is not the edit key of this listing; send a claim if your group runs it";
/// The message for a listing with a key, updated without one.
pub const KEY_NEEDED: &str =
    "this listing is managed by its group; use its edit key, or send a claim";

/// Check an item's edit key against the listing's, inside the transaction that stores it.
fn check_key(
    tx: &rusqlite::Transaction<'_>,
    kind: Kind,
    obj: &Map<String, Value>,
    service_id: &str,
) -> Result<KeyCheck> {
    if kind == Kind::Report {
        return Ok(KeyCheck::Store(KeyProof::NotNeeded, None));
    }
    let grant = key_hash(obj, "edit_key_sha256")?.map(str::to_string);
    let given = match obj.get("edit_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Ok(KeyCheck::Refuse(WRONG_KEY.into())),
    };
    if kind == Kind::Claim {
        // A claim asks a moderator to decide who runs the listing; no key is needed.
        return Ok(KeyCheck::Store(KeyProof::Unverified, grant));
    }
    let current: Option<String> = tx
        .query_row(
            "SELECT key_sha256 FROM edit_key WHERE service_id = ?1",
            [service_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(key) = given else {
        return Ok(match current {
            Some(_) => KeyCheck::Refuse(KEY_NEEDED.into()),
            None => KeyCheck::Store(KeyProof::Unverified, grant),
        });
    };
    let Some(digest) = digest_of_key(key) else {
        return Ok(KeyCheck::Refuse(WRONG_KEY.into()));
    };
    if let Some(current) = current.filter(|c| same_key(&digest, c)) {
        let next = key_hash(obj, "next_edit_key_sha256")?.ok_or_else(|| {
            invalid(
                "/next_edit_key_sha256",
                "an update gives the SHA-256 of the key that replaces this one",
            )
        })?;
        let reused: bool = tx.query_row(
            "SELECT ?1 = ?2 OR EXISTS (SELECT 1 FROM retired_edit_key WHERE key_sha256 = ?1)",
            params![next, current],
            |r| r.get(0),
        )?;
        if reused {
            return Err(invalid(
                "/next_edit_key_sha256",
                "this key was used before; make a new one",
            ));
        }
        return Ok(KeyCheck::Ratchet {
            old: current,
            next: next.to_string(),
        });
    }
    let used: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM retired_edit_key WHERE key_sha256 = ?1 AND service_id = ?2)",
        params![hex::encode(digest), service_id],
        |r| r.get(0),
    )?;
    Ok(KeyCheck::Refuse(
        if used { USED_KEY } else { WRONG_KEY }.into(),
    ))
}

impl Moderation {
    /// Open (or make) the moderation file.
    pub fn open(path: &Path) -> Result<Moderation> {
        let mut conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        schema::migrate(&mut conn)?;
        Ok(Moderation { conn })
    }

    /// The connection, for the other parts of this crate.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Receive one item from a device, exactly once: a retry (a number already applied) gets
    /// the first answer and stores nothing; a skipped number is refused; an invalid item uses
    /// up its number and is refused (and refused the same way on a retry). The item and the
    /// device's number are written in one transaction.
    ///
    /// An update of a listing with an edit key must give that key and the hash of the next
    /// one: checked, and the key replaced, in the same transaction (a wrong, used or missing
    /// key is [`Error::EditKey`], and uses the number as an invalid item does). A new listing,
    /// a claim, or an update of a listing without a key may name the hash of a key, which
    /// approving the item makes the listing's. No key is ever stored, only hashes.
    pub fn submit(&mut self, kind: Kind, body: &Value, now: DateTime<Utc>) -> Result<Receipt> {
        let (obj, client_id, seq) = envelope(body)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Numbers are at most 2^53, so they fit SQLite's integers.
        let last = tx
            .query_row(
                "SELECT last_seq FROM device WHERE client_id = ?1",
                [&client_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0) as u64;
        let seq_sql = seq as i64;
        if seq <= last {
            // Answered from what was stored, without checking any key again: a retry after a
            // lost answer must get the same answer even though its key is now retired.
            let (id, status, field, reason, key): (String, String, String, String, String) = tx
                .query_row(
                "SELECT id, status, field, reason, edit_key FROM item WHERE client_id = ?1 AND seq = ?2",
                params![client_id, seq_sql],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            if status == "invalid" && key == KeyProof::Refused.code() {
                return Err(Error::EditKey { message: reason });
            }
            if status == "invalid" {
                return Err(Error::Invalid {
                    field,
                    message: reason,
                });
            }
            return Ok(Receipt {
                id,
                status: Status::from_code(&status),
                duplicate: true,
            });
        }
        if seq != last + 1 {
            return Err(Error::Gap {
                expected: last + 1,
                got: seq,
            });
        }
        let recent: u32 = tx.query_row(
            "SELECT count(*) FROM item WHERE client_id = ?1 AND submitted_at > ?2",
            params![client_id, rfc3339(now - chrono::Duration::hours(1))],
            |r| r.get(0),
        )?;
        if recent >= MAX_ITEMS_PER_DEVICE_PER_HOUR {
            return Err(Error::TooMany {
                limit: MAX_ITEMS_PER_DEVICE_PER_HOUR,
            });
        }
        let mut raw = [0u8; 8];
        rand::rng().fill_bytes(&mut raw);
        let id = format!("{}-{}", kind.code(), hex::encode(raw));
        // The listing first, then its key: a key is checked (and spent) only for an item that
        // would otherwise be stored.
        let checked = check(kind, obj).and_then(|(service_id, name, kept)| {
            let key = check_key(&tx, kind, obj, &service_id)?;
            Ok((service_id, name, kept, key))
        });
        let checked = match checked {
            Err(e) if !matches!(e, Error::Invalid { .. }) => return Err(e),
            other => other,
        };
        let now_text = rfc3339(now);
        let (service_id, name, kept, status, field, reason, proof, grant) = match &checked {
            Ok((service_id, name, kept, key)) => {
                let (status, reason, proof, grant) = match key {
                    KeyCheck::Store(proof, grant) => {
                        (Status::InReview, String::new(), *proof, grant.clone())
                    }
                    KeyCheck::Ratchet { .. } => {
                        (Status::InReview, String::new(), KeyProof::Verified, None)
                    }
                    KeyCheck::Refuse(why) => {
                        (Status::Invalid, why.clone(), KeyProof::Refused, None)
                    }
                };
                let (kept, field) = if status == Status::Invalid {
                    ("{}".to_string(), "/edit_key".to_string())
                } else {
                    (kept.to_string(), String::new())
                };
                (
                    service_id.clone(),
                    name.clone(),
                    kept,
                    status,
                    field,
                    reason,
                    proof,
                    grant,
                )
            }
            Err(Error::Invalid { field, message }) => (
                String::new(),
                String::new(),
                "{}".into(),
                Status::Invalid,
                field.clone(),
                message.clone(),
                KeyProof::NotNeeded,
                None,
            ),
            Err(_) => unreachable!("other errors were returned above"),
        };
        tx.execute(
            "INSERT INTO item(id, kind, client_id, seq, service_id, name, body, status, field, reason, submitted_at, edit_key, grant_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                kind.code(),
                client_id,
                seq_sql,
                service_id,
                name,
                kept,
                status.code(),
                field,
                reason,
                now_text,
                proof.code(),
                grant,
            ],
        )?;
        if let Ok((_, _, _, KeyCheck::Ratchet { old, next })) = &checked {
            // Each key works once: the next one replaces it in this same transaction.
            tx.execute(
                "UPDATE edit_key SET key_sha256 = ?2, issued_at = ?3, item_id = ?4 WHERE service_id = ?1",
                params![service_id, next, now_text, id],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO retired_edit_key(key_sha256, service_id, retired_at, item_id)
                 VALUES (?1, ?2, ?3, ?4)",
                params![old, service_id, now_text, id],
            )?;
        }
        tx.execute(
            "INSERT INTO device(client_id, last_seq) VALUES (?1, ?2)
             ON CONFLICT(client_id) DO UPDATE SET last_seq = excluded.last_seq",
            params![client_id, seq_sql],
        )?;
        tx.commit()?;
        match checked {
            Ok((_, _, _, KeyCheck::Refuse(message))) => Err(Error::EditKey { message }),
            Ok(_) => Ok(Receipt {
                id,
                status,
                duplicate: false,
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether a listing has an edit key (its group manages it, and updates must prove it).
    pub fn has_edit_key(&self, service_id: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM edit_key WHERE service_id = ?1)",
            [service_id],
            |r| r.get(0),
        )?)
    }

    /// One item.
    pub fn item(&self, id: &str) -> Result<Item> {
        self.conn
            .query_row(
                &format!("SELECT {ITEM_COLUMNS} FROM item WHERE id = ?1"),
                [id],
                item_row,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound {
                kind: "item",
                id: id.into(),
            })
    }

    /// The queue: items waiting for a moderator, oldest first.
    pub fn pending(&self) -> Result<Vec<Item>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM item WHERE status = 'in_review' ORDER BY submitted_at, id"
        ))?;
        let rows = stmt
            .query_map([], item_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The queue narrowed: items waiting whose name holds `q` (ignoring ASCII case; empty
    /// matches all), of one kind if given, oldest first.
    pub fn pending_matching(&self, q: &str, kind: Option<Kind>) -> Result<Vec<Item>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM item WHERE status = 'in_review'
             AND instr(lower(name), lower(?1)) > 0 AND (?2 IS NULL OR kind = ?2)
             ORDER BY submitted_at, id"
        ))?;
        let rows = stmt
            .query_map(params![q.trim(), kind.map(Kind::code)], item_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The audit trail of a listing, oldest first.
    pub fn audit(&self, service_id: &str) -> Result<Vec<AuditRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT item_id, at, who, action, field, old_value, new_value FROM audit
             WHERE service_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([service_id], |r| {
                Ok(AuditRow {
                    item_id: r.get(0)?,
                    at: r.get(1)?,
                    who: r.get(2)?,
                    action: r.get(3)?,
                    field: r.get(4)?,
                    old_value: r.get(5)?,
                    new_value: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn pending_item(&self, id: &str) -> Result<Item> {
        let item = self.item(id)?;
        if item.status != Status::InReview {
            return Err(Error::AlreadyDecided {
                id: id.into(),
                status: item.status.code().into(),
            });
        }
        Ok(item)
    }

    /// Reject an item, with the reason the group will see.
    pub fn reject(&mut self, id: &str, reason: &str, who: &str, now: DateTime<Utc>) -> Result<()> {
        let item = self.pending_item(id)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid("/reason", "say why, for the group to read"));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE item SET status = 'rejected', reason = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1",
            params![id, reason, rfc3339(now), who],
        )?;
        tx.execute(
            "INSERT INTO audit(item_id, service_id, at, who, action, field, new_value)
             VALUES (?1, ?2, ?3, ?4, 'reject', '', ?5)",
            params![id, item.service_id, rfc3339(now), who, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A moderator's revision of a waiting submission before approving it: `service` replaces
    /// the listing the item holds (so approval publishes it), after the same checks it had on
    /// arrival; it must keep the item's listing id. Each field it changes is an audit row with
    /// action `edit` (old and new value, as stored), returned; a revision that changes nothing
    /// stores nothing. What the group sent is still in the audit's old values.
    pub fn revise(
        &mut self,
        id: &str,
        service: &Value,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<AuditRow>> {
        let item = self.pending_item(id)?;
        if item.kind != Kind::Submission {
            return Err(invalid("/kind", "only a listing can be edited"));
        }
        let body = json!({ "service": service });
        let obj = body.as_object().expect("an object");
        let (service_id, name, kept) = check(Kind::Submission, obj)?;
        if service_id != item.service_id {
            return Err(invalid(
                "/service/id",
                format!(
                    "must stay {:?}: an edit cannot move the item to another listing",
                    item.service_id
                ),
            ));
        }
        let before =
            stored_form(&item.body["service"]).unwrap_or_else(|_| item.body["service"].clone());
        let changes = field_changes(Some(&before), &stored_form(service)?);
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let at = rfc3339(now);
        let tx = self.conn.transaction()?;
        let updated = tx.execute(
            "UPDATE item SET body = ?2, name = ?3 WHERE id = ?1 AND status = 'in_review'",
            params![id, kept.to_string(), name],
        )?;
        if updated == 0 {
            return Err(Error::AlreadyDecided {
                id: id.into(),
                status: "decided".into(),
            });
        }
        let mut rows = Vec::new();
        for (field, old, new) in changes {
            tx.execute(
                "INSERT INTO audit(item_id, service_id, at, who, action, field, old_value, new_value)
                 VALUES (?1, ?2, ?3, ?4, 'edit', ?5, ?6, ?7)",
                params![id, item.service_id, at, who, field, old, new],
            )?;
            rows.push(AuditRow {
                item_id: id.into(),
                at: at.clone(),
                who: who.into(),
                action: "edit".into(),
                field,
                old_value: old,
                new_value: new,
            });
        }
        tx.commit()?;
        Ok(rows)
    }

    /// Close a waiting item as a duplicate of another waiting item (`into`), which stays
    /// waiting: the item is rejected with the reason "Merged with <into>" (what its sender
    /// sees), audited with action `merge` and `into` as the new value.
    pub fn merge(&mut self, id: &str, into: &str, who: &str, now: DateTime<Utc>) -> Result<()> {
        if id == into {
            return Err(invalid("/into", "an item cannot be merged with itself"));
        }
        let item = self.pending_item(id)?;
        match self.pending_item(into) {
            Ok(_) => {}
            Err(Error::NotFound { .. }) => {
                return Err(invalid("/into", format!("there is no item {into:?}")))
            }
            Err(Error::AlreadyDecided { status, .. }) => {
                return Err(invalid(
                    "/into",
                    format!("{into} was already {status}: merge only into an item still waiting"),
                ))
            }
            Err(e) => return Err(e),
        }
        let at = rfc3339(now);
        let reason = format!("Merged with {into}");
        let tx = self.conn.transaction()?;
        let updated = tx.execute(
            "UPDATE item SET status = 'rejected', reason = ?2, decided_at = ?3, decided_by = ?4
             WHERE id = ?1 AND status = 'in_review'",
            params![id, reason, at, who],
        )?;
        let other_waiting: bool = tx.query_row(
            "SELECT count(*) FROM item WHERE id = ?1 AND status = 'in_review'",
            [into],
            |r| r.get::<_, i64>(0),
        )? == 1;
        if updated == 0 || !other_waiting {
            return Err(Error::AlreadyDecided {
                id: if updated == 0 { id.into() } else { into.into() },
                status: "decided".into(),
            });
        }
        tx.execute(
            "INSERT INTO audit(item_id, service_id, at, who, action, field, new_value)
             VALUES (?1, ?2, ?3, ?4, 'merge', '', ?5)",
            params![id, item.service_id, at, who, into],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The audit rows of one item, oldest first.
    pub fn item_audit(&self, id: &str) -> Result<Vec<AuditRow>> {
        let item = self.item(id)?;
        Ok(self
            .audit(&item.service_id)?
            .into_iter()
            .filter(|r| r.item_id == id)
            .collect())
    }

    /// Approve an item. A submission is published as it was sent, with its publisher check
    /// date renewed and a `metadata` row per changed field; a "this has closed" report
    /// publishes the listing as inactive; a "still running" report republishes it unchanged but
    /// for its check date (`assured_date`), renewed to `now`'s day, audited and in `metadata` as
    /// a changed field, so its freshness reminders start again. Publishing goes through the directory's changeset
    /// log like any import; the decision is recorded after it (approving again after a crash
    /// between the two republishes identical content, which changes nothing).
    pub fn approve(
        &mut self,
        id: &str,
        who: &str,
        dir: &mut Directory,
        now: DateTime<Utc>,
    ) -> Result<Vec<AuditRow>> {
        let item = self.pending_item(id)?;
        let published = match dir.listing(&item.service_id) {
            Ok(d) => Some(d.record),
            Err(signpost_directory::Error::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let mut next = match (item.kind, &published) {
            (Kind::Submission, _) => item.body["service"].clone(),
            (Kind::Report, Some(old)) if item.body["kind"] == "closed" => {
                let mut v = old.clone();
                v["status"] = json!("inactive");
                v
            }
            (Kind::Report, Some(old)) if item.body["kind"] == "still-running" => old.clone(),
            (Kind::Report, None)
                if item.body["kind"] == "closed" || item.body["kind"] == "still-running" =>
            {
                return Err(Error::NotFound {
                    kind: "published listing",
                    id: item.service_id,
                })
            }
            // Claims and "details are wrong" reports change nothing published by themselves.
            _ => Value::Null,
        };
        let mut changes = Vec::new();
        if !next.is_null() {
            let date = now.date_naive().to_string();
            next["assured_date"] = json!(date);
            // Compared in the form the directory stores (children get derived ids), so only
            // what really changed is recorded.
            changes = field_changes(published.as_ref(), &stored_form(&next)?);
            if item.kind == Kind::Report && item.body["kind"] == "still-running" {
                // The one change, which `field_changes` leaves out as bookkeeping elsewhere.
                let old = published
                    .as_ref()
                    .and_then(|p| p.get("assured_date"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if old.as_deref() != Some(date.as_str()) {
                    changes.push(("assured_date".into(), old, Some(date.clone())));
                }
            }
            let mut metadata: Vec<Value> = published
                .as_ref()
                .and_then(|p| p.get("metadata"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, (field, old, new)) in changes.iter().enumerate() {
                metadata.push(json!({
                    "id": format!("{}/metadata/{id}/{i}", item.service_id),
                    "resource_id": item.service_id,
                    "resource_type": "service",
                    "last_action_date": date,
                    "last_action_type": if published.is_some() { "update" } else { "create" },
                    "field_name": field,
                    "previous_value": old.clone().unwrap_or_default(),
                    "replacement_value": new.clone().unwrap_or_default(),
                    "updated_by": who,
                }));
            }
            next["metadata"] = Value::Array(metadata);
            let report =
                dir.import_sources(vec![(format!("moderation:{id}"), vec![next])], &mut |_| {})?;
            if let Some(e) = report.errors.first() {
                return Err(invalid(&format!("/service{}", e.field), e.message.clone()));
            }
        }
        let at = rfc3339(now);
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE item SET status = 'approved', decided_at = ?2, decided_by = ?3 WHERE id = ?1",
            params![id, at, who],
        )?;
        tx.execute(
            "INSERT INTO audit(item_id, service_id, at, who, action) VALUES (?1, ?2, ?3, ?4, 'approve')",
            params![id, item.service_id, at, who],
        )?;
        for (field, old, new) in &changes {
            tx.execute(
                "INSERT INTO audit(item_id, service_id, at, who, action, field, old_value, new_value)
                 VALUES (?1, ?2, ?3, ?4, 'update', ?5, ?6, ?7)",
                params![id, item.service_id, at, who, field, old, new],
            )?;
        }
        // The sender's key (its hash) becomes the listing's; a key it replaces is retired. A
        // hash already retired is never granted again (a second item from the same device,
        // approved after that key was used, must not bring it back).
        tx.execute(
            "INSERT OR IGNORE INTO retired_edit_key(key_sha256, service_id, retired_at, item_id)
             SELECT k.key_sha256, k.service_id, ?2, ?1 FROM edit_key k JOIN item i
                 ON i.id = ?1 AND k.service_id = i.service_id
             WHERE i.grant_sha256 IS NOT NULL AND k.key_sha256 != i.grant_sha256
                 AND i.grant_sha256 NOT IN (SELECT key_sha256 FROM retired_edit_key)",
            params![id, at],
        )?;
        tx.execute(
            "INSERT INTO edit_key(service_id, key_sha256, issued_at, item_id)
             SELECT service_id, grant_sha256, ?2, id FROM item
             WHERE id = ?1 AND grant_sha256 IS NOT NULL AND kind IN ('submission', 'claim')
                 AND grant_sha256 NOT IN (SELECT key_sha256 FROM retired_edit_key)
             ON CONFLICT(service_id) DO UPDATE SET key_sha256 = excluded.key_sha256,
                 issued_at = excluded.issued_at, item_id = excluded.item_id",
            params![id, at],
        )?;
        tx.commit()?;
        self.audit(&item.service_id)
            .map(|rows| rows.into_iter().filter(|r| r.item_id == id).collect())
    }
}

/// One changed field: its name, the value before (absent: `None`) and after, as JSON text.
pub type FieldChange = (String, Option<String>, Option<String>);

/// `service` as the directory would store it (children with derived ids, text normalised).
fn stored_form(service: &Value) -> Result<Value> {
    let mut batch = PreparedBatch::default();
    import::prepare("moderation", 0, service.clone(), &mut batch);
    if let Some(e) = batch.errors.first() {
        return Err(invalid(&format!("/service{}", e.field), e.message.clone()));
    }
    Ok(batch
        .listings
        .first()
        .and_then(|l| serde_json::from_str(&l.record).ok())
        .unwrap_or_else(|| service.clone()))
}

/// What approving a submission would change in `published` (its record as published now, if
/// it is), field by field as [`field_changes`] gives them, compared in the stored form so a
/// moderator sees the same changes the audit will record. Other kinds change no fields.
pub fn proposed_changes(item: &Item, published: Option<&Value>) -> Result<Vec<FieldChange>> {
    if item.kind != Kind::Submission {
        return Ok(Vec::new());
    }
    Ok(field_changes(
        published,
        &stored_form(&item.body["service"])?,
    ))
}

/// The top-level fields that differ between the published record and the next one (as JSON
/// text; `None` when absent), leaving out the bookkeeping fields.
pub fn field_changes(old: Option<&Value>, new: &Value) -> Vec<FieldChange> {
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&Value>| -> Option<String> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        }
    };
    keys.into_iter()
        .filter(|k| !["metadata", "assured_date", "last_modified"].contains(&k.as_str()))
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| (k.clone(), show(old.get(k)), show(new.get(k))))
        .collect()
}
