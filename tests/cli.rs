//! The command line: `laihua migrate` and `laihua staff add` (password on standard input).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

async fn database(dir: &std::path::Path) -> String {
    match std::env::var("LAIHUA_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("laihua_test_{}", rand::random::<u64>());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap();
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display()),
    }
}

fn laihua(dir: &std::path::Path, url: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_laihua"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn migrate_creates_the_first_administrator_and_staff_add_reads_the_password() {
    let tmp = common::tempdir::TempDir::new();
    let dir = tmp.path();
    let url = database(dir).await;
    let (ok, out) = laihua(dir, &url, &["migrate"], "");
    assert!(ok, "{out}");
    assert!(out.contains("登录ID admin"), "{out}");
    // Running it again changes nothing and prints no new password.
    let (ok, out) = laihua(dir, &url, &["migrate"], "");
    assert!(ok && !out.contains("登录ID admin"), "{out}");

    let (ok, out) = laihua(
        dir,
        &url,
        &[
            "staff",
            "add",
            "--role",
            "county",
            "--login",
            "tianning9",
            "--district",
            "天宁区",
            "--name",
            "天宁区外办九",
        ],
        "Strong#Pass1\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = laihua(
        dir,
        &url,
        &[
            "staff",
            "add",
            "--role",
            "county",
            "--login",
            "weak1",
            "--district",
            "天宁区",
        ],
        "weak\n",
    );
    assert!(!ok && out.contains("密码"), "{out}");
    let (ok, out) = laihua(
        dir,
        &url,
        &["staff", "add", "--role", "county", "--login", "nodistrict"],
        "Strong#Pass1\n",
    );
    assert!(!ok && out.contains("--district"), "{out}");
    let (ok, out) = laihua(
        dir,
        &url,
        &["staff", "add", "--role", "city", "--login", "TIANNING9"],
        "Strong#Pass1\n",
    );
    assert!(!ok && out.contains("taken"), "{out}");

    let db = laihua::db::Db::connect(&url).await.unwrap();
    let user = laihua::store::users::by_login_key(&db.pool, "tianning9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, laihua::store::users::Role::County);
    assert!(laihua::security::verify_password(
        "Strong#Pass1",
        &user.password_hash
    ));
    let district = laihua::store::reference::district_name(&db.pool, user.district_id.unwrap())
        .await
        .unwrap();
    assert_eq!(district, "天宁区");
    assert!(laihua::store::users::by_login_key(&db.pool, "weak1")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn audit_verify_passes_and_fails_after_a_row_is_altered_or_removed() {
    let tmp = common::tempdir::TempDir::new();
    let dir = tmp.path();
    let url = database(dir).await;
    let (ok, out) = laihua(dir, &url, &["migrate"], "");
    assert!(ok, "{out}");
    for login in ["auditor1", "auditor2", "auditor3"] {
        let (ok, out) = laihua(
            dir,
            &url,
            &["staff", "add", "--role", "city", "--login", login],
            "Strong#Pass1\n",
        );
        assert!(ok, "{out}");
    }
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(ok && out.contains("4 entries checked"), "{out}");

    let db = laihua::db::Db::connect(&url).await.unwrap();
    // Altering what an entry says is detected.
    let id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM audit_log")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET detail = 'city somebody-else' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(!ok && out.contains(&format!("entry {id}")), "{out}");
    // Restored, it passes again; removing an entry is detected.
    sqlx::query("UPDATE audit_log SET detail = 'admin admin' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(ok, "{out}");
    let second: i64 = sqlx::query_scalar("SELECT MIN(id) FROM audit_log WHERE id > $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE id = $1")
        .bind(second)
        .execute(&db.pool)
        .await
        .unwrap();
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(!ok && out.contains("删除"), "{out}");
}

/// Issue 18: the keyed part of the audit chain (HMAC-SM3 under the key file's audit key). An
/// old chain written before the key file existed is continued; an intruder who alters an old
/// entry and recomputes every SHA-256 hash (as anyone with write access can) is caught by the
/// keyed links, and so is one who strips the links.
#[tokio::test]
async fn the_keyed_audit_chain_continues_an_old_chain_and_catches_a_rewrite() {
    let tmp = common::tempdir::TempDir::new();
    let dir = tmp.path();
    let url = database(dir).await;
    let (ok, out) = laihua(dir, &url, &["migrate"], "");
    assert!(ok, "{out}");
    let add = |login: &'static str| {
        let url = url.clone();
        let dir = dir.to_path_buf();
        move || {
            laihua(
                &dir,
                &url,
                &["staff", "add", "--role", "city", "--login", login],
                "Strong#Pass1\n",
            )
        }
    };
    let (ok, out) = add("auditor1")();
    assert!(ok, "{out}");
    let db = laihua::db::Db::connect(&url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let total = count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(
        total,
        count("SELECT COUNT(*) FROM audit_log WHERE link IS NOT NULL").await
    );

    // The installation as it was before issue 18: no links, no key file.
    for sql in [
        "UPDATE audit_log SET link = NULL",
        "UPDATE audit_chain SET last_link = NULL",
        "DELETE FROM data_keys",
    ] {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
    }
    std::fs::remove_file(laihua::keys::Keys::default_path(dir)).unwrap();
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(ok && out.contains("0 of them with a keyed link"), "{out}");
    // The new version writes on: the chain goes on with keyed links.
    let (ok, out) = add("auditor2")();
    assert!(ok, "{out}");
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(
        ok && out.contains(&format!("{} entries checked", total + 1))
            && out.contains("1 of them with a keyed link"),
        "{out}"
    );

    // An intruder alters the first (old) entry and recomputes every hash after it and the
    // head: the SHA-256 chain checks out again, the keyed link does not.
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, at, actor_user_id, actor, ip, action, object_type, object_id, detail
             FROM audit_log ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut prev = "genesis".to_string();
    for (i, (id, at, user, actor, ip, action, ot, oid, detail)) in rows.iter().enumerate() {
        let detail = if i == 0 {
            "nothing happened".to_string()
        } else {
            detail.clone()
        };
        let hash = laihua::store::audit::entry_hash(
            &prev, *at, *user, actor, ip, action, ot, oid, &detail,
        );
        sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE id = $4")
            .bind(&detail)
            .bind(&prev)
            .bind(&hash)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE audit_chain SET last_hash = $1")
        .bind(&prev)
        .execute(&db.pool)
        .await
        .unwrap();
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(!ok && out.contains("HMAC-SM3"), "{out}");
}

/// An audit entry's fields as `entry_hash` takes them (with its id first).
type AuditRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// A chain keyed from its start: stripping the links (to pass it off as an old chain) is found.
#[tokio::test]
async fn stripped_keyed_links_are_found_missing() {
    let tmp = common::tempdir::TempDir::new();
    let dir = tmp.path();
    let url = database(dir).await;
    let (ok, out) = laihua(dir, &url, &["migrate"], "");
    assert!(ok, "{out}");
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(ok, "{out}");
    let db = laihua::db::Db::connect(&url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET link = NULL",
        "UPDATE audit_chain SET last_link = NULL",
    ] {
        sqlx::query(sql).execute(&db.pool).await.unwrap();
    }
    let (ok, out) = laihua(dir, &url, &["audit", "verify"], "");
    assert!(!ok && out.contains("缺少密钥校验值"), "{out}");
}

/// `laihua sms templates` prints what to submit for approval; `laihua sms check` says what a
/// provider's configuration lacks, as the server's start-up would.
#[test]
fn sms_templates_and_check() {
    let tmp = common::tempdir::TempDir::new();
    let dir = tmp.path();
    let url = format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display());
    let (ok, out) = laihua(dir, &url, &["sms", "templates"], "");
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), laihua::sms::Kind::ALL.len(), "{out}");
    assert!(lines.contains(&"verify_code\t您的验证码为${code}，5分钟内有效，请勿告诉他人。"));
    assert!(lines.iter().all(|l| l
        .split_once('\t')
        .is_some_and(|(k, t)| !k.is_empty() && !t.contains('【'))));
    let (ok, out) = laihua(dir, &url, &["sms", "templates", "--numbered"], "");
    assert!(
        ok && out.contains("visit_returned\t您单位团组{1}到访人员{2}的销签登记被{3}退回"),
        "{out}"
    );

    let file = dir.join("sms.toml");
    std::fs::write(&file, "[aliyun]\nverify_code = \"SMS_1\"\n").unwrap();
    let check = |extra: &[&str]| {
        // Serving options come before the subcommand (or from the environment).
        let mut args = vec![
            "--sms-provider",
            "aliyun",
            "--aliyun-access-key-id",
            "id",
            "--aliyun-sign-name",
            "常州外办",
            "--sms-templates",
        ];
        args.push(file.to_str().unwrap());
        args.extend_from_slice(extra);
        args.extend(["sms", "check"]);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_laihua"));
        cmd.arg("--data-dir")
            .arg(dir)
            .args(&args)
            .env("LAIHUA_ALIYUN_ACCESS_KEY_SECRET", "s");
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, out) = check(&[]);
    assert!(
        !ok && out.contains("[aliyun] has no template for: registration_county_passed"),
        "{out}"
    );
    let mut text = String::from("[aliyun]\n");
    for k in laihua::sms::Kind::ALL {
        text.push_str(&format!("{} = \"SMS_{}\"\n", k.key(), k.key().len()));
    }
    std::fs::write(&file, text).unwrap();
    let (ok, out) = check(&[]);
    assert!(ok && out.contains("阿里云短信"), "{out}");
}
