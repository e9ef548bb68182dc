//! The Coverage view in the real app, on a fresh data folder with the default region and the
//! default (no tiles) map: where assets are lacking, as a table, a map layer and a CSV file.
use crate::driver::*;

async fn run_coverage(app: &App, place: &str) {
    let before = js(
        app,
        "return Number(document.body.dataset.coverageRuns || 0)",
    )
    .await
    .as_u64()
    .unwrap();
    let input = find(app, "#coverage-place").await;
    input.clear().await.unwrap();
    input.send_keys(place).await.unwrap();
    click(app, "#coverage-run").await;
    wait_until(
        app,
        "the coverage is painted",
        &format!("return Number(document.body.dataset.coverageRuns || 0) > {before}"),
    )
    .await;
}

#[test]
fn coverage_shows_sectors_gaps_first_on_the_map_and_saves_a_csv() {
    run(async {
        let app = launch(tempfile::tempdir().unwrap()).await;
        click(&app, "a[data-tab=coverage]").await;
        find(&app, "#coverage-place").await;
        let current = js(
            &app,
            "return document.querySelector('a[data-tab=coverage]').getAttribute('aria-current')",
        )
        .await;
        assert_eq!(current, "page");
        // Default settings: 10 km, a gap is nothing within 5 km.
        let defaults = js(
            &app,
            "return [document.querySelector('#coverage-radius').value, document.querySelector('#coverage-gap').value]",
        )
        .await;
        assert_eq!(defaults, serde_json::json!(["10", "5"]));
        axe_check(&app, "coverage form").await;

        // An ambiguous place is a choice, not a guess.
        run_coverage(&app, "Newcastle").await;
        let choices = js(
            &app,
            "return [...document.querySelectorAll('#coverage-choices button')].map(b => b.dataset.place)",
        )
        .await;
        assert!(
            choices
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "Newcastle upon Tyne"),
            "{choices}"
        );

        run_coverage(&app, "NR20 4").await;
        let status = text(&app, "#coverage-status").await;
        assert!(status.contains("within 10 km of NR20 4"), "{status}");
        let rows = js(
            &app,
            "return document.querySelectorAll('#coverage-table tbody tr').length",
        )
        .await
        .as_u64()
        .unwrap();
        assert!(rows >= 5, "sectors within 10 km of NR20 4: {rows}");
        // Four domains, each a column, plus sector, postcodes and what is lacking.
        let columns = js(
            &app,
            "return document.querySelectorAll('#coverage-table thead th').length",
        )
        .await;
        assert_eq!(columns, 7);
        // Gaps first: no row lacking something comes after one lacking nothing.
        let order = js(
            &app,
            "return [...document.querySelectorAll('#coverage-table tbody tr')].map(r => r.classList.contains('gap-row'))",
        )
        .await;
        let order: Vec<bool> = serde_json::from_value(order).unwrap();
        assert!(order.windows(2).all(|w| w[0] || !w[1]), "{order:?}");
        assert!(
            order[0],
            "the mobile library stops leave gaps in some kinds of support"
        );
        // The map layer: one circle per sector on the offline map, with its legend.
        wait_until(
            &app,
            "a circle per sector",
            &format!("return document.querySelectorAll('.map-canvas path.coverage-sector').length === {rows}"),
        )
        .await;
        assert_eq!(
            js(
                &app,
                "return document.querySelectorAll('#coverage-legend li').length"
            )
            .await,
            5
        );
        // The legend's colours are painted (the CSP admits no inline style: classes carry them).
        let painted = js(
            &app,
            "return [...document.querySelectorAll('#coverage-legend .swatch')].map(s => getComputedStyle(s).backgroundColor)",
        )
        .await;
        let painted: Vec<String> = serde_json::from_value(painted).unwrap();
        assert_eq!(painted.len(), 4);
        assert!(painted.iter().all(|c| c.starts_with("rgb(")), "{painted:?}");
        let note = text(&app, ".map-note").await;
        assert!(note.contains("postcode sectors"), "{note}");
        // Another domain recolours the same circles.
        let colours = "return [...document.querySelectorAll('path.coverage-sector')].map(p => p.getAttribute('class')).join('|')";
        let before = js(&app, colours).await;
        app.client
            .execute(
                "const s = document.querySelector('#coverage-domain'); s.value = '1'; s.dispatchEvent(new Event('change')); return true",
                vec![],
            )
            .await
            .unwrap();
        page_answers(&app).await;
        let after = js(&app, colours).await;
        assert_eq!(
            after.as_str().unwrap().split('|').count(),
            rows as usize,
            "still one circle per sector"
        );
        assert_ne!(
            before, after,
            "health and local facilities differ around NR20 4"
        );
        // A sector in the table is shown on the map, named in its tooltip (as text).
        let first = js(
            &app,
            "return document.querySelector('#coverage-table tbody tr').dataset.sector",
        )
        .await;
        click(&app, "#coverage-table tbody tr th button").await;
        let first = first.as_str().unwrap().to_string();
        wait_until(
            &app,
            "the sector's tooltip is open",
            &format!("return [...document.querySelectorAll('.leaflet-tooltip')].some(t => t.textContent.startsWith('{first}:'))"),
        )
        .await;
        axe_check(&app, "coverage results").await;
        js(&app, "window.scrollTo(0, 0); return true").await;
        screenshot(&app, "coverage", 1280, 800).await;
        js(
            &app,
            "document.querySelector('.coverage-map').scrollIntoView(); return true",
        )
        .await;
        screenshot(&app, "coverage-map", 1280, 800).await;

        // Export: the CSV of the contract, in the downloads folder.
        click(&app, "#coverage-save").await;
        wait_for_text(&app, "#coverage-saved", "Saved").await;
        let saved: Vec<_> = std::fs::read_dir(app.downloads())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        assert_eq!(saved.len(), 1, "{saved:?}");
        let csv = std::fs::read_to_string(&saved[0]).unwrap();
        assert!(csv.starts_with(
            "sector,latitude,longitude,postcodes,health-and-social-care_km,local-facilities_km,personal-interests_km,personal-relationships_km\n"
        ));
        assert_eq!(csv.lines().count() as u64, rows + 1);
        app.client.close().await.unwrap();
    });
}
