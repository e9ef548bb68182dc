//! England's public libraries as HSDS listings (the `england-public-libraries` region).
//!
//! Source: Libraries Hacked's England library data (MIT), built from the DCMS "Public libraries
//! in England: basic dataset" (OGL v3.0). `libraries.csv` has one row per library, open or
//! closed: `name,id,authority_id,address,postcode,lat,lng,…,type,closed,closed_year,…,hours,
//! staffhours,url,email,…`; `authorities.csv` names each library authority.
//!
//! Only open libraries become listings: a closed one (`closed` set) is a place nobody can go.
//! Postcodes come without their space (`IG117NB`) and are written the usual way. The weekly
//! opening hours are a count, not times, so they are said in the description and "open now"
//! stays unknown rather than guessed.
use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{json, Value};
use signpost_directory::taxonomy::term_id;

use crate::error::{Error, Result};

#[derive(Debug, serde::Deserialize)]
struct Row {
    name: String,
    id: String,
    authority_id: String,
    address: String,
    postcode: String,
    lat: String,
    lng: String,
    #[serde(rename = "type")]
    kind: String,
    closed: String,
    hours: String,
    url: String,
    email: String,
}

#[derive(Debug, serde::Deserialize)]
struct Authority {
    authority_id: String,
    name: String,
}

/// A postcode written with its space (`IG117NB` → `IG11 7NB`), upper case; `None` when it
/// cannot be a UK postcode.
pub fn tidy_postcode(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(5..=7).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    Some(format!("{outward} {inward}"))
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Source {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    reader
        .deserialize::<T>()
        .enumerate()
        .map(|(n, row)| {
            row.map_err(|e| Error::Source {
                path: path.to_path_buf(),
                message: format!("row {}: {e}", n + 2),
            })
        })
        .collect()
}

fn text(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// The postcodes of the open libraries in `libraries_csv`, as [`tidy_postcode`] writes them:
/// other regions leave out their own copy of a library this region lists.
pub fn open_library_postcodes(libraries_csv: &Path) -> Result<HashSet<String>> {
    Ok(read_csv::<Row>(libraries_csv)?
        .iter()
        .filter(|r| r.closed.trim().is_empty())
        .filter_map(|r| tidy_postcode(&r.postcode))
        .collect())
}

/// Who runs a library, in a sentence, from the dataset's `type`.
fn run_by(kind: &str, authority: &str) -> String {
    match kind.trim() {
        "LAL" => format!("A public library run by {authority}."),
        "CL" => format!("A community library, part of {authority}'s library service."),
        "CRL" => format!("A community-run library, supported by {authority}."),
        "ICL" => "An independent community library.".to_string(),
        _ => format!("A public library in {authority}'s library service."),
    }
}

/// Convert the open libraries to HSDS listings, in file order. Rows without a location are
/// skipped (the directory could not place them); every other open library is listed.
pub fn convert_public_libraries(
    libraries_csv: &Path,
    authorities_csv: &Path,
) -> Result<Vec<Value>> {
    let authorities: HashMap<String, String> = read_csv::<Authority>(authorities_csv)?
        .into_iter()
        .map(|a| (a.authority_id, a.name))
        .collect();
    let mut out = Vec::new();
    for row in read_csv::<Row>(libraries_csv)? {
        if !row.closed.trim().is_empty() {
            continue;
        }
        let (Ok(lat), Ok(lon)) = (row.lat.trim().parse::<f64>(), row.lng.trim().parse::<f64>())
        else {
            continue;
        };
        let authority = authorities
            .get(row.authority_id.trim())
            .map(String::as_str)
            .unwrap_or("the local council");
        let id = format!("epl-{}", row.id.trim());
        let name = row.name.trim();
        let name = if name.to_ascii_lowercase().contains("librar") {
            name.to_string()
        } else {
            format!("{name} Library")
        };
        let mut description = run_by(&row.kind, authority);
        description.push_str(
            " Borrow books and audiobooks, use computers and wifi, and ask for help. \
             Joining a public library is free.",
        );
        let attributes: Vec<Value> = [
            ("access", "drop-in"),
            ("domain", "local-facilities"),
            ("interest", "reading"),
            ("interest", "learning"),
            ("cost", "free"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (g, c))| json!({"id": format!("{id}/attribute/{i}"), "taxonomy_term_id": term_id(g, c)}))
        .collect();
        // HSDS and ORUK require a postcode in an address; without one, the address text
        // becomes the location's description.
        let addresses = match tidy_postcode(&row.postcode) {
            None => json!([]),
            Some(postcode) => json!([{
                "id": format!("{id}/address"),
                "address_1": row.address.trim(),
                "city": authority,
                "postal_code": postcode,
                "country": "GB",
                "address_type": "physical",
            }]),
        };
        let mut listing = json!({
            "id": id,
            "name": name,
            "description": description,
            "status": "active",
            "organization": {
                "id": format!("epl-org-{}", row.authority_id.trim()),
                "name": format!("{authority} Libraries"),
                "description": format!("Public library service for {authority}."),
            },
            "attributes": attributes,
            "service_at_locations": [{
                "id": format!("{id}/sal"),
                "location": {
                    "id": format!("{id}/location"),
                    "location_type": "physical",
                    "name": name,
                    "description": row.address.trim(),
                    "latitude": lat,
                    "longitude": lon,
                    "addresses": addresses,
                },
            }],
        });
        if let Some(e) = text(&row.email) {
            listing["email"] = json!(e);
        }
        // Written as import would read it ("www.…" gains its scheme), so loading the region
        // warns of nothing.
        if let Some(w) = text(&row.url).and_then(signpost_directory::import::web_link) {
            listing["url"] = json!(w);
        }
        if let Some(hours) = text(&row.hours).and_then(|h| h.parse::<f64>().ok()) {
            if hours > 0.0 {
                listing["schedules"] = json!([{
                    "id": format!("{id}/schedule"),
                    "description": format!(
                        "Open about {} hours a week (2023). Check the library's website for today's times.",
                        hours.round()
                    ),
                }]);
            }
        }
        out.push(listing);
    }
    Ok(out)
}
