//! The queue's HTML. Every page is built with `maud`, which escapes each value it is given, so
//! what a group typed (a name like `<script>…`) is shown as text. No page needs JavaScript.
use maud::{html, Markup, DOCTYPE};
use signpost_browse::group_form::FormError;
use signpost_moderation::{
    Account, AuditRow, FieldChange, Item, KeyProof, Kind, Role, SignedIn, Status,
};

use crate::group::form::{self, Fields};

/// The kinds the queue's filter offers.
const KINDS: [Kind; 3] = [Kind::Submission, Kind::Claim, Kind::Report];

fn status_words(status: Status) -> &'static str {
    match status {
        Status::InReview => "waiting for a moderator",
        Status::Approved => "approved",
        Status::Rejected => "rejected",
        Status::Invalid => "refused on arrival",
    }
}

/// What to call an item whose name is empty, so its link still has text.
fn shown_name(item: &Item) -> &str {
    if item.name.trim().is_empty() {
        "(no name)"
    } else {
        &item.name
    }
}

fn csrf_field(who: &SignedIn) -> Markup {
    html! { input type="hidden" name="csrf" value=(who.csrf); }
}

/// The frame of every page: one `h1`, landmarks, and the signed-in moderator's navigation.
pub(super) fn layout(title: &str, who: Option<&SignedIn>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Signpost moderation" }
                link rel="stylesheet" href="/moderate/style.css";
            }
            body {
                header {
                    p.brand { "Signpost moderation" }
                    @if let Some(who) = who {
                        nav aria-label="Moderation" {
                            a href="/moderate" { "Queue" }
                            @if who.role == Role::Admin {
                                a href="/moderate/accounts" { "Accounts" }
                            }
                            form.inline method="post" action="/moderate/sign-out" {
                                (csrf_field(who))
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The sign-in form; `csrf` is the value of the sign-in cookie set with it.
pub(super) fn sign_in(csrf: &str, problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" action="/moderate/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="name" { "Name" }
                    input #name type="text" name="name" autocomplete="username" required;
                }
                p {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                p { button type="submit" { "Sign in" } }
            }
        },
    )
}

/// The queue's filters as a query string.
fn queue_query(q: &str, kind: Option<Kind>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("kind", kind.map_or("", Kind::as_str))
        .finish()
}

/// The queue: what waits, narrowed by `q` and `kind`.
pub(super) fn queue(who: &SignedIn, items: &[Item], q: &str, kind: Option<Kind>) -> Markup {
    layout(
        "Waiting for a moderator",
        Some(who),
        html! {
            form.search method="get" action="/moderate" role="search" aria-label="Narrow the queue" {
                p {
                    label for="q" { "Name contains" }
                    input #q type="search" name="q" value=(q);
                }
                p {
                    label for="kind" { "Kind" }
                    select #kind name="kind" {
                        option value="" selected[kind.is_none()] { "Any" }
                        @for k in KINDS {
                            option value=(k.as_str()) selected[kind == Some(k)] { (k.as_str()) }
                        }
                    }
                }
                p { button type="submit" { "Show" } }
            }
            p.downloads {
                a href={ "/moderate/queue.csv?" (queue_query(q, kind)) } download { "Download this queue (CSV)" }
                " · "
                a href="/moderate/stale.csv" download { "Download the stale list: listings not checked for over 12 months (CSV)" }
            }
            @if items.is_empty() {
                p { "Nothing is waiting." }
            } @else {
                table {
                    caption { (items.len()) " waiting, oldest first" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Kind" }
                            th scope="col" { "Listing" }
                            th scope="col" { "Sent" }
                        }
                    }
                    tbody {
                        @for item in items {
                            tr {
                                td { a href={ "/moderate/items/" (item.id) } { (shown_name(item)) } }
                                td { (item.kind_words()) }
                                td { code { (item.service_id) } }
                                td { (item.submitted_at) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What the item page shows.
pub(super) struct ItemView<'a> {
    /// The item.
    pub(super) item: &'a Item,
    /// What approving it would change (or why it cannot be published).
    pub(super) changes: &'a Result<Vec<FieldChange>, String>,
    /// Whether its listing is published now.
    pub(super) published: bool,
    /// Fields moderators revised before approving.
    pub(super) edits: &'a [AuditRow],
    /// Other waiting items it could be merged into (the same listing's first).
    pub(super) others: &'a [Item],
}

/// What a moderator should know of an item's edit key, if anything.
fn key_words(item: &Item, published: bool) -> Option<&'static str> {
    Some(match (item.kind, item.edit_key, item.grants_key) {
        (_, KeyProof::Verified, _) => "Verified: sent with the listing's edit key, from its group's device.",
        (_, KeyProof::Refused, _) => "Refused: the edit key was wrong, already used, or missing.",
        (Kind::Submission, KeyProof::Unverified, true) if published => {
            "Unverified: no edit key. This changes a published listing without its group's key; check who sent it, as for a claim. Approving it gives the sender the listing's edit key."
        }
        (Kind::Submission, KeyProof::Unverified, false) if published => {
            "Unverified: no edit key. This changes a published listing without its group's key; check who sent it, as for a claim."
        }
        (Kind::Submission, _, true) => "A new listing; approving it gives the sender its edit key.",
        (Kind::Claim, _, true) => {
            "Approving it gives the sender the listing's edit key (any earlier key stops working)."
        }
        _ => return None,
    })
}

/// One item: where it stands, what approving it would change, what was sent, and the
/// decisions still open (approve, edit first, reject, merge into another item).
pub(super) fn item(who: &SignedIn, view: &ItemView<'_>, problem: Option<&str>) -> Markup {
    let ItemView {
        item,
        changes,
        published,
        edits,
        others,
    } = view;
    let sent = serde_json::to_string_pretty(&item.body).unwrap_or_default();
    layout(
        shown_name(item),
        Some(who),
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            dl {
                dt { "Kind" } dd { (item.kind_words()) }
                dt { "Listing" } dd { code { (item.service_id) } }
                dt { "Status" } dd { (status_words(item.status)) }
                dt { "Sent" } dd { (item.submitted_at) }
                @if let (Some(at), Some(by)) = (&item.decided_at, &item.decided_by) {
                    dt { "Decided" } dd { (at) " by " (by) }
                }
                @if let Some(other) = item.reason.strip_prefix("Merged with ") {
                    dt { "Reason" } dd { "Merged with " a href={ "/moderate/items/" (other) } { (other) } }
                } @else if !item.reason.is_empty() {
                    dt { "Reason" } dd { (item.reason) }
                }
                @if let Some(words) = key_words(item, *published) {
                    dt { "Edit key" } dd.key { (words) }
                }
            }
            @if item.kind == Kind::Report && item.status == Status::InReview {
                @match item.body["kind"].as_str() {
                    Some("still-running") => p.notice { "The group says it is still running, nothing changed. Approving republishes the listing as it is, with its check date renewed to today." },
                    Some("closed") => p.notice { "Approving publishes the listing as closed (inactive)." },
                    _ => p.notice { "Approving records the report; it changes nothing published. Edit the listing if its details need correcting." },
                }
            }
            @if item.kind == Kind::Submission {
                h2 {
                    @if *published { "Changes against the published listing" }
                    @else { "A new listing: every field is new" }
                }
                @match changes {
                    Ok(changes) if changes.is_empty() => p { "No field differs from what is published." },
                    Ok(changes) => table.diff {
                        caption { "Fields that differ (" (changes.len()) ")" }
                        thead {
                            tr {
                                th scope="col" { "Field" }
                                th scope="col" { "Published now" }
                                th scope="col" { "After approval" }
                            }
                        }
                        tbody {
                            @for (field, old, new) in changes {
                                tr {
                                    th scope="row" { (field) }
                                    td.old { @if let Some(old) = old { (old) } @else { em { "(none)" } } }
                                    td.new { @if let Some(new) = new { (new) } @else { em { "(none)" } } }
                                }
                            }
                        }
                    },
                    Err(e) => p.problem { "This listing cannot be published as sent: " (e) },
                }
            }
            @if !edits.is_empty() {
                h2 { "Edited by moderators" }
                table.diff.edits {
                    caption { "Fields changed from what the group sent (" (edits.len()) ")" }
                    thead {
                        tr {
                            th scope="col" { "Field" }
                            th scope="col" { "Before" }
                            th scope="col" { "After" }
                            th scope="col" { "By" }
                        }
                    }
                    tbody {
                        @for e in *edits {
                            tr {
                                th scope="row" { (e.field) }
                                td.old { @if let Some(old) = &e.old_value { (old) } @else { em { "(none)" } } }
                                td.new { @if let Some(new) = &e.new_value { (new) } @else { em { "(none)" } } }
                                td { (e.who) ", " (e.at) }
                            }
                        }
                    }
                }
            }
            h2 { @if edits.is_empty() { "What was sent" } @else { "What approval publishes (as edited)" } }
            pre.sent { (sent) }
            @if item.status == Status::InReview {
                h2 { "Decide" }
                form method="post" action={ "/moderate/items/" (item.id) "/approve" } {
                    (csrf_field(who))
                    p { button type="submit" { "Approve and publish" } }
                }
                @if item.kind == Kind::Submission {
                    p { a href={ "/moderate/items/" (item.id) "/edit" } { "Edit before approving" } }
                }
                form method="post" action={ "/moderate/items/" (item.id) "/reject" } {
                    (csrf_field(who))
                    p {
                        label for="reason" { "Reason for rejecting (the group will read it)" }
                        textarea #reason name="reason" rows="3" required {}
                    }
                    p { button type="submit" { "Reject" } }
                }
                @if !others.is_empty() {
                    h2 { "Merge with another item" }
                    form method="post" action={ "/moderate/items/" (item.id) "/merge" } {
                        (csrf_field(who))
                        p {
                            label for="into" { "The item this one duplicates" }
                            span.hint #into-hint { "That item stays waiting; this one is closed with the reason “Merged with” its id." }
                            select #into name="into" aria-describedby="into-hint" {
                                @for o in *others {
                                    option value=(o.id) {
                                        (shown_name(o)) " · " (o.kind.as_str()) " · sent " (o.submitted_at)
                                        @if o.service_id == item.service_id { " · same listing" }
                                    }
                                }
                            }
                        }
                        p { button type="submit" { "Merge into the chosen item" } }
                    }
                }
            }
            p { a href="/moderate" { "Back to the queue" } }
        },
    )
}

/// A waiting submission in the group's form, for a moderator to correct before approving.
pub(super) fn edit(
    who: &SignedIn,
    item: &Item,
    fields: &Fields,
    errors: &[FormError],
    notes: &[String],
) -> Markup {
    layout(
        &format!("Edit “{}”", shown_name(item)),
        Some(who),
        html! {
            (form::error_summary(errors))
            p { "Correct what needs correcting and save. The item page then shows this version against the published listing, and approving publishes it. What the group sent stays in the audit." }
            p.notice { "The form holds what a group's form can say: anything else the listing had (its own ids, points, other fields) is rebuilt from these fields when you save." }
            @for n in notes {
                p.notice { "Not shown here: " (n) }
            }
            form method="post" action={ "/moderate/items/" (item.id) "/edit" } novalidate {
                (csrf_field(who))
                (form::fields(fields, errors))
                p { button type="submit" { "Save the edit" } }
            }
            p { a href={ "/moderate/items/" (item.id) } { "Back to the item, unchanged" } }
        },
    )
}

/// The admins' page: every account, a form to add a moderator, and a button to disable one.
pub(super) fn accounts(who: &SignedIn, accounts: &[Account], problem: Option<&str>) -> Markup {
    layout(
        "Accounts",
        Some(who),
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            table {
                caption { "Who can moderate" }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Role" }
                        th scope="col" { "Since" }
                        th scope="col" { "Status" }
                    }
                }
                tbody {
                    @for account in accounts {
                        tr {
                            td { (account.name) }
                            td { (account.role.as_str()) }
                            td { (account.created_at) }
                            td {
                                @if let Some(at) = &account.disabled_at {
                                    "disabled " (at)
                                } @else if account.name == who.name {
                                    "active (you)"
                                } @else {
                                    form.inline method="post" action="/moderate/accounts/disable" {
                                        (csrf_field(who))
                                        input type="hidden" name="name" value=(account.name);
                                        button type="submit" aria-label={ "Disable " (account.name) } { "Disable" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Add a moderator" }
            form method="post" action="/moderate/accounts" {
                (csrf_field(who))
                p {
                    label for="name" { "Name" }
                    input #name type="text" name="name" autocomplete="off" required;
                }
                p {
                    label for="password" { "Password (at least 12 characters; give it to them in person)" }
                    input #password type="password" name="password" autocomplete="new-password" minlength="12" required;
                }
                p { button type="submit" { "Add moderator" } }
            }
        },
    )
}

/// A page that says what went wrong and where to go next.
pub(super) fn problem(title: &str, message: &str, who: Option<&SignedIn>) -> Markup {
    layout(
        title,
        who,
        html! {
            p.problem { (message) }
            p { a href="/moderate" { "Back to the queue" } }
        },
    )
}
