//! The file store: S3-compatible object storage shared by two instances (against a local
//! `moto_server` the test starts), no temporary files after a `kill -9` and a restart, no file
//! left without a row by an upload whose transaction failed, and the orphan sweep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use laihua::config::FilesArgs;

fn sha256_hex(bytes: &[u8]) -> String {
    laihua::files::sha256_hex(bytes)
}

/// Where the folder store keeps the file `sha`.
fn local_path(data_dir: &Path, sha: &str) -> PathBuf {
    data_dir.join("files").join(&sha[..2]).join(&sha[2..])
}

async fn rows_with(app: &TestApp, sha: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE sha256 = $1")
        .bind(sha)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// Waits until `cond` holds (the check after a failed upload runs once its transaction ended).
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_postgres() -> bool {
    std::env::var("LAIHUA_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty())
}

// ---- S3 ----

/// A local S3-compatible server (moto), stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start() -> Moto {
        let port = free_port();
        let child = match Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start moto_server ({e}): the S3 tests need it on PATH: pip install 'moto[server]'"
            ),
        };
        let moto = Moto { child, port };
        let start = Instant::now();
        loop {
            if reqwest::get(moto.url("")).await.is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not answer on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    async fn create_bucket(&self, bucket: &str) {
        let r = reqwest::Client::new()
            .put(self.url(bucket))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "creating bucket: {}", r.status());
    }

    /// The keys in the bucket (read with S3's own ListObjectsV2, not through the server).
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let xml = reqwest::get(self.url(&format!("{bucket}?list-type=2&max-keys=1000")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }

    async fn put_object(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let r = reqwest::Client::new()
            .put(self.url(&format!("{bucket}/{key}")))
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "putting {key}: {}", r.status());
    }

    fn files(&self, bucket: &str, prefix: &str) -> FilesArgs {
        FilesArgs {
            files_url: Some(format!("s3://{bucket}/{prefix}")),
            s3_endpoint: Some(format!("http://127.0.0.1:{}", self.port)),
            s3_virtual_hosted: false,
            // moto takes any credentials.
            s3_access_key_id: Some("laihua-test".into()),
            s3_secret_access_key: Some("laihua-test-secret".into()),
            s3_region: Some("us-east-1".into()),
        }
    }
}

fn key_of(prefix: &str, sha: &str) -> String {
    format!("{prefix}/{}/{}", &sha[..2], &sha[2..])
}

/// Regular files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// One database is enough for S3 (the store does not depend on it): this test runs on whichever
// the suite runs on, SQLite or PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_holds_every_file_and_two_instances_serve_each_others() {
    let moto = Moto::start().await;
    let bucket = format!("laihua-{:08x}", rand::random::<u32>());
    moto.create_bucket(&bucket).await;
    let app = TestApp::spawn_with_files(moto.files(&bucket, "att"), |_| {}).await;
    app.state.files.ready().await.unwrap();

    // A unit's attachments and a group's files, uploaded through the pages.
    let (r, c) = approved_unit(&app, 301, "天宁区", "tianning").await;
    let gid = saved_group(&app, &c, 2).await;
    upload_required(&app, &c, gid).await;

    // Every row's file is in the bucket, none in the data folder.
    let shas: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM files")
        .fetch_all(app.state.pool())
        .await
        .unwrap();
    assert!(
        shas.len() > 5,
        "templates, attachments, passports: {shas:?}"
    );
    let keys = moto.keys(&bucket).await;
    for sha in &shas {
        assert!(keys.contains(&key_of("att", sha)), "{sha} not in {keys:?}");
    }
    let local = files_under(&app.data_dir.join("files"));
    assert!(local.is_empty(), "files in the data folder: {local:?}");

    // A second instance on the same database and bucket, with a data folder of its own.
    let peer = app.spawn_peer_elsewhere(|_| {}).await;
    let at_peer = c.at(&peer.base);
    let attachments: Vec<(i64, i64)> =
        sqlx::query_scalar::<_, i64>("SELECT type_id FROM unit_attachments WHERE unit_id = $1")
            .bind(r.unit_id)
            .fetch_all(app.state.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t, 0))
            .collect();
    assert!(!attachments.is_empty());
    for (type_id, _) in &attachments {
        let file_id: i64 = sqlx::query_scalar(
            "SELECT file_id FROM unit_attachments WHERE unit_id = $1 AND type_id = $2",
        )
        .bind(r.unit_id)
        .bind(type_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
        let path = format!("/units/{}/files/{file_id}", r.unit_id);
        let want = pdf(&format!("type {type_id}"));
        for client in [&c, &at_peer] {
            let (status, _, bytes) = client.get_bytes(&path).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(bytes, want, "{path}");
        }
    }
    let passport: i64 = sqlx::query_scalar(
        "SELECT passport_file_id FROM group_visitors WHERE group_id = $1 ORDER BY seq LIMIT 1",
    )
    .bind(gid)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    let (status, _, bytes) = at_peer
        .get_bytes(&format!("/groups/{gid}/files/{passport}"))
        .await;
    assert_eq!((status, bytes), (200, pdf("passport")));

    // Uploaded through the second instance, served by the first.
    at_peer.get(&format!("/groups/{gid}")).await.assert_ok();
    at_peer
        .upload(
            &format!("/groups/{gid}/upload/other"),
            "other.pdf",
            pdf("uploaded through the peer"),
        )
        .await
        .assert_redirect(&format!("/groups/{gid}"));
    let other: i64 = sqlx::query_scalar(
        "SELECT file_id FROM group_attachments WHERE group_id = $1 AND type_code = 'other'",
    )
    .bind(gid)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    let (status, _, bytes) = c.get_bytes(&format!("/groups/{gid}/files/{other}")).await;
    assert_eq!((status, bytes), (200, pdf("uploaded through the peer")));
    let local = files_under(&peer.data_dir.join("files"));
    assert!(
        local.is_empty(),
        "files in the peer's data folder: {local:?}"
    );

    // The seeded templates (stored in the bucket at the first start) on both.
    let (type_id, _) = unit_types(&app).await[0];
    let (s1, _, t1) = app
        .client()
        .get_bytes(&format!("/templates/{type_id}"))
        .await;
    let (s2, _, t2) = peer
        .client()
        .get_bytes(&format!("/templates/{type_id}"))
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert!(t1.starts_with(b"{\\rtf") && t1 == t2);

    // An object no row references (a crash between write and commit) is removed by the
    // start-up sweep of an instance once it is old enough; the others stay.
    let orphan = b"%PDF-1.4 orphan %%EOF".to_vec();
    let orphan_key = key_of("att", &sha256_hex(&orphan));
    moto.put_object(&bucket, &orphan_key, orphan).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _third = app
        .spawn_peer_elsewhere(|s| s.orphan_file_age_secs = 1)
        .await;
    let start = Instant::now();
    loop {
        let keys = moto.keys(&bucket).await;
        if !keys.contains(&orphan_key) {
            for sha in &shas {
                assert!(keys.contains(&key_of("att", sha)), "{sha} swept");
            }
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "orphan not swept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _, bytes) = c.get_bytes(&format!("/groups/{gid}/files/{other}")).await;
    assert_eq!((status, bytes), (200, pdf("uploaded through the peer")));
}

#[tokio::test]
async fn a_bucket_that_does_not_answer_is_not_ready() {
    let files = FilesArgs {
        files_url: Some("s3://nowhere/x".into()),
        s3_endpoint: Some(format!("http://127.0.0.1:{}", free_port())),
        s3_virtual_hosted: false,
        s3_access_key_id: Some("laihua-test".into()),
        s3_secret_access_key: Some("laihua-test-secret".into()),
        s3_region: None,
    };
    let store = laihua::files::FileStore::open(&files, Path::new("/nonexistent")).unwrap();
    let started = Instant::now();
    assert!(store.ready().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
    let e = store.get(&"ab".repeat(32)).await.unwrap_err();
    assert_ne!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
}

// ---- kill -9 and restart (the real binary) ----

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_binary(dir: &Path, url: &str) -> Server {
    let help = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("--files-url"),
        "{} is an older build than this test (a shared target folder?)",
        env!("CARGO_BIN_EXE_laihua")
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(["--bind", "127.0.0.1:0", "--demo"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The address it listens on, from its start-up line; then its output is drained.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server did not start");
    Server { child, base }
}

/// Signs in as the demo administrator (without a second factor) and opens the templates page.
async fn admin(base: &str) -> Client {
    let c = Client::new(base);
    c.login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    c
}

// The temporary files do not depend on the database: SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_temporary_file_survives_a_kill_and_a_restart() {
    let tmp = tempdir::TempDir::new();
    let dir = tmp.path();
    let url = format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display());
    let server = start_binary(dir, &url).await;
    // Administrators sign in with their password alone here.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE settings SET value = '' WHERE key = $1")
        .bind(laihua::domain::settings::Setting::SecondFactorRoles.key())
        .execute(&pool)
        .await
        .unwrap();
    let type_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM attachment_types")
        .fetch_one(&pool)
        .await
        .unwrap();
    let c = admin(&server.base).await;
    c.get(&format!("/admin/templates/{type_id}")).await;

    // A 9 MB template upload sent slowly; the server is killed half-way through it.
    let boundary = "laihuaboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    .into_bytes();
    body.resize(9 * 1024 * 1024, b' ');
    body.extend_from_slice(format!("\n%%EOF\r\n--{boundary}--\r\n").as_bytes());
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut sock = TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /admin/templates/{type_id}?csrf={} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        c.csrf(),
        c.cookie_header(),
        body.len()
    );
    sock.write_all(head.as_bytes()).unwrap();
    for chunk in body[..4 * 1024 * 1024].chunks(256 * 1024) {
        sock.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut server = server;
    // kill -9 (SIGKILL): nothing of the server runs after it.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(sock);

    // What a kill during the write itself leaves (the write takes milliseconds, too short to
    // hit reliably): a partial file in the dead process's temporary folder, whose lock it
    // held, and a temporary file of an older version beside the final name.
    let tmp_root = dir.join("files").join(".tmp");
    let dead: Vec<PathBuf> = std::fs::read_dir(&tmp_root)
        .unwrap_or_else(|e| panic!("{e}: {:?}", files_under(dir)))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dead.len(), 1, "the killed process's folder: {dead:?}");
    std::fs::write(
        dead[0].join(format!("{}.1234abcd", "cd".repeat(32))),
        b"%PDF-1.4 half",
    )
    .unwrap();
    let legacy_dir = dir.join("files").join("ab");
    std::fs::create_dir_all(&legacy_dir).unwrap();
    std::fs::write(
        legacy_dir.join(format!("{}.tmp123456", "ef".repeat(31))),
        vec![b' '; 1024 * 1024],
    )
    .unwrap();

    let server = start_binary(dir, &url).await;
    // Start-up removed every temporary file: what remains is stored files and, at most, the
    // running server's own lock.
    for f in files_under(&dir.join("files")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let rel = f
            .strip_prefix(dir.join("files"))
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel.starts_with(".tmp") {
            assert!(name.ends_with(".lock"), "left: {rel}");
            let held = std::fs::File::open(&f).unwrap().try_lock().is_err();
            assert!(held, "a dead process's lock left: {rel}");
        } else {
            assert!(!name.contains(".tmp"), "left: {rel}");
            assert_eq!(rel.len(), 65, "not a stored file: {rel}");
        }
    }
    assert!(!dead[0].exists());

    // The restarted server works: a template upload is stored and served.
    let c = admin(&server.base).await;
    c.get(&format!("/admin/templates/{type_id}")).await;
    let template = pdf("after the restart");
    let p = c
        .upload(
            &format!("/admin/templates/{type_id}"),
            "t.pdf",
            template.clone(),
        )
        .await;
    assert!((300..400).contains(&p.status), "{} {}", p.status, p.body);
    let (status, _, bytes) = c.get_bytes(&format!("/templates/{type_id}")).await;
    assert_eq!((status, bytes), (200, template));
}

// ---- failed transactions leave no file ----

/// Makes every write of the audit log whose detail names `fail-me` fail: the upload's
/// transaction fails after its file was written (the audit entry is its last statement).
async fn fail_uploads_named_fail_me(app: &TestApp) {
    let pool = app.state.pool();
    if is_postgres() {
        sqlx::raw_sql(
            "CREATE FUNCTION fail_upload() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER fail_upload BEFORE INSERT ON audit_log FOR EACH ROW
                 WHEN (NEW.detail LIKE '%fail-me%') EXECUTE FUNCTION fail_upload();
             CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON files DEFERRABLE INITIALLY DEFERRED
                 FOR EACH ROW WHEN (NEW.original_name LIKE '%fail-at-commit%') EXECUTE FUNCTION fail_upload();",
        )
        .execute(pool)
        .await
        .unwrap();
    } else {
        sqlx::raw_sql(
            "CREATE TRIGGER fail_upload BEFORE INSERT ON audit_log WHEN NEW.detail LIKE '%fail-me%'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn attachment_file(app: &TestApp, unit_id: i64, type_id: i64) -> Option<i64> {
    sqlx::query_scalar("SELECT file_id FROM unit_attachments WHERE unit_id = $1 AND type_id = $2")
        .bind(unit_id)
        .bind(type_id)
        .fetch_optional(app.state.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_transaction_fails_leaves_no_file() {
    let app = TestApp::spawn().await;
    let ca = app.client();
    let a = create_account(&app, &ca, 311, "天宁区").await;
    let cb = app.client();
    let b = create_account(&app, &cb, 312, "天宁区").await;
    let (type_id, _) = unit_types(&app).await[0];
    let path = format!("/registration/attachments/{type_id}");
    ca.get("/registration/attachments").await.assert_ok();
    cb.get("/registration/attachments").await.assert_ok();
    fail_uploads_named_fail_me(&app).await;

    // Alone: the file is written, the transaction fails, the file goes.
    let bytes = pdf("fails alone");
    let sha = sha256_hex(&bytes);
    let p = ca.upload(&path, "fail-me.pdf", bytes.clone()).await;
    assert!(p.status >= 500, "{} {}", p.status, p.location);
    let file = local_path(&app.data_dir, &sha);
    eventually("the failed upload's file is removed", || !file.exists()).await;
    assert_eq!(rows_with(&app, &sha).await, 0);
    assert_eq!(attachment_file(&app, a.unit_id, type_id).await, None);
    // The same bytes uploaded again are stored again.
    ca.get("/registration/attachments").await.assert_ok();
    ca.upload(&path, "scan.pdf", bytes.clone())
        .await
        .assert_redirect("/registration/attachments");
    assert!(file.exists());
    let id = attachment_file(&app, a.unit_id, type_id).await.unwrap();
    let (status, _, got) = ca
        .get_bytes(&format!("/units/{}/files/{id}", a.unit_id))
        .await;
    assert_eq!((status, got), (200, bytes));

    // Against a concurrent upload of the same bytes that commits: the file stays with it.
    for round in 0..6 {
        let bytes = pdf(&format!("shared {round}"));
        let sha = sha256_hex(&bytes);
        ca.get("/registration/attachments").await;
        cb.get("/registration/attachments").await;
        let (pa, pb) = tokio::join!(
            ca.upload(&path, "fail-me.pdf", bytes.clone()),
            cb.upload(&path, "ok.pdf", bytes.clone())
        );
        assert!(pa.status >= 500, "round {round}: {}", pa.status);
        pb.assert_redirect("/registration/attachments");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(rows_with(&app, &sha).await, 1, "round {round}");
        assert!(local_path(&app.data_dir, &sha).exists(), "round {round}");
        let id = attachment_file(&app, b.unit_id, type_id).await.unwrap();
        let (status, _, got) = cb
            .get_bytes(&format!("/units/{}/files/{id}", b.unit_id))
            .await;
        assert_eq!((status, got), (200, bytes), "round {round}");
    }

    if is_postgres() {
        // The commit itself fails (a deferred constraint): the file goes too.
        let bytes = pdf("fails at commit");
        let sha = sha256_hex(&bytes);
        ca.get("/registration/attachments").await;
        let p = ca.upload(&path, "fail-at-commit.pdf", bytes).await;
        assert!(p.status >= 500, "{}", p.status);
        let file = local_path(&app.data_dir, &sha);
        eventually(
            "the file of an upload whose commit failed is removed",
            || !file.exists(),
        )
        .await;
        assert_eq!(rows_with(&app, &sha).await, 0);
    }
}

// SQLite's write lock held by another process: the upload waits out the busy timeout (10 s)
// and fails before writing anything. SQLite only (PostgreSQL has no database-wide lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_times_out_on_the_database_writes_no_file() {
    if is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let c = app.client();
    let a = create_account(&app, &c, 321, "天宁区").await;
    let (type_id, _) = unit_types(&app).await[0];
    c.get("/registration/attachments").await.assert_ok();
    let mut outside = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut outside)
        .await
        .unwrap();
    let bytes = pdf("times out");
    let sha = sha256_hex(&bytes);
    let p = c
        .upload(
            &format!("/registration/attachments/{type_id}"),
            "scan.pdf",
            bytes,
        )
        .await;
    assert!(p.status >= 500, "{}", p.status);
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut outside)
        .await
        .unwrap();
    assert!(!local_path(&app.data_dir, &sha).exists());
    assert_eq!(rows_with(&app, &sha).await, 0);
    assert_eq!(attachment_file(&app, a.unit_id, type_id).await, None);
}

// ---- the orphan sweep ----

fn set_age(path: &Path, age: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orphan_sweep_removes_old_files_without_a_row_only() {
    let app = TestApp::spawn().await;
    let hour = Duration::from_secs(3600);
    let plant = |label: &str| {
        let bytes = pdf(label);
        let sha = sha256_hex(&bytes);
        let path = local_path(&app.data_dir, &sha);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let old_orphan = plant("old orphan");
    set_age(&old_orphan, 2 * hour);
    // Young: maybe another instance between its write and its commit.
    let young_orphan = plant("young orphan");
    set_age(&young_orphan, Duration::from_secs(600));
    // Old, with a row: a seeded template.
    let (type_id, _) = unit_types(&app).await[0];
    let template_sha: String = sqlx::query_scalar(
        "SELECT f.sha256 FROM attachment_types t JOIN files f ON f.id = t.template_file_id WHERE t.id = $1",
    )
    .bind(type_id)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    let template = local_path(&app.data_dir, &template_sha);
    set_age(&template, 2 * hour);

    // An instance starting on this data folder sweeps at start-up.
    let _peer = app.spawn_peer().await;
    eventually("the old orphan is removed", || !old_orphan.exists()).await;
    assert!(young_orphan.exists());
    assert!(template.exists());
    let (status, _, bytes) = app
        .client()
        .get_bytes(&format!("/templates/{type_id}"))
        .await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"{\\rtf"));
    // Every file with a row is still there.
    let shas: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM files")
        .fetch_all(app.state.pool())
        .await
        .unwrap();
    for sha in shas {
        assert!(local_path(&app.data_dir, &sha).exists(), "{sha} swept");
    }
}
