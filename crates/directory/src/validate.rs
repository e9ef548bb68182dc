//! Validation of every incoming record against `assets-schema/listing.schema.json`.
//!
//! The schema is the single source of truth for what a listing may look like; this module only
//! compiles it once and turns the validator's errors into (field, message) pairs.
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
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
///
/// Messages are whole sentences, never cut: a value too long to quote is described instead
/// ("description is 102,400 characters; the limit is 20,000"), so a 100 KB field cannot push
/// the reason out of a report line.
pub fn listing_errors(record: &Value) -> Vec<(String, String)> {
    let v = validator();
    if v.is_valid(record) {
        return Vec::new();
    }
    v.iter_errors(record)
        .take(MAX_ERRORS_PER_RECORD)
        .map(|e| {
            let mut field = e.instance_path().to_string();
            let message = match (e.kind(), e.instance().as_ref()) {
                // Named as the field it is about, not the object that lacks it.
                (ValidationErrorKind::Required { property }, _) => {
                    let name = property.as_str().unwrap_or_default().to_string();
                    field.push('/');
                    field.push_str(&name.replace('~', "~0").replace('/', "~1"));
                    format!("{name} is required")
                }
                (ValidationErrorKind::MaxLength { limit }, Value::String(text)) => format!(
                    "{} is {} characters; the limit is {}",
                    field_name(&field),
                    thousands(text.chars().count() as u64),
                    thousands(*limit)
                ),
                (_, instance) => match summary(instance) {
                    Some(summary) => e.masked_with(summary).to_string(),
                    None => e.to_string(),
                },
            };
            (field, message)
        })
        .collect()
}

/// Values longer than this are described rather than quoted in a message.
const QUOTE_LIMIT: usize = 120;

/// A short description of a value too long to quote, or `None` to quote it.
fn summary(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if text.len() > QUOTE_LIMIT => Some(format!(
            "a text of {} characters",
            thousands(text.chars().count() as u64)
        )),
        Value::Array(items) if value.to_string().len() > QUOTE_LIMIT => {
            Some(format!("a list of {} items", thousands(items.len() as u64)))
        }
        Value::Object(fields) if value.to_string().len() > QUOTE_LIMIT => Some(format!(
            "an object with {} fields",
            thousands(fields.len() as u64)
        )),
        _ => None,
    }
}

/// The last part of a JSON pointer (`/organization/name` is "name"), or "the record".
fn field_name(pointer: &str) -> &str {
    match pointer.rsplit('/').next() {
        Some(last) if !last.is_empty() => last,
        _ => "the record",
    }
}

/// 102400 as "102,400".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
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

    #[test]
    fn long_values_are_described_not_cut() {
        let errors = listing_errors(&json!({"id": "a", "name": "b", "status": "active",
            "description": "x".repeat(102_400)}));
        assert_eq!(
            errors,
            [(
                "/description".to_string(),
                "description is 102,400 characters; the limit is 20,000".to_string()
            )]
        );
        let errors = listing_errors(&json!({"id": "a", "name": "b", "status": "active",
            "schedules": [{"byday": "X".repeat(5_000)}]}));
        assert_eq!(errors[0].0, "/schedules/0/byday");
        assert!(
            errors[0]
                .1
                .starts_with("a text of 5,000 characters does not match"),
            "{}",
            errors[0].1
        );
        assert!(errors[0].1.len() < 400, "{}", errors[0].1);
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
