//! Records as ORUK 3.0 clients expect them.
//!
//! Signpost stores what a source sent, and HSDS sources (ORUK 1.0 feeds above all) often leave
//! out fields ORUK 3.0 marks required: an address's `state_province`, an organization's
//! `description`, a location's `location_type`. On the way out, each missing required text field
//! is sent as "" — present and honest about having no value — rather than invented. The stored
//! record, its hash and the sync API are untouched.
use serde_json::{Map, Value};

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
pub fn service(mut record: Value) -> Value {
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
