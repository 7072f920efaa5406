//! Administration: reference data (issue 6) — countries, missions, ports, purposes, cost bearers,
//! districts and attachment types added, edited, retired and restored; retired entries leave the
//! forms but stay on old records; a district with units cannot be retired.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

async fn admin(app: &TestApp) -> Client {
    let a = app.client();
    a.login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    a
}

async fn audit_count(app: &TestApp, action: &str, object_type: &str, object_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_type = $2 AND object_id = $3",
    )
    .bind(action)
    .bind(object_type)
    .bind(object_id)
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

async fn mission_id(app: &TestApp, name: &str) -> i64 {
    mission(app, name).await
}

#[tokio::test]
async fn admin_added_entries_are_offered_and_retired_ones_stay_on_old_groups() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 90, "天宁区", "tianning").await;
    let a = admin(&app).await;

    // The administration page leads to the reference data.
    a.get("/admin")
        .await
        .assert_ok()
        .assert_has("href=\"/admin/refdata\"");
    a.get("/admin/refdata")
        .await
        .assert_ok()
        .assert_has("国家和地区")
        .assert_has("驻外使领馆")
        .assert_has("来华事由")
        .assert_has("注册附件类型");

    // A country, a mission in it and a purpose.
    a.get("/admin/refdata/countries").await.assert_ok();
    a.post(
        "/admin/refdata/countries",
        &[
            ("alpha3", "QZA"),
            ("alpha2", "QZ"),
            ("name_zh", "测试共和国"),
            ("name_en", "Republic of Test"),
            ("sort", ""),
        ],
    )
    .await
    .assert_redirect("/admin/refdata/countries/QZA?ok=added");
    a.get("/admin/refdata/missions").await.assert_ok();
    a.post(
        "/admin/refdata/missions",
        &[
            ("host_alpha3", "QZA"),
            ("kind", "embassy"),
            ("name_zh", "中国驻测试共和国大使馆"),
            ("city_zh", "测试城"),
            ("sort", ""),
        ],
    )
    .await
    .assert_redirect("/admin/refdata/missions/");
    let m = mission_id(&app, "中国驻测试共和国大使馆").await;
    a.get("/admin/refdata/purposes").await.assert_ok();
    a.post(
        "/admin/refdata/purposes",
        &[("code", "filming"), ("name_zh", "影视拍摄"), ("sort", "")],
    )
    .await
    .assert_redirect("/admin/refdata/purposes/filming?ok=added");
    assert_eq!(audit_count(&app, "refdata.add", "country", "QZA").await, 1);
    assert_eq!(
        audit_count(&app, "refdata.add", "mission", &m.to_string()).await,
        1
    );
    assert_eq!(
        audit_count(&app, "refdata.add", "code", "purpose:filming").await,
        1
    );

    // The unit's group form offers them.
    let form = c.get("/groups/form").await;
    form.assert_ok()
        .assert_has("测试共和国")
        .assert_has("中国驻测试共和国大使馆")
        .assert_has("影视拍摄");

    // A group applied with them, submitted.
    c.get("/groups/form").await;
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "purpose", "filming");
    set(&mut f, "country", "QZA");
    set(&mut f, "mission", &m.to_string());
    set(&mut f, "v0_nationality", "QZA");
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id: i64 = group_id_in(&p.location);
    upload_required(&app, &c, id).await;
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    // And a draft with the same choices.
    c.get("/groups/form").await;
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let draft: i64 = group_id_in(&p.location);

    // The administrator renames the purpose, then retires it, the mission and the country.
    a.get("/admin/refdata/purposes/filming")
        .await
        .assert_ok()
        .assert_has("影视拍摄");
    a.post(
        "/admin/refdata/purposes/filming",
        &[("name_zh", "影视摄制"), ("sort", "3")],
    )
    .await
    .assert_redirect("/admin/refdata/purposes/filming?ok=saved");
    assert_eq!(
        audit_count(&app, "refdata.update", "code", "purpose:filming").await,
        1
    );
    c.get("/groups/form").await.assert_has("影视摄制");
    for path in [
        "/admin/refdata/purposes/filming".to_string(),
        format!("/admin/refdata/missions/{m}"),
        "/admin/refdata/countries/QZA".to_string(),
    ] {
        a.get(&path).await.assert_ok();
        a.post(&format!("{path}/retire"), &[])
            .await
            .assert_redirect(&format!("{path}?ok=retired"));
    }
    a.get("/admin/refdata/countries/QZA")
        .await
        .assert_has("已停用")
        .assert_has("恢复使用");
    assert_eq!(
        audit_count(&app, "refdata.retire", "country", "QZA").await,
        1
    );
    assert_eq!(
        app.scalar("SELECT retired FROM codes WHERE kind = 'purpose' AND code = 'filming'")
            .await,
        1
    );

    // No longer offered.
    c.get("/groups/form")
        .await
        .assert_ok()
        .assert_lacks("影视摄制")
        .assert_lacks("中国驻测试共和国大使馆")
        .assert_lacks("测试共和国");
    // The submitted group still shows the names (the purpose under its new name).
    c.get(&format!("/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("影视摄制")
        .assert_has("中国驻测试共和国大使馆")
        .assert_has("测试共和国");
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("影视摄制")
        .assert_has("中国驻测试共和国大使馆")
        .assert_has("测试共和国");
    // The draft shows what it chose, marked; saving it again asks for an active entry.
    let page = c.get(&format!("/groups/{draft}")).await;
    page.assert_ok()
        .assert_has("影视摄制（已停用）")
        .assert_has("中国驻测试共和国大使馆（已停用）");
    c.post(&format!("/groups/{draft}"), &refs(&f))
        .await
        .assert_ok()
        .assert_has("请选择来华事由")
        .assert_has("国籍必须在定义好的国籍中选择");

    // Restored, it is offered again.
    a.get("/admin/refdata/purposes/filming").await;
    a.post("/admin/refdata/purposes/filming/restore", &[])
        .await
        .assert_redirect("/admin/refdata/purposes/filming?ok=restored");
    assert_eq!(
        audit_count(&app, "refdata.restore", "code", "purpose:filming").await,
        1
    );
    c.get("/groups/form").await.assert_has("影视摄制");

    // The audit log links the entries to their pages.
    a.get("/admin/audit?object_type=code")
        .await
        .assert_ok()
        .assert_has("/admin/refdata/purposes/filming");
}

#[tokio::test]
async fn a_district_with_units_cannot_be_retired_and_an_empty_one_leaves_registration() {
    let app = TestApp::spawn().await;
    // A unit that only started its registration still counts.
    let c = app.client();
    create_account(&app, &c, 91, "金坛区").await;
    let a = admin(&app).await;
    let jintan = app.district_id("金坛区").await;
    let path = format!("/admin/refdata/districts/{jintan}");
    a.get(&path).await.assert_ok().assert_has("金坛区");
    a.post(&format!("{path}/retire"), &[])
        .await
        .assert_ok()
        .assert_has("该县区尚有1家邀请单位，不能停用");
    assert_eq!(
        app.scalar(&format!(
            "SELECT retired FROM districts WHERE id = {jintan}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refdata.retire'")
            .await,
        0
    );

    // A new district, renamed, then retired: no longer offered at registration or for staff
    // accounts.
    a.get("/admin/refdata/districts").await.assert_ok();
    a.post(
        "/admin/refdata/districts",
        &[("name", "测试新区"), ("sort", "")],
    )
    .await
    .assert_redirect("/admin/refdata/districts/");
    let id = app.district_id("测试新区").await;
    let path = format!("/admin/refdata/districts/{id}");
    a.get(&path).await;
    a.post(&path, &[("name", "测试高新区"), ("sort", "20")])
        .await
        .assert_redirect(&format!("{path}?ok=saved"));
    a.get("/admin/staff").await.assert_has("测试高新区");
    let reg = app.client();
    walk_to_org_form(&app, &reg, 92).await;
    reg.get("/register/org").await.assert_has("测试高新区");
    a.get(&path).await;
    a.post(&format!("{path}/retire"), &[])
        .await
        .assert_redirect(&format!("{path}?ok=retired"));
    assert_eq!(
        audit_count(&app, "refdata.retire", "district", &id.to_string()).await,
        1
    );
    reg.get("/register/org")
        .await
        .assert_ok()
        .assert_lacks("测试高新区")
        .assert_has("金坛区");
    a.get("/admin/staff").await.assert_lacks("测试高新区");
    // Posting it anyway is refused beside the field.
    let fields = org_fields("常州退役区测试有限公司", &credit_code(92), id);
    reg.post("/register/org", &as_refs(&fields))
        .await
        .assert_ok()
        .assert_has("请选择所属县区");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM units WHERE district_id = {id}"
        ))
        .await,
        0
    );
    // Retired twice: nothing more happens.
    a.get(&path).await;
    a.post(&format!("{path}/retire"), &[])
        .await
        .assert_redirect(&path);
    assert_eq!(
        audit_count(&app, "refdata.retire", "district", &id.to_string()).await,
        1
    );
}

/// The registration wizard up to the organisation form.
async fn walk_to_org_form(app: &TestApp, c: &Client, n: u32) {
    let mobile = format!("139{:08}", 10_000_000 + n);
    c.get("/register").await.assert_ok();
    app.clock().advance(11);
    c.post("/register", &[])
        .await
        .assert_redirect("/register/mobile");
    c.get("/register/mobile").await;
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", &mobile)],
    )
    .await
    .assert_ok();
    let code = app.last_code(&mobile);
    c.post(
        "/register/mobile",
        &[("action", "verify"), ("mobile", &mobile), ("code", &code)],
    )
    .await
    .assert_redirect("/register/org");
}

#[tokio::test]
async fn bad_reference_data_is_refused_beside_the_field_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let a = admin(&app).await;
    let countries = app.scalar("SELECT COUNT(*) FROM countries").await;
    a.get("/admin/refdata/countries").await.assert_ok();
    // Lower-case code, a taken two-letter code, no English name: every message, typed values kept.
    let p = a
        .post(
            "/admin/refdata/countries",
            &[
                ("alpha3", "qza"),
                ("alpha2", "US"),
                ("name_zh", "测试国"),
                ("name_en", ""),
            ],
        )
        .await;
    // (Countries are in pinyin order: no 排序号.)
    p.assert_ok()
        .assert_has("三位字母代码应为3个大写英文字母")
        .assert_has("两位字母代码“US”已存在")
        .assert_has("请填写英文名称")
        .assert_lacks("排序号");
    assert_eq!(p.input_value("alpha3").unwrap(), "qza");
    assert_eq!(p.input_value("name_zh").unwrap(), "测试国");
    // A code that exists; a Chinese name that exists.
    a.post(
        "/admin/refdata/countries",
        &[
            ("alpha3", "USA"),
            ("alpha2", "QZ"),
            ("name_zh", "美国"),
            ("name_en", "Test"),
        ],
    )
    .await
    .assert_ok()
    .assert_has("三位字母代码“USA”已存在")
    .assert_has("中文名称“美国”已存在");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM countries").await,
        countries
    );

    // A mission needs an existing country and a kind; its name is unique.
    let missions = app.scalar("SELECT COUNT(*) FROM missions").await;
    a.get("/admin/refdata/missions").await;
    a.post(
        "/admin/refdata/missions",
        &[
            ("host_alpha3", "ZZZ"),
            ("kind", "palace"),
            ("name_zh", "中国驻纽约总领事馆"),
        ],
    )
    .await
    .assert_ok()
    .assert_has("请选择所在国家")
    .assert_has("请选择类别")
    .assert_has("名称“中国驻纽约总领事馆”已存在");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM missions").await, missions);

    // A purpose code: a format, unique within its kind (the same code as a cost bearer is fine).
    a.get("/admin/refdata/purposes").await;
    a.post(
        "/admin/refdata/purposes",
        &[("code", "Film-1"), ("name_zh", "影视")],
    )
    .await
    .assert_ok()
    .assert_has("代码须以小写英文字母开头");
    a.post(
        "/admin/refdata/purposes",
        &[("code", "business"), ("name_zh", "影视")],
    )
    .await
    .assert_ok()
    .assert_has("代码“business”已存在");
    a.get("/admin/refdata/cost_bearers").await;
    a.post(
        "/admin/refdata/cost_bearers",
        &[("code", "business"), ("name_zh", "商务方承担")],
    )
    .await
    .assert_redirect("/admin/refdata/cost_bearers/business?ok=added");

    // Editing: a name taken by another entry; an empty name. Nothing changes.
    a.get("/admin/refdata/purposes/trade").await;
    let p = a
        .post(
            "/admin/refdata/purposes/trade",
            &[("name_zh", "商务洽谈"), ("sort", "1")],
        )
        .await;
    p.assert_ok().assert_has("名称“商务洽谈”已存在");
    assert_eq!(p.input_value("name_zh").unwrap(), "商务洽谈");
    a.post("/admin/refdata/purposes/trade", &[("name_zh", "  ")])
        .await
        .assert_ok()
        .assert_has("请填写名称");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM codes WHERE kind = 'purpose' AND code = 'trade' AND name_zh = '经贸交流'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'refdata.update'")
            .await,
        0
    );

    // Unknown lists and entries.
    assert_eq!(a.get("/admin/refdata/planets").await.status, 404);
    assert_eq!(a.get("/admin/refdata/districts/999999").await.status, 404);
    assert_eq!(a.get("/admin/refdata/districts/abc").await.status, 404);

    // Nobody else may post the forms.
    let (_r, unit) = approved_unit(&app, 93, "天宁区", "tianning").await;
    unit.get("/home").await;
    assert_eq!(
        unit.post(
            "/admin/refdata/districts",
            &[("name", "非法新区"), ("sort", "")]
        )
        .await
        .status,
        403
    );
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    assert_eq!(
        city.post("/admin/refdata/purposes/trade/retire", &[])
            .await
            .status,
        403
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM districts WHERE name = '非法新区'")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT retired FROM codes WHERE kind = 'purpose' AND code = 'trade'")
            .await,
        0
    );
}

#[tokio::test]
async fn attachment_types_are_added_required_and_retired_but_kept_on_registrations() {
    let app = TestApp::spawn().await;
    let (r, uc) = approved_unit(&app, 94, "天宁区", "tianning").await;
    let a = admin(&app).await;
    a.get("/admin/refdata/attachment_types").await.assert_ok();
    a.post(
        "/admin/refdata/attachment_types",
        &[("name", "外事工作制度"), ("required", "1"), ("sort", "")],
    )
    .await
    .assert_redirect("/admin/refdata/attachment_types/");
    let id = app
        .scalar("SELECT id FROM attachment_types WHERE name = '外事工作制度'")
        .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT required FROM attachment_types WHERE id = {id}"
        ))
        .await,
        1
    );
    // Its page links to the template upload, where it is listed.
    a.get(&format!("/admin/refdata/attachment_types/{id}"))
        .await
        .assert_ok()
        .assert_has("href=\"/admin/templates\"")
        .assert_has("尚未上传模板");
    a.get("/admin/templates")
        .await
        .assert_has("外事工作制度")
        .assert_has(&format!("/admin/templates/{id}"));
    // A new registration is asked for it.
    let c = app.client();
    create_account(&app, &c, 95, "天宁区").await;
    c.get("/registration/attachments")
        .await
        .assert_has("外事工作制度");

    // Retiring a type with files: the approved unit's registration still shows its file.
    let seeded: i64 = app
        .scalar("SELECT MIN(id) FROM attachment_types WHERE scope = 'unit' AND required = 1 AND code NOT LIKE 'custom_%'")
        .await;
    let name: String = sqlx::query_scalar("SELECT name FROM attachment_types WHERE id = $1")
        .bind(seeded)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let path = format!("/admin/refdata/attachment_types/{seeded}");
    a.get(&path).await;
    a.post(&format!("{path}/retire"), &[])
        .await
        .assert_redirect(&format!("{path}?ok=retired"));
    // A registration in progress is no longer asked for it.
    c.get("/registration/attachments").await.assert_lacks(&name);
    uc.get("/registration")
        .await
        .assert_ok()
        .assert_has(&format!("{name}（已停用）"));
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok()
        .assert_has(&format!("{name}（已停用）"));
    assert_eq!(
        audit_count(
            &app,
            "refdata.retire",
            "attachment_type",
            &seeded.to_string()
        )
        .await,
        1
    );
}
