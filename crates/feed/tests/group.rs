//! The groups' web form (`/group`) on the real server binary, posted as a browser without
//! JavaScript posts it: `application/x-www-form-urlencoded` to `POST /submissions`.
use serde_json::{json, Value};

use crate::submissions::{post, walk, DEVICE};
use crate::{feed, Server};

pub(crate) const HOSTILE: &str = "<script>alert(1)</script>";

/// A response, read whole, without following redirects.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the hidden field `name` in the page's first form.
    pub(crate) fn hidden(&self, name: &str) -> String {
        Page::hidden_of(&self.body, name)
    }

    /// The value of the hidden field `name` in the form that posts to `action`.
    pub(crate) fn hidden_in(&self, action: &str, name: &str) -> String {
        let form = format!(r#"action="{action}""#);
        let at = self.body.find(&form).expect("the form");
        Page::hidden_of(&self.body[at..], name)
    }

    fn hidden_of(body: &str, name: &str) -> String {
        let marker = format!(r#"type="hidden" name="{name}" value=""#);
        let at = body.find(&marker).expect("the hidden field") + marker.len();
        body[at..].split('"').next().unwrap().to_string()
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn read(r: reqwest::blocking::Response) -> Page {
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().unwrap(),
    }
}

pub(crate) fn get_page(server: &Server, path: &str) -> Page {
    read(
        client()
            .get(format!("{}{path}", server.base))
            .send()
            .unwrap(),
    )
}

pub(crate) fn post_form(server: &Server, form: &[(&str, &str)]) -> Page {
    read(
        client()
            .post(format!("{}/submissions", server.base))
            .form(form)
            .send()
            .unwrap(),
    )
}

/// A complete, valid form as a group would fill it in (a weekly session and a monthly one).
pub(crate) fn filled(client_id: &str, name: &str) -> Vec<(&'static str, String)> {
    [
        ("client_id", client_id),
        ("name", name),
        ("organization", "Friends of the Park"),
        ("description", "A gentle walk round the park, then tea."),
        ("who_for", "Everyone"),
        ("sessions.0.repeat", "weekly"),
        ("sessions.0.day", "TU"),
        ("sessions.0.opens", "10:00"),
        ("sessions.0.closes", "11:30"),
        ("sessions.1.repeat", "monthly"),
        ("sessions.1.day", "SA"),
        ("sessions.1.nth", "-1"),
        ("sessions.1.opens", "14:00"),
        ("sessions.1.closes", "16:00"),
        ("sessions.2.repeat", "weekly"),
        ("sessions.2.day", ""),
        ("postcode", "bs3 1qg"),
        ("place", "Park gates, North Street"),
        ("access", "drop-in"),
        ("free", "yes"),
        ("wheelchair", "yes"),
        ("domain", "personal-interests"),
        ("interests", "walking"),
        ("interests", "nature"),
        ("languages", "en, cy"),
        ("phone", "0117 496 0000"),
        ("email", "hello@example.org"),
        ("website", "https://example.org/walk"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

pub(crate) fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn queue(data: &std::path::Path) -> Vec<Value> {
    let out = feed(data, &["queue", "--json"]);
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_form_is_a_page_without_script_with_a_label_for_every_field() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&t.path().join("feed"));
    let page = get_page(&server, "/group");
    assert_eq!(page.status, 200);
    for (header, value) in [
        (
            "content-security-policy",
            signpost_feed::CONTENT_SECURITY_POLICY,
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.headers[header], value, "{header}");
    }
    assert!(page.headers.get("access-control-allow-origin").is_none());
    assert!(!page.body.contains("<script"));
    assert!(page
        .body
        .contains(r#"<form method="post" action="/submissions""#));
    // A fresh device id per page served.
    let id = page.hidden("client_id");
    assert_eq!(id.len(), 36, "{id}");
    assert_ne!(get_page(&server, "/group").hidden("client_id"), id);
    // Every control has a label naming it.
    let mut controls = 0;
    for tag in ["<input ", "<select ", "<textarea "] {
        for part in page.body.split(tag).skip(1) {
            let attrs = part.split('>').next().unwrap();
            if attrs.contains(r#"type="hidden""#) {
                continue;
            }
            let id = attrs
                .split(r#"id=""#)
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("a control without an id: {attrs}"));
            assert!(
                page.body.contains(&format!(r#"<label for="{id}""#)),
                "no label for {id}"
            );
            controls += 1;
        }
    }
    assert!(controls > 30, "{controls}");
    assert_eq!(page.body.matches("<legend>").count(), 5 + 3 + 3);
    let css = get_page(&server, "/group/style.css");
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[test]
fn a_form_post_is_stored_once_and_answered_with_its_receipt() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client_id = get_page(&server, "/group").hidden("client_id");
    let form = filled(&client_id, "Park walk");
    let first = post_form(&server, &as_refs(&form));
    assert_eq!(first.status, 303, "{}", first.body);
    let receipt = first.location().to_string();
    assert!(receipt.starts_with("/group/sent/submission-"), "{receipt}");
    // A double click, or the browser sending the page again: the same receipt, stored once.
    let again = post_form(&server, &as_refs(&form));
    assert_eq!((again.status, again.location()), (303, receipt.as_str()));
    let items = queue(&data);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["name"], "Park walk");

    let page = get_page(&server, &receipt);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("in review"), "{}", page.body);
    assert_eq!(
        page.headers["content-security-policy"],
        signpost_feed::CONTENT_SECURITY_POLICY
    );
    // The same item through the JSON status route.
    let id = receipt.rsplit('/').next().unwrap();
    let (status, _, item) = server.get(&format!("/submissions/{id}"));
    assert_eq!((status, item["status"].as_str()), (200, Some("in_review")));
    // What was stored is the app's listing, built by the same form code.
    let service = &items[0]["body"]["service"];
    assert!(service["id"].as_str().unwrap().starts_with("vcse-"));
    assert_eq!(service["schedules"].as_array().unwrap().len(), 2);
    assert_eq!(
        service["service_at_locations"][0]["location"]["addresses"][0]["postal_code"],
        "BS3 1QG"
    );
    assert_eq!(get_page(&server, "/group/sent/nothing").status, 404);

    // The JSON contract is unchanged beside it.
    let (status, r) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 1, "service": walk("json-walk", "Json walk")}),
    );
    assert_eq!(status, 202, "{r}");
}

#[test]
fn a_bad_postcode_comes_back_as_the_form_naming_the_field() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client_id = get_page(&server, "/group").hidden("client_id");
    let mut form = filled(&client_id, "Park walk");
    for (k, v) in form.iter_mut() {
        match *k {
            "postcode" => *v = "ZZ99 9ZZ".into(),
            "sessions.1.closes" => *v = "13:00".into(),
            _ => {}
        }
    }
    let page = post_form(&server, &as_refs(&form));
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("There is a problem"));
    assert!(page.body.contains("<title>Error: Add your group"));
    // The summary links to each field, the message stands beside it, the field says so.
    assert!(
        page.body
            .contains(r##"<a href="#postcode">Postcode: ZZ99 9ZZ is not a postcode we know</a>"##),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            r##"<a href="#sessions-1-closes">Session 2, ends: must be after the start</a>"##
        ),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(r#"<p class="error-message" id="postcode-error">"#));
    assert!(page.body.contains(r#"id="postcode" name="postcode" type="text" value="ZZ99 9ZZ" autocomplete="postal-code" aria-describedby="postcode-hint postcode-error" aria-invalid="true""#), "{}", page.body);
    // What was typed is kept, and so is the page's device id (nothing was stored).
    assert!(page.body.contains(r#"value="Park walk""#));
    assert!(page.body.contains(r#"value="walking" checked"#));
    assert_eq!(page.hidden("client_id"), client_id);
    assert!(queue(&data).is_empty());
    assert_eq!(
        page.headers["content-security-policy"],
        signpost_feed::CONTENT_SECURITY_POLICY
    );
    // Corrected, the same page's post is taken.
    let form = filled(&client_id, "Park walk");
    assert_eq!(post_form(&server, &as_refs(&form)).status, 303);
    assert_eq!(queue(&data).len(), 1);
}

#[test]
fn script_in_every_text_field_is_shown_as_text() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client_id = get_page(&server, "/group").hidden("client_id");
    let text_fields = [
        "name",
        "organization",
        "description",
        "who_for",
        "sessions.0.opens",
        "sessions.0.first_date",
        "postcode",
        "place",
        "languages",
        "phone",
        "email",
        "website",
    ];
    let mut form = filled(&client_id, HOSTILE);
    for (k, v) in form.iter_mut() {
        if text_fields.contains(k) {
            *v = HOSTILE.into();
        }
    }
    form.push(("sessions.0.first_date", HOSTILE.into()));
    let page = post_form(&server, &as_refs(&form));
    assert_eq!(page.status, 422);
    assert!(!page.body.contains("<script"), "{}", page.body);
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(
        page.body.matches(escaped).count() >= text_fields.len() - 1,
        "{}",
        page.body
    );

    // Accepted where the form allows it: the receipt shows the name as text.
    let mut form = filled(&client_id, HOSTILE);
    for (k, v) in form.iter_mut() {
        if ["organization", "description", "who_for", "place"].contains(k) {
            *v = HOSTILE.into();
        }
    }
    let sent = post_form(&server, &as_refs(&form));
    assert_eq!(sent.status, 303, "{}", sent.body);
    let receipt = get_page(&server, sent.location());
    assert!(!receipt.body.contains("<script"));
    assert!(receipt.body.contains(escaped));
    let items = queue(&data);
    assert_eq!(items[0]["body"]["service"]["description"], HOSTILE);
}

#[test]
fn an_oversized_form_is_refused_with_413() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client_id = get_page(&server, "/group").hidden("client_id");
    let long = "walk ".repeat(20_000);
    let mut form = filled(&client_id, "Long walk");
    for (k, v) in form.iter_mut() {
        if *k == "description" {
            *v = long.clone();
        }
    }
    let page = post_form(&server, &as_refs(&form));
    assert_eq!(page.status, 413);
    assert!(queue(&data).is_empty());
}

#[test]
fn a_published_listing_starts_the_form_filled_in() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client_id = get_page(&server, "/group").hidden("client_id");
    let sent = post_form(&server, &as_refs(&filled(&client_id, "Park walk")));
    let id = sent.location().rsplit('/').next().unwrap().to_string();
    assert!(feed(&data, &["approve", &id]).status.success());
    let service_id = queue_item_service(&server, &id);

    let page = get_page(&server, &format!("/group/{service_id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Update “Park walk”"));
    assert_eq!(page.hidden_in("/submissions", "service_id"), service_id);
    assert_ne!(page.hidden_in("/submissions", "client_id"), client_id);
    for kept in [
        r#"value="BS3 1QG""#,
        r#"value="Park gates, North Street""#,
        r#"value="en, cy""#,
        r#"value="drop-in" checked"#,
        r#"value="nature" checked"#,
        r#"<option value="SA" selected>"#,
        r#"<option value="-1" selected>"#,
        r#"value="14:00""#,
    ] {
        assert!(page.body.contains(kept), "{kept}: {}", page.body);
    }
    // Sent back changed: an update of the same listing, waiting for a moderator.
    let mut form = filled(
        &page.hidden_in("/submissions", "client_id"),
        "Park walk (Tuesdays)",
    );
    form.push(("service_id", service_id.clone()));
    let update = post_form(&server, &as_refs(&form));
    assert_eq!(update.status, 303);
    let update_id = update.location().rsplit('/').next().unwrap();
    assert_eq!(queue_item_service(&server, update_id), service_id);
    assert_eq!(get_page(&server, "/group/no-such-listing").status, 404);
}

/// The listing's page offers "still running" as a form of its own: posted (form-encoded, to
/// `POST /reports`), it is stored once however often it is sent, waits as a `still-running`
/// report, and its approval renews the published listing's check date and nothing else.
#[test]
fn a_group_confirms_its_listing_is_still_running_from_its_page() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let listing = {
        let mut l = walk("old-walk", "Old walk");
        l["assured_date"] = json!("2024-01-10");
        l
    };
    let file = t.path().join("walk.json");
    std::fs::write(&file, json!([listing]).to_string()).unwrap();
    assert!(feed(&data, &["import", file.to_str().unwrap()])
        .status
        .success());
    let server = Server::start(&data);
    let (_, _, before) = server.get("/services/old-walk");
    assert_eq!(before["signpost_may_be_out_of_date"], true);

    let page = get_page(&server, "/group/old-walk");
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("This is still running, nothing changed</button>"));
    let confirm_id = page.hidden_in("/reports", "client_id");
    assert_ne!(confirm_id, page.hidden_in("/submissions", "client_id"));
    let form: Vec<(&str, String)> = ["client_id", "service_id", "service_name", "kind"]
        .into_iter()
        .map(|f| (f, page.hidden_in("/reports", f)))
        .collect();
    assert_eq!(form[1].1, "old-walk");
    assert_eq!(form[3].1, "still-running");
    let post = |form: &[(&str, String)]| {
        read(
            client()
                .post(format!("{}/reports", server.base))
                .form(form)
                .send()
                .unwrap(),
        )
    };
    let sent = post(&form);
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(sent.location().starts_with("/group/sent/"));
    assert_eq!(
        post(&form).location(),
        sent.location(),
        "a resend is the same item"
    );
    let receipt = get_page(&server, sent.location());
    assert_eq!(receipt.status, 200);
    assert!(
        receipt.body.contains("your confirmation is in review"),
        "{}",
        receipt.body
    );
    assert!(receipt.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));

    // Only "still running" comes this way.
    let mut closed = form.clone();
    closed[0].1 = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into();
    closed[3].1 = "closed".into();
    assert_eq!(post(&closed).status, 400);

    let waiting = queue(&data);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["body"]["kind"], "still-running");
    let listed = feed(&data, &["queue"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\treport: still-running\tOld walk\t"));
    let id = waiting[0]["id"].as_str().unwrap();
    let approved = feed(&data, &["approve", id]);
    assert!(approved.status.success());
    assert!(String::from_utf8_lossy(&approved.stdout).contains("changing assured_date"));
    let (_, _, after) = server.get("/services/old-walk");
    assert_eq!(
        after["assured_date"],
        chrono::Utc::now().date_naive().to_string()
    );
    assert_eq!(after["signpost_may_be_out_of_date"], false);
    assert_eq!(after["name"], before["name"]);
    assert_eq!(after["description"], before["description"]);
}

fn queue_item_service(server: &Server, id: &str) -> String {
    server.get(&format!("/submissions/{id}")).2["service_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_listing_its_group_keeps_a_key_for_is_not_changed_from_the_web_form() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    // A group's app sent the listing with its key's hash; approving it gives the group the key.
    let hash = "9b1f0e5c1f3b5e0d6c3a2b1e0f9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d";
    let (status, sent) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 1, "edit_key_sha256": hash,
                "service": walk("keyed-walk", "Keyed walk")}),
    );
    assert_eq!(status, 202, "{sent}");
    let id = sent["submission_id"].as_str().unwrap();
    assert!(feed(&data, &["approve", id]).status.success());

    // The web form has no key: the update is refused with a page that says why, and nothing
    // waits for a moderator.
    let page = get_page(&server, "/group/keyed-walk");
    let mut form = filled(
        &page.hidden("client_id"),
        "Keyed walk, renamed by someone else",
    );
    form.push(("service_id", "keyed-walk".into()));
    let refused = post_form(&server, &as_refs(&form));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("looked after by its group"),
        "{}",
        refused.body
    );
    assert!(queue(&data).is_empty());
}
