//! The registration journey of manual 1.3 and its reviews, driven over HTTP.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

#[tokio::test]
async fn unit_registers_and_is_approved_by_county_then_city() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 1, "天宁区").await;

    // Before approval the unit sees only its registration.
    c.visit("/home").await.assert_ok().assert_has("未提交");
    upload_and_submit(&app, &c).await;
    c.get("/registration")
        .await
        .assert_ok()
        .assert_has("待县区外办初审");

    // County of the unit's district sees it in its queue; another district's does not.
    let other = app.client();
    other.login("wujin", DEMO_PASSWORD).await;
    other.get("/review").await.assert_ok().assert_lacks(&r.name);
    assert_eq!(
        other
            .get(&format!("/review/units/{}", r.unit_id))
            .await
            .status,
        404
    );

    let county = app.client();
    county
        .login("tianning", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    county.get("/review").await.assert_ok().assert_has(&r.name);
    let detail = county.get(&format!("/review/units/{}", r.unit_id)).await;
    detail
        .assert_ok()
        .assert_has(&r.code)
        .assert_has("【审核通过】")
        .assert_has("【退回】");
    // City does not see it before county passed it.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review").await.assert_ok().assert_lacks(&r.name);
    assert_eq!(
        city.get(&format!("/review/units/{}", r.unit_id))
            .await
            .status,
        404
    );

    county
        .act(
            &format!("/review/units/{}/approve", r.unit_id),
            &[("comment", "材料齐全")],
        )
        .await
        .assert_redirect("/review");
    city.get("/review").await.assert_ok().assert_has(&r.name);
    city.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    city.act(
        &format!("/review/units/{}/approve", r.unit_id),
        &[("comment", "")],
    )
    .await
    .assert_redirect("/review");

    // The unit is told by SMS and site message, and signs in to an approved home.
    let texts: Vec<String> = app
        .sms()
        .into_iter()
        .filter(|(to, _)| *to == r.mobile)
        .map(|(_, t)| t)
        .collect();
    assert!(texts.iter().any(|t| t.contains("已审核通过")), "{texts:?}");
    let fresh = app.client();
    fresh
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
    fresh
        .get("/home")
        .await
        .assert_ok()
        .assert_has("您的单位已审核通过");
    let msgs = fresh.get("/messages").await;
    msgs.assert_ok()
        .assert_has("注册申请审核通过")
        .assert_has("注册申请初审通过");
    let state: String = sqlx::query_scalar("SELECT state FROM units WHERE id = $1")
        .bind(r.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "approved");
    // Every step is in the audit log.
    for action in [
        "unit.create",
        "unit.submit",
        "unit.county_approve",
        "unit.city_approve",
    ] {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_id = $2",
        )
        .bind(action)
        .bind(r.unit_id.to_string())
        .fetch_one(app.state.pool())
        .await
        .unwrap();
        assert_eq!(n, 1, "{action}");
    }
}

#[tokio::test]
async fn returned_registration_is_edited_and_resubmitted_to_county() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 2, "钟楼区").await;
    upload_and_submit(&app, &c).await;
    // Submitted: read-only for the unit.
    c.get("/registration/edit")
        .await
        .assert_redirect("/registration");
    assert_eq!(c.act("/registration/submit", &[]).await.status, 409);

    let county = app.client();
    county.login("zhonglou", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    // A return needs a reason; what was typed in the other box is kept.
    let p = county
        .act(
            &format!("/review/units/{}/return", r.unit_id),
            &[("reason", "  ")],
        )
        .await;
    p.assert_ok().assert_has("请填写退回原因");
    county
        .act(
            &format!("/review/units/{}/return", r.unit_id),
            &[(
                "reason",
                "营业执照副本不清晰，请重新扫描。\n备案表缺少公章。",
            )],
        )
        .await
        .assert_redirect("/review");
    let texts: Vec<String> = app
        .sms()
        .into_iter()
        .filter(|(to, _)| *to == r.mobile)
        .map(|(_, t)| t)
        .collect();
    assert!(texts.iter().any(|t| t.contains("退回补充")), "{texts:?}");

    let page = c.get("/registration").await;
    page.assert_ok()
        .assert_has("退回补充")
        .assert_has("营业执照副本不清晰")
        .assert_has("备案表缺少公章");
    c.get("/messages").await.assert_has("注册申请被退回补充");
    c.get("/registration/edit").await.assert_ok();
    let d = app.district_id("钟楼区").await;
    let mut f = org_fields(&r.name, &r.code, d);
    f[4].1 = "常州市钟楼区新地址8号".into();
    c.post("/registration/edit", &as_refs(&f))
        .await
        .assert_redirect("/registration/attachments");
    let t = unit_types(&app).await;
    c.get("/registration/attachments").await;
    c.upload(
        &format!("/registration/attachments/{}", t[3].0),
        "licence-v2.pdf",
        pdf("v2"),
    )
    .await
    .assert_redirect("/registration/attachments");
    c.get("/registration/attachments")
        .await
        .assert_has("licence-v2.pdf");
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
    let (state, addr): (String, String) =
        sqlx::query_as("SELECT state, address FROM units WHERE id = $1")
            .bind(r.unit_id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), addr.as_str()),
        ("pending_county", "常州市钟楼区新地址8号")
    );
    // Back with the county; the city's return also works and goes back to county on resubmit.
    county
        .act(&format!("/review/units/{}/approve", r.unit_id), &[])
        .await
        .assert_redirect("/review");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok()
        .assert_has("营业执照副本不清晰");
    city.act(
        &format!("/review/units/{}/return", r.unit_id),
        &[("reason", "信用公示证明须为近一个月内打印")],
    )
    .await
    .assert_redirect("/review");
    c.get("/registration")
        .await
        .assert_has("市外办")
        .assert_has("信用公示证明须为近一个月内打印");
    c.get("/registration/attachments").await;
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
    county.get("/review").await.assert_has(&r.name);
}

#[tokio::test]
async fn approved_unit_change_request_goes_through_both_reviews_while_old_data_stays() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 3, "新北区", "xinbei").await;
    let d = app.district_id("新北区").await;
    let mut f = org_fields(&r.name, &r.code, d);
    f[7].1 = "王五".into(); // contact_name
    c.get("/registration/edit")
        .await
        .assert_ok()
        .assert_has("审核通过前原注册信息继续有效");
    c.post("/registration/edit", &as_refs(&f))
        .await
        .assert_redirect("/registration/attachments");
    c.get("/registration/attachments")
        .await
        .assert_has("【提交】");
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=change_submitted");
    let contact = || async {
        sqlx::query_scalar::<_, String>("SELECT contact_name FROM units WHERE id = $1")
            .bind(r.unit_id)
            .fetch_one(app.state.pool())
            .await
            .unwrap()
    };
    assert_eq!(contact().await, "李四");
    c.get("/registration")
        .await
        .assert_has("注册信息变更申请")
        .assert_has("待县区外办初审");
    // Still approved while the change is reviewed.
    c.get("/home").await.assert_has("您的单位已审核通过");
    let change_id = app.scalar("SELECT id FROM unit_changes").await;

    let county = app.client();
    county.login("xinbei", DEMO_PASSWORD).await;
    county.get("/review").await.assert_has("变更申请");
    county
        .get(&format!("/review/changes/{change_id}"))
        .await
        .assert_ok()
        .assert_has("王五")
        .assert_has("申请变更为");
    county
        .act(&format!("/review/changes/{change_id}/approve"), &[])
        .await
        .assert_redirect("/review");
    assert_eq!(contact().await, "李四");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.act(&format!("/review/changes/{change_id}/approve"), &[])
        .await
        .assert_redirect("/review");
    assert_eq!(contact().await, "王五");
    c.get("/messages").await.assert_has("注册信息变更审核通过");
}

#[tokio::test]
async fn two_reviewers_acting_at_once_cannot_both_succeed() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 4, "天宁区").await;
    upload_and_submit(&app, &c).await;
    // Two county accounts of the same district.
    let d = app.district_id("天宁区").await;
    laihua::seed::create_staff(
        &app.state.db,
        laihua::store::users::Role::County,
        "tianning2",
        Some(d),
        "天宁二",
        DEMO_PASSWORD,
        false,
        app.state.now(),
    )
    .await
    .unwrap();
    let a = app.client();
    a.login("tianning", DEMO_PASSWORD).await;
    a.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    let b = app.client();
    b.login("tianning2", DEMO_PASSWORD).await;
    b.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    let path = format!("/review/units/{}/approve", r.unit_id);
    let rpath = format!("/review/units/{}/return", r.unit_id);
    let (pa, pb) = tokio::join!(a.act(&path, &[]), b.act(&rpath, &[("reason", "同时退回")]));
    let statuses = [pa.status, pb.status];
    assert!(
        statuses.contains(&303) && statuses.contains(&409),
        "{statuses:?}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('unit.county_approve', 'unit.county_return')").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM messages WHERE title IN ('注册申请初审通过', '注册申请被退回补充')").await, 1);
    // The audit chain stays intact under concurrent writers.
    assert!(matches!(
        laihua::store::audit::verify(app.state.pool())
            .await
            .unwrap(),
        laihua::store::audit::Verdict::Intact(_)
    ));
}

#[tokio::test]
async fn unit_with_account_but_not_submitted_signs_in_and_continues() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 6, "金坛区").await;
    c.post("/logout", &[]).await.assert_redirect("/login");
    let again = app.client();
    again
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
    let home = again.get("/home").await;
    home.assert_ok()
        .assert_has("未提交")
        .assert_lacks("您的单位已审核通过");
    again
        .get("/registration")
        .await
        .assert_ok()
        .assert_has("[提交注册]");
    upload_and_submit(&app, &again).await;
    again
        .get("/registration")
        .await
        .assert_has("待县区外办初审");
}

#[tokio::test]
async fn audit_records_the_client_address_from_the_proxy_only_when_trusted() {
    for (trust, expected) in [(false, "127.0.0.1"), (true, "203.0.113.7")] {
        let app = TestApp::spawn_with(|s| s.trust_proxy = trust).await;
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let body = http
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        http.post(format!("{}/login", app.base))
            .header("x-real-ip", "203.0.113.7")
            .form(&[
                ("login_id", "city"),
                ("password", DEMO_PASSWORD),
                ("csrf", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let ip: String =
            sqlx::query_scalar("SELECT ip FROM audit_log WHERE action = 'login.success'")
                .fetch_one(app.state.pool())
                .await
                .unwrap();
        assert_eq!(ip, expected);
    }
}

/// Issue 17: every page names the favicon and starts with the skip link to its content; the
/// favicon and the print stylesheet are served; the menu is a details element, so it collapses
/// on a phone without JavaScript; no table header is empty.
#[tokio::test]
async fn pages_have_skip_link_favicon_and_collapsible_menu() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get("/login")
        .await
        .assert_ok()
        .assert_has("<a class=\"skip\" href=\"#main\">跳到主要内容</a>")
        .assert_has("<main id=\"main\" tabindex=\"-1\">")
        .assert_has("href=\"/static/favicon.svg\"");
    for path in ["/static/favicon.svg", "/favicon.ico"] {
        let (status, ct, body) = c.get_bytes(path).await;
        assert_eq!((status, ct.as_str()), (200, "image/svg+xml"), "{path}");
        assert!(body.starts_with(b"<svg"), "{path}");
    }
    let (status, ct, _) = c.get_bytes("/static/print.css").await;
    assert_eq!((status, ct.as_str()), (200, "text/css; charset=utf-8"));

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let page = county.get("/review").await;
    page.assert_ok()
        .assert_has("<nav class=\"menu\" aria-label=\"功能菜单\">\n<details id=\"menu\" data-menu>\n<summary>菜单</summary>")
        .assert_has("<th>操作</th>")
        .assert_lacks("<th></th>");
}

/// Issue 17: [提交注册] without a required attachment says at once which to upload, without
/// asking first; once complete it asks, and only the confirmation submits.
#[tokio::test]
async fn submit_says_which_attachments_are_missing_before_asking_to_confirm() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 2, "天宁区").await;
    let state = || async {
        sqlx::query_scalar::<_, String>("SELECT state FROM units WHERE id = $1")
            .bind(r.unit_id)
            .fetch_one(app.state.pool())
            .await
            .unwrap()
    };
    c.get("/registration/attachments").await.assert_ok();
    c.post("/registration/submit", &[])
        .await
        .assert_ok()
        .assert_has("请上传必选附件：")
        .assert_has("添加附件")
        .assert_lacks("请确认：")
        .assert_lacks("【确认提交】");
    assert_eq!(state().await, "draft");
    upload_required_attachments(&app, &c).await;
    c.get("/registration/attachments").await;
    c.post("/registration/submit", &[])
        .await
        .assert_ok()
        .assert_has("请确认：【提交】注册信息")
        .assert_has("【确认提交】")
        .assert_has("href=\"/registration/attachments\"")
        .assert_lacks("请上传必选附件");
    assert_eq!(state().await, "draft");
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
    assert_eq!(state().await, "pending_county");
}
