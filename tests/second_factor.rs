//! The second sign-in factor (issue 14, item 6): TOTP enrolment on the account page, the code
//! asked at every sign-in once enrolled, recovery codes used once, guessing limited per account
//! (also against parallel requests), mandatory per role (administrators as shipped, the
//! first-run administrator included), reset by an administrator and by `laihua staff
//! reset-2fa`, all audited. The codes are computed from the secret the page shows, with
//! totp-rs, at the server's (test) clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Page, TestApp, DEMO_PASSWORD, UNIT_PASSWORD};
use totp_rs::{Algorithm, Secret, TOTP};

/// The base32 secret shown on an enrolment page.
fn secret_in(page: &Page) -> String {
    let needle = "id=\"totp-secret\">";
    let start = page.body.find(needle).unwrap_or_else(|| {
        panic!("no secret on the page:\n{}", page.body);
    }) + needle.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].replace(' ', "")
}

/// What the QR code on an enrolment page says: its SVG (runs of dark modules, `M x y h len v1
/// h-len z`) drawn into a bitmap of 4 pixels per module and read with rqrr.
fn qr_text(page: &Page) -> String {
    let start = page.body.find("<div class=\"totp-qr\"><svg").unwrap();
    let svg = &page.body[start..start + page.body[start..].find("</svg>").unwrap()];
    let vb = svg.find("viewBox=\"0 0 ").unwrap() + "viewBox=\"0 0 ".len();
    let side: usize = svg[vb..].split(' ').next().unwrap().parse().unwrap();
    let d = svg.find(" d=\"").unwrap() + " d=\"".len();
    let path = &svg[d..d + svg[d..].find('"').unwrap()];
    let mut dark = vec![false; side * side];
    for run in path.split('z').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (x, y, len) = (nums[0], nums[1], nums[2]);
        for i in x..x + len {
            dark[y * side + i] = true;
        }
    }
    const PX: usize = 4;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side * PX, side * PX, |x, y| {
        if dark[(y / PX) * side + x / PX] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

/// The code of `secret` for the step `steps` away from the server's now.
fn code_at(app: &TestApp, secret: &str, steps: i64) -> String {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    let t = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into()).unwrap();
    let now = app.clock().now().timestamp();
    t.generate((now.div_euclid(30) + steps) as u64 * 30)
}

/// The current code of `secret` at the server's clock.
fn code(app: &TestApp, secret: &str) -> String {
    code_at(app, secret, 0)
}

/// A six-digit code that is none of the codes accepted now.
fn wrong_code(app: &TestApp, secret: &str) -> String {
    let accepted: Vec<String> = (-1..=1).map(|s| code_at(app, secret, s)).collect();
    (0..1000)
        .map(|n| format!("{:06}", 123_457 + n))
        .find(|c| !accepted.contains(c))
        .unwrap()
}

/// The recovery codes listed on the page shown once after enrolment.
fn recovery_codes_in(page: &Page) -> Vec<String> {
    page.assert_has("两步验证已启用");
    let mut out = Vec::new();
    let mut rest = page.body.as_str();
    while let Some(i) = rest.find("<li><code>") {
        rest = &rest[i + "<li><code>".len()..];
        let end = rest.find('<').unwrap();
        out.push(rest[..end].to_string());
    }
    out
}

/// Enrols the signed-in account on its account page: (secret, recovery codes). The server's
/// clock is moved on one step afterwards, so that the next code is a new one.
async fn enrol_on_account_page(app: &TestApp, c: &Client) -> (String, Vec<String>) {
    c.get("/account/2fa").await.assert_ok().assert_has("未启用");
    c.post("/account/2fa", &[("action", "start")])
        .await
        .assert_redirect("/account/2fa");
    let page = c.get("/account/2fa").await;
    page.assert_ok().assert_has("<svg").assert_has("确认启用");
    let secret = secret_in(&page);
    let done = c
        .post(
            "/account/2fa",
            &[("action", "confirm"), ("code", &code(app, &secret))],
        )
        .await;
    done.assert_ok();
    let codes = recovery_codes_in(&done);
    app.clock().advance(30);
    (secret, codes)
}

/// Signs out from any page (a sign-in gives a new CSRF seed: a page of the session first).
async fn sign_out(c: &Client) {
    c.visit("/home").await;
    c.post("/logout", &[]).await.assert_redirect("/login");
}

/// Signs in with the password: the answer must lead to the second factor's page.
async fn password_step(c: &Client, login: &str, password: &str) -> Page {
    c.get("/login").await;
    let p = c
        .post("/login", &[("login_id", login), ("password", password)])
        .await;
    p.assert_redirect("/login/2fa");
    c.get(&p.location).await
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE login_key = $1")
        .bind(login)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn sessions_of(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login_key = $1",
    )
    .bind(login)
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

async fn audit_count(app: &TestApp, action: &str, object_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_type = 'user' AND object_id = $2",
    )
    .bind(action)
    .bind(object_id.to_string())
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

async fn audit_details(app: &TestApp, action: &str, object_id: i64) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT actor, detail FROM audit_log WHERE action = $1 AND object_type = 'user'
         AND object_id = $2 ORDER BY id",
    )
    .bind(action)
    .bind(object_id.to_string())
    .fetch_all(app.state.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_staff_member_enrols_on_the_account_page_and_then_signs_in_with_a_computed_code() {
    let app = TestApp::spawn_as_shipped().await;
    let city = app.client();
    // Not mandatory for the city office: the password alone signs in.
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    city.get("/account")
        .await
        .assert_ok()
        .assert_has("两步验证")
        .assert_has("未启用");
    city.post("/account/2fa", &[("action", "start")])
        .await
        .assert_redirect("/account/2fa");
    let page = city.get("/account/2fa").await;
    let secret = secret_in(&page);
    // The QR code is inline SVG carrying the otpauth URL of this secret, labelled with the
    // office and the login ID.
    let url = qr_text(&page);
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(url.contains(&format!("secret={secret}")), "{url}");
    assert!(url.contains(":city?"), "{url}");
    assert!(
        url.contains("issuer=%E5%B8%B8%E5%B7%9E%E5%B8%82%E5%A4%96%E5%8A%9E"),
        "常州市外办: {url}"
    );
    assert!(secret.len() >= 32, "160-bit secret: {secret}");

    // A wrong code enrols nothing; the secret stays the same.
    let wrong = city
        .post(
            "/account/2fa",
            &[("action", "confirm"), ("code", &wrong_code(&app, &secret))],
        )
        .await;
    wrong.assert_ok().assert_has("验证码不正确");
    assert_eq!(secret_in(&wrong), secret);
    let id = user_id(&app, "city").await;
    assert_eq!(audit_count(&app, "second_factor.enrol", id).await, 0);

    let used = code(&app, &secret);
    let done = city
        .post("/account/2fa", &[("action", "confirm"), ("code", &used)])
        .await;
    let codes = recovery_codes_in(&done);
    assert_eq!(codes.len(), 10);
    // Only keyed hashes of the recovery codes are stored.
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT code_hash FROM recovery_codes WHERE user_id = $1")
            .bind(id)
            .fetch_all(app.state.pool())
            .await
            .unwrap();
    assert_eq!(hashes.len(), 10);
    for c in &codes {
        let plain = c.replace('-', "");
        assert!(hashes.iter().all(|h| !h.contains(&plain)));
    }
    assert_eq!(audit_count(&app, "second_factor.enrol", id).await, 1);
    city.get("/account")
        .await
        .assert_has("已启用")
        .assert_lacks(&secret);
    city.get("/account/2fa")
        .await
        .assert_has("已启用")
        .assert_has("剩余恢复码")
        .assert_lacks("totp-secret");

    // Signed out, the password alone is no longer enough: no session until the code.
    sign_out(&city).await;
    let asked = password_step(&city, "city", DEMO_PASSWORD).await;
    asked
        .assert_ok()
        .assert_has("两步验证")
        .assert_has("动态验证码");
    assert_eq!(sessions_of(&app, "city").await, 0);
    city.get("/review").await.assert_redirect("/login");
    assert_eq!(audit_count(&app, "login.second_factor_asked", id).await, 1);

    // The code that confirmed the enrolment is not accepted a second time.
    city.post("/login/2fa", &[("code", &used)])
        .await
        .assert_ok()
        .assert_has("已使用过");
    assert_eq!(sessions_of(&app, "city").await, 0);

    // The next step's code signs in.
    app.clock().advance(30);
    city.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/home");
    city.visit("/home").await.assert_ok().assert_has("注销");
    assert_eq!(sessions_of(&app, "city").await, 1);
    let logins = audit_details(&app, "login.success", id).await;
    assert_eq!(logins.last().unwrap().1, "动态验证码");
    // The pending sign-in is over: its page sends back to the sign-in.
    city.get("/login/2fa")
        .await
        .assert_redirect("/login?ok=signin_expired");

    // A code is also accepted one step early or late (clock drift), but each step once.
    sign_out(&city).await;
    app.clock().advance(60);
    password_step(&city, "city", DEMO_PASSWORD).await;
    let late = code_at(&app, &secret, -1);
    let early = code_at(&app, &secret, 1);
    city.post("/login/2fa", &[("code", &late)])
        .await
        .assert_redirect("/home");
    sign_out(&city).await;
    password_step(&city, "city", DEMO_PASSWORD).await;
    city.post("/login/2fa", &[("code", &early)])
        .await
        .assert_redirect("/home");
    sign_out(&city).await;
    password_step(&city, "city", DEMO_PASSWORD).await;
    city.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_ok()
        .assert_has("已使用过");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_not_twice() {
    let app = TestApp::spawn_as_shipped().await;
    let c = app.client();
    c.login("tianning", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let (_, codes) = enrol_on_account_page(&app, &c).await;
    let id = user_id(&app, "tianning").await;
    sign_out(&c).await;

    password_step(&c, "tianning", DEMO_PASSWORD).await;
    c.post("/login/2fa", &[("code", &codes[0])])
        .await
        .assert_redirect("/home");
    c.visit("/home").await.assert_has("注销");
    let used = audit_details(&app, "second_factor.recovery_code_used", id).await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].1, "剩余9个恢复码");
    assert_eq!(
        audit_details(&app, "login.success", id)
            .await
            .last()
            .unwrap()
            .1,
        "恢复码"
    );
    c.get("/account/2fa").await.assert_has("9个");
    sign_out(&c).await;

    // The same code again: refused, no session.
    password_step(&c, "tianning", DEMO_PASSWORD).await;
    c.post("/login/2fa", &[("code", &codes[0])])
        .await
        .assert_ok()
        .assert_has("验证码不正确");
    assert_eq!(sessions_of(&app, "tianning").await, 0);
    assert_eq!(
        audit_count(&app, "second_factor.recovery_code_used", id).await,
        1
    );
    // Another one, typed in capitals with spaces, signs in.
    let typed = codes[1].to_uppercase().replace('-', " ");
    c.post("/login/2fa", &[("code", &typed)])
        .await
        .assert_redirect("/home");
    assert_eq!(sessions_of(&app, "tianning").await, 1);
}

#[tokio::test]
async fn guessing_codes_is_limited_per_account_even_in_one_parallel_burst() {
    let app = TestApp::spawn_as_shipped().await;
    let c = app.client();
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let (secret, _) = enrol_on_account_page(&app, &c).await;
    sign_out(&c).await;
    let id = user_id(&app, "city").await;

    // Twelve browsers, each with its own pending sign-in (the password is known), send a wrong
    // code at the same moment.
    let mut browsers = Vec::new();
    for _ in 0..12 {
        let b = app.client();
        password_step(&b, "city", DEMO_PASSWORD).await.assert_ok();
        browsers.push(b);
    }
    let wrong = wrong_code(&app, &secret);
    let mut tasks = Vec::new();
    for b in browsers {
        let typed = wrong.clone();
        tasks.push(tokio::spawn(async move {
            let p = b.post("/login/2fa", &[("code", &typed)]).await;
            (p.status, p.body)
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let limited = answers
        .iter()
        .filter(|(_, body)| body.contains("验证码错误次数过多"))
        .count();
    // Five codes were checked, the other seven refused unchecked.
    assert_eq!(audit_count(&app, "login.second_factor_failed", id).await, 5);
    assert_eq!(audit_count(&app, "login.second_factor_locked", id).await, 7);
    // The fifth wrong code's answer says so too.
    assert_eq!(limited, 8);
    assert_eq!(sessions_of(&app, "city").await, 0);

    // The right code of a new pending sign-in is now refused too.
    app.clock().advance(30);
    let b = app.client();
    password_step(&b, "city", DEMO_PASSWORD).await;
    b.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_ok()
        .assert_has("验证码错误次数过多");
    assert_eq!(sessions_of(&app, "city").await, 0);

    // Fifteen minutes later the window is over and the code signs in.
    app.clock().advance(15 * 60);
    let b = app.client();
    password_step(&b, "city", DEMO_PASSWORD).await;
    b.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn wrong_codes_one_after_another_lock_the_factor_after_five() {
    let app = TestApp::spawn_as_shipped().await;
    let c = app.client();
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let (secret, codes) = enrol_on_account_page(&app, &c).await;
    sign_out(&c).await;
    let id = user_id(&app, "city").await;
    password_step(&c, "city", DEMO_PASSWORD).await;
    let wrong = wrong_code(&app, &secret);
    for n in 1..=4 {
        c.post("/login/2fa", &[("code", &wrong)])
            .await
            .assert_ok()
            .assert_has("验证码不正确");
        assert_eq!(
            audit_details(&app, "login.second_factor_failed", id)
                .await
                .last()
                .unwrap()
                .1,
            format!("动态验证码错误，第{n}次")
        );
    }
    c.post("/login/2fa", &[("code", "abcde-fghjk")])
        .await
        .assert_has("验证码错误次数过多");
    // Signing in again with the password does not give new guesses; nor does a recovery code
    // get checked.
    password_step(&c, "city", DEMO_PASSWORD).await;
    c.post("/login/2fa", &[("code", &codes[0])])
        .await
        .assert_has("验证码错误次数过多");
    c.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_has("验证码错误次数过多");
    assert_eq!(sessions_of(&app, "city").await, 0);
    assert_eq!(audit_count(&app, "login.second_factor_failed", id).await, 5);
    assert_eq!(audit_count(&app, "login.second_factor_locked", id).await, 2);
    // Something that is no code is refused without counting.
    c.post("/login/2fa", &[("code", "12")])
        .await
        .assert_has("请输入身份验证器显示的6位动态验证码");
}

#[tokio::test]
async fn administrators_must_enrol_at_their_first_sign_in_as_shipped() {
    let app = TestApp::spawn_as_shipped().await;
    let admin = app.client();
    let page = password_step(&admin, "demoadmin", DEMO_PASSWORD).await;
    page.assert_ok()
        .assert_has("启用两步验证")
        .assert_has("须启用两步验证后才能使用系统")
        .assert_has("<svg");
    // Nothing else can be used before the enrolment: there is no session.
    assert_eq!(sessions_of(&app, "demoadmin").await, 0);
    admin.get("/admin").await.assert_redirect("/login");
    admin.get("/account/2fa").await.assert_redirect("/login");
    let page = admin.get("/login/2fa").await;
    let secret = secret_in(&page);
    admin
        .post("/login/2fa", &[("code", &wrong_code(&app, &secret))])
        .await
        .assert_ok()
        .assert_has("验证码不正确");
    assert_eq!(sessions_of(&app, "demoadmin").await, 0);
    let done = admin
        .post("/login/2fa", &[("code", &code(&app, &secret))])
        .await;
    assert_eq!(recovery_codes_in(&done).len(), 10);
    admin.get("/admin").await.assert_ok();
    let id = user_id(&app, "demoadmin").await;
    assert_eq!(audit_count(&app, "second_factor.enrol", id).await, 1);
    assert_eq!(
        audit_details(&app, "login.success", id)
            .await
            .last()
            .unwrap()
            .1,
        "启用两步验证"
    );
    // It is mandatory: the account page offers no way to turn it off, and the request is
    // refused.
    admin
        .get("/account/2fa")
        .await
        .assert_has("不能停用")
        .assert_lacks("停用两步验证</button>");
    app.clock().advance(30);
    assert_eq!(
        admin
            .post(
                "/account/2fa",
                &[("action", "disable"), ("code", &code(&app, &secret))]
            )
            .await
            .status,
        403
    );

    // Next time the code is asked, not a new enrolment.
    sign_out(&admin).await;
    app.clock().advance(30);
    password_step(&admin, "demoadmin", DEMO_PASSWORD)
        .await
        .assert_has("验证并登录")
        .assert_lacks("totp-secret");
    admin
        .post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/home");

    // The settings page makes it mandatory for county offices too.
    admin.get("/admin/settings").await.assert_ok();
    let mut form = vec![
        ("city_name", "常州市"),
        ("office_name", "常州市人民政府外事办公室"),
        ("system_name", "常州市邀请外国人来华信息系统"),
        ("office_phone", ""),
        ("processing_days", "5"),
        ("overdue_days", "30"),
        ("overdue_warn_days", "0"),
        ("holidays", ""),
        ("second_factor_admin", "1"),
    ];
    form.push(("second_factor_county", "1"));
    admin
        .post("/admin/settings", &form)
        .await
        .assert_redirect("/admin/settings?ok=saved");
    let roles: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'second_factor_roles'")
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert_eq!(roles, "county,admin");
    let settings = admin.get("/admin/settings").await;
    assert!(settings
        .body
        .contains("name=\"second_factor_county\" value=\"1\" checked"));
    assert!(!settings
        .body
        .contains("name=\"second_factor_city\" value=\"1\" checked"));
    let county = app.client();
    password_step(&county, "wujin", DEMO_PASSWORD)
        .await
        .assert_has("启用两步验证");
    let city = app.client();
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn the_first_run_administrator_enrols_then_changes_the_printed_password() {
    let app = TestApp::spawn_as_shipped().await;
    let hash = laihua::security::hash_password("Printed#1234").unwrap();
    sqlx::query("UPDATE users SET password_hash = $1 WHERE login_key = 'admin'")
        .bind(hash)
        .execute(app.state.pool())
        .await
        .unwrap();
    let c = app.client();
    let page = password_step(&c, "admin", "Printed#1234").await;
    let secret = secret_in(&page);
    let done = c
        .post("/login/2fa", &[("code", &code(&app, &secret))])
        .await;
    let codes = recovery_codes_in(&done);
    assert_eq!(codes.len(), 10);
    // Then the printed password must be changed before anything else.
    c.get("/home").await.assert_redirect("/account/password");
    c.get("/admin").await.assert_redirect("/account/password");
}

#[tokio::test]
async fn a_pending_sign_in_belongs_to_its_browser_and_expires_after_five_minutes() {
    let app = TestApp::spawn_as_shipped().await;
    let c = app.client();
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let (secret, _) = enrol_on_account_page(&app, &c).await;
    sign_out(&c).await;
    password_step(&c, "city", DEMO_PASSWORD).await;
    // Another browser, without the pending sign-in's cookie, cannot complete it.
    let other = app.client();
    other.get("/login").await;
    other
        .post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/login?ok=signin_expired");
    assert_eq!(sessions_of(&app, "city").await, 0);
    app.clock().advance(5 * 60 + 1);
    c.get("/login/2fa")
        .await
        .assert_redirect("/login?ok=signin_expired");
    c.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/login?ok=signin_expired");
    c.get("/login?ok=signin_expired")
        .await
        .assert_has("登录已超时");
    assert_eq!(sessions_of(&app, "city").await, 0);
}

#[tokio::test]
async fn a_unit_may_enable_it_too_and_turn_it_off_with_a_code() {
    let app = TestApp::spawn_as_shipped().await;
    let c = app.client();
    let r = common::create_account(&app, &c, 7, "天宁区").await;
    let (secret, _) = enrol_on_account_page(&app, &c).await;
    sign_out(&c).await;
    password_step(&c, &r.login, UNIT_PASSWORD).await;
    c.post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_redirect("/home");
    // Turning it off takes a current code.
    c.get("/account/2fa").await.assert_has("停用两步验证");
    c.post(
        "/account/2fa",
        &[("action", "disable"), ("code", &wrong_code(&app, &secret))],
    )
    .await
    .assert_ok()
    .assert_has("验证码不正确");
    app.clock().advance(30);
    c.post(
        "/account/2fa",
        &[("action", "disable"), ("code", &code(&app, &secret))],
    )
    .await
    .assert_redirect("/account/2fa?ok=2fa_disabled");
    let id = user_id(&app, &r.login).await;
    assert_eq!(audit_count(&app, "second_factor.disable", id).await, 1);
    sign_out(&c).await;
    c.login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
}

#[tokio::test]
async fn an_administrator_resets_another_staff_members_factor() {
    let app = TestApp::spawn().await;
    let city = app.client();
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    enrol_on_account_page(&app, &city).await;
    let city_id = user_id(&app, "city").await;
    let admin = app.client();
    admin
        .login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    admin
        .get(&format!("/admin/staff/{city_id}"))
        .await
        .assert_ok()
        .assert_has("已启用")
        .assert_has("重置两步验证");
    // Only an administrator may.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get("/home").await;
    assert_eq!(
        county
            .act(&format!("/admin/staff/{city_id}/reset-2fa"), &[])
            .await
            .status,
        403
    );
    // Unconfirmed (issue 17): the page says what will happen; the factor and the session stay.
    admin
        .post(&format!("/admin/staff/{city_id}/reset-2fa"), &[])
        .await
        .assert_ok()
        .assert_has("请确认：【重置两步验证】")
        .assert_has("验证器和恢复码都不能再用")
        .assert_has("【确认重置两步验证】")
        .assert_has(&format!("href=\"/admin/staff/{city_id}\""))
        .assert_lacks("两步验证已重置");
    city.get("/review").await.assert_ok();
    assert_eq!(audit_count(&app, "second_factor.reset", city_id).await, 0);
    admin
        .get(&format!("/admin/staff/{city_id}"))
        .await
        .assert_has("已启用");
    admin
        .act(&format!("/admin/staff/{city_id}/reset-2fa"), &[])
        .await
        .assert_ok()
        .assert_has("两步验证已重置");
    // The city's session ended; it signs in with its password alone (not mandatory).
    city.get("/review").await.assert_redirect("/login");
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let resets = audit_details(&app, "second_factor.reset", city_id).await;
    assert_eq!(resets.len(), 1);
    assert!(resets[0].0.contains("demoadmin"), "{resets:?}");
    // Nothing left to reset; and not one's own factor.
    admin.get(&format!("/admin/staff/{city_id}")).await;
    assert_eq!(
        admin
            .act(&format!("/admin/staff/{city_id}/reset-2fa"), &[])
            .await
            .status,
        409
    );
    let own = user_id(&app, "demoadmin").await;
    enrol_on_account_page(&app, &admin).await;
    admin
        .get(&format!("/admin/staff/{own}"))
        .await
        .assert_has("已启用")
        .assert_lacks("重置两步验证");
    assert_eq!(
        admin
            .act(&format!("/admin/staff/{own}/reset-2fa"), &[])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_command_line_resets_a_factor_and_the_administrator_enrols_again() {
    let app = TestApp::spawn_as_shipped().await;
    let admin = app.client();
    let page = password_step(&admin, "demoadmin", DEMO_PASSWORD).await;
    let secret = secret_in(&page);
    admin
        .post("/login/2fa", &[("code", &code(&app, &secret))])
        .await
        .assert_ok();
    admin.get("/admin").await.assert_ok();
    let id = user_id(&app, "demoadmin").await;

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_laihua"))
            .arg("--data-dir")
            .arg(&app.data_dir)
            .arg("--database-url")
            .arg(&app.database_url)
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
    };
    let (ok, out) = run(&["staff", "reset-2fa", "DemoAdmin"]);
    assert!(ok && out.contains("已重置两步验证"), "{out}");
    let (ok, out) = run(&["staff", "reset-2fa", "nobody"]);
    assert!(!ok && out.contains("nobody"), "{out}");
    let (ok, out) = run(&["staff", "reset-2fa", "demoadmin"]);
    assert!(ok && out.contains("没有启用"), "{out}");

    let resets = audit_details(&app, "second_factor.reset", id).await;
    assert_eq!(resets.len(), 2);
    assert_eq!(resets[0].0, "命令行");
    assert!(resets[0].1.contains("laihua staff reset-2fa"));
    // The session ended; administrators must have a factor, so the next sign-in enrols anew
    // (a new secret).
    admin.get("/admin").await.assert_redirect("/login");
    let again = password_step(&admin, "demoadmin", DEMO_PASSWORD).await;
    again.assert_has("启用两步验证");
    assert_ne!(secret_in(&again), secret);
}
