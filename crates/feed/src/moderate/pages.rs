//! The queue's HTML. Every page is built with `maud`, which escapes each value it is given, so
//! what a group typed (a name like `<script>…`) is shown as text. No page needs JavaScript.
use maud::{html, Markup, DOCTYPE};
use signpost_moderation::{Account, FieldChange, Item, KeyProof, Kind, Role, SignedIn, Status};

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
                                td { (item.kind.as_str()) }
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
/// decisions still open.
pub(super) fn item(
    who: &SignedIn,
    item: &Item,
    changes: &Result<Vec<FieldChange>, String>,
    published: bool,
    problem: Option<&str>,
) -> Markup {
    let sent = serde_json::to_string_pretty(&item.body).unwrap_or_default();
    layout(
        shown_name(item),
        Some(who),
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            dl {
                dt { "Kind" } dd { (item.kind.as_str()) }
                dt { "Listing" } dd { code { (item.service_id) } }
                dt { "Status" } dd { (status_words(item.status)) }
                dt { "Sent" } dd { (item.submitted_at) }
                @if let (Some(at), Some(by)) = (&item.decided_at, &item.decided_by) {
                    dt { "Decided" } dd { (at) " by " (by) }
                }
                @if !item.reason.is_empty() {
                    dt { "Reason" } dd { (item.reason) }
                }
                @if let Some(words) = key_words(item, published) {
                    dt { "Edit key" } dd.key { (words) }
                }
            }
            @if item.kind == Kind::Submission {
                h2 {
                    @if published { "Changes against the published listing" }
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
            h2 { "What was sent" }
            pre.sent { (sent) }
            @if item.status == Status::InReview {
                h2 { "Decide" }
                form method="post" action={ "/moderate/items/" (item.id) "/approve" } {
                    (csrf_field(who))
                    p { button type="submit" { "Approve and publish" } }
                }
                form method="post" action={ "/moderate/items/" (item.id) "/reject" } {
                    (csrf_field(who))
                    p {
                        label for="reason" { "Reason for rejecting (the group will read it)" }
                        textarea #reason name="reason" rows="3" required {}
                    }
                    p { button type="submit" { "Reject" } }
                }
            }
            p { a href="/moderate" { "Back to the queue" } }
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
