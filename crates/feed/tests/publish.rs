//! `signpost-feed publish`: the sync layout on a real S3-compatible server (`s3s-fs`, in this
//! process) and in a folder served by Debian's nginx, and clients syncing from either, verified.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use signpost_directory::Directory;
use signpost_sync::{sync, Options, Outcome};

use super::{feed, many_changesets, repo};

const ACCESS_KEY: &str = "signpost-test";
const SECRET_KEY: &str = "signpost-test-secret";

/// Reads are public, as a bucket behind a CDN is; everything else needs the signed request the
/// publisher makes.
struct PublicRead;

#[async_trait::async_trait]
impl s3s::access::S3Access for PublicRead {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        match (cx.credentials(), cx.s3_op().name()) {
            (Some(_), _) | (None, "GetObject" | "HeadObject") => Ok(()),
            (None, _) => Err(s3s::s3_error!(AccessDenied, "Signature is required")),
        }
    }
}

/// An S3-compatible server over `root` (bucket `bucket` is the folder `root/bucket`), each
/// request held `delay` first, so that a publish lasts long enough to be killed half way.
struct S3 {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    root: PathBuf,
}

impl S3 {
    fn start(root: &Path, delay: Duration) -> S3 {
        std::fs::create_dir_all(root.join("bucket")).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut builder =
            s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root).unwrap());
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        builder.set_access(PublicRead);
        let service = builder.build();
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let held = hyper::service::service_fn(move |request| {
                        let service = service.clone();
                        async move {
                            tokio::time::sleep(delay).await;
                            hyper::service::Service::call(&service, request).await
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(socket), held)
                        .await;
                });
            }
        });
        S3 {
            _runtime: runtime,
            addr,
            root: root.to_path_buf(),
        }
    }

    /// `signpost-feed publish --to s3://bucket/{prefix}`, not waited for.
    fn publish(&self, data: &Path, prefix: &str) -> Child {
        self.publish_with(data, prefix, &[])
    }

    /// The same, reading back what is there (`--verify`).
    fn publish_verified(&self, data: &Path, prefix: &str) -> Child {
        self.publish_with(data, prefix, &["--verify"])
    }

    fn publish_with(&self, data: &Path, prefix: &str, more: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_signpost-feed"))
            .arg("--data")
            .arg(data)
            .args(["publish", "--to", &format!("s3://bucket/{prefix}")])
            .args(more)
            .env("AWS_ENDPOINT_URL", format!("http://{}", self.addr))
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", "us-east-1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The base URL a client syncs from.
    fn base(&self, prefix: &str) -> String {
        format!("http://{}/bucket/{prefix}", self.addr)
    }

    /// The folder holding a published file.
    fn folder(&self, prefix: &str) -> PathBuf {
        self.root.join("bucket").join(prefix)
    }
}

fn finished(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `publish --to TARGET`, which must succeed; what it printed.
fn publish_to(data: &Path, to: &Path) -> String {
    let out = feed(data, &["publish", "--to", to.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn head_file(folder: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(folder.join("sync/head.json")).unwrap()).unwrap()
}

/// Every file `head.json` in `folder` names is there: the snapshot, the newest log page and
/// each changeset it lists (a client reaches the rest through the pages, checked by syncing).
fn head_names_only_files_present(folder: &Path) {
    let head = head_file(folder);
    let mut named: Vec<String> = head["log"]["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("sync/changesets/{}", c["hash"].as_str().unwrap()))
        .collect();
    if let Some(page) = head["log"]["page"].as_str().filter(|p| !p.is_empty()) {
        named.push(format!("sync/log/{page}"));
    }
    if let Some(snapshot) = head["snapshot"]["hash"].as_str() {
        named.push(format!("sync/snapshots/{snapshot}"));
    }
    for rel in named {
        assert!(
            folder.join(&rel).is_file(),
            "head.json names {rel}, missing"
        );
    }
}

fn changeset_files(folder: &Path) -> usize {
    std::fs::read_dir(folder.join("sync/changesets"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().len() == 64)
                .count()
        })
        .unwrap_or(0)
}

fn sync_from(db: &Path, base: &str) -> signpost_sync::Result<Outcome> {
    let mut app = Directory::open(db).unwrap();
    sync(&mut app, base, &Options::default(), &mut |_| {})
}

fn digest(db: &Path) -> String {
    Directory::open(db).unwrap().digest().unwrap()
}

/// The S3 case and two of its faults: a publish killed half way (SIGKILL) leaves the
/// head it had, naming only files that are there, and the next publish resumes; a file
/// corrupted in the bucket is rejected by the client, which keeps what it had.
#[test]
fn a_bucket_publish_survives_a_kill_and_clients_reject_a_corrupted_file() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    std::fs::create_dir_all(&data).unwrap();
    let (mut publisher, _) = many_changesets(&data, 150);
    publisher.publish_snapshot().unwrap().unwrap();
    let s3 = S3::start(&t.path().join("s3"), Duration::from_millis(15));
    let said = finished(s3.publish(&data, "region"));
    assert!(said.contains("published changeset 150"), "{said}");
    let folder = s3.folder("region");
    head_names_only_files_present(&folder);

    // A client syncs from the bucket over HTTP: the snapshot, then nothing more.
    let client = t.path().join("client.db");
    let outcome = sync_from(&client, &s3.base("region")).unwrap();
    assert_eq!(
        outcome,
        Outcome::UpToDate {
            seq: 150,
            applied: 1
        }
    );
    assert_eq!(digest(&client), publisher.digest().unwrap());

    // 600 more changesets (a new listing each); the publish is killed once some are in the bucket.
    for i in 0..600 {
        let listing = serde_json::json!({"id": format!("x{i:05}"), "name": format!("New {i}"), "status": "active"});
        publisher
            .import_sources(vec![(format!("new {i}"), vec![listing])], &mut |_| {})
            .unwrap();
    }
    let before = changeset_files(&folder);
    let mut child = s3.publish(&data, "region");
    let started = Instant::now();
    while changeset_files(&folder) < before + 40 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "publish stalled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "killed while still publishing"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let put = changeset_files(&folder) - before;
    assert!(put < 600, "half way: {put} of 600 put");
    assert_eq!(head_file(&folder)["seq"], 150, "the old head stays");
    head_names_only_files_present(&folder);
    assert_eq!(
        sync_from(&client, &s3.base("region")).unwrap(),
        Outcome::UpToDate {
            seq: 150,
            applied: 0
        }
    );

    // Resumed: only what is missing is put.
    let said = finished(s3.publish(&data, "region"));
    assert!(said.contains("published changeset 750"), "{said}");
    let skipped: usize = said
        .rsplit_once(", ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(skipped >= 150 + put, "{said}");
    head_names_only_files_present(&folder);
    assert_eq!(
        sync_from(&client, &s3.base("region")).unwrap(),
        Outcome::UpToDate {
            seq: 750,
            applied: 600
        }
    );
    assert_eq!(digest(&client), publisher.digest().unwrap());

    // Run again with nothing new: only the head is put.
    let said = finished(s3.publish(&data, "region"));
    assert!(said.contains(": 1 files put"), "{said}");

    // A changeset corrupted in the bucket: rejected, nothing of it applied.
    assert!(publisher.delete("c00200").unwrap());
    finished(s3.publish(&data, "region"));
    let hash = publisher.changeset_head().unwrap().unwrap().hash;
    let stored = folder.join("sync/changesets").join(&hash);
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&stored, &bytes).unwrap();
    let held = digest(&client);
    let err = sync_from(&client, &s3.base("region"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hash mismatch") || err.contains("not valid gzip"),
        "{err}"
    );
    assert_eq!(digest(&client), held, "the old data is kept");
    assert_eq!(
        Directory::open(&client)
            .unwrap()
            .sync_cursor(&s3.base("region"))
            .unwrap()
            .0,
        750
    );
    // A plain publish trusts what is there; `--verify` reads it back and puts it right.
    let said = finished(s3.publish(&data, "region"));
    assert!(!said.contains("damaged"), "{said}");
    assert!(sync_from(&client, &s3.base("region")).is_err());
    let said = finished(s3.publish_verified(&data, "region"));
    assert!(said.contains("1 damaged files put again"), "{said}");
    assert!(
        said.contains(": 2 files put"),
        "the changeset and the head: {said}"
    );
    assert_eq!(
        sync_from(&client, &s3.base("region")).unwrap(),
        Outcome::UpToDate {
            seq: 751,
            applied: 1
        }
    );
    assert_eq!(digest(&client), publisher.digest().unwrap());
}

/// Debian's nginx serving a published folder on 127.0.0.1, with the shipped configuration.
struct Nginx {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn serve(root: &Path) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let conf = format!(
            "user root;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include /etc/nginx/mime.types;\n  \
             server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    include {include};\n  }}\n}}\n",
            root = root.display(),
            include = repo("deploy/nginx/signpost-sync.conf").display(),
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let binary = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|b| Path::new(b).exists())
            .unwrap_or("nginx");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/setup-system.sh)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Listings spread over England, `changed` of them renamed, for a region of `n`.
fn listings(n: usize, renamed: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let name = if i < renamed {
                format!("Group {i} (renamed)")
            } else {
                format!("Group {i}")
            };
            serde_json::json!({
                "id": format!("g{i:06}"),
                "name": name,
                "status": "active",
                "service_at_locations": [{"location": {
                    "id": format!("l{i:06}"),
                    "latitude": 50.5 + (i % 997) as f64 * 0.004,
                    "longitude": -4.5 + (i % 991) as f64 * 0.006,
                }}]
            })
        })
        .collect()
}

/// The nginx case: a client syncs 100k listings from a published folder served by
/// nginx, then a 1% delta; the cache headers are the ones the layout asks for.
#[test]
fn a_client_syncs_100k_listings_then_a_delta_from_nginx() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    std::fs::create_dir_all(&data).unwrap();
    let n = 100_000;
    let mut publisher = Directory::open_publisher(&data.join("feed.db")).unwrap();
    publisher
        .import_sources(vec![("region".into(), listings(n, 0))], &mut |_| {})
        .unwrap();
    publisher.publish_snapshot().unwrap().unwrap();
    let folder = t.path().join("www");
    let said = publish_to(&data, &folder);
    assert!(said.contains("already there"), "{said}");
    let nginx = Nginx::serve(&folder);

    let client = t.path().join("client.db");
    let first = sync_from(&client, &nginx.base).unwrap();
    assert!(
        matches!(first, Outcome::UpToDate { applied: 1, .. }),
        "{first:?}"
    );
    assert_eq!(digest(&client), publisher.digest().unwrap());
    assert_eq!(
        Directory::open(&client).unwrap().stats().unwrap().listings,
        n
    );

    // A 1% delta: 900 renamed, 100 withdrawn.
    publisher
        .import_sources(vec![("region".into(), listings(900, 900))], &mut |_| {})
        .unwrap();
    let withdrawn: Vec<String> = (n - 100..n).map(|i| format!("g{i:06}")).collect();
    assert_eq!(publisher.delete_all(&withdrawn).unwrap(), 100);
    let said = publish_to(&data, &folder);
    assert!(
        said.contains(": 3 files put"),
        "two changesets and the head: {said}"
    );
    let delta = sync_from(&client, &nginx.base).unwrap();
    assert!(
        matches!(delta, Outcome::UpToDate { applied: 2, .. }),
        "{delta:?}"
    );
    assert_eq!(digest(&client), publisher.digest().unwrap());
    let db = Directory::open(&client).unwrap();
    assert_eq!(db.stats().unwrap().listings, n - 100);
    assert_eq!(
        db.listing("g000007").unwrap().service.name,
        "Group 7 (renamed)"
    );

    // The headers the shipped configuration gives.
    let head = reqwest::blocking::get(format!("{}/sync/head.json", nginx.base)).unwrap();
    assert_eq!(head.headers()["cache-control"], "public, max-age=60");
    let hash = publisher.changeset_head().unwrap().unwrap().hash;
    let body = reqwest::blocking::get(format!("{}/sync/changesets/{hash}", nginx.base)).unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(
        body.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(body.headers()["content-encoding"], "gzip");
    let missing =
        reqwest::blocking::get(format!("{}/sync/changesets/{}", nginx.base, "0".repeat(64)))
            .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers().get("cache-control").is_none(),
        "a 404 is never cached for ever"
    );
}

/// A stale head (a cache not yet refreshed) only delays: a client ahead of it keeps its data
/// and is told so; a client behind it moves up to it, never past what the copy has; and when
/// the head is fresh again both catch up. A tampered log page is rejected.
#[test]
fn a_stale_head_only_delays_and_a_tampered_page_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    std::fs::create_dir_all(&data).unwrap();
    let (mut publisher, _) = many_changesets(&data, 70);
    let folder = t.path().join("www");
    publish_to(&data, &folder);
    let stale = std::fs::read(folder.join("sync/head.json")).unwrap();
    let nginx = Nginx::serve(&folder);
    let (ahead, behind) = (t.path().join("ahead.db"), t.path().join("behind.db"));
    assert_eq!(
        sync_from(&behind, &nginx.base).unwrap(),
        Outcome::UpToDate {
            seq: 70,
            applied: 70
        }
    );
    for i in 70..80 {
        assert!(publisher.delete(&format!("c{i:05}")).unwrap());
    }
    publish_to(&data, &folder);
    let fresh = std::fs::read(folder.join("sync/head.json")).unwrap();
    assert_eq!(
        sync_from(&ahead, &nginx.base).unwrap(),
        Outcome::UpToDate {
            seq: 80,
            applied: 80
        }
    );
    let held = digest(&ahead);

    std::fs::write(folder.join("sync/head.json"), &stale).unwrap();
    assert_eq!(
        sync_from(&ahead, &nginx.base).unwrap(),
        Outcome::Behind { seq: 80, copy: 70 }
    );
    assert_eq!(digest(&ahead), held);

    std::fs::write(folder.join("sync/head.json"), &fresh).unwrap();
    assert_eq!(
        sync_from(&ahead, &nginx.base).unwrap(),
        Outcome::UpToDate {
            seq: 80,
            applied: 0
        }
    );
    // The other client, at 70, reads page 1 (changesets 1 to 64) only if it needs it: here it
    // does not. A new client does, and a page altered on the host is refused by its hash.
    let page = head_file(&folder)["log"]["page"]
        .as_str()
        .unwrap()
        .to_string();
    let page_path = folder.join("sync/log").join(&page);
    let original = std::fs::read(&page_path).unwrap();
    let tampered =
        String::from_utf8(original.clone())
            .unwrap()
            .replacen("\"upserts\":0", "\"upserts\":1", 1);
    assert_ne!(tampered.as_bytes(), original.as_slice());
    std::fs::write(&page_path, tampered).unwrap();
    let newcomer = t.path().join("newcomer.db");
    let err = sync_from(&newcomer, &nginx.base).unwrap_err().to_string();
    assert!(err.contains("hash mismatch"), "{err}");
    assert_eq!(
        Directory::open(&newcomer)
            .unwrap()
            .stats()
            .unwrap()
            .listings,
        0
    );
    std::fs::write(&page_path, original).unwrap();
    assert_eq!(
        sync_from(&behind, &nginx.base).unwrap(),
        Outcome::UpToDate {
            seq: 80,
            applied: 10
        }
    );
    assert_eq!(digest(&behind), held);
    assert_eq!(digest(&behind), publisher.digest().unwrap());
}

/// `serve --publish-to`: the server publishes at start and again after an import made by
/// another process.
#[test]
fn serve_publishes_after_each_change() {
    let t = tempfile::tempdir().unwrap();
    let data = super::published(&t);
    let folder = t.path().join("www");
    let _server = super::Server::start_with(&data, &["--publish-to", folder.to_str().unwrap()]);
    let seq_published = || -> u64 {
        std::fs::read(folder.join("sync/head.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|h| h["seq"].as_u64())
            .unwrap_or(0)
    };
    let wait_for = |seq: u64| {
        let started = Instant::now();
        while seq_published() != seq {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still at {}",
                seq_published()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for(2);
    assert!(feed(&data, &["delete", "v1-foodbank-002"]).status.success());
    wait_for(3);
    head_names_only_files_present(&folder);
}
