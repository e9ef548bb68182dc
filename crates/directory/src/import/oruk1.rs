//! ORUK 1.0 (the format most live UK council feeds still serve) mapped to HSDS 3.0.
//!
//! v1 nests differently and names things differently: `regular_schedules` with a `weekday`,
//! `physical_addresses`, `accessibility_for_disabilities`, `service_taxonomys`, `eligibilitys`.
//! Each is moved to its HSDS 3.0 place; anything else is left where it was.
use serde_json::{json, Map, Value};

/// True when a record uses v1 names.
pub fn looks_like_v1(value: &Value) -> bool {
    let Some(obj) = value.as_object() else {
        return false;
    };
    [
        "regular_schedules",
        "service_taxonomys",
        "eligibilitys",
        "holiday_schedules",
    ]
    .iter()
    .any(|k| obj.contains_key(*k))
        || obj
            .get("service_at_locations")
            .and_then(Value::as_array)
            .is_some_and(|sals| {
                sals.iter().any(|s| {
                    s.get("location").is_some_and(|l| {
                        l.get("physical_addresses").is_some()
                            || l.get("accessibility_for_disabilities").is_some()
                    }) || s.get("regular_schedules").is_some()
                })
            })
}

fn weekday_code(day: &str) -> Option<&'static str> {
    let d = day.trim().to_ascii_lowercase();
    Some(match d.get(..3)? {
        "mon" => "MO",
        "tue" => "TU",
        "wed" => "WE",
        "thu" => "TH",
        "fri" => "FR",
        "sat" => "SA",
        "sun" => "SU",
        _ => return None,
    })
}

/// v1 schedules (`weekday` names) as HSDS 3.0 ones (`byday`, weekly).
pub(super) fn schedules_v1(list: Value) -> Value {
    let Value::Array(items) = list else {
        return Value::Array(vec![]);
    };
    Value::Array(
        items
            .into_iter()
            .map(|mut s| {
                if let Some(obj) = s.as_object_mut() {
                    if let Some(day) = obj.remove("weekday") {
                        if !obj.contains_key("byday") {
                            if let Some(code) = day.as_str().and_then(weekday_code) {
                                obj.insert("byday".into(), json!(code));
                            }
                        }
                        if !obj.contains_key("freq") {
                            obj.insert("freq".into(), json!("WEEKLY"));
                        }
                    }
                }
                s
            })
            .collect(),
    )
}

fn map_array(obj: &mut Map<String, Value>, old: &str, new: &str, f: impl Fn(Value) -> Value) {
    if let Some(Value::Array(items)) = obj.remove(old) {
        let mapped: Vec<Value> = items.into_iter().map(f).collect();
        match obj.get_mut(new).and_then(Value::as_array_mut) {
            Some(existing) => existing.extend(mapped),
            None => {
                obj.insert(new.into(), Value::Array(mapped));
            }
        }
    }
}

/// Map one ORUK 1.0 service to HSDS 3.0.
pub fn to_hsds3(mut value: Value) -> Value {
    let Some(obj) = value.as_object_mut() else {
        return value;
    };
    if let Some(list) = obj.remove("regular_schedules") {
        obj.insert("schedules".into(), schedules_v1(list));
    }
    obj.remove("holiday_schedules");
    map_array(obj, "service_taxonomys", "attributes", |st| {
        let mut term = st.get("taxonomy").cloned().unwrap_or(Value::Null);
        if let Some(t) = term.as_object_mut() {
            if let Some(vocab) = t.remove("vocabulary") {
                t.insert("taxonomy".into(), vocab);
            }
            t.remove("parent");
        }
        let mut attr = json!({ "taxonomy_term": term });
        if let Some(id) = st.get("id") {
            attr["id"] = id.clone();
        }
        attr
    });
    if let Some(Value::Array(eligibilitys)) = obj.remove("eligibilitys") {
        for e in &eligibilitys {
            for key in ["minimum_age", "maximum_age"] {
                if let Some(age) = e.get(key).filter(|v| v.is_number()) {
                    obj.entry(key).or_insert(age.clone());
                }
            }
        }
        let text: Vec<&str> = eligibilitys
            .iter()
            .filter_map(|e| e.get("eligibility").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            obj.entry("eligibility_description")
                .or_insert(json!(text.join("; ")));
        }
    }
    if let Some(Value::Array(sals)) = obj.get_mut("service_at_locations") {
        for sal in sals.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(list) = sal.remove("regular_schedules") {
                sal.insert("schedules".into(), schedules_v1(list));
            }
            sal.remove("holiday_schedules");
            if let Some(loc) = sal.get_mut("location").and_then(Value::as_object_mut) {
                map_array(loc, "physical_addresses", "addresses", |mut a| {
                    if let Some(o) = a.as_object_mut() {
                        o.entry("address_type").or_insert(json!("physical"));
                    }
                    a
                });
                map_array(
                    loc,
                    "accessibility_for_disabilities",
                    "accessibility",
                    |mut a| {
                        if let Some(o) = a.as_object_mut() {
                            if let Some(text) = o.remove("accessibility") {
                                o.insert("description".into(), text);
                            }
                        }
                        a
                    },
                );
                loc.entry("location_type").or_insert(json!("physical"));
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_v1_fields() {
        let v1 = json!({
            "id": "s1", "name": "Walk", "status": "active",
            "organization": {"id": "o", "name": "Org", "url": "https://example.org"},
            "regular_schedules": [{"id": "r", "weekday": "Tuesday", "opens_at": "10:00", "closes_at": "12:00"}],
            "service_taxonomys": [{"id": "t", "taxonomy": {"id": "x", "name": "Walking", "vocabulary": "esdInterest"}}],
            "eligibilitys": [{"eligibility": "Adults", "minimum_age": 18}],
            "service_at_locations": [{"id": "sal", "location": {"id": "l", "latitude": 51.4, "longitude": -2.6,
                "physical_addresses": [{"id": "a", "address_1": "1 High St", "postal_code": "BS3 4AB"}],
                "accessibility_for_disabilities": [{"id": "acc", "accessibility": "Wheelchair accessible"}]}}]
        });
        assert!(looks_like_v1(&v1));
        let v3 = to_hsds3(v1);
        assert_eq!(v3["schedules"][0]["byday"], "TU");
        assert_eq!(v3["schedules"][0]["freq"], "WEEKLY");
        assert_eq!(v3["attributes"][0]["taxonomy_term"]["name"], "Walking");
        assert_eq!(v3["minimum_age"], 18);
        assert_eq!(v3["eligibility_description"], "Adults");
        let loc = &v3["service_at_locations"][0]["location"];
        assert_eq!(loc["addresses"][0]["postal_code"], "BS3 4AB");
        assert_eq!(
            loc["accessibility"][0]["description"],
            "Wheelchair accessible"
        );
        assert!(!looks_like_v1(&v3));
    }
}
