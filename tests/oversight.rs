//! Oversight (issue 6): Excel exports of the lists staff see, each an audit event and limited to
//! the county's district; staff search across units and groups; audit entries that link to the
//! group and post-visit registration they concern.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

/// A submitted group of two visitors whose passports start with `passport` and whose second
/// visitor's surname is `surname`.
async fn group_of(app: &TestApp, c: &Client, passport: &str, surname: &str) -> i64 {
    let (p0, p1) = (format!("{passport}0"), format!("{passport}1"));
    submitted_group(
        app,
        c,
        2,
        &[
            ("v0_passport_no", &p0),
            ("v1_passport_no", &p1),
            ("v1_surname", surname),
        ],
    )
    .await
}

async fn number_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn exports_logged(app: &TestApp, list: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object_id = '{list}'"
    ))
    .await
}

#[tokio::test]
async fn queue_exports_hold_the_rows_on_screen_and_only_the_countys_district() {
    let app = TestApp::spawn().await;
    let (_, a) = approved_unit(&app, 60, "天宁区", "tianning").await;
    let (_, b) = approved_unit(&app, 61, "武进区", "wujin").await;
    let ga = group_of(&app, &a, "TN100", "TIAN").await;
    let gb = group_of(&app, &b, "WJ100", "WU").await;
    let (na, nb) = (number_of(&app, ga).await, number_of(&app, gb).await);

    // County of 天宁区: the screen and the file both hold its group and not 武进区's.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/groups")
        .await
        .assert_has(&na)
        .assert_lacks(&nb)
        .assert_has("导出Excel");
    let sheets = export(&county, "/review/groups?format=xlsx").await;
    let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, vec!["团组待办", "到访人员", "在华日程"]);
    let rows = &sheets[0].1;
    assert_eq!(rows[0][1], "团组编号");
    assert_eq!(rows.len(), 2, "header and one group: {rows:?}");
    assert_eq!(rows[1][1], na);
    assert_eq!(rows[1][4], "天宁区");
    assert_eq!(rows[1][5], "2");
    assert!(!rows.iter().flatten().any(|c| c == &nb));
    assert_eq!(exports_logged(&app, "review.groups").await, 1);

    // The city's group queue is empty until the counties pass them; its registration queue
    // export has the header only.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    let sheets = export(&city, "/review/groups?format=xlsx").await;
    assert_eq!(sheets[0].1.len(), 1);
    let sheets = export(&city, "/review?format=xlsx").await;
    assert_eq!(sheets[0].1[0][1], "单位全称");

    // Both counties pass their group; the city's file then holds both, oldest first.
    county.get(&format!("/review/groups/{ga}")).await;
    county
        .act(&format!("/review/groups/{ga}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin.get(&format!("/review/groups/{gb}")).await;
    wujin
        .act(&format!("/review/groups/{gb}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    let sheets = export(&city, "/review/groups?format=xlsx").await;
    let numbers: Vec<&str> = sheets[0].1[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(numbers, vec![na.as_str(), nb.as_str()]);
    assert_eq!(sheets[0].1[1][0], "待审核受理");

    // The registration queue of a county lists a pending registration of its district only.
    let c = app.client();
    create_account(&app, &c, 62, "武进区").await;
    upload_and_submit(&app, &c).await;
    let sheets = export(&county, "/review?format=xlsx").await;
    assert_eq!(sheets[0].1.len(), 1, "天宁区 has nothing pending");
    let sheets = export(&wujin, "/review?format=xlsx").await;
    assert_eq!(sheets[0].1.len(), 2);
    assert_eq!(sheets[0].1[1][3], "武进区");

    // Post-visit registrations: two sheets (pending and overdue).
    let sheets = export(&county, "/review/visits?format=xlsx").await;
    let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, vec!["销签待办", "逾期未销签"]);

    // A unit cannot export a staff list.
    let (status, _, _) = a.get_bytes("/review/groups?format=xlsx").await;
    assert_eq!(status, 403);
    // Every export is in the audit log with the actor.
    let actors: Vec<String> =
        sqlx::query_scalar("SELECT actor FROM audit_log WHERE action = 'export' ORDER BY id")
            .fetch_all(app.state.pool())
            .await
            .unwrap();
    assert_eq!(actors.len(), 7);
    assert!(actors[0].contains("tianning"));
}

#[tokio::test]
async fn admin_exports_unit_search_and_audit_log_with_their_filters() {
    let app = TestApp::spawn().await;
    let (ra, _) = approved_unit(&app, 63, "天宁区", "tianning").await;
    let (rb, _) = approved_unit(&app, 64, "武进区", "wujin").await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let wujin = app.district_id("武进区").await;

    let screen = admin.get(&format!("/admin/units?district={wujin}")).await;
    screen.assert_has(&rb.name).assert_lacks(&ra.name);
    let sheets = export(
        &admin,
        &format!("/admin/units?district={wujin}&format=xlsx"),
    )
    .await;
    let rows = &sheets[0].1;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], rb.name);
    assert_eq!(rows[1][1], rb.code);
    assert_eq!(rows[1][4], "审核通过");
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'export' AND object_id = 'admin.units'",
    )
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    assert!(detail.contains(&format!("县区={wujin}")), "{detail}");
    assert!(detail.contains("1行"), "{detail}");

    // The audit log filtered to one unit: the file has the same entries as the screen.
    let path = format!("/admin/audit?object_type=unit&object_id={}", rb.unit_id);
    let page = admin.get(&path).await;
    let on_screen = page.body.matches("<tr><td data-label=\"编号\">").count();
    let sheets = export(&admin, &format!("{path}&format=xlsx")).await;
    let rows = &sheets[0].1;
    assert_eq!(rows.len() - 1, on_screen);
    assert!(rows.len() > 3, "{rows:?}");
    assert!(rows[1..]
        .iter()
        .all(|r| r[6] == "unit" && r[7] == rb.unit_id.to_string()));
    assert!(rows.iter().any(|r| r[5] == "unit.city_approve"));
    // Bad dates: the page with its message, no file and no export entry.
    let before = exports_logged(&app, "audit").await;
    admin
        .get("/admin/audit?from=yesterday&format=xlsx")
        .await
        .assert_ok()
        .assert_has("日期格式应为2026-01-31");
    assert_eq!(exports_logged(&app, "audit").await, before);
    // The staff accounts.
    let sheets = export(&admin, "/admin/staff?format=xlsx").await;
    let rows = &sheets[0].1;
    assert!(rows
        .iter()
        .any(|r| r[0] == "tianning" && r[3] == "天宁区" && r[4] == "正常"));
    assert_eq!(exports_logged(&app, "admin.staff").await, 1);
    // A county user reaches no admin list, export or not.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let (status, _, _) = county.get_bytes("/admin/audit?format=xlsx").await;
    assert_eq!(status, 403);
    let (status, _, _) = county.get_bytes("/admin/units?format=xlsx").await;
    assert_eq!(status, 403);
    let (status, _, _) = county.get_bytes("/admin/staff?format=xlsx").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn staff_search_finds_units_and_groups_within_the_district() {
    let app = TestApp::spawn().await;
    let (ra, a) = approved_unit(&app, 65, "天宁区", "tianning").await;
    let (rb, b) = approved_unit(&app, 66, "武进区", "wujin").await;
    let ga = group_of(&app, &a, "TN200", "ZHAO").await;
    let gb = group_of(&app, &b, "WJ200", "ZHAO").await;
    let (na, nb) = (number_of(&app, ga).await, number_of(&app, gb).await);

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    // A credit code finds the own district's unit only; so does part of its name.
    county
        .get(&format!("/search?q={}", &ra.name[3..]))
        .await
        .assert_has(&format!("/review/units/{}", ra.unit_id));
    let code_a = &ra.code.to_lowercase();
    county
        .get(&format!("/search?q={code_a}"))
        .await
        .assert_ok()
        .assert_has(&ra.name)
        .assert_has(&format!("/review/units/{}", ra.unit_id));
    county
        .get(&format!("/search?q={}", &rb.code))
        .await
        .assert_lacks(&rb.name)
        .assert_has("没有符合条件的单位");
    // A passport number (any case) finds the group; another district's is not found.
    county
        .get("/search?q=tn2001")
        .await
        .assert_has(&na)
        .assert_has(&format!("/review/groups/{ga}"));
    county.get("/search?q=WJ2001").await.assert_lacks(&nb);
    // A surname shared by visitors of both districts: only the own district's group.
    county
        .get("/search?q=zhao")
        .await
        .assert_has(&na)
        .assert_lacks(&nb);
    // The county's export of the same search holds the same rows.
    let sheets = export(&county, "/search?q=zhao&format=xlsx").await;
    let groups = &sheets.iter().find(|s| s.0 == "团组").unwrap().1;
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1][0], na);
    assert_eq!(groups[1][3], "天宁区");
    assert_eq!(exports_logged(&app, "search").await, 1);

    // The city sees groups once the county passed them: by number, then by 受理编号 and
    // 核实单号 once they exist.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/search?q={na}"))
        .await
        .assert_lacks(&format!("/review/groups/{ga}"));
    county.get(&format!("/review/groups/{ga}")).await;
    county
        .act(&format!("/review/groups/{ga}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    city.get(&format!("/search?q={na}"))
        .await
        .assert_has(&format!("/review/groups/{ga}"));
    city.get(&format!("/review/groups/{ga}")).await;
    city.act(&format!("/review/groups/{ga}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{ga}"));
    city.act(
        &format!("/review/groups/{ga}/report"),
        &[("verification_no", "HW3255020200727800099")],
    )
    .await
    .assert_redirect(&format!("/review/groups/{ga}"));
    let acceptance: String =
        sqlx::query_scalar("SELECT acceptance_no FROM invitation_groups WHERE id = $1")
            .bind(ga)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    city.get(&format!("/search?q={}", acceptance.to_lowercase()))
        .await
        .assert_has(&na);
    city.get("/search?q=hw3255020200727800099")
        .await
        .assert_has(&na)
        .assert_lacks(&nb);
    // The full name "姓 名" of the second visitor.
    city.get("/search?q=zhao%20john1").await.assert_has(&na);

    // The administrator finds units of every district and opens groups read-only.
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin
        .get(&format!("/search?q={}", &rb.login))
        .await
        .assert_has(&rb.name)
        .assert_has(&format!("/admin/units/{}", rb.unit_id));
    admin.get("/search?q=WJ2000").await.assert_has(&nb);
    admin
        .get(&format!("/review/groups/{ga}"))
        .await
        .assert_ok()
        .assert_has(&na)
        .assert_lacks("【受理】")
        .assert_lacks("【发件】");

    // Bad input: too long a query gets the message beside the field and keeps it.
    let long = "甲".repeat(101);
    let p = county.get(&format!("/search?q={long}")).await;
    p.assert_ok().assert_has("查询内容不能超过100个字符");
    assert_eq!(p.input_value("q").unwrap(), long);
    // A single character searches no unit names.
    county
        .get("/search?q=常")
        .await
        .assert_has("没有符合条件的单位");
    // Units cannot search.
    assert_eq!(a.get("/search?q=x").await.status, 403);
}

#[tokio::test]
async fn audit_entries_link_to_their_group_and_post_visit_registration() {
    let app = TestApp::spawn().await;
    let (_, c) = approved_unit(&app, 67, "天宁区", "tianning").await;
    let gid = dispatched_group(&app, &c, 1, "tianning").await;
    let number = number_of(&app, gid).await;
    let visitor = visitor_ids(&app, gid).await[0];
    // The unit records the entry of its visitor.
    c.get(&format!("/visits/{visitor}")).await.assert_ok();
    c.post(
        &format!("/visits/{visitor}"),
        &[("kind", "cancelled"), ("cancel_reason", "客户取消行程")],
    )
    .await;
    let record: i64 = app
        .scalar(&format!(
            "SELECT COALESCE(MAX(id), 0) FROM visit_records WHERE visitor_id = {visitor}"
        ))
        .await;
    assert!(record > 0, "the registration was saved");

    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let page = admin
        .get(&format!("/admin/audit?object_type=group&object_id={gid}"))
        .await;
    page.assert_has(&format!("href=\"/review/groups/{gid}\""));
    admin
        .get(&format!("/review/groups/{gid}"))
        .await
        .assert_ok()
        .assert_has(&number);
    let page = admin
        .get(&format!(
            "/admin/audit?object_type=visit&object_id={record}"
        ))
        .await;
    page.assert_has(&format!("href=\"/review/visit-records/{record}\""));
    // A draft registration is not shown to the administrator (only submitted ones are).
    admin
        .get(&format!("/review/visit-records/{record}"))
        .await
        .assert_redirect(&format!("/review/visits/{visitor}"));
    assert_eq!(
        admin.get(&format!("/review/visits/{visitor}")).await.status,
        404
    );
    assert_eq!(admin.get("/review/visit-records/999999").await.status, 404);
}

#[tokio::test]
async fn forms_on_another_instance_see_reference_edits_at_once() {
    let app = TestApp::spawn().await;
    let peer = app.spawn_peer().await;
    let (_, c) = approved_unit(&app, 68, "天宁区", "tianning").await;
    let on_peer = c.at(&peer.base);
    // The peer reads (and caches) the lists first.
    on_peer
        .get("/groups/form")
        .await
        .assert_ok()
        .assert_lacks("影视拍摄");
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin.get("/admin/refdata/purposes").await.assert_ok();
    admin
        .post(
            "/admin/refdata/purposes",
            &[("code", "filming"), ("name_zh", "影视拍摄"), ("sort", "")],
        )
        .await
        .assert_redirect("/admin/refdata/purposes/filming?ok=added");
    on_peer.get("/groups/form").await.assert_has("影视拍摄");
    admin.get("/admin/refdata/purposes/filming").await;
    admin
        .post("/admin/refdata/purposes/filming/retire", &[])
        .await;
    on_peer.get("/groups/form").await.assert_lacks("影视拍摄");
}

/// 团组待办 pages each section 50 at a time, oldest submission first, with the section's total in
/// its heading; the export holds every row.
#[tokio::test]
async fn the_group_queue_is_paged_by_section_and_exported_whole() {
    let app = TestApp::spawn().await;
    let (_, a) = approved_unit(&app, 62, "天宁区", "tianning").await;
    let first = group_of(&app, &a, "PG100", "PAGE").await;
    let first_number = number_of(&app, first).await;
    // 54 more waiting groups of the same unit, each submitted a minute after the one before.
    for i in 1..=54i64 {
        sqlx::query(
            "INSERT INTO invitation_groups (unit_id, district_id, number, state, name, purpose,
                arrival, departure, places, cost_bearer, mission_id, entry_type, ground,
                contact_name, contact_phone, remarks, data_hash, submitted_at, created_at,
                updated_at)
             SELECT unit_id, district_id, $1, state, $2, purpose, arrival, departure, places, cost_bearer,
                mission_id, entry_type, ground, contact_name, contact_phone, remarks, data_hash,
                submitted_at + $3, created_at, updated_at
             FROM invitation_groups WHERE id = $4",
        )
        .bind(format!("Q{i:04}"))
        .bind(format!("分页团组{i}"))
        .bind(60 * i)
        .bind(first)
        .execute(app.state.pool())
        .await
        .unwrap();
    }

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/groups")
        .await
        .assert_ok()
        .assert_has("待初审（55）")
        .assert_has(&first_number)
        .assert_has("分页团组49<")
        .assert_lacks("分页团组50<")
        .assert_has("第1/2页")
        .assert_has("section=pending_county&page=2");
    county
        .get("/review/groups?section=pending_county&page=2")
        .await
        .assert_ok()
        .assert_has("待初审（55）")
        .assert_lacks(&first_number)
        .assert_lacks("分页团组49<")
        .assert_has("分页团组50<")
        .assert_has("分页团组54<")
        .assert_has("第2/2页")
        .assert_has("上一页");
    // A page past the end shows the last one; a page of nothing is not an error.
    county
        .get("/review/groups?section=pending_county&page=99")
        .await
        .assert_ok()
        .assert_has("分页团组54<");
    county
        .get("/review/groups?section=pending_county&page=x")
        .await
        .assert_ok()
        .assert_has(&first_number);

    let sheets = export(&county, "/review/groups?format=xlsx").await;
    assert_eq!(
        sheets[0].1.len(),
        1 + 55,
        "the header and every waiting group"
    );
}

#[tokio::test]
async fn a_unit_that_moves_to_another_district_takes_its_waiting_groups_along() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 63, "天宁区", "tianning").await;
    let id = group_of(&app, &c, "MV100", "MOVE").await;
    let number = number_of(&app, id).await;
    let tianning = app.client();
    tianning.login("tianning", DEMO_PASSWORD).await;
    tianning
        .get("/review/groups")
        .await
        .assert_has("待初审（1）")
        .assert_has(&number);
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin
        .get("/review/groups")
        .await
        .assert_has("待初审（0）")
        .assert_lacks(&number);

    // The unit asks to move to 武进区; the county it belongs to and the city approve.
    let to = app.district_id("武进区").await;
    let f = org_fields(&r.name, &r.code, to);
    c.get("/registration/edit").await.assert_ok();
    c.post("/registration/edit", &as_refs(&f))
        .await
        .assert_redirect("/registration/attachments");
    c.get("/registration/attachments").await;
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=change_submitted");
    let change = app.scalar("SELECT id FROM unit_changes").await;
    // Until the change is in force the group stays with 天宁区.
    wujin.get("/review/groups").await.assert_lacks(&number);
    tianning
        .act(&format!("/review/changes/{change}/approve"), &[])
        .await
        .assert_redirect("/review");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.act(&format!("/review/changes/{change}/approve"), &[])
        .await
        .assert_redirect("/review");

    // Now 武进区 counts, lists and may open it; 天宁区 no longer does.
    assert_eq!(
        app.scalar(&format!(
            "SELECT district_id FROM invitation_groups WHERE id = {id}"
        ))
        .await,
        to
    );
    wujin
        .get("/review/groups")
        .await
        .assert_has("待初审（1）")
        .assert_has(&number);
    wujin.get(&format!("/review/groups/{id}")).await.assert_ok();
    tianning
        .get("/review/groups")
        .await
        .assert_has("待初审（0）")
        .assert_lacks(&number);
    assert_eq!(
        tianning.get(&format!("/review/groups/{id}")).await.status,
        404
    );
}
