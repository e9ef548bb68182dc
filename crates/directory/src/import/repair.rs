//! What real exports commonly hold, made usable, and what is unsafe to show, taken out.
//!
//! Real directories' exports leave `status` empty and write times as `9:00am`; read strictly,
//! a 211 directory's 4,089 services imported none. Links and text are shown to people, so a
//! `javascript:` link or a right-to-left override must not reach them. Every change is a
//! warning naming the record's field, so the publisher can see what to fix; anything that
//! cannot be read with confidence is left for validation to refuse and name.
use std::fmt::Write;

use serde_json::{Map, Value};

/// The statuses HSDS allows, as the listing schema spells them.
const STATUSES: [&str; 4] = ["active", "inactive", "defunct", "temporarily closed"];

/// Link schemes a listing may carry: web pages, email and phone. The app opens only these.
const LINK_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tel"];

/// Fields that hold links, wherever they are in a record.
const LINK_FIELDS: [&str; 2] = ["url", "website"];

/// Characters that reorder how text is displayed (Unicode bidirectional controls), so that a
/// name can show as something other than what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Normalise and clean one record in place, telling `warn` (JSON pointer, what changed) about
/// each change.
pub fn repair(value: &mut Value, warn: &mut dyn FnMut(String, String)) {
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    status(obj, warn);
    if let Some(list) = obj.get_mut("schedules") {
        times(list, &|| "/schedules".to_string(), warn);
    }
    if let Some(sals) = obj
        .get_mut("service_at_locations")
        .and_then(Value::as_array_mut)
    {
        for (i, sal) in sals.iter_mut().enumerate() {
            if let Some(list) = sal.get_mut("schedules") {
                times(
                    list,
                    &|| format!("/service_at_locations/{i}/schedules"),
                    warn,
                );
            }
        }
    }
    let mut pointer = String::new();
    clean_text(value, &mut pointer, None, warn);
}

/// An empty or missing status means active (real exports leave the column empty); a status in
/// other capitals is the status.
fn status(obj: &mut Map<String, Value>, warn: &mut dyn FnMut(String, String)) {
    // A CSV's empty cell and a JSON's missing or null status are the same thing.
    let (fixed, message) = match obj.get("status") {
        None => ("active", "was empty; read as active".to_string()),
        Some(Value::String(s)) if s.trim().is_empty() => {
            ("active", "was empty; read as active".to_string())
        }
        Some(Value::String(s)) => {
            match STATUSES
                .iter()
                .find(|known| s.as_str() != **known && s.trim().eq_ignore_ascii_case(known))
            {
                Some(known) => (*known, format!("{s:?} read as {known:?}")),
                None => return,
            }
        }
        Some(_) => return,
    };
    obj.insert("status".into(), Value::String(fixed.into()));
    warn("/status".into(), message);
}

/// Opening and closing times written the 12-hour way, or with a one-digit hour, as `HH:MM`.
fn times(list: &mut Value, at: &dyn Fn() -> String, warn: &mut dyn FnMut(String, String)) {
    let Some(items) = list.as_array_mut() else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        let Some(obj) = item.as_object_mut() else {
            continue;
        };
        for key in ["opens_at", "closes_at"] {
            if let Some(Value::String(time)) = obj.get_mut(key) {
                if let Some(fixed) = twenty_four_hour(time) {
                    warn(
                        format!("{}/{i}/{key}", at()),
                        format!("{time:?} read as {fixed}"),
                    );
                    *time = fixed;
                }
            }
        }
    }
}

/// `9:00am` is `09:00`, `5:00pm` `17:00`, `12:30 pm` `12:30`, `12am` `00:00`, `9:30` `09:30`.
/// `None` for a time already written `HH:MM`, or one that cannot be read for certain (which
/// validation then refuses, naming it).
fn twenty_four_hour(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    let (clock, pm) = if let Some(c) = lower
        .strip_suffix("am")
        .or_else(|| lower.strip_suffix("a.m."))
    {
        (c.trim_end(), Some(false))
    } else if let Some(c) = lower
        .strip_suffix("pm")
        .or_else(|| lower.strip_suffix("p.m."))
    {
        (c.trim_end(), Some(true))
    } else {
        (lower.as_str(), None)
    };
    let (hour, rest) = match clock.find([':', '.']) {
        Some(at) => (&clock[..at], Some((&clock[at..at + 1], &clock[at + 1..]))),
        None => (clock, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(hour, 1) || digits(hour, 2)) {
        return None;
    }
    let (separator, minutes, seconds) = match rest {
        Some((sep, rest)) => match rest.split_once(':') {
            Some((m, s)) if digits(s, 2) => (sep, m, Some(s)),
            Some(_) => return None,
            None => (sep, rest, None),
        },
        // A bare hour is only a time with am or pm: "9am".
        None if pm.is_some() => (":", "00", None),
        None => return None,
    };
    if !digits(minutes, 2) || minutes > "59" || seconds.is_some_and(|s| s > "59") {
        return None;
    }
    let hour: u32 = hour.parse().ok()?;
    let hour = match pm {
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(pm) => hour % 12 + if pm { 12 } else { 0 },
        None if hour > 24 => return None,
        // Already HH:MM: nothing to do.
        None if separator == ":" && clock.find(':') == Some(2) => return None,
        None => hour,
    };
    let mut out = format!("{hour:02}:{minutes}");
    if let Some(s) = seconds {
        out.push(':');
        out.push_str(s);
    }
    Some(out)
}

/// Take bidirectional controls out of every text but ids, and unsafe links out of link
/// fields. `pointer` is the JSON pointer of `value`; `key` the name it has in its object.
fn clean_text(
    value: &mut Value,
    pointer: &mut String,
    key: Option<&str>,
    warn: &mut dyn FnMut(String, String),
) {
    match value {
        Value::String(text) => {
            let is_id = key.is_some_and(|k| k == "id" || k.ends_with("_id"));
            // Every bidirectional control is encoded starting with one of these two bytes, so
            // almost every text is passed over at memchr's speed.
            if !is_id && memchr::memchr2(0xE2, 0xD8, text.as_bytes()).is_some() {
                let before = text.chars().count();
                if text.contains(is_bidi_control) {
                    text.retain(|c| !is_bidi_control(c));
                    let removed = before - text.chars().count();
                    warn(
                        pointer.clone(),
                        format!(
                            "{removed} bidirectional control character{} removed",
                            if removed == 1 { "" } else { "s" }
                        ),
                    );
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = pointer.len();
                let _ = write!(pointer, "/{i}");
                clean_text(item, pointer, None, warn);
                pointer.truncate(len);
            }
        }
        Value::Object(fields) => {
            let mut dropped = Vec::new();
            for (name, field) in fields.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                // Escaped as JSON Pointer says; without allocating, since this runs for every
                // field of every record.
                for c in name.chars() {
                    match c {
                        '~' => pointer.push_str("~0"),
                        '/' => pointer.push_str("~1"),
                        c => pointer.push(c),
                    }
                }
                clean_text(field, pointer, Some(name), warn);
                if LINK_FIELDS.contains(&name.as_str()) {
                    if let Value::String(link) = field {
                        match check_link(link) {
                            Link::Keep => {}
                            Link::Replace(fixed, message) => {
                                warn(pointer.clone(), message);
                                *link = fixed;
                            }
                            Link::Drop(message) => {
                                warn(pointer.clone(), message);
                                dropped.push(name.clone());
                            }
                        }
                    }
                }
                pointer.truncate(len);
            }
            if !dropped.is_empty() {
                fields.retain(|name, _| !dropped.contains(name));
            }
        }
        _ => {}
    }
}

/// A link as import keeps it: unchanged, given its scheme, or `None` when it would be dropped.
pub fn web_link(link: &str) -> Option<String> {
    match check_link(link) {
        Link::Keep => Some(link.to_string()),
        Link::Replace(fixed, _) => Some(fixed),
        Link::Drop(_) => None,
    }
}

enum Link {
    Keep,
    Replace(String, String),
    Drop(String),
}

/// Whether a link may be kept. Parsed the way browsers parse it (the WHATWG URL standard), so
/// `java\tscript:` or ` javascript:` are seen for what they are.
fn check_link(link: &str) -> Link {
    let trimmed = link.trim();
    if trimmed.is_empty() {
        return Link::Keep;
    }
    match url::Url::parse(trimmed) {
        Ok(parsed) if LINK_SCHEMES.contains(&parsed.scheme()) => Link::Keep,
        Ok(parsed) => Link::Drop(format!(
            "a {}: link was dropped (only http, https, mailto and tel links are kept)",
            parsed.scheme()
        )),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            // "www.example.org/page": a web address written without its scheme, as people do.
            let host = trimmed.split(['/', '?', '#']).next().unwrap_or_default();
            let web = format!("https://{trimmed}");
            if host.contains('.')
                && !trimmed.contains(char::is_whitespace)
                && url::Url::parse(&web).is_ok()
            {
                let message = format!("{trimmed:?} had no scheme; read as {web}");
                Link::Replace(web, message)
            } else {
                Link::Drop("is not a web address; dropped".into())
            }
        }
        Err(e) => Link::Drop(format!("is not a web address ({e}); dropped")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repaired(mut value: Value) -> (Value, Vec<(String, String)>) {
        let mut warnings = Vec::new();
        repair(&mut value, &mut |field, message| {
            warnings.push((field, message))
        });
        (value, warnings)
    }

    #[test]
    fn twelve_hour_times() {
        for (text, expected) in [
            ("9:00am", Some("09:00")),
            ("5:00pm", Some("17:00")),
            ("12:30 pm", Some("12:30")),
            ("12:00 AM", Some("00:00")),
            ("12am", Some("00:00")),
            ("9am", Some("09:00")),
            ("9.30 p.m.", Some("21:30")),
            ("9:30", Some("09:30")),
            ("09:30", None),
            ("17:00:00", None),
            ("9:00:00", Some("09:00:00")),
            ("13:00pm", None),
            ("0am", None),
            ("9:60am", None),
            ("25:00", None),
            ("noonish", None),
            ("9", None),
            ("", None),
        ] {
            assert_eq!(twenty_four_hour(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn normalises_with_a_warning_per_field() {
        let (v, warnings) = repaired(json!({"id": "s", "name": "n", "status": "",
            "schedules": [{"opens_at": "9:00am", "closes_at": "5:00pm"}],
            "service_at_locations": [{"schedules": [{"opens_at": "12:30 pm", "closes_at": "14:00"}]}]}));
        assert_eq!(v["status"], "active");
        assert_eq!(v["schedules"][0]["opens_at"], "09:00");
        assert_eq!(v["schedules"][0]["closes_at"], "17:00");
        assert_eq!(
            v["service_at_locations"][0]["schedules"][0]["opens_at"],
            "12:30"
        );
        let fields: Vec<&str> = warnings.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "/status",
                "/schedules/0/opens_at",
                "/schedules/0/closes_at",
                "/service_at_locations/0/schedules/0/opens_at"
            ]
        );
        let (v, warnings) = repaired(json!({"id": "s", "status": "Active"}));
        assert_eq!(v["status"], "active");
        assert_eq!(warnings.len(), 1);
        let (_, warnings) = repaired(json!({"id": "s", "status": "open"}));
        assert!(warnings.is_empty(), "left for validation to refuse");
    }

    #[test]
    fn unsafe_links_and_bidi_controls_are_removed() {
        let (v, warnings) = repaired(json!({"id": "s\u{202E}", "name": "Safe\u{202E}txt.exe",
            "status": "active", "url": "javascript:alert(4)",
            "email": "a@example.org",
            "organization": {"id": "o", "name": "\u{2067}Org\u{2069}", "website": "java\tscript:alert(1)"},
            "contacts": [{"name": "Ann", "email": "x"}],
            "service_at_locations": [{"location": {"accessibility": [{"url": "www.example.org/access"}]}}],
            "description": "Café – fine ’quotes’"}));
        assert_eq!(v["name"], "Safetxt.exe");
        assert_eq!(v["id"], "s\u{202E}", "ids are identities, not text shown");
        assert_eq!(v["organization"]["name"], "Org");
        assert!(v.get("url").is_none());
        assert!(v["organization"].get("website").is_none());
        assert_eq!(
            v["service_at_locations"][0]["location"]["accessibility"][0]["url"],
            "https://www.example.org/access"
        );
        assert_eq!(v["description"], "Café – fine ’quotes’");
        let fields: Vec<&str> = warnings.iter().map(|(f, _)| f.as_str()).collect();
        for field in [
            "/name",
            "/url",
            "/organization/name",
            "/organization/website",
            "/service_at_locations/0/location/accessibility/0/url",
        ] {
            assert!(fields.contains(&field), "{field}: {warnings:?}");
        }
        assert_eq!(warnings.len(), 5, "{warnings:?}");
        let (_, warnings) = repaired(json!({"id": "s", "status": "active",
            "extra": {"a/b~c": ["\u{200F}x"]}}));
        assert_eq!(warnings[0].0, "/extra/a~1b~0c/0");
        for link in [
            "https://example.org",
            "http://x.org/a?b#c",
            "mailto:a@b.org",
            "tel:+441234567890",
            "",
        ] {
            assert!(matches!(check_link(link), Link::Keep), "{link}");
        }
        for link in [
            "data:text/html,x",
            " JavaScript:alert(1)",
            "file:///etc/passwd",
            "not a link",
        ] {
            assert!(matches!(check_link(link), Link::Drop(_)), "{link}");
        }
    }
}
