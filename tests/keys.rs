//! Issue 18: the key file of the personal data. Created at the first start with mode 0600
//! beside (not in) the database, with a check value of the data key recorded in the database;
//! a server given a missing or different key file refuses to start instead of creating a new
//! key; another instance given a copy of the file starts.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{tempdir, TestApp};
use laihua::app::Application;
use laihua::clock::Clock;
use laihua::config::{Common, Config, FilesArgs, ServeArgs};
use laihua::keys::Keys;

/// Starting a server on `app`'s database with the key file `key_file`.
async fn start_with(
    app: &TestApp,
    data_dir: PathBuf,
    key_file: PathBuf,
) -> anyhow::Result<Application> {
    let common = Common {
        data_dir,
        database_url: Some(app.database_url.clone()),
        data_key_file: Some(key_file),
        files: FilesArgs::default(),
    };
    let serve = ServeArgs {
        bind: "127.0.0.1:0".into(),
        db_timeout_secs: 5,
        ..ServeArgs::default()
    };
    Application::build(Config::new(&common, serve), Clock::default()).await
}

#[tokio::test]
async fn the_key_file_is_created_0600_and_checked_at_every_start() {
    let app = TestApp::spawn().await;
    let path = app.state.config.data_key_file.clone();
    assert_eq!(path, Keys::default_path(&app.data_dir));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("data1 ") && text.contains("current 1"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is readable by its owner only");
    }
    // The database holds the check value, not the key.
    let db = laihua::db::Db::connect(&app.database_url).await.unwrap();
    let (n, check): (i64, String) = sqlx::query_as("SELECT number, check_value FROM data_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let keys = app.state.keys.get();
    assert_eq!(Some(check.clone()), keys.check_value(1));
    let key_hex = text
        .lines()
        .find_map(|l| l.strip_prefix("data1 "))
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(check, key_hex);
    assert!(!format!("{:?}", app.state.keys).contains(&key_hex));
    assert!(!format!("{keys:?}").contains(&key_hex));

    let tmp = tempdir::TempDir::new();
    // No key file where the database's keys are expected: refused, no new key made.
    let missing = tmp.path().join("nowhere").join("data.key");
    let err = start_with(&app, tmp.path().join("a"), missing.clone())
        .await
        .err()
        .expect("a server without the key file refuses to start");
    assert!(format!("{err:#}").contains("密钥文件"), "{err:#}");
    assert!(
        !missing.exists(),
        "no new key file is created for a database that has keys"
    );

    // Another installation's key file: refused.
    let other = tmp.path().join("other.key");
    Keys::load_or_create(&other, Some("genesis")).unwrap();
    let err = start_with(&app, tmp.path().join("b"), other)
        .await
        .err()
        .expect("a server with another key file refuses to start");
    assert!(format!("{err:#}").contains("不一致"), "{err:#}");

    // A copy of the right file on another host: starts.
    let copy = tmp.path().join("copy.key");
    std::fs::copy(&path, &copy).unwrap();
    start_with(&app, tmp.path().join("c"), copy)
        .await
        .expect("an instance given a copy of the key file starts");
}
