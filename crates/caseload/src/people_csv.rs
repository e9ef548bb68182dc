//! Importing people from a spreadsheet: `name,home_area,interests,access_needs,languages,
//! free_times,goals`, lists `;`-separated. A bad row is reported by line and field and the good
//! rows are kept.
use std::io::Read;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::PersonDetails;
use crate::store::Caseload;

/// The columns, in order (only `name` is required).
pub const COLUMNS: [&str; 7] = [
    "name",
    "home_area",
    "interests",
    "access_needs",
    "languages",
    "free_times",
    "goals",
];

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The column at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// People added.
    pub added: usize,
    /// Rows left out, each with its line and field.
    pub errors: Vec<RowError>,
}

/// Read the file and add every good row (in one transaction).
pub fn import(caseload: &Caseload, source: impl Read, today: NaiveDate) -> Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(source);
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if column("name").is_none() {
        return Err(Error::invalid(
            "header",
            format!(
                "the first line must name the columns: {}",
                COLUMNS.join(",")
            ),
        ));
    }
    if let Some(unknown) = headers
        .iter()
        .find(|h| !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(h)))
    {
        return Err(Error::invalid(
            "header",
            format!(
                "unknown column {unknown:?}; the columns are {}",
                COLUMNS.join(",")
            ),
        ));
    }
    let mut report = ImportReport::default();
    let mut good = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.errors.push(RowError {
                    line,
                    field: "row".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string()
        };
        let list = |name: &str| -> Vec<String> {
            get(name)
                .split(';')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let details = PersonDetails {
            name: get("name"),
            home_area: get("home_area"),
            interests: list("interests"),
            access_needs: list("access_needs"),
            languages: list("languages"),
            free_times: list("free_times"),
            goals: get("goals"),
            ..PersonDetails::default()
        };
        match details.normalised() {
            Ok(d) => good.push(d),
            Err(Error::Invalid { field, message }) => report.errors.push(RowError {
                line,
                field,
                message,
            }),
            Err(e) => return Err(e),
        }
    }
    report.added = caseload.add_people(&good, today)?.len();
    Ok(report)
}
