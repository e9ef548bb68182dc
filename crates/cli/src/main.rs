//! `signpost`: the command-line front end of the directory. It parses arguments, calls
//! `signpost-directory`, and prints; nothing else lives here.
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use signpost_directory::{
    Attendance, Directory, Filters, ImportReport, NearQuery, NearResult, Progress, Region,
};
use signpost_postcodes::{Gazetteer, Lookup};
use signpost_region_builder as region_builder;

mod caseload;
mod coverage;

/// Import validates on one thread and frees on another; glibc's allocator serialises that. With
/// the `override` feature SQLite allocates from mimalloc as well.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Signpost: what is near me, open now, free, needing no referral.
#[derive(Parser)]
#[command(name = "signpost", version, about)]
struct Cli {
    /// The directory database. Defaults to the platform data folder.
    #[arg(long, global = true, env = "SIGNPOST_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import HSDS 3.0 / ORUK 3.0 JSON, ORUK 1.0 JSON, or HSDS CSV data packages.
    Import {
        /// Files or package folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The most text one file may hold, in MB once decompressed. A larger file is refused
        /// before it is read, so a small `.gz` that inflates a thousandfold cannot exhaust memory.
        #[arg(long, value_name = "MB", default_value_t = signpost_directory::import::MAX_FILE_BYTES / 1_000_000,
              value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_file_mb: u64,
    },
    /// List what is near a point, postcode or place.
    Near(Box<NearArgs>),
    /// Show one listing in full.
    Show {
        /// The listing's id.
        id: String,
        /// Print the stored HSDS record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Counts of listings and locations.
    Stats,
    /// Print the hex digest of the whole directory (equal digests mean equal listings).
    Digest,
    /// Bring the directory up to date from a regional feed. A feed not followed yet is added:
    /// a directory can follow several (see `feeds`).
    Sync {
        /// The feed's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        feed: String,
    },
    /// The feeds this directory follows: listings shown from each, the changeset it is at, and
    /// when it was last up to date.
    Feeds {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop following a feed: its listings go (where another feed publishes one too, that
    /// feed's version is shown instead), and its place in the feed's log.
    Unfollow {
        /// The feed's base URL, as `feeds` lists it.
        feed: String,
    },
    /// Load a region: a bundled one by name (see `regions`), a folder with a region.json, or
    /// one listings file. Loading it again refreshes it.
    LoadRegion {
        /// Bundled region name, folder or file.
        region: String,
    },
    /// The regions this directory holds (with counts), then the bundled ones it does not.
    Regions,
    /// Remove a region and every listing it brought.
    RemoveRegion {
        /// The region's name, as `regions` lists it.
        name: String,
    },
    /// A connector's caseload (encrypted; in the app's data folder).
    Caseload(caseload::CaseloadArgs),
    /// Where assets are lacking: per postcode sector, km to the nearest no-referral listing in
    /// each CMHF domain (postcode counts stand in for population).
    Coverage(coverage::CoverageArgs),
    /// Regenerate the data shipped in the repository.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Subcommand)]
enum DataCommand {
    /// Convert mobile library stop CSVs into HSDS listings (gzip JSON).
    ConvertStops {
        /// Folder of stop CSVs.
        dir: PathBuf,
        /// Output file (.json.gz).
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert the Greater Manchester community assets CSV into HSDS listings (gzip JSON).
    ConvertGm {
        /// gm_community_assets.csv.
        csv: PathBuf,
        /// England's public libraries (libraries.csv): GM libraries it lists are left out, so a
        /// directory with both regions lists each library once.
        #[arg(long)]
        libraries: Option<PathBuf>,
        /// Output file (.json.gz).
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert England's public libraries (open ones only) into HSDS listings (gzip JSON).
    ConvertLibraries {
        /// libraries.csv.
        libraries: PathBuf,
        /// authorities.csv (names each library authority).
        #[arg(long)]
        authorities: PathBuf,
        /// Output file (.json.gz).
        #[arg(long)]
        out: PathBuf,
    },
    /// Pack an ONSPD postcode CSV (optionally gzip) into Signpost's compact form.
    PackPostcodes {
        /// postcodes.csv or postcodes.csv.gz.
        source: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct NearArgs {
    /// A point: LAT,LON.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true, conflicts_with_all = ["postcode", "place"])]
    at: Option<String>,
    /// A UK postcode, sector or district: "BS3 4AB", "BS3 4", "BS3".
    #[arg(long, conflicts_with = "place")]
    postcode: Option<String>,
    /// A town or place name: "Bedminster", "St Ives, Cornwall" or "Leeds, city". A name that is
    /// several places (or none, but spelt like some) lists them on stderr, each with the
    /// --place that finds it, and exits with status 2.
    #[arg(long)]
    place: Option<String>,
    /// Search radius in kilometres.
    #[arg(long, default_value_t = 10.0)]
    radius_km: f64,
    /// Maximum number of results.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Only drop-in or self-referral listings.
    #[arg(long)]
    no_referral: bool,
    /// CMHF domain (repeat for any of several).
    #[arg(long)]
    domain: Vec<String>,
    /// Interest, e.g. walking (repeat for any of several).
    #[arg(long)]
    interest: Vec<String>,
    /// Only free listings.
    #[arg(long)]
    free: bool,
    /// Only wheelchair-accessible listings.
    #[arg(long)]
    wheelchair: bool,
    /// Language code or name (repeat for any of several).
    #[arg(long)]
    language: Vec<String>,
    /// Only listings open now.
    #[arg(long, conflicts_with = "open_at")]
    open_now: bool,
    /// Only listings open at a UK local date and time, e.g. "2026-11-24 10:00".
    #[arg(long, value_name = "DATETIME")]
    open_at: Option<String>,
    /// Only listings meeting in the coming week on one of these days, e.g. `tue,thu`.
    #[arg(long, value_delimiter = ',', value_name = "DAYS")]
    days: Vec<String>,
    /// With or without --days: only sessions in this part of the day (repeat for several).
    #[arg(long, value_name = "PART", value_parser = ["morning", "afternoon", "evening"])]
    part_of_day: Vec<String>,
    /// Words to find in the name, description, organization or categories.
    #[arg(long)]
    text: Option<String>,
    /// Only listings that meet this way.
    #[arg(long, value_enum)]
    attendance: Option<AttendanceArg>,
    /// Print a JSON array, nearest first.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AttendanceArg {
    InPerson,
    Online,
}

fn default_db() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("uk.org", "Signpost", "Signpost")
        .context("cannot find a home folder for the database; pass --db PATH")?;
    Ok(dirs.data_dir().join("directory.db"))
}

/// Open the database for a command that writes (`import`, `sync`, `load-region`).
fn open(db: &Option<PathBuf>) -> Result<Directory> {
    let path = match db {
        Some(p) => p.clone(),
        None => default_db()?,
    };
    Directory::open(&path).with_context(|| format!("opening {}", path.display()))
}

/// Open the database for a command that only reads (`near`, `show`, `stats`, `digest`).
///
/// The rule: looking never writes to a database the user named (`--db` or `SIGNPOST_DB`). It
/// is opened read-only, a file that does not exist reads as an empty directory and is not
/// created, and it is never seeded: such a database is filled by `import`, `load-region` or
/// `sync`, and one that follows a feed must hold exactly what the feed holds. Only the CLI's
/// own default database is seeded with the default region, the first time `near`, `show` or
/// `stats` use it, so a first `signpost near` answers offline at once; `digest` (`seed` false)
/// never writes anywhere.
fn open_to_read(db: &Option<PathBuf>, seed: bool) -> Result<Directory> {
    let path = match db {
        Some(p) => p.clone(),
        None if seed => {
            let path = default_db()?;
            let mut dir =
                Directory::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let regions = Region::bundled_defaults()?;
            let reports = dir.ensure_regions(&regions)?;
            for (region, report) in regions.iter().zip(&reports) {
                eprintln!(
                    "Loaded the default region \"{}\": {} listings.",
                    region.manifest.name,
                    report.inserted + report.replaced + report.unchanged
                );
            }
            return Ok(dir);
        }
        None => default_db()?,
    };
    if !path.exists() {
        eprintln!(
            "note: {} does not exist, so it is read as an empty directory",
            path.display()
        );
    }
    Directory::open_read_only(&path).with_context(|| format!("opening {}", path.display()))
}

/// Text from listings is untrusted: never let it move the cursor, recolour the terminal, or
/// reorder what is shown (bidirectional controls; import removes them too, but a directory may
/// hold older data).
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        })
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn progress_printer() -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = 0;
    move |p: Progress| {
        if p.total == 0 {
            return;
        }
        if tty {
            eprint!(
                "\rimporting {}/{} ({}%)",
                p.done,
                p.total,
                p.done * 100 / p.total
            );
            if p.done == p.total {
                eprintln!();
            }
        } else if p.done == p.total || p.done >= last + 50_000 {
            eprintln!("imported {}/{}", p.done, p.total);
            last = p.done;
        }
    }
}

fn print_report(report: &ImportReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!("{report}");
    for e in &report.errors {
        println!("skipped: {}", printable(&e.to_string()));
    }
    for w in &report.warnings {
        println!("warning: {}", printable(&w.to_string()));
    }
    Ok(())
}

fn parse_open_at(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text.trim(), format) {
            return chrono_tz::Europe::London
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| format!("{text} does not exist in UK time (the clocks skip it)"));
        }
    }
    bail!("--open-at {text:?}: expected a UK local date and time like \"2026-11-24 10:00\"")
}

/// Where from: `--at LAT,LON`, `--postcode` or `--place` (an ambiguous or misspelt place lists
/// the choices on stderr and exits with status 2).
fn where_from(
    at: &Option<String>,
    postcode: &Option<String>,
    place: &Option<String>,
) -> Result<(f64, f64, String)> {
    if let Some(at) = at {
        let (lat, lon) = at
            .split_once(',')
            .with_context(|| format!("--at {at:?}: expected LAT,LON such as 51.4386,-2.6034"))?;
        let lat: f64 = lat
            .trim()
            .parse()
            .with_context(|| format!("--at: latitude {lat:?} is not a number"))?;
        let lon: f64 = lon
            .trim()
            .parse()
            .with_context(|| format!("--at: longitude {lon:?} is not a number"))?;
        return Ok((lat, lon, format!("{lat},{lon}")));
    }
    let gazetteer = Gazetteer::embedded();
    if let Some(pc) = postcode {
        let r = gazetteer.resolve(pc)?;
        return Ok((r.latitude, r.longitude, r.label));
    }
    if let Some(place) = place {
        let (heading, choices) = match gazetteer.lookup(place) {
            Lookup::Found(r) => return Ok((r.latitude, r.longitude, r.label)),
            Lookup::Choose(c) => (format!("{place:?} is more than one place; say which:"), c),
            Lookup::DidYouMean(c) => (format!("no place is called {place:?}; did you mean:"), c),
            Lookup::NotCovered(e) => bail!("{e}"),
            Lookup::Unknown(e) => bail!("{e}: not a postcode or a place Signpost knows"),
        };
        // Not an error but a question: the choices on stderr, and status 2.
        let mut err = std::io::stderr().lock();
        writeln!(err, "{heading}")?;
        for c in choices {
            writeln!(err, "  {}: --place {:?}", c.label(), c.query)?;
        }
        drop(err);
        std::process::exit(2);
    }
    bail!("say where: --postcode, --place or --at")
}

fn near(db: &Option<PathBuf>, args: NearArgs) -> Result<()> {
    let (latitude, longitude, label) = where_from(&args.at, &args.postcode, &args.place)?;
    let now = Utc::now();
    let open_at = match (&args.open_at, args.open_now) {
        (Some(t), _) => Some(parse_open_at(t)?),
        (None, true) => Some(now),
        (None, false) => None,
    };
    if !(args.radius_km.is_finite() && args.radius_km > 0.0) {
        bail!("--radius-km must be a positive number of kilometres");
    }
    let meets_in = if args.days.is_empty() && args.part_of_day.is_empty() {
        None
    } else {
        Some(signpost_browse::search::week_times(
            &args.days,
            &args.part_of_day,
            now,
        )?)
    };
    let query = NearQuery {
        latitude,
        longitude,
        radius_m: args.radius_km * 1000.0,
        limit: args.limit,
        filters: Filters {
            no_referral: args.no_referral,
            domains: args.domain,
            interests: args.interest,
            free: args.free,
            wheelchair: args.wheelchair,
            languages: args.language,
            open_at,
            meets_in,
            text: args.text,
            attendance: args.attendance.map(|a| match a {
                AttendanceArg::InPerson => Attendance::InPerson,
                AttendanceArg::Online => Attendance::Online,
            }),
        },
        today: Some(now.date_naive()),
    };
    let dir = open_to_read(db, true)?;
    let results = dir.near(&query, open_at.unwrap_or(now))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print_table(&label, args.radius_km, &results)?;
    }
    Ok(())
}

fn print_table(label: &str, radius_km: f64, results: &[NearResult]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if results.is_empty() {
        writeln!(out, "Nothing found within {radius_km} km of {label}.")?;
        return Ok(());
    }
    writeln!(out, "Near {label} (nearest first):")?;
    writeln!(
        out,
        "{:>8}  {:<48}  {:<18}  {:<5}  open",
        "distance", "name", "access", "free"
    )?;
    for r in results {
        let distance = if r.distance_m < 1000.0 {
            format!("{:.0} m", r.distance_m)
        } else {
            format!("{:.1} km", r.distance_m / 1000.0)
        };
        let open = match (r.open_now, r.next_opens_at) {
            (Some(true), _) => "open now".to_string(),
            (_, Some(next)) => format!(
                "next {}",
                next.with_timezone(&chrono_tz::Europe::London)
                    .format("%a %-d %b %H:%M")
            ),
            (Some(false), None) => "closed".into(),
            (None, None) => "times not given".into(),
        };
        let mut name = printable(&r.name);
        if name.chars().count() > 48 {
            name = name.chars().take(47).collect::<String>() + "…";
        }
        writeln!(
            out,
            "{:>8}  {:<48}  {:<18}  {:<5}  {}",
            distance,
            name,
            r.access.unwrap_or("unknown"),
            match r.free {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            },
            open
        )?;
        writeln!(out, "{:>8}  id {}", "", printable(&r.service_id))?;
    }
    Ok(())
}

fn show(db: &Option<PathBuf>, id: &str, json: bool) -> Result<()> {
    let dir = open_to_read(db, true)?;
    let d = dir.listing(id)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&d.record)?);
        return Ok(());
    }
    let s = &d.service;
    let mut out = std::io::stdout().lock();
    let line = |out: &mut dyn Write, label: &str, value: &str| -> std::io::Result<()> {
        if value.trim().is_empty() {
            return Ok(());
        }
        writeln!(out, "{label:<14}{}", printable(value))
    };
    writeln!(out, "{}", printable(&s.name))?;
    line(
        &mut out,
        "Organization",
        s.organization.as_ref().map_or("", |o| o.name.as_str()),
    )?;
    line(&mut out, "Status", &s.status)?;
    line(
        &mut out,
        "Description",
        s.description.as_deref().unwrap_or_default(),
    )?;
    line(
        &mut out,
        "When",
        d.when.as_deref().unwrap_or("times not given"),
    )?;
    line(
        &mut out,
        "How to join",
        signpost_browse::detail::how_to_join(d.access),
    )?;
    line(
        &mut out,
        "Applying",
        s.application_process.as_deref().unwrap_or_default(),
    )?;
    let cost = signpost_browse::detail::cost_text(d.free, s.fees_description.as_deref());
    line(&mut out, "Cost", &cost)?;
    for sal in &s.service_at_locations {
        let l = &sal.location;
        let mut place = vec![l.name.clone().unwrap_or_default()];
        for a in &l.addresses {
            place.extend(
                [
                    a.address_1.clone(),
                    a.address_2.clone(),
                    a.city.clone(),
                    a.postal_code.clone(),
                ]
                .into_iter()
                .flatten(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        place.retain(|p| !p.is_empty() && seen.insert(p.clone()));
        line(&mut out, "Where", &place.join(", "))?;
        for a in &l.accessibility {
            line(
                &mut out,
                "Access",
                a.description.as_deref().unwrap_or_default(),
            )?;
        }
    }
    for p in &s.phones {
        line(&mut out, "Phone", &p.number)?;
    }
    line(&mut out, "Email", s.email.as_deref().unwrap_or_default())?;
    line(&mut out, "Website", s.url.as_deref().unwrap_or_default())?;
    if d.wheelchair {
        line(&mut out, "Accessibility", "Wheelchair accessible")?;
    }
    let langs: Vec<String> = s
        .languages
        .iter()
        .filter_map(|l| l.name.clone().or(l.code.clone()))
        .collect();
    line(&mut out, "Languages", &langs.join(", "))?;
    line(&mut out, "Categories", &d.terms.join("; "))?;
    line(
        &mut out,
        "Last verified",
        s.assured_date.as_deref().unwrap_or("not stated"),
    )?;
    line(&mut out, "Id", &s.id)?;
    Ok(())
}

/// A region by what the user typed: a bundled region's name (its folder under `regions/`), a
/// folder with a region.json, or a listings file.
fn region_named(given: &str) -> Result<Region> {
    let path = Path::new(given);
    if path.is_dir() {
        return Ok(Region::from_folder(path)?);
    }
    if path.is_file() {
        return Ok(Region::from_file(path)?);
    }
    match Region::bundled_by_id(given) {
        Ok(region) => Ok(region),
        Err(_) => {
            let names: Vec<String> = Region::bundled()?
                .iter()
                .map(|r| r.id().to_string())
                .collect();
            bail!(
                "{given} is neither a folder, a file nor a bundled region (bundled: {})",
                names.join(", ")
            )
        }
    }
}

/// Write converted listings as gzip JSON, the form regions ship in.
fn write_listings(listings: &[serde_json::Value], out: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(listings)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json)?;
    std::fs::write(out, gz.finish()?).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("{} listings written to {}", listings.len(), out.display());
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Import {
            paths,
            json,
            max_file_mb,
        } => {
            let mut dir = open(&cli.db)?;
            let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
            let report =
                dir.import_paths_limited(&paths, max_file_mb * 1_000_000, &mut progress_printer())?;
            print_report(&report, json)?;
            if report.imported() == 0 && report.skipped > 0 {
                bail!(
                    "nothing was imported: all {} records were skipped (the reasons are above)",
                    report.skipped
                );
            }
        }
        Command::Near(args) => near(&cli.db, *args)?,
        Command::Caseload(args) => caseload::run(args)?,
        Command::Coverage(args) => coverage::run(&cli.db, args)?,
        Command::Show { id, json } => show(&cli.db, &id, json)?,
        Command::Stats => {
            let dir = open_to_read(&cli.db, true)?;
            let mut stats = serde_json::to_value(dir.stats()?)?;
            stats["sources"] = serde_json::to_value(dir.sources()?)?;
            println!("{}", serde_json::to_string_pretty(&stats)?);
        }
        Command::Sync { feed } => {
            // A synced directory holds the feed's region, so the default region is not seeded.
            let mut dir = open(&cli.db)?;
            let started_at = dir.sync_cursor(&feed)?.0;
            let tty = std::io::stderr().is_terminal();
            let mut last_shown = 0;
            let outcome = signpost_sync::sync(
                &mut dir,
                &feed,
                &signpost_sync::Options::default(),
                &mut |p| {
                    if p.changesets_total == 0 {
                        return;
                    }
                    let line = format!(
                        "syncing: {}/{} changesets, {}/{} records, {} of {} KB",
                        p.changesets_done,
                        p.changesets_total,
                        p.records_done,
                        p.records_total,
                        p.bytes_done / 1024,
                        p.bytes_total / 1024
                    );
                    if tty {
                        eprint!("\r{line}");
                        if p.changesets_done == p.changesets_total {
                            eprintln!();
                        }
                    } else if p.changesets_done == p.changesets_total
                        || p.records_done >= last_shown + 10_000
                    {
                        eprintln!("{line}");
                        last_shown = p.records_done;
                    }
                },
            );
            // A sync that fails after applying some changesets keeps them: say so, so the
            // error is not read as "nothing changed".
            let outcome = outcome.map_err(|e| match dir.sync_cursor(&feed) {
                Ok((now, _)) if now != started_at => anyhow::Error::new(e).context(format!(
                    "sync stopped at changeset {now} of {feed} (from {started_at}); what was \
                     applied before the error is kept"
                )),
                _ => e.into(),
            })?;
            match outcome {
                signpost_sync::Outcome::UpToDate { seq, applied } => {
                    // Nothing new is news too: the feed's "last update" is now.
                    dir.confirm_feed(&feed)?;
                    println!("up to date with {feed} (changeset {seq}; {applied} applied now)")
                }
                signpost_sync::Outcome::StartedAgain {
                    seq,
                    applied,
                    reason,
                } => println!(
                    "started again from {feed}: {reason}; now at changeset {seq} ({applied} applied), \
                     and listings the feed no longer has were removed"
                ),
                signpost_sync::Outcome::Partial {
                    applied,
                    seq,
                    head,
                    reason,
                } => println!(
                    "partly synced: {applied} applied from {feed}, now at changeset {seq} of {head}, \
                     then the feed could not be reached ({reason}); sync again to fetch the rest"
                ),
                signpost_sync::Outcome::Offline { reason } => {
                    println!(
                        "offline: could not reach {feed} ({reason}); your directory is unchanged"
                    )
                }
                signpost_sync::Outcome::Behind { seq, copy } => println!(
                    "nothing newer: {feed} is a copy at changeset {copy}, behind the {seq} your \
                     directory holds (a cache not refreshed yet); your directory is unchanged"
                ),
            }
        }
        Command::Feeds { json } => {
            let dir = open_to_read(&cli.db, true)?;
            let feeds = dir.feeds()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&feeds)?);
            } else if feeds.is_empty() {
                println!("this directory follows no feed (signpost sync --feed URL adds one)");
            }
            for f in feeds.iter().filter(|_| !json) {
                let updated = if f.updated_at.is_empty() {
                    "never".to_string()
                } else {
                    f.updated_at.clone()
                };
                let shadowed = if f.shadowed > 0 {
                    format!(" (and {} shown from another feed)", f.shadowed)
                } else {
                    String::new()
                };
                println!(
                    "{}  {} listings{shadowed}  changeset {}  updated {}",
                    printable(&f.feed),
                    f.listings,
                    f.seq,
                    printable(&updated)
                );
            }
        }
        Command::Unfollow { feed } => {
            let mut dir = open(&cli.db)?;
            let removed = dir.unfollow_feed(&feed)?;
            println!("stopped following {feed}: {removed} listings removed");
        }
        Command::Digest => {
            let dir = open_to_read(&cli.db, false)?;
            println!("{}", dir.digest()?);
        }
        Command::LoadRegion { region } => {
            let region = region_named(&region)?;
            let mut dir = open(&cli.db)?;
            let report = dir.load_region(&region, &mut progress_printer())?;
            print_report(&report, false)?;
        }
        Command::Regions => {
            let dir = open_to_read(&cli.db, true)?;
            let sources = dir.sources()?;
            for s in &sources {
                let kind = match s.kind {
                    signpost_directory::SourceKind::Region => "region",
                    signpost_directory::SourceKind::Feed => "feed",
                    signpost_directory::SourceKind::Imported => "imported",
                };
                println!("{kind:<9} {:>8}  {}", s.listings, s.name);
            }
            for r in Region::bundled()? {
                if !sources.iter().any(|s| s.name == r.manifest.name) {
                    println!(
                        "{:<9} {:>8}  {} (bundled: signpost load-region {})",
                        "not loaded",
                        "-",
                        r.manifest.name,
                        r.id()
                    );
                }
            }
        }
        Command::RemoveRegion { name } => {
            let mut dir = open(&cli.db)?;
            let removed = dir.remove_region(&name)?;
            println!("removed the region \"{name}\": {removed} listings");
        }
        Command::Data(DataCommand::ConvertGm {
            csv,
            libraries,
            out,
        }) => {
            let listed = match libraries {
                Some(path) => region_builder::public_libraries::open_library_postcodes(&path)?,
                None => Default::default(),
            };
            write_listings(
                &region_builder::gm_assets::convert_gm_assets(&csv, &listed)?,
                &out,
            )?;
        }
        Command::Data(DataCommand::ConvertLibraries {
            libraries,
            authorities,
            out,
        }) => {
            write_listings(
                &region_builder::public_libraries::convert_public_libraries(
                    &libraries,
                    &authorities,
                )?,
                &out,
            )?;
        }
        Command::Data(DataCommand::ConvertStops { dir, out }) => {
            write_listings(
                &region_builder::mobile_library_stops::convert_stops(&dir)?,
                &out,
            )?;
        }
        Command::Data(DataCommand::PackPostcodes { source, out }) => {
            let file = std::fs::File::open(&source)
                .with_context(|| format!("opening {}", source.display()))?;
            let reader: Box<dyn std::io::Read> = if source.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::read::GzDecoder::new(file))
            } else {
                Box::new(file)
            };
            let (packed, stats) =
                signpost_postcodes::pack_postcodes(std::io::BufReader::new(reader))?;
            std::fs::write(&out, &packed).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "{} postcodes ({} without location) packed into {} bytes",
                stats.postcodes, stats.without_location, stats.packed_bytes
            );
        }
    }
    Ok(())
}
