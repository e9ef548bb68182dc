//! The connector's caseload in the real app, on a fresh data folder with the default region:
//! make it, add a person, suggest, connect, follow up, lock and unlock, and the plan.
use serde_json::json;

use crate::driver::*;

const PASSPHRASE: &str = "orchard kettle lantern mosaic";
const NAME: &str = "Gwendolyn Sparrowhawk";

async fn type_into(app: &App, css: &str, text: &str) {
    let input = find(app, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn go(app: &App, hash: &str, ready: &str) {
    js(app, &format!("location.hash = '{hash}'; return true")).await;
    find(app, ready).await;
}

#[test]
fn a_connector_makes_a_caseload_suggests_connects_and_locks_it() {
    run(async {
        let app = launch(tempfile::tempdir().unwrap()).await;
        go(&app, "#/caseload", "#passphrase").await;
        axe_check(&app, "make a caseload").await;
        screenshot(&app, "caseload-new", 1280, 800).await;
        // Two different passphrases are caught before anything is made.
        type_into(&app, "#passphrase", PASSPHRASE).await;
        type_into(&app, "#passphrase-again", "something else entirely").await;
        click(&app, "#passphrase-submit").await;
        wait_for_text(&app, "#caseload-error", "differ").await;
        type_into(&app, "#passphrase-again", PASSPHRASE).await;
        click(&app, "#passphrase-submit").await;
        find(&app, "#no-people").await;
        axe_check(&app, "empty caseload").await;

        // Add a person; a full postcode is refused beside its field.
        click(&app, "#add-person").await;
        type_into(&app, "#p-name", NAME).await;
        type_into(&app, "#p-home-area", "NR2 3AB").await;
        click(&app, "#save-person").await;
        wait_for_text(&app, "#error-home_area", "full postcode").await;
        assert_eq!(
            js(&app, "return document.activeElement.id").await,
            "p-home-area"
        );
        axe_check(&app, "person form with an error").await;
        type_into(&app, "#p-home-area", "NR2 3").await;
        type_into(&app, "#p-goals", "borrow large-print crime novels").await;
        click(&app, "#p-interest-reading").await;
        for day in ["mon", "tue", "wed", "thu", "fri"] {
            for part in ["morning", "afternoon"] {
                click(&app, &format!("#p-free-{day}-{part}")).await;
            }
        }
        click(&app, "#save-person").await;
        wait_for_text(&app, "#person-name", NAME).await;

        // Suggestions, each saying why.
        click(&app, "#suggest").await;
        find(&app, "#suggestion-list li").await;
        let reasons = text(&app, "#suggestion-list li .reasons").await;
        assert!(
            reasons.contains("reading and libraries") && reasons.contains("when you're free"),
            "{reasons}"
        );
        assert!(
            reasons.split(" · ").next().unwrap().ends_with(" km"),
            "{reasons}"
        );
        axe_check(&app, "person with suggestions").await;
        screenshot(&app, "caseload-person", 1280, 900).await;
        let first = js(
            &app,
            "return document.querySelector('#suggestion-list li').dataset.serviceId",
        )
        .await;
        click(&app, "#suggestion-list li button").await;
        find(
            &app,
            &format!(
                "#connections li[data-connection='{}']",
                first.as_str().unwrap()
            ),
        )
        .await;
        wait_for_text(&app, "#connections li .meta", "suggested since").await;

        // Move the connection on, put it on the plan, plan a follow-up for today.
        app.client.execute(
            "const s = document.querySelector('#connections li select'); s.value = 'introduced'; return true",
            vec![],
        ).await.unwrap();
        type_into(&app, "#connections li input[type=text]", "met the driver").await;
        click(&app, "#connections li form button").await;
        wait_for_text(&app, "#connections li .meta", "introduced since").await;
        click(&app, "#connections li input[type=checkbox]").await;
        type_into(&app, "#f-what", "ring after the first visit").await;
        click(&app, "#follow-up-form button").await;
        wait_for_text(&app, "#follow-ups", "ring after the first visit").await;
        wait_until(
            &app,
            "the plan box stays ticked",
            "return document.querySelector('#connections li input[type=checkbox]').checked",
        )
        .await;

        // The plan, in its three layouts.
        click(&app, "#open-plan").await;
        wait_for_text(&app, "#plan", NAME).await;
        let plan = text(&app, "#plan").await;
        assert!(plan.contains("How to join"), "{plan}");
        axe_check(&app, "plan").await;
        screenshot(&app, "caseload-plan", 1024, 800).await;
        click(&app, "#variant-easy-read").await;
        wait_for_text(&app, "#plan", "How to go").await;
        let easy = js(&app, "return document.querySelector('#plan-text').value").await;
        assert!(
            easy.as_str()
                .unwrap()
                .starts_with(&format!("My plan, {NAME}")),
            "{easy}"
        );
        click(&app, "#variant-large-print").await;
        wait_until(&app, "large print", "return getComputedStyle(document.querySelector('#plan h3')).fontSize !== getComputedStyle(document.body).fontSize").await;
        axe_check(&app, "large-print plan").await;
        screenshot(&app, "caseload-plan-large-print", 1024, 800).await;
        find(&app, "#print-plan").await;
        // Saved as a PDF through the engine's print path: the print layout, with the plan and
        // none of the app around it.
        click(&app, "#variant-standard").await;
        click(&app, "#save-plan-pdf").await;
        wait_for_text(&app, "#plan-status", "Saved as").await;
        let pdf = std::fs::read_dir(app.downloads())
            .expect("downloads")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "pdf"))
            .expect("a PDF in the downloads folder");
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF"), "{}", pdf.display());
        let words = std::process::Command::new("pdftotext")
            .args([pdf.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils): run scripts/setup-system.sh");
        let words = String::from_utf8_lossy(&words.stdout);
        assert!(
            words.contains(NAME) && words.contains("How to join"),
            "{words}"
        );
        assert!(
            !words.contains("Save as PDF") && !words.contains("Layout"),
            "the print layout hides the app: {words}"
        );

        // The agenda opens on what is due today.
        go(&app, "#/caseload", "#people").await;
        wait_for_text(&app, "#due-today", "ring after the first visit").await;
        axe_check(&app, "caseload agenda").await;
        screenshot(&app, "caseload-agenda", 1280, 800).await;

        // Locked, nothing of the caseload stays on screen; a wrong passphrase is refused.
        click(&app, "#lock").await;
        find(&app, "#passphrase").await;
        let page = js(&app, "return document.body.innerText").await;
        assert!(!page.as_str().unwrap().contains("Sparrowhawk"), "{page}");
        axe_check(&app, "locked caseload").await;
        go(&app, "#/person/anything", "#passphrase").await;
        type_into(&app, "#passphrase", "orchard kettle lantern").await;
        click(&app, "#passphrase-submit").await;
        wait_for_text(&app, "#caseload-error", "does not open this caseload").await;
        type_into(&app, "#passphrase", PASSPHRASE).await;
        click(&app, "#passphrase-submit").await;
        wait_for_text(&app, "#people", NAME).await;

        // From a listing: who on the caseload might like it.
        go(
            &app,
            &format!("#/listing/{}", first.as_str().unwrap()),
            "#who-button",
        )
        .await;
        click(&app, "#who-button").await;
        wait_for_text(&app, "#who-might-like", NAME).await;
        app.client.close().await.unwrap();
        let _ = json!(null);
    });
}
