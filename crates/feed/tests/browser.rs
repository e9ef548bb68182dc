//! The moderation queue in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, through `fantoccini`), against the real server binary. A moderator signs in,
//! finds a listing named with a script, sees it as text, approves one and rejects another; axe
//! checks the sign-in, queue and item pages for WCAG 2.x A/AA problems.
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;
use signpost_browser_test::{axe_check, Chromedriver};

use crate::moderate::{add_admin, ADMIN_PASSWORD};
use crate::submissions::{post, walk, DEVICE};
use crate::Server;

async fn chromium() -> (Chromedriver, Client) {
    signpost_browser_test::chromium(true).await
}

/// Chromium with page scripts allowed or not.
async fn chromium_with(javascript: bool) -> (Chromedriver, Client) {
    signpost_browser_test::chromium(javascript).await
}

/// The page's `h1` once it reads `expected` (a form post navigates a moment after the click),
/// or whatever it last read after a generous wait.
async fn heading(client: &Client, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = match client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen == expected || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

#[test]
fn a_moderator_approves_and_rejects_in_chromium() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    assert!(add_admin(&data, "ann", ADMIN_PASSWORD).status.success());
    let server = Server::start(&data);
    let hostile = "<script>alert(1)</script>";
    let mut ids = Vec::new();
    for (seq, (id, name)) in [("xss-walk", hostile), ("spam-1", "Buy now")]
        .iter()
        .enumerate()
    {
        let (status, r) = post(
            &server,
            "/submissions",
            &json!({"client_id": DEVICE, "seq": seq + 1, "service": walk(id, name)}),
        );
        assert_eq!(status, 202, "{r}");
        ids.push(r["submission_id"].as_str().unwrap().to_string());
    }
    let base = server.base.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (_driver, client) = chromium().await;

            // Signed out, the queue sends the browser to the sign-in form.
            client.goto(&format!("{base}/moderate")).await.unwrap();
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            assert!(client
                .current_url()
                .await
                .unwrap()
                .path()
                .ends_with("/moderate/sign-in"));
            // The stylesheet is allowed by the CSP and applied.
            let colour = client
                .execute(
                    "return getComputedStyle(document.querySelector('header')).backgroundColor",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(colour, "rgb(29, 53, 87)");
            axe_check(&client, "sign-in").await;
            type_into(&client, "#name", "ann").await;
            type_into(&client, "#password", "not the password").await;
            click(&client, "button[type=submit]").await;
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            assert_eq!(
                client
                    .find(Locator::Css(".problem"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
                "The name or password is wrong."
            );
            type_into(&client, "#name", "ann").await;
            type_into(&client, "#password", ADMIN_PASSWORD).await;
            click(&client, "main button[type=submit]").await;
            assert_eq!(
                heading(&client, "Waiting for a moderator").await,
                "Waiting for a moderator"
            );
            axe_check(&client, "queue").await;

            // The script-named listing is a link whose text is the script, and nothing ran.
            let link = client.find(Locator::LinkText(hostile)).await.unwrap();
            let scripts = client
                .execute("return document.scripts.length", vec![])
                .await
                .unwrap();
            assert_eq!(scripts, 0);
            link.click().await.unwrap();
            assert_eq!(heading(&client, hostile).await, hostile);
            axe_check(&client, "item").await;
            // The edit page (the group's form) and its errors: this listing, sent as JSON,
            // has no postcode, which the form asks for.
            client
                .find(Locator::LinkText("Edit before approving"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let edit = format!("Edit “{hostile}”");
            assert_eq!(heading(&client, &edit).await, edit);
            axe_check(&client, "edit").await;
            click(&client, "main form button[type=submit]").await;
            client
                .wait()
                .for_element(Locator::Css(".error-summary a[href='#postcode']"))
                .await
                .unwrap();
            axe_check(&client, "edit with errors").await;
            client
                .find(Locator::LinkText("Back to the item, unchanged"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            assert_eq!(heading(&client, hostile).await, hostile);
            click(&client, "form[action$='/approve'] button").await;
            client
                .wait()
                .for_element(Locator::XPath("//dd[text()='approved']"))
                .await
                .unwrap();

            // Reject the other with a reason.
            client
                .goto(&format!("{base}/moderate/items/{}", ids[1]))
                .await
                .unwrap();
            assert_eq!(heading(&client, "Buy now").await, "Buy now");
            type_into(&client, "#reason", "Not a community group").await;
            click(&client, "form[action$='/reject'] button").await;
            client
                .wait()
                .for_element(Locator::XPath("//dd[text()='rejected']"))
                .await
                .unwrap();

            // Sign out: the queue asks for sign-in again.
            click(&client, "header button").await;
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            client.goto(&format!("{base}/moderate")).await.unwrap();
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            client.close().await.unwrap();
        });

    let (status, _, service) = server.get("/services/xss-walk");
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["name"], hostile);
    assert!(service["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["updated_by"] == "ann"));
    let (_, _, rejected) = server.get(&format!("/submissions/{}", ids[1]));
    assert_eq!(rejected["reason"], "Not a community group");
}

/// Pick `value` in the select `css` by clicking its option, as a person does.
async fn choose(client: &Client, css: &str, value: &str) {
    click(client, &format!("{css} option[value='{value}']")).await;
}

async fn replace_text(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// A group with no app and no JavaScript fills in the web form (once with a mistake), sends
/// it, and reads its receipt; a moderator approves it in the same browser; another device
/// syncs from the feed and finds the group near its postcode. axe checks the form, the form
/// with its errors, and the receipt.
#[test]
fn a_group_sends_the_web_form_without_javascript_and_it_is_published() {
    use signpost_sync::{sync, Options, Outcome};
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    assert!(add_admin(&data, "ann", ADMIN_PASSWORD).status.success());
    let server = Server::start(&data);
    let base = server.base.clone();
    let name = "Riverside <b>walk</b>";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (_driver, client) = chromium_with(false).await;
        // Scripts are off: a page's own script does not run. (WebDriver's own scripts still
        // do, so the checks below can read the page.)
        client
            .goto("data:text/html,<p id=js>off</p><script>js.textContent='on'</script>")
            .await
            .unwrap();
        let js = client.find(Locator::Css("#js")).await.unwrap();
        assert_eq!(js.text().await.unwrap(), "off", "JavaScript is disabled");
        client.goto(&format!("{base}/group")).await.unwrap();
        assert_eq!(heading(&client, "Add your group").await, "Add your group");

        type_into(&client, "#name", name).await;
        type_into(&client, "#organization", "Friends of the River").await;
        type_into(
            &client,
            "#description",
            "A gentle walk by the river, then tea.",
        )
        .await;
        choose(&client, "#sessions-0-repeat", "weekly").await;
        choose(&client, "#sessions-0-day", "WE").await;
        type_into(&client, "#sessions-0-opens", "10:00").await;
        type_into(&client, "#sessions-0-closes", "11:30").await;
        type_into(&client, "#postcode", "ZZ99 9ZZ").await;
        type_into(&client, "#place", "Boathouse, Coronation Road").await;
        click(&client, "#access").await;
        click(&client, "#free").await;
        click(&client, "input[name=interests][value=walking]").await;
        click(&client, "main button[type=submit]").await;

        // The form comes back with the problem at the top, linked to the field beside it.
        let summary = client
            .wait()
            .for_element(Locator::Css(".error-summary"))
            .await
            .unwrap();
        assert!(summary
            .text()
            .await
            .unwrap()
            .contains("Postcode: ZZ99 9ZZ is not a postcode we know"));
        let link = client
            .find(Locator::Css(".error-summary a[href='#postcode']"))
            .await
            .unwrap();
        link.click().await.unwrap();
        assert_eq!(
            client.current_url().await.unwrap().fragment(),
            Some("postcode")
        );
        let beside = client
            .find(Locator::Css("#postcode-error"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            beside.starts_with("Error:") && beside.ends_with("ZZ99 9ZZ is not a postcode we know"),
            "{beside}"
        );
        // What was typed is still there.
        let kept = client
            .find(Locator::Css("#name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some(name));
        replace_text(&client, "#postcode", "BS3 1QG").await;
        click(&client, "main button[type=submit]").await;
        let thanks = "Thank you: your listing is in review";
        assert_eq!(heading(&client, thanks).await, thanks);
        let receipt = client.current_url().await.unwrap();
        assert!(receipt.path().starts_with("/group/sent/submission-"));
        let text = client
            .find(Locator::Css(".confirmation"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains(name) && text.contains("in review"), "{text}");
        // The moderator, in the same browser.
        client.goto(&format!("{base}/moderate")).await.unwrap();
        assert_eq!(heading(&client, "Sign in").await, "Sign in");
        type_into(&client, "#name", "ann").await;
        type_into(&client, "#password", ADMIN_PASSWORD).await;
        click(&client, "main button[type=submit]").await;
        assert_eq!(
            heading(&client, "Waiting for a moderator").await,
            "Waiting for a moderator"
        );
        assert_eq!(
            client
                .find_all(Locator::Css("tbody tr"))
                .await
                .unwrap()
                .len(),
            1,
            "sent once"
        );
        client
            .find(Locator::LinkText(name))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(heading(&client, name).await, name);
        click(&client, "form[action$='/approve'] button").await;
        client
            .wait()
            .for_element(Locator::XPath("//dd[text()='approved']"))
            .await
            .unwrap();
        client.close().await.unwrap();

        // axe needs scripts: the same pages in a browser that runs them.
        let (_driver, client) = chromium_with(true).await;
        client.goto(&format!("{base}/group")).await.unwrap();
        assert_eq!(heading(&client, "Add your group").await, "Add your group");
        axe_check(&client, "the group form").await;
        type_into(&client, "#name", name).await;
        type_into(&client, "#sessions-0-opens", "25:00").await;
        click(&client, "main button[type=submit]").await;
        client
            .wait()
            .for_element(Locator::Css(".error-summary"))
            .await
            .unwrap();
        let focused = client
            .execute("return document.activeElement.className", vec![])
            .await
            .unwrap();
        assert_eq!(focused, "error-summary", "the summary is focused on load");
        axe_check(&client, "the group form with errors").await;
        client.goto(receipt.as_str()).await.unwrap();
        assert_eq!(heading(&client, "Your listing").await, "Your listing");
        axe_check(&client, "the receipt").await;
        client.close().await.unwrap();
    });

    // Published: another device syncs from the feed and finds it near its postcode.
    let mut app = signpost_directory::Directory::open(&t.path().join("app.db")).unwrap();
    let outcome = sync(&mut app, &base, &Options::default(), &mut |_| {}).unwrap();
    assert!(
        matches!(outcome, Outcome::UpToDate { applied: 1.., .. }),
        "{outcome:?}"
    );
    let here = signpost_postcodes::Gazetteer::embedded()
        .resolve("BS3 1QG")
        .unwrap();
    let near = app
        .near(
            &signpost_directory::NearQuery::at(here.latitude, here.longitude),
            std::time::SystemTime::now().into(),
        )
        .unwrap();
    let found = near
        .iter()
        .find(|r| app.listing(&r.service_id).unwrap().service.name == name)
        .expect("the group is found near its postcode");
    assert!(found.distance_m < 50.0, "{}", found.distance_m);
}
