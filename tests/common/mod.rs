//! Test harness: starts the real server on port 0 with its own data folder and database
//! (SQLite, or a fresh PostgreSQL database when LAIHUA_TEST_POSTGRES_URL is set), and drives it
//! over HTTP like a browser: cookies kept, CSRF tokens read from the pages, SMS codes read from
//! the outbox file.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use laihua::app::Application;
use laihua::clock::Clock;
use laihua::config::{Common, Config, FilesArgs, ServeArgs};
use laihua::state::AppState;
use reqwest::cookie::Jar;
use reqwest::multipart;

pub const DEMO_PASSWORD: &str = laihua::seed::DEMO_PASSWORD;
pub const UNIT_PASSWORD: &str = "Unit#2026pass";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub data_dir: PathBuf,
    pub database_url: String,
    _tmp: Option<tempdir::TempDir>,
}

/// A valid, unique unified social credit code.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91320400{:09}", n);
    let c = laihua::domain::credit_code::check_char(&first17).unwrap();
    format!("{first17}{c}")
}

pub mod tempdir {
    use std::path::{Path, PathBuf};
    pub struct TempDir(PathBuf);
    impl TempDir {
        pub fn new() -> TempDir {
            let p = std::env::temp_dir().join(format!(
                "laihua-test-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("LAIHUA_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("laihua_test_{}", rand::random::<u64>());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .expect("connect to LAIHUA_TEST_POSTGRES_URL");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display()),
    }
}

/// The serving options of every test server.
fn serve_args() -> ServeArgs {
    ServeArgs {
        bind: "127.0.0.1:0".into(),
        demo: true,
        sms_provider: laihua::config::SmsProvider::Outbox,
        session_idle_minutes: 30,
        session_max_hours: 12,
        sms_per_ip_hour: 1000,
        // Tests run the overdue and SMS jobs themselves, with a clock they move.
        overdue_job_seconds: 86_400,
        sms_job_seconds: 86_400,
        aliyun_region: "cn-hangzhou".into(),
        // The production defaults (the derived Default has 0: no limit).
        header_timeout_secs: 30,
        body_timeout_secs: 120,
        max_uploads: 8,
        db_timeout_secs: 5,
        orphan_file_age_secs: 3600,
        api_per_minute: 120,
        ..ServeArgs::default()
    }
}

impl TestApp {
    /// A server with the demo accounts, whose administrators may sign in with their password
    /// alone: the one setting changed from what ships (second factor mandatory for
    /// administrators), so that the tests of everything else sign in as `demoadmin` in one
    /// step. tests/second_factor.rs tests the second factor with [`TestApp::spawn_as_shipped`].
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// [`TestApp::spawn`] with changed serving options.
    pub async fn spawn_with(tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        let app = Self::spawn_shipped_with(tweak).await;
        app.set_second_factor_roles("").await;
        app
    }

    /// A server with the settings as they ship: administrators must have a second factor.
    pub async fn spawn_as_shipped() -> TestApp {
        Self::spawn_shipped_with(|_| {}).await
    }

    /// Which roles must have a second factor (the setting, as the settings page stores it).
    pub async fn set_second_factor_roles(&self, roles: &str) {
        sqlx::query("UPDATE settings SET value = $1 WHERE key = $2")
            .bind(roles)
            .bind(laihua::domain::settings::Setting::SecondFactorRoles.key())
            .execute(self.state.pool())
            .await
            .unwrap();
    }

    /// [`TestApp::spawn`] on SQLite whatever LAIHUA_TEST_POSTGRES_URL says (tests that move
    /// data from the embedded database to PostgreSQL).
    pub async fn spawn_sqlite() -> TestApp {
        let app = Self::spawn_on(FilesArgs::default(), |_| {}, true).await;
        app.set_second_factor_roles("").await;
        app
    }

    async fn spawn_shipped_with(tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        Self::spawn_on(FilesArgs::default(), tweak, false).await
    }

    /// [`TestApp::spawn_with`] with its files kept where `files` says (e.g. in a bucket).
    pub async fn spawn_with_files(files: FilesArgs, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        Self::spawn_on(files, tweak, false).await
    }

    async fn spawn_on(
        files: FilesArgs,
        tweak: impl FnOnce(&mut ServeArgs),
        sqlite: bool,
    ) -> TestApp {
        let tmp = tempdir::TempDir::new();
        let data_dir = tmp.path().to_path_buf();
        let mut serve = serve_args();
        tweak(&mut serve);
        let url = if sqlite {
            format!("sqlite://{}?mode=rwc", data_dir.join("laihua.db").display())
        } else {
            database_url(&data_dir).await
        };
        let mut app = Self::start(serve, data_dir, url, files, Clock::default()).await;
        app._tmp = Some(tmp);
        app
    }

    async fn start(
        serve: ServeArgs,
        data_dir: PathBuf,
        url: String,
        files: FilesArgs,
        clock: Clock,
    ) -> TestApp {
        let common = Common {
            data_dir: data_dir.clone(),
            data_key_file: None,
            database_url: Some(url.clone()),
            files,
        };
        let config = Config::new(&common, serve);
        let app = Application::build(config, clock).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port);
        let state = app.state.clone();
        // No signal handler in the test process: a SIGTERM to `cargo test` must end it.
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            base,
            state,
            data_dir,
            database_url: url,
            _tmp: None,
        }
    }

    /// A server on a data folder and database the caller made (and removes): a disk the test
    /// mounted, a database in a tablespace of its own. With `database_url` `None`, SQLite in
    /// the folder.
    pub async fn spawn_in(
        data_dir: PathBuf,
        database_url: Option<String>,
        tweak: impl FnOnce(&mut ServeArgs),
    ) -> TestApp {
        let mut serve = serve_args();
        tweak(&mut serve);
        let url = database_url.unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("laihua.db").display())
        });
        let app = Self::start(serve, data_dir, url, FilesArgs::default(), Clock::default()).await;
        app.set_second_factor_roles("").await;
        app
    }

    /// A second server instance on the same database and data folder, sharing this one's clock.
    pub async fn spawn_peer(&self) -> TestApp {
        let serve = ServeArgs {
            bind: "127.0.0.1:0".into(),
            ..self.state.config.serve.clone()
        };
        Self::start(
            serve,
            self.data_dir.clone(),
            self.database_url.clone(),
            self.state.config.files.clone(),
            self.state.clock.clone(),
        )
        .await
    }

    /// A second server instance on the same database with its own data folder (another
    /// machine), its files where this one's are, sharing this one's clock.
    pub async fn spawn_peer_elsewhere(&self, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        let tmp = tempdir::TempDir::new();
        let mut serve = ServeArgs {
            bind: "127.0.0.1:0".into(),
            ..self.state.config.serve.clone()
        };
        tweak(&mut serve);
        // The other machine was given a copy of the key file, as an installation must be.
        let keys = laihua::keys::Keys::default_path(tmp.path());
        std::fs::create_dir_all(keys.parent().unwrap()).unwrap();
        std::fs::copy(&self.state.config.data_key_file, &keys).unwrap();
        let mut peer = Self::start(
            serve,
            tmp.path().to_path_buf(),
            self.database_url.clone(),
            self.state.config.files.clone(),
            self.state.clock.clone(),
        )
        .await;
        peer._tmp = Some(tmp);
        peer
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Every SMS sent so far: (to, text).
    pub fn sms(&self) -> Vec<(String, String)> {
        let path = self.data_dir.join("sms-outbox.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert!(v["at"].as_str().unwrap().contains('T'));
                (
                    v["to"].as_str().unwrap().to_string(),
                    v["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The newest verification code sent to `mobile`.
    pub fn last_code(&self, mobile: &str) -> String {
        let msgs = self.sms();
        let text = msgs
            .iter()
            .rev()
            .find(|(to, t)| to == mobile && t.contains("验证码"))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("no code sent to {mobile}: {msgs:?}"));
        let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
        text[start..start + 6].to_string()
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.state.pool())
            .await
            .unwrap()
    }

    pub async fn district_id(&self, name: &str) -> i64 {
        laihua::store::reference::district_by_name(self.state.pool(), name)
            .await
            .unwrap()
            .unwrap()
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests follow them to check
/// where they go), remembers the CSRF token of the last page.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    csrf: Arc<Mutex<String>>,
    jar: Arc<Jar>,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Page {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }
    pub fn assert_redirect(&self, to: &str) -> &Self {
        assert!(
            (300..400).contains(&self.status) && self.location.starts_with(to),
            "expected redirect to {to}, got {} {} {}",
            self.status,
            self.location,
            self.body
        );
        self
    }
    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
    pub fn assert_has(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "expected {text:?} in page:\n{}",
            self.body
        );
        self
    }
    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.body.contains(text),
            "did not expect {text:?} in page:\n{}",
            self.body
        );
        self
    }
    /// The value of the input named `name` as rendered (to check typed values are kept).
    pub fn input_value(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\"");
        let start = self.body.find(&needle)? + needle.len();
        let tag_end = self.body[start..].find('>')? + start;
        let tag = &self.body[start..tag_end];
        let v = tag.find("value=\"")? + "value=\"".len();
        let end = tag[v..].find('"')? + v;
        Some(tag[v..end].to_string())
    }
}

fn csrf_in(body: &str) -> Option<String> {
    let needle = "name=\"csrf\" value=\"";
    let start = body.find(needle)? + needle.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_string())
}

impl Client {
    pub fn new(base: &str) -> Client {
        Self::build(base, reqwest::header::HeaderMap::new())
    }

    /// A client behind a reverse proxy that says it comes from `ip` (X-Real-IP; the server
    /// must trust the proxy).
    pub fn from_address(base: &str, ip: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-real-ip", ip.parse().unwrap());
        Self::build(base, headers)
    }

    fn build(base: &str, headers: reqwest::header::HeaderMap) -> Client {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            base: base.to_string(),
            http,
            csrf: Arc::new(Mutex::new(String::new())),
            jar,
        }
    }

    /// The `Cookie` header this browser sends to the server (for requests written by hand).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .unwrap_or_default()
    }

    async fn page(&self, resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.text().await.unwrap_or_default();
        if let Some(t) = csrf_in(&body) {
            *self.csrf.lock().unwrap() = t;
        }
        Page {
            status,
            location,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.bytes().await.unwrap().to_vec())
    }

    /// GET, following redirects within the site.
    pub async fn visit(&self, path: &str) -> Page {
        let mut page = self.get(path).await;
        for _ in 0..10 {
            if !(300..400).contains(&page.status) {
                break;
            }
            page = self.get(&page.location.clone()).await;
        }
        page
    }

    /// The same browser (cookies, token) talking to another server instance.
    pub fn at(&self, base: &str) -> Client {
        Client {
            base: base.to_string(),
            http: self.http.clone(),
            csrf: self.csrf.clone(),
            jar: self.jar.clone(),
        }
    }

    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone()
    }

    /// Posts a form with the CSRF token of the last page.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, String)> =
            fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        all.push(("csrf", self.csrf()));
        self.post_raw(path, &all).await
    }

    /// Posts an irreversible action with its confirmation (`confirm=1`, as the 【确认…】 button
    /// of the confirmation page does).
    pub async fn act(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("confirm", "1"));
        self.post(path, &all).await
    }

    /// Posts as the page's script does (X-Requested-With: fetch), with the CSRF token.
    pub async fn post_fetch(&self, path: &str) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-requested-with", "fetch")
            .form(&[("csrf", self.csrf())])
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    /// Posts an irreversible action as the page's script does once the user said yes in its
    /// own dialog (X-Requested-With: fetch, `confirm=1`).
    pub async fn act_fetch(&self, path: &str) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-requested-with", "fetch")
            .form(&[("csrf", self.csrf().as_str()), ("confirm", "1")])
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, String)]) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    /// Uploads a file as a browser's multipart form would (token in the action's query).
    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let part = multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = multipart::Form::new().part("file", part);
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = self
            .http
            .post(format!("{}{path}{sep}csrf={}", self.base, self.csrf()))
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    /// Sends several file inputs in one multipart form, as a form with a file input per slot
    /// does (field: the input's name; an empty file name and content: an input left empty).
    /// `json`: as the upload script does (Accept: application/json).
    pub async fn upload_files(
        &self,
        path: &str,
        files: &[(&str, &str, Vec<u8>)],
        json: bool,
    ) -> Page {
        self.send_multipart(path, &[], files, json).await
    }

    /// Posts a multipart form of text fields and file inputs (token in the action's query), as
    /// a form that takes files with its 【保存】 does.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        self.send_multipart(path, fields, files, false).await
    }

    /// A multipart form of text fields and file inputs to `path` (token in its query);
    /// `json`: Accept: application/json.
    async fn send_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
        json: bool,
    ) -> Page {
        let mut form = multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        for (field, name, bytes) in files {
            let part = multipart::Part::bytes(bytes.clone()).file_name(name.to_string());
            form = form.part(field.to_string(), part);
        }
        let mut req = self
            .http
            .post(format!("{}{path}?csrf={}", self.base, self.csrf()))
            .multipart(form);
        if json {
            req = req.header("accept", "application/json");
        }
        self.page(req.send().await.unwrap()).await
    }

    /// Uploads a file with the form's confirmation checkbox ticked (【发件】).
    pub async fn upload_confirmed(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Page {
        let part = multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = multipart::Form::new()
            .part("file", part)
            .text("confirm", "1");
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = self
            .http
            .post(format!("{}{path}{sep}csrf={}", self.base, self.csrf()))
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.page(resp).await
    }

    /// Signs in like a browser: the login form, then (on success) the page it leads to, whose
    /// CSRF token is new. Returns the login answer.
    pub async fn login(&self, login_id: &str, password: &str) -> Page {
        self.get("/login").await;
        let page = self
            .post("/login", &[("login_id", login_id), ("password", password)])
            .await;
        if (300..400).contains(&page.status) {
            self.visit(&page.location.clone()).await;
        }
        page
    }
}

/// A small valid PDF.
pub fn pdf(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {label}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").into_bytes()
}

pub struct Registered {
    pub unit_id: i64,
    pub login: String,
    pub mobile: String,
    pub name: String,
    pub code: String,
}

/// Organisation fields for the wizard.
pub fn org_fields(name: &str, code: &str, district_id: i64) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("english_name", "Changzhou Test Co., Ltd.".into()),
        ("credit_code", code.to_string()),
        ("district_id", district_id.to_string()),
        ("address", "常州市天宁区测试路1号".into()),
        ("unit_type", "企业".into()),
        ("legal_rep", "张三".into()),
        ("contact_name", "李四".into()),
        ("landline", "0519-85680000".into()),
        ("email", "test@example.com".into()),
    ]
}

pub fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Walks the wizard to a created (draft) account: notice, mobile, organisation, account.
pub async fn create_account(app: &TestApp, c: &Client, n: u32, district: &str) -> Registered {
    let mobile = format!("139{:08}", 10_000_000 + n);
    let name = format!("常州测试单位{n}有限公司");
    let code = credit_code(n);
    let login = format!("unit{n}");
    c.get("/register")
        .await
        .assert_ok()
        .assert_has("我已阅读以上须知");
    app.clock().advance(11);
    c.post("/register", &[])
        .await
        .assert_redirect("/register/mobile");
    c.get("/register/mobile").await.assert_ok();
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", &mobile)],
    )
    .await
    .assert_ok()
    .assert_has("验证码已发送");
    let sms = app.last_code(&mobile);
    c.post(
        "/register/mobile",
        &[("action", "verify"), ("mobile", &mobile), ("code", &sms)],
    )
    .await
    .assert_redirect("/register/org");
    c.get("/register/org").await.assert_ok();
    let district_id = app.district_id(district).await;
    let fields = org_fields(&name, &code, district_id);
    c.post("/register/org", &as_refs(&fields))
        .await
        .assert_redirect("/register/account");
    c.get("/register/account").await.assert_ok();
    c.post(
        "/register/account",
        &[
            ("login_id", &login),
            ("password", UNIT_PASSWORD),
            ("password2", UNIT_PASSWORD),
        ],
    )
    .await
    .assert_redirect("/registration/attachments");
    let unit_id: i64 = sqlx::query_scalar("SELECT id FROM units WHERE credit_code = $1")
        .bind(code.as_str())
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    Registered {
        unit_id,
        login,
        mobile,
        name,
        code,
    }
}

/// Attachment type ids of the registration, (id, required).
pub async fn unit_types(app: &TestApp) -> Vec<(i64, bool)> {
    laihua::store::reference::attachment_types(app.state.pool(), "unit")
        .await
        .unwrap()
        .iter()
        .map(|t| (t.id, t.required))
        .collect()
}

/// Uploads every required attachment and submits the registration.
pub async fn upload_and_submit(app: &TestApp, c: &Client) {
    c.get("/registration/attachments").await.assert_ok();
    upload_required_attachments(app, c).await;
    c.get("/registration/attachments").await.assert_ok();
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
}

/// Uploads a PDF into every required registration attachment slot.
pub async fn upload_required_attachments(app: &TestApp, c: &Client) {
    for (id, required) in unit_types(app).await {
        if required {
            c.upload(
                &format!("/registration/attachments/{id}"),
                "scan.pdf",
                pdf(&format!("type {id}")),
            )
            .await
            .assert_redirect("/registration/attachments");
        }
    }
}

/// A unit registered and submitted, and its county's reviewer on the registration's page:
/// (the unit, its client, the county's client).
pub async fn submitted_unit(
    app: &TestApp,
    n: u32,
    district: &str,
    district_login: &str,
) -> (Registered, Client, Client) {
    let c = app.client();
    let r = create_account(app, &c, n, district).await;
    upload_and_submit(app, &c).await;
    let county = app.client();
    county
        .login(district_login, DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    county
        .get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    (r, c, county)
}

/// A unit registered, submitted and approved by county and city.
pub async fn approved_unit(
    app: &TestApp,
    n: u32,
    district: &str,
    district_login: &str,
) -> (Registered, Client) {
    let (r, c, county) = submitted_unit(app, n, district, district_login).await;
    county
        .act(
            &format!("/review/units/{}/approve", r.unit_id),
            &[("comment", "")],
        )
        .await
        .assert_redirect("/review");
    let city = app.client();
    city.login("city", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    city.get(&format!("/review/units/{}", r.unit_id))
        .await
        .assert_ok();
    city.act(
        &format!("/review/units/{}/approve", r.unit_id),
        &[("comment", "")],
    )
    .await
    .assert_redirect("/review");
    (r, c)
}

// ---- invitation groups ----

pub async fn mission(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM missions WHERE name_zh = $1")
        .bind(name)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

pub fn date_in(app: &TestApp, days: i64) -> String {
    let today = app
        .state
        .clock
        .now()
        .with_timezone(&laihua::clock::beijing())
        .date_naive();
    (today + chrono::Duration::days(days)).to_string()
}

/// A complete group form with `n` visitors.
pub async fn group_fields(app: &TestApp, n: usize) -> Vec<(String, String)> {
    let ny = mission(app, "中国驻纽约总领事馆").await;
    let mut f: Vec<(String, String)> = vec![
        ("name".into(), "美国客户技术交流团".into()),
        ("purpose".into(), "business".into()),
        ("arrival".into(), date_in(app, 60)),
        ("departure".into(), date_in(app, 70)),
        ("places".into(), "常州、苏州".into()),
        ("cost_bearer".into(), "inviting_unit".into()),
        ("country".into(), "USA".into()),
        ("mission".into(), ny.to_string()),
        ("entry_type".into(), "single".into()),
        ("ground".into(), "".into()),
        ("contact_name".into(), "李四".into()),
        ("contact_phone".into(), "13900000000".into()),
        ("remarks".into(), "".into()),
        ("size".into(), n.max(1).to_string()),
        // The rules on personal information told to the visitors (issue 18).
        ("informed".into(), "1".into()),
        ("t0_date".into(), date_in(app, 61)),
        ("t0_city".into(), "常州".into()),
        ("t0_activity".into(), "技术交流".into()),
        ("t0_host".into(), "常州某公司".into()),
    ];
    for i in 0..n {
        let p = |k: &str| format!("v{i}_{k}");
        f.push((
            p("surname"),
            if i == 0 { "".into() } else { "SMITH".into() },
        ));
        f.push((
            p("given_name"),
            if i == 0 {
                "LISA MOHAMODE".into()
            } else {
                format!("JOHN{i}")
            },
        ));
        f.push((p("sex"), if i == 0 { "F".into() } else { "M".into() }));
        f.push((p("birth_date"), "1980-05-05".into()));
        f.push((p("nationality"), "USA".into()));
        f.push((p("passport_no"), format!("E{:07}", 1000 + i)));
        f.push((p("passport_expiry"), date_in(app, 3000)));
        f.push((p("employer"), "ACME Corp.".into()));
        f.push((p("position"), "Engineer".into()));
        f.push((p("visa_type"), "M".into()));
        f.push((p("stay_days"), "30".into()));
        f.push((p("employer_country"), "USA".into()));
        f.push((p("employer_city"), "New York".into()));
        f.push((p("employer_address"), "1 Main Street".into()));
    }
    f.push(("action".into(), "save".into()));
    f
}

pub fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

pub fn set(v: &mut [(String, String)], key: &str, value: &str) {
    for (k, x) in v.iter_mut() {
        if k == key {
            *x = value.to_string();
        }
    }
}

/// Creates a saved group; returns its id.
pub async fn saved_group(app: &TestApp, c: &Client, n: usize) -> i64 {
    c.get("/groups/form").await.assert_ok();
    let f = group_fields(app, n).await;
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    group_id_in(&p.location)
}

/// The group id in a redirect to `/groups/{id}[?…]`.
pub fn group_id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/groups/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no group id in {location:?}"))
}

pub async fn visitor_ids(app: &TestApp, group: i64) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM group_visitors WHERE group_id = $1 ORDER BY seq")
        .bind(group)
        .fetch_all(app.state.pool())
        .await
        .unwrap()
}

pub async fn upload_required(app: &TestApp, c: &Client, id: i64) {
    c.get(&format!("/groups/{id}")).await.assert_ok();
    for v in visitor_ids(app, id).await {
        c.upload(
            &format!("/groups/{id}/upload/passport-{v}"),
            "passport.pdf",
            pdf("passport"),
        )
        .await
        .assert_redirect(&format!("/groups/{id}"));
    }
    c.upload(
        &format!("/groups/{id}/upload/clerk_id"),
        "clerk.png",
        vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0],
    )
    .await
    .assert_redirect(&format!("/groups/{id}"));
}

/// 【打印】 then the stamped scan.
pub async fn print_and_scan(c: &Client, id: i64) {
    c.get(&format!("/groups/{id}")).await;
    let p = c.post(&format!("/groups/{id}/print"), &[]).await;
    assert_eq!(p.status, 200);
    c.get(&format!("/groups/{id}"))
        .await
        .assert_has("已打印当前版本");
    upload_scan(c, id).await;
}

/// Uploads the stamped scan of group `id`.
pub async fn upload_scan(c: &Client, id: i64) {
    c.upload(
        &format!("/groups/{id}/upload/scan"),
        "stamped.pdf",
        pdf("stamped"),
    )
    .await
    .assert_redirect(&format!("/groups/{id}"));
}

pub async fn state_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// A group of `n` visitors driven to dispatched: saved, scanned, printed, submitted, passed by
/// the county, accepted, reported and dispatched. Returns its id.
pub async fn dispatched_group(app: &TestApp, c: &Client, n: usize, county_login: &str) -> i64 {
    let id = submitted_group(app, c, n, &[]).await;
    review_to_reported(app, id, county_login).await;
    dispatch(app, id).await;
    id
}

/// A group saved with `changes` applied to the standard form of `n` visitors, with its
/// attachments, printed, scanned and submitted to the county.
pub async fn submitted_group(app: &TestApp, c: &Client, n: usize, changes: &[(&str, &str)]) -> i64 {
    c.get("/groups/form").await.assert_ok();
    let mut f = group_fields(app, n).await;
    for (k, v) in changes {
        set(&mut f, k, v);
    }
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id: i64 = group_id_in(&p.location);
    upload_required(app, c, id).await;
    if changes
        .iter()
        .any(|(k, v)| *k == "entry_type" && *v != "single")
    {
        c.upload(
            &format!("/groups/{id}/upload/multi_entry_proof"),
            "proof.pdf",
            pdf("proof"),
        )
        .await
        .assert_redirect(&format!("/groups/{id}"));
    }
    print_and_scan(c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    assert_eq!(state_of(app, id).await, "pending_county");
    id
}

/// County approval, acceptance and the report to the Ministry.
pub async fn review_to_reported(app: &TestApp, id: i64, county_login: &str) {
    let county = app.client();
    county.login(county_login, DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}")).await;
    city.act(&format!("/review/groups/{id}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{id}"));
    city.act(
        &format!("/review/groups/{id}/report"),
        &[("verification_no", "HW3255020200727800043")],
    )
    .await
    .assert_redirect(&format!("/review/groups/{id}"));
}

pub async fn dispatch(app: &TestApp, id: i64) {
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}")).await;
    city.upload_confirmed(
        &format!("/review/groups/{id}/dispatch"),
        "letter.pdf",
        pdf("letter"),
    )
    .await
    .assert_redirect(&format!("/review/groups/{id}"));
    assert_eq!(state_of(app, id).await, "dispatched");
}

// ---- Excel exports ----

/// Every sheet of an .xlsx file opened with calamine: (name, rows of cell texts, header first).
pub fn xlsx_sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a valid .xlsx");
    let names = book.sheet_names().to_owned();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("sheet");
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::String(s) => s.clone(),
                            Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// Downloads an export and opens it; asserts the content type.
pub async fn export(c: &Client, path: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let (status, ctype, bytes) = c.get_bytes(path).await;
    assert_eq!(status, 200, "{path}");
    assert_eq!(
        ctype, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "{path}"
    );
    xlsx_sheets(&bytes)
}

// ---- passports' machine-readable zones ----

/// The ICAO check digit (weights 7, 3, 1; letters A=10…Z=35; `<` = 0), written here again so
/// that the test does not lean on the code it tests.
pub fn digit(field: &str) -> char {
    let sum: u32 = field
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => 0,
            };
            v * [7, 3, 1][i % 3]
        })
        .sum();
    char::from_digit(sum % 10, 10).unwrap()
}

/// A TD3 zone (two lines of 44) with its check digits.
pub fn zone(state: &str, name: &str, number: &str, birth: &str, sex: char, expiry: &str) -> String {
    let l1 = format!("P<{state:<<3}{name:<<39}");
    let num = format!("{number:<<9}");
    let mut l2 = format!("{num}{}", digit(&num));
    l2.push_str(&format!("{state:<<3}{birth}{}", digit(birth)));
    l2.push(sex);
    l2.push_str(&format!("{expiry}{}", digit(expiry)));
    l2.push_str("<<<<<<<<<<<<<<<");
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push(digit(&composite));
    assert_eq!((l1.len(), l2.len()), (44, 44));
    format!("{l1}\n{l2}")
}
