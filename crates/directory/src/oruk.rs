//! Records as ORUK 3.0 clients expect them.
//!
//! Signpost stores what a source sent, and HSDS sources (ORUK 1.0 feeds above all) often leave
//! out fields ORUK 3.0 marks required: an address's `state_province`, an organization's
//! `description`, a location's `location_type`. On the way out, each missing required text field
//! is sent as "" — present and honest about having no value — rather than invented. The stored
//! record, its hash and the sync API are untouched.
//!
//! A feed keeps the text this makes beside each record (`service_oruk`, and
//! `service_at_location_oruk` for each of its services at locations, written with the listing
//! by `write.rs`), so a page of a list is the stored texts joined, not each record parsed,
//! filled and serialised again per request: that was most of the cost of a page (measured).
//! A directory that publishes nothing keeps no such text, and its records are conformed when
//! read.
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Required text fields of nested ORUK 3.0 objects, by the key that holds them.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "addresses",
        &[
            "address_1",
            "city",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
    ),
    ("organization", &["name", "description"]),
    ("taxonomy_term", &["name", "description"]),
    ("phones", &["number"]),
];

fn fill(object: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        if !object.get(*field).is_some_and(Value::is_string) {
            object.insert(field.to_string(), Value::String(String::new()));
        }
    }
}

/// Fill missing required fields throughout a service record.
pub fn conform(mut record: Value) -> Value {
    walk(&mut record, None);
    record
}

fn walk(value: &mut Value, key: Option<&str>) {
    match value {
        Value::Object(object) => {
            if let Some(fields) = key.and_then(|k| REQUIRED.iter().find(|(name, _)| *name == k)) {
                fill(object, fields.1);
            }
            if key == Some("location") && !object.get("location_type").is_some_and(Value::is_string)
            {
                object.insert("location_type".into(), Value::String("physical".into()));
            }
            for (k, v) in object.iter_mut() {
                walk(v, Some(k.as_str()));
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, key);
            }
        }
        _ => {}
    }
}

/// The `service_at_locations` entry `sal_id` of a conformed service, as ORUK's
/// `/service_at_locations` lists it: with `service_id` and `location_id` added. The first entry
/// with that id, as a service's entries are looked up by id.
pub fn service_at_location(service: &Value, sal_id: &str) -> Option<Value> {
    let mut sal = service["service_at_locations"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == sal_id)?
        .clone();
    sal["service_id"] = service["id"].clone();
    sal["location_id"] = sal["location"]["id"].clone();
    Some(sal)
}

/// A stored record (canonical JSON text), parsed.
pub(crate) fn parse(record: &str) -> Result<Value> {
    serde_json::from_str(record).map_err(|e| Error::Corrupt(format!("stored record: {e}")))
}

/// The ORUK text of a stored record.
pub(crate) fn service_text(record: &str) -> Result<String> {
    Ok(to_text(&conform(parse(record)?)))
}

/// The ORUK text of the service at location `sal_id` of a stored record, if it has one.
pub(crate) fn service_at_location_text(record: &str, sal_id: &str) -> Result<Option<String>> {
    Ok(service_at_location(&conform(parse(record)?), sal_id).map(|sal| to_text(&sal)))
}

/// The name of the mark every service (and service at location) carries when served with a
/// day to judge freshness on: `true` when its publisher last checked it (`assured_date`) over a
/// year before that day. An extension property: the ORUK 3.0 schemas allow properties they do
/// not name (none sets `additionalProperties`), and the `signpost_` prefix keeps it apart from
/// any field a later HSDS or ORUK version may add.
pub const OUT_OF_DATE_MARK: &str = "signpost_may_be_out_of_date";

/// An ORUK text (a JSON object) with the freshness mark added as its first property: the text
/// is spliced, not parsed, so marking a page costs a copy of its texts and no more. The mark
/// depends on the day it is served, so it is added when serving and never stored.
pub fn with_mark(text: &str, may_be_out_of_date: bool) -> String {
    let rest = text.trim_start().strip_prefix('{').unwrap_or(text);
    let mut out = String::with_capacity(text.len() + OUT_OF_DATE_MARK.len() + 10);
    out.push_str("{\"");
    out.push_str(OUT_OF_DATE_MARK);
    out.push_str("\":");
    out.push_str(if may_be_out_of_date { "true" } else { "false" });
    if !rest.trim_start().starts_with('}') {
        out.push(',');
    }
    out.push_str(rest);
    out
}

/// Compact JSON with sorted keys, as `serde_json` writes a `Value`: the same bytes a handler
/// serialising the value would have sent.
pub(crate) fn to_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_required_nested_text_and_leaves_the_rest() {
        let record = json!({"id": "s", "name": "n", "status": "active",
            "organization": {"id": "o", "name": "Org"},
            "service_at_locations": [{"id": "sal", "location": {"id": "l",
                "addresses": [{"city": "Bristol", "postal_code": 5}]}}]});
        let out = conform(record);
        assert_eq!(out["organization"]["description"], "");
        assert_eq!(out["organization"]["name"], "Org");
        let location = &out["service_at_locations"][0]["location"];
        assert_eq!(location["location_type"], "physical");
        assert_eq!(location["addresses"][0]["city"], "Bristol");
        assert_eq!(
            location["addresses"][0]["postal_code"], "",
            "a number where text is required is not text"
        );
        assert_eq!(location["addresses"][0]["state_province"], "");
        assert!(
            out.get("description").is_none(),
            "optional fields stay absent"
        );
    }

    #[test]
    fn the_mark_is_spliced_into_the_object() {
        for (text, stale) in [
            (r#"{"id":"s","name":"n"}"#, true),
            ("{}", false),
            (" { } ", true),
        ] {
            let marked: Value = serde_json::from_str(&with_mark(text, stale)).unwrap();
            let mut expected: Value = serde_json::from_str(text).unwrap();
            expected[OUT_OF_DATE_MARK] = Value::Bool(stale);
            assert_eq!(marked, expected);
        }
    }

    #[test]
    fn a_service_at_location_names_its_service_and_location() {
        let service = json!({"id": "s", "service_at_locations": [
            {"id": "a", "location": {"id": "l1"}}, {"id": "b", "location": {"id": "l2"}}]});
        let sal = service_at_location(&service, "b").unwrap();
        assert_eq!(sal["service_id"], "s");
        assert_eq!(sal["location_id"], "l2");
        assert!(service_at_location(&service, "c").is_none());
    }
}
