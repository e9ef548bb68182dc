//! Plain-text copies: one listing, or a saved list, to copy into a message or print.
use crate::detail::Detail;

/// One listing as plain text.
pub fn listing_text(d: &Detail) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            out.push_str(&format!("{label}: {}\n", value.trim()));
        }
    };
    line("Name", &d.name);
    line("Status", d.closed.as_deref().unwrap_or_default());
    line(
        "Organisation",
        d.organization.as_deref().unwrap_or_default(),
    );
    line("When", d.when.as_deref().unwrap_or("Times not given"));
    line("How to join", &d.how_to_join);
    for p in &d.places {
        line(
            "Where",
            p.address
                .as_deref()
                .or(p.name.as_deref())
                .unwrap_or_default(),
        );
    }
    for p in &d.phones {
        line("Phone", &p.number);
    }
    for e in &d.emails {
        line("Email", e);
    }
    for w in &d.websites {
        line("Website", w);
    }
    line("Cost", &d.cost);
    line(
        "Last checked",
        d.assured_date.as_deref().unwrap_or("not stated"),
    );
    out
}

/// A saved list as one plain-text page; `missing` names saved listings no longer in the
/// directory.
pub fn saved_text(listings: &[Detail], missing: &[String]) -> String {
    let mut out = String::from("My saved list (from Signpost)\n\n");
    for (i, d) in listings.iter().enumerate() {
        out.push_str(&format!("{}. ", i + 1));
        out.push_str(&listing_text(d));
        out.push('\n');
    }
    for name in missing {
        out.push_str(&format!("- {name}: no longer listed\n"));
    }
    out
}
