//! Every bad input of the registration issue gets a clear message and saves nothing.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

/// Goes through notice and mobile verification; returns the client at the organisation step.
async fn at_org_step(app: &TestApp, mobile: &str) -> Client {
    let c = app.client();
    c.get("/register").await.assert_ok();
    app.clock().advance(10);
    c.post("/register", &[])
        .await
        .assert_redirect("/register/mobile");
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
    .assert_ok();
    let code = app.last_code(mobile);
    c.post(
        "/register/mobile",
        &[("action", "verify"), ("mobile", mobile), ("code", &code)],
    )
    .await
    .assert_redirect("/register/org");
    c
}

#[tokio::test]
async fn notice_cannot_be_accepted_before_ten_seconds() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get("/register")
        .await
        .assert_ok()
        .assert_has("data-countdown=\"10\"");
    app.clock().advance(4);
    let p = c.post("/register", &[]).await;
    p.assert_ok().assert_has("6秒后再点击");
    // The next step stays closed.
    c.get("/register/mobile").await.assert_redirect("/register");
    app.clock().advance(6);
    c.post("/register", &[])
        .await
        .assert_redirect("/register/mobile");
}

#[tokio::test]
async fn wrong_check_character_is_refused_and_typed_values_kept() {
    let app = TestApp::spawn().await;
    let c = at_org_step(&app, "13900000001").await;
    let good = credit_code(77);
    let last = good.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    let bad = format!("{}{}", &good[..17], wrong);
    let d = app.district_id("钟楼区").await;
    let fields = org_fields("常州校验位测试有限公司", &bad, d);
    let p = c.post("/register/org", &as_refs(&fields)).await;
    p.assert_ok().assert_has("统一社会信用代码校验位错误");
    assert_eq!(p.input_value("credit_code").unwrap(), bad);
    assert_eq!(p.input_value("name").unwrap(), "常州校验位测试有限公司");
    assert_eq!(p.input_value("email").unwrap(), "test@example.com");
    // Nothing went further: the account step is still closed and no unit exists.
    c.get("/register/account")
        .await
        .assert_redirect("/register/org");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, 0);
}

#[tokio::test]
async fn duplicate_name_code_and_login_are_refused_ignoring_case() {
    let app = TestApp::spawn().await;
    let first = app.client();
    let r = create_account(&app, &first, 5, "天宁区").await;

    let c = at_org_step(&app, "13900000002").await;
    let d = app.district_id("天宁区").await;
    // Same name (other spacing), other code.
    let f = org_fields(&format!(" {} ", r.name), &credit_code(6), d);
    c.post("/register/org", &as_refs(&f))
        .await
        .assert_ok()
        .assert_has("该单位全称已注册");
    // Same code typed in lower case, other name.
    let f = org_fields("另一家测试公司", &r.code.to_lowercase(), d);
    c.post("/register/org", &as_refs(&f))
        .await
        .assert_ok()
        .assert_has("该统一社会信用代码已注册");
    // A different name and code go through.
    let f = org_fields("另一家测试公司", &credit_code(6), d);
    c.post("/register/org", &as_refs(&f))
        .await
        .assert_redirect("/register/account");
    // Login ID in another case.
    let p = c
        .post(
            "/register/account",
            &[
                ("login_id", &r.login.to_uppercase()),
                ("password", UNIT_PASSWORD),
                ("password2", UNIT_PASSWORD),
            ],
        )
        .await;
    p.assert_ok().assert_has("该登录ID已被使用");
    assert_eq!(p.input_value("login_id").unwrap(), r.login.to_uppercase());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE role = 'unit'")
            .await,
        1
    );
}

#[tokio::test]
async fn weak_password_and_mismatch_are_refused() {
    let app = TestApp::spawn().await;
    let c = at_org_step(&app, "13900000003").await;
    let d = app.district_id("天宁区").await;
    let f = org_fields("弱密码测试公司", &credit_code(8), d);
    c.post("/register/org", &as_refs(&f))
        .await
        .assert_redirect("/register/account");
    for (pw, pw2, msg) in [
        ("short1A", "short1A", "密码应为8至64个字符"),
        ("alllowercase", "alllowercase", "至少三类"),
        ("Weakunit9", "Weakunit9", "不能与登录ID相同"),
        ("Strong#Pass1", "Strong#Pass2", "两次输入的密码不一致"),
    ] {
        let p = c
            .post(
                "/register/account",
                &[
                    ("login_id", "weakunit9"),
                    ("password", pw),
                    ("password2", pw2),
                ],
            )
            .await;
        p.assert_ok().assert_has(msg);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, 0);
}

#[tokio::test]
async fn sms_code_rules_wrong_expired_resend_and_voiding() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get("/register").await;
    app.clock().advance(10);
    c.post("/register", &[]).await;
    let mobile = "13700000009";
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
    .assert_has("验证码已发送");
    // A second send within the minute is refused.
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
    .assert_ok()
    .assert_has("秒后再获取验证码");
    assert_eq!(app.sms().len(), 1);
    // Expired after five minutes.
    let code = app.last_code(mobile);
    app.clock().advance(301);
    c.post(
        "/register/mobile",
        &[("action", "verify"), ("mobile", mobile), ("code", &code)],
    )
    .await
    .assert_has("验证码已过期");
    // A new code; five wrong tries void it, so the right one no longer works.
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
    .assert_has("验证码已发送");
    let code = app.last_code(mobile);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 1..=4 {
        c.post(
            "/register/mobile",
            &[("action", "verify"), ("mobile", mobile), ("code", wrong)],
        )
        .await
        .assert_has(&format!("还可尝试{}次", 5 - i));
    }
    c.post(
        "/register/mobile",
        &[("action", "verify"), ("mobile", mobile), ("code", wrong)],
    )
    .await
    .assert_has("已失效");
    let p = c
        .post(
            "/register/mobile",
            &[("action", "verify"), ("mobile", mobile), ("code", &code)],
        )
        .await;
    p.assert_ok().assert_has("请先获取验证码");
    assert_eq!(p.input_value("mobile").unwrap(), mobile);
    c.get("/register/org")
        .await
        .assert_redirect("/register/mobile");
    // At most ten a day (15 minutes apart: five in an hour is a limit of its own).
    for _ in 0..8 {
        app.clock().advance(901);
        c.post(
            "/register/mobile",
            &[("action", "send"), ("mobile", mobile)],
        )
        .await
        .assert_has("验证码已发送");
    }
    app.clock().advance(901);
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
    .assert_has("今日获取验证码次数已达上限");
    // A malformed number gets its own message.
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", "1234")],
    )
    .await
    .assert_has("请输入正确的11位手机号码");
}

#[tokio::test]
async fn per_address_sms_limit_applies() {
    let app = TestApp::spawn_with(|s| s.sms_per_ip_hour = 2).await;
    let c = app.client();
    c.get("/register").await;
    app.clock().advance(10);
    c.post("/register", &[]).await;
    for m in ["13600000001", "13600000002"] {
        c.post("/register/mobile", &[("action", "send"), ("mobile", m)])
            .await
            .assert_has("验证码已发送");
    }
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", "13600000003")],
    )
    .await
    .assert_has("获取验证码过于频繁");
}

#[tokio::test]
async fn uploads_are_checked_by_content_size_and_presence() {
    let app = TestApp::spawn().await;
    let c = app.client();
    create_account(&app, &c, 9, "新北区").await;
    let types = unit_types(&app).await;
    let first = types[0].0;
    c.get("/registration/attachments").await.assert_ok();
    // A text file renamed .pdf.
    let p = c
        .upload(
            &format!("/registration/attachments/{first}"),
            "fake.pdf",
            b"just some text".to_vec(),
        )
        .await;
    p.assert_ok().assert_has("文件内容不是有效的PDF");
    // An 11 MB PDF.
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    big.extend_from_slice(b"\n%%EOF\n");
    let p = c
        .upload(
            &format!("/registration/attachments/{first}"),
            "big.pdf",
            big,
        )
        .await;
    p.assert_ok().assert_has("文件超过10MB");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_attachments").await, 0);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM files WHERE uploaded_by IS NOT NULL")
            .await,
        0
    );
    // Submitting with a required attachment missing.
    c.upload(
        &format!("/registration/attachments/{first}"),
        "ok.pdf",
        pdf("ok"),
    )
    .await
    .assert_redirect("/registration/attachments");
    c.get("/registration/attachments").await;
    let p = c.act("/registration/submit", &[]).await;
    p.assert_ok().assert_has("请上传必选附件");
    let state: String = sqlx::query_scalar("SELECT state FROM units")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "draft");
}

#[tokio::test]
async fn forms_without_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get("/login").await;
    let p = c
        .post_raw(
            "/login",
            &[
                ("login_id", "city".into()),
                ("password", DEMO_PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(p.has("表单已失效"));
    let p = c
        .post_raw(
            "/login",
            &[
                ("login_id", "city".into()),
                ("password", DEMO_PASSWORD.into()),
                ("csrf", "forged".into()),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    // The same form with the page's token works.
    c.post(
        "/login",
        &[("login_id", "city"), ("password", DEMO_PASSWORD)],
    )
    .await
    .assert_redirect("/home");
    // An upload without the token in its action is refused too.
    let fresh = app.client();
    let r = create_account(&app, &fresh, 10, "天宁区").await;
    let t = unit_types(&app).await[0].0;
    let resp = reqwest::Client::new()
        .post(format!("{}/registration/attachments/{t}", app.base))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf("x")).file_name("x.pdf"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let _ = r;
}

#[tokio::test]
async fn sixth_wrong_password_meets_the_lock_and_unknown_ids_look_the_same() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for _ in 0..4 {
        c.login("city", "Wrong#pass1")
            .await
            .assert_ok()
            .assert_has("登录ID或密码错误");
    }
    c.login("city", "Wrong#pass1")
        .await
        .assert_has("连续登录失败次数过多");
    // Locked: even the right password is refused, with the same message.
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_ok()
        .assert_has("连续登录失败次数过多");
    // An ID that does not exist answers exactly alike.
    for _ in 0..4 {
        c.login("nobody", "Wrong#pass1")
            .await
            .assert_has("登录ID或密码错误");
    }
    c.login("nobody", "Wrong#pass1")
        .await
        .assert_has("连续登录失败次数过多");
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.lockout'")
            .await
            >= 2
    );
    // After 15 minutes the account opens again.
    app.clock().advance(15 * 60 + 1);
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn units_cannot_reach_each_others_files_and_counties_other_districts() {
    let app = TestApp::spawn().await;
    let (a, _ca) = approved_unit(&app, 20, "天宁区", "tianning").await;
    let (_b, cb) = approved_unit(&app, 21, "武进区", "wujin").await;
    let file_id: i64 = sqlx::query_scalar(
        "SELECT file_id FROM unit_attachments WHERE unit_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(a.unit_id)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    let (status, _, bytes) = cb
        .get_bytes(&format!("/units/{}/files/{file_id}", a.unit_id))
        .await;
    assert_eq!(status, 404);
    assert!(!bytes.starts_with(b"%PDF"));
    // Even under its own unit id, another unit's file is not served.
    let b_id: i64 = sqlx::query_scalar("SELECT id FROM units WHERE id <> $1")
        .bind(a.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(
        cb.get_bytes(&format!("/units/{b_id}/files/{file_id}"))
            .await
            .0,
        404
    );
    // The owner and its county see it inline.
    let ca = app.client();
    ca.login(&a.login, UNIT_PASSWORD).await;
    let (status, ct, bytes) = ca
        .get_bytes(&format!("/units/{}/files/{file_id}", a.unit_id))
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF"));
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    assert_eq!(
        wujin
            .get(&format!("/review/units/{}", a.unit_id))
            .await
            .status,
        404
    );
    assert_eq!(
        wujin
            .get_bytes(&format!("/units/{}/files/{file_id}", a.unit_id))
            .await
            .0,
        404
    );
    let tianning = app.client();
    tianning.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(
        tianning
            .get_bytes(&format!("/units/{}/files/{file_id}", a.unit_id))
            .await
            .0,
        200
    );
}
