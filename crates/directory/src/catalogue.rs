//! The read side a feed publishes: pages of full service records, filtered the ORUK way.
//!
//! Records are served exactly as stored (the canonical HSDS record), so what a feed publishes is
//! byte-for-byte what was validated on the way in.
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::error::{Error, Result};
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
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page {
    /// All matching items.
    pub total_items: u64,
    /// This page's records.
    pub items: Vec<Value>,
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
    /// The `service_at_locations` entry `sal_id` of a stored record, with `service_id` and
    /// `location_id` added as ORUK lists them.
    fn sal_object(&self, service_rowid: i64, sal_id: &str) -> Result<Option<Value>> {
        let record: String = self.connection().query_row(
            "SELECT record FROM service_record WHERE service_rowid = ?1",
            [service_rowid],
            |r| r.get(0),
        )?;
        let record: Value = serde_json::from_str(&record)
            .map_err(|e| Error::BadQuery(format!("stored record: {e}")))?;
        let service_id = record["id"].clone();
        let found = record["service_at_locations"]
            .as_array()
            .and_then(|sals| sals.iter().find(|s| s["id"] == sal_id))
            .cloned();
        Ok(found.map(|mut sal| {
            sal["service_id"] = service_id;
            sal["location_id"] = sal["location"]["id"].clone();
            sal
        }))
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
    ) -> Result<Page> {
        check_paging(q.page, q.per_page)?;
        let (filter, params) = service_filter(q);
        let conn = self.connection();
        let offset = (q.page - 1).saturating_mul(q.per_page) as usize;
        let (total, rows): (usize, Vec<(i64, String)>) = match near {
            None => {
                // Every service_at_location belongs to a service, so without a filter the
                // count needs no join.
                let count = if filter.is_empty() {
                    "SELECT count(*) FROM service_at_location".to_string()
                } else {
                    format!("SELECT count(*) FROM service_at_location sal JOIN service s ON s.rowid = sal.service_rowid {filter}")
                };
                let total: i64 =
                    conn.query_row(&count, rusqlite::params_from_iter(params.iter()), |r| {
                        r.get(0)
                    })?;
                let mut page_params = params.clone();
                page_params.push(SqlValue::Integer(q.per_page.min(i64::MAX as u64) as i64));
                page_params.push(SqlValue::Integer(offset as i64));
                let mut stmt = conn.prepare(&format!(
                    "SELECT s.rowid, sal.id FROM service s CROSS JOIN service_at_location sal ON sal.service_rowid = s.rowid
                     {filter} ORDER BY s.id, sal.rowid LIMIT ? OFFSET ?"
                ))?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(page_params.iter()), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                (total as usize, rows)
            }
            Some(p) => {
                let allowed: Option<std::collections::HashSet<i64>> = if filter.is_empty() {
                    None
                } else {
                    let mut stmt =
                        conn.prepare(&format!("SELECT s.rowid FROM service s {filter}"))?;
                    let set = stmt
                        .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    Some(set)
                };
                let index = self.index()?;
                let within: Vec<(i64, i64)> = index
                    .points_within(p.latitude, p.longitude, p.radius_m)?
                    .into_iter()
                    .map(|(point, _)| {
                        (
                            index.service(index.point(point).service).rowid,
                            index.point(point).sal_rowid,
                        )
                    })
                    .filter(|(service, _)| allowed.as_ref().is_none_or(|a| a.contains(service)))
                    .collect();
                let mut stmt =
                    conn.prepare_cached("SELECT id FROM service_at_location WHERE rowid = ?1")?;
                let mut rows = Vec::new();
                for &(service, sal) in within.iter().skip(offset).take(q.per_page as usize) {
                    rows.push((service, stmt.query_row([sal], |r| r.get(0))?));
                }
                (within.len(), rows)
            }
        };
        let mut items = Vec::with_capacity(rows.len());
        for (service_rowid, sal_id) in rows {
            items.extend(self.sal_object(service_rowid, &sal_id)?);
        }
        Ok(Page {
            total_items: total as u64,
            items,
        })
    }

    /// One service at a location, by its id.
    pub fn service_at_location(&self, id: &str) -> Result<Value> {
        use rusqlite::OptionalExtension;
        let service_rowid: Option<i64> = self
            .connection()
            .query_row(
                "SELECT service_rowid FROM service_at_location WHERE id = ?1 LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        match service_rowid {
            Some(rowid) => self
                .sal_object(rowid, id)?
                .ok_or_else(|| Error::NotFound(id.to_string())),
            None => Err(Error::NotFound(id.to_string())),
        }
    }

    /// A page of full service records, ordered by id.
    pub fn service_page(&self, q: &ServiceQuery) -> Result<Page> {
        check_paging(q.page, q.per_page)?;
        let (filter, mut params) = service_filter(q);
        let conn = self.connection();
        let total_items: i64 = conn.query_row(
            &format!("SELECT count(*) FROM service s {filter}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let offset = (q.page - 1).saturating_mul(q.per_page);
        params.push(SqlValue::Integer(q.per_page.min(i64::MAX as u64) as i64));
        params.push(SqlValue::Integer(offset.min(i64::MAX as u64) as i64));
        // The page's services are found first, from the id index alone, and only their records
        // are read: joining every record before skipping to the page made a deep page of a
        // 100k-listing feed 15–20 times slower (measured).
        let mut stmt = conn.prepare(&format!(
            "SELECT r.record FROM (SELECT s.rowid AS rowid, s.id AS id FROM service s {filter}
                 ORDER BY s.id LIMIT ? OFFSET ?) page
             JOIN service_record r ON r.service_rowid = page.rowid ORDER BY page.id"
        ))?;
        let items = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                r.get::<_, String>(0)
            })?
            .map(|row| -> Result<Value> {
                serde_json::from_str(&row?)
                    .map_err(|e| Error::BadQuery(format!("stored record: {e}")))
            })
            .collect::<Result<Vec<Value>>>()?;
        Ok(Page {
            total_items: total_items as u64,
            items,
        })
    }

    /// One full service record, as stored.
    pub fn service_record(&self, id: &str) -> Result<Value> {
        Ok(self.stored_record(id)?.0)
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
        let total_items: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {} {filter}", what.table),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        params.push(SqlValue::Integer(q.per_page.min(i64::MAX as u64) as i64));
        params.push(SqlValue::Integer(
            (q.page - 1).saturating_mul(q.per_page).min(i64::MAX as u64) as i64,
        ));
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM {} {filter} ORDER BY id LIMIT ? OFFSET ?",
            what.columns.join(", "),
            what.table
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
        use rusqlite::OptionalExtension;
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
