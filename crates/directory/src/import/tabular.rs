//! The HSDS tabular data package: one CSV per entity, linked by id columns, reassembled here
//! into nested `service_full` records so that everything goes through one validation path.
//!
//! Real packages are found the ways their publishers lay them out: the files named by
//! `datapackage.json`, the package folder itself, or a `data/` folder beside the descriptor.
//! Older HSDS versions (1.x, 2.x) name some files and columns differently (`regular_schedules`
//! with a `weekday`, `services_taxonomy` with a `taxonomy_id`, `eligibility`); they are read
//! into the same shape.
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

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

/// Where a package's CSV files are.
struct Package {
    dir: PathBuf,
    /// Files named by `datapackage.json`, by resource name and by file name without `.csv`.
    resources: HashMap<String, PathBuf>,
    /// Why `datapackage.json` could not be read, if it could not. Packages are still found
    /// without it (some ship it as a dangling link), so this is said only if nothing is found.
    unreadable: Option<String>,
    max_bytes: u64,
}

impl Package {
    fn open(dir: &Path, max_bytes: u64) -> Result<Package> {
        let mut resources = HashMap::new();
        let mut unreadable = None;
        let descriptor = dir.join("datapackage.json");
        if descriptor.is_file() {
            let bytes = super::read_limited(&descriptor, max_bytes)?;
            let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                unreadable = Some(format!("its datapackage.json is not valid JSON: {e}"));
                Value::Null
            });
            let listed = value.get("resources").and_then(Value::as_array);
            for resource in listed.into_iter().flatten() {
                // `path` is one path or a list of parts; a table split in parts is rare enough
                // that its first part stands for it.
                let path = match resource.get("path") {
                    Some(Value::String(p)) => p.as_str(),
                    Some(Value::Array(parts)) => {
                        parts.first().and_then(Value::as_str).unwrap_or_default()
                    }
                    _ => continue,
                };
                // Only files inside the package: not URLs, not `..`, not absolute paths.
                let relative = Path::new(path);
                if path.is_empty()
                    || path.contains("://")
                    || !relative
                        .components()
                        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
                {
                    continue;
                }
                let file = dir.join(relative);
                if let Some(name) = resource.get("name").and_then(Value::as_str) {
                    resources.insert(name.to_string(), file.clone());
                }
                if let Some(stem) = relative.file_stem().and_then(|s| s.to_str()) {
                    resources.entry(stem.to_string()).or_insert(file);
                }
            }
        }
        Ok(Package {
            dir: dir.to_path_buf(),
            resources,
            unreadable,
            max_bytes,
        })
    }

    /// The file for a table known by any of `names` (`services.csv`, …): as the descriptor
    /// lists it, else in the folder, else in `data/`.
    fn find(&self, names: &[&str]) -> Option<PathBuf> {
        let listed = names.iter().filter_map(|name| {
            self.resources
                .get(name.trim_end_matches(".csv"))
                .filter(|p| p.is_file())
                .cloned()
        });
        let beside = names.iter().flat_map(|name| {
            [self.dir.join(name), self.dir.join("data").join(name)]
                .into_iter()
                .filter(|p| p.is_file())
        });
        listed.chain(beside).next()
    }

    fn read(&self, names: &[&str]) -> Result<Rows> {
        match self.find(names) {
            Some(path) => read_csv(&path, self.max_bytes),
            None => Ok(Vec::new()),
        }
    }
}

fn read_csv(path: &Path, max_bytes: u64) -> Result<Rows> {
    let bad = |message: String| Error::UnsupportedFile {
        path: path.to_path_buf(),
        message,
    };
    let bytes = super::read_limited(path, max_bytes)?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
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

/// Read a tabular data package folder into nested service records. No file may be larger
/// than `max_bytes`.
pub fn read_package(dir: &Path, max_bytes: u64) -> Result<Vec<Value>> {
    let package = Package::open(dir, max_bytes)?;
    if package.find(&["services.csv"]).is_none() {
        return Err(Error::UnsupportedFile {
            path: dir.to_path_buf(),
            message: format!(
                "is not an HSDS tabular data package (no services.csv in it, in data/, or named \
                 in its datapackage.json){}",
                package
                    .unreadable
                    .as_deref()
                    .map(|why| format!("; {why}"))
                    .unwrap_or_default()
            ),
        });
    }
    let services = package.read(&["services.csv"])?;
    let organizations: HashMap<String, Value> = package
        .read(&["organizations.csv", "organization.csv"])?
        .into_iter()
        .filter_map(|o| Some((o.get("id")?.as_str()?.to_string(), Value::Object(o))))
        .collect();
    let mut addresses = group_by(
        package.read(&["addresses.csv", "physical_addresses.csv"])?,
        "location_id",
    );
    let mut accessibility = group_by(
        package.read(&["accessibility.csv", "accessibility_for_disabilities.csv"])?,
        "location_id",
    );
    let locations: HashMap<String, Value> = package
        .read(&["locations.csv", "location.csv"])?
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
    // HSDS 1.x and 2.x: `regular_schedules` with a `weekday` name, tied to a service at a
    // location, a service, or only a location.
    let schedule_rows: Rows = super::oruk1::schedules_v1(Value::Array(
        package
            .read(&["schedules.csv", "regular_schedules.csv"])?
            .into_iter()
            .map(Value::Object)
            .collect(),
    ))
    .as_array()
    .into_iter()
    .flatten()
    .filter_map(|s| s.as_object().cloned())
    .collect();
    let (sal_schedules, rest): (Rows, Rows) = schedule_rows
        .into_iter()
        .partition(|s| s.contains_key("service_at_location_id"));
    let (service_schedules, location_schedules): (Rows, Rows) =
        rest.into_iter().partition(|s| s.contains_key("service_id"));
    let mut sal_schedules = group_by(sal_schedules, "service_at_location_id");
    let mut service_schedules = group_by(service_schedules, "service_id");
    let location_schedules = group_by(location_schedules, "location_id");
    let mut sals = group_by(
        package.read(&[
            "service_at_locations.csv",
            "service_at_location.csv",
            "services_at_location.csv",
        ])?,
        "service_id",
    );
    let mut phones = group_by(package.read(&["phones.csv", "phone.csv"])?, "service_id");
    let mut languages = group_by(
        package.read(&["languages.csv", "language.csv"])?,
        "service_id",
    );
    let mut cost_options = group_by(package.read(&["cost_options.csv"])?, "service_id");
    let mut contacts = group_by(
        package.read(&["contacts.csv", "contact.csv"])?,
        "service_id",
    );
    let mut service_areas = group_by(
        package.read(&["service_areas.csv", "service_area.csv"])?,
        "service_id",
    );
    let mut eligibility = group_by(package.read(&["eligibility.csv"])?, "service_id");
    let terms: HashMap<String, Value> = package
        .read(&["taxonomy_terms.csv", "taxonomy.csv", "taxonomy_term.csv"])?
        .into_iter()
        .filter_map(|mut t| {
            // HSDS 1.x names a term's taxonomy its vocabulary.
            if let Some(vocabulary) = t.remove("vocabulary") {
                t.entry("taxonomy").or_insert(vocabulary);
            }
            Some((t.get("id")?.as_str()?.to_string(), Value::Object(t)))
        })
        .collect();
    // HSDS 3 links an attribute by `link_id`; 1.x and 2.x's `services_taxonomy` by
    // `service_id`, to a `taxonomy_id`.
    let attribute_rows: Rows = package
        .read(&[
            "attributes.csv",
            "services_taxonomy.csv",
            "service_taxonomy.csv",
        ])?
        .into_iter()
        .map(|mut a| {
            if !a.contains_key("link_id") {
                if let Some(service) = a.remove("service_id") {
                    a.insert("link_id".into(), service);
                }
            }
            if !a.contains_key("taxonomy_term_id") {
                if let Some(term) = a.remove("taxonomy_id") {
                    a.insert("taxonomy_term_id".into(), term);
                }
            }
            a
        })
        .collect();
    let mut attributes = group_by(attribute_rows, "link_id");

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
                let mut schedules = take(&mut sal_schedules, &sal_id);
                if let Some(at_location) = sal
                    .get("location_id")
                    .and_then(Value::as_str)
                    .and_then(|l| location_schedules.get(l))
                {
                    schedules.extend(at_location.iter().cloned());
                }
                sal["schedules"] = Value::Array(schedules);
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
        let eligibilitys = take(&mut eligibility, &id);
        if !eligibilitys.is_empty() {
            // The ORUK 1.0 mapping makes these the eligibility description and ages.
            service.insert("eligibilitys".into(), Value::Array(eligibilitys));
        }
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
