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

impl Directory {
    /// A page of full service records, ordered by id.
    pub fn service_page(&self, q: &ServiceQuery) -> Result<Page> {
        if q.page == 0 || q.per_page == 0 {
            return Err(Error::BadQuery("page and per_page start at 1".into()));
        }
        let mut clauses: Vec<&str> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        if let Some(words) = q.search.as_deref() {
            match fts_query(words) {
                Some(m) => {
                    clauses.push(
                        "s.rowid IN (SELECT rowid FROM service_fts WHERE service_fts MATCH ?)",
                    );
                    params.push(SqlValue::Text(format!(
                        "{{name description organization terms}} : ({m})"
                    )));
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
        let conn = self.connection();
        let total_items: i64 = conn.query_row(
            &format!("SELECT count(*) FROM service s {filter}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let offset = (q.page - 1).saturating_mul(q.per_page);
        params.push(SqlValue::Integer(q.per_page.min(i64::MAX as u64) as i64));
        params.push(SqlValue::Integer(offset.min(i64::MAX as u64) as i64));
        let mut stmt = conn.prepare(&format!(
            "SELECT r.record FROM service s JOIN service_record r ON r.service_rowid = s.rowid
             {filter} ORDER BY s.id LIMIT ? OFFSET ?"
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
        Ok(self.listing(id)?.record)
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
        if q.page == 0 || q.per_page == 0 {
            return Err(Error::BadQuery("page and per_page start at 1".into()));
        }
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
