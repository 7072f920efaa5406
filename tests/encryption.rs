//! Issue 18: passport numbers, birth dates, employer addresses and every stored file are sealed
//! with SM4-GCM: none of them is in clear in the database's files, in a backup or in the file
//! store; exact passport search still finds the group; a key rotation while the server serves
//! loses nothing; what an earlier version wrote in clear is sealed by the sealing job.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use laihua::files::FileStore;
use laihua::keys::{KeyRing, Keys};
use laihua::store::sealed;
use laihua::workflow::sealing;

const PASSPORT: &str = "E7394251";
const BIRTH: &str = "1979-03-17";
const ADDRESS: &str = "88 Xiangyang Road Sealtest";
const SCAN_MARKER: &str = "SCAN-CONTENT-Q7W3Z9";

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every file under `dir` (the file store, a database's folder), with its content.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), bytes));
        }
    }
    out
}

/// A group of two visitors, the first with the test's values, with its passport scans (the
/// first carrying the marker) uploaded, submitted to the county when `submit`. Returns (group
/// id, the unit's client, visitor ids).
async fn group_with_personal_data(app: &TestApp, n: u32, submit: bool) -> (i64, Client, Vec<i64>) {
    let (_, unit) = approved_unit(app, n, "天宁区", "tianning").await;
    unit.get("/groups/form").await.assert_ok();
    let mut f = group_fields(app, 2).await;
    set(&mut f, "v0_passport_no", PASSPORT);
    set(&mut f, "v0_birth_date", BIRTH);
    set(&mut f, "v0_employer_address", ADDRESS);
    let p = unit.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id = group_id_in(&p.location);
    let v = visitor_ids(app, id).await;
    unit.get(&format!("/groups/{id}")).await.assert_ok();
    for (i, visitor) in v.iter().enumerate() {
        let label = if i == 0 { SCAN_MARKER } else { "passport" };
        unit.upload(
            &format!("/groups/{id}/upload/passport-{visitor}"),
            "passport.pdf",
            pdf(label),
        )
        .await
        .assert_redirect(&format!("/groups/{id}"));
    }
    if submit {
        unit.upload(
            &format!("/groups/{id}/upload/clerk_id"),
            "clerk.png",
            vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0],
        )
        .await
        .assert_redirect(&format!("/groups/{id}"));
        print_and_scan(&unit, id).await;
        unit.get(&format!("/groups/{id}")).await;
        unit.act(&format!("/groups/{id}/submit"), &[])
            .await
            .assert_redirect(&format!("/groups/{id}"));
    }
    (id, unit, v)
}

async fn passport_file(app: &TestApp, visitor: i64) -> (i64, String) {
    sqlx::query_as(
        "SELECT f.id, f.sha256 FROM files f JOIN group_visitors v ON v.passport_file_id = f.id
         WHERE v.id = $1",
    )
    .bind(visitor)
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn personal_data_is_nowhere_in_clear_and_still_found_shown_and_exported() {
    let app = TestApp::spawn().await;
    let (id, unit, v) = group_with_personal_data(&app, 1851, true).await;

    // Stored sealed, with a keyed index in place of the number.
    let (passport, birth, address, index, key): (String, String, String, String, i64) =
        sqlx::query_as(
            "SELECT passport_no, birth_date, employer_address, passport_index, seal_key
             FROM group_visitors WHERE id = $1",
        )
        .bind(v[0])
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    for value in [&passport, &birth, &address] {
        assert!(Keys::is_sealed_text(value), "{value}");
        assert_eq!(Keys::key_of_text(value), Some(1));
    }
    assert_eq!(key, 1);
    assert_eq!(index.len(), 64);
    assert!(!index.contains(PASSPORT));

    // The owner sees the values; staff find the group by the whole passport number (any
    // case), the unit in its history too; a part of the number finds nothing (exact search
    // only: the number is sealed).
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_has(PASSPORT)
        .assert_has(BIRTH)
        .assert_has(ADDRESS);
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get(&format!("/search?q={}", PASSPORT.to_lowercase()))
        .await
        .assert_ok()
        .assert_has(&number);
    county
        .get(&format!("/search?q={}", &PASSPORT[..6]))
        .await
        .assert_ok()
        .assert_lacks(&number);
    unit.get(&format!("/history?q={PASSPORT}"))
        .await
        .assert_has(&number);

    // The export opens them.
    let sheets = export(&county, &format!("/search?q={PASSPORT}&format=xlsx")).await;
    let cells: Vec<&String> = sheets
        .iter()
        .flat_map(|(_, rows)| rows.iter().flatten())
        .collect();
    assert!(cells.iter().any(|c| c.as_str() == PASSPORT), "{cells:?}");

    // The scan downloads as uploaded; the stored file is sealed.
    let (file_id, sha) = passport_file(&app, v[0]).await;
    let (status, _, got) = unit
        .get_bytes(&format!("/groups/{id}/files/{file_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, pdf(SCAN_MARKER));
    let raw = app.state.files.get_raw(&sha).await.unwrap();
    assert!(Keys::is_sealed(&raw));
    assert!(!contains(&raw, SCAN_MARKER));
    let marked: Option<i64> = sqlx::query_scalar("SELECT seal_key FROM files WHERE id = $1")
        .bind(file_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(marked, Some(1));

    // Nowhere in clear: the data folder (the SQLite database with its log, the file store)
    // and a backup (every row of every table and every file, on either database).
    let backup = app.data_dir.join("check.tar");
    laihua::backup::backup(&app.state.db, &app.state.files, &backup, Duration::ZERO)
        .await
        .unwrap();
    let mut looked = 0;
    for (path, bytes) in files_under(&app.data_dir) {
        looked += 1;
        for secret in [PASSPORT, BIRTH, ADDRESS, SCAN_MARKER] {
            assert!(!contains(&bytes, secret), "{secret} in clear in {path}");
        }
    }
    assert!(looked >= 4, "the backup, the key file and the stored files");
    // The backup restores elsewhere with the key file, and the scan opens there.
    let tar = std::fs::read(&backup).unwrap();
    assert!(
        contains(&tar, &sha[2..]),
        "the backup holds the sealed scan"
    );
}

#[tokio::test]
async fn a_key_rotation_while_serving_reseals_everything_and_loses_nothing() {
    let app = TestApp::spawn().await;
    let (id, unit, v) = group_with_personal_data(&app, 1852, false).await;
    let (file_id, sha) = passport_file(&app, v[0]).await;

    // Readers keep reading the group while another process rotates.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, reads) = (stop.clone(), reads.clone());
        let unit = unit.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                unit.get(&format!("/groups/{id}"))
                    .await
                    .assert_ok()
                    .assert_has(PASSPORT)
                    .assert_has(BIRTH);
                let (status, _, got) = unit
                    .get_bytes(&format!("/groups/{id}/files/{file_id}"))
                    .await;
                assert_eq!(status, 200);
                assert_eq!(got, pdf(SCAN_MARKER));
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    // `laihua keys rotate`, as another process does it: its own connection and key ring.
    let db = laihua::db::Db::connect(&app.database_url).await.unwrap();
    let path = app.state.config.data_key_file.clone();
    let ring = Arc::new(KeyRing::open(&db, &path, app.state.now()).await.unwrap());
    let files = FileStore::open(&app.state.config.files, &app.data_dir)
        .unwrap()
        .sealed_with(ring.clone());
    let (n, done) = sealing::rotate(&db, &files, &ring, app.state.now())
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(done.failed, 0);
    assert_eq!(done.visitors, 2);
    assert!(done.files >= 2, "{done:?}");
    assert_eq!(
        sealed::unsealed_counts(&db.pool, 2).await.unwrap(),
        (0, 0),
        "every visitor and file sealed under the new key"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    reader.await.unwrap();
    assert!(reads.load(Ordering::Relaxed) > 0);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("data1 ") && text.contains("data2 ") && text.contains("current 2"));
    let stored: String = sqlx::query_scalar("SELECT passport_no FROM group_visitors WHERE id = $1")
        .bind(v[0])
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(Keys::key_of_text(&stored), Some(2));
    assert_eq!(
        Keys::key_of(&app.state.files.get_raw(&sha).await.unwrap()),
        Some(2)
    );

    // The server read the new key when it met a value sealed under it: what it saves now is
    // sealed under key 2, and search still finds the number.
    unit.get(&format!("/groups/{id}")).await;
    let mut f = group_fields(&app, 2).await;
    set(&mut f, "v0_passport_no", PASSPORT);
    set(&mut f, "v0_birth_date", BIRTH);
    set(&mut f, "v0_employer_address", "9 New Street");
    for (i, visitor) in v.iter().enumerate() {
        f.push((format!("v{i}_id"), visitor.to_string()));
    }
    unit.post(&format!("/groups/{id}"), &refs(&f))
        .await
        .assert_redirect(&format!("/groups/{id}"));
    let key: i64 = sqlx::query_scalar("SELECT seal_key FROM group_visitors WHERE id = $1")
        .bind(v[0])
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(key, 2);
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_has("9 New Street");
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    unit.get(&format!("/history?q={PASSPORT}"))
        .await
        .assert_has(&number);
    // The rotation is in the audit log, and the chain still verifies.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotate'")
            .await,
        1
    );
    assert!(matches!(
        laihua::store::audit::verify(&db.pool).await.unwrap(),
        laihua::store::audit::Verdict::Intact(_)
    ));
}

#[tokio::test]
async fn what_an_earlier_version_wrote_in_clear_is_sealed_by_the_job() {
    let app = TestApp::spawn().await;
    let (id, unit, v) = group_with_personal_data(&app, 1853, true).await;
    let (file_id, sha) = passport_file(&app, v[0]).await;

    // As a version before the sealing left them: values and the scan in clear.
    sqlx::query(
        "UPDATE group_visitors SET passport_no = 'E5550001', birth_date = '1970-01-02',
            employer_address = 'Legacy Road Cleartext', passport_index = NULL, seal_key = NULL
         WHERE id = $1",
    )
    .bind(v[0])
    .execute(app.state.pool())
    .await
    .unwrap();
    let clear_scan = pdf(SCAN_MARKER);
    app.state
        .files
        .replace_raw(&sha, clear_scan.clone())
        .await
        .unwrap();
    sqlx::query("UPDATE files SET seal_key = NULL WHERE sha256 = $1")
        .bind(&sha)
        .execute(app.state.pool())
        .await
        .unwrap();

    // Read, found and downloaded as they are before the job.
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get("/search?q=E5550001").await.assert_has(&number);
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_has("Legacy Road Cleartext");

    // (The look for clear values below finds them when they are there.)
    if app.database_url.starts_with("sqlite") {
        let on_disk: Vec<u8> = files_under(&app.data_dir)
            .into_iter()
            .filter(|(p, _)| p.contains("laihua.db"))
            .flat_map(|(_, b)| b)
            .collect();
        assert!(contains(&on_disk, "Legacy Road Cleartext"));
    }
    assert!(files_under(&app.data_dir.join("files"))
        .iter()
        .any(|(_, b)| contains(b, SCAN_MARKER)));

    let done = sealing::run(&app.state.db, &app.state.files, &app.state.keys)
        .await
        .unwrap();
    assert_eq!(
        (done.visitors, done.failed),
        (1, 0),
        "the clear visitor sealed: {done:?}"
    );
    assert!(done.files >= 1);
    let (passport, index): (String, Option<String>) =
        sqlx::query_as("SELECT passport_no, passport_index FROM group_visitors WHERE id = $1")
            .bind(v[0])
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert!(Keys::is_sealed_text(&passport));
    assert!(index.is_some());
    assert!(Keys::is_sealed(
        &app.state.files.get_raw(&sha).await.unwrap()
    ));
    // A second run has nothing left to do.
    assert_eq!(
        sealing::run(&app.state.db, &app.state.files, &app.state.keys)
            .await
            .unwrap(),
        sealing::Sealed::default()
    );

    // Still found, shown and downloaded.
    county.get("/search?q=E5550001").await.assert_has(&number);
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_has("Legacy Road Cleartext")
        .assert_has("1970-01-02");
    let (status, _, got) = unit
        .get_bytes(&format!("/groups/{id}/files/{file_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, clear_scan);

    // On SQLite, the clear values overwritten leave nothing in the database's file once its
    // log is checkpointed (secure_delete zeroes freed content).
    if app.database_url.starts_with("sqlite") {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(app.state.pool())
            .await
            .unwrap();
        let db = std::fs::read(app.data_dir.join("laihua.db")).unwrap();
        for secret in ["E5550001", "Legacy Road Cleartext"] {
            assert!(!contains(&db, secret), "{secret} left in the database file");
        }
    }
    for (path, bytes) in files_under(&app.data_dir.join("files")) {
        assert!(!contains(&bytes, SCAN_MARKER), "scan in clear in {path}");
    }
}

/// `laihua keys rotate` from the command line beside a serving server: exit 0 with everything
/// sealed under the new key; the server keeps showing the data; the audit chain verifies.
#[tokio::test]
async fn the_keys_rotate_command_beside_a_serving_server() {
    let app = TestApp::spawn().await;
    let (id, unit, v) = group_with_personal_data(&app, 1854, false).await;
    // Run off the runtime's thread: the server under test runs on it and must go on serving
    // (and end its transactions) while the command waits for the database.
    let run = |args: &'static [&'static str]| {
        let (dir, url) = (app.data_dir.clone(), app.database_url.clone());
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_laihua"))
                .arg("--data-dir")
                .arg(&dir)
                .arg("--database-url")
                .arg(&url)
                .args(args)
                .env("RUST_LOG", "error")
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        })
    };
    let (ok, out) = run(&["keys", "rotate"]).await.unwrap();
    assert!(ok, "{out}");
    assert!(
        out.contains("data2") && out.contains("not yet: 0 visitors, 0 files"),
        "{out}"
    );
    let stored: String = sqlx::query_scalar("SELECT birth_date FROM group_visitors WHERE id = $1")
        .bind(v[0])
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(Keys::key_of_text(&stored), Some(2));
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_has(PASSPORT)
        .assert_has(BIRTH);
    let (ok, out) = run(&["audit", "verify"]).await.unwrap();
    assert!(ok && out.contains("审计日志完整"), "{out}");
}
