//! End-to-end tests of the real app: the built `signpost-app` binary under Xvfb, driven through
//! tauri-driver and WebKitWebDriver (WebDriver), against real SQLite files and, for sync, the
//! real feed server on 127.0.0.1. Screenshots land in `target/e2e-screenshots/`.
//!
//! Needs Xvfb, WebKitWebDriver and tauri-driver (`scripts/setup-system.sh` installs them).
mod caseload;
mod coverage;
mod crash;
mod driver;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use driver::*;
use serde_json::{json, Value};
use signpost_directory::Directory;

#[test]
fn postcode_search_and_every_filter() {
    run(async {
        let app = launch(data_with_fixture()).await;
        assert_eq!(app.client.title().await.unwrap(), "Signpost");

        search_for(&app, "bs3").await;
        let all = result_names(&app).await;
        assert_eq!(all.len(), 5, "{all:?}");
        assert_eq!(all[0], "Bedminster Walking Group", "nearest first");
        let status = text(&app, "#results-status").await;
        assert!(status.contains("5 places within 10 km of BS3"), "{status}");
        screenshot(&app, "near", 1280, 800).await;
        screenshot(&app, "near", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "near me").await;

        toggle(&app, "#f-no_referral").await;
        let names = result_names(&app).await;
        assert!(
            !names.contains(&"Wellbeing Clinic".to_string()),
            "{names:?}"
        );
        assert_eq!(names.len(), 4, "{names:?}");
        toggle(&app, "#f-no_referral").await;

        toggle(&app, "#f-free").await;
        assert_eq!(
            result_names(&app).await,
            [
                "Bedminster Walking Group",
                "Wellbeing Clinic",
                "Evening Listening Line"
            ]
        );
        toggle(&app, "#f-wheelchair").await;
        assert_eq!(result_names(&app).await, ["Bedminster Walking Group"]);
        // The matches that do not say whether they are step-free, or free, are counted, and
        // shown after on request, each marked with what it leaves out.
        let note = text(&app, "#unstated-note").await;
        assert!(
            note.starts_with(
                "3 more places do not say whether they have step-free access or whether they are free."
            ),
            "{note}"
        );
        toggle(&app, "#include-unstated").await;
        let names = result_names(&app).await;
        assert_eq!(
            names[..3],
            [
                "Bedminster Walking Group",
                "Wellbeing Clinic",
                "Evening Listening Line"
            ]
        );
        assert_eq!(
            names.len(),
            4,
            "and the club that states neither: {names:?}"
        );
        let marked = js(
            &app,
            "return [...document.querySelectorAll('#results .result')].map(r => [...r.querySelectorAll('.badge')].map(b => b.textContent).filter(t => t.endsWith('not stated')))",
        )
        .await;
        assert_eq!(
            marked,
            json!([
                [],
                ["Step-free access not stated"],
                ["Step-free access not stated"],
                ["Step-free access not stated", "Cost not stated"]
            ])
        );
        toggle(&app, "#f-wheelchair").await;
        toggle(&app, "#f-free").await;

        choose(&app, "#f-domain", "health-and-social-care").await;
        assert_eq!(result_names(&app).await, ["Wellbeing Clinic"]);
        choose(&app, "#f-domain", "").await;
        toggle(&app, "#f-interest-music").await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);
        // Several interests: any of them matches (a connector's "music or walking").
        toggle(&app, "#f-interest-walking").await;
        let either = result_names(&app).await;
        assert!(
            either.contains(&"Southville Community Choir".to_string())
                && either.contains(&"Bedminster Walking Group".to_string()),
            "{either:?}"
        );
        toggle(&app, "#f-interest-music").await;
        toggle(&app, "#f-interest-walking").await;
        choose(&app, "#f-language", "Urdu").await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);
        choose(&app, "#f-language", "").await;
        choose(&app, "#f-attendance", "online").await;
        assert_eq!(result_names(&app).await, ["Wellbeing Clinic"]);
        choose(&app, "#f-attendance", "in-person").await;
        assert_eq!(result_names(&app).await.len(), 4);
        choose(&app, "#f-attendance", "").await;

        // A chosen day and time, in UK form: the next Tuesday, 10:30; only the walk is on.
        let tuesday_option = js(
            &app,
            "const o = [...document.querySelectorAll('#f-when-day option')].find(o => o.textContent.startsWith('Tue '));
             document.querySelector('#f-when-day').value = o.value;
             document.querySelector('#f-when-time').value = '10:30';
             return o.textContent;",
        )
        .await;
        let shown = tuesday_option.as_str().unwrap();
        assert!(
            shown.len() >= 14 && shown.split(' ').count() == 4,
            "a day in UK form, e.g. Tue 1 Dec 2026: {shown}"
        );
        choose(&app, "#f-when", "at").await;
        // Those on then, then those that do not say when they run (not dropped), marked so.
        let then = result_names(&app).await;
        assert_eq!(
            then[..2],
            ["Bedminster Walking Group", "Evening Listening Line"]
        );
        assert!(then.contains(&"Wellbeing Clinic".to_string()), "{then:?}");
        let untimed = js(
            &app,
            "return [...document.querySelectorAll('#results .result')].slice(2).every(r => r.textContent.includes('Times not given'))",
        )
        .await;
        assert_eq!(untimed, true, "{then:?}");
        // A connector's question: Tuesday mornings this week.
        choose(&app, "#f-when", "this-week").await;
        toggle(&app, "#f-day-tue").await;
        toggle(&app, "#f-part-morning").await;
        let tuesday = result_names(&app).await;
        assert!(
            tuesday.contains(&"Bedminster Walking Group".to_string()),
            "{tuesday:?}"
        );
        toggle(&app, "#f-part-morning").await;
        toggle(&app, "#f-part-afternoon").await;
        let afternoon = result_names(&app).await;
        assert!(
            !afternoon.contains(&"Bedminster Walking Group".to_string()),
            "the walk is 10:00 to 12:00: {afternoon:?}"
        );
        choose(&app, "#f-when", "open-now").await;
        let open_now = result_names(&app).await;
        assert!(
            open_now.contains(&"Evening Listening Line".to_string()),
            "{open_now:?}"
        );
        // No hours: never said to be open, only listed after those that are, as unknown.
        let clinic = js(
            &app,
            "const r = [...document.querySelectorAll('#results .result')].find(r => r.textContent.includes('Wellbeing Clinic')); return r ? r.textContent : ''",
        )
        .await;
        let clinic = clinic.as_str().unwrap_or_default();
        assert!(
            clinic.contains("Times not given") && !clinic.contains("Open now"),
            "{clinic}"
        );
        assert_eq!(open_now[0], "Evening Listening Line", "{open_now:?}");
        choose(&app, "#f-when", "any").await;

        let before = searches(&app).await;
        find(&app, "#f-text").await.send_keys("sing").await.unwrap();
        and_settle(&app, before).await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);

        // Filters are kept while moving between screens.
        click(&app, "a[data-tab=saved]").await;
        wait_until(
            &app,
            "saved screen",
            "return document.body.dataset.screen === 'saved'",
        )
        .await;
        click(&app, "a[data-tab=near]").await;
        wait_until(
            &app,
            "near screen",
            "return !!document.querySelector('#f-text')",
        )
        .await;
        let kept = js(&app, "return document.querySelector('#f-text').value").await;
        assert_eq!(kept, "sing");
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);

        // The map shows the same results, on a plain background with a scale, offline.
        click(&app, "#show-map").await;
        // The one result's pin, not only the "you are here" one.
        wait_until(
            &app,
            "the result's pin drawn",
            "return document.querySelectorAll('.leaflet-marker-icon.pin:not(.pin-here)').length === 1",
        )
        .await;
        let scale = text(&app, ".leaflet-control-scale-line").await;
        assert!(scale.ends_with('m'), "a scale: {scale}");
        // With no tiles (the default), the land and the towns around give a sense of place.
        wait_until(
            &app,
            "the land drawn",
            "return document.querySelectorAll('.leaflet-overlay-pane path').length >= 1",
        )
        .await;
        wait_until(
            &app,
            "towns named",
            "return [...document.querySelectorAll('.leaflet-tooltip.place-name')].some(t => t.textContent === 'Bedminster')",
        )
        .await;
        screenshot(&app, "map", 1280, 800).await;
        axe_check(&app, "map").await;
        click(&app, "#show-list").await;

        // An unknown postcode is a clear error, never a guess.
        search_for(&app, "ZZ99 9ZZ").await;
        let err = text(&app, "#search-error").await;
        assert!(err.contains("ZZ99"), "{err}");
        app.client.close().await.unwrap();
    });
}

async fn place_choices(app: &App) -> Vec<String> {
    let v = js(
        app,
        "return [...document.querySelectorAll('#place-choices button')].map(b => b.textContent)",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

#[test]
fn an_ambiguous_place_is_chosen_not_guessed() {
    run(async {
        let app = launch(data_with_fixture()).await;
        search_for(&app, "Newcastle").await;
        let choices = place_choices(&app).await;
        assert_eq!(
            choices[..2],
            ["Newcastle upon Tyne (city)", "Newcastle-under-Lyme (town)"]
        );
        assert!(
            choices.contains(&"Newcastle (suburb, Pen-y-bont ar Ogwr - Bridgend)".to_string()),
            "{choices:?}"
        );
        let question = text(&app, "#place-question").await;
        assert!(
            question == "There is more than one \"Newcastle\". Which did you mean?",
            "{question}"
        );
        assert!(result_names(&app).await.is_empty(), "nothing was searched");
        screenshot(&app, "place-choice", 1280, 800).await;
        screenshot(&app, "place-choice", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "which place").await;

        // Chosen from the keyboard: the first choice, then Enter.
        let before = searches(&app).await;
        find(&app, "#place-choices button")
            .await
            .send_keys("\u{E007}")
            .await
            .unwrap();
        and_settle(&app, before).await;
        let status = text(&app, "#results-status").await;
        assert!(status.contains("of Newcastle upon Tyne"), "{status}");
        assert_eq!(
            js(&app, "return document.querySelector('#place').value").await,
            "Newcastle upon Tyne"
        );
        assert!(place_choices(&app).await.is_empty());

        // A misspelling is a suggestion, chosen with a click.
        search_for(&app, "Manchestr").await;
        let question = text(&app, "#place-question").await;
        assert!(
            question == "Signpost knows no place called \"Manchestr\". Did you mean one of these?",
            "{question}"
        );
        assert_eq!(place_choices(&app).await[0], "Manchester (city)");
        let before = searches(&app).await;
        click(&app, "#place-choices button").await;
        and_settle(&app, before).await;
        let status = text(&app, "#results-status").await;
        assert!(status.contains("of Manchester"), "{status}");

        // A Belfast postcode says why it is not found.
        search_for(&app, "BT1 1AA").await;
        assert_eq!(
            text(&app, "#search-error").await,
            "Signpost covers postcodes in England, Wales and Scotland; BT1 1AA is in Northern Ireland, which it does not cover."
        );
        app.client.close().await.unwrap();
    });
}

#[test]
fn detail_save_print_calendar_and_report() {
    run(async {
        let app = launch(data_with_fixture()).await;
        search_for(&app, "BS3 1QG").await;
        let rows = js(
            &app,
            "return [...document.querySelectorAll('#results .result')].map(r => r.textContent)",
        )
        .await;
        let rows: Vec<String> = serde_json::from_value(rows).unwrap();
        let choir = rows
            .iter()
            .find(|r| r.contains("Southville Community Choir"))
            .unwrap();
        assert!(choir.contains("No referral needed"), "{choir}");
        assert!(
            choir.contains("May be out of date"),
            "assured 2020: {choir}"
        );
        assert!(choir.contains("Costs money"), "{choir}");
        let dates = fixture_dates();
        let next = format!("Next: {}", short_day(dates.choir_day));
        assert!(choir.contains(&next), "{next}: {choir}");
        let walk = rows
            .iter()
            .find(|r| r.contains("Bedminster Walking Group"))
            .unwrap();
        assert!(
            walk.contains("Free") && !walk.contains("May be out of date"),
            "{walk}"
        );

        click(&app, "a[href='#/listing/e2e-walk']").await;
        let name = text(&app, "#detail-name").await;
        assert_eq!(name, "Bedminster Walking Group");
        let detail = text(&app, "#detail").await;
        for expected in [
            "Tuesdays 10:00–12:00",
            "Drop in: just turn up",
            "Ashton Road, Bristol, BS3 2HB",
            "0117 496 0000",
            "Wheelchair accessible",
            "Free",
            &dates.walk_assured.format("%-d %B %Y").to_string(),
            "Bristol Walks",
            "Personal interests, Walking",
        ] {
            assert!(
                detail.contains(expected),
                "detail lacks {expected:?}:\n{detail}"
            );
        }
        // Plain words only (no "access: …" labels), and how far and when next, as the results
        // said.
        assert!(
            !detail.contains("access:") && !detail.contains(" — "),
            "{detail}"
        );
        let near = text(&app, "#detail-near").await;
        assert!(
            near.contains(" from BS3") && near.contains("Next"),
            "{near}"
        );
        // Web, email and phone details are links that open outside the app.
        let links = js(
            &app,
            "return [...document.querySelectorAll('#detail a.url')].map(a => a.getAttribute('href'))",
        )
        .await;
        assert_eq!(
            links,
            json!([
                "tel:01174960000",
                "mailto:walks@example.org",
                "https://walks.example.org/bedminster"
            ])
        );
        screenshot(&app, "detail", 1280, 800).await;
        screenshot(&app, "detail", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "listing detail").await;

        click(&app, "#detail-calendar").await;
        wait_until(
            &app,
            "calendar saved",
            "return document.querySelector('#detail-status').textContent.includes('.ics')",
        )
        .await;
        // The file can be opened with the person's calendar, or shown in its folder.
        let saved_at = app.downloads().join("bedminster-walking-group.ics");
        click(&app, "#calendar-open").await;
        click(&app, "#calendar-reveal").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while app.opened().len() < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut opened = app.opened();
        opened.sort();
        assert_eq!(
            opened,
            [
                app.downloads().display().to_string(),
                saved_at.display().to_string(),
            ],
            "the saved file opened, and its folder shown"
        );
        let ics = std::fs::read_to_string(&saved_at).unwrap();
        assert!(
            ics.contains("BEGIN:VEVENT") && ics.contains("RRULE:FREQ=WEEKLY;BYDAY=TU"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART;TZID=Europe/London:"), "{ics}");

        // Save before "Copy / print": the copy box it opens moves the buttons, and a click
        // computed before that move is the likely reason "Save" was once in ~15 runs missed.
        click(&app, "#detail-save").await;
        wait_for_text(&app, "#detail-status", "Saved to your list").await;
        wait_until(
            &app,
            "count",
            "return document.querySelector('#saved-count').textContent === '(1)'",
        )
        .await;

        click(&app, "#detail-copy").await;
        wait_until(&app, "copy text shown", "return !!document.querySelector('#copy-text') && document.querySelector('#copy-text').value.includes('Tuesdays')").await;

        // Report a problem: queued locally and visible as waiting.
        click(&app, "details.report summary").await;
        // Nothing is chosen in advance: sending without a choice asks for one.
        let preset = js(
            &app,
            "return document.querySelector('#report-closed').checked || document.querySelector('#report-wrong').checked",
        )
        .await;
        assert_eq!(preset, false, "no answer is ticked in advance");
        click(&app, "#report-send").await;
        wait_for_text(&app, "#report-status", "Choose what is wrong").await;
        click(&app, "#report-wrong").await;
        find(&app, "#report-comment")
            .await
            .send_keys("The walk now starts at 10:30")
            .await
            .unwrap();
        click(&app, "#report-send").await;
        wait_until(
            &app,
            "report queued",
            "return document.querySelector('#report-status').textContent.includes('queued')",
        )
        .await;

        click(&app, "a[data-tab=saved]").await;
        let saved = text(&app, "#saved-list").await;
        assert!(saved.contains("Bedminster Walking Group"), "{saved}");
        axe_check(&app, "saved list").await;
        click(&app, "#print-view").await;
        let page = text(&app, "#print-page").await;
        assert!(
            page.contains("Bedminster Walking Group") && page.contains("Tuesdays 10:00–12:00"),
            "{page}"
        );
        let plain = js(&app, "return document.querySelector('#saved-text').value").await;
        let plain = plain.as_str().unwrap();
        assert!(
            plain.starts_with("My saved list") && plain.contains("Phone: 0117 496 0000"),
            "{plain}"
        );
        screenshot(&app, "print", 1280, 800).await;
        axe_check(&app, "print view").await;

        // An online listing's page, and a "this has closed" report.
        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3 1QG").await;
        click(&app, "a[href='#/listing/e2e-clinic']").await;
        assert_eq!(text(&app, "#detail-name").await, "Wellbeing Clinic");
        axe_check(&app, "online listing detail").await;
        click(&app, "details.report summary").await;
        click(&app, "#report-closed").await;
        click(&app, "#report-send").await;
        wait_for_text(&app, "#report-status", "queued").await;

        click(&app, "a[data-tab=settings]").await;
        let queue = text(&app, "#report-queue").await;
        assert!(
            queue.contains("Bedminster Walking Group") && queue.contains("Waiting to send"),
            "{queue}"
        );
        assert!(queue.contains("Wellbeing Clinic"), "{queue}");
        axe_check(&app, "settings").await;

        // The saved list and the queue are on disk, for the next start.
        {
            let personal =
                signpost_personal::Personal::open(&app.data.path().join("personal.db")).unwrap();
            assert_eq!(personal.saved().unwrap().len(), 1);
            let reports = personal.reports().unwrap();
            let kinds: Vec<_> = reports
                .iter()
                .map(|r| (r.service_id.as_str(), r.kind, r.sent_at.is_none()))
                .collect();
            assert_eq!(
                kinds,
                [
                    ("e2e-clinic", signpost_personal::ReportKind::Closed, true),
                    (
                        "e2e-walk",
                        signpost_personal::ReportKind::WrongDetails,
                        true
                    )
                ],
                "newest first, each of its kind, waiting to send"
            );
        }

        // Unsaving: the saved list's "Remove" empties the list and the count.
        click(&app, "a[data-tab=saved]").await;
        click(&app, "#saved-list button").await;
        wait_for_text(&app, "#saved-empty", "Nothing saved yet").await;
        wait_until(
            &app,
            "count cleared",
            "return !document.querySelector('#saved-count').textContent.includes('1')",
        )
        .await;
        app.client.close().await.unwrap();
        let personal =
            signpost_personal::Personal::open(&app.data.path().join("personal.db")).unwrap();
        assert!(personal.saved().unwrap().is_empty());
    });
}

#[test]
fn listing_text_is_shown_literally_and_never_runs() {
    run(async {
        let app = launch(data_with_fixture()).await;
        let title_before = app.client.title().await.unwrap();
        search_for(&app, "BS3").await;
        let names = result_names(&app).await;
        let evil = names
            .iter()
            .find(|n| n.contains("Evil"))
            .expect("the hostile listing is listed");
        assert_eq!(
            evil,
            "<img src=x onerror=\"document.title='pwned'\">Evil <script>window.__xss=1</script>Club"
        );
        click(&app, "a[href='#/listing/e2e-xss']").await;
        let description = text(&app, "#detail-description").await;
        assert!(
            description.starts_with("<b>bold?</b><script>"),
            "{description}"
        );
        let org = text(&app, "#detail .org").await;
        assert_eq!(org, "<svg onload=\"window.__xss=4\">Org");
        // A control image that fails the way the payload's would: once its error handler has
        // run, any payload that had become an element would have run too.
        js(
            &app,
            "const i = new Image(); i.onerror = () => { window.__control = 1; }; i.src = 'x-control'; return true",
        )
        .await;
        wait_until(
            &app,
            "the control image failed",
            "return window.__control === 1",
        )
        .await;
        let ran = js(
            &app,
            "return [window.__xss === undefined, document.querySelectorAll('main img, main script, main iframe, main svg, main b').length]",
        )
        .await;
        assert_eq!(ran, json!([true, 0]), "no payload became markup or ran");
        // Nothing can navigate the app's window to a web page.
        js(&app, "location.href = 'https://example.org/'; return true").await;
        wait_until(
            &app,
            "the navigation was refused",
            "return document.body.dataset.blockedNavigations === '1'",
        )
        .await;
        page_answers(&app).await;
        assert_eq!(
            text(&app, "#notice").await,
            "Signpost stays on its own pages: web links open in your browser."
        );
        let still_here = js(
            &app,
            "return [location.protocol, document.body.dataset.screen]",
        )
        .await;
        assert_eq!(still_here, json!(["tauri:", "listing"]));
        assert_eq!(app.client.title().await.unwrap(), title_before);
        app.client.close().await.unwrap();
    });
}

#[test]
fn offline_everything_still_reads() {
    run(async {
        let data = data_with_fixture();
        // A feed and a tile server that cannot be reached: this is what no network looks like.
        let dead = format!("http://127.0.0.1:{}", free_port());
        {
            let p = signpost_personal::Personal::open(&data.path().join("personal.db")).unwrap();
            p.set_setting(signpost_personal::Setting::FeedUrl, &dead)
                .unwrap();
            p.set_setting(
                signpost_personal::Setting::TileUrl,
                &format!("{dead}/{{z}}/{{x}}/{{y}}.png"),
            )
            .unwrap();
        }
        let app = launch(data).await;
        // "Use my location": the app lets the engine ask for the position (WebKitGTK refuses
        // requests an app leaves unanswered). This machine has no location service, so the
        // answer is "could not tell"; "did not share" would mean the request was refused.
        click(&app, "#use-location").await;
        wait_until(
            &app,
            "an answer about the location",
            "return !document.querySelector('#results-status').textContent.startsWith('Asking')",
        )
        .await;
        let located = text(&app, "#results-status").await;
        assert!(!located.contains("did not share"), "{located}");
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the sync gives up",
            "return document.querySelector('#sync-status').textContent.includes('Could not reach')",
        )
        .await;
        let status = text(&app, "#sync-status").await;
        assert!(status.contains("still works offline"), "{status}");
        let summary = text(&app, "#directory-summary").await;
        assert!(
            summary.starts_with("5 listings"),
            "every listing is still there: {summary}"
        );

        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        assert_eq!(result_names(&app).await.len(), 5);
        click(&app, "a[href='#/listing/e2e-choir']").await;
        assert_eq!(
            text(&app, "#detail-name").await,
            "Southville Community Choir"
        );
        click(&app, "#back").await;
        click(&app, "#show-map").await;
        wait_until(&app, "map note", "return (document.querySelector('.map-note')?.textContent || '').includes('could not be loaded')").await;
        wait_until(
            &app,
            "result points still drawn",
            "return document.querySelectorAll('.leaflet-marker-icon:not(.pin-here)').length >= 1",
        )
        .await;
        screenshot(&app, "map-offline", 1280, 800).await;
        app.client.close().await.unwrap();
    });
}

/// The real feed server, in this process, on 127.0.0.1 and a random port.
fn start_feed(path: &Path) -> signpost_feed::Background {
    let app = signpost_feed::router(signpost_feed::AppState::new(Directory::open(path).unwrap()));
    signpost_feed::Background::serve("127.0.0.1:0".parse().unwrap(), app).unwrap()
}

/// A group adds its listing offline in the app; after a restart and an update it reaches the
/// feed once; a moderator approves it; the next update brings it into near-me search.
#[test]
fn a_group_adds_its_listing_offline_and_everyone_has_it_after_approval() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let moderation = feed_dir.path().join("moderation.db");
    signpost_moderation::Moderation::open(&moderation)
        .unwrap()
        .add_account(
            "mod-ann",
            MODERATOR_PASSWORD,
            signpost_moderation::Role::Moderator,
            chrono::Utc::now(),
        )
        .unwrap();
    // The app knows its feed's address from the start, but the feed is down until after the
    // restart below.
    let port = signpost_browser_test::free_port();
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        find(&app, "#setting-feed_url")
            .await
            .send_keys(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        click(&app, "#setting-feed_url-save").await;
        wait_for_text(&app, "#setting-feed_url-status", "Saved.").await;
        click(&app, "a[data-tab=group]").await;
        find(&app, "#group-form").await;
        axe_check(&app, "add your group").await;
        screenshot(&app, "group-form-new", 1280, 800).await;
        // Sent empty: every problem beside its field.
        js(
            &app,
            "document.querySelector('#g-name').value = ''; return true",
        )
        .await;
        click(&app, "#group-send").await;
        wait_for_text(&app, "#gerr-name", "give the group").await;
        wait_for_text(&app, "#gerr-postcode", "postcode").await;
        wait_for_text(&app, "#gerr-access", "how people join").await;
        axe_check(&app, "group form with errors").await;
        let set = |css: &'static str, value: &'static str| {
            let client = app.client.clone();
            async move {
                client
                    .execute(
                        "const c = document.querySelector(arguments[0]); c.value = arguments[1]; c.dispatchEvent(new Event('change')); return true",
                        vec![json!(css), json!(value)],
                    )
                    .await
                    .unwrap();
            }
        };
        find(&app, "#g-name")
            .await
            .send_keys("Southville Knit and Natter")
            .await
            .unwrap();
        set("#g-name", "Southville Knit and Natter").await;
        set(
            "#g-description",
            "Bring your knitting, or learn. Tea and biscuits.",
        )
        .await;
        set("#s-0-repeat", "fortnightly").await;
        set("#s-0-first", "2026-12-01").await;
        set("#s-0-day", "TU").await;
        wait_for_text(&app, "#when-read-back", "Every other Tuesday 10:00–12:00").await;
        set("#g-postcode", "BS3 1QG").await;
        set("#g-place", "Southville Centre").await;
        set("#g-access", "drop-in").await;
        click(&app, "#g-interest-arts").await;
        click(&app, "#group-send").await;
        wait_for_text(&app, "#group-status", "queued for your region's moderators").await;
        screenshot(&app, "group-form", 1280, 900).await;

        // The feed is down: an update cannot send it, and it keeps waiting.
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the failed update finished",
            "return Number(document.body.dataset.syncsFinished || 0) >= 1",
        )
        .await;
        js(&app, "location.hash = '#/group'; return true").await;
        wait_for_text(&app, "#my-submissions", "Waiting on this device").await;

        // Closed and opened again: it is still waiting, on this device.
        let app = restart(app).await;
        js(&app, "location.hash = '#/group'; return true").await;
        wait_for_text(&app, "#my-submissions", "Waiting on this device").await;

        // The feed comes up; an update sends the listing, once.
        // (A feed in the background has its own runtime: made and dropped off this one.)
        let (db, queue) = (feed_db.clone(), moderation.clone());
        let feed = tokio::task::spawn_blocking(move || {
            let app_state = signpost_feed::AppState::new(Directory::open_publisher(&db).unwrap())
                .with_moderation(signpost_moderation::Moderation::open(&queue).unwrap());
            signpost_feed::Background::serve(
                format!("127.0.0.1:{port}").parse().unwrap(),
                signpost_feed::router(app_state),
            )
            .unwrap()
        })
        .await
        .unwrap();
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the update finished",
            "return Number(document.body.dataset.syncsFinished || 0) >= 1",
        )
        .await;
        let status = text(&app, "#sync-status").await;
        assert!(
            status.contains("Sent 1 of your reports and submissions"),
            "{status}"
        );
        let m = signpost_moderation::Moderation::open(&moderation).unwrap();
        let pending = m.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].name, "Southville Knit and Natter");

        // A moderator approves it in the web queue, in Chromium.
        {
            let base = format!("http://{}", feed.addr());
            let (_driver, browser) = signpost_browser_test::chromium(true).await;
            browser.goto(&format!("{base}/moderate")).await.unwrap();
            browser_type(&browser, "#name", "mod-ann").await;
            browser_type(&browser, "#password", MODERATOR_PASSWORD).await;
            browser_click(&browser, "main button[type=submit]").await;
            browser
                .wait()
                .for_element(fantoccini::Locator::LinkText("Southville Knit and Natter"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            browser_click(&browser, "form[action$='/approve'] button").await;
            browser
                .wait()
                .for_element(fantoccini::Locator::XPath("//dd[text()='approved']"))
                .await
                .unwrap();
            browser.close().await.unwrap();
        }
        let decided = m.item(&pending[0].id).unwrap();
        assert_eq!(decided.decided_by.as_deref(), Some("mod-ann"));

        // A second device syncs and finds it near the postcode.
        let base = format!("http://{}", feed.addr());
        let second_has_it = tokio::task::spawn_blocking(move || {
            let other = tempfile::tempdir().unwrap();
            let mut second = Directory::open(&other.path().join("directory.db")).unwrap();
            signpost_sync::sync(
                &mut second,
                &base,
                &signpost_sync::Options::default(),
                &mut |_| {},
            )
            .unwrap();
            let here = signpost_postcodes::Gazetteer::embedded()
                .resolve("BS3 1QG")
                .unwrap();
            let near = second
                .near(
                    &signpost_directory::NearQuery::at(here.latitude, here.longitude),
                    chrono::Utc::now(),
                )
                .unwrap();
            near.iter().any(|r| {
                second.listing(&r.service_id).unwrap().service.name == "Southville Knit and Natter"
            })
        })
        .await
        .unwrap();
        assert!(second_has_it, "the second device has it near BS3 1QG");

        // And this app, on its next update.
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the second update finished",
            "return Number(document.body.dataset.syncsFinished || 0) >= 2",
        )
        .await;
        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3 1QG").await;
        let names = result_names(&app).await;
        assert!(
            names.iter().any(|n| n == "Southville Knit and Natter"),
            "{names:?}"
        );
        js(&app, "location.hash = '#/group'; return true").await;
        wait_for_text(&app, "#my-submissions", "Published").await;
        // Approval gave this device the listing's edit key.
        wait_for_text(
            &app,
            "#my-submissions",
            "You can update this listing from this device",
        )
        .await;

        // The group updates it: the update goes with the key, and the moderator sees so.
        let listing = pending[0].service_id.clone();
        js(
            &app,
            &format!("location.hash = '#/group/{listing}'; return true"),
        )
        .await;
        wait_for_text(&app, "#group-key", "holds this listing's edit key").await;
        app.client
            .execute(
                "const c = document.querySelector('#g-description'); c.value = arguments[0]; c.dispatchEvent(new Event('change')); return true",
                vec![json!("Bring your knitting, or learn. Tea, biscuits and a raffle.")],
            )
            .await
            .unwrap();
        click(&app, "#group-send").await;
        wait_for_text(&app, "#group-status", "queued for your region's moderators").await;
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the third update finished",
            "return Number(document.body.dataset.syncsFinished || 0) >= 3",
        )
        .await;
        let pending = m.pending().unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(
            pending[0].edit_key,
            signpost_moderation::KeyProof::Verified,
            "{pending:?}"
        );
        app.client.close().await.unwrap();
        tokio::task::spawn_blocking(move || drop(feed))
            .await
            .unwrap();
    });
}

/// A problem report made offline goes to the feed on the next update, exactly once, and the
/// moderator's answer comes back to the person.
#[test]
fn a_report_reaches_the_feed_once_and_its_answer_comes_back() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let moderation = feed_dir.path().join("moderation.db");
    let feed = moderated_feed(&feed_db, &moderation);
    run(async {
        let app = launch(data_with_fixture()).await;
        search_for(&app, "BS3 1QG").await;
        click(&app, "a[href='#/listing/e2e-clinic']").await;
        click(&app, "details.report summary").await;
        click(&app, "#report-closed").await;
        click(&app, "#report-send").await;
        wait_for_text(&app, "#report-status", "queued").await;
        click(&app, "a[data-tab=settings]").await;
        set_feed_address(&app, &feed).await;
        // Each update, and wait for it to finish (counted by the page).
        async fn update(app: &App, n: u64) {
            click(app, "#sync-now").await;
            wait_until(
                app,
                "the update finished",
                &format!("return Number(document.body.dataset.syncsFinished || 0) >= {n}"),
            )
            .await;
        }
        update(&app, 1).await;
        let status = text(&app, "#sync-status").await;
        assert!(status.contains("Sent 1 of your reports"), "{status}");
        update(&app, 2).await;
        let status = text(&app, "#sync-status").await;
        assert!(
            status.contains("Already up to date") && !status.contains("Sent"),
            "{status}"
        );
        click(&app, "a[data-tab=near]").await;
        click(&app, "a[data-tab=settings]").await;
        wait_for_text(&app, "#report-queue", "Sent: being checked").await;
        let m = signpost_moderation::Moderation::open(&moderation).unwrap();
        let pending = m.pending().unwrap();
        assert_eq!(pending.len(), 1, "two updates, one report: {pending:?}");
        assert_eq!(
            (
                pending[0].service_id.as_str(),
                pending[0].body["kind"].as_str()
            ),
            ("e2e-clinic", Some("closed"))
        );
        let mut m = m;
        m.reject(
            &pending[0].id,
            "It reopened in June",
            "mod-ann",
            chrono::Utc::now(),
        )
        .unwrap();
        update(&app, 3).await;
        click(&app, "a[data-tab=near]").await;
        click(&app, "a[data-tab=settings]").await;
        wait_for_text(&app, "#report-queue", "It reopened in June").await;
        wait_for_text(&app, "#report-queue", "Not accepted").await;
        axe_check(&app, "settings with a rejected report").await;
        app.client.close().await.unwrap();
    });
}

#[test]
fn sync_from_a_real_feed_shows_progress_and_new_listings() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let feed = start_feed(&feed_db);
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        let input = find(&app, "#setting-feed_url").await;
        input.send_keys("not a web address").await.unwrap();
        click(&app, "#setting-feed_url-save").await;
        wait_until(&app, "bad address refused", "return document.querySelector('#setting-feed_url-status').textContent.startsWith('feed address:')").await;
        input.clear().await.unwrap();
        input
            .send_keys(&format!("http://{}", feed.addr()))
            .await
            .unwrap();
        click(&app, "#setting-feed_url-save").await;
        wait_until(
            &app,
            "address saved",
            "return document.querySelector('#setting-feed_url-status').textContent === 'Saved.'",
        )
        .await;

        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "sync finished",
            "return document.querySelector('#sync-status').textContent.includes('Updated')",
        )
        .await;
        let events = js(
            &app,
            "return Number(document.body.dataset.syncProgressEvents || 0)",
        )
        .await;
        assert!(
            events.as_u64().unwrap() >= 6,
            "progress reported per changeset: {events}"
        );
        let status = text(&app, "#sync-status").await;
        assert!(status.starts_with("Last update"), "{status}");
        wait_for_text(&app, "#directory-summary", "305 listings").await;
        wait_until(
            &app,
            "progress bar hidden",
            "return document.querySelector('#sync-progress').hidden",
        )
        .await;
        screenshot(&app, "sync", 1280, 800).await;

        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        toggle(&app, "#f-interest-nature").await;
        let names = result_names(&app).await;
        assert!(
            !names.is_empty() && names.iter().all(|n| n.starts_with("Allotment Club")),
            "{names:?}"
        );

        // Syncing again fetches nothing new.
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(&app, "second sync", "return document.querySelector('#sync-status').textContent.includes('Already up to date')").await;
        app.client.close().await.unwrap();
    });
}

#[test]
fn first_start_on_the_default_region_then_restart_restores_the_search() {
    run(async {
        // A fresh data folder, as on a new laptop: the embedded default region is loaded.
        let app = launch(tempfile::tempdir().unwrap()).await;
        search_for(&app, "NR20 4").await;
        let names = result_names(&app).await;
        assert!(names.len() >= 5, "real listings near NR20 4: {names:?}");
        let status = text(&app, "#results-status").await;
        assert!(status.contains("NR20 4"), "{status}");
        // More than 50: the list says so and shows more on request, keeping the reader's place.
        let total: usize = status
            .strip_prefix("Nearest 50 of ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the status says how many there are: {status}"));
        assert!(total > 50, "{status}");
        click(&app, "#show-more").await;
        wait_until(
            &app,
            "more results shown",
            &format!(
                "return document.querySelectorAll('#results .result').length === {}",
                total.min(100)
            ),
        )
        .await;
        let focused = js(
            &app,
            "return document.activeElement === document.querySelectorAll('#results .result a')[50]",
        )
        .await;
        assert_eq!(focused, true, "focus moves to the first new row");
        search_for(&app, "NR20 4").await;
        toggle(&app, "#f-no_referral").await;
        let chosen = result_names(&app).await;
        assert!(!chosen.is_empty());
        js(&app, "window.scrollTo(0, 0); return true").await;
        screenshot(&app, "first-start", 1280, 800).await;
        // The pictures in the README and docs/ are these: real data at default settings.
        click(&app, "#show-map").await;
        wait_until(
            &app,
            "result pins on the default map",
            "return document.querySelectorAll('.leaflet-marker-icon:not(.pin-here)').length >= 1",
        )
        .await;
        js(&app, "window.scrollTo(0, 0); return true").await;
        screenshot(&app, "first-start-map", 1280, 800).await;

        // Keyboard users move through the pins with the list beside the map: one tab stop,
        // the arrow keys, and each result reached is the one marked on the map.
        let listed = js(
            &app,
            "return document.querySelectorAll('#map-list button').length",
        )
        .await;
        assert_eq!(
            listed,
            serde_json::json!(chosen.len()),
            "the map lists the same results"
        );
        find(&app, "#map-list button")
            .await
            .send_keys("\u{E015}")
            .await
            .unwrap(); // ArrowDown
        wait_until(
            &app,
            "the second result marked on the map",
            "return document.querySelectorAll('.leaflet-marker-icon.pin-selected').length === 1
                && document.activeElement === document.querySelectorAll('#map-list button')[1]",
        )
        .await;
        let second = js(
            &app,
            "return document.querySelectorAll('#map-list button')[1].dataset.serviceId",
        )
        .await;
        let popup = text(&app, ".leaflet-popup-content strong").await;
        assert_eq!(popup, chosen[1], "the popup names the chosen result");
        assert_eq!(
            js(
                &app,
                "return document.querySelectorAll('#map-list button[aria-pressed=true]').length"
            )
            .await,
            serde_json::json!(1)
        );
        screenshot(&app, "map-keyboard", 1280, 800).await;
        // A pin chosen on the map is chosen in the list (once the zoom to the chosen one has
        // settled and single pins are drawn again).
        wait_until(
            &app,
            "single pins drawn",
            "return document.querySelectorAll('.leaflet-marker-icon.pin:not(.pin-here):not(.pin-selected)').length > 0
                && !document.querySelector('.leaflet-zoom-anim')",
        )
        .await;
        let picked = js(
            &app,
            "const pin = [...document.querySelectorAll('.leaflet-marker-icon.pin:not(.pin-here):not(.pin-selected)')][0];
             if (!pin) return null;
             pin.dispatchEvent(new MouseEvent('click', {bubbles: true}));
             const title = pin.getAttribute('title');
             return title.slice(0, title.lastIndexOf(', '));",
        )
        .await;
        let name = picked
            .as_str()
            .expect("single pins are drawn beside the clusters");
        wait_until(
            &app,
            "the pin's result chosen in the list",
            &format!(
                "return document.querySelector('#map-list button[aria-pressed=true] strong').textContent === {}",
                serde_json::json!(name)
            ),
        )
        .await;
        let now_chosen = js(
            &app,
            "return document.querySelector('#map-list button[aria-pressed=true]').dataset.serviceId",
        )
        .await;
        // And the list view shows the same one chosen.
        click(&app, "#show-list").await;
        let marked = js(
            &app,
            "return [...document.querySelectorAll('#results .result.selected')].map(r => r.dataset.serviceId)",
        )
        .await;
        assert_eq!(marked, serde_json::json!([now_chosen]), "{second}");
        click(&app, "#results .result:nth-child(5) a.result-name").await;
        find(&app, "#detail-name").await;
        screenshot(&app, "first-start-detail", 1280, 800).await;
        // Back: the list is as it was, with focus on the listing that was opened.
        click(&app, "#back").await;
        find(&app, "#results .result").await;
        let back_on = js(
            &app,
            "return document.activeElement === document.querySelector('#results .result:nth-child(5) a.result-name')",
        )
        .await;
        assert_eq!(back_on, true, "focus returns to the listing opened");

        // Reopened, the app is where the person left it: the place, the filter, the results.
        let app = restart(app).await;
        wait_until(
            &app,
            "the last search restored",
            "return document.querySelectorAll('#results .result-name').length > 0",
        )
        .await;
        let place = js(&app, "return document.querySelector('#place').value").await;
        assert_eq!(place, "NR20 4");
        let checked = js(
            &app,
            "return document.querySelector('#f-no_referral').checked",
        )
        .await;
        assert_eq!(checked, true);
        assert_eq!(result_names(&app).await, chosen);
        app.client.close().await.unwrap();
    });
}

/// A new user anywhere in England, at default settings on a fresh data folder: the screen says
/// what Signpost covers, each place the issue names gives a sensible screen (pictures in
/// `docs/screenshots/`), and regions come and go from Updates & settings.
#[test]
fn a_new_user_anywhere_gets_a_sensible_screen_and_regions_come_and_go() {
    run(async {
        let app = launch(tempfile::tempdir().unwrap()).await;
        let covers = text(&app, "#coverage").await;
        for region in [
            "England's public libraries (2,986)",
            "Greater Manchester community assets (5,200)",
            "UK mobile library stops (4,438)",
        ] {
            assert!(covers.contains(region), "{covers}");
        }

        search_for(&app, "BS3 4AB").await;
        let names = result_names(&app).await;
        assert_eq!(names[0], "Bedminster Library", "{names:?}");
        screenshot(&app, "place-bs3-4ab", 1280, 800).await;

        search_for(&app, "Wigan").await;
        let names = result_names(&app).await;
        assert!(names.contains(&"Wigan Library".to_string()), "{names:?}");
        assert!(
            names.len() >= 20,
            "Greater Manchester's assets too: {names:?}"
        );
        screenshot(&app, "place-wigan", 1280, 800).await;

        search_for(&app, "M1 1AE").await;
        assert!(result_names(&app).await.len() >= 20);
        screenshot(&app, "place-m1-1ae", 1280, 800).await;

        // Nothing near Cardiff: said plainly, with what can help.
        search_for(&app, "Cardiff").await;
        assert!(result_names(&app).await.is_empty());
        let status = text(&app, "#results-status").await;
        assert!(
            status.starts_with("Signpost has no listings within 10 km of Cardiff")
                && status.ends_with("yet. Try a town nearby or a wider distance."),
            "{status}"
        );
        assert!(
            !status.contains("()") && !status.contains("filters"),
            "{status}"
        );
        let help = text(&app, "#nothing-near-help").await;
        assert!(help.contains("UK mobile library stops"), "{help}");
        screenshot(&app, "place-cardiff", 1280, 800).await;
        screenshot(&app, "place-cardiff", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "nothing near").await;
        let before = searches(&app).await;
        click(&app, "#widen").await;
        and_settle(&app, before).await;
        let status = text(&app, "#results-status").await;
        assert!(status.contains("within 50 km of Cardiff"), "{status}");

        search_for(&app, "Newcastle").await;
        assert!(!place_choices(&app).await.is_empty());
        screenshot(&app, "place-newcastle", 1280, 800).await;
        search_for(&app, "Manchestr").await;
        assert_eq!(place_choices(&app).await[0], "Manchester (city)");
        screenshot(&app, "place-manchestr", 1280, 800).await;
        search_for(&app, "BT1 1AA").await;
        assert!(text(&app, "#search-error")
            .await
            .contains("Northern Ireland"));
        screenshot(&app, "place-bt1-1aa", 1280, 800).await;

        // A connector's question, on real data: likes walking and reading, uses a wheelchair,
        // free on Tuesday mornings, within 10 km of Wigan.
        search_for(&app, "Wigan").await;
        choose(&app, "#f-radius", "10").await;
        toggle(&app, "#f-interest-walking").await;
        toggle(&app, "#f-interest-reading").await;
        toggle(&app, "#f-wheelchair").await;
        choose(&app, "#f-when", "this-week").await;
        toggle(&app, "#f-day-tue").await;
        toggle(&app, "#f-part-morning").await;
        let note = text(&app, "#unstated-note").await;
        assert!(
            note.contains("do not say whether") && note.contains("step-free access"),
            "{note}"
        );
        toggle(&app, "#include-unstated").await;
        // The library states neither its times nor step-free access: listed, and says so.
        let library = js(
            &app,
            "const r = [...document.querySelectorAll('#results .result')].find(r => r.querySelector('.result-name').textContent === 'Wigan Library');
             return r ? r.textContent : null;",
        )
        .await;
        let library = library.as_str().expect("Wigan Library is listed");
        assert!(
            library.contains("Times not given") && library.contains("Step-free access not stated"),
            "{library}"
        );
        js(&app, "window.scrollTo(0, 0); return true").await;
        screenshot(&app, "connector-question", 1280, 800).await;
        // Back to no filters for what follows.
        toggle(&app, "#f-interest-walking").await;
        toggle(&app, "#f-interest-reading").await;
        toggle(&app, "#f-wheelchair").await;
        choose(&app, "#f-when", "any").await;

        // Settings names each source with its count; Greater Manchester is removed, after a
        // second press, and Wigan then has only its library and stops.
        click(&app, "a[data-tab='settings']").await;
        wait_for_text(
            &app,
            "#sources",
            "Greater Manchester community assets: 5,200 listings",
        )
        .await;
        let sources = text(&app, "#sources").await;
        assert!(
            sources.contains("England's public libraries: 2,986 listings"),
            "{sources}"
        );
        assert!(
            sources.contains("UK mobile library stops: 4,438 listings"),
            "{sources}"
        );
        assert!(
            js(
                &app,
                "return document.querySelector('#regions-available') === null"
            )
            .await
                == true
        );
        screenshot(&app, "settings-regions", 1280, 800).await;
        axe_check(&app, "settings with regions").await;
        click(
            &app,
            "#sources li[data-source='Greater Manchester community assets'] button",
        )
        .await;
        click(
            &app,
            "button[data-confirm='Greater Manchester community assets']",
        )
        .await;
        wait_for_text(
            &app,
            "#regions-status",
            "Removed Greater Manchester community assets.",
        )
        .await;
        let sources = text(&app, "#sources").await;
        assert!(!sources.contains("Greater Manchester"), "{sources}");
        find(
            &app,
            "#regions-available li[data-region='greater-manchester']",
        )
        .await;
        click(&app, "a[data-tab='near']").await;
        search_for(&app, "Wigan").await;
        let names = result_names(&app).await;
        assert!(names.contains(&"Wigan Library".to_string()), "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.contains("Librar") || n.starts_with("Mobile library")),
            "no Greater Manchester assets: {names:?}"
        );
        assert!(!text(&app, "#coverage").await.contains("Greater Manchester"));

        // Added back from the bundled ones.
        click(&app, "a[data-tab='settings']").await;
        click(
            &app,
            "#regions-available li[data-region='greater-manchester'] button",
        )
        .await;
        wait_for_text(
            &app,
            "#regions-status",
            "Added Greater Manchester community assets: 5,200 listings.",
        )
        .await;

        // And a listings file the person picks.
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/hsds-3.0/service_list.json")
            .canonicalize()
            .unwrap();
        find(&app, "#region-file")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        wait_for_text(&app, "#regions-status", "Added service_list.json:").await;
        wait_for_text(&app, "#sources", "service_list:").await;
        click(&app, "a[data-tab='near']").await;
        search_for(&app, "Wigan").await;
        let names = result_names(&app).await;
        assert!(
            names
                .iter()
                .any(|n| !n.contains("Librar") && !n.starts_with("Mobile library")),
            "Greater Manchester is back: {names:?}"
        );
        app.client.close().await.unwrap();
    });
}

/// A 256×256 PNG tile of one colour, as a tile server would send.
fn tile_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 256, 256);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..256 * 256).flat_map(|_| [170u8, 211, 223]).collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn map_tiles_load_from_a_tile_server_the_settings_accept() {
    // A tile server on this computer, the one kind of plain-http address settings accept.
    let served = Arc::new(AtomicUsize::new(0));
    let tiles = {
        let served = served.clone();
        let png = tile_png();
        axum::Router::new().fallback(move || {
            served.fetch_add(1, Ordering::SeqCst);
            let png = png.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "image/png")], png) }
        })
    };
    let tiles = signpost_feed::Background::serve("127.0.0.1:0".parse().unwrap(), tiles).unwrap();
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        let input = find(&app, "#setting-tile_url").await;
        // An address the window could never load is refused, in plain words.
        input
            .send_keys("http://tiles.example.org/{z}/{x}/{y}.png")
            .await
            .unwrap();
        click(&app, "#setting-tile_url-save").await;
        wait_for_text(&app, "#setting-tile_url-status", "not on this computer").await;
        input.clear().await.unwrap();
        input
            .send_keys(&format!("http://{}/{{z}}/{{x}}/{{y}}.png", tiles.addr()))
            .await
            .unwrap();
        click(&app, "#setting-tile_url-save").await;
        wait_for_text(&app, "#setting-tile_url-status", "Saved.").await;

        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        click(&app, "#show-map").await;
        wait_until(
            &app,
            "tiles loaded",
            "return document.querySelectorAll('img.leaflet-tile-loaded').length >= 4",
        )
        .await;
        page_answers(&app).await;
        let note = text(&app, ".map-note").await;
        assert!(!note.contains("could not be loaded"), "{note}");
        assert!(served.load(Ordering::SeqCst) >= 4);
        wait_until(
            &app,
            "result pins or clusters drawn",
            "return document.querySelectorAll('.leaflet-marker-icon:not(.pin-here)').length >= 1",
        )
        .await;
        screenshot(&app, "map-tiles", 1280, 800).await;
        app.client.close().await.unwrap();
    });
}

/// What a flaky feed does to changeset downloads: each waits `delay_ms`, and once `good` have
/// been served the rest arrive as garbage (the sync client refuses them).
#[derive(Clone)]
struct Flaky {
    served: Arc<AtomicUsize>,
    good: Arc<AtomicUsize>,
    delay_ms: u64,
}

async fn flaky(
    axum::extract::State(f): axum::extract::State<Flaky>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.uri().path().starts_with("/sync/changesets/") {
        tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        if f.served.fetch_add(1, Ordering::SeqCst) >= f.good.load(Ordering::SeqCst) {
            return "this is not a changeset".into_response();
        }
    }
    next.run(request).await
}

/// The real feed server for `feed_db`, with `faults` in the way of its changesets.
fn serve_flaky(feed_db: &Path, faults: Flaky) -> signpost_feed::Background {
    let app = signpost_feed::router(signpost_feed::AppState::new(
        Directory::open(feed_db).unwrap(),
    ))
    .layer(axum::middleware::from_fn_with_state(faults, flaky));
    signpost_feed::Background::serve("127.0.0.1:0".parse().unwrap(), app).unwrap()
}

/// Type the feed's address into Settings and save it.
async fn set_feed_address(app: &App, feed: &signpost_feed::Background) {
    find(app, "#setting-feed_url")
        .await
        .send_keys(&format!("http://{}", feed.addr()))
        .await
        .unwrap();
    click(app, "#setting-feed_url-save").await;
    wait_for_text(app, "#setting-feed_url-status", "Saved.").await;
}

/// The real feed server for `feed_db`, taking submissions into `moderation`, on 127.0.0.1 and
/// a random port. The directory is opened as a publisher, as `signpost-feed serve` opens it,
/// so what moderators approve reaches the changeset log that apps sync from.
pub(crate) fn moderated_feed(feed_db: &Path, moderation: &Path) -> signpost_feed::Background {
    let state = signpost_feed::AppState::new(Directory::open_publisher(feed_db).unwrap())
        .with_moderation(signpost_moderation::Moderation::open(moderation).unwrap());
    signpost_feed::Background::serve("127.0.0.1:0".parse().unwrap(), signpost_feed::router(state))
        .unwrap()
}

/// The moderator's password in tests that approve in the web queue.
const MODERATOR_PASSWORD: &str = "a long moderator password";

async fn browser_type(browser: &fantoccini::Client, css: &str, text: &str) {
    browser
        .wait()
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn browser_click(browser: &fantoccini::Client, css: &str) {
    browser
        .wait()
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// A feed of 300 allotment clubs in six changesets of 50.
/// Issue 13: a second feed followed from settings. "Update now" updates both; a listing both
/// publish is shown once (the one checked more recently); each feed is listed with its count and
/// last update; the second is stopped after a second press and only its own listings go.
#[test]
fn a_second_feed_is_followed_from_settings_and_stopped() {
    let feed_dir = tempfile::tempdir().unwrap();
    let (a_db, b_db) = (feed_dir.path().join("a.db"), feed_dir.path().join("b.db"));
    allotment_feed(&a_db);
    Directory::open_publisher(&b_db)
        .unwrap()
        .import_sources(
            vec![(
                "feed".into(),
                vec![
                    json!({"id": "feed-0", "name": "Allotment Club 0, checked by B", "status": "active",
                           "assured_date": "2026-06-01",
                           "service_at_locations": [{"location": {"id": "feed-loc-0", "latitude": 51.40, "longitude": -2.65}}]}),
                    json!({"id": "b-walk", "name": "Border Walk", "status": "active",
                           "service_at_locations": [{"location": {"id": "b-walk-l", "latitude": 51.41, "longitude": -2.64}}]}),
                ],
            )],
            &mut |_| {},
        )
        .unwrap();
    let (a, b) = (start_feed(&a_db), start_feed(&b_db));
    let b_url = format!("http://{}", b.addr());
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        set_feed_address(&app, &a).await;
        // Listed at once (and the list painted again) before its first update.
        wait_for_text(&app, "#feeds", "Regional feed: http://").await;
        find(&app, "#feed-add")
            .await
            .send_keys(&b_url)
            .await
            .unwrap();
        click(&app, "#feed-add-save").await;
        wait_for_text(&app, "#regions-status", "Following").await;
        wait_for_text(&app, "#feeds", "not updated yet").await;

        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "both feeds updated",
            "return !!document.querySelector('#feeds') && document.querySelector('#feeds').textContent.includes('299 listings (and 1 listing shown from another feed)')",
        )
        .await;
        let feeds = text(&app, "#feeds").await;
        assert!(
            feeds.contains(&format!("Feed: {b_url}: 2 listings, updated ")),
            "{feeds}"
        );
        assert!(feeds.contains("Regional feed: http://"), "{feeds}");
        // The feeds list at the top of the window, as a person scrolls to it.
        js(
            &app,
            "document.querySelector('#feeds').previousElementSibling.scrollIntoView({block: 'start'}); return true;",
        )
        .await;
        screenshot(&app, "settings-feeds", 1280, 800).await;
        axe_check(&app, "settings with two feeds").await;

        click(&app, &format!("#feeds li[data-feed='{b_url}'] button")).await;
        click(&app, &format!("button[data-confirm='{b_url}']")).await;
        wait_for_text(&app, "#regions-status", "Stopped following").await;
        let feeds = text(&app, "#feeds").await;
        assert!(!feeds.contains(&b_url), "{feeds}");
        assert!(
            feeds.contains("300 listings"),
            "A's own version is back: {feeds}"
        );
        app.client.close().await.unwrap();
    });
}

fn allotment_feed(path: &Path) {
    let mut feed = Directory::open_publisher(path).unwrap();
    let records: Vec<Value> = (0..300)
        .map(|i| {
            json!({"id": format!("feed-{i}"), "name": format!("Allotment Club {i}"), "status": "active",
                   "attributes": [{"taxonomy_term_id": "signpost:access:drop-in"}, {"taxonomy_term_id": "signpost:interest:nature"}],
                   "service_at_locations": [{"location": {"id": format!("feed-loc-{i}"), "latitude": 51.40 + (i as f64) * 0.0001, "longitude": -2.65}}]})
        })
        .collect();
    for chunk in records.chunks(50) {
        feed.import_sources(vec![("feed".into(), chunk.to_vec())], &mut |_| {})
            .unwrap();
    }
}

#[test]
fn a_sync_cut_part_way_keeps_and_shows_what_arrived() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let faults = Flaky {
        served: Arc::new(AtomicUsize::new(0)),
        good: Arc::new(AtomicUsize::new(3)),
        delay_ms: 400,
    };
    let feed = serve_flaky(&feed_db, faults.clone());
    run(async {
        let app = launch(data_with_fixture()).await;
        // Search first, so the app holds a search index of the data before the update.
        search_for(&app, "BS3").await;
        assert_eq!(result_names(&app).await.len(), 5);
        click(&app, "a[data-tab=settings]").await;
        set_feed_address(&app, &feed).await;

        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the update is running",
            "return !document.querySelector('#sync-progress').hidden",
        )
        .await;
        // Leaving and coming back mid-update: still running, and it cannot be started twice.
        click(&app, "a[data-tab=near]").await;
        click(&app, "a[data-tab=settings]").await;
        let running = js(
            &app,
            "return [document.querySelector('#sync-now').disabled, document.querySelector('#sync-progress').hidden]",
        )
        .await;
        assert_eq!(running, json!([true, false]));
        let second = app
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.__TAURI_INTERNALS__.invoke('sync_now').then(() => done('started'), (e) => done(String(e)));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(second, "A sync is already running.");

        wait_for_text(&app, "#sync-status", "stopped part-way").await;
        let status = text(&app, "#sync-status").await;
        assert!(status.contains("3 of 6 changes arrived"), "{status}");
        wait_for_text(&app, "#directory-summary", "155 listings").await;

        // What arrived is searchable at once, without a restart.
        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        toggle(&app, "#f-interest-nature").await;
        let names = result_names(&app).await;
        assert!(
            !names.is_empty() && names.iter().all(|n| n.starts_with("Allotment Club")),
            "{names:?}"
        );

        // The next update fetches the rest.
        faults.good.store(usize::MAX, Ordering::SeqCst);
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_for_text(&app, "#sync-status", "Updated: 3 changes applied").await;
        wait_for_text(&app, "#directory-summary", "305 listings").await;
        app.client.close().await.unwrap();
    });
    drop(feed);
}

#[test]
fn a_sync_that_fails_at_once_changes_nothing_and_says_why() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let faults = Flaky {
        served: Arc::new(AtomicUsize::new(0)),
        good: Arc::new(AtomicUsize::new(0)),
        delay_ms: 0,
    };
    let feed = serve_flaky(&feed_db, faults);
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        set_feed_address(&app, &feed).await;
        click(&app, "#sync-now").await;
        wait_for_text(
            &app,
            "#sync-status",
            "Sync failed and your directory was kept",
        )
        .await;
        let status = text(&app, "#sync-status").await;
        assert!(status.contains("gzip"), "says what was wrong: {status}");
        wait_for_text(&app, "#directory-summary", "5 listings").await;
        app.client.close().await.unwrap();
    });
    drop(feed);
}

/// A saved listing that closes: someone reports it closed, a moderator approves on the feed,
/// and after the next update the saved list (and the listing's page) say it has closed.
#[test]
fn a_saved_listing_shows_as_closed_after_its_closure_is_approved() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    allotment_feed(&feed_db);
    let moderation = feed_dir.path().join("moderation.db");
    let feed = moderated_feed(&feed_db, &moderation);
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        set_feed_address(&app, &feed).await;
        async fn update(app: &App, n: u64) {
            click(app, "a[data-tab=settings]").await;
            click(app, "#sync-now").await;
            wait_until(
                app,
                "the update finished",
                &format!("return Number(document.body.dataset.syncsFinished || 0) >= {n}"),
            )
            .await;
        }
        update(&app, 1).await;
        js(&app, "location.hash = '#/listing/feed-7'; return true").await;
        wait_for_text(&app, "#detail-name", "Allotment Club 7").await;
        click(&app, "#detail-save").await;
        wait_for_text(&app, "#detail-save", "Remove from saved").await;
        click(&app, "a[data-tab=saved]").await;
        wait_for_text(&app, "#saved-list", "Allotment Club 7").await;
        assert!(!text(&app, "#saved-list").await.contains("Closed"));

        // Reported closed (from another device) and approved on the feed.
        let mut m = signpost_moderation::Moderation::open(&moderation).unwrap();
        let report = m
            .submit(
                signpost_moderation::Kind::Report,
                &json!({"client_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "seq": 1,
                        "service_id": "feed-7", "kind": "closed", "comment": "Stopped in May."}),
                chrono::Utc::now(),
            )
            .unwrap();
        let mut publisher = Directory::open_publisher(&feed_db).unwrap();
        m.approve(&report.id, "mod-ann", &mut publisher, chrono::Utc::now())
            .unwrap();
        update(&app, 2).await;
        click(&app, "a[data-tab=saved]").await;
        wait_for_text(&app, "#saved-list .badge-closed", "Closed").await;
        let row = text(&app, "#saved-list").await;
        assert!(
            row.contains("Allotment Club 7") && row.contains("no longer running"),
            "{row}"
        );
        axe_check(&app, "saved list with a closed listing").await;
        click(&app, "a[href='#/listing/feed-7']").await;
        wait_for_text(&app, "#detail-closed", "Closed").await;
        app.client.close().await.unwrap();
    });
    drop(feed);
}
