//! Every command the UI may call. The build script turns each into an `allow-…` permission,
//! and `capabilities/main.json` grants them to the main window (and nothing else).
pub const COMMANDS: &[&str] = &[
    "app_info",
    "filter_choices",
    "search",
    "listing",
    "listing_text",
    "save_calendar",
    "saved_list",
    "set_saved",
    "saved_text",
    "report_problem",
    "reports",
    "set_setting",
    "sync_now",
];
