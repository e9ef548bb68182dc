//! `signpost coverage`: where assets are lacking, per postcode sector (CMHF §4.6).
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use signpost_browse::coverage::{coverage, Area, Coverage};

/// Where to cover: a point and a radius, a local authority, or all of England.
#[derive(Args)]
#[command(
    after_help = "Postcode counts (ONSPD, November 2025) stand in for population: Signpost \
carries no population figures. \"No referral\" means what `near --no-referral` means: drop in or \
self-referral. Distances are great-circle km from each sector's centroid to the nearest such \
listing in the domain, anywhere; an empty cell means the directory has none."
)]
pub struct CoverageArgs {
    /// A point: LAT,LON.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true, conflicts_with_all = ["postcode", "place"])]
    at: Option<String>,
    /// A UK postcode, sector or district: "BS3 4AB", "BS3 4", "BS3".
    #[arg(long, conflicts_with = "place")]
    postcode: Option<String>,
    /// A town or place name. A name that is several places (or none, but spelt like some) lists
    /// them on stderr, each with the --place that finds it, and exits with status 2.
    #[arg(long)]
    place: Option<String>,
    /// Every postcode sector whose centroid is within this many km of the place.
    #[arg(long, value_name = "KM", allow_hyphen_values = true)]
    radius_km: Option<f64>,
    /// Instead of a place and radius: every sector mostly in this local authority district,
    /// by its ONS code (E08000010).
    #[arg(long, value_name = "ONS CODE", conflicts_with_all = ["at", "postcode", "place", "radius_km", "england"])]
    local_authority: Option<String>,
    /// Instead of a place and radius: every sector mostly in England (about 10,000).
    #[arg(long, conflicts_with_all = ["at", "postcode", "place", "radius_km"])]
    england: bool,
    /// Print CSV: sector,latitude,longitude,postcodes, then <domain>_km per CMHF domain.
    #[arg(long)]
    csv: bool,
    /// In the summary, list the sectors with no such listing within this many km in a domain.
    #[arg(
        long,
        value_name = "KM",
        default_value_t = 5.0,
        allow_hyphen_values = true
    )]
    gap_km: f64,
}

/// Sectors printed one per line in the summary; a larger area is summarised (use --csv).
const MOST_ROWS_SHOWN: usize = 300;

pub fn run(db: &Option<PathBuf>, args: CoverageArgs) -> Result<()> {
    if !(args.gap_km.is_finite() && args.gap_km > 0.0) {
        bail!("--gap-km must be a positive number of kilometres");
    }
    let (area, label) = if let Some(code) = &args.local_authority {
        (
            Area::LocalAuthority(code.clone()),
            format!("local authority {}", code.trim().to_ascii_uppercase()),
        )
    } else if args.england {
        (Area::England, "England".to_string())
    } else {
        let Some(radius_km) = args.radius_km else {
            bail!("say how far: --radius-km KM (or use --local-authority CODE or --england)");
        };
        if !(radius_km.is_finite() && radius_km > 0.0) {
            bail!("--radius-km must be a positive number of kilometres");
        }
        if args.at.is_none() && args.postcode.is_none() && args.place.is_none() {
            bail!("say where: --postcode, --place or --at (or --local-authority or --england)");
        }
        let (latitude, longitude, label) =
            crate::where_from(&args.at, &args.postcode, &args.place)?;
        (
            Area::Around {
                latitude,
                longitude,
                radius_km,
            },
            format!("{radius_km} km of {label}"),
        )
    };
    let dir = crate::open_to_read(db, true)?;
    let c = coverage(&dir, signpost_postcodes::embedded_sectors(), &area)?;
    let mut out = std::io::stdout().lock();
    if args.csv {
        out.write_all(c.to_csv().as_bytes())?;
    } else {
        summary(
            &mut out,
            &c,
            &label,
            matches!(area, Area::Around { .. }),
            args.gap_km,
        )?;
    }
    Ok(())
}

fn km(d: Option<f64>) -> String {
    d.map_or_else(|| "none".to_string(), |d| format!("{d:.1}"))
}

fn summary(
    out: &mut impl Write,
    c: &Coverage,
    label: &str,
    around: bool,
    gap_km: f64,
) -> Result<()> {
    let postcodes: u64 = c.rows.iter().map(|r| u64::from(r.postcodes)).sum();
    let within = if around { "within " } else { "in " };
    writeln!(
        out,
        "{} postcode sectors {within}{label} ({postcodes} postcodes; the number of postcodes \
         stands in for population).",
        c.rows.len()
    )?;
    if c.rows.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Distance (km) from each sector's centre to the nearest listing needing no referral, \
         by CMHF domain (\"none\": the directory has none):"
    )?;
    let width: Vec<usize> = c.domains.iter().map(|d| d.code.len().max(6)).collect();
    if c.rows.len() <= MOST_ROWS_SHOWN {
        write!(out, "{:<8}  {:>9}", "sector", "postcodes")?;
        for (d, w) in c.domains.iter().zip(&width) {
            write!(out, "  {:>w$}", d.code)?;
        }
        writeln!(out)?;
        for r in &c.rows {
            write!(out, "{:<8}  {:>9}", r.sector, r.postcodes)?;
            for (d, w) in r.nearest_km.iter().zip(&width) {
                write!(out, "  {:>w$}", km(*d))?;
            }
            writeln!(out)?;
        }
    } else {
        writeln!(
            out,
            "({} sectors: too many to list here; --csv gives every one.)",
            c.rows.len()
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Within {gap_km} km, by domain:")?;
    for (i, d) in c.domains.iter().enumerate() {
        let (mut n, mut pc) = (0usize, 0u64);
        for r in &c.rows {
            if r.nearest_km[i].is_some_and(|k| k <= gap_km) {
                n += 1;
                pc += u64::from(r.postcodes);
            }
        }
        writeln!(
            out,
            "  {:<24} {n} of {} sectors ({:.0}% of postcodes)",
            d.label,
            c.rows.len(),
            pc as f64 * 100.0 / postcodes.max(1) as f64
        )?;
    }
    let gaps = c.gaps(gap_km);
    writeln!(out)?;
    if gaps.is_empty() {
        writeln!(
            out,
            "Every sector has a listing needing no referral within {gap_km} km in every domain."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Sectors with none within {gap_km} km in a domain ({}; most lacking first, then most postcodes):",
        gaps.len()
    )?;
    for (r, lacking) in gaps.iter().take(MOST_ROWS_SHOWN) {
        writeln!(
            out,
            "  {:<8} {:>6} postcodes  none within {gap_km} km: {}",
            r.sector,
            r.postcodes,
            lacking.join(", ")
        )?;
    }
    if gaps.len() > MOST_ROWS_SHOWN {
        writeln!(
            out,
            "  … and {} more (--csv gives every sector).",
            gaps.len() - MOST_ROWS_SHOWN
        )?;
    }
    Ok(())
}
