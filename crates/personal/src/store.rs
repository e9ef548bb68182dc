//! [`Personal`]: the public API of the personal store.
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::edit_keys::{key_sha256, new_key, KeyState, KeyStore, KeyringEntry};
use crate::error::{Error, Result};
use crate::schema;

/// Longest comment a report may carry: enough for a paragraph, not for a pasted document.
const MAX_COMMENT_CHARS: usize = 2_000;

/// One saved listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Saved {
    /// The listing's HSDS service id.
    pub service_id: String,
    /// Its name when it was saved.
    pub name: String,
    /// When (RFC 3339, UTC).
    pub saved_at: String,
}

/// What a problem report says is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    /// "This has closed."
    Closed,
    /// "Details are wrong."
    WrongDetails,
}

impl ReportKind {
    fn code(self) -> &'static str {
        match self {
            ReportKind::Closed => "closed",
            ReportKind::WrongDetails => "wrong-details",
        }
    }

    fn from_code(code: &str) -> Option<ReportKind> {
        match code {
            "closed" => Some(ReportKind::Closed),
            "wrong-details" => Some(ReportKind::WrongDetails),
            _ => None,
        }
    }
}

/// A problem report about a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Local id.
    pub id: i64,
    /// The listing's HSDS service id.
    pub service_id: String,
    /// The listing's name when reported.
    pub service_name: String,
    /// What is wrong.
    pub kind: ReportKind,
    /// The person's words.
    pub comment: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// When the feed accepted it; `None` while it waits in the queue.
    pub sent_at: Option<String>,
    /// Where it stands: queued, in_review, approved, rejected or invalid.
    pub status: OutboxStatus,
    /// The moderator's reason, or why the feed refused it.
    pub reason: String,
}

/// What the device sends the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxKind {
    /// A group's new or updated listing (`POST /submissions`).
    Submission,
    /// "This is our group" (`POST /claims`).
    Claim,
    /// A problem report (`POST /reports`).
    Report,
}

impl OutboxKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            OutboxKind::Submission => "submission",
            OutboxKind::Claim => "claim",
            OutboxKind::Report => "report",
        }
    }

    /// The feed's path for it.
    pub fn path(self) -> &'static str {
        match self {
            OutboxKind::Submission => "/submissions",
            OutboxKind::Claim => "/claims",
            OutboxKind::Report => "/reports",
        }
    }

    fn from_code(code: &str) -> OutboxKind {
        match code {
            "submission" => OutboxKind::Submission,
            "claim" => OutboxKind::Claim,
            _ => OutboxKind::Report,
        }
    }
}

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// On the device, not yet accepted by the feed.
    Queued,
    /// Accepted; a moderator will look at it.
    InReview,
    /// Approved (and published, where it changes a listing).
    Approved,
    /// Rejected by a moderator (the reason says why).
    Rejected,
    /// Refused by the feed as invalid (the reason says why).
    Invalid,
}

impl OutboxStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::InReview => "in_review",
            OutboxStatus::Approved => "approved",
            OutboxStatus::Rejected => "rejected",
            OutboxStatus::Invalid => "invalid",
        }
    }

    /// Read a stored (or the feed's) code.
    pub fn from_code(code: &str) -> OutboxStatus {
        match code {
            "in_review" => OutboxStatus::InReview,
            "approved" => OutboxStatus::Approved,
            "rejected" => OutboxStatus::Rejected,
            "invalid" => OutboxStatus::Invalid,
            _ => OutboxStatus::Queued,
        }
    }
}

/// One item in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    /// Local id.
    pub id: i64,
    /// What it is.
    pub kind: OutboxKind,
    /// The listing it is about.
    pub service_id: String,
    /// The listing's name.
    pub name: String,
    /// What is sent (without the device's id and number).
    pub body: serde_json::Value,
    /// When it was queued.
    pub created_at: String,
    /// When the feed accepted it.
    pub sent_at: Option<String>,
    /// The feed's id for it, once accepted.
    pub remote_id: Option<String>,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Why it was rejected or refused.
    pub reason: String,
}

/// An item ready to go, with the envelope the feed needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The item.
    pub item: OutboxItem,
    /// The body as sent: the item's body with `client_id` and `seq`.
    pub envelope: serde_json::Value,
}

/// Hosts a map tile address may name with plain `http://`: a tile server on this computer.
/// Every other tile address must be `https://`. The app's content security policy (`img-src`)
/// admits exactly these, so any tile address the settings accept is one the window can load.
pub const TILE_HTTP_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// A setting kept between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The regional feed's base URL (http or https).
    FeedUrl,
    /// A map tile URL template with `{z}`, `{x}` and `{y}`; none means a plain background.
    TileUrl,
    /// The last search, as the UI's own JSON, so the app reopens where the person left it.
    LastSearch,
    /// How the last sync ended, as JSON written by the app (time, outcome, message).
    LastSync,
}

/// Check and normalise a feed's address as the `feed_url` setting is (http or https, naming a
/// server, no trailing slash): for another feed the directory follows, which is not a setting.
pub fn feed_address(text: &str) -> Result<String> {
    Setting::FeedUrl.check(text)
}

impl Setting {
    fn key(self) -> &'static str {
        match self {
            Setting::FeedUrl => "feed_url",
            Setting::TileUrl => "tile_url",
            Setting::LastSearch => "last_search",
            Setting::LastSync => "last_sync",
        }
    }

    /// Check and normalise a value before it is stored. An empty value clears the setting.
    fn check(self, value: &str) -> Result<String> {
        let value = value.trim();
        let web_url = |field: &'static str, text: &str| -> Result<url::Url> {
            let url = url::Url::parse(text).map_err(|e| Error::Invalid {
                field,
                message: format!("{text:?} is not a web address ({e}); it should look like https://feed.example.org"),
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(Error::Invalid {
                    field,
                    message: format!(
                        "{text:?} must start with https:// (or http://) and name a server"
                    ),
                });
            }
            Ok(url)
        };
        match self {
            Setting::FeedUrl => Ok(web_url("feed address", value)?
                .as_str()
                .trim_end_matches('/')
                .to_string()),
            Setting::TileUrl => {
                // Placeholders are not valid URL syntax everywhere; check with them filled in.
                let filled = value
                    .replace("{z}", "1")
                    .replace("{x}", "1")
                    .replace("{y}", "1")
                    .replace("{s}", "a");
                let url = web_url("map tile address", &filled)?;
                let host = url.host_str().unwrap_or_default();
                if url.scheme() == "http" && !TILE_HTTP_HOSTS.contains(&host) {
                    return Err(Error::Invalid {
                        field: "map tile address",
                        message: format!(
                            "the app can only load map tiles over https:// (http:// only from a tile server on this computer, such as http://localhost:8080/{{z}}/{{x}}/{{y}}.png); {host} is not on this computer"
                        ),
                    });
                }
                if !["{z}", "{x}", "{y}"].iter().all(|p| value.contains(p)) {
                    return Err(Error::Invalid {
                        field: "map tile address",
                        message: "it must contain {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
                    });
                }
                Ok(value.to_string())
            }
            Setting::LastSearch | Setting::LastSync => {
                if value.len() > 8_192 {
                    return Err(Error::Invalid {
                        field: "saved state",
                        message: "too long to keep".into(),
                    });
                }
                Ok(value.to_string())
            }
        }
    }
}

const OUTBOX_COLUMNS: &str =
    "id, kind, service_id, name, body, created_at, sent_at, remote_id, status, reason";

fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let kind: String = r.get(1)?;
    let body: String = r.get(4)?;
    let status: String = r.get(8)?;
    Ok(OutboxItem {
        id: r.get(0)?,
        kind: OutboxKind::from_code(&kind),
        service_id: r.get(2)?,
        name: r.get(3)?,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        created_at: r.get(5)?,
        sent_at: r.get(6)?,
        remote_id: r.get(7)?,
        status: OutboxStatus::from_code(&status),
        reason: r.get(9)?,
    })
}

fn report_of(item: OutboxItem) -> Report {
    let text = |k: &str| item.body[k].as_str().unwrap_or_default().to_string();
    Report {
        id: item.id,
        service_id: item.service_id.clone(),
        service_name: item.name.clone(),
        kind: ReportKind::from_code(&text("kind")).unwrap_or(ReportKind::WrongDetails),
        comment: text("comment"),
        created_at: item.created_at.clone(),
        sent_at: item.sent_at.clone(),
        status: item.status,
        reason: item.reason.clone(),
    }
}

fn insert_outbox(
    conn: &Connection,
    kind: OutboxKind,
    service_id: &str,
    name: &str,
    body: &serde_json::Value,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO outbox(kind, service_id, name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind.code(), service_id, name, body.to_string(), now()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An outbox item as shown: an edit key waiting to be sent is for the feed alone.
fn shown(mut item: OutboxItem) -> OutboxItem {
    if let Some(obj) = item.body.as_object_mut() {
        obj.remove("edit_key");
    }
    item
}

/// A pending key becomes the listing's (active) when an item naming its hash is approved.
fn activate_keys(conn: &Connection, remote_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE edit_key SET state = 'active', outbox_id = NULL, updated_at = ?2
         WHERE state = 'pending' AND EXISTS (
             SELECT 1 FROM outbox o WHERE o.remote_id = ?1 AND o.status = 'approved'
                 AND o.service_id = edit_key.service_id
                 AND json_extract(o.body, '$.edit_key_sha256') = edit_key.key_sha256)",
        params![remote_id, now()],
    )?;
    Ok(())
}

/// The personal store: one SQLite file on the device.
pub struct Personal {
    conn: Connection,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Personal {
    /// Open (creating if needed) the file at `path`.
    pub fn open(path: &Path) -> Result<Personal> {
        Personal::init(Connection::open(path)?)
    }

    /// A store that lives only in memory (tests).
    pub fn open_in_memory() -> Result<Personal> {
        Personal::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Personal> {
        // WAL: a crash mid-write never loses what was saved before it.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        schema::migrate(&mut conn)?;
        Ok(Personal { conn })
    }

    /// Save a listing (saving it again keeps the first time it was saved).
    pub fn save(&self, service_id: &str, name: &str) -> Result<()> {
        if service_id.trim().is_empty() {
            return Err(Error::Invalid {
                field: "listing",
                message: "no listing id given".into(),
            });
        }
        self.conn.execute(
            "INSERT INTO saved(service_id, name, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(service_id) DO UPDATE SET name = excluded.name",
            params![service_id, name, now()],
        )?;
        Ok(())
    }

    /// Remove a listing from the saved list. Returns whether it was there.
    pub fn unsave(&self, service_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM saved WHERE service_id = ?1", [service_id])?
            > 0)
    }

    /// The saved list, oldest first (the order the person built it in).
    pub fn saved(&self) -> Result<Vec<Saved>> {
        let mut stmt = self
            .conn
            .prepare("SELECT service_id, name, saved_at FROM saved ORDER BY saved_at, rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok(Saved {
                service_id: r.get(0)?,
                name: r.get(1)?,
                saved_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether a listing is saved.
    pub fn is_saved(&self, service_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM saved WHERE service_id = ?1",
                [service_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Queue a problem report until it can be sent.
    pub fn queue_report(
        &self,
        service_id: &str,
        service_name: &str,
        kind: ReportKind,
        comment: &str,
    ) -> Result<Report> {
        let comment = comment.trim();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(Error::Invalid {
                field: "your comment",
                message: format!("please keep it under {MAX_COMMENT_CHARS} characters"),
            });
        }
        if kind == ReportKind::WrongDetails && comment.is_empty() {
            return Err(Error::Invalid {
                field: "your comment",
                message: "say which details are wrong, so the group can fix them".into(),
            });
        }
        let body = serde_json::json!({
            "service_id": service_id,
            "kind": kind.code(),
            "comment": comment,
            "service_name": service_name,
        });
        let item = self.queue(OutboxKind::Report, service_id, service_name, body)?;
        Ok(report_of(item))
    }

    /// Every report, newest first; those not yet sent have `sent_at: None`.
    pub fn reports(&self) -> Result<Vec<Report>> {
        Ok(self
            .outbox()?
            .into_iter()
            .filter(|i| i.kind == OutboxKind::Report)
            .map(report_of)
            .collect())
    }

    /// This device's id for the feed: a random UUID, made once.
    pub fn client_id(&self) -> Result<String> {
        if let Some(id) = self.internal("client_id")? {
            return Ok(id);
        }
        let mut b = [0u8; 16];
        rand::rng().fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let id = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        );
        self.conn.execute(
            "INSERT OR IGNORE INTO setting(key, value) VALUES ('client_id', ?1)",
            [&id],
        )?;
        Ok(self.internal("client_id")?.unwrap_or(id))
    }

    fn internal(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Put an item in the outbox: it is on disk when this returns, and goes when the feed can
    /// be reached.
    pub fn queue(
        &self,
        kind: OutboxKind,
        service_id: &str,
        name: &str,
        body: serde_json::Value,
    ) -> Result<OutboxItem> {
        let id = insert_outbox(&self.conn, kind, service_id, name, &body)?;
        self.outbox_item(id)
    }

    /// Queue a group's listing (`service`, HSDS) with this device's edit key for it, in one
    /// transaction with the key's change:
    ///
    /// - the device holds the listing's key: the update carries it and the hash of a new key,
    ///   which replaces it here (so a second update queued offline uses the new one);
    /// - a key is pending (sent with something not yet approved): the update names its hash
    ///   again;
    /// - no key (a new listing, or one this device has never managed): a new key is made,
    ///   pending, and the update names its hash; approving it gives the key to this device.
    pub fn queue_listing(
        &self,
        keys: &KeyStore,
        service_id: &str,
        name: &str,
        service: serde_json::Value,
    ) -> Result<OutboxItem> {
        self.queue_keyed(
            keys,
            OutboxKind::Submission,
            service_id,
            name,
            serde_json::json!({ "service": service }),
        )
    }

    /// Queue a claim ("this is our group": `claim` holds `service_id`, `contact_name`,
    /// `contact_email`, `note`, `service_name`) naming the hash of this device's pending key
    /// for the listing (made now if there is none), so approving it gives the device the key.
    pub fn queue_claim(
        &self,
        keys: &KeyStore,
        service_id: &str,
        name: &str,
        claim: serde_json::Value,
    ) -> Result<OutboxItem> {
        self.queue_keyed(keys, OutboxKind::Claim, service_id, name, claim)
    }

    fn queue_keyed(
        &self,
        keys: &KeyStore,
        kind: OutboxKind,
        service_id: &str,
        name: &str,
        mut body: serde_json::Value,
    ) -> Result<OutboxItem> {
        if !body.is_object() {
            return Err(Error::Invalid {
                field: "listing",
                message: "not a listing".into(),
            });
        }
        let tx = self.conn.unchecked_transaction()?;
        let held: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT state, key_sha256, key FROM edit_key WHERE service_id = ?1",
                [service_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let current = match &held {
            Some((state, sha, key)) if KeyState::from_code(state) == KeyState::Active => {
                let key = match keys {
                    KeyStore::Database => key.clone(),
                    KeyStore::Keyring(store) => store
                        .get(service_id)
                        .map_err(Error::Keyring)?
                        .and_then(|s| serde_json::from_str::<KeyringEntry>(&s).ok())
                        .and_then(|e| e.matching(sha)),
                };
                key.filter(|k| key_sha256(k).as_deref() == Some(sha.as_str()))
            }
            _ => None,
        };
        let pending_sha = match &held {
            Some((state, sha, _)) if KeyState::from_code(state) == KeyState::Pending => {
                Some(sha.clone())
            }
            _ => None,
        };
        let obj = body.as_object_mut().expect("checked above");
        let outbox_id;
        match (kind, current.clone(), pending_sha) {
            (OutboxKind::Submission, Some(key), _) => {
                // Each key works once: this update spends it and names the next.
                let (next, next_sha) = new_key();
                obj.insert("edit_key".into(), key.clone().into());
                obj.insert("next_edit_key_sha256".into(), next_sha.clone().into());
                let kept = self.keep(keys, service_id, &next, Some(&key))?;
                outbox_id = insert_outbox(&tx, kind, service_id, name, &body)?;
                tx.execute(
                    "UPDATE edit_key SET key_sha256 = ?2, key = ?3, updated_at = ?4 WHERE service_id = ?1",
                    params![service_id, next_sha, kept, now()],
                )?;
            }
            (_, _, Some(sha)) => {
                obj.insert("edit_key_sha256".into(), sha.into());
                outbox_id = insert_outbox(&tx, kind, service_id, name, &body)?;
            }
            _ => {
                // No key this device can use: a new one, pending until approved. A claim for a
                // listing whose key this device holds asks for a new one the same way.
                let (key, sha) = new_key();
                obj.insert("edit_key_sha256".into(), sha.clone().into());
                let kept = self.keep(keys, service_id, &key, current.as_deref())?;
                outbox_id = insert_outbox(&tx, kind, service_id, name, &body)?;
                tx.execute(
                    "INSERT INTO edit_key(service_id, state, key_sha256, key, outbox_id, updated_at)
                     VALUES (?1, 'pending', ?2, ?3, ?4, ?5)
                     ON CONFLICT(service_id) DO UPDATE SET state = 'pending',
                         key_sha256 = excluded.key_sha256, key = excluded.key,
                         outbox_id = excluded.outbox_id, updated_at = excluded.updated_at",
                    params![service_id, sha, kept, outbox_id, now()],
                )?;
            }
        }
        tx.commit()?;
        self.outbox_item(outbox_id).map(shown)
    }

    /// Keep a new key where `keys` says; returns what the file keeps (the key itself, or
    /// nothing when the keyring has it). The keyring is written before the file's transaction
    /// commits, with the key before it, so the file's hash always names a key that is there.
    fn keep(
        &self,
        keys: &KeyStore,
        service_id: &str,
        key: &str,
        previous: Option<&str>,
    ) -> Result<Option<String>> {
        match keys {
            KeyStore::Database => Ok(Some(key.to_string())),
            KeyStore::Keyring(store) => {
                let entry = KeyringEntry {
                    key: key.to_string(),
                    previous: previous.map(str::to_string),
                };
                let text =
                    serde_json::to_string(&entry).map_err(|e| Error::Keyring(e.to_string()))?;
                store.set(service_id, &text).map_err(Error::Keyring)?;
                Ok(None)
            }
        }
    }

    /// Where this device stands with a listing's edit key, if it has one.
    pub fn edit_key_state(&self, service_id: &str) -> Result<Option<KeyState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM edit_key WHERE service_id = ?1",
                [service_id],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|s| KeyState::from_code(&s)))
    }

    /// Every listing this device holds (or waits for) a key to, by id.
    pub fn edit_keys(&self) -> Result<Vec<(String, KeyState)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT service_id, state FROM edit_key ORDER BY service_id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                KeyState::from_code(&r.get::<_, String>(1)?),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The feed refused an item's edit key (403: wrong, already used, or needed). Its number
    /// was used. If the item gave this device's key, the feed no longer knows that key (another
    /// group's claim was approved, or this file was restored from an old copy): the device
    /// forgets it, so later updates are sent for a moderator to check, as from a new device.
    pub fn refused_edit_key(&self, id: i64, reason: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM edit_key WHERE state = 'active' AND service_id =
                 (SELECT service_id FROM outbox WHERE id = ?1 AND json_type(body, '$.edit_key') IS NOT NULL)",
            [id],
        )?;
        tx.execute(
            "UPDATE outbox SET status = 'invalid', reason = ?2, body = json_remove(body, '$.edit_key')
             WHERE id = ?1",
            params![id, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn outbox_item(&self, id: i64) -> Result<OutboxItem> {
        Ok(self.conn.query_row(
            &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            outbox_row,
        )?)
    }

    /// Everything in the outbox, newest first.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([], outbox_row)?;
        let items: Vec<OutboxItem> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(items.into_iter().map(shown).collect())
    }

    /// The oldest item not yet accepted, with its number for the feed: given now if it has none
    /// (in the same transaction as the device's last number), kept if it has one, so a retry
    /// after a cut is recognised by the feed.
    pub fn next_to_send(&self) -> Result<Option<Outgoing>> {
        let client_id = self.client_id()?;
        let tx = self.conn.unchecked_transaction()?;
        let next: Option<(i64, Option<i64>)> = tx
            .query_row(
                "SELECT id, wire_seq FROM outbox WHERE status = 'queued' ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, seq)) = next else {
            return Ok(None);
        };
        let seq = match seq {
            Some(s) => s,
            None => {
                let last: i64 = tx
                    .query_row(
                        "SELECT CAST(value AS INTEGER) FROM setting WHERE key = 'last_wire_seq'",
                        [],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0);
                tx.execute(
                    "INSERT INTO setting(key, value) VALUES ('last_wire_seq', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [(last + 1).to_string()],
                )?;
                tx.execute(
                    "UPDATE outbox SET wire_seq = ?2 WHERE id = ?1",
                    params![id, last + 1],
                )?;
                last + 1
            }
        };
        tx.commit()?;
        let item = self.outbox_item(id)?;
        let mut envelope = item.body.clone();
        if let Some(obj) = envelope.as_object_mut() {
            obj.insert("client_id".into(), client_id.into());
            obj.insert("seq".into(), seq.into());
        }
        Ok(Some(Outgoing { item, envelope }))
    }

    /// The feed accepted an item: it has this id there and stands at `status`.
    pub fn delivered(&self, id: i64, remote_id: &str, status: OutboxStatus) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        // A key sent is spent: the body keeps only hashes once the feed has it.
        tx.execute(
            "UPDATE outbox SET sent_at = ?2, remote_id = ?3, status = ?4,
                 body = json_remove(body, '$.edit_key') WHERE id = ?1",
            params![id, now(), remote_id, status.code()],
        )?;
        activate_keys(&tx, remote_id)?;
        tx.commit()?;
        Ok(())
    }

    /// The feed refused an item as invalid. `number_used` says whether the feed counted its
    /// number (a refused item, 422) or not (a refused envelope or body, 400 and 413): a number
    /// the feed did not count is given back, so the next item follows on without a gap.
    pub fn refused(&self, id: i64, reason: &str, number_used: bool) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE outbox SET status = 'invalid', reason = ?2,
                 body = json_remove(body, '$.edit_key') WHERE id = ?1",
            params![id, reason],
        )?;
        if !number_used {
            let seq: Option<i64> =
                tx.query_row("SELECT wire_seq FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            if let Some(seq) = seq {
                tx.execute("UPDATE outbox SET wire_seq = NULL WHERE id = ?1", [id])?;
                tx.execute(
                    "UPDATE setting SET value = ?1 WHERE key = 'last_wire_seq' AND CAST(value AS INTEGER) = ?2",
                    params![(seq - 1).to_string(), seq],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The feed expects `expected` next (it lost track of this device, or this file was
    /// restored from an old copy): number the item being sent, and those after it, from there.
    pub fn renumber_from(&self, id: i64, expected: i64) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE outbox SET wire_seq = NULL WHERE id = ?1", [id])?;
        tx.execute(
            "INSERT INTO setting(key, value) VALUES ('last_wire_seq', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(expected - 1).to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Remove an item that has not been sent. One already on its way (it has a number the feed
    /// may have counted) stays, so the feed never sees a gap; so does an update carrying an
    /// edit key, since the device's key has already moved on to the next one.
    pub fn remove_queued(&self, id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE id = ?1 AND status = 'queued' AND wire_seq IS NULL
                 AND json_type(body, '$.edit_key') IS NULL",
            [id],
        )? > 0)
    }

    /// What the feed now says about an item it accepted.
    pub fn set_remote_status(
        &self,
        remote_id: &str,
        status: OutboxStatus,
        reason: &str,
    ) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE outbox SET status = ?2, reason = ?3 WHERE remote_id = ?1",
            params![remote_id, status.code(), reason],
        )?;
        activate_keys(&tx, remote_id)?;
        tx.commit()?;
        Ok(())
    }

    /// A setting's value, if set.
    pub fn setting(&self, setting: Setting) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM setting WHERE key = ?1",
                [setting.key()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Check and store a setting; an empty value clears it. Returns the value as stored.
    pub fn set_setting(&self, setting: Setting, value: &str) -> Result<Option<String>> {
        if value.trim().is_empty() {
            self.conn
                .execute("DELETE FROM setting WHERE key = ?1", [setting.key()])?;
            return Ok(None);
        }
        let value = setting.check(value)?;
        self.conn.execute(
            "INSERT INTO setting(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![setting.key(), value],
        )?;
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::edit_keys::tests::MemoryKeyring;

    #[test]
    fn saved_list_survives_reopening_and_keeps_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal.db");
        {
            let p = Personal::open(&path).unwrap();
            p.save("b", "Bee keepers").unwrap();
            p.save("a", "Art club").unwrap();
            p.save("b", "Bee keepers (renamed)").unwrap();
            assert!(p.is_saved("a").unwrap());
        }
        let p = Personal::open(&path).unwrap();
        let ids: Vec<_> = p
            .saved()
            .unwrap()
            .into_iter()
            .map(|s| (s.service_id, s.name))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("b".to_string(), "Bee keepers (renamed)".to_string()),
                ("a".to_string(), "Art club".to_string())
            ]
        );
        assert!(p.unsave("b").unwrap());
        assert!(!p.unsave("b").unwrap());
        assert!(!p.is_saved("b").unwrap());
    }

    #[test]
    fn reports_queue_until_sent() {
        let p = Personal::open_in_memory().unwrap();
        let r = p
            .queue_report("s1", "Choir", ReportKind::Closed, "  Shut in May ")
            .unwrap();
        assert_eq!(
            (r.comment.as_str(), r.status),
            ("Shut in May", OutboxStatus::Queued)
        );
        let err = p
            .queue_report("s1", "Choir", ReportKind::WrongDetails, " ")
            .unwrap_err();
        assert!(err.to_string().starts_with("your comment: "), "{err}");
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(p
            .queue_report("s1", "Choir", ReportKind::Closed, &long)
            .is_err());
        assert_eq!(p.reports().unwrap().len(), 1);
        assert_eq!(p.reports().unwrap()[0].sent_at, None);
        let out = p.next_to_send().unwrap().unwrap();
        assert_eq!(out.envelope["kind"], "closed");
        assert_eq!(out.envelope["seq"], 1);
        p.delivered(out.item.id, "report-1", OutboxStatus::InReview)
            .unwrap();
        let sent = &p.reports().unwrap()[0];
        assert!(sent.sent_at.is_some());
        assert_eq!(sent.status, OutboxStatus::InReview);
        assert!(p.next_to_send().unwrap().is_none());
    }

    #[test]
    fn the_outbox_numbers_each_item_once_in_order_and_never_leaves_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal.db");
        let p = Personal::open(&path).unwrap();
        let client = p.client_id().unwrap();
        assert_eq!(client.len(), 36);
        assert_eq!(&client[14..15], "4", "a version 4 UUID: {client}");
        let a = p
            .queue(
                OutboxKind::Submission,
                "w1",
                "Walk",
                serde_json::json!({"service": {"id": "w1"}}),
            )
            .unwrap();
        let b = p
            .queue(
                OutboxKind::Claim,
                "w2",
                "Choir",
                serde_json::json!({"service_id": "w2"}),
            )
            .unwrap();
        let c = p
            .queue(
                OutboxKind::Report,
                "w3",
                "Cafe",
                serde_json::json!({"service_id": "w3"}),
            )
            .unwrap();
        // The first send gives item a number 1; a cut, then a retry, keeps it (even reopened).
        let first = p.next_to_send().unwrap().unwrap();
        assert_eq!(
            (first.item.id, first.envelope["seq"].as_i64()),
            (a.id, Some(1))
        );
        assert_eq!(first.envelope["client_id"], client);
        drop(p);
        let p = Personal::open(&path).unwrap();
        assert_eq!(p.client_id().unwrap(), client, "the device keeps its id");
        let retry = p.next_to_send().unwrap().unwrap();
        assert_eq!(
            (retry.item.id, retry.envelope["seq"].as_i64()),
            (a.id, Some(1))
        );
        // A number on its way cannot be removed; one not yet sent can, leaving no gap.
        assert!(!p.remove_queued(a.id).unwrap());
        assert!(p.remove_queued(b.id).unwrap());
        p.delivered(a.id, "submission-1", OutboxStatus::InReview)
            .unwrap();
        let next = p.next_to_send().unwrap().unwrap();
        assert_eq!(
            (next.item.id, next.envelope["seq"].as_i64()),
            (c.id, Some(2))
        );
        // Refused without counting (a body the feed would not read): the number goes back.
        p.refused(c.id, "too large", false).unwrap();
        let d = p
            .queue(
                OutboxKind::Report,
                "w4",
                "Park",
                serde_json::json!({"service_id": "w4"}),
            )
            .unwrap();
        let next = p.next_to_send().unwrap().unwrap();
        assert_eq!(
            (next.item.id, next.envelope["seq"].as_i64()),
            (d.id, Some(2))
        );
        // Refused after counting (an invalid item): the number stays used.
        p.refused(d.id, "/service_id: required", true).unwrap();
        let e = p
            .queue(
                OutboxKind::Report,
                "w5",
                "Pool",
                serde_json::json!({"service_id": "w5"}),
            )
            .unwrap();
        assert_eq!(p.next_to_send().unwrap().unwrap().envelope["seq"], 3);
        // The feed says it expects 7 (this file was restored from an old copy): go on from 7.
        p.renumber_from(e.id, 7).unwrap();
        assert_eq!(p.next_to_send().unwrap().unwrap().envelope["seq"], 7);
        let statuses: Vec<(String, OutboxStatus)> = p
            .outbox()
            .unwrap()
            .into_iter()
            .map(|i| (i.service_id, i.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("w5".into(), OutboxStatus::Queued),
                ("w4".into(), OutboxStatus::Invalid),
                ("w3".into(), OutboxStatus::Invalid),
                ("w1".into(), OutboxStatus::InReview),
            ]
        );
        p.set_remote_status("submission-1", OutboxStatus::Rejected, "Not a group")
            .unwrap();
        assert_eq!(p.outbox().unwrap()[3].reason, "Not a group");
    }

    #[test]
    fn reports_queued_before_the_outbox_move_into_it_unsent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(schema::V1_FOR_TESTS).unwrap();
            tx.pragma_update(None, "user_version", 1).unwrap();
            tx.execute(
                "INSERT INTO report(service_id, service_name, kind, comment, created_at)
                 VALUES ('s9', 'Lunch club', 'closed', 'Shut', '2026-11-01T10:00:00Z')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let p = Personal::open(&path).unwrap();
        let reports = p.reports().unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(
            (
                reports[0].service_name.as_str(),
                reports[0].kind,
                reports[0].comment.as_str(),
                reports[0].status
            ),
            (
                "Lunch club",
                ReportKind::Closed,
                "Shut",
                OutboxStatus::Queued
            )
        );
        assert_eq!(
            p.next_to_send().unwrap().unwrap().envelope["service_id"],
            "s9"
        );
    }

    #[test]
    fn settings_are_checked_before_they_are_kept() {
        let p = Personal::open_in_memory().unwrap();
        assert_eq!(p.setting(Setting::FeedUrl).unwrap(), None);
        assert_eq!(
            p.set_setting(Setting::FeedUrl, " https://feed.example.org/ ")
                .unwrap(),
            Some("https://feed.example.org".into())
        );
        for bad in [
            "feed.example.org",
            "ftp://x.org",
            "javascript:alert(1)",
            "https://",
        ] {
            let err = p.set_setting(Setting::FeedUrl, bad).unwrap_err();
            assert!(err.to_string().starts_with("feed address:"), "{bad}: {err}");
        }
        assert_eq!(
            p.setting(Setting::FeedUrl).unwrap().as_deref(),
            Some("https://feed.example.org"),
            "a bad value never replaces a good one"
        );
        assert!(p
            .set_setting(Setting::TileUrl, "https://t.example/{z}/{x}.png")
            .is_err());
        assert!(p
            .set_setting(Setting::TileUrl, "https://t.example/{z}/{x}/{y}.png")
            .is_ok());
        // Plain http only from this computer: anything else could never load under the CSP.
        let err = p
            .set_setting(Setting::TileUrl, "http://tiles.example.org/{z}/{x}/{y}.png")
            .unwrap_err();
        assert!(
            err.to_string().contains("https://")
                && err
                    .to_string()
                    .contains("tiles.example.org is not on this computer"),
            "{err}"
        );
        assert_eq!(
            p.setting(Setting::TileUrl).unwrap().as_deref(),
            Some("https://t.example/{z}/{x}/{y}.png")
        );
        for local in [
            "http://127.0.0.1:8080/{z}/{x}/{y}.png",
            "http://localhost/{z}/{x}/{y}.png",
        ] {
            assert!(p.set_setting(Setting::TileUrl, local).is_ok(), "{local}");
        }
        assert_eq!(p.set_setting(Setting::FeedUrl, "").unwrap(), None);
        // Another feed's address is checked the same way, and may not be empty.
        assert_eq!(
            crate::feed_address(" http://127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["", "feed.example.org", "ftp://feed.example.org"] {
            assert!(crate::feed_address(bad).is_err(), "{bad}");
        }
        assert_eq!(p.setting(Setting::FeedUrl).unwrap(), None);
    }

    /// A group's device: a new listing makes a pending key (its hash sent), approval makes it
    /// active, and updates queued offline ratchet in order, each carrying the key before.
    fn ratchet_through(keys: &KeyStore) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal.db");
        let p = Personal::open(&path).unwrap();
        let svc = |name: &str| serde_json::json!({"id": "g1", "name": name});
        let new = p.queue_listing(keys, "g1", "Walk", svc("Walk")).unwrap();
        let h0 = new.body["edit_key_sha256"].as_str().unwrap().to_string();
        assert!(new.body.get("edit_key").is_none());
        assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Pending));
        // Another update while the key is pending names the same hash.
        let again = p.queue_listing(keys, "g1", "Walk", svc("Walk!")).unwrap();
        assert_eq!(again.body["edit_key_sha256"], h0.as_str());
        let out = p.next_to_send().unwrap().unwrap();
        p.delivered(out.item.id, "submission-a", OutboxStatus::InReview)
            .unwrap();
        assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Pending));
        p.set_remote_status("submission-a", OutboxStatus::Approved, "")
            .unwrap();
        assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Active));
        let out = p.next_to_send().unwrap().unwrap();
        p.delivered(out.item.id, "submission-b", OutboxStatus::InReview)
            .unwrap();

        // Two updates offline: each carries the key before it and names the next.
        let u1 = p
            .queue_listing(keys, "g1", "Walk", svc("Walk (Sat)"))
            .unwrap();
        let u2 = p
            .queue_listing(keys, "g1", "Walk", svc("Walk (Sun)"))
            .unwrap();
        assert!(
            !p.remove_queued(u2.id).unwrap(),
            "an update that spent a key stays"
        );
        // The app stops between queueing and sending: reopened, both are as queued.
        drop(p);
        let p = Personal::open(&path).unwrap();
        assert!(
            u1.body.get("edit_key").is_none(),
            "never shown: {}",
            u1.body
        );
        let first = p.next_to_send().unwrap().unwrap().envelope;
        let k0 = first["edit_key"].as_str().unwrap();
        assert_eq!(key_sha256(k0).unwrap(), h0);
        let h1 = first["next_edit_key_sha256"].as_str().unwrap().to_string();
        p.delivered(u1.id, "submission-c", OutboxStatus::InReview)
            .unwrap();
        let second = p.next_to_send().unwrap().unwrap().envelope;
        assert_eq!(second["service"]["name"], "Walk (Sun)");
        assert_eq!(
            key_sha256(second["edit_key"].as_str().unwrap()).unwrap(),
            h1
        );
        let h2 = second["next_edit_key_sha256"].as_str().unwrap();
        assert_ne!(h2, h1);
        let stored: String = p
            .conn
            .query_row(
                "SELECT key_sha256 FROM edit_key WHERE service_id = 'g1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, h2, "the device holds the newest key");
        // Once delivered, a spent key is not kept in the outbox.
        p.delivered(u2.id, "submission-d", OutboxStatus::InReview)
            .unwrap();
        let raw: Vec<String> = p
            .conn
            .prepare("SELECT body FROM outbox")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(raw.iter().all(|b| !b.contains("\"edit_key\"")), "{raw:?}");
        drop(p);
        (dir, path)
    }

    fn file_text(path: &std::path::Path) -> String {
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn without_a_keyring_keys_are_kept_in_the_file_and_ratchet_in_order() {
        let (_dir, path) = ratchet_through(&KeyStore::Database);
        let p = Personal::open(&path).unwrap();
        let key: Option<String> = p
            .conn
            .query_row(
                "SELECT key FROM edit_key WHERE service_id = 'g1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(key.is_some(), "the key is in the file");
        assert_eq!(
            p.edit_keys().unwrap(),
            [("g1".to_string(), KeyState::Active)]
        );
    }

    #[test]
    fn with_a_keyring_the_file_keeps_only_hashes() {
        let ring = Arc::new(MemoryKeyring::default());
        let keys = KeyStore::Keyring(ring.clone());
        let (_dir, path) = ratchet_through(&keys);
        let p = Personal::open(&path).unwrap();
        let key: Option<String> = p
            .conn
            .query_row(
                "SELECT key FROM edit_key WHERE service_id = 'g1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(key, None);
        drop(p);
        let entry: KeyringEntry = serde_json::from_str(&ring.0.lock().unwrap()["g1"]).unwrap();
        assert!(
            !file_text(&path).contains(&entry.key),
            "the key is only in the keyring"
        );
    }

    /// A crash (here, a failing write) between making the next key and queueing the update
    /// leaves the key and the outbox as they were, in the file and with a keyring.
    #[test]
    fn a_failed_queue_changes_neither_the_key_nor_the_outbox() {
        for keys in [
            KeyStore::Database,
            KeyStore::Keyring(Arc::new(MemoryKeyring::default())),
        ] {
            let p = Personal::open_in_memory().unwrap();
            let svc = serde_json::json!({"id": "g1", "name": "Walk"});
            p.queue_listing(&keys, "g1", "Walk", svc.clone()).unwrap();
            let out = p.next_to_send().unwrap().unwrap();
            p.delivered(out.item.id, "s-1", OutboxStatus::Approved)
                .unwrap();
            assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Active));
            let before: String = p
                .conn
                .query_row("SELECT key_sha256 FROM edit_key", [], |r| r.get(0))
                .unwrap();
            p.conn
                .execute_batch(
                    "CREATE TEMP TRIGGER cut BEFORE INSERT ON outbox
                     BEGIN SELECT RAISE(ABORT, 'disk gone'); END;",
                )
                .unwrap();
            assert!(p.queue_listing(&keys, "g1", "Walk", svc.clone()).is_err());
            p.conn.execute_batch("DROP TRIGGER cut").unwrap();
            let after: String = p
                .conn
                .query_row("SELECT key_sha256 FROM edit_key", [], |r| r.get(0))
                .unwrap();
            assert_eq!(after, before, "{keys:?}");
            assert!(p.next_to_send().unwrap().is_none(), "nothing was queued");
            // The next update still carries the key the feed knows.
            p.queue_listing(&keys, "g1", "Walk", svc).unwrap();
            let sent = p.next_to_send().unwrap().unwrap().envelope;
            assert_eq!(
                key_sha256(sent["edit_key"].as_str().unwrap()).unwrap(),
                before,
                "{keys:?}"
            );
        }
    }

    #[test]
    fn a_refused_key_is_forgotten_only_when_the_item_gave_it() {
        let keys = KeyStore::Database;
        let p = Personal::open_in_memory().unwrap();
        let svc = serde_json::json!({"id": "g1", "name": "Walk"});
        p.queue_listing(&keys, "g1", "Walk", svc.clone()).unwrap();
        let pending_update = p.queue_listing(&keys, "g1", "Walk", svc.clone()).unwrap();
        let out = p.next_to_send().unwrap().unwrap();
        p.delivered(out.item.id, "s-1", OutboxStatus::Approved)
            .unwrap();
        // Sent after the approval without the key (queued while it was pending): refused,
        // and the device keeps its key.
        p.next_to_send().unwrap().unwrap();
        p.refused_edit_key(pending_update.id, "managed by its group")
            .unwrap();
        assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Active));
        // An update that gave the key, refused: the feed does not know it; forgotten.
        let upd = p.queue_listing(&keys, "g1", "Walk", svc).unwrap();
        p.next_to_send().unwrap().unwrap();
        p.refused_edit_key(upd.id, "not the edit key").unwrap();
        assert_eq!(p.edit_key_state("g1").unwrap(), None);
        let item = p
            .outbox()
            .unwrap()
            .into_iter()
            .find(|i| i.id == upd.id)
            .unwrap();
        assert_eq!(
            (item.status, item.reason.as_str()),
            (OutboxStatus::Invalid, "not the edit key")
        );
        // A claim makes a new pending key.
        let claim = p
            .queue_claim(&keys, "g1", "Walk", serde_json::json!({"service_id": "g1"}))
            .unwrap();
        assert!(claim.body["edit_key_sha256"].is_string());
        assert_eq!(p.edit_key_state("g1").unwrap(), Some(KeyState::Pending));
    }

    #[test]
    fn a_newer_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("personal.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
        assert!(matches!(
            Personal::open(&path),
            Err(Error::SchemaTooNew { .. })
        ));
    }
}
