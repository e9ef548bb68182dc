//! Regions: a named bundle of listing files plus attribution, described by `region.json`.
//!
//! A region is data, not code. The default region is the folder `regions/default/` compiled
//! into the binary; any other folder with a `region.json` loads the same way:
//!
//! ```json
//! { "name": "…", "description": "…", "attribution": ["…"], "sources": ["listings.json.gz"] }
//! ```
//! Each source is any format `signpost import` accepts.
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::import::{self, RawRecord};

static DEFAULT_REGION: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../regions/default");

/// A region's manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Short name, shown to users.
    pub name: String,
    /// What is in it.
    #[serde(default)]
    pub description: String,
    /// Lines to show wherever the data is shown.
    #[serde(default)]
    pub attribution: Vec<String>,
    /// Listing files, relative to the manifest.
    pub sources: Vec<String>,
}

/// Where a region's files come from.
enum Files {
    Embedded(&'static Dir<'static>),
    Folder(PathBuf),
}

/// A loadable region.
pub struct Region {
    /// Its manifest.
    pub manifest: Manifest,
    files: Files,
}

impl Region {
    /// The region compiled into this binary (`regions/default/`).
    pub fn embedded_default() -> Result<Region> {
        let manifest = DEFAULT_REGION
            .get_file("region.json")
            .ok_or_else(|| Error::Region {
                name: "default".into(),
                message: "region.json missing from the embedded region".into(),
            })?;
        Ok(Region {
            manifest: parse_manifest("default", manifest.contents())?,
            files: Files::Embedded(&DEFAULT_REGION),
        })
    }

    /// A region folder on disk.
    pub fn from_folder(dir: &Path) -> Result<Region> {
        let path = dir.join("region.json");
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Region {
            manifest: parse_manifest(&dir.display().to_string(), &bytes)?,
            files: Files::Folder(dir.to_path_buf()),
        })
    }

    /// Every source's records, tagged with the source name.
    pub fn records(&self) -> Result<Vec<(String, Vec<RawRecord>)>> {
        let mut out = Vec::new();
        for source in &self.manifest.sources {
            let records = match &self.files {
                Files::Embedded(dir) => {
                    let file = dir.get_file(source).ok_or_else(|| Error::Region {
                        name: self.manifest.name.clone(),
                        message: format!("source {source} is not in the embedded region"),
                    })?;
                    let bytes = maybe_gunzip(file.contents()).map_err(|e| Error::Region {
                        name: self.manifest.name.clone(),
                        message: format!("{source}: {e}"),
                    })?;
                    import::read_bytes(Path::new(source), &bytes)?
                }
                Files::Folder(dir) => import::read_path(&dir.join(source))?,
            };
            out.push((format!("region:{}/{source}", self.manifest.name), records));
        }
        Ok(out)
    }
}

fn parse_manifest(name: &str, bytes: &[u8]) -> Result<Manifest> {
    serde_json::from_slice(bytes).map_err(|e| Error::Region {
        name: name.into(),
        message: format!("region.json: {e}"),
    })
}

fn maybe_gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}
