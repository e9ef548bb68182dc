//! Converting the UK mobile library stop timetables into HSDS listings (the default region).
//!
//! Source: the Libraries Hacked mobile library data project, one CSV per library service, one
//! row per stop visit: `organisation,mobile,route,community,stop,address,postcode,geox,geoy,
//! day,type,arrival,departure,frequency,start,end,exceptions,timetable`. `frequency` is an
//! RFC 5545 fragment (`FREQ=WEEKLY;INTERVAL=4`, `FREQ=MONTHLY;BYDAY=2TH`), which maps straight
//! onto HSDS schedule fields. A stop visited on several days becomes one listing with several
//! schedules. Ids are derived from the stop's identity, so re-running the conversion gives the
//! same ids and an import of the result is a no-op when nothing changed upstream.
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use signpost_directory::taxonomy::term_id;

use crate::error::{Error, Result};

#[derive(Debug, serde::Deserialize)]
struct Row {
    organisation: String,
    mobile: String,
    route: String,
    community: String,
    stop: String,
    address: String,
    postcode: String,
    geox: String,
    geoy: String,
    day: String,
    arrival: String,
    departure: String,
    frequency: String,
    start: String,
    end: String,
    timetable: String,
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn day_code(day: &str) -> Option<&'static str> {
    Some(match day.trim().to_ascii_lowercase().as_str() {
        "monday" => "MO",
        "tuesday" => "TU",
        "wednesday" => "WE",
        "thursday" => "TH",
        "friday" => "FR",
        "saturday" => "SA",
        "sunday" => "SU",
        _ => return None,
    })
}

/// Some timetables write "9:20"; HSDS times are "09:20".
fn two_digit_hour(t: &str) -> String {
    match t.trim().split_once(':') {
        Some((h, m)) if h.len() == 1 => format!("0{h}:{m}"),
        _ => t.trim().to_string(),
    }
}

fn schedule(row: &Row, id: String) -> Value {
    let mut s = json!({
        "id": id,
        "opens_at": two_digit_hour(&row.arrival),
        "closes_at": two_digit_hour(&row.departure),
        "description": format!("{} mobile library, route {}", row.organisation, row.route),
    });
    for part in row.frequency.split(';') {
        match part.split_once('=') {
            Some(("FREQ", f)) => s["freq"] = json!(f),
            Some(("INTERVAL", n)) => {
                if let Ok(n) = n.parse::<u32>() {
                    s["interval"] = json!(n);
                }
            }
            Some(("BYDAY", d)) => s["byday"] = json!(d),
            _ => {}
        }
    }
    if s.get("byday").is_none() {
        if let Some(code) = day_code(&row.day) {
            s["byday"] = json!(code);
        }
    }
    if !row.start.is_empty() {
        s["dtstart"] = json!(row.start);
        s["valid_from"] = json!(row.start);
    }
    if !row.end.is_empty() {
        s["valid_to"] = json!(row.end);
    }
    s
}

/// Convert the stop CSVs in `dir` to HSDS listings, sorted by id.
pub fn convert_stops(dir: &Path) -> Result<Vec<Value>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut by_stop: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for path in &files {
        let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Source {
            path: path.clone(),
            message: e.to_string(),
        })?;
        for (n, row) in reader.deserialize::<Row>().enumerate() {
            let row = row.map_err(|e| Error::Source {
                path: path.clone(),
                message: format!("row {}: {e}", n + 2),
            })?;
            let key = short_hash(&[
                &row.organisation,
                &row.community,
                &row.stop,
                &row.geox,
                &row.geoy,
            ]);
            by_stop.entry(key).or_default().push(row);
        }
    }
    let attrs = |pairs: &[(&str, &str)], id: &str| -> Value {
        Value::Array(
            pairs
                .iter()
                .map(|(g, c)| json!({"id": format!("{id}/attribute/{g}"), "taxonomy_term_id": term_id(g, c)}))
                .collect(),
        )
    };
    let mut out = Vec::with_capacity(by_stop.len());
    for (key, rows) in by_stop {
        let first = &rows[0];
        let id = format!("mls-{key}");
        let org_id = format!("mls-org-{}", slug(&first.organisation));
        let (lat, lon) = (
            first.geoy.parse::<f64>().ok(),
            first.geox.parse::<f64>().ok(),
        );
        // HSDS and ORUK require a postcode in an address; stops without one carry their
        // address as the location's description instead.
        let addresses = match first.postcode.trim() {
            "" => json!([]),
            postcode => json!([{
                "id": format!("{id}/address"),
                "address_1": first.address,
                "city": first.community,
                "state_province": first.organisation,
                "postal_code": postcode,
                "country": "GB",
                "address_type": "physical",
            }]),
        };
        let schedules: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| schedule(r, format!("{id}/schedule/{i}")))
            .collect();
        let routes: Vec<&str> = rows.iter().map(|r| r.mobile.as_str()).collect();
        out.push(json!({
            "id": id,
            "name": format!("Mobile library: {}, {}", first.stop, first.community),
            "description": format!(
                "The {} mobile library ({}) stops at {}, {}. Borrow and return books and audiobooks, \
                 order items and ask for help. Joining a public library is free.",
                first.organisation, routes.join(", "), first.stop, first.community
            ),
            "status": "active",
            "url": first.timetable,
            "organization": {
                "id": org_id,
                "name": format!("{} Libraries", first.organisation),
                "description": format!("Public library service for {}.", first.organisation),
            },
            "attributes": attrs(&[
                ("access", "drop-in"),
                ("domain", "local-facilities"),
                ("interest", "reading"),
                ("interest", "learning"),
                ("cost", "free"),
            ], &id),
            "service_at_locations": [{
                "id": format!("{id}/sal"),
                "location": {
                    "id": format!("{id}/location"),
                    "location_type": "physical",
                    "name": format!("{}, {}", first.stop, first.community),
                    "description": first.address,
                    "latitude": lat,
                    "longitude": lon,
                    "addresses": addresses,
                },
            }],
            "schedules": schedules,
        }));
    }
    // Attribute ids must be unique per listing: number the two interests apart.
    for listing in &mut out {
        if let Some(Value::Array(attrs)) = listing.get_mut("attributes") {
            for (i, a) in attrs.iter_mut().enumerate() {
                let id = a["id"].as_str().unwrap_or_default().to_string();
                a["id"] = json!(format!("{id}/{i}"));
            }
        }
    }
    Ok(out)
}
