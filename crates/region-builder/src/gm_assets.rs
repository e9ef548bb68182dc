//! Converting the Greater Manchester community assets table into HSDS listings, a second real
//! region (`regions/greater-manchester/`).
//!
//! Source: Trafford Council's Data Lab, 5,387 assets from 19 open datasets normalised into one
//! table: `id,source_file,category,subcategory,name,description,address,postcode,latitude,
//! longitude,location_source,phone,email,website,opening_hours,lad_code,lad_name`.
//!
//! Only what the category makes certain is added as Signpost taxonomy: a park is drop-in and
//! free, a GP practice is health and social care. Nothing is guessed beyond that: a food bank's
//! access route varies, so it is left unknown. Free-text opening hours stay as a schedule
//! description, so "open now" reports unknown rather than a wrong answer.
use std::collections::HashSet;
use std::path::Path;

use serde_json::{json, Value};

use signpost_directory::taxonomy::term_id;

use crate::error::{Error, Result};
use crate::public_libraries::tidy_postcode;

#[derive(Debug, serde::Deserialize)]
struct Row {
    id: String,
    category: String,
    subcategory: String,
    name: String,
    description: String,
    address: String,
    postcode: String,
    latitude: String,
    longitude: String,
    phone: String,
    email: String,
    website: String,
    opening_hours: String,
    lad_name: String,
}

/// (group, code) terms a category implies.
fn terms(category: &str) -> &'static [(&'static str, &'static str)] {
    match category {
        "library" => &[
            ("access", "drop-in"),
            ("domain", "local-facilities"),
            ("interest", "reading"),
            ("interest", "learning"),
            ("cost", "free"),
        ],
        "park" | "green_space" => &[
            ("access", "drop-in"),
            ("domain", "local-facilities"),
            ("interest", "nature"),
            ("interest", "walking"),
            ("cost", "free"),
        ],
        "allotment" => &[
            ("domain", "personal-interests"),
            ("interest", "nature"),
            ("interest", "food"),
        ],
        "place_of_worship" => &[("domain", "personal-relationships"), ("interest", "faith")],
        "sports_facility" => &[("domain", "local-facilities"), ("interest", "sport")],
        "sports_club" => &[("domain", "personal-interests"), ("interest", "sport")],
        "food_bank" => &[("domain", "local-facilities"), ("interest", "food")],
        "community_venue" => &[("domain", "local-facilities"), ("interest", "social")],
        "jobcentre" => &[
            ("domain", "local-facilities"),
            ("interest", "work"),
            ("interest", "money"),
        ],
        "childrens_centre" => &[("domain", "personal-relationships"), ("interest", "carers")],
        "mental_health_support" => &[
            ("domain", "health-and-social-care"),
            ("interest", "peer-support"),
        ],
        "gp_practice" | "dentist" | "pharmacy" | "hospital_or_clinic" | "care_home" => {
            &[("domain", "health-and-social-care")]
        }
        _ => &[],
    }
}

fn text(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// Whether the asset is in the ten boroughs: it names one, or its point is within their bounds.
/// Some charities in the source are registered in Greater Manchester but placed elsewhere (a
/// trust in Bristol); a person in Bristol should not meet them as Greater Manchester assets.
fn in_greater_manchester(row: &Row) -> bool {
    if text(&row.lad_name).is_some() {
        return true;
    }
    let lat = row.latitude.trim().parse::<f64>();
    let lon = row.longitude.trim().parse::<f64>();
    match (lat, lon) {
        (Ok(lat), Ok(lon)) => (53.32..=53.69).contains(&lat) && (-2.74..=-1.90).contains(&lon),
        // With no point it is placed by nothing, and kept as the source has it.
        _ => true,
    }
}

/// Convert the assets CSV into HSDS listings, in file order. A library whose postcode is in
/// `listed_libraries` is left out: the England-wide libraries region lists it already, with
/// whether it is still open.
pub fn convert_gm_assets(
    csv_path: &Path,
    listed_libraries: &HashSet<String>,
) -> Result<Vec<Value>> {
    let mut reader = csv::Reader::from_path(csv_path).map_err(|e| Error::Source {
        path: csv_path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (n, row) in reader.deserialize::<Row>().enumerate() {
        let row: Row = row.map_err(|e| Error::Source {
            path: csv_path.to_path_buf(),
            message: format!("row {}: {e}", n + 2),
        })?;
        if row.category == "library"
            && tidy_postcode(&row.postcode).is_some_and(|p| listed_libraries.contains(&p))
        {
            continue;
        }
        if !in_greater_manchester(&row) {
            continue;
        }
        let id = row.id.clone();
        let attributes: Vec<Value> = terms(&row.category)
            .iter()
            .enumerate()
            .map(|(i, (g, c))| json!({"id": format!("{id}/attribute/{i}"), "taxonomy_term_id": term_id(g, c)}))
            .collect();
        // HSDS and ORUK require a postcode in an address; without one, the address text
        // becomes the location's description.
        let addresses = match text(&row.postcode) {
            None => json!([]),
            Some(postcode) => json!([{
                "id": format!("{id}/address"),
                "address_1": row.address,
                "city": text(&row.lad_name).unwrap_or("Greater Manchester"),
                "state_province": "Greater Manchester",
                "postal_code": postcode,
                "country": "GB",
                "address_type": "physical",
            }]),
        };
        let mut listing = json!({
            "id": id,
            "name": row.name.trim(),
            "status": "active",
            "attributes": attributes,
            "service_at_locations": [{
                "id": format!("{id}/sal"),
                "location": {
                    "id": format!("{id}/location"),
                    "location_type": "physical",
                    "name": row.name.trim(),
                    "description": row.address,
                    "latitude": row.latitude.trim().parse::<f64>().ok(),
                    "longitude": row.longitude.trim().parse::<f64>().ok(),
                    "addresses": addresses,
                },
            }],
        });
        let description = text(&row.description).or(text(&row.subcategory));
        if let Some(d) = description {
            listing["description"] = json!(d);
        }
        if let Some(e) = text(&row.email) {
            listing["email"] = json!(e);
        }
        // Written as import would read it ("www.…" gains its scheme), so loading the region
        // warns of nothing.
        if let Some(w) = text(&row.website).and_then(signpost_directory::import::web_link) {
            listing["url"] = json!(w);
        }
        if let Some(p) = text(&row.phone) {
            listing["phones"] = json!([{"id": format!("{id}/phone"), "number": p}]);
        }
        if let Some(h) = text(&row.opening_hours) {
            listing["schedules"] = json!([{"id": format!("{id}/schedule"), "description": h}]);
        }
        out.push(listing);
    }
    Ok(out)
}
