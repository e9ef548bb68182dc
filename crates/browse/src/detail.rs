//! One listing in full, as the detail screen shows it.
use chrono::{DateTime, Utc};
use serde::Serialize;
use signpost_directory::model::{Address, Phone};
use signpost_directory::Directory;

use crate::error::Result;
use crate::search::may_be_out_of_date;

/// A place where the listing meets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// Location name.
    pub name: Option<String>,
    /// The address on one line.
    pub address: Option<String>,
    /// Name and address on one line, never repeating itself.
    pub line: Option<String>,
    /// Accessibility notes.
    pub accessibility: Vec<String>,
    /// Latitude, if known.
    pub latitude: Option<f64>,
    /// Longitude, if known.
    pub longitude: Option<f64>,
}

/// A phone number with what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneLine {
    /// The number as published.
    pub number: String,
    /// What it is for, if said.
    pub note: Option<String>,
}

/// Everything the detail screen shows. All text is as published: the UI inserts it as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    /// HSDS service id.
    pub service_id: String,
    /// Name.
    pub name: String,
    /// Organization name.
    pub organization: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// When it runs, in plain English.
    pub when: Option<String>,
    /// Access code (`drop-in` …), if stated.
    pub access: Option<&'static str>,
    /// No referral needed.
    pub no_referral: bool,
    /// How to join, in plain words.
    pub how_to_join: String,
    /// The application process as published.
    pub application_process: Option<String>,
    /// Who it is for.
    pub eligibility: Option<String>,
    /// Where.
    pub places: Vec<Place>,
    /// Phone numbers.
    pub phones: Vec<PhoneLine>,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Websites (http and https only).
    pub websites: Vec<String>,
    /// Languages.
    pub languages: Vec<String>,
    /// Cost, in plain words.
    pub cost: String,
    /// Free, costs money, or not stated.
    pub free: Option<bool>,
    /// Wheelchair accessible.
    pub wheelchair: bool,
    /// Categories, e.g. "Interest: Walking".
    pub categories: Vec<String>,
    /// Last verified, as given.
    pub assured_date: Option<String>,
    /// Last verified, as a person reads a date ("1 November 2026").
    pub checked_on: Option<String>,
    /// Over a year since it was verified.
    pub may_be_out_of_date: bool,
    /// Whether it has sessions a calendar can hold.
    pub has_sessions: bool,
}

/// How to join, in plain words, from the access term (the same words in the app and the CLI).
pub fn how_to_join(access: Option<&str>) -> &'static str {
    match access {
        Some("drop-in") => "Drop in: just turn up, no need to contact anyone first.",
        Some("self-referral") => "Contact them yourself: no referral needed.",
        Some("booking-required") => "Book a place first: no referral needed.",
        Some("referral-required") => {
            "A professional (such as your GP or a link worker) must refer you."
        }
        _ => "Not stated: contact them to ask how to join.",
    }
}

fn one_line(a: &Address) -> Option<String> {
    let parts: Vec<&str> = [
        &a.address_1,
        &a.address_2,
        &a.city,
        &a.region,
        &a.state_province,
        &a.postal_code,
    ]
    .into_iter()
    .filter_map(|p| p.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn phone_line(p: &Phone) -> PhoneLine {
    PhoneLine {
        number: p.number.clone(),
        note: p.description.clone().or(p.kind.clone()),
    }
}

/// Only web links a person can safely open: a listing's `javascript:` URL is dropped.
fn web_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.to_string())
}

fn push_unique(list: &mut Vec<String>, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        if !list.iter().any(|x| x == v) {
            list.push(v.to_string());
        }
    }
}

/// The cost in plain words: "Free", the published fees, or what to do when they are not given.
pub fn cost_text(free: Option<bool>, fees_description: Option<&str>) -> String {
    match (
        free,
        fees_description.map(str::trim).filter(|f| !f.is_empty()),
    ) {
        (Some(true), _) => "Free".into(),
        (_, Some(fees)) => fees.into(),
        (Some(false), None) => "There is a cost; contact them for details.".into(),
        (None, None) => "Not stated".into(),
    }
}

/// One listing in full.
pub fn detail(dir: &Directory, service_id: &str, now: DateTime<Utc>) -> Result<Detail> {
    let d = dir.listing(service_id)?;
    let s = &d.service;
    let mut phones: Vec<PhoneLine> = s.phones.iter().map(phone_line).collect();
    let mut emails = Vec::new();
    let mut websites = Vec::new();
    push_unique(&mut emails, s.email.as_deref());
    if let Some(o) = &s.organization {
        push_unique(&mut emails, o.email.as_deref());
    }
    for url in [
        s.url.as_deref(),
        s.organization.as_ref().and_then(|o| o.website.as_deref()),
    ]
    .into_iter()
    .flatten()
    {
        push_unique(&mut websites, web_link(url).as_deref());
    }
    for c in &s.contacts {
        push_unique(&mut emails, c.email.as_deref());
        phones.extend(c.phones.iter().map(phone_line));
    }
    let mut languages = Vec::new();
    for l in &s.languages {
        push_unique(&mut languages, l.name.as_deref().or(l.code.as_deref()));
    }
    let mut places = Vec::new();
    let mut has_sessions = !s.schedules.is_empty();
    for sal in &s.service_at_locations {
        let l = &sal.location;
        has_sessions |= !sal.schedules.is_empty();
        phones.extend(sal.phones.iter().map(phone_line));
        for c in &sal.contacts {
            push_unique(&mut emails, c.email.as_deref());
            phones.extend(c.phones.iter().map(phone_line));
        }
        for lang in &l.languages {
            push_unique(
                &mut languages,
                lang.name.as_deref().or(lang.code.as_deref()),
            );
        }
        let address = l
            .addresses
            .iter()
            .find_map(one_line)
            .or_else(|| l.description.clone());
        places.push(Place {
            line: place_line(l.name.as_deref(), address.as_deref()),
            name: l.name.clone(),
            address,
            accessibility: l
                .accessibility
                .iter()
                .filter_map(|a| a.description.clone().or(a.details.clone()))
                .collect(),
            latitude: l.latitude,
            longitude: l.longitude,
        });
    }
    phones.dedup();
    let cost = cost_text(d.free, s.fees_description.as_deref());
    Ok(Detail {
        service_id: s.id.clone(),
        name: s.name.clone(),
        organization: s.organization.as_ref().map(|o| o.name.clone()),
        description: s.description.clone(),
        when: d.when.clone(),
        access: d.access,
        no_referral: matches!(d.access, Some("drop-in" | "self-referral")),
        how_to_join: how_to_join(d.access).into(),
        application_process: s.application_process.clone(),
        eligibility: s.eligibility_description.clone(),
        places,
        phones,
        emails,
        websites,
        languages,
        cost,
        free: d.free,
        wheelchair: d.wheelchair,
        categories: categories(&s.attributes),
        may_be_out_of_date: may_be_out_of_date(s.assured_date.as_deref(), now),
        assured_date: s.assured_date.clone(),
        checked_on: s.assured_date.as_deref().and_then(uk_date),
        has_sessions,
    })
}

/// What kind of activity it is, in plain words: its CMHF domain and interests, and any other
/// publisher's terms. How to join, cost and access have rows of their own, so are left out.
fn categories(attributes: &[signpost_directory::model::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for a in attributes {
        if let Some((Some("domain" | "interest") | None, name)) =
            signpost_directory::taxonomy::term_label(a)
        {
            push_unique(&mut out, Some(&name));
        }
    }
    out
}

/// "2026-11-01" as a person reads it: "1 November 2026".
pub fn uk_date(iso: &str) -> Option<String> {
    let day = chrono::NaiveDate::parse_from_str(iso.get(..10)?, "%Y-%m-%d").ok()?;
    Some(day.format("%-d %B %Y").to_string())
}

/// One line for a place: its name and address, without saying the same thing twice (a stop
/// named after its street, an address that begins with the venue's name).
pub fn place_line(name: Option<&str>, address: Option<&str>) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let address = address.map(str::trim).filter(|a| !a.is_empty());
    match (name, address) {
        (Some(n), Some(a)) if a.to_lowercase().starts_with(&n.to_lowercase()) => Some(a.into()),
        (Some(n), Some(a)) if n.to_lowercase().contains(&a.to_lowercase()) => Some(n.into()),
        (Some(n), Some(a)) => Some(format!("{n}, {a}")),
        (Some(only), None) | (None, Some(only)) => Some(only.into()),
        (None, None) => None,
    }
}
