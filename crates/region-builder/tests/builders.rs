//! The region builders on the real source tables in `data/sources/`.
use std::path::PathBuf;

use signpost_region_builder::{gm_assets, public_libraries};

fn source(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/sources")
        .join(rel)
}

#[test]
fn only_open_libraries_are_listed_with_a_tidy_postcode() {
    let listings = public_libraries::convert_public_libraries(
        &source("england-public-libraries/libraries.csv"),
        &source("england-public-libraries/authorities.csv"),
    )
    .unwrap();
    assert_eq!(listings.len(), 2986, "3,238 libraries, 252 of them closed");
    let by_id = |id: &str| listings.iter().find(|l| l["id"] == id);
    // Castle Green (id 2) closed in 2013; Barking (id 1) is open.
    assert!(by_id("epl-2").is_none());
    let barking = by_id("epl-1").expect("Barking is open");
    assert_eq!(barking["name"], "Barking Library");
    let address = &barking["service_at_locations"][0]["location"]["addresses"][0];
    assert_eq!(address["postal_code"], "IG11 7NB");
    assert_eq!(address["city"], "Barking and Dagenham");
    assert_eq!(barking["url"], "https://www.lbbd.gov.uk/libraries");
    assert_eq!(barking["email"], "barking.library@lbbd.gov.uk");
    // Hours are a weekly count, said in words; no times are made up.
    let schedule = &barking["schedules"][0];
    assert!(schedule["description"]
        .as_str()
        .unwrap()
        .contains("72 hours a week"));
    assert!(schedule.get("opens_at").is_none());
}

#[test]
fn postcodes_are_written_the_usual_way_or_not_at_all() {
    assert_eq!(
        public_libraries::tidy_postcode("ig117nb").as_deref(),
        Some("IG11 7NB")
    );
    assert_eq!(
        public_libraries::tidy_postcode("M1 1AE").as_deref(),
        Some("M1 1AE")
    );
    assert_eq!(public_libraries::tidy_postcode("n/a"), None);
    assert_eq!(public_libraries::tidy_postcode(""), None);
}

#[test]
fn greater_manchester_leaves_out_libraries_england_lists_and_assets_placed_elsewhere() {
    let gm = source("gm-community-assets/gm_community_assets.csv");
    let all = gm_assets::convert_gm_assets(&gm, &Default::default()).unwrap();
    let listed =
        public_libraries::open_library_postcodes(&source("england-public-libraries/libraries.csv"))
            .unwrap();
    let once = gm_assets::convert_gm_assets(&gm, &listed).unwrap();
    assert_eq!(once.len(), 5200);
    assert_eq!(
        all.len() - once.len(),
        126,
        "the libraries England's list has"
    );
    // Some of Greater Manchester's libraries are not in England's list, and stay.
    let libraries = |ls: &[serde_json::Value]| {
        ls.iter()
            .filter(|l| {
                l["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["taxonomy_term_id"].as_str().unwrap().ends_with("reading"))
            })
            .count()
    };
    assert_eq!(libraries(&all) - libraries(&once), 126);
    assert!(libraries(&once) > 0);
    // Nothing placed in Bristol is a Greater Manchester asset.
    assert!(once.iter().all(|l| {
        let lat = l["service_at_locations"][0]["location"]["latitude"].as_f64();
        lat.is_none_or(|lat| lat > 53.0)
    }));
}
