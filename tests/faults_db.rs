//! Faults of the database and its disk, driven as users meet them: a disk that fills up under
//! saves and gets space back, a PostgreSQL that cannot be reached (cut, then a black hole),
//! SQLite's write lock held by another process, and a start on a full disk.
//!
//! The full-disk tests mount a small tmpfs and so must run as root (CI does); they fail, not
//! skip, otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use sqlx::{Connection, Executor};

const STORAGE_FULL: &str = "服务器暂时无法保存数据";
const DB_UNAVAILABLE: &str = "数据库暂时无法连接";

fn pg_base() -> Option<String> {
    sqlx::any::install_default_drivers();
    std::env::var("LAIHUA_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn require_root() {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .expect("running id -u");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "this test mounts a small tmpfs to fill a disk: run it as root (CI does)"
    );
}

/// A small tmpfs mounted for one test, unmounted when dropped (also when an assertion failed;
/// lazily, since the server may still hold files open).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        require_root();
        let dir = std::env::temp_dir().join(format!(
            "laihua-disk-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("running mount")
            .success();
        assert!(ok, "mount -t tmpfs on {} failed", dir.display());
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    /// Fills the disk with a ballast file, then gives `keep` bytes of it back.
    fn fill(&self, keep: u64) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("ballast");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk) {
                assert_eq!(e.raw_os_error(), Some(28), "filling the disk: {e}");
                break;
            }
        }
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(keep)).unwrap();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A PostgreSQL database whose tables live in a tablespace on a tmpfs; dropped (database, then
/// tablespace) when the guard is, before the tmpfs is unmounted.
struct PgOnDisk {
    base: String,
    name: String,
    url: String,
    // Declared last: dropped after the database and tablespace are.
    disk: Tmpfs,
}

impl PgOnDisk {
    async fn create(base: &str, size: &str) -> PgOnDisk {
        let disk = Tmpfs::mount(size);
        let space = disk.path().join("pg");
        std::fs::create_dir(&space).unwrap();
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&space)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown postgres {}", space.display());
        let name = format!("laihua_full_{}", rand::random::<u32>());
        let mut conn = sqlx::AnyConnection::connect(base).await.unwrap();
        conn.execute(format!("CREATE TABLESPACE {name} LOCATION '{}'", space.display()).as_str())
            .await
            .unwrap();
        conn.execute(format!("CREATE DATABASE {name} TABLESPACE {name}").as_str())
            .await
            .unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        PgOnDisk {
            base: base.to_string(),
            url: format!("{prefix}/{name}"),
            name,
            disk,
        }
    }
}

impl Drop for PgOnDisk {
    fn drop(&mut self) {
        // Synchronous, so that it runs even while a failed test unwinds.
        for sql in [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            format!("DROP TABLESPACE IF EXISTS {}", self.name),
        ] {
            let _ = Command::new("psql")
                .arg(&self.base)
                .args(["-q", "-c", &sql])
                .status();
        }
    }
}

/// Every save the server confirmed, to find again after the restart.
#[derive(Default)]
struct Ledger {
    /// Groups created: id → name.
    groups: BTreeMap<i64, String>,
    /// The last remarks confirmed for the edited group.
    remarks: Option<String>,
    /// Uploads: file name → content.
    uploads: BTreeMap<String, Vec<u8>>,
    /// Message titles.
    messages: Vec<String>,
    confirmed: usize,
    refused: usize,
}

impl Ledger {
    /// Counts a save's answer: confirmed (a redirect carrying `ok`) or refused with the
    /// "cannot store" page. Returns whether it was confirmed; any other answer fails the test.
    fn answer(&mut self, what: &str, p: &Page) -> bool {
        if (300..400).contains(&p.status) && p.location.contains("ok=") {
            self.confirmed += 1;
            return true;
        }
        assert!(
            p.status == 503 && p.has(STORAGE_FULL),
            "{what}: neither confirmed nor refused as a full disk: {} {} {}",
            p.status,
            p.location,
            p.body
        );
        self.refused += 1;
        false
    }
}

/// One round of saves as users make them: a new group, an edit of the first group, an upload
/// to it, a message from the city office to the unit.
async fn save_round(
    app: &TestApp,
    unit: &Client,
    city: &Client,
    unit_id: i64,
    first_group: i64,
    round: usize,
    ledger: &mut Ledger,
) {
    let mut f = group_fields(app, 1).await;
    let name = format!("满盘测试团{round}");
    set(&mut f, "name", &name);
    let p = unit.post("/groups", &refs(&f)).await;
    if ledger.answer("new group", &p) {
        let id: i64 = group_id_in(&p.location);
        ledger.groups.insert(id, name);
    }

    let mut f = group_fields(app, 1).await;
    let remarks = format!("第{round}次保存");
    set(&mut f, "remarks", &remarks);
    let p = unit
        .post(&format!("/groups/{first_group}"), &refs(&f))
        .await;
    if ledger.answer("group edit", &p) {
        ledger.remarks = Some(remarks);
    }

    let file = format!("full-{round}.pdf");
    let bytes = pdf(&format!("upload of round {round}"));
    let p = unit
        .upload(
            &format!("/groups/{first_group}/upload/other"),
            &file,
            bytes.clone(),
        )
        .await;
    if ledger.answer("upload", &p) {
        ledger.uploads.insert(file, bytes);
    }

    let title = format!("满盘消息{round}");
    let p = city
        .post(
            &format!("/review/units/{unit_id}/message"),
            &[("title", &title), ("body", "请补充材料")],
        )
        .await;
    if ledger.answer("message", &p) {
        ledger.messages.push(title);
    }
}

/// Every confirmed save is in the database (and the uploads in the file store).
async fn assert_all_present(app: &TestApp, first_group: i64, ledger: &Ledger) {
    let pool = app.state.pool();
    for (id, name) in &ledger.groups {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT name FROM invitation_groups WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .unwrap();
        assert_eq!(stored.as_ref(), Some(name), "confirmed group {id} lost");
    }
    let remarks: String = sqlx::query_scalar("SELECT remarks FROM invitation_groups WHERE id = $1")
        .bind(first_group)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        Some(&remarks),
        ledger.remarks.as_ref(),
        "the last confirmed edit of group {first_group} lost"
    );
    for (file, bytes) in &ledger.uploads {
        let sha: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM files WHERE original_name = $1")
                .bind(file)
                .fetch_optional(pool)
                .await
                .unwrap();
        let sha = sha.unwrap_or_else(|| panic!("confirmed upload {file} lost"));
        assert_eq!(&app.state.files.get(&sha).await.unwrap(), bytes, "{file}");
    }
    for title in &ledger.messages {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE title = $1")
            .bind(title)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "confirmed message {title} lost");
    }
    match laihua::store::audit::verify(pool).await.unwrap() {
        laihua::store::audit::Verdict::Intact(n) => assert!(n > 0),
        laihua::store::audit::Verdict::Broken(id, why) => {
            panic!("audit log broken at {id}: {}", why.message())
        }
    }
}

/// No connection of the server was left holding a transaction: a writer from outside gets
/// the database within a few seconds.
async fn assert_outside_writer_gets_in(url: &str) {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let started = Instant::now();
    if url.starts_with("sqlite:") {
        conn.execute("PRAGMA busy_timeout = 3000").await.unwrap();
        conn.execute("BEGIN IMMEDIATE")
            .await
            .expect("an outside writer could not get SQLite's write lock");
    } else {
        conn.execute("SET lock_timeout = '3s'").await.unwrap();
        conn.execute("BEGIN").await.unwrap();
        conn.execute("LOCK TABLE invitation_groups, files, messages IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("a transaction of the server still holds tables");
    }
    conn.execute("ROLLBACK").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    conn.close().await.unwrap();
}

/// The full-disk test: saves while the disk fills, after space came back, then a restart on
/// the same data that must find every confirmed save.
async fn full_disk(data_dir: PathBuf, disk: &Tmpfs, url: Option<String>, keep: u64) {
    let app = TestApp::spawn_in(data_dir.clone(), url, |_| {}).await;
    let url = app.database_url.clone();
    let (r, unit) = approved_unit(&app, 501, "天宁区", "tianning").await;
    let first_group = saved_group(&app, &unit, 1).await;
    let city = app.client();
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    city.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    unit.get(&format!("/groups/{first_group}"))
        .await
        .assert_ok();

    let mut ledger = Ledger::default();
    let ballast = disk.fill(keep);
    let mut round = 0;
    while ledger.refused < 24 && round < 80 {
        save_round(
            &app,
            &unit,
            &city,
            r.unit_id,
            first_group,
            round,
            &mut ledger,
        )
        .await;
        round += 1;
    }
    let (confirmed_full, refused_full) = (ledger.confirmed, ledger.refused);
    assert!(
        refused_full >= 24,
        "the disk never refused a save ({confirmed_full} confirmed)"
    );
    // Pages that only read still work on the full disk.
    unit.get("/history").await.assert_ok();
    // A page showing visitors' data writes its access entry first: it is shown with the entry
    // (there was room for it) or refused, never shown untraced.
    let logged = app.scalar("SELECT COUNT(*) FROM access_log").await;
    let p = unit.get(&format!("/groups/{first_group}")).await;
    let now_logged = app.scalar("SELECT COUNT(*) FROM access_log").await;
    match p.status {
        200 => assert_eq!(now_logged, logged + 1),
        _ => {
            assert_eq!(p.status, 503, "{}", p.body);
            assert_eq!(now_logged, logged);
        }
    }

    // Space comes back: every save is confirmed again, at once.
    std::fs::remove_file(&ballast).unwrap();
    for _ in 0..6 {
        let before = ledger.refused;
        save_round(
            &app,
            &unit,
            &city,
            r.unit_id,
            first_group,
            round,
            &mut ledger,
        )
        .await;
        assert_eq!(
            ledger.refused, before,
            "a save refused after space came back"
        );
        round += 1;
    }
    println!(
        "full disk: {confirmed_full} saves confirmed and {refused_full} refused while full, {} confirmed after",
        ledger.confirmed - confirmed_full
    );
    assert_outside_writer_gets_in(&url).await;

    // Restart on the same data: every confirmed save is there.
    app.state.db.pool.close().await;
    let again = TestApp::spawn_in(data_dir, Some(url), |_| {}).await;
    assert_all_present(&again, first_group, &ledger).await;
    let unit = unit.at(&again.base);
    unit.get(&format!("/groups/{first_group}"))
        .await
        .assert_ok();
    let id = saved_group(&again, &unit, 1).await;
    assert!(id > first_group);
    again.state.db.pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_confirmed_save_is_lost_when_the_disk_fills() {
    match pg_base() {
        None => {
            let disk = Tmpfs::mount("6m");
            let data = disk.path().join("data");
            // Set-up needs about 1 MB; then the disk is filled but for 400 kB, which some
            // saves still fit in before the others are refused.
            full_disk(data, &disk, None, 400 * 1024).await;
        }
        Some(base) => {
            // A fresh database takes about 8 MB of its tablespace.
            let pg = PgOnDisk::create(&base, "24m").await;
            let data = tempdir::TempDir::new();
            full_disk(
                data.path().to_path_buf(),
                &pg.disk,
                Some(pg.url.clone()),
                160 * 1024,
            )
            .await;
        }
    }
}

// ---- the database unreachable ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Open,
    /// New connections refused, open ones dropped.
    Cut,
    /// Connections accepted and kept, nothing forwarded (packets lost without a reset).
    BlackHole,
}

/// A TCP proxy between the server and PostgreSQL that the test can cut.
struct Proxy {
    port: u16,
    mode: tokio::sync::watch::Sender<Mode>,
    held: Arc<Mutex<Vec<tokio::net::TcpStream>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, watch) = tokio::sync::watch::channel(Mode::Open);
        let held = Arc::new(Mutex::new(Vec::new()));
        let held2 = held.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let now = *watch.borrow();
                match now {
                    Mode::Cut => drop(client),
                    Mode::BlackHole => held2.lock().unwrap().push(client),
                    Mode::Open => {
                        let upstream = upstream.clone();
                        let watch = watch.clone();
                        tokio::spawn(async move {
                            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                                return;
                            };
                            let (client_read, client_write) = client.into_split();
                            let (server_read, server_write) = server.into_split();
                            tokio::spawn(pump(client_read, server_write, watch.clone()));
                            tokio::spawn(pump(server_read, client_write, watch));
                        });
                    }
                }
            }
        });
        Proxy { port, mode, held }
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
        if mode != Mode::BlackHole {
            self.held.lock().unwrap().clear();
        }
    }
}

/// Forwards one direction of a connection: stops forwarding (holding what it read) while the
/// proxy is a black hole, resumes when it opens again, and drops the connection when it is cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut watch: tokio::sync::watch::Receiver<Mode>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut cut = watch.clone();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = cut.wait_for(|m| *m == Mode::Cut) => return,
        };
        match watch.wait_for(|m| *m != Mode::BlackHole).await {
            Ok(m) if *m == Mode::Open => {}
            _ => return,
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Fetches a page and measures how long the answer took.
async fn timed(c: &Client, path: &str) -> (Page, Duration) {
    let started = Instant::now();
    let p = c.get(path).await;
    (p, started.elapsed())
}

fn assert_unavailable(p: &Page, took: Duration, limit: Duration) {
    assert_eq!(p.status, 503, "{}", p.body);
    assert!(p.has(DB_UNAVAILABLE), "{}", p.body);
    assert!(took <= limit, "the 503 took {took:?}, more than {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_answers_503_quickly_and_recovers() {
    let Some(base) = pg_base() else {
        // SQLite has no connection to lose; its equivalent, the write lock held by another
        // process, is the next test.
        return;
    };
    let name = format!("laihua_proxy_{}", rand::random::<u32>());
    let mut admin = sqlx::AnyConnection::connect(&base).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let direct = format!("{prefix}/{name}");
    let after_host = base.split_once('@').map(|(_, h)| h).unwrap_or("");
    let upstream = after_host.split('/').next().unwrap().to_string();
    let proxy = Proxy::start(upstream.clone()).await;
    let via_proxy = direct.replace(&upstream, &format!("127.0.0.1:{}", proxy.port));

    let data = tempdir::TempDir::new();
    let app = TestApp::spawn_in(data.path().to_path_buf(), Some(via_proxy), |s| {
        s.db_timeout_secs = 2;
    })
    .await;
    let (_, unit) = approved_unit(&app, 601, "天宁区", "tianning").await;
    let id = saved_group(&app, &unit, 1).await;
    let limit = Duration::from_millis(4500);

    // The form is made before the cut (it reads the database of the server through the proxy).
    let f = group_fields(&app, 1).await;
    for mode in [Mode::Cut, Mode::BlackHole] {
        proxy.set(mode);
        let (p, took) = timed(&unit, &format!("/groups/{id}")).await;
        assert_unavailable(&p, took, limit);
        let (p, took) = timed(&unit, "/groups").await;
        assert_unavailable(&p, took, limit);
        let started = Instant::now();
        let p = unit.post("/groups", &refs(&f)).await;
        assert_unavailable(&p, started.elapsed(), limit);

        // Back: the server recovers by itself, without a restart.
        proxy.set(Mode::Open);
        let started = Instant::now();
        loop {
            let p = unit.get(&format!("/groups/{id}")).await;
            if p.status == 200 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "not recovered after {mode:?}: {} {}",
                p.status,
                p.body
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let again = saved_group(&app, &unit, 1).await;
        assert!(again > id);
    }
    app.state.db.pool.close().await;
    drop(app);
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_lock_held_elsewhere_answers_503_and_recovers() {
    if pg_base().is_some() {
        // The PostgreSQL equivalent is the proxy test above.
        return;
    }
    let app = TestApp::spawn_with(|s| s.db_timeout_secs = 2).await;
    let (_, unit) = approved_unit(&app, 602, "天宁区", "tianning").await;
    let id = saved_group(&app, &unit, 1).await;
    // Another process (a backup tool, a second instance) takes the write lock and keeps it.
    let mut other = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    // Reading still works (WAL).
    unit.get("/history").await.assert_ok();
    let limit = Duration::from_millis(4500);
    // A page showing visitors' data cannot write its access entry: refused, not shown untraced.
    let (p, took) = timed(&unit, &format!("/groups/{id}")).await;
    assert_unavailable(&p, took, limit);
    for _ in 0..3 {
        let f = group_fields(&app, 1).await;
        let started = Instant::now();
        let p = unit.post("/groups", &refs(&f)).await;
        assert_unavailable(&p, started.elapsed(), limit);
    }
    other.execute("ROLLBACK").await.unwrap();
    let again = saved_group(&app, &unit, 1).await;
    assert!(again > id);
    assert_outside_writer_gets_in(&app.database_url).await;
}

// ---- start-up on a full disk (SQLite: PostgreSQL keeps its own disk) ----

fn laihua(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_laihua"));
    cmd.arg("--data-dir")
        .arg(data)
        .env_remove("LAIHUA_DATABASE_URL")
        .env("LAIHUA_DB_TIMEOUT_SECS", "5");
    cmd
}

/// Waits for a child to exit, up to `limit`; kills it after.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The port a started server prints.
fn listening_port(child: &mut std::process::Child, limit: Duration) -> u16 {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(addr) = line.split("http://").nth(1) {
                let _ = tx.send(addr.rsplit(':').next().unwrap_or("").trim().to_string());
            }
        }
    });
    let port = rx
        .recv_timeout(limit)
        .expect("the server did not start in time");
    port.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_on_a_full_disk_is_quick_and_clear() {
    if pg_base().is_some() {
        // On PostgreSQL the database's disk is the server's, not ours: the full-disk test
        // above covers a full tablespace.
        return;
    }
    let disk = Tmpfs::mount("4m");
    let data = disk.path().join("data");
    let ok = laihua(&data).arg("migrate").output().unwrap();
    assert!(ok.status.success(), "{:?}", ok);
    // `migrate` closes the database cleanly: no shared-memory index is left to reuse.
    assert!(
        !data.join("laihua.db-shm").exists(),
        "laihua migrate left laihua.db-shm behind"
    );

    // A database closed cleanly: SQLite must create its shared-memory index to open it, and
    // cannot. The binary exits within seconds, saying the disk is full.
    let ballast = disk.fill(0);
    let started = Instant::now();
    let mut child = laihua(&data)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it says while waiting: a long message (a backtrace with RUST_BACKTRACE set)
    // would otherwise fill the pipe and block the process.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        err
    });
    let status = wait_exit(&mut child, Duration::from_secs(8))
        .expect("the server neither started nor exited within 8 s on a full disk");
    let took = started.elapsed();
    let err = reader.join().unwrap();
    assert!(!status.success());
    assert!(err.contains("磁盘已满") && err.contains("disk"), "{err}");
    assert!(took < Duration::from_secs(4), "took {took:?}");

    // A server killed with its database open leaves the index behind: then the database
    // opens, and the server starts, serves pages and refuses saves with the "cannot store"
    // page.
    std::fs::remove_file(&ballast).unwrap();
    let mut first = laihua(&data)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let port = listening_port(&mut first, Duration::from_secs(20));
    let c = Client::new(&format!("http://127.0.0.1:{port}"));
    c.get("/login").await.assert_ok();
    first.kill().unwrap();
    first.wait().unwrap();
    let _ballast = disk.fill(0);
    let started = Instant::now();
    let mut child = laihua(&data)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let port = listening_port(&mut child, Duration::from_secs(8));
    assert!(started.elapsed() < Duration::from_secs(5));
    let c = Client::new(&format!("http://127.0.0.1:{port}"));
    c.get("/login").await.assert_ok();
    let p = c
        .post(
            "/login",
            &[("login_id", "admin"), ("password", "Wrong#pass1")],
        )
        .await;
    assert_eq!(p.status, 503, "{}", p.body);
    p.assert_has(STORAGE_FULL);
    child.kill().unwrap();
    child.wait().unwrap();
}
