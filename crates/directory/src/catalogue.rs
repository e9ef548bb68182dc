//! The read side a feed publishes: pages of full service records, filtered the ORUK way.
//!
//! Services are served as ORUK text (`oruk.rs`): the stored record with the fields ORUK 3.0
//! requires filled in, kept beside the record in a feed, so a page is texts read and joined.
use std::cell::Cell;

use rusqlite::types::Value as SqlValue;
use rusqlite::OptionalExtension;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::oruk;
use crate::search::fts_query;
use crate::store::Directory;

/// Filters of ORUK's `GET /services`, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    /// Words to find (name, description, organization, taxonomy terms).
    pub search: Option<String>,
    /// Only services of this organization.
    pub organization_id: Option<String>,
    /// Only services with this taxonomy term.
    pub taxonomy_term_id: Option<String>,
    /// Only services with a term of this taxonomy.
    pub taxonomy_id: Option<String>,
    /// Only services whose `last_modified` is after this ISO 8601 instant.
    pub modified_after: Option<String>,
    /// 1-based page.
    pub page: u64,
    /// Page size.
    pub per_page: u64,
    /// The day to judge freshness on: with it, every service (and service at location) carries
    /// [`oruk::OUT_OF_DATE_MARK`], and services at locations at equal distance from `near` are
    /// ordered fresher first on it; without it, texts are as stored (and that order is judged on
    /// today by the clock).
    pub today: Option<chrono::NaiveDate>,
}

/// A stored text with the freshness mark for `today`, if a day was given.
fn marked(text: String, assured_date: Option<&str>, today: Option<chrono::NaiveDate>) -> String {
    match today {
        Some(today) => oruk::with_mark(
            &text,
            crate::freshness::may_be_out_of_date(assured_date, today),
        ),
        None => text,
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page {
    /// All matching items.
    pub total_items: u64,
    /// This page's records.
    pub items: Vec<Value>,
}

/// One page of services (or services at locations) as ORUK JSON texts, each a JSON object,
/// to be joined into a response as they are.
#[derive(Debug, Clone)]
pub struct OrukPage {
    /// All matching items.
    pub total_items: u64,
    /// This page's records.
    pub items: Vec<String>,
}

/// How many services and services at locations a directory holds, remembered for one state of
/// its data: counting is a walk of a whole index (50 µs for 100k services, measured), which
/// every unfiltered page asked for again.
#[derive(Debug, Default)]
pub(crate) struct Totals(Cell<Option<CountedAt>>);

#[derive(Debug, Clone, Copy, PartialEq)]
struct CountedAt {
    version: crate::store::DataVersion,
    services: u64,
    services_at_locations: u64,
}

/// A page's `LIMIT`, written into the SQL rather than bound: SQLite plans with the value of a
/// bound `LIMIT ?`, so it prepared such a statement again at every use, which was a seventh of
/// a `/services` page's time (measured; `sqlite3_stmt_status` counted a re-prepare per use).
/// Pages have few sizes (at most 100), so the cached statements stay few.
fn limit_of(per_page: u64) -> i64 {
    per_page.min(i64::MAX as u64) as i64
}

fn limit(q: &ServiceQuery) -> i64 {
    limit_of(q.per_page)
}

fn check_paging(page: u64, per_page: u64) -> Result<()> {
    if page == 0 || per_page == 0 {
        return Err(Error::BadQuery("page and per_page start at 1".into()));
    }
    Ok(())
}

/// The WHERE clause (over `service s`) and its parameters for a [`ServiceQuery`]'s filters.
fn service_filter(q: &ServiceQuery) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(words) = q.search.as_deref() {
        match fts_query(words) {
            Some(m) => {
                clauses
                    .push("s.rowid IN (SELECT rowid FROM service_fts WHERE service_fts MATCH ?)");
                params.push(SqlValue::Text(m));
            }
            None => clauses.push("0"),
        }
    }
    if let Some(org) = &q.organization_id {
        clauses.push("s.organization_id = ?");
        params.push(SqlValue::Text(org.clone()));
    }
    if let Some(term) = &q.taxonomy_term_id {
        clauses.push("EXISTS (SELECT 1 FROM attribute a WHERE a.service_rowid = s.rowid AND a.taxonomy_term_id = ?)");
        params.push(SqlValue::Text(term.clone()));
    }
    if let Some(tax) = &q.taxonomy_id {
        clauses.push(
            "EXISTS (SELECT 1 FROM attribute a JOIN taxonomy_term t ON t.id = a.taxonomy_term_id
                     WHERE a.service_rowid = s.rowid AND (t.taxonomy_id = ? OR t.taxonomy = ?))",
        );
        params.push(SqlValue::Text(tax.clone()));
        params.push(SqlValue::Text(tax.clone()));
    }
    if let Some(after) = &q.modified_after {
        clauses.push("s.last_modified > ?");
        params.push(SqlValue::Text(after.clone()));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (filter, params)
}

/// Where to look for services at locations: a point and a radius in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proximity {
    /// WGS84 latitude.
    pub latitude: f64,
    /// WGS84 longitude.
    pub longitude: f64,
    /// Metres.
    pub radius_m: f64,
}

impl Directory {
    /// Every service and every service at location, counted once per state of the data.
    fn totals(&self) -> Result<CountedAt> {
        let conn = self.connection();
        let version = self.data_version()?;
        if let Some(counted) = self.totals.0.get().filter(|c| c.version == version) {
            return Ok(counted);
        }
        let count = |sql: &str| -> Result<u64> {
            Ok(conn
                .prepare_cached(sql)?
                .query_row([], |r| r.get::<_, i64>(0))? as u64)
        };
        let counted = CountedAt {
            version,
            services: count("SELECT count(*) FROM service")?,
            services_at_locations: count("SELECT count(*) FROM service_at_location")?,
        };
        self.totals.0.set(Some(counted));
        Ok(counted)
    }

    /// The ORUK texts of these services at locations, in this order, read in one statement: a
    /// statement per item was a read transaction per item (file locks), and most of a page's
    /// time (measured). Ones without stored text (a directory that publishes nothing) are
    /// made from their service's record; one its service does not list is left out.
    /// With `marks` (one per rowid, whether its service may be out of date), each text carries
    /// the freshness mark. The marks come from where the rowids were found (the search index's
    /// check days, or the page's own query), not from more joins here: two rowid lookups a row
    /// cost a proximity page a third of its speed (measured).
    fn sal_texts(&self, sal_rowids: &[i64], marks: Option<&[bool]>) -> Result<Vec<String>> {
        let rowids = serde_json::to_string(sal_rowids).expect("numbers always serialise");
        let stored: Vec<(i64, Option<String>)> = self
            .connection()
            .prepare_cached(
                "SELECT j.value, o.record FROM json_each(?1) j
                 LEFT JOIN service_at_location_oruk o ON o.sal_rowid = j.value ORDER BY j.key",
            )?
            .query_map([rowids], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut texts = Vec::with_capacity(stored.len());
        for (i, (sal_rowid, text)) in stored.into_iter().enumerate() {
            let text = match text {
                Some(text) => Some(text),
                None => self.conformed_sal_text(sal_rowid)?,
            };
            texts.extend(text.map(|t| match marks.and_then(|m| m.get(i)) {
                Some(stale) => oruk::with_mark(&t, *stale),
                None => t,
            }));
        }
        Ok(texts)
    }

    /// The ORUK text of a service at location, made from its service's stored record.
    fn conformed_sal_text(&self, sal_rowid: i64) -> Result<Option<String>> {
        let (record, sal_id): (String, String) = self
            .connection()
            .prepare_cached(
                "SELECT r.record, sal.id FROM service_at_location sal
                 JOIN service_record r ON r.service_rowid = sal.service_rowid WHERE sal.rowid = ?1",
            )?
            .query_row([sal_rowid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        oruk::service_at_location_text(&record, &sal_id)
    }

    /// A page of services at locations: ordered by service id and then as the service lists
    /// them, or, with `near`, nearest first within its radius (only indexed, active listings
    /// have a distance).
    ///
    /// The order without `near` follows indexes that exist (the service id, and the service of
    /// each service_at_location): ordering by `service_at_location.id`, which has no index,
    /// sorted every row of the table for every page. `CROSS JOIN` keeps services the outer loop,
    /// which SQLite's planner otherwise reverses, sorting again (first page of 100k: 0.5 ms
    /// against 21 ms, measured with the sqlite3 shell).
    pub fn service_at_location_page(
        &self,
        q: &ServiceQuery,
        near: Option<Proximity>,
    ) -> Result<OrukPage> {
        check_paging(q.page, q.per_page)?;
        let (filter, params) = service_filter(q);
        let conn = self.connection();
        let offset = (q.page - 1).saturating_mul(q.per_page) as usize;
        let (total, rows, marks): (u64, Vec<i64>, Vec<bool>) = match near {
            None => {
                // Every service_at_location belongs to a service, so without a filter the
                // count needs no join.
                let total = if filter.is_empty() {
                    self.totals()?.services_at_locations
                } else {
                    conn.prepare_cached(&format!("SELECT count(*) FROM service_at_location sal JOIN service s ON s.rowid = sal.service_rowid {filter}"))?
                        .query_row(rusqlite::params_from_iter(params.iter()), |r| {
                            r.get::<_, i64>(0)
                        })? as u64
                };
                let mut page_params = params.clone();
                page_params.push(SqlValue::Integer(offset as i64));
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT sal.rowid, s.assured_date FROM service s CROSS JOIN service_at_location sal ON sal.service_rowid = s.rowid
                     {filter} ORDER BY s.id, sal.rowid LIMIT {} OFFSET ?",
                    limit(q)
                ))?;
                let found: Vec<(i64, Option<String>)> = stmt
                    .query_map(rusqlite::params_from_iter(page_params.iter()), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let marks = q
                    .today
                    .map(|today| {
                        found
                            .iter()
                            .map(|(_, assured)| {
                                crate::freshness::may_be_out_of_date(assured.as_deref(), today)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    total,
                    found.into_iter().map(|(rowid, _)| rowid).collect(),
                    marks,
                )
            }
            Some(p) => {
                let allowed: Option<std::collections::HashSet<i64>> = if filter.is_empty() {
                    None
                } else {
                    let mut stmt =
                        conn.prepare_cached(&format!("SELECT s.rowid FROM service s {filter}"))?;
                    let set = stmt
                        .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    Some(set)
                };
                let index = self.index()?;
                let keep = |point: u32| {
                    allowed.as_ref().is_none_or(|a| {
                        a.contains(&index.service(index.point(point).service).rowid)
                    })
                };
                let (total, points) = index.page_within(
                    p.latitude,
                    p.longitude,
                    p.radius_m,
                    keep,
                    offset,
                    q.per_page as usize,
                    q.today,
                )?;
                let marks = q
                    .today
                    .map(|today| {
                        let day = crate::freshness::day_number(today);
                        points
                            .iter()
                            .map(|&point| {
                                index
                                    .service(index.point(point).service)
                                    .may_be_out_of_date(day)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let rows = points
                    .into_iter()
                    .map(|point| index.point(point).sal_rowid)
                    .collect();
                (total as u64, rows, marks)
            }
        };
        Ok(OrukPage {
            total_items: total,
            items: self.sal_texts(&rows, q.today.map(|_| marks.as_slice()))?,
        })
    }

    /// One service at a location, by its id, as ORUK text.
    pub fn oruk_service_at_location(&self, id: &str) -> Result<String> {
        self.oruk_service_at_location_on(id, None)
    }

    /// One service at a location, by its id, as ORUK text, marked with its freshness on
    /// `today` if given.
    pub fn oruk_service_at_location_on(
        &self,
        id: &str,
        today: Option<chrono::NaiveDate>,
    ) -> Result<String> {
        let sal_rowid: Option<(i64, Option<String>)> = self
            .connection()
            .prepare_cached(
                "SELECT sal.rowid, s.assured_date FROM service_at_location sal
                 JOIN service s ON s.rowid = sal.service_rowid WHERE sal.id = ?1 LIMIT 1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match sal_rowid {
            Some((rowid, assured)) => self
                .sal_texts(
                    &[rowid],
                    today
                        .map(|t| [crate::freshness::may_be_out_of_date(assured.as_deref(), t)])
                        .as_ref()
                        .map(|m| m.as_slice()),
                )?
                .pop()
                .ok_or_else(|| Error::NotFound(id.to_string())),
            None => Err(Error::NotFound(id.to_string())),
        }
    }

    /// A page of full service records as ORUK text, ordered by id.
    pub fn service_page(&self, q: &ServiceQuery) -> Result<OrukPage> {
        check_paging(q.page, q.per_page)?;
        let (filter, mut params) = service_filter(q);
        let conn = self.connection();
        let total_items = if filter.is_empty() {
            self.totals()?.services
        } else {
            conn.prepare_cached(&format!("SELECT count(*) FROM service s {filter}"))?
                .query_row(rusqlite::params_from_iter(params.iter()), |r| {
                    r.get::<_, i64>(0)
                })? as u64
        };
        let offset = (q.page - 1).saturating_mul(q.per_page);
        params.push(SqlValue::Integer(offset.min(i64::MAX as u64) as i64));
        // The page's services are found first, from the id index alone, and only their records
        // are read: joining every record before skipping to the page made a deep page of a
        // 100k-listing feed 15–20 times slower (measured). A feed's ORUK text is read when it
        // has one; otherwise the record, to be conformed here.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT coalesce(o.record, r.record), o.record IS NOT NULL, page.assured
             FROM (SELECT s.rowid AS rowid, s.id AS id, s.assured_date AS assured
                 FROM service s {filter}
                 ORDER BY s.id LIMIT {} OFFSET ?) page
             JOIN service_record r ON r.service_rowid = page.rowid
             LEFT JOIN service_oruk o ON o.service_rowid = page.rowid ORDER BY page.id",
            limit(q)
        ))?;
        let items = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .map(|row| -> Result<String> {
                let (text, stored, assured) = row?;
                let text = if stored {
                    text
                } else {
                    oruk::service_text(&text)?
                };
                Ok(marked(text, assured.as_deref(), q.today))
            })
            .collect::<Result<Vec<String>>>()?;
        Ok(OrukPage { total_items, items })
    }

    /// One full service record as ORUK text.
    pub fn oruk_service(&self, id: &str) -> Result<String> {
        self.oruk_service_on(id, None)
    }

    /// One full service record as ORUK text, marked with its freshness on `today` if given.
    pub fn oruk_service_on(&self, id: &str, today: Option<chrono::NaiveDate>) -> Result<String> {
        let (text, stored, assured): (String, bool, Option<String>) = self
            .connection()
            .prepare_cached(
                "SELECT coalesce(o.record, r.record), o.record IS NOT NULL, s.assured_date
                 FROM service s JOIN service_record r ON r.service_rowid = s.rowid
                 LEFT JOIN service_oruk o ON o.service_rowid = s.rowid WHERE s.id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        let text = if stored {
            text
        } else {
            oruk::service_text(&text)?
        };
        Ok(marked(text, assured.as_deref(), today))
    }
}

/// Filters of ORUK's taxonomy, taxonomy term and organization lists.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Text to find in names (a case-insensitive substring).
    pub search: Option<String>,
    /// Taxonomy terms only: of this taxonomy.
    pub taxonomy_id: Option<String>,
    /// Taxonomy terms only: children of this term.
    pub parent_id: Option<String>,
    /// Taxonomy terms only: only terms without a parent.
    pub top_only: bool,
    /// 1-based page.
    pub page: u64,
    /// Page size.
    pub per_page: u64,
}

/// A JSON object of the non-null columns of a row, in column order. ORUK asks that optional
/// fields without a value be omitted; `required` columns become "" rather than vanish.
fn row_object(
    row: &rusqlite::Row<'_>,
    names: &[&str],
    required: &[&str],
) -> rusqlite::Result<Value> {
    let mut object = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        match row.get::<_, Option<String>>(i)? {
            Some(v) => {
                object.insert(name.to_string(), Value::String(v));
            }
            None if required.contains(name) => {
                object.insert(name.to_string(), Value::String(String::new()));
            }
            None => {}
        }
    }
    Ok(Value::Object(object))
}

/// One table's shape as ORUK publishes it.
struct Listing {
    table: &'static str,
    columns: &'static [&'static str],
    required: &'static [&'static str],
}

const TAXONOMY: Listing = Listing {
    table: "taxonomy",
    columns: &["id", "name", "description", "uri", "version"],
    required: &["description"],
};
const TAXONOMY_TERM: Listing = Listing {
    table: "taxonomy_term",
    columns: &[
        "id",
        "code",
        "name",
        "description",
        "parent_id",
        "taxonomy",
        "taxonomy_id",
    ],
    required: &["description"],
};
const ORGANIZATION: Listing = Listing {
    table: "organization",
    columns: &["id", "name", "description", "email", "website"],
    required: &["description"],
};

impl Directory {
    fn list_page(&self, what: &Listing, q: &ListQuery) -> Result<Page> {
        check_paging(q.page, q.per_page)?;
        let mut clauses: Vec<&str> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(search) = &q.search {
            clauses.push("instr(lower(name), lower(?)) > 0");
            params.push(SqlValue::Text(search.clone()));
        }
        if let Some(taxonomy) = &q.taxonomy_id {
            clauses.push("(taxonomy_id = ? OR taxonomy = ?)");
            params.push(SqlValue::Text(taxonomy.clone()));
            params.push(SqlValue::Text(taxonomy.clone()));
        }
        if let Some(parent) = &q.parent_id {
            clauses.push("parent_id = ?");
            params.push(SqlValue::Text(parent.clone()));
        }
        if q.top_only {
            clauses.push("(parent_id IS NULL OR parent_id NOT IN (SELECT id FROM taxonomy_term))");
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let conn = self.connection();
        let total_items: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM {} {filter}", what.table))?
            .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;
        params.push(SqlValue::Integer(
            (q.page - 1).saturating_mul(q.per_page).min(i64::MAX as u64) as i64,
        ));
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM {} {filter} ORDER BY id LIMIT {} OFFSET ?",
            what.columns.join(", "),
            what.table,
            limit_of(q.per_page)
        ))?;
        let items = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                row_object(r, what.columns, what.required)
            })?
            .collect::<rusqlite::Result<Vec<Value>>>()?;
        Ok(Page {
            total_items: total_items as u64,
            items,
        })
    }

    fn list_one(&self, what: &Listing, id: &str) -> Result<Value> {
        self.connection()
            .query_row(
                &format!(
                    "SELECT {} FROM {} WHERE id = ?1",
                    what.columns.join(", "),
                    what.table
                ),
                [id],
                |r| row_object(r, what.columns, what.required),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(id.to_string()))
    }

    /// A page of taxonomies.
    pub fn taxonomy_page(&self, q: &ListQuery) -> Result<Page> {
        self.list_page(
            &TAXONOMY,
            &ListQuery {
                taxonomy_id: None,
                parent_id: None,
                top_only: false,
                ..q.clone()
            },
        )
    }

    /// One taxonomy.
    pub fn taxonomy(&self, id: &str) -> Result<Value> {
        self.list_one(&TAXONOMY, id)
    }

    /// A page of taxonomy terms.
    pub fn taxonomy_term_page(&self, q: &ListQuery) -> Result<Page> {
        self.list_page(&TAXONOMY_TERM, q)
    }

    /// One taxonomy term.
    pub fn taxonomy_term(&self, id: &str) -> Result<Value> {
        self.list_one(&TAXONOMY_TERM, id)
    }

    /// A page of organizations.
    pub fn organization_page(&self, q: &ListQuery) -> Result<Page> {
        self.list_page(
            &ORGANIZATION,
            &ListQuery {
                taxonomy_id: None,
                parent_id: None,
                top_only: false,
                ..q.clone()
            },
        )
    }

    /// One organization.
    pub fn organization(&self, id: &str) -> Result<Value> {
        self.list_one(&ORGANIZATION, id)
    }
}
