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
