//! `laihua backup`, `laihua backup --verify` and `laihua restore`, run as an operator would: the
//! real binary against a serving instance holding data made through HTTP, restored into new
//! databases (SQLite, and PostgreSQL when LAIHUA_TEST_POSTGRES_URL is set), served again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};

// ---- running the binary ----

struct Out {
    ok: bool,
    text: String,
}

fn laihua(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("RUST_LOG", "error")
        .env("RUST_BACKTRACE", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        ok: out.status.success(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `laihua backup --verify PATH` (no database involved).
fn verify(path: &Path) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("backup")
        .arg("--verify")
        .arg(path)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    Out {
        ok: out.status.success(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display())
}

/// A new, empty PostgreSQL database, when the tests run against PostgreSQL.
async fn new_postgres() -> Option<String> {
    let base = std::env::var("LAIHUA_TEST_POSTGRES_URL").ok()?;
    if base.is_empty() {
        return None;
    }
    let name = format!("laihua_test_{}", rand::random::<u64>());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap();
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

/// The targets a backup is restored into: a new SQLite data folder, and a new PostgreSQL
/// database when available. (label, data folder, database URL)
async fn targets(root: &Path) -> Vec<(&'static str, PathBuf, String)> {
    let dir = root.join("restored-sqlite");
    let mut out = vec![("sqlite", dir.clone(), sqlite_url(&dir))];
    if let Some(url) = new_postgres().await {
        out.push(("postgres", root.join("restored-pg"), url));
    }
    out
}

/// The key file is kept apart from the backups; the operator puts it beside the data to
/// restore before the restore (the sealed files open only with it; without it the server
/// refuses to start, and `audit verify` needs its audit key: tests/keys.rs).
fn key_file_beside(app: &TestApp, dir: &Path) {
    let keys = laihua::keys::Keys::default_path(dir);
    std::fs::create_dir_all(keys.parent().unwrap()).unwrap();
    std::fs::copy(&app.state.config.data_key_file, &keys).unwrap();
}

/// A server run from the binary, as an operator starts it; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_laihua"))
            .arg("--data-dir")
            .arg(dir)
            .arg("--database-url")
            .arg(url)
            .args(["serve", "--bind", "127.0.0.1:0", "--font", "none"])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        // Keep the pipe drained.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- the data ----

/// What the source holds, made through HTTP: an approved unit (registration attachments,
/// messages from the reviews), a submitted group with its files, and their audit entries.
struct Made {
    login: String,
    group: i64,
    passport_file: i64,
}

async fn make_data(app: &TestApp, n: u32) -> (Made, Client) {
    let (r, c) = approved_unit(app, n, "天宁区", "tianning").await;
    let group = submitted_group(app, &c, 2, &[]).await;
    let passport_file: i64 = sqlx::query_scalar(
        "SELECT passport_file_id FROM group_visitors WHERE group_id = $1 ORDER BY seq LIMIT 1",
    )
    .bind(group)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    for (table, at_least) in [
        ("unit_attachments", 1),
        ("group_attachments", 1),
        ("messages", 1),
        ("audit_log", 10),
    ] {
        let n = app.scalar(&format!("SELECT COUNT(*) FROM {table}")).await;
        assert!(n >= at_least, "{table}: {n} rows");
    }
    (
        Made {
            login: r.login,
            group,
            passport_file,
        },
        c,
    )
}

/// Checks a restored copy the way its users would: `audit verify` passes, a server on it shows
/// the unit its group and serves the group's file, and a new group saves under a new id.
async fn check_served(app: &TestApp, made: &Made, dir: &Path, url: &str, label: &str) {
    check_served_after(app, made, dir, url, label, 0).await
}

/// [`check_served`], where the new group's id must also exceed `issued` (the highest id the
/// source's sequence gave, rows since deleted included).
async fn check_served_after(
    app: &TestApp,
    made: &Made,
    dir: &Path,
    url: &str,
    label: &str,
    issued: i64,
) {
    let out = laihua(dir, url, &["audit", "verify"], &[]);
    assert!(
        out.ok && out.text.contains("审计日志完整"),
        "{label}: {}",
        out.text
    );
    let max_group: i64 = {
        let db = laihua::db::Db::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT MAX(id) FROM invitation_groups")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    let server = Server::start(dir, url);
    let c = Client::new(&server.base);
    c.login(&made.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
    c.get(&format!("/groups/{}", made.group))
        .await
        .assert_ok()
        .assert_has("美国客户技术交流团");
    let (status, _, bytes) = c
        .get_bytes(&format!(
            "/groups/{}/files/{}",
            made.group, made.passport_file
        ))
        .await;
    assert_eq!(status, 200, "{label}");
    assert_eq!(bytes, pdf("passport"), "{label}");
    c.get("/messages").await.assert_ok();
    // The id sequences continue after the restored rows.
    c.get("/groups/form").await.assert_ok();
    let mut f = group_fields(app, 1).await;
    set(&mut f, "name", "恢复后新建团组");
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id: i64 = group_id_in(&p.location);
    assert!(
        id > max_group && id > issued,
        "{label}: new group {id} after {max_group} (ids given: {issued})"
    );
    c.get(&format!("/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("恢复后新建团组");
    let out = laihua(dir, url, &["audit", "verify"], &[]);
    assert!(out.ok, "{label}: {}", out.text);
}

// ---- a backup under load ----

#[derive(Clone, Debug)]
struct Op {
    writer: usize,
    seq: usize,
    /// The group's name (unique).
    name: String,
    /// When the save and the upload were confirmed to the user.
    saved: Instant,
    uploaded: Option<Instant>,
}

/// Saves groups and uploads a file to each, one after the other, until told to stop.
async fn writer(
    app: Arc<TestApp>,
    c: Client,
    w: usize,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Op>>>,
) {
    let mut f = group_fields(&app, 1).await;
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("负载团组{w}-{seq}");
        set(&mut f, "name", &name);
        let p = c.post("/groups", &refs(&f)).await;
        p.assert_redirect("/groups/");
        let saved = Instant::now();
        let id: i64 = group_id_in(&p.location);
        let i = log.lock().unwrap().len();
        log.lock().unwrap().push(Op {
            writer: w,
            seq,
            name,
            saved,
            uploaded: None,
        });
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend_from_slice(format!("{w}-{seq}").as_bytes());
        c.upload(&format!("/groups/{id}/upload/clerk_id"), "clerk.png", png)
            .await
            .assert_redirect(&format!("/groups/{id}"));
        log.lock().unwrap()[i].uploaded = Some(Instant::now());
        seq += 1;
    }
}

/// A backup taken while three clients save groups and upload files holds one point in time:
/// every save confirmed before it started, each client's operations up to some point and none
/// after, every group with its audit entry and visitor, every attachment with its file. It
/// restores into SQLite and PostgreSQL, where `audit verify` passes and the server serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_is_one_consistent_snapshot_and_restores() {
    let app = Arc::new(TestApp::spawn().await);
    let (made, c) = make_data(&app, 1).await;
    let root = common::tempdir::TempDir::new();
    let archive = root.path().join("under-load.tar");

    c.get("/groups/form").await.assert_ok();
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..3)
        .map(|w| tokio::spawn(writer(app.clone(), c.clone(), w, stop.clone(), log.clone())))
        .collect();
    // Let the load start, then back up, pausing after each table so that saves land between
    // the reads of the tables.
    while log.lock().unwrap().len() < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    let (dir, url, path) = (
        app.data_dir.clone(),
        app.database_url.clone(),
        archive.clone(),
    );
    let out = tokio::task::spawn_blocking(move || {
        laihua(
            &dir,
            &url,
            &["backup", "--to", path.to_str().unwrap()],
            &[("LAIHUA_TEST_BACKUP_PAUSE_MS", "100")],
        )
    })
    .await
    .unwrap();
    let ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(out.ok && out.text.contains("备份完成"), "{}", out.text);
    let log = log.lock().unwrap().clone();
    let during = log
        .iter()
        .filter(|o| o.saved > started && o.saved < ended)
        .count();
    assert!(
        during >= 3,
        "{during} saves confirmed during the backup: no load"
    );
    let v = verify(&archive);
    assert!(v.ok && v.text.contains("备份完好"), "{}", v.text);

    for (label, dir, url) in targets(root.path()).await {
        key_file_beside(&app, &dir);
        let out = laihua(
            &dir,
            &url,
            &["restore", "--from", archive.to_str().unwrap()],
            &[],
        );
        assert!(
            out.ok && out.text.contains("恢复完成"),
            "{label}: {}",
            out.text
        );
        check_snapshot(&url, &log, started, ended, label).await;
        check_served(&app, &made, &dir, &url, label).await;
    }
}

/// The snapshot property, read from a restored copy.
async fn check_snapshot(url: &str, log: &[Op], started: Instant, ended: Instant, label: &str) {
    let db = laihua::db::Db::connect(url).await.unwrap();
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM invitation_groups WHERE name LIKE '负载团组%'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let present: BTreeMap<String, i64> = rows.into_iter().map(|(id, n)| (n, id)).collect();
    let with_clerk: BTreeSet<i64> = sqlx::query_scalar::<_, i64>(
        "SELECT group_id FROM group_attachments WHERE type_code = 'clerk_id'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    // Everything confirmed before the backup started is in it.
    for o in log.iter().filter(|o| o.saved < started) {
        let id = present.get(&o.name);
        assert!(
            id.is_some(),
            "{label}: {} confirmed before the backup, missing",
            o.name
        );
        if o.uploaded.is_some_and(|t| t < started) {
            assert!(
                with_clerk.contains(id.unwrap()),
                "{label}: upload of {} missing",
                o.name
            );
        }
    }
    // Each client's operations (save 0, upload 0, save 1, …) are there up to a point, none after.
    for w in 0..3 {
        let mut ops: Vec<&Op> = log.iter().filter(|o| o.writer == w).collect();
        ops.sort_by_key(|o| o.seq);
        let mut steps = Vec::new();
        for o in &ops {
            let id = present.get(&o.name);
            steps.push(id.is_some());
            steps.push(id.is_some_and(|id| with_clerk.contains(id)));
        }
        let cut = steps.iter().position(|s| !s).unwrap_or(steps.len());
        assert!(
            steps[cut..].iter().all(|s| !s),
            "{label}: client {w} has operations after a missing one: {steps:?}"
        );
    }
    // The snapshot was taken before the backup ended: some save confirmed meanwhile is not in it.
    assert!(
        log.iter()
            .any(|o| o.saved < ended && !present.contains_key(&o.name)),
        "{label}: every save confirmed during the backup is in it"
    );
    // No half transaction: each group with its creation entry and its visitor, each attachment
    // with its upload entry, no entry of a group that is not there.
    for id in present.values() {
        let created: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'group' AND object_id = $1 AND action = 'group.create'",
        )
        .bind(id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(created, 1, "{label}: group {id}");
        let visitors: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM group_visitors WHERE group_id = $1")
                .bind(*id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(visitors, 1, "{label}: group {id}");
        let uploads: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE object_type = 'group' AND object_id = $1 AND action = 'group.file'",
        )
        .bind(id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(
            uploads,
            i64::from(with_clerk.contains(id)),
            "{label}: group {id}"
        );
    }
    let entries: Vec<String> = sqlx::query_scalar(
        "SELECT object_id FROM audit_log WHERE object_type = 'group' AND action = 'group.create'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let groups: BTreeSet<String> = sqlx::query_scalar::<_, i64>("SELECT id FROM invitation_groups")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.to_string())
        .collect();
    for e in entries {
        assert!(
            groups.contains(&e),
            "{label}: audit entry of group {e}, which is missing"
        );
    }
}

// ---- from the embedded database to PostgreSQL ----

/// A backup of a SQLite installation restores into PostgreSQL (SQLite when the tests run
/// without PostgreSQL) with every value of every table identical, and serves there.
#[tokio::test]
async fn a_sqlite_backup_moves_to_postgres_with_every_value() {
    let app = TestApp::spawn_sqlite().await;
    let (made, c) = make_data(&app, 2).await;
    // A 差评 of a dispatch, closed by the city office: the ratings move too.
    let rated = dispatched_group(&app, &c, 1, "tianning").await;
    let page = c.get(&format!("/groups/{rated}")).await;
    let step = page.input_value("step").unwrap();
    c.post(
        &format!("/groups/{rated}/rating"),
        &[
            ("step", &step),
            ("level", "dissatisfied"),
            ("comment", "太慢"),
        ],
    )
    .await
    .assert_redirect(&format!("/groups/{rated}?ok=rated"));
    // Ids given to rows since deleted are never given again, on the copy either.
    sqlx::query("UPDATE sqlite_sequence SET seq = seq + 1000 WHERE name = 'invitation_groups'")
        .execute(app.state.pool())
        .await
        .unwrap();
    let issued = app
        .scalar("SELECT seq FROM sqlite_sequence WHERE name = 'invitation_groups'")
        .await;
    let root = common::tempdir::TempDir::new();
    let archive = root.path().join("sqlite.tar");
    let out = laihua(
        &app.data_dir,
        &app.database_url,
        &["backup", "--to", archive.to_str().unwrap()],
        &[],
    );
    assert!(out.ok && out.text.contains("sqlite"), "{}", out.text);
    let (label, dir, url) = targets(root.path()).await.pop().unwrap();
    key_file_beside(&app, &dir);
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", archive.to_str().unwrap()],
        &[],
    );
    assert!(out.ok, "{label}: {}", out.text);
    let source = dump(&app.state.db).await;
    let copy = dump(&laihua::db::Db::connect(&url).await.unwrap()).await;
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        copy.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &source {
        assert_eq!(rows, &copy[table], "{label}: table {table}");
    }
    assert!(source["audit_log"].len() >= 10);
    assert_eq!(source["ratings"].len(), 1);
    check_served_after(&app, &made, &dir, &url, label, issued).await;
}

/// Every table's rows (all values as text, sorted), but the migrations' bookkeeping.
async fn dump(db: &laihua::db::Db) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let tables: Vec<String> = match db.backend {
        laihua::db::Backend::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ),
        laihua::db::Backend::Postgres => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
        ),
    }
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables.into_iter().filter(|t| t != "schema_migrations") {
        let cols: Vec<String> = match db.backend {
            laihua::db::Backend::Sqlite => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY name")
            }
            laihua::db::Backend::Postgres => sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1",
            ),
        }
        .bind(t.as_str())
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let select = cols
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!("SELECT {select} FROM \"{t}\""))
            .fetch_all(&db.pool)
            .await
            .unwrap();
        let mut rows: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| {
                (0..cols.len())
                    .map(|i| sqlx::Row::try_get::<Option<String>, _>(r, i).unwrap())
                    .collect()
            })
            .collect();
        rows.sort();
        out.insert(t, rows);
    }
    out
}

// ---- refusals and damage ----

/// Copies an archive entry by entry; `edit` may change an entry's bytes or drop it (None).
/// With `fix_manifest` the manifest is rewritten to match (as someone forging it would).
fn rebuild(
    from: &Path,
    to: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
    fix_manifest: bool,
) {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(from).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_str().unwrap().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if let Some(data) = edit(&name, data) {
            entries.push((name, data));
        }
    }
    if fix_manifest {
        let sha = |d: &[u8]| hex::encode(Sha256::digest(d));
        let i = entries
            .iter()
            .position(|(n, _)| n == "manifest.json")
            .unwrap();
        let mut m: serde_json::Value = serde_json::from_slice(&entries[i].1).unwrap();
        let mut listed = serde_json::Map::new();
        let mut files = 0;
        for (n, d) in &entries {
            if n.starts_with("manifest.json") {
                continue;
            }
            files += u64::from(n.starts_with("files/"));
            listed.insert(
                n.clone(),
                serde_json::json!({"sha256": sha(d), "size": d.len()}),
            );
        }
        m["entries"] = serde_json::Value::Object(listed);
        m["files"] = files.into();
        let json = serde_json::to_vec_pretty(&m).unwrap();
        let sum = format!("{}\n", sha(&json));
        entries[i].1 = json;
        let j = entries
            .iter()
            .position(|(n, _)| n == "manifest.json.sha256")
            .unwrap();
        entries[j].1 = sum.into_bytes();
    }
    let mut b = tar::Builder::new(std::fs::File::create(to).unwrap());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, &name, data.as_slice()).unwrap();
    }
    b.finish().unwrap();
}

/// An empty target for a restore that must be refused, and then accept a good archive.
async fn empty_target(root: &Path, name: &str) -> (PathBuf, String) {
    let dir = root.join(name);
    let url = match new_postgres().await {
        Some(url) => url,
        None => sqlite_url(&dir),
    };
    (dir, url)
}

#[tokio::test]
async fn damaged_cut_or_misplaced_backups_are_refused() {
    let app = TestApp::spawn().await;
    let (_made, _c) = make_data(&app, 3).await;
    let root = common::tempdir::TempDir::new();
    let good = root.path().join("good.tar");
    let backup = |to: &Path, env: &[(&str, &str)]| {
        laihua(
            &app.data_dir,
            &app.database_url,
            &["backup", "--to", to.to_str().unwrap()],
            env,
        )
    };
    let out = backup(&good, &[]);
    assert!(out.ok, "{}", out.text);
    assert!(verify(&good).ok);
    // Readable by its owner only (it holds password hashes and the server secret).
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&good).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    // A backup never overwrites a file.
    let out = backup(&good, &[]);
    assert!(!out.ok && out.text.contains("exists"), "{}", out.text);

    // A database that holds data is never restored into: the serving one, or one where a
    // server has run.
    let groups_before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let out = laihua(
        &app.data_dir,
        &app.database_url,
        &["restore", "--from", good.to_str().unwrap()],
        &[],
    );
    assert!(!out.ok && out.text.contains("不是空的"), "{}", out.text);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups_before
    );
    let (dir, url) = empty_target(root.path(), "migrated").await;
    assert!(laihua(&dir, &url, &["migrate"], &[]).ok);
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", good.to_str().unwrap()],
        &[],
    );
    assert!(!out.ok && out.text.contains("not empty"), "{}", out.text);

    // A flipped byte in a stored file, or in a table's rows.
    let flipped_file = root.path().join("flipped-file.tar");
    let mut flipped_one = false;
    rebuild(
        &good,
        &flipped_file,
        |name, mut d| {
            if name.starts_with("files/") && !flipped_one {
                let middle = d.len() / 2;
                d[middle] ^= 0x01;
                flipped_one = true;
            }
            Some(d)
        },
        false,
    );
    let v = verify(&flipped_file);
    assert!(!v.ok && v.text.contains("damaged"), "{}", v.text);
    let flipped_rows = root.path().join("flipped-rows.tar");
    // In place, as a disk would: the byte in the middle of the units' rows.
    std::fs::copy(&good, &flipped_rows).unwrap();
    {
        let mut ar = tar::Archive::new(std::fs::File::open(&good).unwrap());
        let e = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().starts_with("tables/units"))
            .unwrap();
        let at = e.raw_file_position() + e.size() / 2;
        let mut bytes = std::fs::read(&flipped_rows).unwrap();
        bytes[at as usize] ^= 0x20;
        std::fs::write(&flipped_rows, bytes).unwrap();
    }
    let v = verify(&flipped_rows);
    assert!(!v.ok && v.text.contains("tables/units"), "{}", v.text);

    // A file left out; left out with the manifest forged to match.
    let mut dropped = String::new();
    let missing = root.path().join("missing.tar");
    rebuild(
        &good,
        &missing,
        |name, d| {
            if name.starts_with("files/") && dropped.is_empty() {
                dropped = name.to_string();
                return None;
            }
            Some(d)
        },
        false,
    );
    let v = verify(&missing);
    assert!(!v.ok && v.text.contains(&dropped), "{}", v.text);
    let forged = root.path().join("forged.tar");
    rebuild(&missing, &forged, |_, d| Some(d), true);
    let v = verify(&forged);
    assert!(
        !v.ok && v.text.contains("referenced by a row but missing"),
        "{}",
        v.text
    );

    // A backup from a newer laihua (schema version past this binary's).
    let newer = root.path().join("newer.tar");
    rebuild(
        &good,
        &newer,
        |name, d| {
            if name != "header.json" {
                return Some(d);
            }
            let mut h: serde_json::Value = serde_json::from_slice(&d).unwrap();
            h["schema_version"] = 9999.into();
            h["migrations"].as_array_mut().unwrap().push(9999.into());
            Some(serde_json::to_vec(&h).unwrap())
        },
        true,
    );
    assert!(verify(&newer).ok);

    // None of these is restored, and a refused restore writes nothing: the same target then
    // takes the good archive.
    let (dir, url) = empty_target(root.path(), "target").await;
    for bad in [&flipped_file, &flipped_rows, &missing, &forged, &newer] {
        let out = laihua(
            &dir,
            &url,
            &["restore", "--from", bad.to_str().unwrap()],
            &[],
        );
        assert!(!out.ok && out.text.contains("恢复失败"), "{}", out.text);
    }
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", newer.to_str().unwrap()],
        &[],
    );
    assert!(out.text.contains("newer than this laihua"), "{}", out.text);

    // A backup cut short: by a truncated copy, and by killing the process as it writes.
    let bytes = std::fs::read(&good).unwrap();
    let truncated = root.path().join("truncated.tar");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let v = verify(&truncated);
    assert!(!v.ok, "{}", v.text);
    let cut = root.path().join("cut.tar");
    let partial = root.path().join("cut.tar.partial");
    let mut child = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("--data-dir")
        .arg(&app.data_dir)
        .arg("--database-url")
        .arg(&app.database_url)
        .args(["backup", "--to", cut.to_str().unwrap()])
        .env("LAIHUA_TEST_BACKUP_PAUSE_MS", "300")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !partial.exists() {
        assert!(Instant::now() < deadline, "the backup did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A few tables in (of some 30, 300 ms each).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!cut.exists(), "a cut backup carries the final name");
    let v = verify(&partial);
    assert!(!v.ok && v.text.contains("cut short"), "{}", v.text);
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", partial.to_str().unwrap()],
        &[],
    );
    assert!(!out.ok, "{}", out.text);
    // The next backup to that name completes and replaces the leftover.
    let out = backup(&cut, &[]);
    assert!(out.ok, "{}", out.text);
    assert!(!partial.exists() && verify(&cut).ok);

    // Without the source's key file the sealed files do not open: refused, nothing loaded.
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", good.to_str().unwrap()],
        &[],
    );
    assert!(
        !out.ok && out.text.contains("key file") && out.text.contains("恢复失败"),
        "{}",
        out.text
    );
    // The source's key file, kept apart, is put beside the data first.
    key_file_beside(&app, &dir);
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", good.to_str().unwrap()],
        &[],
    );
    assert!(out.ok && out.text.contains("恢复完成"), "{}", out.text);
    let out = laihua(&dir, &url, &["audit", "verify"], &[]);
    assert!(out.ok, "{}", out.text);
    // And once restored, it is no longer empty.
    let out = laihua(
        &dir,
        &url,
        &["restore", "--from", good.to_str().unwrap()],
        &[],
    );
    assert!(!out.ok && out.text.contains("not empty"), "{}", out.text);
}
