//! What a result row shows (ids, names, postcode, checked date), for every indexed listing, in
//! memory, so a near-me answer reads nothing from SQLite.
//!
//! Reading the 20 rows of an answer from SQLite cost about as much as everything else in the
//! query together (BENCHMARKS.md, "whole query"). The texts are kept in one arena with offsets
//! rather than a `String` per field: at a million listings that is about 100 MB instead of
//! several hundred, and one allocation instead of millions.
use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::Result;

/// The texts of every indexed service and location.
pub struct RowTexts {
    text: String,
    /// Per service slot: where its id, name, organisation name and `assured_date` start, and
    /// where the last ends.
    services: Vec<[u32; 5]>,
    /// Per location rowid: where its id and postcode start, and where the postcode ends.
    locations: Vec<[u32; 3]>,
}

/// One service's texts.
pub struct ServiceText<'a> {
    /// HSDS id.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Organisation name, if any.
    pub organization: Option<&'a str>,
    /// `assured_date`, if stated.
    pub assured_date: Option<&'a str>,
}

fn push(text: &mut String, s: Option<&str>) -> u32 {
    let start = text.len() as u32;
    text.push_str(s.unwrap_or_default());
    start
}

fn nonempty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl RowTexts {
    /// Read them for the services at `slot_of_rowid` (`u32::MAX` for a service not indexed).
    pub fn load(
        conn: &Connection,
        slot_of_rowid: &[u32],
        service_count: usize,
    ) -> Result<RowTexts> {
        let mut text = String::new();
        let organizations: HashMap<String, String> = {
            let mut stmt = conn.prepare("SELECT id, name FROM organization")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut services = vec![[0u32; 5]; service_count];
        let mut stmt =
            conn.prepare("SELECT rowid, id, name, organization_id, assured_date FROM service")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let rowid: i64 = r.get(0)?;
            let Some(&slot) = usize::try_from(rowid)
                .ok()
                .and_then(|i| slot_of_rowid.get(i))
                .filter(|&&s| s != u32::MAX)
            else {
                continue;
            };
            let organization = r
                .get_ref(3)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
                .and_then(|id| organizations.get(id))
                .map(String::as_str);
            let id = push(&mut text, r.get_ref(1)?.as_str_or_null().ok().flatten());
            let name = push(&mut text, r.get_ref(2)?.as_str_or_null().ok().flatten());
            let org = push(&mut text, organization);
            let assured = push(&mut text, r.get_ref(4)?.as_str_or_null().ok().flatten());
            services[slot as usize] = [id, name, org, assured, text.len() as u32];
        }
        let mut locations: Vec<[u32; 3]> = Vec::new();
        let mut stmt = conn.prepare(
            "SELECT l.rowid, l.id,
                    (SELECT postal_code FROM address a WHERE a.location_rowid = l.rowid LIMIT 1)
             FROM location l",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let Ok(rowid) = usize::try_from(r.get::<_, i64>(0)?) else {
                continue;
            };
            if locations.len() <= rowid {
                locations.resize(rowid + 1, [0; 3]);
            }
            let id = push(&mut text, r.get_ref(1)?.as_str_or_null().ok().flatten());
            let postcode = push(&mut text, r.get_ref(2)?.as_str_or_null().ok().flatten());
            locations[rowid] = [id, postcode, text.len() as u32];
        }
        text.shrink_to_fit();
        Ok(RowTexts {
            text,
            services,
            locations,
        })
    }

    fn span(&self, from: u32, to: u32) -> &str {
        &self.text[from as usize..to as usize]
    }

    /// The texts of the service in `slot`.
    pub fn service(&self, slot: u32) -> ServiceText<'_> {
        let [id, name, org, assured, end] = self.services[slot as usize];
        ServiceText {
            id: self.span(id, name),
            name: self.span(name, org),
            organization: nonempty(self.span(org, assured)),
            assured_date: nonempty(self.span(assured, end)),
        }
    }

    /// A location's id and postcode (if any); empty for a rowid never read.
    pub fn location(&self, rowid: i64) -> (&str, Option<&str>) {
        let Some(&[id, postcode, end]) = usize::try_from(rowid)
            .ok()
            .and_then(|i| self.locations.get(i))
        else {
            return ("", None);
        };
        (self.span(id, postcode), nonempty(self.span(postcode, end)))
    }
}
