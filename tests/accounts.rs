//! Accounts (manual 1.4–1.5): sign-in rules, sessions, password recovery and change, mobile
//! rebinding, the dishonesty list, and the first administrator.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

#[tokio::test]
async fn forgot_password_by_credit_code_name_and_sms() {
    let app = TestApp::spawn().await;
    let (r, _) = approved_unit(&app, 30, "天宁区", "tianning").await;
    let c = app.client();
    c.get("/forgot")
        .await
        .assert_ok()
        .assert_has("统一社会信用代码");
    // Name and code that do not belong together.
    let p = c
        .post("/forgot", &[("credit_code", &r.code), ("name", "别的公司")])
        .await;
    p.assert_ok().assert_has("不一致");
    assert_eq!(p.input_value("name").unwrap(), "别的公司");
    c.post(
        "/forgot",
        &[("credit_code", &r.code.to_lowercase()), ("name", &r.name)],
    )
    .await
    .assert_redirect("/forgot/sms");
    let masked = format!("{}****{}", &r.mobile[..3], &r.mobile[7..]);
    c.get("/forgot/sms")
        .await
        .assert_ok()
        .assert_has(&masked)
        .assert_lacks(&r.mobile)
        .assert_has("无法接收短信");
    // The reset page stays closed until the code is checked.
    c.get("/forgot/reset").await.assert_redirect("/forgot");
    // The registration code went to this number less than a minute ago.
    c.post("/forgot/sms", &[("action", "send")])
        .await
        .assert_has("秒后再获取验证码");
    app.clock().advance(60);
    c.post("/forgot/sms", &[("action", "send")])
        .await
        .assert_has("验证码已发送");
    let code = app.last_code(&r.mobile);
    c.post("/forgot/sms", &[("action", "verify"), ("code", &code)])
        .await
        .assert_redirect("/forgot/reset");
    c.get("/forgot/reset").await.assert_ok();
    c.post(
        "/forgot/reset",
        &[("password", "weak"), ("password2", "weak")],
    )
    .await
    .assert_has("密码应为8至64个字符");
    c.post(
        "/forgot/reset",
        &[("password", "New#Pass2026"), ("password2", "New#Pass2026")],
    )
    .await
    .assert_redirect("/login?ok=reset");
    // The flow is used up.
    c.get("/forgot/reset").await.assert_redirect("/forgot");
    let u = app.client();
    u.login(&r.login, UNIT_PASSWORD)
        .await
        .assert_has("登录ID或密码错误");
    u.login(&r.login, "New#Pass2026")
        .await
        .assert_redirect("/home");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'password.reset_by_sms'")
            .await,
        1
    );
}

#[tokio::test]
async fn change_password_needs_the_old_one() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 31, "天宁区", "tianning").await;
    // Another session of the same account ends when the password changes.
    let other = app.client();
    other
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
    c.get("/account").await.assert_ok().assert_has("[修改密码]");
    c.get("/account/password").await.assert_ok();
    c.post(
        "/account/password",
        &[
            ("old_password", "Wrong#1234"),
            ("password", "New#Pass2026"),
            ("password2", "New#Pass2026"),
        ],
    )
    .await
    .assert_has("原密码不正确");
    c.post(
        "/account/password",
        &[
            ("old_password", UNIT_PASSWORD),
            ("password", "New#Pass2026"),
            ("password2", "New#Pass2026"),
        ],
    )
    .await
    .assert_redirect("/account?ok=password");
    c.get("/account?ok=password")
        .await
        .assert_ok()
        .assert_has("密码已修改");
    other.get("/home").await.assert_redirect("/login");
    app.client()
        .login(&r.login, "New#Pass2026")
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn mobile_is_rebound_with_a_code_sent_to_the_new_number() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 32, "天宁区", "tianning").await;
    c.get("/account/mobile")
        .await
        .assert_ok()
        .assert_has("[绑定]");
    let new = "15800000032";
    c.post("/account/mobile", &[("action", "send"), ("mobile", new)])
        .await
        .assert_has("验证码已发送");
    let code = app.last_code(new);
    // A stolen session cannot rebind: the account's current password is asked for.
    let p = c
        .post(
            "/account/mobile",
            &[("action", "bind"), ("mobile", new), ("code", &code)],
        )
        .await;
    p.assert_ok().assert_has("请输入当前登录密码");
    assert_eq!(p.input_value("mobile").unwrap(), new);
    c.post(
        "/account/mobile",
        &[
            ("action", "bind"),
            ("mobile", new),
            ("code", &code),
            ("password", "Wrong#pass1"),
        ],
    )
    .await
    .assert_has("原密码不正确");
    c.post(
        "/account/mobile",
        &[
            ("action", "bind"),
            ("mobile", new),
            ("code", "000001"),
            ("password", UNIT_PASSWORD),
        ],
    )
    .await
    .assert_has("验证码错误");
    c.post(
        "/account/mobile",
        &[
            ("action", "bind"),
            ("mobile", new),
            ("code", &code),
            ("password", UNIT_PASSWORD),
        ],
    )
    .await
    .assert_redirect("/account?ok=mobile");
    // The old number is told, and the unit gets a site message.
    let (to, text) = app.sms().last().unwrap().clone();
    assert_eq!(to, r.mobile);
    assert!(text.contains("158****0032"), "{text}");
    c.get("/messages")
        .await
        .assert_ok()
        .assert_has("绑定手机已修改");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'password.wrong_current'")
            .await,
        1
    );
    let stored: String = sqlx::query_scalar("SELECT mobile FROM units WHERE id = $1")
        .bind(r.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(stored, new);
    // The next code (password recovery) goes to the new number.
    let f = app.client();
    f.get("/forgot").await;
    f.post("/forgot", &[("credit_code", &r.code), ("name", &r.name)])
        .await;
    app.clock().advance(60);
    f.post("/forgot/sms", &[("action", "send")])
        .await
        .assert_has("158****0032");
    assert!(app.sms().last().unwrap().0 == new);
}

#[tokio::test]
async fn blacklisted_unit_is_refused_only_after_the_right_password() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 33, "天宁区", "tianning").await;
    sqlx::query("UPDATE units SET blacklisted = 1, blacklist_reason = '虚假材料' WHERE id = $1")
        .bind(r.unit_id)
        .execute(app.state.pool())
        .await
        .unwrap();
    // The open session ends.
    c.get("/home").await.assert_redirect("/login");
    let u = app.client();
    u.login(&r.login, "Wrong#pass99")
        .await
        .assert_has("登录ID或密码错误")
        .assert_lacks("帐号状态异常");
    let p = u.login(&r.login, UNIT_PASSWORD).await;
    p.assert_ok().assert_has("帐号状态异常");
    u.get("/home").await.assert_redirect("/login");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.refused_blacklisted'")
            .await,
        1
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_or_old_and_signing_in_replaces_the_id() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    c.get("/review").await.assert_ok();
    app.clock().advance(29 * 60);
    c.get("/review").await.assert_ok();
    app.clock().advance(31 * 60);
    c.get("/review").await.assert_redirect("/login");
    // Absolute limit: active every 20 minutes for 11h40m, still out after 12 hours.
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    for _ in 0..35 {
        app.clock().advance(20 * 60);
        c.get("/review").await.assert_ok();
    }
    app.clock().advance(21 * 60);
    c.get("/review").await.assert_redirect("/login");
    // Signing in again replaces the session; only one row remains for this sign-in.
    c.login("city", DEMO_PASSWORD).await;
    let before = app.scalar("SELECT COUNT(*) FROM sessions").await;
    c.login("city", DEMO_PASSWORD).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sessions").await, before);
    // 注销 returns to the login page and ends the session.
    c.get("/review").await.assert_ok();
    c.post("/logout", &[]).await.assert_redirect("/login");
    c.get("/review").await.assert_redirect("/login");
}

#[tokio::test]
async fn session_cookie_is_httponly_and_samesite() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csrf_cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));
    let seed = csrf_cookie.split(';').next().unwrap().to_string();
    let body = page.text().await.unwrap();
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let resp = http
        .post(format!("{}/login", app.base))
        .header("cookie", seed)
        .form(&[
            ("login_id", "city"),
            ("password", DEMO_PASSWORD),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("lh_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"));
    let h = resp.headers();
    assert!(h
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let app = TestApp::spawn_with(|s| s.secure_cookies = true).await;
    let resp = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert!(resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn last_sign_in_time_and_address_are_shown() {
    let app = TestApp::spawn().await;
    let (r, _) = approved_unit(&app, 34, "天宁区", "tianning").await;
    let c = app.client();
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get("/home")
        .await
        .assert_ok()
        .assert_has("上次登录时间")
        .assert_has("127.0.0.1");
}

#[tokio::test]
async fn first_administrator_must_change_the_printed_password() {
    let app = TestApp::spawn().await;
    // The first admin's random password is printed at start; here we set a known one.
    let hash = laihua::security::hash_password("Printed#1234").unwrap();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE login_key = 'admin'")
        .bind(hash)
        .execute(app.state.pool())
        .await
        .unwrap();
    let c = app.client();
    c.login("admin", "Printed#1234")
        .await
        .assert_redirect("/home");
    c.get("/home").await.assert_redirect("/account/password");
    c.get("/admin").await.assert_redirect("/account/password");
    c.get("/account/password")
        .await
        .assert_ok()
        .assert_has("请先修改密码");
    c.post(
        "/account/password",
        &[
            ("old_password", "Printed#1234"),
            ("password", "Chief#New2026"),
            ("password2", "Chief#New2026"),
        ],
    )
    .await
    .assert_redirect("/home");
    c.visit("/home").await.assert_ok().assert_has("系统管理");
}
