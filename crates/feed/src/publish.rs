//! `signpost-feed publish`: copy the sync layout to an object store or a folder, so that devices
//! sync from a CDN or any static web server and the feed's one writer only writes.
//!
//! The layout is the feed server's own `/sync/` tree, as files (see `sync.rs`):
//!
//! | file | changes | cache |
//! |---|---|---|
//! | `sync/head.json` | at every publish | [`HEAD_CACHE_CONTROL`] (short) |
//! | `sync/changesets/{sha256}` (gzip) | never | [`IMMUTABLE_CACHE_CONTROL`] |
//! | `sync/snapshots/{sha256}` (gzip) | never | immutable |
//! | `sync/log/{sha256}` | never | immutable |
//!
//! **A reader never sees a head whose files are not there yet.** Every file the new head names
//! is put first, and `head.json` last; each put is whole or absent (an S3 PUT, or a local file
//! written aside and renamed), and immutable files are never rewritten or deleted, so the head
//! before stays good too. A publish killed at any instant is simply run again: files already
//! there are skipped, so it is idempotent and resumes where it stopped.
//!
//! The head is read from the directory as one consistent state (its data version is the same
//! before and after), so it never names a changeset, page or snapshot later than itself.
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use signpost_directory::Directory;

use crate::sync::{head_json, HEAD_CACHE_CONTROL, IMMUTABLE_CACHE_CONTROL};

/// Why a publish stopped. Whatever it put stays, and the head it last finished stays current.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The target is not something this can write to.
    #[error("cannot publish to {target}: {message}")]
    Target {
        /// The target as given.
        target: String,
        /// Why.
        message: String,
    },
    /// The object store refused or failed.
    #[error("publishing to {target}: {source}")]
    Store {
        /// The target as given.
        target: String,
        /// What the store said.
        #[source]
        source: object_store::Error,
    },
    /// Reading the feed's directory failed.
    #[error(transparent)]
    Directory(#[from] signpost_directory::Error),
}

type Result<T> = std::result::Result<T, PublishError>;

/// Where to publish: an object store and a prefix inside it.
pub struct Target {
    /// As given, for messages.
    name: String,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    /// Whether the store keeps HTTP headers with each object (a local folder cannot: its web
    /// server sets them, see the README's nginx example).
    keeps_headers: bool,
}

impl Target {
    /// Parse a target: a folder path, a `file://` URL, or `s3://bucket/prefix` (also `gs://`,
    /// `az://`), configured by the usual environment variables (`AWS_ENDPOINT_URL`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …). An `http://` endpoint is
    /// allowed when one is named: it is what a local S3-compatible server speaks.
    pub fn parse(target: &str) -> Result<Target> {
        let fail = |message: String| PublishError::Target {
            target: target.to_string(),
            message,
        };
        let store_error = |e: object_store::Error| fail(e.to_string());
        let Some((scheme, _)) = target.split_once("://") else {
            return Target::folder(target, PathBuf::from(target));
        };
        let url = url::Url::parse(target).map_err(|e| fail(e.to_string()))?;
        let prefix = StorePath::from(url.path().trim_matches('/'));
        let store: Arc<dyn ObjectStore> = match scheme {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| fail("not a local path".into()))?;
                return Target::folder(target, path);
            }
            "s3" | "s3a" => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_url(target);
                let endpoint = std::env::var("AWS_ENDPOINT_URL")
                    .or_else(|_| std::env::var("AWS_ENDPOINT"))
                    .unwrap_or_default();
                if endpoint.starts_with("http://") {
                    builder = builder.with_allow_http(true);
                }
                Arc::new(builder.build().map_err(store_error)?)
            }
            "gs" => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(target)
                    .build()
                    .map_err(store_error)?,
            ),
            "az" | "azure" | "abfs" | "abfss" => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(target)
                    .build()
                    .map_err(store_error)?,
            ),
            other => {
                return Err(fail(format!(
                    "{other}:// is not a kind of store this publishes to \
                     (a folder, file://, s3://, gs:// or az://)"
                )))
            }
        };
        Ok(Target {
            name: target.to_string(),
            store,
            prefix,
            keeps_headers: true,
        })
    }

    fn folder(name: &str, path: PathBuf) -> Result<Target> {
        std::fs::create_dir_all(&path).map_err(|e| PublishError::Target {
            target: name.to_string(),
            message: format!("cannot make the folder: {e}"),
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&path).map_err(|e| {
            PublishError::Target {
                target: name.to_string(),
                message: e.to_string(),
            }
        })?;
        Ok(Target {
            name: name.to_string(),
            store: Arc::new(store),
            prefix: StorePath::default(),
            keeps_headers: false,
        })
    }

    fn key(&self, rel: &str) -> StorePath {
        let mut key = self.prefix.clone();
        for part in rel.split('/') {
            key = key.child(part);
        }
        key
    }

    fn store_error(&self, source: object_store::Error) -> PublishError {
        PublishError::Store {
            target: self.name.clone(),
            source,
        }
    }
}

/// What a publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// The changeset the published head names.
    pub seq: u64,
    /// Files put now (the head included).
    pub put: usize,
    /// Files already there, skipped.
    pub skipped: usize,
    /// Files that were there but differed from the feed's (read back with `verify`), put again.
    pub repaired: usize,
    /// Bytes put now.
    pub bytes: u64,
}

/// A file of the layout, named by hash, with where to read its body.
struct File {
    rel: String,
    kind: Kind,
    hash: String,
}

#[derive(Clone, Copy)]
enum Kind {
    Changeset,
    Snapshot,
    LogPage,
}

/// How many puts run at once: an object store's latency, not its bandwidth, is the limit.
const PUTS_AT_ONCE: usize = 16;

impl File {
    /// The bytes the target should hold: the feed's own, exactly as put.
    fn body(&self, directory: &Directory) -> Result<Vec<u8>> {
        Ok(match self.kind {
            Kind::Changeset => directory.changeset_body(&self.hash)?,
            Kind::Snapshot => directory.snapshot_body(&self.hash)?,
            Kind::LogPage => directory.log_page_body(&self.hash)?,
        })
    }
}

/// Publish `directory`'s sync layout to `target`: every file its head names that the target
/// lacks, then the head. With `verify`, every file already there is read back too, and put
/// again if it differs from the feed's (a copy damaged on the host, which clients refuse).
/// `progress` hears (files done, files to put).
pub fn publish(
    directory: &Directory,
    target: &Target,
    verify: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Published> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PublishError::Target {
            target: target.name.clone(),
            message: format!("no runtime: {e}"),
        })?;
    let (seq, head, files) = consistent_state(directory)?;
    let present: HashSet<StorePath> = runtime.block_on(async {
        target
            .store
            .list(Some(&target.key("sync")))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| target.store_error(e))
    })?;
    let mut done = Published {
        seq,
        ..Published::default()
    };
    // Each put is whole or absent, so a file there under its name is the file, unless the host
    // damaged it since: `verify` reads each one back to find out.
    let (there, mut missing): (Vec<&File>, Vec<&File>) = files
        .iter()
        .partition(|f| present.contains(&target.key(&f.rel)));
    if verify {
        for chunk in there.chunks(PUTS_AT_ONCE) {
            let read = runtime.block_on(async {
                futures::stream::iter(chunk)
                    .map(|f| async move {
                        let got = target.store.get(&target.key(&f.rel)).await?.bytes().await?;
                        Ok::<_, object_store::Error>((*f, got))
                    })
                    .buffered(PUTS_AT_ONCE)
                    .try_collect::<Vec<_>>()
                    .await
                    .map_err(|e| target.store_error(e))
            })?;
            for (f, got) in read {
                if got.as_ref() != f.body(directory)?.as_slice() {
                    tracing::warn!(file = %f.rel, "damaged in the target; putting it again");
                    missing.push(f);
                    done.repaired += 1;
                }
            }
        }
    }
    done.skipped = files.len() - missing.len();
    let total = missing.len() + 1;
    progress(0, total);
    for chunk in missing.chunks(PUTS_AT_ONCE) {
        let bodies = chunk
            .iter()
            .map(|f| Ok((*f, f.body(directory)?)))
            .collect::<Result<Vec<_>>>()?;
        let bytes: u64 = bodies.iter().map(|(_, b)| b.len() as u64).sum();
        runtime.block_on(async {
            futures::stream::iter(bodies)
                .map(|(f, body)| put(target, &f.rel, body, Some(f.kind)))
                .buffer_unordered(PUTS_AT_ONCE)
                .try_collect::<Vec<()>>()
                .await
        })?;
        done.put += chunk.len();
        done.bytes += bytes;
        progress(done.put, total);
    }
    let head = serde_json::to_vec(&head).expect("a JSON value always serialises");
    done.bytes += head.len() as u64;
    runtime.block_on(put(target, "sync/head.json", head, None))?;
    done.put += 1;
    progress(done.put, total);
    Ok(done)
}

/// The head and every file it names, as of one state of the data: read again if a write
/// landed in between (the data version moved).
fn consistent_state(directory: &Directory) -> Result<(u64, serde_json::Value, Vec<File>)> {
    loop {
        let before = directory.data_version()?;
        let feed_id = directory.feed_id()?;
        let snapshot = directory.newest_snapshot()?;
        let tail = directory.log_tail()?;
        let changesets = directory.changesets_after(0, usize::MAX)?;
        let pages = directory.log_page_hashes()?;
        if directory.data_version()? != before {
            continue;
        }
        let head = changesets.last().cloned();
        let seq = head.as_ref().map_or(0, |h| h.seq);
        let mut files: Vec<File> = changesets
            .into_iter()
            .map(|c| File {
                rel: format!("sync/changesets/{}", c.hash),
                kind: Kind::Changeset,
                hash: c.hash,
            })
            .collect();
        files.extend(pages.into_iter().map(|hash| File {
            rel: format!("sync/log/{hash}"),
            kind: Kind::LogPage,
            hash,
        }));
        if let Some(s) = &snapshot {
            files.push(File {
                rel: format!("sync/snapshots/{}", s.hash),
                kind: Kind::Snapshot,
                hash: s.hash.clone(),
            });
        }
        return Ok((seq, head_json(feed_id, head, snapshot, tail), files));
    }
}

/// Put one file of the layout, with the headers it should be served with when the store keeps
/// them: immutable files for ever, the head briefly; changesets and snapshots are gzip.
async fn put(target: &Target, rel: &str, body: Vec<u8>, kind: Option<Kind>) -> Result<()> {
    let mut attributes = Attributes::new();
    if target.keeps_headers {
        attributes.insert(Attribute::ContentType, "application/json".into());
        let cache = match kind {
            Some(_) => IMMUTABLE_CACHE_CONTROL,
            None => HEAD_CACHE_CONTROL,
        };
        attributes.insert(Attribute::CacheControl, cache.into());
        if matches!(kind, Some(Kind::Changeset | Kind::Snapshot)) {
            attributes.insert(Attribute::ContentEncoding, "gzip".into());
        }
    }
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    target
        .store
        .put_opts(&target.key(rel), PutPayload::from(body), options)
        .await
        .map_err(|e| target.store_error(e))?;
    Ok(())
}
