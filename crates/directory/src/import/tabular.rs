//! The HSDS tabular data package: one CSV per entity, linked by id columns, reassembled here
//! into nested `service_full` records so that everything goes through one validation path.
use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// Columns HSDS types as numbers. Everything else stays a string.
const NUMERIC: &[&str] = &[
    "latitude",
    "longitude",
    "minimum_age",
    "maximum_age",
    "amount",
    "interval",
    "count",
    "extension",
];

type Rows = Vec<Map<String, Value>>;

fn read_csv(dir: &Path, names: &[&str]) -> Result<Rows> {
    let Some(path) = names.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
        return Ok(Vec::new());
    };
    let bad = |message: String| Error::UnsupportedFile {
        path: path.clone(),
        message,
    };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {}: {e}", n + 2)))?;
        let mut row = Map::new();
        for (header, cell) in headers.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let value = if NUMERIC.contains(&header) {
                // A number that does not parse stays a string, so validation names the field.
                match cell.parse::<f64>() {
                    Ok(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        Value::Number(Number::from(f as i64))
                    }
                    Ok(f) => Number::from_f64(f)
                        .map(Value::Number)
                        .unwrap_or(Value::String(cell.into())),
                    Err(_) => Value::String(cell.into()),
                }
            } else {
                Value::String(cell.to_string())
            };
            row.insert(header.to_string(), value);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn group_by(rows: Rows, key: &str) -> HashMap<String, Vec<Value>> {
    let mut map: HashMap<String, Vec<Value>> = HashMap::new();
    for mut row in rows {
        if let Some(Value::String(k)) = row.remove(key) {
            map.entry(k).or_default().push(Value::Object(row));
        }
    }
    map
}

fn take(map: &mut HashMap<String, Vec<Value>>, key: &str) -> Vec<Value> {
    map.get(key).cloned().unwrap_or_default()
}

/// Read a tabular data package folder into nested service records.
pub fn read_package(dir: &Path) -> Result<Vec<Value>> {
    let services = read_csv(dir, &["services.csv"])?;
    if services.is_empty() && !dir.join("services.csv").is_file() {
        return Err(Error::UnsupportedFile {
            path: dir.to_path_buf(),
            message: "is not an HSDS tabular data package (no services.csv)".into(),
        });
    }
    let organizations: HashMap<String, Value> = read_csv(dir, &["organizations.csv"])?
        .into_iter()
        .filter_map(|o| Some((o.get("id")?.as_str()?.to_string(), Value::Object(o))))
        .collect();
    let mut addresses = group_by(
        read_csv(dir, &["addresses.csv", "physical_addresses.csv"])?,
        "location_id",
    );
    let mut accessibility = group_by(read_csv(dir, &["accessibility.csv"])?, "location_id");
    let locations: HashMap<String, Value> = read_csv(dir, &["locations.csv"])?
        .into_iter()
        .filter_map(|mut l| {
            let id = l.get("id")?.as_str()?.to_string();
            l.insert("addresses".into(), Value::Array(take(&mut addresses, &id)));
            l.insert(
                "accessibility".into(),
                Value::Array(take(&mut accessibility, &id)),
            );
            Some((id, Value::Object(l)))
        })
        .collect();
    let schedule_rows = read_csv(dir, &["schedules.csv", "regular_schedules.csv"])?;
    let (sal_schedules, service_schedules): (Rows, Rows) = schedule_rows
        .into_iter()
        .partition(|s| s.contains_key("service_at_location_id"));
    let mut sal_schedules = group_by(sal_schedules, "service_at_location_id");
    let mut service_schedules = group_by(service_schedules, "service_id");
    let mut sals = group_by(
        read_csv(
            dir,
            &[
                "service_at_locations.csv",
                "service_at_location.csv",
                "services_at_location.csv",
            ],
        )?,
        "service_id",
    );
    let mut phones = group_by(read_csv(dir, &["phones.csv"])?, "service_id");
    let mut languages = group_by(read_csv(dir, &["languages.csv"])?, "service_id");
    let mut cost_options = group_by(read_csv(dir, &["cost_options.csv"])?, "service_id");
    let mut contacts = group_by(read_csv(dir, &["contacts.csv"])?, "service_id");
    let mut service_areas = group_by(read_csv(dir, &["service_areas.csv"])?, "service_id");
    let terms: HashMap<String, Value> = read_csv(dir, &["taxonomy_terms.csv", "taxonomy.csv"])?
        .into_iter()
        .filter_map(|t| Some((t.get("id")?.as_str()?.to_string(), Value::Object(t))))
        .collect();
    let mut attributes = group_by(
        read_csv(dir, &["attributes.csv", "services_taxonomy.csv"])?,
        "link_id",
    );

    let mut out = Vec::with_capacity(services.len());
    for mut service in services {
        let id = service
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(org) = service
            .get("organization_id")
            .and_then(Value::as_str)
            .and_then(|o| organizations.get(o))
        {
            service.insert("organization".into(), org.clone());
        }
        let nested: Vec<Value> = take(&mut sals, &id)
            .into_iter()
            .map(|mut sal| {
                let sal_id = sal
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if let Some(loc) = sal
                    .get("location_id")
                    .and_then(Value::as_str)
                    .and_then(|l| locations.get(l))
                {
                    sal["location"] = loc.clone();
                }
                sal["schedules"] = Value::Array(take(&mut sal_schedules, &sal_id));
                sal
            })
            .collect();
        service.insert("service_at_locations".into(), Value::Array(nested));
        service.insert(
            "schedules".into(),
            Value::Array(take(&mut service_schedules, &id)),
        );
        service.insert("phones".into(), Value::Array(take(&mut phones, &id)));
        service.insert("languages".into(), Value::Array(take(&mut languages, &id)));
        service.insert(
            "cost_options".into(),
            Value::Array(take(&mut cost_options, &id)),
        );
        service.insert("contacts".into(), Value::Array(take(&mut contacts, &id)));
        service.insert(
            "service_areas".into(),
            Value::Array(take(&mut service_areas, &id)),
        );
        let attrs: Vec<Value> = take(&mut attributes, &id)
            .into_iter()
            .map(|mut a| {
                if let Some(term) = a
                    .get("taxonomy_term_id")
                    .and_then(Value::as_str)
                    .and_then(|t| terms.get(t))
                {
                    a["taxonomy_term"] = term.clone();
                }
                a
            })
            .collect();
        service.insert("attributes".into(), Value::Array(attrs));
        out.push(Value::Object(service));
    }
    Ok(out)
}
