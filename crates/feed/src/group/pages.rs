//! The group pages' HTML, built with `maud` (every value escaped, so whatever a listing holds
//! shows as text). No page needs JavaScript.
use maud::{html, Markup, DOCTYPE};
use signpost_browse::group_form::FormError;
use signpost_moderation::{Item, Kind, Status};

use super::form::{self, Fields};

/// The frame of every group page: one `h1` (prefixed "Error:" in the title when the form has
/// problems, as screen reader users hear the title first), landmarks.
fn layout(title: &str, has_errors: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { @if has_errors { "Error: " } (title) " · Signpost" }
                link rel="stylesheet" href="/group/style.css";
            }
            body {
                header {
                    p.brand { "Signpost: your community's groups and activities" }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// "Still running": what a published listing's page offers above its form, for a group whose
/// listing needs no change. Its own `client_id` (not the update form's: each is item 1 of its
/// own device), so it too is stored once however often it is sent.
pub(super) struct StillRunning<'a> {
    pub(super) service_id: &'a str,
    pub(super) client_id: &'a str,
}

/// The form: a new listing, or an update of `updating` (its name as published). `client_id`
/// is this page's own: the post is stored once however often it is sent.
pub(super) fn form_page(
    fields: &Fields,
    errors: &[FormError],
    client_id: &str,
    updating: Option<&str>,
    notes: &[String],
    still_running: Option<StillRunning<'_>>,
) -> Markup {
    let title = match updating {
        Some(name) => format!("Update “{name}”"),
        None => "Add your group".to_string(),
    };
    layout(
        &title,
        !errors.is_empty(),
        html! {
            (form::error_summary(errors))
            p { "Tell people near you about your group or activity. Your region's moderators check every listing before it is published; once they approve it, it appears in Signpost for everyone." }
            @if let (Some(s), Some(name)) = (&still_running, updating) {
                section.notice aria-labelledby="still-running" {
                    h2 #still-running { "Nothing has changed?" }
                    p { "If “" (name) "” is still running as listed, say so here. Once a moderator confirms it, the listing shows it was checked today." }
                    form method="post" action="/reports" {
                        input type="hidden" name="client_id" value=(s.client_id);
                        input type="hidden" name="service_id" value=(s.service_id);
                        input type="hidden" name="service_name" value=(name);
                        input type="hidden" name="kind" value="still-running";
                        p { button type="submit" { "This is still running, nothing changed" } }
                    }
                    p { "If something has changed, update the form below instead." }
                }
            }
            @for n in notes {
                p.notice { "Not shown here: " (n) }
            }
            form method="post" action="/submissions" novalidate {
                input type="hidden" name="client_id" value=(client_id);
                @if !fields.get("service_id").is_empty() {
                    input type="hidden" name="service_id" value=(fields.get("service_id"));
                }
                (form::fields(fields, errors))
                p { button type="submit" { @if updating.is_some() { "Send the update for review" } @else { "Send for review" } } }
            }
        },
    )
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::InReview => "It is in review: a moderator will check it soon.",
        Status::Approved => "A moderator approved it: it is published.",
        Status::Rejected => "A moderator did not accept it.",
        Status::Invalid => "It could not be accepted.",
    }
}

/// The receipt: what was sent, where it stands, and its reference.
pub(super) fn sent(item: &Item) -> Markup {
    let confirming = item.kind == Kind::Report;
    let title = match (item.status, confirming) {
        (Status::InReview, false) => "Thank you: your listing is in review",
        (Status::InReview, true) => "Thank you: your confirmation is in review",
        (_, false) => "Your listing",
        (_, true) => "Your confirmation",
    };
    layout(
        title,
        false,
        html! {
            p.confirmation role="status" {
                @if confirming {
                    "Your word that “" (item.name) "” is still running was received. " (status_words(item.status))
                } @else {
                    "“" (item.name) "” was received. " (status_words(item.status))
                }
            }
            @if !item.reason.is_empty() {
                p { "The moderator's reason: " (item.reason) }
            }
            dl {
                dt { "Your reference" } dd { code { (item.id) } }
                dt { "Received" } dd { (item.submitted_at) }
            }
            p { "Keep this page's address to see later whether it was approved." }
            p { a href="/group" { "Add another group" } }
        },
    )
}

/// A page that says what went wrong.
pub(super) fn problem(title: &str, message: &str) -> Markup {
    layout(
        title,
        false,
        html! {
            p.problem { (message) }
            p { a href="/group" { "Start the form again" } }
        },
    )
}
