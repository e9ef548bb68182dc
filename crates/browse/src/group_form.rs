//! "Add or update your group": the form a VCSE group fills in, turned into an HSDS 3.0 listing
//! (and a listing back into the form, for "this is our group: update it").
//!
//! Every field is checked here, and every problem is returned at once with the form field it
//! belongs to, so the screen can show each beside its field. The listing built is then checked
//! exactly as the feed will check it (`signpost_directory::import::prepare`, the JSON Schema in
//! `assets-schema/` and the stricter rules for submissions), so what the app queues is what the
//! feed accepts.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signpost_directory::import::{self, PreparedBatch};
use signpost_directory::model::ScheduleRecord;
use signpost_directory::schedule;
use signpost_directory::taxonomy::{term_id, Taxonomy};
use signpost_directory::ListingDetail;
use signpost_postcodes::{parse, Gazetteer, PostcodeQuery};

/// One regular session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionForm {
    /// `weekly`, `fortnightly` or `monthly`.
    pub repeat: String,
    /// `MO` … `SU`.
    pub day: String,
    /// For `monthly`: which one in the month, 1 to 4, or -1 for the last.
    pub nth: Option<i8>,
    /// For `fortnightly`: a date it runs, so the right weeks are known.
    pub first_date: Option<NaiveDate>,
    /// Start, `HH:MM`.
    pub opens: String,
    /// End, `HH:MM`.
    pub closes: String,
}

/// The group's form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupForm {
    /// The listing being updated; none for a new one.
    pub service_id: Option<String>,
    /// The group or activity's name.
    pub name: String,
    /// Who runs it.
    pub organization: String,
    /// What happens.
    pub description: String,
    /// Who it is for.
    pub who_for: String,
    /// When.
    pub sessions: Vec<SessionForm>,
    /// Where: a full postcode.
    pub postcode: String,
    /// The venue's name and street, as people would find it.
    pub place: String,
    /// Also (or only) online.
    pub online: bool,
    /// `drop-in`, `self-referral`, `booking-required` or `referral-required`.
    pub access: String,
    /// CMHF domain code.
    pub domain: String,
    /// Interest codes.
    pub interests: Vec<String>,
    /// Free to attend.
    pub free: Option<bool>,
    /// Step-free (wheelchair) access.
    pub wheelchair: bool,
    /// Language codes (ISO 639).
    pub languages: Vec<String>,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
    /// Website.
    pub website: String,
}

/// A problem with one field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormError {
    /// The form's field: `name`, `postcode`, `sessions.0.opens`, …
    pub field: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FormError {
    FormError {
        field: field.into(),
        message: message.into(),
    }
}

const DAYS: [(&str, &str); 7] = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
];

fn time(field: String, text: &str) -> Result<String, FormError> {
    let t = text.trim();
    let ok = t.len() == 5
        && t.as_bytes()[2] == b':'
        && t[..2].parse::<u32>().is_ok_and(|h| h < 24)
        && t[3..].parse::<u32>().is_ok_and(|m| m < 60);
    if ok {
        Ok(t.to_string())
    } else {
        Err(err(
            field,
            format!("{t:?} is not a time; use the 24-hour clock, like 10:00 or 18:30"),
        ))
    }
}

/// A session as an HSDS schedule.
fn schedule_record(i: usize, s: &SessionForm) -> Result<ScheduleRecord, FormError> {
    let f = |name: &str| format!("sessions.{i}.{name}");
    let day = DAYS
        .iter()
        .find(|(c, _)| *c == s.day)
        .map(|(c, _)| *c)
        .ok_or_else(|| err(f("day"), "choose a day"))?;
    let opens = time(f("opens"), &s.opens)?;
    let closes = time(f("closes"), &s.closes)?;
    if closes <= opens {
        return Err(err(f("closes"), "must be after the start"));
    }
    let mut r = ScheduleRecord {
        opens_at: Some(opens),
        closes_at: Some(closes),
        freq: Some("WEEKLY".into()),
        byday: Some(day.into()),
        ..ScheduleRecord::default()
    };
    match s.repeat.as_str() {
        "weekly" => {}
        "fortnightly" => {
            let first = s.first_date.ok_or_else(|| {
                err(
                    f("first_date"),
                    "give a date it runs, so the right weeks are known",
                )
            })?;
            if first.format("%a").to_string()[..2].to_uppercase() != day {
                return Err(err(
                    f("first_date"),
                    format!(
                        "{} is not a {}",
                        first.format("%-d %B %Y"),
                        DAYS.iter()
                            .find(|(c, _)| *c == day)
                            .map(|(_, n)| *n)
                            .unwrap_or(day)
                    ),
                ));
            }
            r.interval = Some(2);
            r.dtstart = Some(first.to_string());
        }
        "monthly" => {
            let n = s.nth.filter(|n| matches!(n, 1..=4 | -1)).ok_or_else(|| {
                err(
                    f("nth"),
                    "choose which one in the month: first to fourth, or last",
                )
            })?;
            r.freq = Some("MONTHLY".into());
            r.byday = Some(format!("{n}{day}"));
        }
        _ => return Err(err(f("repeat"), "choose weekly, fortnightly or monthly")),
    }
    Ok(r)
}

fn record_json(id: String, r: &ScheduleRecord) -> Value {
    json!({
        "id": id, "freq": r.freq, "interval": r.interval, "byday": r.byday,
        "dtstart": r.dtstart, "opens_at": r.opens_at, "closes_at": r.closes_at,
    })
}

/// An id for a new listing from a group: random, so two devices never pick the same one.
pub fn new_listing_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    format!(
        "vcse-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// The sessions in plain English, as the directory will describe them ("Every other Tuesday
/// 10:00–12:00"), for the form to read back what was chosen.
pub fn describe(form: &GroupForm) -> Result<String, Vec<FormError>> {
    let mut errors = Vec::new();
    let records: Vec<ScheduleRecord> = form
        .sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| schedule_record(i, s).map_err(|e| errors.push(e)).ok())
        .collect();
    if errors.is_empty() {
        Ok(schedule::describe_all(&records))
    } else {
        Err(errors)
    }
}

/// Build the HSDS listing, or every problem with the form. `new_id` names a new listing.
pub fn to_listing(form: &GroupForm, new_id: &str) -> Result<Value, Vec<FormError>> {
    let mut errors = Vec::new();
    let tax = Taxonomy::signpost();
    let name = form.name.trim();
    if name.is_empty() {
        errors.push(err("name", "give the group's or activity's name"));
    } else if name.chars().count() > 200 {
        errors.push(err("name", "at most 200 characters"));
    }
    if form.description.trim().is_empty() {
        errors.push(err("description", "say what happens, in a sentence or two"));
    } else if form.description.chars().count() > 10_000 {
        errors.push(err("description", "at most 10,000 characters"));
    }
    let id = form
        .service_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| new_id.to_string());
    let mut schedules = Vec::new();
    for (i, s) in form.sessions.iter().enumerate() {
        match schedule_record(i, s) {
            Ok(r) => schedules.push(record_json(format!("{id}/schedule/{i}"), &r)),
            Err(e) => errors.push(e),
        }
    }
    // Where: a full postcode the gazetteer knows gives the point.
    let mut locations = Vec::new();
    let postcode = form.postcode.trim();
    if postcode.is_empty() {
        if !form.online {
            errors.push(err(
                "postcode",
                "give the venue's postcode, or tick “online”",
            ));
        }
    } else {
        match parse(postcode) {
            Ok(PostcodeQuery::Full { outward, inward }) => {
                let pc = format!("{outward} {inward}");
                match Gazetteer::embedded().resolve(&pc) {
                    Ok(at) => locations.push(json!({
                        "id": format!("{id}/location"),
                        "location_type": "physical",
                        "name": form.place.trim(),
                        "latitude": at.latitude, "longitude": at.longitude,
                        "addresses": [{"id": format!("{id}/address"), "address_1": form.place.trim(),
                            "postal_code": pc, "country": "GB"}],
                    })),
                    Err(_) => errors.push(err("postcode", format!("{pc} is not a postcode we know"))),
                }
            }
            _ => errors.push(err("postcode", "give the full postcode, like BS3 4AB")),
        }
    }
    if form.online {
        locations.push(
            json!({"id": format!("{id}/online"), "location_type": "virtual", "name": "Online"}),
        );
    }
    let mut attributes = Vec::new();
    let mut term = |field: &str, group: &str, code: &str, errors: &mut Vec<FormError>| {
        if code.is_empty() {
            return;
        }
        if tax.term_index(group, code).is_some() {
            attributes.push(json!({"id": format!("{id}/attribute/{group}/{code}"), "taxonomy_term_id": term_id(group, code)}));
        } else {
            errors.push(err(field, format!("{code:?} is not one of the choices")));
        }
    };
    if form.access.is_empty() {
        errors.push(err(
            "access",
            "say how people join: drop in, contact you first, book, or be referred",
        ));
    }
    term("access", "access", &form.access, &mut errors);
    term("domain", "domain", &form.domain, &mut errors);
    for i in &form.interests {
        term("interests", "interest", i, &mut errors);
    }
    match form.free {
        Some(true) => term("free", "cost", "free", &mut errors),
        Some(false) => term("free", "cost", "paid", &mut errors),
        None => {}
    }
    if form.wheelchair {
        term("wheelchair", "accessibility", "wheelchair", &mut errors);
    }
    if form.online {
        term("online", "attendance", "online", &mut errors);
    }
    if !postcode.is_empty() {
        term("postcode", "attendance", "in-person", &mut errors);
    }
    let mut languages = Vec::new();
    for l in &form.languages {
        let code = l.trim().to_ascii_lowercase();
        if code.is_empty() {
            continue;
        }
        if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            errors.push(err(
                "languages",
                format!("{l:?} is not a language code (like en, cy, ur, pl)"),
            ));
        } else {
            languages.push(json!({"id": format!("{id}/language/{code}"), "code": code}));
        }
    }
    let email = form.email.trim();
    if !email.is_empty() && (!email.contains('@') || email.contains(char::is_whitespace)) {
        errors.push(err("email", "an email address, like hello@example.org"));
    }
    let website = form.website.trim();
    let web = website.starts_with("https://") || website.starts_with("http://");
    if !website.is_empty() && !web {
        errors.push(err("website", "a web address starting https://"));
    }
    let phone = form.phone.trim();
    if !phone.is_empty() && phone.chars().filter(char::is_ascii_digit).count() < 6 {
        errors.push(err("phone", "a phone number, like 0117 496 0000"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let org = form.organization.trim();
    let listing = json!({
        "id": id,
        "name": name,
        "status": "active",
        "description": form.description.trim(),
        "eligibility_description": Some(form.who_for.trim()).filter(|s| !s.is_empty()),
        "email": Some(email).filter(|s| !s.is_empty()),
        "url": Some(website).filter(|s| !s.is_empty()),
        "organization": if org.is_empty() { Value::Null } else { json!({"id": format!("{id}/organization"), "name": org}) },
        "phones": if phone.is_empty() { json!([]) } else { json!([{"id": format!("{id}/phone"), "number": phone}]) },
        "schedules": schedules,
        "languages": languages,
        "attributes": attributes,
        "service_at_locations": locations.into_iter().enumerate().map(|(i, l)| json!({"id": format!("{id}/at/{i}"), "location": l})).collect::<Vec<_>>(),
    });
    // The feed's own check, so nothing queued here is refused there.
    let mut batch = PreparedBatch::default();
    import::prepare("form", 0, listing.clone(), &mut batch);
    if let Some(e) = batch.errors.first().or(batch.warnings.first()) {
        return Err(vec![err(form_field(&e.field), e.message.clone())]);
    }
    Ok(listing)
}

/// The form field a listing's JSON pointer comes from.
fn form_field(pointer: &str) -> String {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["schedules", i, "opens_at", ..] => format!("sessions.{i}.opens"),
        ["schedules", i, "closes_at", ..] => format!("sessions.{i}.closes"),
        ["schedules", i, ..] => format!("sessions.{i}.day"),
        ["eligibility_description", ..] => "who_for".into(),
        ["url", ..] => "website".into(),
        ["phones", ..] => "phone".into(),
        ["service_at_locations", ..] => "postcode".into(),
        ["organization", ..] => "organization".into(),
        [first, ..] if !first.is_empty() => (*first).to_string(),
        _ => "form".into(),
    }
}

/// A listing as the form, for a group updating its own ("this is our group: update it").
/// What the form cannot show (a rule it has no words for) is left out, and said so.
pub fn from_listing(d: &ListingDetail) -> (GroupForm, Vec<String>) {
    let s = &d.service;
    let mut left_out = Vec::new();
    let mut form = GroupForm {
        service_id: Some(s.id.clone()),
        name: s.name.clone(),
        organization: s
            .organization
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        description: s.description.clone().unwrap_or_default(),
        who_for: s.eligibility_description.clone().unwrap_or_default(),
        email: s.email.clone().unwrap_or_default(),
        website: s.url.clone().unwrap_or_default(),
        phone: s
            .phones
            .first()
            .map(|p| p.number.clone())
            .unwrap_or_default(),
        ..GroupForm::default()
    };
    for a in &s.attributes {
        let Some(id) = a.term_id() else { continue };
        let mut parts = id.splitn(3, ':');
        let (Some("signpost"), Some(group), Some(code)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        match group {
            "access" => form.access = code.into(),
            "domain" => form.domain = code.into(),
            "interest" => form.interests.push(code.into()),
            "cost" => form.free = Some(code == "free"),
            "accessibility" if code == "wheelchair" => form.wheelchair = true,
            "attendance" if code == "online" => form.online = true,
            _ => {}
        }
    }
    form.wheelchair |= d.wheelchair;
    for l in &s.languages {
        if let Some(c) = &l.code {
            form.languages.push(c.clone());
        }
    }
    for sal in &s.service_at_locations {
        let l = &sal.location;
        if l.location_type.as_deref() == Some("virtual") {
            form.online = true;
        } else if form.postcode.is_empty() {
            if let Some(a) = l.addresses.first() {
                form.postcode = a.postal_code.clone().unwrap_or_default();
                form.place = a.address_1.clone().or(l.name.clone()).unwrap_or_default();
            } else {
                form.place = l.name.clone().unwrap_or_default();
            }
        }
    }
    let schedules = s.schedules.iter().chain(
        s.service_at_locations
            .iter()
            .flat_map(|sal| sal.schedules.iter()),
    );
    for r in schedules {
        match session_of(r) {
            Some(session) => form.sessions.push(session),
            None => left_out.push(format!(
                "a session the form cannot show ({}); add it again",
                schedule::describe_all(std::slice::from_ref(r))
            )),
        }
    }
    (form, left_out)
}

/// A schedule the form can show: weekly, fortnightly, or the nth weekday of the month.
fn session_of(r: &ScheduleRecord) -> Option<SessionForm> {
    let byday = r.byday.as_deref()?.trim().to_uppercase();
    let freq = r.freq.as_deref()?.to_uppercase();
    let opens = r.opens_at.clone()?.get(..5)?.to_string();
    let closes = r.closes_at.clone()?.get(..5)?.to_string();
    let day = byday.get(byday.len().checked_sub(2)?..)?.to_string();
    let nth = &byday[..byday.len() - 2];
    let interval = r.interval.unwrap_or(1);
    let (repeat, nth, first_date) = match (freq.as_str(), interval, nth) {
        ("WEEKLY", 1, "") => ("weekly", None, None),
        ("WEEKLY", 2, "") => (
            "fortnightly",
            None,
            Some(NaiveDate::parse_from_str(r.dtstart.as_deref()?.get(..10)?, "%Y-%m-%d").ok()?),
        ),
        ("MONTHLY", 1, n) => (
            "monthly",
            Some(n.parse::<i8>().ok().filter(|n| matches!(n, 1..=4 | -1))?),
            None,
        ),
        _ => return None,
    };
    DAYS.iter().any(|(c, _)| *c == day).then(|| SessionForm {
        repeat: repeat.into(),
        day,
        nth,
        first_date,
        opens,
        closes,
    })
}
