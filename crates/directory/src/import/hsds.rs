//! HSDS 3.0 and ORUK 3.0 JSON: response envelopes, and the v1 names ORUK 3.0 kept.
use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::RawRecord;

/// Where a paged response keeps its records: HSDS/ORUK 3.0, then ORUK 1.0.
const LIST_KEYS: [&str; 2] = ["contents", "content"];

/// The records of a JSON file, checked as JSON but left as text where they come as a list (a
/// plain array, or the list of a paged response), which is how large files come. Other shapes
/// (one service, an organization with its services) are small and built as values.
pub fn records_from_text(bytes: &[u8]) -> Result<Vec<RawRecord>, String> {
    let not_json = |e: serde_json::Error| format!("is not valid JSON: {e}");
    let text = |items: Vec<Box<RawValue>>| items.into_iter().map(RawRecord::Text).collect();
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return serde_json::from_slice(bytes).map(text).map_err(not_json);
    }
    let fields: HashMap<String, Box<RawValue>> = serde_json::from_slice(bytes).map_err(not_json)?;
    for key in LIST_KEYS {
        if let Some(list) = fields.get(key).filter(|v| v.get().starts_with('[')) {
            return serde_json::from_str(list.get()).map(text).map_err(not_json);
        }
    }
    let value: Value = serde_json::from_slice(bytes).map_err(not_json)?;
    Ok(records_from_json(value)?
        .into_iter()
        .map(RawRecord::Parsed)
        .collect())
}

/// Pull the service records out of any JSON shape a feed serves.
pub fn records_from_json(value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => {
            for key in LIST_KEYS {
                if let Some(Value::Array(_)) = map.get(key) {
                    let Some(Value::Array(items)) = map.remove(key) else {
                        unreachable!("checked above")
                    };
                    return Ok(items);
                }
            }
            // organization_full: its services, each given the organization.
            if let Some(Value::Array(_)) = map.get("services") {
                let Some(Value::Array(services)) = map.remove("services") else {
                    unreachable!("checked above")
                };
                let org = Value::Object(
                    map.into_iter()
                        .filter(|(k, _)| {
                            ["id", "name", "description", "email", "website", "url"]
                                .contains(&k.as_str())
                        })
                        .collect(),
                );
                return Ok(services
                    .into_iter()
                    .map(|mut s| {
                        if let Some(obj) = s.as_object_mut() {
                            obj.entry("organization").or_insert_with(|| org.clone());
                        }
                        s
                    })
                    .collect());
            }
            if map.contains_key("id") && map.contains_key("name") {
                return Ok(vec![Value::Object(map)]);
            }
            Err("is JSON, but not an HSDS or ORUK service, list of services, or paged response \
                 (expected \"contents\", \"content\", an array, or an object with \"id\" and \"name\")"
                .into())
        }
        _ => Err("is JSON, but not an object or array of services".into()),
    }
}

fn rename(obj: &mut Map<String, Value>, old: &str, new: &str) {
    if !obj.contains_key(new) {
        if let Some(v) = obj.remove(old) {
            obj.insert(new.to_string(), v);
        }
    }
}

fn each_in<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flat_map(|a| a.iter_mut().filter_map(Value::as_object_mut))
}

/// Give every nested object without an id a stable one derived from its parent, so the same
/// input always hashes the same and a re-import is a no-op.
fn fill_ids(obj: &mut Map<String, Value>, parent: &str) {
    for (key, value) in obj.iter_mut() {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Some(child) = item.as_object_mut() {
                        let id = match child.get("id").and_then(Value::as_str) {
                            Some(id) if !id.is_empty() => id.to_string(),
                            _ => {
                                let id = format!("{parent}/{key}/{i}");
                                child.insert("id".into(), Value::String(id.clone()));
                                id
                            }
                        };
                        fill_ids(child, &id);
                    }
                }
            }
            Value::Object(child)
                if key == "location" || key == "organization" || key == "taxonomy_term" =>
            {
                let id = match child.get("id").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => id.to_string(),
                    _ => {
                        let id = format!("{parent}/{key}");
                        child.insert("id".into(), Value::String(id.clone()));
                        id
                    }
                };
                fill_ids(child, &id);
            }
            _ => {}
        }
    }
}

/// Drop `null` members, so that "absent" and "null" hash the same.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Bring an HSDS 3.0 / ORUK 3.0 service to the one shape Signpost stores.
pub fn normalise(value: &mut Value) {
    drop_nulls(value);
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    // ORUK 3.0 keeps some v1 names.
    rename(obj, "fees", "fees_description");
    for area in each_in(obj, "service_areas") {
        rename(area, "service_area", "name");
    }
    for attr in each_in(obj, "attributes") {
        if let Some(term) = attr.get_mut("taxonomy_term").and_then(Value::as_object_mut) {
            rename(term, "term", "name");
        }
    }
    for lang in each_in(obj, "languages") {
        rename(lang, "language", "name");
    }
    for sal in each_in(obj, "service_at_locations") {
        if let Some(loc) = sal.get_mut("location").and_then(Value::as_object_mut) {
            for a in each_in(loc, "accessibility") {
                rename(a, "accessibility", "description");
            }
        }
    }
    if let Some(org) = obj.get_mut("organization").and_then(Value::as_object_mut) {
        rename(org, "url", "website");
    }
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    fill_ids(obj, &id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes() {
        assert_eq!(
            records_from_json(json!({"contents": [1, 2]}))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            records_from_json(json!({"content": [1], "totalElements": 1}))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(records_from_json(json!([{"id": "a"}])).unwrap().len(), 1);
        assert_eq!(
            records_from_json(json!({"id": "a", "name": "b"}))
                .unwrap()
                .len(),
            1
        );
        let org = records_from_json(json!({"id": "o", "name": "Org", "services": [{"id": "s"}]}))
            .unwrap();
        assert_eq!(org[0]["organization"]["name"], "Org");
        assert!(records_from_json(json!({"hello": 1})).is_err());
    }

    #[test]
    fn normalise_is_stable_and_fills_ids() {
        let mut a = json!({"id": "s", "fees": "£2", "phones": [{"number": "1"}], "email": null,
                           "service_at_locations": [{"location": {"latitude": 1}}]});
        normalise(&mut a);
        assert_eq!(a["fees_description"], "£2");
        assert_eq!(a["phones"][0]["id"], "s/phones/0");
        assert_eq!(
            a["service_at_locations"][0]["id"],
            "s/service_at_locations/0"
        );
        assert_eq!(
            a["service_at_locations"][0]["location"]["id"],
            "s/service_at_locations/0/location"
        );
        assert!(a.get("email").is_none());
        let mut b = a.clone();
        normalise(&mut b);
        assert_eq!(a, b);
    }
}
