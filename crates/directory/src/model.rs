//! Typed views of an HSDS 3.0 `service_full`, as Signpost stores it.
//!
//! These are read *after* the record has passed the listing JSON Schema
//! (`assets-schema/listing.schema.json`), so their job is convenience, not validation. Every
//! field is optional or defaulted, and unknown fields are ignored here because the whole record
//! is kept verbatim in the `service.record` column.
use serde::{Deserialize, Deserializer, Serialize};

fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A service with everything nested, as in HSDS `service_full`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(
    missing_docs,
    reason = "fields are HSDS 3.0 service fields of the same name"
)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub application_process: Option<String>,
    pub fees_description: Option<String>,
    pub eligibility_description: Option<String>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    pub assured_date: Option<String>,
    pub last_modified: Option<String>,
    pub organization: Option<Organization>,
    #[serde(deserialize_with = "nullable")]
    pub phones: Vec<Phone>,
    #[serde(deserialize_with = "nullable")]
    pub schedules: Vec<ScheduleRecord>,
    #[serde(deserialize_with = "nullable")]
    pub service_areas: Vec<ServiceArea>,
    #[serde(deserialize_with = "nullable")]
    pub languages: Vec<Language>,
    #[serde(deserialize_with = "nullable")]
    pub cost_options: Vec<CostOption>,
    #[serde(deserialize_with = "nullable")]
    pub contacts: Vec<Contact>,
    #[serde(deserialize_with = "nullable")]
    pub attributes: Vec<Attribute>,
    #[serde(deserialize_with = "nullable")]
    pub service_at_locations: Vec<ServiceAtLocation>,
}

/// HSDS organization (the part Signpost keeps).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 organization fields")]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// HSDS phone.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 phone fields")]
pub struct Phone {
    pub id: Option<String>,
    pub number: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// HSDS schedule, as stored. See [`crate::schedule::Schedule`] for the evaluated form.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 schedule fields")]
pub struct ScheduleRecord {
    pub id: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub dtstart: Option<String>,
    pub until: Option<String>,
    pub count: Option<u32>,
    pub freq: Option<String>,
    pub interval: Option<u32>,
    pub byday: Option<String>,
    pub bymonthday: Option<String>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: Option<String>,
}

/// HSDS service_area.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 service_area fields")]
pub struct ServiceArea {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// HSDS language.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 language fields")]
pub struct Language {
    pub id: Option<String>,
    pub name: Option<String>,
    pub code: Option<String>,
    pub note: Option<String>,
}

/// HSDS cost_option.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 cost_option fields")]
pub struct CostOption {
    pub id: Option<String>,
    pub option: Option<String>,
    pub currency: Option<String>,
    pub amount: Option<f64>,
    pub amount_description: Option<String>,
}

/// HSDS contact.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 contact fields")]
pub struct Contact {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub phones: Vec<Phone>,
}

/// HSDS attribute: the link from a service to a taxonomy term.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 attribute fields")]
pub struct Attribute {
    pub id: Option<String>,
    pub taxonomy_term_id: Option<String>,
    pub value: Option<String>,
    pub taxonomy_term: Option<TaxonomyTerm>,
}

impl Attribute {
    /// The linked term's id, from `taxonomy_term_id` or the nested term.
    pub fn term_id(&self) -> Option<&str> {
        self.taxonomy_term_id
            .as_deref()
            .or(self.taxonomy_term.as_ref().map(|t| t.id.as_str()))
    }
}

/// HSDS taxonomy_term.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 taxonomy_term fields")]
pub struct TaxonomyTerm {
    pub id: String,
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub taxonomy_id: Option<String>,
    pub taxonomy: Option<String>,
    pub parent_id: Option<String>,
}

/// HSDS service_at_location with its location nested.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 service_at_location fields")]
pub struct ServiceAtLocation {
    pub id: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub schedules: Vec<ScheduleRecord>,
    #[serde(deserialize_with = "nullable")]
    pub phones: Vec<Phone>,
    #[serde(deserialize_with = "nullable")]
    pub contacts: Vec<Contact>,
    pub location: Location,
}

/// HSDS location.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 location fields")]
pub struct Location {
    pub id: String,
    pub location_type: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub addresses: Vec<Address>,
    #[serde(deserialize_with = "nullable")]
    pub accessibility: Vec<Accessibility>,
    #[serde(deserialize_with = "nullable")]
    pub languages: Vec<Language>,
}

/// HSDS address.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 address fields")]
pub struct Address {
    pub id: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub state_province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub address_type: Option<String>,
}

/// HSDS accessibility (of a location).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[expect(missing_docs, reason = "HSDS 3.0 accessibility fields")]
pub struct Accessibility {
    pub id: Option<String>,
    pub description: Option<String>,
    pub details: Option<String>,
    pub url: Option<String>,
}
