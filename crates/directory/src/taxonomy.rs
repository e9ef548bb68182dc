//! The Signpost taxonomy (`assets-schema/taxonomy.json`) and the facets it gives a listing.
//!
//! The taxonomy is data, not code: access routes, CMHF domains, interests, cost and
//! accessibility are HSDS taxonomy terms, linked to services by HSDS attributes. A listing from
//! a feed that has never heard of Signpost simply has no such attributes: its access is then
//! unknown, and the `--no-referral` filter leaves it out.
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::{Attribute, Service};

/// The id of the Signpost taxonomy, used as `taxonomy_term.taxonomy_id`.
pub const TAXONOMY_ID: &str = "signpost";

const TAXONOMY_JSON: &str = include_str!("../../../assets-schema/taxonomy.json");

/// How a person gets into a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Turn up.
    DropIn,
    /// Contact them yourself.
    SelfReferral,
    /// Book first.
    BookingRequired,
    /// A professional must refer you.
    ReferralRequired,
}

impl Access {
    /// The term code, e.g. `drop-in`.
    pub fn code(self) -> &'static str {
        match self {
            Access::DropIn => "drop-in",
            Access::SelfReferral => "self-referral",
            Access::BookingRequired => "booking-required",
            Access::ReferralRequired => "referral-required",
        }
    }

    /// Parse a term code.
    pub fn from_code(code: &str) -> Option<Access> {
        Some(match code {
            "drop-in" => Access::DropIn,
            "self-referral" => Access::SelfReferral,
            "booking-required" => Access::BookingRequired,
            "referral-required" => Access::ReferralRequired,
            _ => return None,
        })
    }

    /// True when a person can go without anyone referring them ("no referral needed").
    pub fn no_referral(self) -> bool {
        matches!(self, Access::DropIn | Access::SelfReferral)
    }
}

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    taxonomy: TaxonomyHeader,
    groups: Vec<Group>,
}

/// The taxonomy's own record (HSDS `taxonomy`).
#[derive(Debug, Clone, Deserialize)]
pub struct TaxonomyHeader {
    /// `signpost`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Where it is described.
    pub uri: String,
    /// Version of the term list.
    pub version: String,
}

/// A group of terms, such as `interest`.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    /// `access`, `domain`, `interest`, `cost` or `accessibility`.
    pub code: String,
    /// Human name.
    pub name: String,
    /// The terms.
    pub terms: Vec<Term>,
}

/// One term, such as `interest:walking`.
#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    /// Code within its group.
    pub code: String,
    /// Human name.
    pub name: String,
    /// Longer explanation.
    #[serde(default)]
    pub description: Option<String>,
}

/// The loaded taxonomy.
#[derive(Debug)]
pub struct Taxonomy {
    /// The taxonomy record.
    pub header: TaxonomyHeader,
    /// Its groups.
    pub groups: Vec<Group>,
    by_id: HashMap<String, (usize, usize)>,
}

impl Taxonomy {
    /// The Signpost taxonomy shipped in `assets-schema/taxonomy.json`.
    pub fn signpost() -> &'static Taxonomy {
        static T: OnceLock<Taxonomy> = OnceLock::new();
        T.get_or_init(|| {
            let file: TaxonomyFile = serde_json::from_str(TAXONOMY_JSON)
                .expect("assets-schema/taxonomy.json is valid (tested)");
            let mut by_id = HashMap::new();
            for (g, group) in file.groups.iter().enumerate() {
                for (t, term) in group.terms.iter().enumerate() {
                    by_id.insert(term_id(&group.code, &term.code), (g, t));
                }
            }
            Taxonomy {
                header: file.taxonomy,
                groups: file.groups,
                by_id,
            }
        })
    }

    /// The group with this code.
    pub fn group(&self, code: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// Position of a term within its group (used as a bit index for domains and interests).
    pub fn term_index(&self, group: &str, code: &str) -> Option<usize> {
        self.group(group)?.terms.iter().position(|t| t.code == code)
    }

    /// Resolve a term id (`signpost:interest:walking`) to (group code, term).
    pub fn lookup(&'static self, id: &str) -> Option<(&'static str, &'static Term)> {
        let &(g, t) = self.by_id.get(id)?;
        Some((&self.groups[g].code, &self.groups[g].terms[t]))
    }

    /// Every (term id, group, term).
    pub fn terms(&self) -> impl Iterator<Item = (String, &Group, &Term)> {
        self.groups.iter().flat_map(|g| {
            g.terms
                .iter()
                .map(move |t| (term_id(&g.code, &t.code), g, t))
        })
    }
}

/// The term an attribute links to, as (Signpost group, name): the group is `None` for a term
/// from another taxonomy, named as the feed named it.
pub fn term_label(a: &Attribute) -> Option<(Option<&'static str>, String)> {
    let id = a.term_id()?;
    match Taxonomy::signpost().lookup(id) {
        Some((group, term)) => Some((Some(group), term.name.clone())),
        None => Some((None, a.taxonomy_term.as_ref()?.name.clone()?)),
    }
}

/// The HSDS id of a Signpost term.
pub fn term_id(group: &str, code: &str) -> String {
    format!("{TAXONOMY_ID}:{group}:{code}")
}

/// What Signpost's filters need to know about a service, derived from its HSDS record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// Access route, or `None` when the listing does not say.
    pub access: Option<Access>,
    /// Free (`Some(true)`), costs money (`Some(false)`), or not stated.
    pub free: Option<bool>,
    /// Wheelchair accessible (stated by a term, or an accessibility note at a location).
    pub wheelchair: bool,
    /// Bit i set when the service is in domain i of the taxonomy's `domain` group.
    pub domains: u32,
    /// Bit i set when the service has interest i of the taxonomy's `interest` group.
    pub interests: u64,
    /// Language codes and names, lower case (`ur`, `urdu`).
    pub languages: Vec<String>,
    /// Meets at a physical place.
    pub in_person: bool,
    /// Can be joined online (or by phone) from anywhere.
    pub online: bool,
}

impl Facets {
    /// Derive facets from a service record.
    pub fn of(service: &Service) -> Facets {
        let tax = Taxonomy::signpost();
        let mut f = Facets::default();
        let mut cost_term = None;
        for attribute in &service.attributes {
            let resolved = attribute
                .term_id()
                .and_then(|id| tax.lookup(id))
                .or_else(|| {
                    // A term given by code within the signpost taxonomy, without our id form.
                    let term = attribute.taxonomy_term.as_ref()?;
                    if term.taxonomy_id.as_deref() != Some(TAXONOMY_ID) {
                        return None;
                    }
                    let code = term.code.as_deref()?;
                    tax.groups.iter().find_map(|g| {
                        g.terms
                            .iter()
                            .find(|t| t.code == code)
                            .map(|t| (g.code.as_str(), t))
                    })
                });
            let Some((group, term)) = resolved else {
                continue;
            };
            match group {
                "access" => f.access = Access::from_code(&term.code),
                "domain" => {
                    if let Some(i) = tax.term_index("domain", &term.code) {
                        f.domains |= 1 << i;
                    }
                }
                "interest" => {
                    if let Some(i) = tax.term_index("interest", &term.code) {
                        f.interests |= 1 << i;
                    }
                }
                "cost" => cost_term = Some(term.code == "free"),
                "accessibility" if term.code == "wheelchair" => f.wheelchair = true,
                "attendance" => match term.code.as_str() {
                    "in-person" => f.in_person = true,
                    "online" => f.online = true,
                    _ => {}
                },
                _ => {}
            }
        }
        f.free = cost_term.or_else(|| free_from_cost_options(service));
        if !f.in_person && !f.online {
            // No attendance term: a physical place means in person, a virtual one online.
            for sal in &service.service_at_locations {
                match sal.location.location_type.as_deref() {
                    Some("virtual") => f.online = true,
                    _ => f.in_person = true,
                }
            }
        }
        if !f.wheelchair {
            f.wheelchair = service.service_at_locations.iter().any(|sal| {
                sal.location.accessibility.iter().any(|a| {
                    let text = format!(
                        "{} {}",
                        a.description.as_deref().unwrap_or_default(),
                        a.details.as_deref().unwrap_or_default()
                    )
                    .to_lowercase();
                    text.contains("wheelchair")
                        && !text.contains("not wheelchair")
                        && !text.contains("no wheelchair")
                })
            });
        }
        let mut languages: Vec<String> = service
            .languages
            .iter()
            .chain(
                service
                    .service_at_locations
                    .iter()
                    .flat_map(|s| s.location.languages.iter()),
            )
            .flat_map(|l| [l.code.as_deref(), l.name.as_deref()])
            .flatten()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        languages.sort();
        languages.dedup();
        f.languages = languages;
        f
    }

    /// Attendance as stored in `service_facet.attendance`: bit 1 in person, bit 2 online.
    pub fn attendance_bits(&self) -> i64 {
        i64::from(self.in_person) | (i64::from(self.online) << 1)
    }
}

/// How a person takes part: at a place, or online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attendance {
    /// Meets at a physical place.
    InPerson,
    /// Can be joined online or by phone.
    Online,
}

impl Attendance {
    /// The bit of `service_facet.attendance` (and of [`Facets::attendance_bits`]).
    pub fn bit(self) -> u8 {
        match self {
            Attendance::InPerson => 1,
            Attendance::Online => 2,
        }
    }

    /// Parse the taxonomy code (`in-person`, `online`).
    pub fn from_code(code: &str) -> Option<Attendance> {
        match code {
            "in-person" => Some(Attendance::InPerson),
            "online" => Some(Attendance::Online),
            _ => None,
        }
    }
}

fn free_from_cost_options(service: &Service) -> Option<bool> {
    if service.cost_options.is_empty() {
        return None;
    }
    let paid = service
        .cost_options
        .iter()
        .any(|c| c.amount.is_some_and(|a| a > 0.0));
    if paid {
        return Some(false);
    }
    let free = service.cost_options.iter().any(|c| {
        c.amount == Some(0.0)
            || c.option
                .as_deref()
                .is_some_and(|o| o.to_lowercase().contains("free"))
    });
    free.then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribute, CostOption, TaxonomyTerm};

    fn with_terms(ids: &[&str]) -> Service {
        Service {
            attributes: ids
                .iter()
                .map(|id| Attribute {
                    taxonomy_term_id: Some(id.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn taxonomy_has_the_issue_groups() {
        let t = Taxonomy::signpost();
        for g in ["access", "domain", "interest", "cost", "accessibility"] {
            assert!(t.group(g).is_some(), "{g}");
        }
        assert_eq!(t.group("access").unwrap().terms.len(), 4);
        assert_eq!(t.group("domain").unwrap().terms.len(), 4);
        assert!(t.group("interest").unwrap().terms.len() <= 64);
        assert!(t.lookup("signpost:interest:walking").is_some());
    }

    #[test]
    fn facets_from_attributes() {
        let s = with_terms(&[
            "signpost:access:drop-in",
            "signpost:domain:personal-interests",
            "signpost:interest:walking",
            "signpost:cost:free",
            "unrelated:term",
        ]);
        let f = Facets::of(&s);
        assert_eq!(f.access, Some(Access::DropIn));
        assert!(f.access.unwrap().no_referral());
        assert_eq!(f.free, Some(true));
        let t = Taxonomy::signpost();
        assert_eq!(
            f.interests,
            1 << t.term_index("interest", "walking").unwrap()
        );
        assert_eq!(
            f.domains,
            1 << t.term_index("domain", "personal-interests").unwrap()
        );
    }

    #[test]
    fn terms_by_code_and_unknown_access() {
        let mut s = Service::default();
        s.attributes.push(Attribute {
            taxonomy_term: Some(TaxonomyTerm {
                id: "x".into(),
                code: Some("referral-required".into()),
                taxonomy_id: Some("signpost".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(Facets::of(&s).access, Some(Access::ReferralRequired));
        assert_eq!(Facets::of(&Service::default()).access, None);
    }

    #[test]
    fn cost_options_decide_free_when_no_term() {
        let mut s = Service::default();
        assert_eq!(Facets::of(&s).free, None);
        s.cost_options.push(CostOption {
            amount: Some(0.0),
            ..Default::default()
        });
        assert_eq!(Facets::of(&s).free, Some(true));
        s.cost_options.push(CostOption {
            amount: Some(50.0),
            ..Default::default()
        });
        assert_eq!(Facets::of(&s).free, Some(false));
    }
}
