//! The Coverage view's commands: where assets are lacking around a place
//! (`signpost_browse::coverage`), and the same table saved as CSV. Translation only.
use signpost_browse::coverage::{self, CoverageAnswer, CoverageRequest};
use signpost_postcodes::Gazetteer;
use tauri::State;

use crate::AppState;

fn directory<'a>(
    state: &'a State<'_, AppState>,
) -> Result<std::sync::MutexGuard<'a, signpost_directory::Directory>, String> {
    state
        .directory
        .lock()
        .map_err(|_| "the directory is unavailable; restart Signpost".to_string())
}

/// Every postcode sector within the radius, with the km to the nearest no-referral listing in
/// each CMHF domain, gaps first; or which place was meant.
#[tauri::command]
pub fn coverage(
    state: State<'_, AppState>,
    request: CoverageRequest,
) -> Result<CoverageAnswer, String> {
    coverage::answer(&*directory(&state)?, Gazetteer::embedded(), &request)
        .map_err(|e| e.to_string())
}

/// Save the coverage table as CSV in the downloads folder; returns its path.
#[tauri::command]
pub fn save_coverage_csv(
    state: State<'_, AppState>,
    request: CoverageRequest,
) -> Result<String, String> {
    let (csv, name) = request
        .csv(&*directory(&state)?, Gazetteer::embedded())
        .map_err(|e| e.to_string())?;
    let folder = &state.paths.downloads;
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let path = folder.join(name);
    std::fs::write(&path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::tests::{app, call};

    #[test]
    fn coverage_and_its_csv_through_ipc() {
        let (data, w) = app();
        let answer = call(
            &w,
            "coverage",
            json!({"request": {"place": "NR20 4", "radius_km": 10}}),
        )
        .unwrap();
        assert_eq!(answer["kind"], "results", "{answer}");
        let rows = answer["rows"].as_array().unwrap();
        assert!(rows.len() > 5);
        let domains = answer["domains"].as_array().unwrap();
        assert_eq!(domains.len(), 4);
        for r in rows {
            assert_eq!(r["nearest_km"].as_array().unwrap().len(), 4);
            assert!(r["sector"].as_str().unwrap().starts_with("NR"));
        }
        let question = call(&w, "coverage", json!({"request": {"place": "Newcastle"}})).unwrap();
        assert_eq!(question["kind"], "choose-place");
        let err = call(
            &w,
            "coverage",
            json!({"request": {"place": "NR20 4", "radius_km": 0}}),
        )
        .unwrap_err();
        assert!(err.as_str().unwrap().contains("between 1 and"), "{err}");
        let path = call(
            &w,
            "save_coverage_csv",
            json!({"request": {"place": "NR20 4", "radius_km": 10}}),
        )
        .unwrap();
        let path = std::path::PathBuf::from(path.as_str().unwrap());
        assert!(
            path.starts_with(data.path().join("dl")),
            "{}",
            path.display()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("sector,latitude,longitude,postcodes,health-and-social-care_km,"));
        assert_eq!(text.lines().count(), rows.len() + 1);
    }
}
