//! Issue 18: visitors' personal data is kept no longer than the setting 个人信息保存期限（年）
//! (3 years by default) after a group's last post-visit registration was completed or its
//! invitation cancelled: the retention job erases names, birth dates, passport numbers,
//! employers and every scan, keeps the statistics and the audit chain; groups not yet due are
//! untouched.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use laihua::workflow::retention;

const DAY: i64 = 86_400;

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// The file hashes of a group's visitors' passport scans and of its stamped form.
async fn shas_of(app: &TestApp, id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT f.sha256 FROM files f WHERE f.id IN (
            SELECT passport_file_id FROM group_visitors WHERE group_id = $1
            UNION SELECT scan_file_id FROM invitation_groups WHERE id = $1)",
    )
    .bind(id)
    .fetch_all(app.state.pool())
    .await
    .unwrap()
}

/// A registration of visitor `v` in `state`, completed at `at` when completed (the offices'
/// review is tests/visits.rs's; here only its outcome and time matter).
async fn registration(app: &TestApp, v: i64, state: &str, at: i64) {
    sqlx::query(
        "INSERT INTO visit_records (visitor_id, group_id, unit_id, district_id, state, kind,
            submitted_at, completed_at, created_at, updated_at)
         SELECT v.id, g.id, g.unit_id, g.district_id, $2, 'cancelled', $3,
            CASE WHEN $2 = 'completed' THEN $3 END, $3, $3
         FROM group_visitors v JOIN invitation_groups g ON g.id = v.group_id WHERE v.id = $1",
    )
    .bind(v)
    .bind(state)
    .bind(at)
    .execute(app.state.pool())
    .await
    .unwrap();
}

async fn erased(app: &TestApp, id: i64) -> bool {
    count(
        app,
        "SELECT COUNT(*) FROM invitation_groups WHERE id = $1 AND personal_data_erased_at IS NOT NULL",
        id,
    )
    .await
        == 1
}

/// The figures of the statistics page `path` (its tables), as the city sees them now.
async fn figures(app: &TestApp, path: &str) -> String {
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    let p = city.get(path).await;
    p.assert_ok();
    let b = &p.body;
    let start = b.find("<table").unwrap();
    let end = b.rfind("</table>").unwrap();
    b[start..end].to_string()
}

#[tokio::test]
async fn personal_data_past_its_retention_is_erased_and_the_statistics_stay() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1901, "天宁区", "tianning").await;

    // A: dispatched, then cancelled by the unit (取消邀请).
    let cancelled = dispatched_group(&app, &unit, 2, "tianning").await;
    unit.get(&format!("/groups/{cancelled}")).await;
    unit.act(
        &format!("/groups/{cancelled}/cancel"),
        &[("cancel_reason", "外方因故取消来访")],
    )
    .await
    .assert_redirect(&format!("/groups/{cancelled}?ok=invitation_cancelled"));
    // B: dispatched; one registration completed, the other still waiting for the city.
    let completed = dispatched_group(&app, &unit, 2, "tianning").await;
    let bv = visitor_ids(&app, completed).await;
    registration(&app, bv[0], "completed", app.state.now()).await;
    registration(&app, bv[1], "pending_city", app.state.now()).await;
    // C: a draft with a passport scan of its own: never due.
    let draft = saved_group(&app, &unit, 1).await;
    let cv = visitor_ids(&app, draft).await;
    unit.get(&format!("/groups/{draft}")).await;
    unit.upload(
        &format!("/groups/{draft}/upload/passport-{}", cv[0]),
        "passport.pdf",
        pdf("draft passport"),
    )
    .await
    .assert_redirect(&format!("/groups/{draft}"));
    // A file row named by two groups (as the data generator makes them): erasing one group
    // keeps the row for the other.
    sqlx::query(
        "UPDATE group_visitors SET passport_file_id =
            (SELECT passport_file_id FROM group_visitors WHERE id = $1)
         WHERE id = $2",
    )
    .bind(visitor_ids(&app, cancelled).await[0])
    .bind(bv[0])
    .execute(app.state.pool())
    .await
    .unwrap();
    let shared: i64 =
        sqlx::query_scalar("SELECT passport_file_id FROM group_visitors WHERE id = $1")
            .bind(bv[0])
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    let draft_shas = shas_of(&app, draft).await;
    let erased_shas = [
        shas_of(&app, cancelled).await,
        shas_of(&app, completed).await,
    ]
    .concat();
    assert!(erased_shas.len() >= 2, "{erased_shas:?}");

    let stats = format!("/stats?from={}&to={}", date_in(&app, -30), date_in(&app, 1));

    // Two years on: nothing is due yet (3 years by default).
    app.clock().advance(2 * 365 * DAY);
    assert_eq!(
        retention::run(&app.state).await.unwrap(),
        retention::Erased::default()
    );
    // The administrator shortens the period to one year (bad values refused beside the field,
    // kept as typed).
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let page = admin.get("/admin/settings").await;
    page.assert_ok().assert_has("个人信息保存期限（年）");
    assert_eq!(
        page.input_value("personal_data_retention_years").as_deref(),
        Some("3")
    );
    let mut fields: Vec<(String, String)> = [
        "city_name",
        "office_name",
        "system_name",
        "office_phone",
        "processing_days",
        "overdue_days",
        "overdue_warn_days",
        "access_log_retention_days",
    ]
    .iter()
    .map(|k| (k.to_string(), page.input_value(k).unwrap_or_default()))
    .collect();
    for bad in ["0", "abc", "31"] {
        let mut f = fields.clone();
        f.push(("personal_data_retention_years".into(), bad.into()));
        let p = admin.post("/admin/settings", &refs(&f)).await;
        p.assert_ok()
            .assert_has("个人信息保存期限应为1至30之间的整数");
        assert_eq!(
            p.input_value("personal_data_retention_years").as_deref(),
            Some(bad)
        );
    }
    fields.push(("personal_data_retention_years".into(), "1".into()));
    admin
        .post("/admin/settings", &refs(&fields))
        .await
        .assert_redirect("/admin/settings?ok=saved");

    // A is due; B is not (a registration still open); C never.
    let before = figures(&app, &stats).await;
    let done = retention::run(&app.state).await.unwrap();
    assert_eq!(figures(&app, &stats).await, before, "the statistics stay");
    assert_eq!(done.groups, 1, "{done:?}");
    assert!(erased(&app, cancelled).await);
    assert!(!erased(&app, completed).await && !erased(&app, draft).await);
    // A's scans have the content of B's: the rows went, the stored files stay for B; the row
    // B names too stays.
    assert_eq!(done.files, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM files WHERE id = $1", shared).await,
        1
    );
    // B's last registration completed now; a year and a day later B is due.
    sqlx::query(
        "UPDATE visit_records SET state = 'completed', completed_at = $2 WHERE visitor_id = $1",
    )
    .bind(bv[1])
    .bind(app.state.now())
    .execute(app.state.pool())
    .await
    .unwrap();
    assert_eq!(retention::run(&app.state).await.unwrap().groups, 0);
    app.clock().advance(366 * DAY);
    let before = figures(&app, &stats).await;
    let done = retention::run(&app.state).await.unwrap();
    assert_eq!(figures(&app, &stats).await, before, "the statistics stay");
    assert_eq!(done.groups, 1, "{done:?}");
    assert!(erased(&app, completed).await);
    assert!(done.files >= 1, "{done:?}");
    // A second run (another instance) finds nothing left.
    assert_eq!(
        retention::run(&app.state).await.unwrap(),
        retention::Erased::default()
    );

    // Years went by: signed in again.
    unit.login(&r.login, UNIT_PASSWORD).await;
    for id in [cancelled, completed] {
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM group_visitors WHERE group_id = $1
                 AND (surname <> '' OR given_name <> '' OR birth_date <> '' OR passport_no <> ''
                      OR passport_expiry <> '' OR employer <> '' OR position <> ''
                      OR employer_address <> '' OR passport_file_id IS NOT NULL)",
                id
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM group_visitors WHERE group_id = $1 AND nationality = 'USA'",
                id
            )
            .await,
            2,
            "nationality kept"
        );
        for table in ["group_attachments", "invitation_groups"] {
            let sql = match table {
                "group_attachments" => "SELECT COUNT(*) FROM group_attachments WHERE group_id = $1",
                _ => "SELECT COUNT(*) FROM invitation_groups WHERE id = $1 AND scan_file_id IS NOT NULL",
            };
            assert_eq!(count(&app, sql, id).await, 0, "{table}");
        }
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'personal_data.erase'
                 AND object_id = CAST($1 AS TEXT)",
                id
            )
            .await,
            1
        );
        // The page says so and shows no personal data.
        unit.get(&format!("/groups/{id}"))
            .await
            .assert_ok()
            .assert_has("按个人信息保存期限删除")
            .assert_lacks("LISA MOHAMODE")
            .assert_lacks("E0001000");
    }
    // Every erased file is gone from the store unless another row still names its content.
    let mut removed = 0;
    for sha in &erased_shas {
        let named: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE sha256 = $1")
            .bind(sha)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
        let stored = app.state.files.exists(sha).await.unwrap();
        assert_eq!(stored, named > 0, "{sha}");
        if !stored {
            removed += 1;
        }
    }
    assert!(removed >= 1);
    // C untouched.
    unit.get(&format!("/groups/{draft}"))
        .await
        .assert_has("LISA MOHAMODE")
        .assert_has("E0001000");
    for sha in &draft_shas {
        assert!(app.state.files.exists(sha).await.unwrap());
    }
    // The audit chain verifies.
    assert!(matches!(
        laihua::store::audit::verify(app.state.pool())
            .await
            .unwrap(),
        laihua::store::audit::Verdict::Intact(_)
    ));
}
