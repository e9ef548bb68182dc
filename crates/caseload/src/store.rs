//! [`Caseload`]: the public API. One encrypted file, opened with the connector's passphrase.
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rand::RngCore;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::db;
use crate::error::{Error, Result};
use crate::key::{self, Key};
use crate::model::{
    Connection as Link, ConnectionStatus, ConnectionStep, Contact, ContactHow, FollowUp, Occasion,
    Ons4, Person, PersonDetails, PersonSummary, Wellbeing,
};

/// An open, unlocked caseload. Dropping it (locking) closes the file and wipes the key.
pub struct Caseload {
    conn: Connection,
    key: Key,
    path: PathBuf,
}

/// What is due: the agenda the caseload opens on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Agenda {
    /// Follow-ups past their due date, oldest first.
    pub overdue: Vec<FollowUp>,
    /// Follow-ups due today.
    pub today: Vec<FollowUp>,
    /// People on the caseload, open ones first.
    pub people: Vec<PersonSummary>,
}

fn date(s: String) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn lines(v: &[String]) -> String {
    v.join("\n")
}

fn unlines(s: String) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const PERSON_COLUMNS: &str = "id, name, contact_method, contact_times, home_area, goals, needs,
    interests, access_needs, languages, free_times, no_referral_only, travel_km, nhs_number,
    gender, ethnicity, referred_on, closed_on, closed_reason";

fn person_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    let travel_km: f64 = r.get(12)?;
    Ok(Person {
        id: r.get(0)?,
        details: PersonDetails {
            name: r.get(1)?,
            contact_method: r.get(2)?,
            contact_times: r.get(3)?,
            home_area: r.get(4)?,
            goals: r.get(5)?,
            needs: r.get(6)?,
            interests: unlines(r.get(7)?),
            access_needs: unlines(r.get(8)?),
            languages: unlines(r.get(9)?),
            free_times: unlines(r.get(10)?),
            no_referral_only: r.get(11)?,
            travel_km: Some(travel_km),
            nhs_number: r.get(13)?,
            gender: r.get(14)?,
            ethnicity: r.get(15)?,
        },
        referred_on: date(r.get(16)?)?,
        closed_on: r.get::<_, Option<String>>(17)?.map(date).transpose()?,
        closed_reason: r.get(18)?,
    })
}

impl Caseload {
    /// Whether a caseload file exists at `path` (so the app asks to unlock, not to create).
    pub fn exists(path: &Path) -> bool {
        path.exists()
    }

    /// Make a new caseload with this passphrase (at least [`key::MIN_PASSPHRASE_CHARS`]).
    pub fn create(path: &Path, passphrase: &str) -> Result<Caseload> {
        key::check_new_passphrase(passphrase)?;
        let (conn, key) = db::create(path, passphrase)?;
        Ok(Caseload {
            conn,
            key,
            path: path.to_path_buf(),
        })
    }

    /// Unlock an existing caseload. A wrong passphrase changes nothing.
    pub fn open(path: &Path, passphrase: &str) -> Result<Caseload> {
        let (conn, key) = db::open(path, passphrase)?;
        Ok(Caseload {
            conn,
            key,
            path: path.to_path_buf(),
        })
    }

    /// The file this caseload lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A stored setting (the connector's name and contact details for plans and letters).
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Store a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO setting(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value.trim()],
        )?;
        Ok(())
    }

    // ---- people ----

    /// Add a person referred on `today`.
    pub fn add_person(&self, details: &PersonDetails, today: NaiveDate) -> Result<Person> {
        let d = details.normalised()?;
        let id = insert_person(&self.conn, &d, today)?;
        self.person(&id)
    }

    /// Add several people in one transaction (an import): all of them, or none.
    pub fn add_people(&self, people: &[PersonDetails], today: NaiveDate) -> Result<Vec<String>> {
        let checked = people
            .iter()
            .map(PersonDetails::normalised)
            .collect::<Result<Vec<_>>>()?;
        let tx = self.conn.unchecked_transaction()?;
        let ids = checked
            .iter()
            .map(|d| insert_person(&tx, d, today))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(ids)
    }

    /// Replace what is recorded about a person.
    pub fn update_person(&self, id: &str, details: &PersonDetails) -> Result<Person> {
        let d = details.normalised()?;
        let set: Vec<String> = DETAIL_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 2))
            .collect();
        let tx = self.conn.unchecked_transaction()?;
        // What was suggested before no longer says what is new for them.
        let changed = tx.execute(
            &format!(
                "UPDATE person SET {}, suggestions_baseline = 0 WHERE id = ?1",
                set.join(", ")
            ),
            params_from_iter(std::iter::once(Value::from(id.to_string())).chain(detail_values(&d))),
        )?;
        if changed == 0 {
            return Err(not_found("person", id));
        }
        tx.execute("DELETE FROM suggestion_seen WHERE person_id = ?1", [id])?;
        tx.commit()?;
        self.person(id)
    }

    /// One person, by id.
    pub fn person(&self, id: &str) -> Result<Person> {
        self.conn
            .query_row(
                &format!("SELECT {PERSON_COLUMNS} FROM person WHERE id = ?1"),
                [id],
                person_row,
            )
            .optional()?
            .ok_or_else(|| not_found("person", id))
    }

    /// A person by id, or by exact name when it is unique (the command line's PERSON).
    pub fn find_person(&self, id_or_name: &str) -> Result<Person> {
        if let Ok(p) = self.person(id_or_name) {
            return Ok(p);
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PERSON_COLUMNS} FROM person WHERE name = ?1 ORDER BY id"
        ))?;
        let found: Vec<Person> = stmt
            .query_map([id_or_name.trim()], person_row)?
            .collect::<rusqlite::Result<_>>()?;
        match found.len() {
            0 => Err(not_found("person", id_or_name)),
            1 => Ok(found.into_iter().next().expect("one")),
            n => Err(Error::Ambiguous {
                name: id_or_name.to_string(),
                count: n,
                ids: found
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Everyone, in full (suggestions for all, the report).
    pub fn all_people(&self) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PERSON_COLUMNS} FROM person ORDER BY name, id"
        ))?;
        let people = stmt
            .query_map([], person_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(people)
    }

    /// The caseload list: open people first, then by name.
    pub fn people(&self) -> Result<Vec<PersonSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.id, p.name, p.home_area, p.referred_on, p.closed_on,
                 (SELECT min(due) FROM follow_up f WHERE f.person_id = p.id AND f.done_on IS NULL),
                 (SELECT count(*) FROM connection c WHERE c.person_id = p.id AND
                     (SELECT status FROM connection_step s WHERE s.connection_id = c.id
                      ORDER BY s.id DESC LIMIT 1) = 'attending')
             FROM person p ORDER BY p.closed_on IS NOT NULL, p.name COLLATE NOCASE, p.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PersonSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    home_area: r.get(2)?,
                    referred_on: date(r.get(3)?)?,
                    closed_on: r.get::<_, Option<String>>(4)?.map(date).transpose()?,
                    next_follow_up: r.get::<_, Option<String>>(5)?.map(date).transpose()?,
                    attending: r.get::<_, i64>(6)? as usize,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// End a person's support (kept for the record until erased).
    pub fn close_person(&self, id: &str, on: NaiveDate, reason: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE person SET closed_on = ?2, closed_reason = ?3 WHERE id = ?1",
            params![id, on.to_string(), reason.trim()],
        )?;
        if n == 0 {
            return Err(not_found("person", id));
        }
        Ok(())
    }

    /// Open a closed person's support again.
    pub fn reopen_person(&self, id: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE person SET closed_on = NULL, closed_reason = '' WHERE id = ?1",
            [id],
        )?;
        if n == 0 {
            return Err(not_found("person", id));
        }
        Ok(())
    }

    /// People whose support closed before `cutoff`: the retention review list.
    pub fn closed_before(&self, cutoff: NaiveDate) -> Result<Vec<PersonSummary>> {
        Ok(self
            .people()?
            .into_iter()
            .filter(|p| p.closed_on.is_some_and(|c| c < cutoff))
            .collect())
    }

    /// Delete a person and everything about them, then rebuild the file so no page still
    /// holds their data (with `secure_delete`, freed pages were already overwritten).
    pub fn erase(&mut self, id: &str) -> Result<()> {
        let n = self
            .conn
            .execute("DELETE FROM person WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(not_found("person", id));
        }
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }

    // ---- contacts ----

    /// Log a contact.
    pub fn log_contact(&self, person_id: &str, c: &Contact) -> Result<i64> {
        self.person(person_id)?;
        self.conn.execute(
            "INSERT INTO contact(person_id, on_date, how, note, next_step) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                person_id,
                c.on_date.to_string(),
                c.how.code(),
                c.note.trim(),
                c.next_step.trim()
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A person's contacts, newest first.
    pub fn contacts(&self, person_id: &str) -> Result<Vec<Contact>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, on_date, how, note, next_step FROM contact WHERE person_id = ?1
             ORDER BY on_date DESC, id DESC",
        )?;
        let rows = stmt
            .query_map([person_id], |r| {
                let how: String = r.get(2)?;
                Ok(Contact {
                    id: r.get(0)?,
                    on_date: date(r.get(1)?)?,
                    how: ContactHow::from_code(&how).unwrap_or(ContactHow::Phone),
                    note: r.get(3)?,
                    next_step: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    // ---- connections ----

    /// Link a person to a listing, or move an existing link to `status`; each step keeps its
    /// date and reason. Returns the connection's id.
    pub fn connect(
        &self,
        person_id: &str,
        service_id: &str,
        service_name: &str,
        status: ConnectionStatus,
        on: NaiveDate,
        reason: &str,
    ) -> Result<i64> {
        self.person(person_id)?;
        if service_id.trim().is_empty() {
            return Err(Error::invalid("service_id", "choose a listing"));
        }
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO connection(person_id, service_id, service_name) VALUES (?1, ?2, ?3)
             ON CONFLICT(person_id, service_id) DO UPDATE SET service_name = excluded.service_name",
            params![person_id, service_id, service_name],
        )?;
        let id: i64 = tx.query_row(
            "SELECT id FROM connection WHERE person_id = ?1 AND service_id = ?2",
            params![person_id, service_id],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO connection_step(connection_id, status, on_date, reason) VALUES (?1, ?2, ?3, ?4)",
            params![id, status.code(), on.to_string(), reason.trim()],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Move a connection on.
    pub fn set_status(
        &self,
        connection_id: i64,
        status: ConnectionStatus,
        on: NaiveDate,
        reason: &str,
    ) -> Result<()> {
        self.connection(connection_id)?;
        self.conn.execute(
            "INSERT INTO connection_step(connection_id, status, on_date, reason) VALUES (?1, ?2, ?3, ?4)",
            params![connection_id, status.code(), on.to_string(), reason.trim()],
        )?;
        Ok(())
    }

    /// Put a connection on the person's plan, or take it off (only with their agreement).
    pub fn set_in_plan(&self, connection_id: i64, in_plan: bool) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE connection SET in_plan = ?2 WHERE id = ?1",
            params![connection_id, in_plan],
        )?;
        if n == 0 {
            return Err(not_found("connection", &connection_id.to_string()));
        }
        Ok(())
    }

    /// One connection.
    pub fn connection(&self, id: i64) -> Result<Link> {
        let mut found = self.links("WHERE c.id = ?1", params![id])?;
        found
            .pop()
            .ok_or_else(|| not_found("connection", &id.to_string()))
    }

    /// A person's connections, in the order they were made.
    pub fn connections(&self, person_id: &str) -> Result<Vec<Link>> {
        self.links("WHERE c.person_id = ?1", params![person_id])
    }

    /// Every connection (the report; listing states after a sync).
    pub fn all_connections(&self) -> Result<Vec<Link>> {
        self.links("", params![])
    }

    fn links(&self, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Link>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT c.id, c.person_id, c.service_id, c.service_name, c.in_plan, s.status, s.on_date, s.reason
             FROM connection c JOIN connection_step s ON s.connection_id = c.id {filter}
             ORDER BY c.id, s.id"
        ))?;
        let mut out: Vec<Link> = Vec::new();
        let mut rows = stmt.query(args)?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let status: String = r.get(5)?;
            let step = ConnectionStep {
                status: ConnectionStatus::from_code(&status).unwrap_or(ConnectionStatus::Suggested),
                on_date: date(r.get(6)?)?,
                reason: r.get(7)?,
            };
            match out.last_mut() {
                Some(last) if last.id == id => last.steps.push(step),
                _ => out.push(Link {
                    id,
                    person_id: r.get(1)?,
                    service_id: r.get(2)?,
                    service_name: r.get(3)?,
                    in_plan: r.get(4)?,
                    steps: vec![step],
                }),
            }
        }
        Ok(out)
    }

    // ---- follow-ups ----

    /// Plan a follow-up.
    pub fn add_follow_up(&self, person_id: &str, due: NaiveDate, what: &str) -> Result<i64> {
        self.person(person_id)?;
        let what = what.trim();
        if what.is_empty() {
            return Err(Error::invalid("what", "say what the follow-up is for"));
        }
        self.conn.execute(
            "INSERT INTO follow_up(person_id, due, what) VALUES (?1, ?2, ?3)",
            params![person_id, due.to_string(), what],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Mark a follow-up done.
    pub fn complete_follow_up(&self, id: i64, on: NaiveDate) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE follow_up SET done_on = ?2 WHERE id = ?1",
            params![id, on.to_string()],
        )?;
        if n == 0 {
            return Err(not_found("follow-up", &id.to_string()));
        }
        Ok(())
    }

    /// A person's follow-ups, due first.
    pub fn follow_ups(&self, person_id: &str) -> Result<Vec<FollowUp>> {
        self.follow_up_rows(
            "WHERE f.person_id = ?1 ORDER BY f.done_on IS NOT NULL, f.due, f.id",
            params![person_id],
        )
    }

    fn follow_up_rows(&self, tail: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<FollowUp>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.id, f.person_id, p.name, f.due, f.what, f.done_on
             FROM follow_up f JOIN person p ON p.id = f.person_id {tail}"
        ))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(FollowUp {
                    id: r.get(0)?,
                    person_id: r.get(1)?,
                    person_name: r.get(2)?,
                    due: date(r.get(3)?)?,
                    what: r.get(4)?,
                    done_on: r.get::<_, Option<String>>(5)?.map(date).transpose()?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// What the caseload opens on: overdue and today's follow-ups, and the people.
    pub fn agenda(&self, today: NaiveDate) -> Result<Agenda> {
        let open = self.follow_up_rows(
            "WHERE f.done_on IS NULL AND f.due <= ?1 ORDER BY f.due, f.id",
            params![today.to_string()],
        )?;
        let (today_items, overdue) = open.into_iter().partition(|f| f.due == today);
        Ok(Agenda {
            overdue,
            today: today_items,
            people: self.people()?,
        })
    }

    // ---- outcomes ----

    /// Record ONS4 answers.
    pub fn record_wellbeing(
        &self,
        person_id: &str,
        on: NaiveDate,
        occasion: Occasion,
        scores: Ons4,
    ) -> Result<()> {
        self.person(person_id)?;
        scores.check()?;
        self.conn.execute(
            "INSERT INTO wellbeing(person_id, on_date, occasion, life_satisfaction, worthwhile, happy, anxious)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                person_id,
                on.to_string(),
                occasion.code(),
                scores.life_satisfaction,
                scores.worthwhile,
                scores.happy,
                scores.anxious
            ],
        )?;
        Ok(())
    }

    /// A person's ONS4 answers, oldest first.
    pub fn wellbeing(&self, person_id: &str) -> Result<Vec<Wellbeing>> {
        let mut stmt = self.conn.prepare(
            "SELECT on_date, occasion, life_satisfaction, worthwhile, happy, anxious FROM wellbeing
             WHERE person_id = ?1 ORDER BY on_date, id",
        )?;
        let rows = stmt
            .query_map([person_id], |r| {
                let occasion: String = r.get(1)?;
                Ok(Wellbeing {
                    on_date: date(r.get(0)?)?,
                    occasion: if occasion == "start" {
                        Occasion::Start
                    } else {
                        Occasion::Review
                    },
                    scores: Ons4 {
                        life_satisfaction: r.get(2)?,
                        worthwhile: r.get(3)?,
                        happy: r.get(4)?,
                        anxious: r.get(5)?,
                    },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    // ---- what was already suggested ----

    /// The listings (with content hashes) already suggested to a person; `None` before the
    /// first look (no baseline yet).
    pub(crate) fn seen(&self, person_id: &str) -> Result<Option<Vec<(String, String)>>> {
        let baseline: bool = self.conn.query_row(
            "SELECT suggestions_baseline FROM person WHERE id = ?1",
            [person_id],
            |r| r.get(0),
        )?;
        if !baseline {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT service_id, content_hash FROM suggestion_seen WHERE person_id = ?1",
        )?;
        let rows = stmt
            .query_map([person_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(rows))
    }

    /// Replace what a person has been shown.
    #[cfg(test)]
    pub(crate) fn set_seen(&self, person_id: &str, seen: &[(String, String)]) -> Result<()> {
        self.set_seen_many(&[(person_id.to_string(), seen.to_vec())])
    }

    /// Replace what each of these people has been shown, in one transaction (one sync to disk
    /// for the whole caseload, not one a person).
    pub(crate) fn set_seen_many(&self, people: &[(String, Vec<(String, String)>)]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut clear =
                tx.prepare_cached("DELETE FROM suggestion_seen WHERE person_id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO suggestion_seen(person_id, service_id, content_hash) VALUES (?1, ?2, ?3)",
            )?;
            let mut mark =
                tx.prepare_cached("UPDATE person SET suggestions_baseline = 1 WHERE id = ?1")?;
            for (person_id, seen) in people {
                clear.execute([person_id])?;
                for (id, hash) in seen {
                    insert.execute(params![person_id, id, hash])?;
                }
                mark.execute([person_id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    // ---- backup ----

    /// Write an encrypted copy of the whole caseload to `to`, which opens with the same
    /// passphrase (the copy keeps the salt). Written beside `to` and renamed, so a cut leaves
    /// no half backup under that name.
    pub fn backup(&self, to: &Path) -> Result<()> {
        let io = |source| Error::Io {
            path: to.display().to_string(),
            source,
        };
        let partial = to.with_extension("partial");
        match std::fs::remove_file(&partial) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        let literal = self.key.sqlcipher_literal();
        let attach = zeroize::Zeroizing::new(format!(
            "ATTACH DATABASE ?1 AS backup KEY \"{}\"",
            literal.as_str()
        ));
        self.conn
            .execute(&attach, [partial.to_string_lossy().as_ref()])?;
        let exported = self
            .conn
            .query_row("SELECT sqlcipher_export('backup')", [], |_| Ok(()))
            .and_then(|()| {
                let v: u32 = self
                    .conn
                    .pragma_query_value(None, "user_version", |r| r.get(0))?;
                self.conn.pragma_update(Some("backup"), "user_version", v)
            });
        self.conn.execute_batch("DETACH DATABASE backup")?;
        exported?;
        std::fs::rename(&partial, to).map_err(io)?;
        Ok(())
    }

    /// Restore a backup into `to` (a data folder's caseload file, which must not exist yet),
    /// checking first that the passphrase opens it.
    pub fn restore(backup: &Path, to: &Path, passphrase: &str) -> Result<Caseload> {
        if to.exists() {
            return Err(Error::Exists(to.display().to_string()));
        }
        drop(Caseload::open(backup, passphrase)?);
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let partial = to.with_extension("partial");
        std::fs::copy(backup, &partial).map_err(|source| Error::Io {
            path: partial.display().to_string(),
            source,
        })?;
        std::fs::rename(&partial, to).map_err(|source| Error::Io {
            path: to.display().to_string(),
            source,
        })?;
        Caseload::open(to, passphrase)
    }
}

/// The columns a person's details are stored in, in the order [`detail_values`] gives them.
const DETAIL_COLUMNS: [&str; 15] = [
    "name",
    "contact_method",
    "contact_times",
    "home_area",
    "goals",
    "needs",
    "interests",
    "access_needs",
    "languages",
    "free_times",
    "no_referral_only",
    "travel_km",
    "nhs_number",
    "gender",
    "ethnicity",
];

/// Normalised details in their stored form, for [`DETAIL_COLUMNS`]: one list for adding and
/// changing a person, so the two never disagree.
fn detail_values(d: &PersonDetails) -> [Value; 15] {
    [
        d.name.clone().into(),
        d.contact_method.clone().into(),
        d.contact_times.clone().into(),
        d.home_area.clone().into(),
        d.goals.clone().into(),
        d.needs.clone().into(),
        lines(&d.interests).into(),
        lines(&d.access_needs).into(),
        lines(&d.languages).into(),
        lines(&d.free_times).into(),
        d.no_referral_only.into(),
        d.travel_km
            .unwrap_or(crate::model::DEFAULT_TRAVEL_KM)
            .into(),
        d.nhs_number.clone().into(),
        d.gender.clone().into(),
        d.ethnicity.clone().into(),
    ]
}

fn insert_person(conn: &Connection, d: &PersonDetails, today: NaiveDate) -> Result<String> {
    let mut raw = [0u8; 5];
    rand::rng().fill_bytes(&mut raw);
    let id = format!("p{}", hex::encode(raw));
    let placeholders: Vec<String> = (3..DETAIL_COLUMNS.len() + 3)
        .map(|i| format!("?{i}"))
        .collect();
    conn.execute(
        &format!(
            "INSERT INTO person(id, referred_on, {}) VALUES (?1, ?2, {})",
            DETAIL_COLUMNS.join(", "),
            placeholders.join(", ")
        ),
        params_from_iter(
            [Value::from(id.clone()), Value::from(today.to_string())]
                .into_iter()
                .chain(detail_values(d)),
        ),
    )?;
    Ok(id)
}

fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound {
        kind,
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Contact, ContactHow};

    const PASSPHRASE: &str = "correct horse battery staple";

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    impl Caseload {
        /// Decrypt every page into a plain copy, so a test can search what the file holds.
        fn export_plaintext(&self, to: &Path) {
            self.conn
                .execute(
                    "ATTACH DATABASE ?1 AS plain KEY ''",
                    [to.to_string_lossy().as_ref()],
                )
                .unwrap();
            self.conn
                .query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
                .unwrap();
            self.conn.execute_batch("DETACH DATABASE plain").unwrap();
        }
    }

    #[test]
    fn erasing_a_person_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("caseload.db");
        let mut c = Caseload::create(&path, PASSPHRASE).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let details = |name: &str, goals: &str| PersonDetails {
            name: name.into(),
            goals: goals.into(),
            home_area: "BS3 4".into(),
            nhs_number: Some("9434765919".into()),
            ..PersonDetails::default()
        };
        let gone = c
            .add_person(
                &details("Philippa Quenby-Marsh", "sing in a choir again"),
                today,
            )
            .unwrap();
        let kept = c
            .add_person(&details("Kept Keeperson", "learn to swim"), today)
            .unwrap();
        c.log_contact(
            &gone.id,
            &Contact {
                id: 0,
                on_date: today,
                how: ContactHow::Visit,
                note: "worried about the rent arrears".into(),
                next_step: String::new(),
            },
        )
        .unwrap();
        c.add_follow_up(&gone.id, today, "ring about the choir taster")
            .unwrap();
        c.connect(
            &gone.id,
            "svc-choir",
            "Bedminster Community Choir",
            crate::ConnectionStatus::Introduced,
            today,
            "loves singing",
        )
        .unwrap();
        c.set_seen(&gone.id, &[("svc-seen-only-by-gone".into(), "ab".into())])
            .unwrap();

        c.erase(&gone.id).unwrap();
        assert!(matches!(c.person(&gone.id), Err(Error::NotFound { .. })));

        let plain = dir.path().join("inspect.db");
        c.export_plaintext(&plain);
        let bytes = std::fs::read(&plain).unwrap();
        // The search finds what is there, so its silence below means something.
        assert!(contains(&bytes, "Kept Keeperson") && contains(&bytes, "learn to swim"));
        for secret in [
            gone.id.as_str(),
            "Philippa Quenby-Marsh",
            "sing in a choir again",
            "worried about the rent arrears",
            "ring about the choir taster",
            "Bedminster Community Choir",
            "svc-seen-only-by-gone",
        ] {
            assert!(!contains(&bytes, secret), "{secret:?} survived erasure");
        }
        drop(c);
        // Nor is any of it in the encrypted file's free pages: the file shrank to its live pages.
        let c = Caseload::open(&path, PASSPHRASE).unwrap();
        let free: i64 = c
            .conn
            .pragma_query_value(None, "freelist_count", |r| r.get(0))
            .unwrap();
        assert_eq!(free, 0, "VACUUM left free pages");
        assert_eq!(c.people().unwrap().len(), 1);
        assert_eq!(c.person(&kept.id).unwrap().details.name, "Kept Keeperson");
    }
}
