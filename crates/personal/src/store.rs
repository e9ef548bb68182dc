//! [`Personal`]: the public API of the personal store.
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

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
                field: "comment",
                message: format!("please keep it under {MAX_COMMENT_CHARS} characters"),
            });
        }
        if kind == ReportKind::WrongDetails && comment.is_empty() {
            return Err(Error::Invalid {
                field: "comment",
                message: "say which details are wrong, so the group can fix them".into(),
            });
        }
        let created_at = now();
        self.conn.execute(
            "INSERT INTO report(service_id, service_name, kind, comment, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![service_id, service_name, kind.code(), comment, created_at],
        )?;
        Ok(Report {
            id: self.conn.last_insert_rowid(),
            service_id: service_id.into(),
            service_name: service_name.into(),
            kind,
            comment: comment.into(),
            created_at,
            sent_at: None,
        })
    }

    /// Every report, newest first; those not yet sent have `sent_at: None`.
    pub fn reports(&self) -> Result<Vec<Report>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, service_id, service_name, kind, comment, created_at, sent_at
             FROM report ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(3)?;
            Ok(Report {
                id: r.get(0)?,
                service_id: r.get(1)?,
                service_name: r.get(2)?,
                kind: ReportKind::from_code(&kind).unwrap_or(ReportKind::WrongDetails),
                comment: r.get(4)?,
                created_at: r.get(5)?,
                sent_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Mark a report as accepted by the feed.
    pub fn mark_sent(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE report SET sent_at = ?2 WHERE id = ?1 AND sent_at IS NULL",
            params![id, now()],
        )?;
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
    use super::*;

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
        assert_eq!(r.comment, "Shut in May");
        let err = p
            .queue_report("s1", "Choir", ReportKind::WrongDetails, " ")
            .unwrap_err();
        assert!(err.to_string().starts_with("comment:"), "{err}");
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(p
            .queue_report("s1", "Choir", ReportKind::Closed, &long)
            .is_err());
        assert_eq!(p.reports().unwrap().len(), 1);
        assert_eq!(p.reports().unwrap()[0].sent_at, None);
        p.mark_sent(r.id).unwrap();
        assert!(p.reports().unwrap()[0].sent_at.is_some());
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
        assert_eq!(p.setting(Setting::FeedUrl).unwrap(), None);
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
