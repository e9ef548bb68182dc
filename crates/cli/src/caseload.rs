//! `signpost caseload`: a connector's caseload from the command line (spreadsheet imports,
//! monthly reports), over the same data folder as the app. Argument parsing and printing only;
//! the work is `signpost-caseload`'s.
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{Local, NaiveDate, Utc};
use clap::{Args, Subcommand};
use signpost_caseload::plan::Variant;
use signpost_caseload::suggest::{self, Options};
use signpost_caseload::{people_csv, report, Caseload};
use signpost_directory::{Directory, Region};

/// The environment variable that holds the passphrase (else it is asked for).
pub const PASSPHRASE_ENV: &str = "SIGNPOST_CASELOAD_PASSPHRASE";

/// `signpost caseload …`
#[derive(Args)]
pub struct CaseloadArgs {
    /// The app's data folder (holds caseload.db and directory.db). Defaults to the app's own.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: CaseloadCommand,
}

#[derive(Subcommand)]
enum CaseloadCommand {
    /// Add people from a CSV file: name,home_area,interests,access_needs,languages,free_times,goals
    /// (lists `;`-separated). Makes the caseload if there is none yet.
    ImportPeople {
        /// The CSV file.
        file: PathBuf,
    },
    /// List the people on the caseload.
    People {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Only people whose support closed more than this many months ago (the retention
        /// review: look, then erase).
        #[arg(long, value_name = "MONTHS", value_parser = clap::value_parser!(u32).range(1..=1200))]
        closed_over_months: Option<u32>,
    },
    /// Ranked suggestions for one person, each with its reasons.
    Suggest {
        /// The person's id, or their exact name.
        person: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// How many.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
    },
    /// New or changed listings that suit people on the caseload since this was last run.
    New {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The commissioners' report: aggregates only, counts under 5 suppressed.
    Report {
        /// Print CSV (measure,breakdown,count,value).
        #[arg(long)]
        csv: bool,
        /// First day of the period (YYYY-MM-DD).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day of the period (YYYY-MM-DD).
        #[arg(long)]
        to: Option<NaiveDate>,
    },
    /// A person's plan, to print or copy.
    Plan {
        /// The person's id, or their exact name.
        person: String,
        /// Short sentences, one fact a line.
        #[arg(long)]
        easy_read: bool,
    },
    /// The letter for the person's GP record, with its SNOMED CT codes.
    Letter {
        /// The person's id, or their exact name.
        person: String,
    },
    /// Delete a person and everything recorded about them.
    Erase {
        /// The person's id, or their exact name.
        person: String,
    },
    /// Write an encrypted backup (it opens with the same passphrase).
    Backup {
        /// The backup file to write.
        file: PathBuf,
    },
    /// Restore a backup into the data folder (which must have no caseload yet).
    Restore {
        /// The backup file.
        file: PathBuf,
    },
}

fn data_dir(given: &Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(d) => Ok(d.clone()),
        None => Ok(
            directories::ProjectDirs::from("uk.org", "Signpost", "Signpost")
                .context("no home folder to find the app's data in; pass --data-dir")?
                .data_dir()
                .to_path_buf(),
        ),
    }
}

fn passphrase(confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set {PASSPHRASE_ENV} or run this in a terminal to be asked");
    }
    let p = rpassword::prompt_password("Caseload passphrase: ")?;
    if confirm && rpassword::prompt_password("Same passphrase again: ")? != p {
        bail!("the two passphrases differ; nothing was made");
    }
    Ok(p)
}

fn unlock(path: &Path) -> Result<Caseload> {
    if !Caseload::exists(path) {
        bail!(
            "there is no caseload at {} yet: import people first, or open the app",
            path.display()
        );
    }
    Ok(Caseload::open(path, &passphrase(false)?)?)
}

/// The directory the app uses, opened to read; on a data folder the app has not used yet, the
/// default region is loaded first, as the app's first start does.
fn directory(data: &Path) -> Result<Directory> {
    let path = data.join("directory.db");
    if !path.exists() {
        let mut dir =
            Directory::open(&path).with_context(|| format!("opening {}", path.display()))?;
        dir.ensure_regions(&Region::bundled_defaults()?)?;
    }
    Directory::open_read_only(&path).with_context(|| format!("opening {}", path.display()))
}

/// Run `signpost caseload …`.
pub fn run(args: CaseloadArgs) -> Result<()> {
    let data = data_dir(&args.data_dir)?;
    let file = data.join("caseload.db");
    let today = Local::now().date_naive();
    match args.command {
        CaseloadCommand::ImportPeople { file: csv } => {
            let caseload = if Caseload::exists(&file) {
                unlock(&file)?
            } else {
                let c = Caseload::create(&file, &passphrase(true)?)?;
                eprintln!("Made a new encrypted caseload at {}.", file.display());
                c
            };
            let source =
                std::fs::File::open(&csv).with_context(|| format!("opening {}", csv.display()))?;
            let r = people_csv::import(&caseload, source, today)?;
            for e in &r.errors {
                eprintln!("{}: {e}", csv.display());
            }
            println!(
                "{} added, {} {} left out{}",
                r.added,
                r.errors.len(),
                if r.errors.len() == 1 { "row" } else { "rows" },
                if r.errors.is_empty() {
                    ""
                } else {
                    " (reasons above)"
                }
            );
            if r.added == 0 && !r.errors.is_empty() {
                bail!("no one was added: every row has a problem");
            }
        }
        CaseloadCommand::People {
            json,
            closed_over_months,
        } => {
            let caseload = unlock(&file)?;
            let people = match closed_over_months {
                Some(m) => caseload.closed_before(
                    today
                        .checked_sub_months(chrono::Months::new(m))
                        .context("too many months")?,
                )?,
                None => caseload.people()?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&people)?);
            } else {
                for p in &people {
                    println!(
                        "{}  {:<30} {:<7} {}{}",
                        p.id,
                        p.name,
                        p.home_area,
                        p.next_follow_up
                            .map(|d| format!("follow up {d}"))
                            .unwrap_or_default(),
                        if p.closed_on.is_some() {
                            " (closed)"
                        } else {
                            ""
                        }
                    );
                }
                println!("{} people", people.len());
            }
        }
        CaseloadCommand::Suggest {
            person,
            json,
            limit,
        } => {
            let caseload = unlock(&file)?;
            let p = caseload.find_person(&person)?;
            let dir = directory(&data)?;
            let options = Options {
                limit: limit.into(),
                ..Options::default()
            };
            let found = suggest::suggest(&dir, &p, Utc::now(), options)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else if found.is_empty() {
                println!(
                    "Nothing suits {} within {} km of {}.",
                    p.details.name,
                    p.travel_m() / 1000.0,
                    p.details.home_area
                );
            } else {
                for (i, s) in found.iter().enumerate() {
                    println!("{}. {} ({})", i + 1, s.name, s.service_id);
                    println!("   {}", s.reasons.join(" · "));
                }
            }
        }
        CaseloadCommand::New { json } => {
            let caseload = unlock(&file)?;
            let dir = directory(&data)?;
            let new =
                suggest::new_for_people(&caseload, &dir, Utc::now(), Options::default(), true)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&new)?);
            } else {
                println!(
                    "{}",
                    new.headline().unwrap_or_else(|| "Nothing new.".into())
                );
                for p in &new.people {
                    for s in &p.suggestions {
                        println!("{}: {} ({})", p.person_name, s.name, s.reasons.join(" · "));
                    }
                }
            }
        }
        CaseloadCommand::Report { csv, from, to } => {
            let caseload = unlock(&file)?;
            let dir = directory(&data)?;
            let rows = report::rows(&caseload, &dir, report::Period { from, to })?;
            if csv {
                print!("{}", report::to_csv(&rows)?);
            } else {
                for r in rows {
                    println!(
                        "{:<18} {:<45} {:>5} {}",
                        r.measure,
                        r.breakdown,
                        r.count
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| format!("<{}", report::SUPPRESS_BELOW)),
                        r.value.map(|v| format!("{v:+.1}")).unwrap_or_default()
                    );
                }
            }
        }
        CaseloadCommand::Plan { person, easy_read } => {
            let caseload = unlock(&file)?;
            let p = caseload.find_person(&person)?;
            let dir = directory(&data)?;
            let plan = signpost_caseload::plan::plan(&caseload, &dir, &p.id, Utc::now())?;
            let variant = if easy_read {
                Variant::EasyRead
            } else {
                Variant::Standard
            };
            print!("{}", plan.to_text(variant));
        }
        CaseloadCommand::Letter { person } => {
            let caseload = unlock(&file)?;
            let p = caseload.find_person(&person)?;
            print!(
                "{}",
                signpost_caseload::plan::gp_letter(&caseload, &p.id, today)?
            );
        }
        CaseloadCommand::Erase { person } => {
            let mut caseload = unlock(&file)?;
            let p = caseload.find_person(&person)?;
            caseload.erase(&p.id)?;
            println!(
                "Erased {} ({}) and everything recorded about them.",
                p.details.name, p.id
            );
        }
        CaseloadCommand::Backup { file: to } => {
            unlock(&file)?.backup(&to)?;
            println!(
                "Backed up to {}; it opens with the same passphrase.",
                to.display()
            );
        }
        CaseloadCommand::Restore { file: from } => {
            let c = Caseload::restore(&from, &file, &passphrase(false)?)?;
            println!(
                "Restored {} people into {}.",
                c.people()?.len(),
                file.display()
            );
        }
    }
    Ok(())
}
