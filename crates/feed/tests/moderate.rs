//! The moderators' web queue (`/moderate`) on the real server binary: accounts from the
//! command line, sign-in, CSRF and Origin checks, escaping, approve and reject.
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::submissions::{post, walk, DEVICE};
use crate::Server;

pub(crate) const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub(crate) fn add_admin(data: &Path, name: &str, password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signpost-feed"))
        .arg("--data")
        .arg(data)
        .args(["add-admin", name])
        .env("SIGNPOST_ADMIN_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_first_admin_is_made_from_the_command_line() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let short = add_admin(&data, "ann", "eleven char");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let made = add_admin(&data, "ann", ADMIN_PASSWORD);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = add_admin(&data, "ANN", ADMIN_PASSWORD);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already an account"));
    // The password is not echoed anywhere.
    for out in [&short, &made, &again] {
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(!String::from_utf8_lossy(&all).contains(ADMIN_PASSWORD));
    }
}

/// A browser without JavaScript: follows no redirects by itself, keeps cookies by name, and
/// sends what a same-site form post sends (`Origin` of the server itself).
struct Browser {
    client: reqwest::blocking::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

/// A response, read whole.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token in the page's first form.
    fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let at = self.body.find(marker).expect("a form with a CSRF token") + marker.len();
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl Browser {
    fn new(server: &Server) -> Browser {
        Browser {
            client: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: reqwest::blocking::Response) -> Page {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.into(), val.into());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Page {
            status,
            headers,
            body: r.text().unwrap(),
        }
    }

    fn get(&mut self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .unwrap();
        self.keep(r)
    }

    /// A form post with extra headers (`Origin` is the server's own unless given).
    fn post_with(&mut self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        if !headers.iter().any(|(k, _)| *k == "origin") {
            req = req.header("origin", &self.base);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().unwrap();
        self.keep(r)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[])
    }

    fn sign_in(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/moderate/sign-in");
        let csrf = form.csrf();
        self.post(
            "/moderate/sign-in",
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
    }
}

fn with_admin(t: &tempfile::TempDir) -> (std::path::PathBuf, Server) {
    let data = t.path().join("feed");
    assert!(add_admin(&data, "ann", ADMIN_PASSWORD).status.success());
    let server = Server::start(&data);
    (data, server)
}

fn submit(server: &Server, seq: u64, id: &str, name: &str) -> String {
    let (status, r) = post(
        server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": seq, "service": walk(id, name)}),
    );
    assert_eq!(status, 202, "{r}");
    r["submission_id"].as_str().unwrap().to_string()
}

fn status_of(server: &Server, id: &str) -> Value {
    server.get(&format!("/submissions/{id}")).2
}

#[test]
fn sign_in_is_required_and_a_wrong_password_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let mut b = Browser::new(&server);
    for path in ["/moderate", "/moderate/items/x", "/moderate/accounts"] {
        let page = b.get(path);
        assert_eq!(
            (page.status, page.location()),
            (303, "/moderate/sign-in"),
            "{path}"
        );
    }
    let form = b.get("/moderate/sign-in");
    assert_eq!(form.status, 200);
    for (header, value) in [
        (
            "content-security-policy",
            signpost_feed::CONTENT_SECURITY_POLICY,
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(form.headers[header], value, "{header}");
    }
    assert!(
        form.headers.get("access-control-allow-origin").is_none(),
        "no other site may read these pages"
    );
    let css = b.get("/moderate/style.css");
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    let wrong = b.sign_in("ann", "correct horse battery stapler");
    assert_eq!(wrong.status, 401);
    assert!(!b.cookies.contains_key("signpost_session"));
    let unknown = b.sign_in("nobody", ADMIN_PASSWORD);
    assert_eq!(unknown.status, 401);
    let refusal = |p: &Page| p.body.replace(&p.csrf(), "");
    assert_eq!(refusal(&wrong), refusal(&unknown), "one answer for both");
    assert!(wrong.body.contains("The name or password is wrong."));

    // Without the sign-in form's own token the post is refused.
    let mut other = Browser::new(&server);
    let forged = other.post(
        "/moderate/sign-in",
        &[("csrf", "0"), ("name", "ann"), ("password", ADMIN_PASSWORD)],
    );
    assert_eq!(forged.status, 403);

    let ok = b.sign_in("ann", ADMIN_PASSWORD);
    assert_eq!((ok.status, ok.location()), (303, "/moderate"));
    let cookie = ok.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("signpost_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/moderate"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "only with --secure-cookies");
    let queue = b.get("/moderate");
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Nothing is waiting."));

    // Signing out ends the session on the server, not just in the browser.
    let session = b.cookies["signpost_session"].clone();
    let csrf = queue.csrf();
    assert_eq!(b.post("/moderate/sign-out", &[("csrf", &csrf)]).status, 303);
    b.cookies.insert("signpost_session".into(), session);
    assert_eq!(b.get("/moderate").status, 303);
}

#[test]
fn secure_cookies_when_asked() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    assert!(add_admin(&data, "ann", ADMIN_PASSWORD).status.success());
    let server = Server::start_with(&data, &["--secure-cookies"]);
    let ok = Browser::new(&server).sign_in("ann", ADMIN_PASSWORD);
    assert_eq!(ok.status, 303);
    assert!(ok.headers["set-cookie"]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
}

#[test]
fn a_csrf_attempt_is_refused_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let id = submit(&server, 1, "csrf-walk", "Canal walk");
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 303);
    let page = b.get(&format!("/moderate/items/{id}"));
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    let approve = format!("/moderate/items/{id}/approve");
    let reject = format!("/moderate/items/{id}/reject");
    type Fields<'a> = Vec<(&'a str, &'a str)>;
    let attempts: Vec<(&str, Fields, Fields)> = vec![
        ("no token", vec![], vec![]),
        ("wrong token", vec![("csrf", "0123abcd")], vec![]),
        (
            "foreign origin",
            vec![("csrf", &csrf)],
            vec![("origin", "http://evil.example")],
        ),
        (
            "null origin",
            vec![("csrf", &csrf)],
            vec![("origin", "null")],
        ),
        (
            "null origin from another site",
            vec![("csrf", &csrf)],
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        ),
        (
            "cross-site fetch",
            vec![("csrf", &csrf)],
            vec![("sec-fetch-site", "cross-site")],
        ),
    ];
    for (what, form, headers) in &attempts {
        for path in [&approve, &reject] {
            let mut form = form.clone();
            form.push(("reason", "forged"));
            let r = b.post_with(path, &form, headers);
            assert_eq!(r.status, 403, "{what} on {path}");
        }
    }
    assert_eq!(status_of(&server, &id)["status"], "in_review");
    assert_eq!(server.get("/services/csrf-walk").0, 404);
    let accounts = b.post_with(
        "/moderate/accounts",
        &[
            ("csrf", "wrong"),
            ("name", "mallory"),
            ("password", "mallory's password"),
        ],
        &[],
    );
    assert_eq!(accounts.status, 403);
    assert!(!b.get("/moderate/accounts").body.contains("mallory"));

    // The same session's own form, from its own page, works.
    let r = b.post(&approve, &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(status_of(&server, &id)["status"], "approved");
}

#[test]
fn script_in_a_name_is_shown_as_text_and_decisions_publish() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let hostile = "<script>alert(1)</script>";
    let id = submit(&server, 1, "xss-walk", hostile);
    let spam = submit(&server, 2, "spam-1", "Buy now");
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 303);

    let queue = b.get("/moderate");
    let item = b.get(&format!("/moderate/items/{id}"));
    for page in [&queue, &item] {
        assert_eq!(page.status, 200);
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.body.contains("<script"), "{}", page.body);
    }
    assert!(item.body.contains("A new listing"));
    // Search by name and filter by kind.
    assert!(b.get("/moderate?q=BUY").body.contains("Buy now"));
    assert!(!b.get("/moderate?q=BUY").body.contains("alert(1)"));
    assert!(b
        .get("/moderate?q=buy&kind=report")
        .body
        .contains("Nothing is waiting."));

    // Approve: published through the feed's log, with the moderator in the audit.
    let csrf = item.csrf();
    let r = b.post(&format!("/moderate/items/{id}/approve"), &[("csrf", &csrf)]);
    assert_eq!(
        (r.status, r.location()),
        (303, format!("/moderate/items/{id}").as_str())
    );
    let (status, _, service) = server.get("/services/xss-walk");
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["name"], hostile);
    let meta = service["metadata"].as_array().unwrap();
    assert!(
        meta.iter()
            .any(|m| m["field_name"] == "name" && m["updated_by"] == "ann"),
        "{meta:?}"
    );
    let decided = b.get(&format!("/moderate/items/{id}"));
    assert!(decided.body.contains(" by ann"));
    assert!(!decided.body.contains("Approve and publish"));
    let again = b.post(&format!("/moderate/items/{id}/approve"), &[("csrf", &csrf)]);
    assert_eq!(again.status, 409);

    // An update shows its changes field by field against what is published.
    let update = submit(&server, 3, "xss-walk", "Canal walk");
    let diff = b.get(&format!("/moderate/items/{update}"));
    assert!(diff.body.contains("Changes against the published listing"));
    // Sent with no edit key for a listing that has none: the moderator is told to check.
    assert!(
        diff.body.contains("Unverified: no edit key"),
        "{}",
        diff.body
    );
    assert!(
        diff.body.contains("Fields that differ (1)"),
        "{}",
        diff.body
    );
    assert!(diff
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;</td><td class=\"new\">Canal walk</td>"));

    // Reject: a reason is needed, and the group sees it.
    let empty = b.post(
        &format!("/moderate/items/{spam}/reject"),
        &[("csrf", &csrf), ("reason", "  ")],
    );
    assert_eq!(empty.status, 422);
    assert_eq!(status_of(&server, &spam)["status"], "in_review");
    let r = b.post(
        &format!("/moderate/items/{spam}/reject"),
        &[("csrf", &csrf), ("reason", "Not a <community> group")],
    );
    assert_eq!(r.status, 303);
    let s = status_of(&server, &spam);
    assert_eq!(
        (s["status"].as_str(), s["reason"].as_str()),
        (Some("rejected"), Some("Not a <community> group"))
    );
    assert!(b
        .get(&format!("/moderate/items/{spam}"))
        .body
        .contains("Not a &lt;community&gt; group"));
}

#[test]
fn admins_manage_moderators() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let mut admin = Browser::new(&server);
    assert_eq!(admin.sign_in("ann", ADMIN_PASSWORD).status, 303);
    let page = admin.get("/moderate/accounts");
    let csrf = page.csrf();
    let short = admin.post(
        "/moderate/accounts",
        &[("csrf", &csrf), ("name", "bo"), ("password", "short")],
    );
    assert_eq!(short.status, 422);
    assert!(short.body.contains("at least 12 characters"));
    let added = admin.post(
        "/moderate/accounts",
        &[
            ("csrf", &csrf),
            ("name", "bo"),
            ("password", "bo's long password"),
        ],
    );
    assert_eq!(added.status, 303);

    let mut bo = Browser::new(&server);
    assert_eq!(bo.sign_in("bo", "bo's long password").status, 303);
    assert_eq!(bo.get("/moderate").status, 200);
    let not_admin = bo.get("/moderate/accounts");
    assert_eq!(not_admin.status, 403);
    let bo_csrf = bo.get("/moderate").csrf();
    let r = bo.post(
        "/moderate/accounts",
        &[
            ("csrf", &bo_csrf),
            ("name", "cy"),
            ("password", "cy's long password"),
        ],
    );
    assert_eq!(r.status, 403);

    let r = admin.post(
        "/moderate/accounts/disable",
        &[("csrf", &csrf), ("name", "bo")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(bo.get("/moderate").status, 303, "bo's session ended");
    assert_eq!(bo.sign_in("bo", "bo's long password").status, 401);
    let list = admin.get("/moderate/accounts");
    assert!(list.body.contains("disabled"));
    assert!(!list.body.contains("cy"));
}

/// Guessing passwords is held back per address: after a burst, 429 with `Retry-After`, and the
/// right password is refused too until the wait is over (the limit is on attempts, not failures).
#[test]
fn rapid_sign_in_attempts_are_held_back() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let mut b = Browser::new(&server);
    let mut statuses = Vec::new();
    for i in 0..25 {
        let page = b.sign_in("ann", &format!("guess number {i} of many"));
        statuses.push(page.status);
        if page.status == 429 {
            assert!(page.headers.get("retry-after").is_some());
            assert!(
                page.body.contains("Too many sign-in attempts"),
                "{}",
                page.body
            );
        }
    }
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert!((1..=12).contains(&refused) && held >= 13, "{statuses:?}");
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 429);
    // Everything else still answers.
    assert_eq!(b.get("/moderate/sign-in").status, 200);
    assert_eq!(b.get("/sync/head").status, 200);
}

/// The edit page's post: the group's fields as `crate::group::filled` gives them, changed.
fn edited(csrf: &str, name: &str, postcode: &str) -> Vec<(&'static str, String)> {
    let mut form = crate::group::filled("", name);
    form.retain(|(k, _)| *k != "client_id");
    for (k, v) in form.iter_mut() {
        if *k == "postcode" {
            *v = postcode.into();
        }
    }
    form.push(("csrf", csrf.into()));
    form
}

#[test]
fn a_moderator_edits_a_submission_before_approving_it() {
    use crate::group::{as_refs, filled, get_page, post_form};
    let t = tempfile::tempdir().unwrap();
    let (data, server) = with_admin(&t);
    // A published listing, and an update of it sent through the web form with a typo.
    let client_id = get_page(&server, "/group").hidden("client_id");
    let first = post_form(&server, &as_refs(&filled(&client_id, "Park walk")));
    let first_id = first.location().rsplit('/').next().unwrap().to_string();
    assert!(crate::feed(&data, &["approve", &first_id]).status.success());
    let service_id = status_of(&server, &first_id)["service_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut update = filled(
        &get_page(&server, "/group").hidden("client_id"),
        "Park wlak",
    );
    update.push(("service_id", service_id.clone()));
    let sent = post_form(&server, &as_refs(&update));
    let id = sent.location().rsplit('/').next().unwrap().to_string();

    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 303);
    let item = b.get(&format!("/moderate/items/{id}"));
    let edit_path = format!("/moderate/items/{id}/edit");
    assert!(item.body.contains(&format!(r#"href="{edit_path}""#)));
    let page = b.get(&edit_path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"value="Park wlak""#));
    assert!(page.body.contains(r#"value="BS3 1QG""#));
    assert_eq!(
        page.headers["content-security-policy"],
        signpost_feed::CONTENT_SECURITY_POLICY
    );
    let csrf = page.csrf();

    // Forged: refused, nothing changed.
    let forged = edited("0123", "Forged", "BS3 1QG");
    assert_eq!(b.post(&edit_path, &as_refs(&forged)).status, 403);
    let foreign = edited(&csrf, "Forged", "BS3 1QG");
    let r = b.post_with(
        &edit_path,
        &as_refs(&foreign),
        &[("origin", "http://evil.example")],
    );
    assert_eq!(r.status, 403);
    // A field error comes back beside its field, nothing stored.
    let bad = edited(&csrf, "Park walk", "ZZ99 9ZZ");
    let r = b.post(&edit_path, &as_refs(&bad));
    assert_eq!(r.status, 422);
    assert!(r.body.contains(r##"<a href="#postcode">"##), "{}", r.body);
    assert!(r.body.contains(r#"value="Park walk""#));
    assert_eq!(status_of(&server, &id)["status"], "in_review");
    assert!(b
        .get(&format!("/moderate/items/{id}"))
        .body
        .contains("Park wlak"));

    // Saved: the diff shows the revised version against the published one.
    let good = edited(&csrf, "Park walk <i>(Tuesdays)</i>", "BS3 1QG");
    let r = b.post(&edit_path, &as_refs(&good));
    assert_eq!(
        (r.status, r.location()),
        (303, format!("/moderate/items/{id}").as_str()),
        "{}",
        r.body
    );
    let item = b.get(&format!("/moderate/items/{id}"));
    assert!(
        item.body.contains("Fields that differ (1)"),
        "{}",
        item.body
    );
    assert!(item.body.contains(
        "<td class=\"old\">Park walk</td><td class=\"new\">Park walk &lt;i&gt;(Tuesdays)&lt;/i&gt;</td>"
    ));
    assert!(item.body.contains("Edited by moderators"));
    assert!(item.body.contains(
        "<td class=\"old\">Park wlak</td><td class=\"new\">Park walk &lt;i&gt;(Tuesdays)&lt;/i&gt;</td><td>ann, "
    ));
    // Approval publishes the revised listing.
    let r = b.post(&format!("/moderate/items/{id}/approve"), &[("csrf", &csrf)]);
    assert_eq!(r.status, 303);
    let (_, _, service) = server.get(&format!("/services/{service_id}"));
    assert_eq!(service["name"], "Park walk <i>(Tuesdays)</i>");
    // A decided item is not edited.
    assert_eq!(b.get(&edit_path).status, 409);
    assert_eq!(b.post(&edit_path, &as_refs(&good)).status, 409);
}

#[test]
fn a_duplicate_is_merged_into_the_other_item() {
    let t = tempfile::tempdir().unwrap();
    let (_data, server) = with_admin(&t);
    let other = submit(&server, 1, "other-walk", "Another walk");
    let first = submit(&server, 2, "dup-walk", "Canal walk");
    let second = submit(&server, 3, "dup-walk", "Canal walk (again)");
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 303);
    let page = b.get(&format!("/moderate/items/{second}"));
    assert!(page.body.contains("Merge with another item"));
    // The same listing's item is offered first.
    let offered = page.body.split(r#"<select id="into""#).nth(1).unwrap();
    let at = |id: &str| offered.find(&format!(r#"value="{id}""#)).unwrap();
    assert!(at(&first) < at(&other), "{offered}");
    assert!(!offered.contains(&format!(r#"value="{second}""#)));
    assert!(offered.contains("same listing"));
    let csrf = page.csrf();
    let merge = format!("/moderate/items/{second}/merge");

    assert_eq!(
        b.post(&merge, &[("csrf", "0"), ("into", &first)]).status,
        403
    );
    let itself = b.post(&merge, &[("csrf", &csrf), ("into", &second)]);
    assert_eq!(itself.status, 422);
    assert!(itself.body.contains("cannot be merged with itself"));
    assert_eq!(status_of(&server, &second)["status"], "in_review");

    let r = b.post(&merge, &[("csrf", &csrf), ("into", &first)]);
    assert_eq!(
        (r.status, r.location()),
        (303, format!("/moderate/items/{first}").as_str())
    );
    let merged = status_of(&server, &second);
    assert_eq!(merged["status"], "rejected");
    assert_eq!(merged["reason"], format!("Merged with {first}"));
    assert_eq!(status_of(&server, &first)["status"], "in_review");
    let closed = b.get(&format!("/moderate/items/{second}"));
    assert!(closed.body.contains(&format!(
        r#"Merged with <a href="/moderate/items/{first}">{first}</a>"#
    )));
    assert!(!closed.body.contains("Approve and publish"));
    let queue = b.get("/moderate");
    assert!(queue.body.contains("2 waiting"));
    assert!(!queue.body.contains("Canal walk (again)"));
    // Merging again, or into a closed item, is refused.
    let again = b.post(&merge, &[("csrf", &csrf), ("into", &first)]);
    assert_eq!(again.status, 409);
    let into_closed = b.post(
        &format!("/moderate/items/{first}/merge"),
        &[("csrf", &csrf), ("into", &second)],
    );
    assert_eq!(into_closed.status, 422);
}

/// The queue and the stale list as CSV: only for a signed-in moderator, as a download, and with
/// a name a spreadsheet would run as a formula written as text; the command line's `queue --csv`
/// is the same file.
#[test]
fn moderators_export_the_queue_and_the_stale_list_as_csv() {
    let t = tempfile::tempdir().unwrap();
    let (data, server) = with_admin(&t);
    let file = t.path().join("old.json");
    let mut old = walk("old-walk", "@SUM(1+1) walk");
    old["assured_date"] = json!("2020-01-01");
    old["email"] = json!("walks@example.org");
    std::fs::write(
        &file,
        json!([old, walk("never-checked", "Never checked")]).to_string(),
    )
    .unwrap();
    assert!(crate::feed(&data, &["import", file.to_str().unwrap()])
        .status
        .success());
    submit(
        &server,
        1,
        "walk-1",
        "=HYPERLINK(\"http://evil.example\",\"Click\")",
    );
    submit(&server, 2, "walk-2", "Tea, cake and \"chat\"");

    let mut b = Browser::new(&server);
    for path in ["/moderate/queue.csv", "/moderate/stale.csv"] {
        let page = b.get(path);
        assert_eq!(
            (page.status, page.location()),
            (303, "/moderate/sign-in"),
            "{path} signed out"
        );
        assert!(!page.body.contains("walk"), "nothing of the data: {path}");
    }
    assert_eq!(b.sign_in("ann", ADMIN_PASSWORD).status, 303);
    let queue_page = b.get("/moderate");
    assert!(queue_page
        .body
        .contains(r#"href="/moderate/queue.csv?q=&amp;kind=""#));
    assert!(queue_page.body.contains(r#"href="/moderate/stale.csv""#));

    let queue = b.get("/moderate/queue.csv");
    assert_eq!(queue.status, 200);
    assert_eq!(queue.headers["content-type"], "text/csv; charset=utf-8");
    let disposition = queue.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"queue-") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let lines: Vec<&str> = queue.body.lines().collect();
    assert_eq!(lines[0], "id,kind,name,service_id,submitted_at");
    assert_eq!(lines.len(), 3, "{}", queue.body);
    // Both were sent within the same second: found by listing, not by place.
    let line = |service: &str| {
        *lines
            .iter()
            .find(|l| l.contains(&format!(",{service},")))
            .unwrap_or_else(|| panic!("{service} in {lines:?}"))
    };
    assert!(
        line("walk-1").contains(
            ",submission,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",walk-1,"
        ),
        "{}",
        line("walk-1")
    );
    assert!(
        line("walk-2").contains(",\"Tea, cake and \"\"chat\"\"\",walk-2,"),
        "{}",
        line("walk-2")
    );
    let cli = crate::feed(&data, &["queue", "--csv"]);
    assert_eq!(String::from_utf8(cli.stdout).unwrap(), queue.body);
    // Narrowed as the page is.
    let narrowed = b.get("/moderate/queue.csv?q=tea&kind=submission");
    assert_eq!(narrowed.body.lines().count(), 2, "{}", narrowed.body);

    let stale = b.get("/moderate/stale.csv");
    assert_eq!(stale.status, 200);
    assert!(stale.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"stale-"));
    assert_eq!(
        stale.body,
        "service_id,name,last_checked,email\n\
         never-checked,Never checked,,\n\
         old-walk,'@SUM(1+1) walk,2020-01-01,walks@example.org\n"
    );
}
