//! Issue 14, holes 3, 6 and 7: bounded input at the edge and per field, framework refusals as
//! the site's Chinese error page, HSTS with secure cookies, and a sign-in that carries a stale
//! session cookie.
#![allow(clippy::unwrap_used)]

mod common;
use std::sync::Arc;

use common::*;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{CONTENT_TYPE, SET_COOKIE, STRICT_TRANSPORT_SECURITY};

/// A browser driven by hand: its cookie jar is reachable (to plant a stale cookie) and any
/// request can be sent (wrong content types, duplicate fields, broken multipart bodies).
struct Browser {
    base: String,
    jar: Arc<Jar>,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    content_type: String,
    location: String,
    hsts: Option<String>,
    body: String,
}

impl Answer {
    /// The site's error page with this status: Chinese, nothing of the framework's English.
    fn assert_error_page(&self, status: u16, chinese: &str) -> &Self {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.content_type.starts_with("text/html"),
            "{status}: content type {:?}, body {:?}",
            self.content_type,
            self.body
        );
        assert!(self.body.contains("<h1>提示</h1>"), "{}", self.body);
        assert!(self.body.contains(chinese), "{chinese:?} in {}", self.body);
        for english in [
            "Failed",
            "deserialize",
            "Invalid",
            "multipart",
            "Method",
            "Content-Type",
            "length limit",
            "Error",
            "error:",
        ] {
            assert!(!self.body.contains(english), "{english:?} in {}", self.body);
        }
        self
    }
}

fn csrf_in(body: &str) -> String {
    let needle = "name=\"csrf\" value=\"";
    let start = body.find(needle).expect("a form with a token") + needle.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].to_string()
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: app.base.clone(),
            jar,
            http,
        }
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        let h = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = h(CONTENT_TYPE).unwrap_or_default();
        let location = h(reqwest::header::LOCATION).unwrap_or_default();
        let hsts = h(STRICT_TRANSPORT_SECURITY);
        Answer {
            status: resp.status().as_u16(),
            content_type,
            location,
            hsts,
            body: resp.text().await.unwrap_or_default(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        Self::answer(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The token of the form on `path`.
    async fn csrf(&self, path: &str) -> String {
        csrf_in(&self.get(path).await.body)
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        Self::answer(
            self.http
                .post(format!("{}{path}", self.base))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts `body` as it is, with `content_type`.
    async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        Self::answer(
            self.http
                .post(format!("{}{path}", self.base))
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn login(&self, login_id: &str, password: &str) -> Answer {
        let csrf = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[
                ("login_id", login_id),
                ("password", password),
                ("csrf", &csrf),
            ],
        )
        .await
    }

    fn plant_session_cookie(&self, value: &str) {
        let url = self.base.parse().unwrap();
        self.jar
            .add_cookie_str(&format!("lh_session={value}; Path=/"), &url);
        let sent = self.jar.cookies(&url).unwrap();
        assert!(sent.to_str().unwrap().contains("lh_session="));
    }
}

// ---- hole 3: bounded input ----

/// Ten sign-ins with a 250,000-character login ID added 11 MB to the hash-chained audit log:
/// now the edge refuses them before anything reads them, and a long unknown ID under the edge's
/// bound is recorded shortened.
#[tokio::test]
async fn a_huge_login_id_is_refused_and_an_unknown_one_recorded_short() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let huge = "x".repeat(250_000);
    let csrf = b.csrf("/login").await;
    let audit_before = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let a = b
        .post_form(
            "/login",
            &[
                ("login_id", &huge),
                ("password", "whatever1A!"),
                ("csrf", &csrf),
            ],
        )
        .await;
    a.assert_error_page(400, "填写的内容过长");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM attempts").await, 0);

    // 3,000 characters pass the edge; the sign-in refuses them like any unknown ID, and what
    // is written of the ID is 64 characters long.
    let long = "y".repeat(3000);
    let c = app.client();
    let p = c.login(&long, "whatever1A!").await;
    p.assert_ok().assert_has("登录ID或密码错误");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT MAX(LENGTH(object_id)) FROM audit_log WHERE action = 'login.failed'")
            .await,
        64
    );
    assert_eq!(
        app.scalar("SELECT MAX(LENGTH(subject)) FROM attempts WHERE scope = 'sign_in'")
            .await,
        64
    );
    // A real login ID is untouched by the shortening.
    c.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
}

/// Every query parameter, form value and path is bounded before a handler sees it; a long
/// text field (a page's content) has the larger bound, so its own message still shows.
#[tokio::test]
async fn long_paths_queries_and_form_values_are_refused_at_the_edge() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let long = "长".repeat(4001);

    // A query parameter (public page, and a search behind a sign-in).
    b.get(&format!("/login?next=/{}", "a".repeat(5000)))
        .await
        .assert_error_page(414, "网址过长");
    // A path.
    b.get(&format!("/{}", "a".repeat(2000)))
        .await
        .assert_error_page(414, "网址过长");
    // A form value of an anonymous form: refused, nothing looked up.
    let csrf = b.csrf("/forgot").await;
    b.post_form(
        "/forgot",
        &[
            ("credit_code", &credit_code(1)),
            ("name", &long),
            ("csrf", &csrf),
        ],
    )
    .await
    .assert_error_page(400, "填写的内容过长");
    // A field name, too.
    b.post_form("/forgot", &[(long.as_str(), "1"), ("csrf", &csrf)])
        .await
        .assert_error_page(400, "填写的内容过长");

    // 4,000 characters pass the edge, and the field's own, smaller bound answers beside it.
    let p = b
        .post_form(
            "/forgot",
            &[
                ("credit_code", &credit_code(1)),
                ("name", &"长".repeat(4000)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("单位全称不能超过100个字符"), "{}", p.body);

    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    let q = city.get(&format!("/search?q={}", "a".repeat(4001))).await;
    assert_eq!(q.status, 414, "{}", q.body);
    assert!(q.has("网址过长"));

    // The administrator's page content is a long text: 50,001 characters reach its check.
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin.get("/admin/content/help").await.assert_ok();
    let p = admin
        .post("/admin/content/help", &[("body", &"a".repeat(50_001))])
        .await;
    p.assert_ok().assert_has("内容不能超过50000个字符");
}

/// A unit with a dispatched group of one visitor whose cancelled trip is registered and
/// submitted; the county reviewer, on its page. Returns (county, visitor id).
async fn submitted_visit(app: &TestApp) -> (Client, i64) {
    let (r, c) = approved_unit(app, 81, "天宁区", "tianning").await;
    let id = dispatched_group(app, &c, 1, "tianning").await;
    let v = visitor_ids(app, id).await[0];
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get(&format!("/visits/{v}")).await.assert_ok();
    c.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    c.get(&format!("/visits/{v}")).await;
    c.upload(
        &format!("/visits/{v}/upload/statement"),
        "说明.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    c.get(&format!("/visits/{v}")).await;
    c.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits");
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/visits/{v}")).await.assert_ok();
    (county, v)
}

/// Hole 6: the reason of a post-visit registration's return had no bound.
#[tokio::test]
async fn the_post_visit_return_reason_is_bounded() {
    let app = TestApp::spawn().await;
    let (county, v) = submitted_visit(&app).await;
    let reason = "请补充".repeat(667); // 2,001 characters
    let p = county
        .act(
            &format!("/review/visits/{v}/return"),
            &[("reason", &reason)],
        )
        .await;
    p.assert_ok()
        .assert_has("退回原因不能超过2000个字符")
        .assert_has(&reason);
    let state: String = sqlx::query_scalar("SELECT state FROM visit_records WHERE visitor_id = $1")
        .bind(v)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "pending_county");
    // 2,000 characters are accepted.
    county
        .act(
            &format!("/review/visits/{v}/return"),
            &[("reason", &reason[..reason.len() - "请".len()])],
        )
        .await
        .assert_redirect("/review/visits");
}

/// The optional comment of a registration's approval went to the audit log unbounded.
#[tokio::test]
async fn a_review_comment_is_bounded() {
    let app = TestApp::spawn().await;
    let (r, _c, county) = submitted_unit(&app, 82, "天宁区", "tianning").await;
    let comment = "a".repeat(2001);
    let p = county
        .act(
            &format!("/review/units/{}/approve", r.unit_id),
            &[("comment", &comment)],
        )
        .await;
    p.assert_ok()
        .assert_has("审核意见不能超过2000个字符")
        .assert_has(&comment);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM units WHERE id = {} AND state = 'pending_county'",
            r.unit_id
        ))
        .await,
        1
    );
    county
        .act(
            &format!("/review/units/{}/approve", r.unit_id),
            &[("comment", &comment[1..])],
        )
        .await
        .assert_redirect("/review");
}

/// Search terms, the office telephone and the holiday list have bounds of their own, told
/// beside the field (or above the results) with what was typed kept.
#[tokio::test]
async fn search_terms_and_settings_are_bounded() {
    let app = TestApp::spawn().await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let q = "常".repeat(101);
    let enc = |s: &str| laihua::web::ctx::urlencode(s);

    let p = admin.get(&format!("/admin/units?q={}", enc(&q))).await;
    p.assert_ok().assert_has("查询内容不能超过100个字符");
    assert_eq!(p.input_value("q").unwrap(), q);
    let (status, _, _) = admin
        .get_bytes(&format!("/admin/units?q={}&format=xlsx", enc(&q)))
        .await;
    assert_eq!(status, 400);

    let p = admin.get(&format!("/admin/audit?actor={}", enc(&q))).await;
    p.assert_ok().assert_has("操作人不能超过100个字符");
    assert_eq!(p.input_value("actor").unwrap(), q);
    let p = admin
        .get(&format!("/admin/audit?object_id={}", enc(&q)))
        .await;
    p.assert_ok().assert_has("对象编号不能超过100个字符");
    let exports_before = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'export'")
        .await;
    admin
        .get_bytes(&format!("/admin/audit?actor={}&format=xlsx", enc(&q)))
        .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'export'")
            .await,
        exports_before
    );

    let p = admin
        .get(&format!("/admin/refdata/countries?q={}", enc(&q)))
        .await;
    p.assert_ok().assert_has("查找内容不能超过100个字符");

    // Settings: a telephone of spaces between seven digits, and more holidays than years hold.
    admin.get("/admin/settings").await.assert_ok();
    let mut form = [
        ("city_name", "常州".to_string()),
        ("office_name", "常州市人民政府外事办公室".to_string()),
        ("system_name", "常州市邀请外国人来华管理系统".to_string()),
        ("office_phone", format!("0519{}856800", " ".repeat(40))),
        ("processing_days", "5".to_string()),
        ("overdue_days", "30".to_string()),
        ("overdue_warn_days", "7".to_string()),
        ("holidays", "2026-10-01".to_string()),
    ];
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin
        .post("/admin/settings", &refs)
        .await
        .assert_ok()
        .assert_has("市外办联系电话不能超过30个字符");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    form[3].1 = "0519-85680000".into();
    form[7].1 = (0..1001)
        .map(|i| (start + chrono::Duration::days(i)).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin
        .post("/admin/settings", &refs)
        .await
        .assert_ok()
        .assert_has("法定节假日最多填写1000个日期");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'settings.update'")
            .await,
        0
    );

    // A unit's history search.
    let (_, unit) = approved_unit(&app, 83, "天宁区", "tianning").await;
    let p = unit.get(&format!("/history?q={}", enc(&q))).await;
    p.assert_ok().assert_has("关键词不能超过100个字符");
    assert_eq!(p.input_value("q").unwrap(), q);
}

// ---- hole 7: framework refusals, HSTS, the stale cookie ----

/// Each kind of refusal the framework writes by itself, probed: the site's Chinese error page
/// with the right status.
#[tokio::test]
async fn framework_refusals_are_the_chinese_error_page() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);

    // Unknown route; wrong method.
    b.get("/no-such-page")
        .await
        .assert_error_page(404, "页面不存在");
    let a = b.get("/logout").await;
    a.assert_error_page(405, "不支持该访问方式");
    // A path parameter that is not a number.
    b.get("/templates/abc")
        .await
        .assert_error_page(400, "参数有误");

    // A form the handler cannot read: a field twice.
    let csrf = b.csrf("/login").await;
    b.post_form(
        "/login",
        &[
            ("login_id", "a"),
            ("login_id", "b"),
            ("password", "x"),
            ("csrf", &csrf),
        ],
    )
    .await
    .assert_error_page(422, "表单内容有误");
    // A form body too large.
    b.post_form(
        "/login",
        &[("csrf", csrf.as_str()), ("pad", &"a".repeat(300 * 1024))],
    )
    .await
    .assert_error_page(413, "提交的内容过大");
    // An ordinary form sent as multipart (its token in the query, as uploads carry it).
    let form = reqwest::multipart::Form::new().text("login_id", "city");
    let a = Browser::answer(
        b.http
            .post(format!("{}/login?csrf={csrf}", b.base))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    a.assert_error_page(415, "格式不正确");

    // Signed in as an administrator: a query it cannot read.
    b.login("demoadmin", DEMO_PASSWORD).await;
    b.get("/admin/units?page=abc")
        .await
        .assert_error_page(400, "参数有误");
    b.get("/admin/audit?page=1.5")
        .await
        .assert_error_page(400, "参数有误");

    // Uploads: not multipart at all; a broken multipart body; a file over the body limit; a
    // form without its file field (the form's own message).
    let csrf = b.csrf("/admin/templates").await;
    let type_id = app.scalar("SELECT MIN(id) FROM attachment_types").await;
    let upload = format!("/admin/templates/{type_id}?csrf={csrf}");
    b.post_raw(
        &upload,
        "application/x-www-form-urlencoded",
        format!("csrf={csrf}").into_bytes(),
    )
    .await
    .assert_error_page(400, "请求的网址或参数有误");
    b.post_raw(
        &upload,
        "multipart/form-data; boundary=XYZ",
        b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 trunc"
            .to_vec(),
    )
    .await
    .assert_error_page(400, "上传失败");
    let mut big = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n".to_vec();
    big.resize(big.len() + 17 * 1024 * 1024, b' ');
    big.extend_from_slice(b"\r\n--XYZ--\r\n");
    b.post_raw(&upload, "multipart/form-data; boundary=XYZ", big)
        .await
        .assert_error_page(413, "文件过大");
    let form = reqwest::multipart::Form::new().part(
        "other",
        reqwest::multipart::Part::bytes(pdf("x")).file_name("a.pdf"),
    );
    let a = Browser::answer(
        b.http
            .post(format!("{}{upload}", b.base))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("请选择要上传的文件"), "{}", a.body);
}

/// With `--secure-cookies` every answer (a page, a redirect, a refusal of the edge, the
/// framework's and the site's error pages) tells browsers to use HTTPS only; without, none does.
#[tokio::test]
async fn hsts_is_sent_with_secure_cookies_only() {
    let secure = TestApp::spawn_with(|s| s.secure_cookies = true).await;
    let b = Browser::new(&secure);
    for path in [
        "/login".to_string(),
        "/".to_string(),
        "/home".to_string(),
        "/no-such-page".to_string(),
        "/static/app.css".to_string(),
        format!("/{}", "a".repeat(2000)),
        "/templates/abc".to_string(),
    ] {
        let a = b.get(&path).await;
        assert_eq!(
            a.hsts.as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{path} {}",
            a.status
        );
    }
    let a = b.post_form("/logout", &[]).await;
    assert_eq!(a.status, 403);
    assert!(a.hsts.is_some());

    let plain = TestApp::spawn().await;
    let b = Browser::new(&plain);
    for path in ["/login", "/", "/no-such-page", "/templates/abc"] {
        assert_eq!(b.get(path).await.hsts, None, "{path}");
    }
}

/// A sign-in from a browser that still carries an expired or unknown session cookie set the
/// new session cookie and then cleared it in the same answer: the user stayed signed out.
#[tokio::test]
async fn a_sign_in_with_a_stale_session_cookie_stays_signed_in() {
    let app = TestApp::spawn().await;
    let b = Browser::new(&app);
    let csrf = b.csrf("/login").await;
    b.plant_session_cookie("stale0000000000000000000000000000000000");
    let a = b
        .post_form(
            "/login",
            &[
                ("login_id", "city"),
                ("password", DEMO_PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location, "/home");
    let home = b.get("/home").await;
    assert_eq!(home.location, "/review", "signed in: the reviewer's home");
    b.get("/review").await;
    let page = b.get("/review").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("action=\"/logout\""), "{}", page.body);

    // A stale cookie on any other page is still cleared.
    let other = Browser::new(&app);
    other.plant_session_cookie("stale1111111111111111111111111111111111");
    let resp = other
        .http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let cleared = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("lh_session=;"));
    assert!(cleared);
}
