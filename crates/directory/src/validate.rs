//! Validation of every incoming record against `assets-schema/listing.schema.json`.
//!
//! The schema is the single source of truth for what a listing may look like; this module only
//! compiles it once and turns the validator's errors into (field, message) pairs.
use std::sync::OnceLock;

use serde_json::Value;

const SCHEMA: &str = include_str!("../../../assets-schema/listing.schema.json");

/// At most this many problems are reported per record: the first few say what is wrong.
const MAX_ERRORS_PER_RECORD: usize = 5;

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(SCHEMA).expect("listing schema is valid JSON (tested)");
        jsonschema::validator_for(&schema).expect("listing schema compiles (tested)")
    })
}

/// The listing JSON Schema, for publishing (e.g. by the feed server).
pub fn listing_schema() -> &'static str {
    SCHEMA
}

/// Problems with a record as (JSON pointer of the field, message). Empty means valid.
pub fn listing_errors(record: &Value) -> Vec<(String, String)> {
    let v = validator();
    if v.is_valid(record) {
        return Vec::new();
    }
    v.iter_errors(record)
        .take(MAX_ERRORS_PER_RECORD)
        .map(|e| {
            let mut message = e.to_string();
            if message.len() > 300 {
                let cut = (0..=300)
                    .rev()
                    .find(|&i| message.is_char_boundary(i))
                    .unwrap_or(0);
                message.truncate(cut);
                message.push('…');
            }
            let mut field = e.instance_path().to_string();
            // A missing property is reported at the object that lacks it; the field at fault
            // is the property itself, as a JSON pointer token (`~` and `/` escaped).
            if let jsonschema::error::ValidationErrorKind::Required {
                property: Value::String(name),
            } = e.kind()
            {
                field.push('/');
                field.push_str(&name.replace('~', "~0").replace('/', "~1"));
            }
            (field, message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_compiles_and_checks() {
        assert!(listing_errors(&json!({"id": "a", "name": "b", "status": "active"})).is_empty());
        let errors = listing_errors(&json!({"id": "a", "name": "b", "status": "active",
            "schedules": [{"byday": "XX"}]}));
        assert_eq!(errors[0].0, "/schedules/0/byday");
        // A missing required field is named, not its parent.
        let errors = listing_errors(&json!({"id": "a", "status": "active",
            "service_at_locations": [{"location": {}}]}));
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"/name"), "{errors:?}");
    }
}
