//! Regions: a named bundle of listing files plus attribution, described by `region.json`.
//!
//! A region is data, not code. The bundled regions are the folders under `regions/`, compiled
//! into the binary; those marked `"default": true` are loaded on a fresh install. Any other
//! folder with a `region.json`, or a single listings file, loads the same way:
//!
//! ```json
//! { "name": "…", "description": "…", "attribution": ["…"], "sources": ["listings.json.gz"],
//!   "default": false }
//! ```
//! Each source is any format `signpost import` accepts. A listing remembers the region it came
//! from (its source is `region:NAME/FILE`), which is how a region is counted and removed.
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::import::{self, RawRecord};

static BUNDLED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../regions");

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
    /// Loaded on a fresh install (bundled regions only).
    #[serde(default)]
    pub default: bool,
}

/// Where a region's files come from.
enum Files {
    Embedded(&'static Dir<'static>),
    Folder(PathBuf),
    /// One file's bytes, as a person picked it in the app.
    Memory(Vec<u8>),
}

/// A loadable region.
pub struct Region {
    /// Its manifest.
    pub manifest: Manifest,
    files: Files,
    id: String,
}

impl Region {
    /// Every region compiled into this binary, by folder name (`regions/<id>/`).
    pub fn bundled() -> Result<Vec<Region>> {
        let mut out = Vec::new();
        for dir in BUNDLED.dirs() {
            let id = dir.path().display().to_string();
            let Some(manifest) = dir.get_file(dir.path().join("region.json")) else {
                continue;
            };
            out.push(Region {
                manifest: parse_manifest(&id, manifest.contents())?,
                files: Files::Embedded(dir),
                id,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The bundled regions a fresh install loads.
    pub fn bundled_defaults() -> Result<Vec<Region>> {
        Ok(Region::bundled()?
            .into_iter()
            .filter(|r| r.manifest.default)
            .collect())
    }

    /// The bundled region with folder name `id`.
    pub fn bundled_by_id(id: &str) -> Result<Region> {
        Region::bundled()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::Region {
                name: id.into(),
                message: "there is no bundled region of that name".into(),
            })
    }

    /// One listings file's bytes as a region, named after the file (as [`Region::from_file`]).
    /// The file's format is told by its name, as for a file on disk.
    pub fn from_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Region> {
        let file_name = Path::new(file_name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::Region {
                name: file_name.into(),
                message: "the file has no name".into(),
            })?;
        let mut region = Region::from_file(Path::new(&file_name))?;
        region.files = Files::Memory(bytes);
        Ok(region)
    }

    /// Where the region came from: its folder name for a bundled region, else its path.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether it is compiled into this binary.
    pub fn is_bundled(&self) -> bool {
        matches!(self.files, Files::Embedded(_))
    }

    /// One listings file as a region of its own, named after the file ("camden-groups.json"
    /// is "camden-groups").
    pub fn from_file(path: &Path) -> Result<Region> {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::Region {
                name: path.display().to_string(),
                message: "not a file".into(),
            })?;
        let stem = file_name
            .split('.')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(&file_name)
            .to_string();
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Region {
            manifest: Manifest {
                name: stem,
                description: format!("Listings from the file {file_name}."),
                attribution: Vec::new(),
                sources: vec![file_name],
                default: false,
            },
            files: Files::Folder(folder),
            id: path.display().to_string(),
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
            id: dir.display().to_string(),
        })
    }

    /// Every source's records, tagged with the source name.
    pub fn records(&self) -> Result<Vec<(String, Vec<RawRecord>)>> {
        let mut out = Vec::new();
        for source in &self.manifest.sources {
            let records = match &self.files {
                Files::Embedded(dir) => {
                    let file =
                        dir.get_file(dir.path().join(source))
                            .ok_or_else(|| Error::Region {
                                name: self.manifest.name.clone(),
                                message: format!("source {source} is not in the embedded region"),
                            })?;
                    import::read_bytes(Path::new(source), file.contents())?
                }
                Files::Folder(dir) => import::read_path(&dir.join(source))?,
                Files::Memory(bytes) => import::read_bytes(Path::new(source), bytes)?,
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
