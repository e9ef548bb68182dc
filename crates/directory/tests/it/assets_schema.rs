//! The published schema examples: valid ones pass, invalid ones fail at the field they break.
use crate::repo;

fn examples(kind: &str) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<_> = std::fs::read_dir(repo(&format!("assets-schema/examples/{kind}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.display().to_string(),
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn valid_examples_pass() {
    let valid = examples("valid");
    assert!(valid.len() >= 2);
    for (path, value) in valid {
        let errors = signpost_directory::validate::listing_errors(&value);
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
}

#[test]
fn invalid_examples_fail_at_their_field() {
    let expect = [
        ("bad-byday", "/schedules/0/byday"),
        ("bad-status", "/status"),
        ("no-name", "/name"),
    ];
    for (path, value) in examples("invalid") {
        let errors = signpost_directory::validate::listing_errors(&value);
        let (_, field) = expect
            .iter()
            .find(|(name, _)| path.contains(name))
            .expect("known example");
        assert!(errors.iter().any(|(f, _)| f == field), "{path}: {errors:?}");
    }
}

#[test]
fn the_example_listing_has_every_facet() {
    let (_, value) = examples("valid")
        .into_iter()
        .find(|(p, _)| p.contains("choir"))
        .unwrap();
    let service: signpost_directory::model::Service = serde_json::from_value(value).unwrap();
    let f = signpost_directory::taxonomy::Facets::of(&service);
    assert_eq!(f.access, Some(signpost_directory::Access::DropIn));
    assert_eq!(f.free, Some(true));
    assert!(f.wheelchair);
    assert!(f.languages.contains(&"en".to_string()));
}
