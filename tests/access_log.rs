//! 个人信息访问记录 (issue 18): every view of visitors' personal data writes one entry naming the
//! account and the visitors; administrators ask who saw a passport and what an account saw;
//! the entries are kept at least 180 days; a page whose entry cannot be written fails rather
//! than show the data untraced.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use sqlx::Row;

/// An access log entry with the visitors it names.
#[derive(Debug)]
struct Logged {
    user_id: Option<i64>,
    actor: String,
    kind: String,
    page: String,
    object: String,
    visitors: Vec<i64>,
}

async fn last_id(app: &TestApp) -> i64 {
    app.scalar("SELECT COALESCE(MAX(id), 0) FROM access_log")
        .await
}

/// The entries written after entry `after`, oldest first.
async fn since(app: &TestApp, after: i64) -> Vec<Logged> {
    let rows = sqlx::query(
        "SELECT id, user_id, actor, kind, page, object, visitors FROM access_log
         WHERE id > $1 ORDER BY id",
    )
    .bind(after)
    .fetch_all(app.state.pool())
    .await
    .unwrap();
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.get("id");
        let visitors: Vec<i64> = sqlx::query_scalar(
            "SELECT visitor_id FROM access_log_visitors WHERE access_id = $1 ORDER BY visitor_id",
        )
        .bind(id)
        .fetch_all(app.state.pool())
        .await
        .unwrap();
        let count: i64 = r.get("visitors");
        assert_eq!(count, visitors.len() as i64);
        out.push(Logged {
            user_id: r.get("user_id"),
            actor: r.get("actor"),
            kind: r.get("kind"),
            page: r.get("page"),
            object: r.get("object"),
            visitors,
        });
    }
    out
}

/// The one entry written after entry `after`.
async fn one_since(app: &TestApp, after: i64, what: &str) -> Logged {
    let mut v = since(app, after).await;
    assert_eq!(v.len(), 1, "{what}: {v:?}");
    v.remove(0)
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE login_key = $1")
        .bind(login.to_lowercase())
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn file_of(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// Runs `view` and checks it wrote exactly one entry of `kind` on `page` by `user` naming
/// `visitors`.
macro_rules! logged_once {
    ($app:expr, $view:expr, $user:expr, $kind:expr, $page:expr, $visitors:expr) => {{
        let before = last_id($app).await;
        let p = $view;
        let e = one_since($app, before, $page).await;
        assert_eq!(e.user_id, Some($user), "{e:?}");
        assert_eq!(e.kind, $kind, "{e:?}");
        assert_eq!(e.page, $page, "{e:?}");
        let mut want: Vec<i64> = $visitors.to_vec();
        want.sort_unstable();
        assert_eq!(e.visitors, want, "{e:?}");
        (p, e)
    }};
}

#[tokio::test]
async fn each_view_of_a_group_writes_one_entry_naming_its_visitors_and_the_viewer() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1801, "天宁区", "tianning").await;
    let unit_user = user_id(&app, &r.login).await;

    // The unit's form of a draft: its saved visitors.
    let draft = saved_group(&app, &unit, 2).await;
    let dv = visitor_ids(&app, draft).await;
    let (p, e) = logged_once!(
        &app,
        unit.get(&format!("/groups/{draft}")).await,
        unit_user,
        "page",
        "团组申报表",
        dv
    );
    p.assert_ok().assert_has("LISA MOHAMODE");
    assert_eq!(e.object, format!("group:{draft}"));
    assert!(e.actor.contains(&r.login), "{e:?}");
    // A form shown again with its messages is a view too.
    let mut f = group_fields(&app, 2).await;
    set(&mut f, "name", "");
    for (i, v) in dv.iter().enumerate() {
        f.push((format!("v{i}_id"), v.to_string()));
    }
    let (p, _) = logged_once!(
        &app,
        unit.post(&format!("/groups/{draft}"), &refs(&f)).await,
        unit_user,
        "page",
        "团组申报表",
        dv
    );
    p.assert_ok().assert_has("请填写团组名称");
    // 再次邀请 shows the source group's visitors.
    // (A draft cannot be copied: the submitted group below is.)

    // A submitted group: the unit's record, the county's review page, print, scans, search,
    // export.
    let id = submitted_group(&app, &unit, 2, &[]).await;
    let v = visitor_ids(&app, id).await;
    let (p, _) = logged_once!(
        &app,
        unit.get(&format!("/groups/{id}")).await,
        unit_user,
        "page",
        "团组记录",
        v
    );
    p.assert_ok().assert_has("LISA MOHAMODE");
    let (p, _) = logged_once!(
        &app,
        unit.get(&format!("/groups/{id}/copy")).await,
        unit_user,
        "page",
        "再次邀请",
        v
    );
    p.assert_ok();

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let county_user = user_id(&app, "tianning").await;
    let (p, _) = logged_once!(
        &app,
        county.get(&format!("/review/groups/{id}")).await,
        county_user,
        "page",
        "团组记录",
        v
    );
    p.assert_ok().assert_has("LISA MOHAMODE");
    let (p, _) = logged_once!(
        &app,
        county
            .post(&format!("/review/groups/{id}/print"), &[])
            .await,
        county_user,
        "print",
        "邀请外国人来华申请表",
        v
    );
    assert_eq!(p.status, 200);

    // A visitor's passport scan names that visitor; the stamped form names them all.
    let passport = file_of(
        &app,
        "SELECT passport_file_id FROM group_visitors WHERE id = $1",
        v[1],
    )
    .await;
    let (got, _) = logged_once!(
        &app,
        county
            .get_bytes(&format!("/groups/{id}/files/{passport}"))
            .await,
        county_user,
        "file",
        "团组附件",
        [v[1]]
    );
    assert_eq!(got.0, 200);
    let scan = file_of(
        &app,
        "SELECT scan_file_id FROM invitation_groups WHERE id = $1",
        id,
    )
    .await;
    let (got, _) = logged_once!(
        &app,
        unit.get_bytes(&format!("/groups/{id}/files/{scan}")).await,
        unit_user,
        "file",
        "团组附件",
        v
    );
    assert_eq!(got.0, 200);

    // A search by passport number names the visitor it found (of both groups with it); by
    // group number, no visitor.
    let (p, e) = logged_once!(
        &app,
        county.get("/search?q=e0001001").await,
        county_user,
        "search",
        "综合查询",
        [v[1]]
    );
    p.assert_ok();
    assert_eq!(e.object, "search");
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let before = last_id(&app).await;
    county
        .get(&format!("/search?q={number}"))
        .await
        .assert_ok()
        .assert_has(&number);
    assert!(since(&app, before).await.is_empty());

    // Exports: the county's queue (its visitors' sheet) and the search's.
    let (sheets, e) = logged_once!(
        &app,
        export(&county, "/review/groups?format=xlsx").await,
        county_user,
        "export",
        "团组待办",
        v
    );
    assert!(sheets.iter().any(|(name, _)| name == "到访人员"));
    assert_eq!(e.object, "export:review.groups");
    logged_once!(
        &app,
        export(&county, "/search?q=E0001001&format=xlsx").await,
        county_user,
        "export",
        "综合查询",
        v
    );

    // No audit entry carries a passport number: the search export's names the visitor.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%E0001001%'")
            .await,
        0
    );
    assert!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND detail LIKE '%#{}%'",
            v[1]
        ))
        .await
            >= 1
    );

    // Pages without visitors' data write nothing.
    let before = last_id(&app).await;
    unit.get("/groups").await.assert_ok();
    unit.get("/history").await.assert_ok();
    county.get("/review/groups").await.assert_ok();
    assert!(since(&app, before).await.is_empty());
}

#[tokio::test]
async fn post_visit_registration_pages_lists_and_scans_are_recorded() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1802, "天宁区", "tianning").await;
    let unit_user = user_id(&app, &r.login).await;
    let id = dispatched_group(&app, &unit, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];

    let (p, _) = logged_once!(
        &app,
        unit.get("/visits").await,
        unit_user,
        "page",
        "销签登记列表",
        [v]
    );
    p.assert_ok();
    let (p, _) = logged_once!(
        &app,
        unit.get(&format!("/visits/{v}")).await,
        unit_user,
        "page",
        "销签登记表",
        [v]
    );
    p.assert_ok();
    unit.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    unit.upload(
        &format!("/visits/{v}/upload/statement"),
        "说明.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    unit.get(&format!("/visits/{v}")).await;
    unit.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let county_user = user_id(&app, "tianning").await;
    let (p, _) = logged_once!(
        &app,
        county.get("/review/visits").await,
        county_user,
        "page",
        "销签待办",
        [v]
    );
    p.assert_ok().assert_has("LISA MOHAMODE");
    logged_once!(
        &app,
        export(&county, "/review/visits?format=xlsx").await,
        county_user,
        "export",
        "销签待办",
        [v]
    );
    let (p, _) = logged_once!(
        &app,
        county.get(&format!("/review/visits/{v}")).await,
        county_user,
        "page",
        "销签登记审核",
        [v]
    );
    p.assert_ok();
    let statement: i64 = app
        .scalar(
            "SELECT f.file_id FROM visit_files f JOIN visit_records r ON r.id = f.record_id
             LIMIT 1",
        )
        .await;
    let (got, _) = logged_once!(
        &app,
        county
            .get_bytes(&format!("/visits/{v}/files/{statement}"))
            .await,
        county_user,
        "file",
        "销签登记扫描件",
        [v]
    );
    assert_eq!(got.0, 200);
}

/// The settings form as it ships, with the access log's period.
fn settings_form(days: &str) -> Vec<(&'static str, String)> {
    vec![
        ("city_name", "常州市".to_string()),
        ("office_name", "常州市人民政府外事办公室".to_string()),
        ("system_name", "常州市邀请外国人来华信息系统".to_string()),
        ("office_phone", String::new()),
        ("processing_days", "5".to_string()),
        ("overdue_days", "30".to_string()),
        ("overdue_warn_days", "0".to_string()),
        ("holidays", String::new()),
        ("access_log_retention_days", days.to_string()),
    ]
}

#[tokio::test]
async fn administrators_see_who_saw_a_passport_and_what_an_account_saw() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1803, "钟楼区", "zhonglou").await;
    let id = submitted_group(&app, &unit, 2, &[]).await;
    let v = visitor_ids(&app, id).await;
    unit.get(&format!("/groups/{id}")).await.assert_ok();
    let county = app.client();
    county.login("zhonglou", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/groups/{id}"))
        .await
        .assert_ok();
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();

    // Nobody but an administrator has the page.
    for (who, login, password) in [
        ("unit", r.login.as_str(), UNIT_PASSWORD),
        ("county", "zhonglou", DEMO_PASSWORD),
        ("city", "city", DEMO_PASSWORD),
    ] {
        let c = app.client();
        c.login(login, password).await;
        let p = c.get("/admin/access?passport=E0001000").await;
        assert!(matches!(p.status, 403 | 404), "{who}: {}", p.status);
    }
    let audit_before = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'access.query'")
        .await;

    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin
        .get("/admin")
        .await
        .assert_has("href=\"/admin/access\"");
    admin
        .get("/admin/access")
        .await
        .assert_ok()
        .assert_has("个人信息访问记录");
    // By passport number (typed in lower case): both the unit and the county office.
    let p = admin.get("/admin/access?passport=e0001000").await;
    p.assert_ok()
        .assert_has("该护照号码的访问记录")
        .assert_has(&r.name)
        .assert_has("县区外办 钟楼区")
        .assert_has("团组记录")
        .assert_has("LISA MOHAMODE")
        .assert_has(&format!("团组{number}"))
        .assert_lacks("JOHN1");
    // By account: what the county officer saw, visitors by name and group number.
    admin
        .get("/admin/access?login=ZhongLou")
        .await
        .assert_ok()
        .assert_has("看过的个人信息")
        .assert_has("团组记录")
        .assert_has("LISA MOHAMODE")
        .assert_has("SMITH JOHN1")
        .assert_has(&format!("团组{number}"));
    // Wrong input is answered beside its field.
    admin
        .get("/admin/access?passport=E1")
        .await
        .assert_ok()
        .assert_has("护照号码应为5至20位字母或数字");
    admin
        .get("/admin/access?login=nobody")
        .await
        .assert_ok()
        .assert_has("没有该登录ID的帐号");
    // A passport nobody has.
    admin
        .get("/admin/access?passport=X9999999")
        .await
        .assert_ok()
        .assert_has("没有持该护照号码的到访人员");
    // The export of an answer.
    let sheets = export(&admin, "/admin/access?passport=E0001000&format=xlsx").await;
    let rows = &sheets[0].1;
    let seen = app
        .scalar(&format!(
            "SELECT COUNT(DISTINCT access_id) FROM access_log_visitors WHERE visitor_id = {}",
            v[0]
        ))
        .await;
    assert!(seen >= 2);
    assert_eq!(rows.len() as i64, seen + 1, "{rows:?}");
    assert!(rows.iter().any(|r| r.iter().any(|c| c.contains("钟楼区"))));

    // Every question is in the audit log, with the visitors' ids and never the number.
    let asked = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'access.query'")
        .await;
    assert_eq!(
        asked - audit_before,
        4,
        "passport, account, none found, export"
    );
    for number in ["E0001000", "e0001000", "X9999999"] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%{number}%' OR object_id LIKE '%{number}%'"
            ))
            .await,
            0,
            "{number}"
        );
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access.query' AND detail LIKE '%#{}%'",
            v[0]
        ))
        .await,
        2
    );
    let county_user = user_id(&app, "zhonglou").await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access.query' AND object_id = 'user:{county_user}'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn the_retention_setting_refuses_less_than_180_days_and_the_purge_keeps_newer_entries() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1804, "天宁区", "tianning").await;
    let id = saved_group(&app, &unit, 1).await;
    unit.get(&format!("/groups/{id}")).await.assert_ok();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM access_log").await, 1);

    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let page = admin.get("/admin/settings").await;
    page.assert_ok().assert_has("访问记录保存期限（天）");
    assert_eq!(
        page.input_value("access_log_retention_days").unwrap(),
        "365"
    );
    let p = admin
        .post("/admin/settings", &as_refs(&settings_form("179")))
        .await;
    p.assert_ok().assert_has("访问记录至少保存180天");
    assert_eq!(p.input_value("access_log_retention_days").unwrap(), "179");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM settings WHERE key = 'access_log_retention_days' AND value = '365'"
        )
        .await,
        1
    );

    // 200 days on, the default period (365 days) keeps the first entry.
    app.clock().advance(200 * 86_400);
    unit.login(&r.login, UNIT_PASSWORD).await;
    unit.get(&format!("/groups/{id}")).await.assert_ok();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM access_log").await, 2);
    assert_eq!(
        laihua::workflow::access::purge(&app.state).await.unwrap(),
        0
    );

    // 180 days: the first entry (and its visitors) goes, the newer one stays; the audit log
    // is untouched.
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin.get("/admin/settings").await;
    admin
        .post("/admin/settings", &as_refs(&settings_form("180")))
        .await
        .assert_redirect("/admin/settings?ok=saved");
    let audit = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(
        laihua::workflow::access::purge(&app.state).await.unwrap(),
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM access_log").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM access_log_visitors").await,
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, audit);
    // A period below the minimum written around the page does not shorten it.
    sqlx::query("UPDATE settings SET value = '10' WHERE key = 'access_log_retention_days'")
        .execute(app.state.pool())
        .await
        .unwrap();
    app.clock().advance(100 * 86_400);
    assert_eq!(
        laihua::workflow::access::purge(&app.state).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_page_whose_entry_cannot_be_written_fails_rather_than_show_the_data() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1805, "天宁区", "tianning").await;
    let id = saved_group(&app, &unit, 1).await;
    unit.get(&format!("/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("LISA MOHAMODE");
    sqlx::query("ALTER TABLE access_log_visitors RENAME TO access_log_visitors_gone")
        .execute(app.state.pool())
        .await
        .unwrap();
    let p = unit.get(&format!("/groups/{id}")).await;
    assert_eq!(p.status, 500, "{}", p.body);
    p.assert_lacks("LISA MOHAMODE").assert_lacks("E0001000");
    // Nothing half-written: the entry went with its visitors.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM access_log").await, 1);
    // Pages without visitors' data still work.
    unit.get("/history").await.assert_ok();
}
