//! The permission matrix: every route of `laihua::web::router::routes()`, every method it serves,
//! for eight kinds of visitor, with the expected answer of each cell. Path parameters address the
//! objects of one approved unit of 天宁区 ("the unit"): its id, one of its attachments, one of its
//! site messages, and its pending change request.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::collections::BTreeSet;
use std::fmt;

use laihua::web::router::routes;
use laihua::web::{urlencode, Access};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Persona {
    Anonymous,
    /// A registered and submitted unit of 天宁区, not yet approved.
    PendingUnit,
    /// The approved unit of 天宁区 whose objects the paths address.
    Unit,
    /// An approved unit of 武进区 addressing the unit's objects.
    OtherUnit,
    /// County staff of 天宁区 (`tianning`).
    County,
    /// County staff of 武进区 (`wujin`).
    OtherCounty,
    City,
    Admin,
}

use Persona::*;

/// The columns of the table, in this order.
const PERSONAS: [Persona; 8] = [
    Anonymous,
    PendingUnit,
    Unit,
    OtherUnit,
    County,
    OtherCounty,
    City,
    Admin,
];
const SIGNED_IN: &[Persona] = &[
    PendingUnit,
    Unit,
    OtherUnit,
    County,
    OtherCounty,
    City,
    Admin,
];

impl Persona {
    fn label(self) -> &'static str {
        match self {
            Anonymous => "anonymous",
            PendingUnit => "pending unit",
            Unit => "the unit",
            OtherUnit => "other unit",
            County => "county (tianning)",
            OtherCounty => "county (wujin)",
            City => "city",
            Admin => "admin",
        }
    }

    /// Whether a route with this access policy lets this persona past its guard.
    fn admitted(self, access: Access) -> bool {
        match access {
            Access::Public => true,
            Access::Signed => self != Anonymous,
            Access::Unit => matches!(self, PendingUnit | Unit | OtherUnit),
            Access::Staff => matches!(self, County | OtherCounty | City),
            Access::City => self == City,
            Access::Admin => self == Admin,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Method {
    Get,
    Post,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Ok,
    /// 3xx to exactly this location, optionally followed by a query string.
    Redirect(&'static str),
    /// The guard's 3xx to the sign-in page (`/login?next=<path>` for GET, `/login` for POST).
    LoginRedirect,
    Forbidden,
    NotFound,
    Conflict,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("200"),
            Outcome::Redirect(to) => write!(f, "3xx → {to}"),
            Outcome::LoginRedirect => f.write_str("3xx → /login"),
            Outcome::Forbidden => f.write_str("403"),
            Outcome::NotFound => f.write_str("404"),
            Outcome::Conflict => f.write_str("409"),
        }
    }
}

impl Outcome {
    fn matches(self, method: Method, path: &str, page: &Page) -> bool {
        let redirect = (300..400).contains(&page.status);
        match self {
            Outcome::Ok => (200..300).contains(&page.status),
            Outcome::Redirect(to) => {
                redirect
                    && page.location.starts_with(to)
                    && matches!(page.location[to.len()..].chars().next(), None | Some('?'))
            }
            Outcome::LoginRedirect => {
                redirect
                    && match method {
                        Method::Get => page.location == format!("/login?next={}", urlencode(path)),
                        Method::Post => page.location == "/login",
                    }
            }
            Outcome::Forbidden => page.status == 403,
            Outcome::NotFound => page.status == 404,
            Outcome::Conflict => page.status == 409,
        }
    }
}

/// What a cell sends.
#[derive(Clone, Copy)]
enum Input {
    /// Only the CSRF token (POST) or nothing (GET).
    Nothing,
    /// A form, with the CSRF token added.
    Form(&'static [(&'static str, &'static str)]),
    /// A multipart upload of a file that is not a PDF (refused without storing anything).
    NotPdf,
}

struct Row {
    path: &'static str,
    method: Method,
    input: Input,
    /// Expected answer per persona, in the order of `PERSONAS`.
    expect: [Outcome; 8],
    /// Cells that change state when they succeed: run after every other cell, each with a freshly
    /// signed-in client, so that they cannot disturb the rest of the table.
    deferred: &'static [Persona],
    /// Text that every 2xx answer of the row must contain (so that a 200 is the expected page).
    marker: Option<&'static str>,
}

impl Row {
    fn deferred(mut self, personas: &'static [Persona]) -> Row {
        self.deferred = personas;
        self
    }
    fn marker(mut self, text: &'static str) -> Row {
        self.marker = Some(text);
        self
    }
}

fn get(path: &'static str, expect: [Outcome; 8]) -> Row {
    Row {
        path,
        method: Method::Get,
        input: Input::Nothing,
        expect,
        deferred: &[],
        marker: None,
    }
}

fn post(path: &'static str, input: Input, expect: [Outcome; 8]) -> Row {
    Row {
        path,
        method: Method::Post,
        input,
        expect,
        deferred: &[],
        marker: None,
    }
}

const EMPTY: Input = Input::Form(&[]);
const NO_CREDENTIALS: Input = Input::Form(&[("login_id", ""), ("password", "")]);
const WRONG_OLD_PASSWORD: Input = Input::Form(&[
    ("old_password", "Wrong#2026pass"),
    ("password", "Fresh#2026pass"),
    ("password2", "Fresh#2026pass"),
]);
const BAD_MOBILE: Input = Input::Form(&[("action", "send"), ("mobile", "123")]);
const NO_COMMENT: Input = Input::Form(&[("comment", "")]);
const WITH_REASON: Input = Input::Form(&[("reason", "请补充营业执照副本")]);
const NO_REASON: Input = Input::Form(&[("reason", "")]);

/// The expected answers. Columns: anonymous, pending unit, the unit, other unit,
/// county (tianning), county (wujin), city, admin.
///
/// Fixture state the answers rely on: the unit is approved and has a change request waiting for
/// the county (so its own registration is not editable); the pending unit waits for the county;
/// the other unit is approved with no change request (so it may edit and submit one).
#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Outcome::*;
    const HOME: Outcome = Redirect("/home");
    const LR: Outcome = LoginRedirect;
    const F: Outcome = Forbidden;
    const NF: Outcome = NotFound;
    const C: Outcome = Conflict;
    const REG: Outcome = Redirect("/registration");
    const REVIEW: Outcome = Redirect("/review");
    vec![
        //                                                           anonymous            pending  the unit  other    tianning  wujin    city     admin
        get("/",                                                    [Redirect("/login"), HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME]),
        get("/login",                                               [Ok,                 HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME]),
        post("/login", NO_CREDENTIALS,                              [Ok,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok])
            .marker("请输入登录ID和密码"),
        post("/logout", Input::Nothing,                             [Redirect("/login"); 8])
            .deferred(SIGNED_IN),
        get("/forgot",                                              [Ok; 8]),
        post("/forgot", EMPTY,                                      [Ok; 8])
            .marker("请填写单位全称"),
        get("/forgot/sms",                                          [Redirect("/forgot"); 8]),
        post("/forgot/sms", EMPTY,                                  [Redirect("/forgot"); 8]),
        get("/forgot/reset",                                        [Redirect("/forgot"); 8]),
        post("/forgot/reset", EMPTY,                                [Redirect("/forgot"); 8]),
        get("/register",                                            [Ok,                 HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME])
            .marker("我已阅读以上须知"),
        post("/register", Input::Nothing,                           [Redirect("/register"); 8]),
        get("/register/mobile",                                     [Redirect("/register"); 8]),
        post("/register/mobile", EMPTY,                             [Redirect("/register"); 8]),
        get("/register/org",                                        [Redirect("/register/mobile"); 8]),
        post("/register/org", EMPTY,                                [Redirect("/register/mobile"); 8]),
        get("/register/account",                                    [Redirect("/register/org"); 8]),
        post("/register/account", EMPTY,                            [Redirect("/register"); 8]),
        get("/templates",                                           [Ok; 8])
            .marker("模板下载"),
        get("/templates/{type_id}",                                 [Ok; 8])
            .marker("{\\rtf1"),
        get("/help",                                                [Ok; 8]),
        get("/home",                                                [LR,                 Ok,      Ok,       Ok,      REVIEW,   REVIEW,  REVIEW,  Redirect("/admin")]),
        get("/account",                                             [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok]),
        get("/account/password",                                    [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok]),
        post("/account/password", WRONG_OLD_PASSWORD,               [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok])
            .marker("原密码不正确"),
        get("/account/mobile",                                      [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        post("/account/mobile", BAD_MOBILE,                         [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F])
            .marker("请输入正确的11位手机号码"),
        get("/registration",                                        [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        get("/registration/edit",                                   [LR,                 REG,     REG,      Ok,      F,        F,       F,       F]),
        post("/registration/edit", EMPTY,                           [LR,                 C,       C,        Ok,      F,        F,       F,       F])
            .marker("请按提示修改标红的项目"),
        get("/registration/attachments",                            [LR,                 REG,     REG,      Ok,      F,        F,       F,       F]),
        post("/registration/attachments/{type_id}", Input::NotPdf,  [LR,                 C,       C,        Ok,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF"),
        // The other unit's submit creates and submits its own change request.
        post("/registration/submit", Input::Nothing,                [LR,                 C,       C,        Redirect("/registration?ok=change_submitted"),
                                                                                                                     F,        F,       F,       F])
            .deferred(&[OtherUnit]),
        get("/units/{unit_id}/files/{file_id}",                     [LR,                 NF,      Ok,       NF,      Ok,       NF,      Ok,      Ok])
            .marker("%PDF-1.4"),
        get("/messages",                                            [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        // Public so that the page's script never gets a sign-in page: 204 unless a unit has a
        // message due to pop up (then 200 with it as JSON).
        get("/messages/popup",                                      [Ok; 8]),
        get("/messages/{id}",                                       [LR,                 NF,      Ok,       NF,      F,        F,       F,       F]),
        post("/messages/{id}/read", Input::Nothing,                 [LR,                 NF,      Redirect("/messages"),
                                                                                                            NF,      F,        F,       F,       F]),
        // Deletes another of the unit's messages than the one the other message cells use.
        post("/messages/{id}/delete", Input::Nothing,               [LR,                 NF,      Redirect("/messages?ok=deleted"),
                                                                                                            NF,      F,        F,       F,       F])
            .deferred(&[Unit]),
        get("/review",                                              [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      F]),
        get("/review/units/{id}",                                   [LR,                 F,       F,        F,       Ok,       NF,      Ok,      F]),
        // The unit is approved already: nothing left to approve or return.
        post("/review/units/{id}/approve", NO_COMMENT,              [LR,                 F,       F,        F,       C,        NF,      C,       F]),
        post("/review/units/{id}/return", WITH_REASON,              [LR,                 F,       F,        F,       C,        NF,      C,       F]),
        // Without a title and body: the detail page again, with the errors.
        post("/review/units/{id}/message", EMPTY,                   [LR,                 F,       F,        F,       Ok,       NF,      Ok,      F])
            .marker("请填写消息内容"),
        // The change request waits for the county: the city does not see it until the county
        // passed it.
        get("/review/changes/{id}",                                 [LR,                 F,       F,        F,       Ok,       NF,      NF,      F]),
        post("/review/changes/{id}/approve", NO_COMMENT,            [LR,                 F,       F,        F,       Redirect("/review?ok=approved"),
                                                                                                                               NF,      NF,      F])
            .deferred(&[County]),
        // Without a reason: the detail page again with the error.
        post("/review/changes/{id}/return", NO_REASON,              [LR,                 F,       F,        F,       Ok,       NF,      NF,      F]),
        // Broadcasts are the city's alone. Without a target, title and body: the form again.
        get("/notices/new",                                         [LR,                 F,       F,        F,       F,        F,       Ok,      F]),
        post("/notices", EMPTY,                                     [LR,                 F,       F,        F,       F,        F,       Ok,      F])
            .marker("请选择发送对象"),
        get("/admin",                                               [LR,                 F,       F,        F,       F,        F,       F,       Ok]),
        get("/admin/templates",                                     [LR,                 F,       F,        F,       F,        F,       F,       Ok]),
        // Not a template file: the list again with the error, the template unchanged.
        post("/admin/templates/{type_id}", Input::NotPdf,           [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("模板须为PDF、Word、Excel或RTF文件"),
    ]
}

/// The objects the paths address, and who signs in as whom.
struct Fixture {
    unit: Registered,
    other: Registered,
    pending: Registered,
    /// One of the unit's attachments, and its bytes.
    file_id: i64,
    file_bytes: Vec<u8>,
    /// The unit's message read by the message cells, and another one that the unit deletes.
    message_id: i64,
    doomed_message_id: i64,
    /// The unit's change request, waiting for the county.
    change_id: i64,
    /// A registration attachment type.
    type_id: i64,
}

impl Fixture {
    /// The route pattern with its parameters filled in.
    fn path(&self, pattern: &str) -> String {
        fill(pattern, |name| match name {
            "unit_id" => self.unit.unit_id,
            "file_id" => self.file_id,
            "type_id" => self.type_id,
            "id" if pattern.starts_with("/messages/") && pattern.ends_with("/delete") => {
                self.doomed_message_id
            }
            "id" if pattern.starts_with("/messages/") => self.message_id,
            "id" if pattern.starts_with("/review/units/") => self.unit.unit_id,
            "id" if pattern.starts_with("/review/changes/") => self.change_id,
            _ => panic!("no fixture object for {{{name}}} in {pattern}: extend Fixture::path"),
        })
    }

    fn credentials(&self, p: Persona) -> Option<(&str, &str)> {
        match p {
            Anonymous => None,
            PendingUnit => Some((&self.pending.login, UNIT_PASSWORD)),
            Unit => Some((&self.unit.login, UNIT_PASSWORD)),
            OtherUnit => Some((&self.other.login, UNIT_PASSWORD)),
            County => Some(("tianning", DEMO_PASSWORD)),
            OtherCounty => Some(("wujin", DEMO_PASSWORD)),
            City => Some(("city", DEMO_PASSWORD)),
            Admin => Some(("demoadmin", DEMO_PASSWORD)),
        }
    }
}

/// Replaces every `{name}` of a route pattern.
fn fill(pattern: &str, value: impl Fn(&str) -> i64) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap();
        out.push_str(&rest[..start]);
        out.push_str(&value(&rest[start + 1..end]).to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A new client of this persona: signed in, or (anonymous) holding a CSRF cookie and token.
async fn client_for(app: &TestApp, fx: &Fixture, p: Persona) -> Client {
    let c = app.client();
    match fx.credentials(p) {
        None => {
            c.get("/login").await.assert_ok();
        }
        Some((login, password)) => {
            c.login(login, password).await.assert_redirect("/home");
        }
    }
    c
}

async fn send(c: &Client, method: Method, path: &str, input: Input) -> Page {
    match (method, input) {
        (Method::Get, _) => c.get(path).await,
        (Method::Post, Input::Nothing) => c.post(path, &[]).await,
        (Method::Post, Input::Form(fields)) => c.post(path, fields).await,
        (Method::Post, Input::NotPdf) => {
            c.upload(path, "scan.pdf", b"GIF89a, not a PDF".to_vec())
                .await
        }
    }
}

/// One asserted cell.
#[derive(Clone)]
struct Cell {
    route: &'static str,
    method: Method,
    persona: Persona,
    expected: Outcome,
    actual: String,
    passed: bool,
}

fn describe(page: &Page) -> String {
    if (300..400).contains(&page.status) {
        format!("{} → {}", page.status, page.location)
    } else {
        page.status.to_string()
    }
}

async fn run_cell(
    c: &Client,
    fx: &Fixture,
    row: &Row,
    persona: Persona,
    expected: Outcome,
) -> Cell {
    let path = fx.path(row.path);
    let page = send(c, row.method, &path, row.input).await;
    let mut passed = expected.matches(row.method, &path, &page);
    let mut actual = describe(&page);
    if passed && expected == Outcome::Ok {
        if let Some(marker) = row.marker {
            if !page.has(marker) {
                passed = false;
                actual.push_str(&format!(" without {marker:?}"));
            }
        }
    }
    Cell {
        route: row.path,
        method: row.method,
        persona,
        expected,
        actual,
        passed,
    }
}

fn render(cells: &[Cell]) -> String {
    let mut out = format!(
        "{:<2} {:<40} {:<6} {:<18} {:<36} {}\n",
        "", "route", "method", "persona", "expected", "actual"
    );
    for c in cells {
        out.push_str(&format!(
            "{:<2} {:<40} {:<6} {:<18} {:<36} {}\n",
            if c.passed { "" } else { "✗" },
            c.route,
            c.method.to_string(),
            c.persona.label(),
            c.expected.to_string(),
            c.actual
        ));
    }
    out
}

async fn build_fixture(app: &TestApp) -> Fixture {
    let (unit, unit_client) = approved_unit(app, 1, "天宁区", "tianning").await;
    let (other, _) = approved_unit(app, 2, "武进区", "wujin").await;
    let pending_client = app.client();
    let pending = create_account(app, &pending_client, 3, "天宁区").await;
    upload_and_submit(app, &pending_client).await;

    // The approved unit edits its registration and submits the change request.
    unit_client
        .get("/registration/edit")
        .await
        .assert_ok()
        .assert_has("审核通过前原注册信息继续有效");
    let district = app.district_id("天宁区").await;
    let mut fields = org_fields(&unit.name, &unit.code, district);
    for (k, v) in &mut fields {
        if *k == "address" {
            *v = "常州市天宁区变更路2号".into();
        }
    }
    unit_client
        .post("/registration/edit", &as_refs(&fields))
        .await
        .assert_redirect("/registration/attachments?ok=saved");
    unit_client
        .get("/registration/attachments")
        .await
        .assert_ok();
    unit_client
        .post("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=change_submitted");

    let pool = app.state.pool();
    let change_id: i64 = sqlx::query_scalar("SELECT id FROM unit_changes WHERE unit_id = $1")
        .bind(unit.unit_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let (attachment_type, file_id): (i64, i64) = sqlx::query_as(
        "SELECT type_id, file_id FROM unit_attachments WHERE unit_id = $1 ORDER BY type_id",
    )
    .bind(unit.unit_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let messages: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE unit_id = $1 ORDER BY id")
            .bind(unit.unit_id)
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(messages.len() >= 2, "the unit has messages: {messages:?}");
    let type_id = unit_types(app).await[0].0;
    Fixture {
        unit,
        other,
        pending,
        file_id,
        // What upload_and_submit uploaded for this type.
        file_bytes: pdf(&format!("type {attachment_type}")),
        message_id: messages[0],
        doomed_message_id: messages[messages.len() - 1],
        change_id,
        type_id,
    }
}

/// (a) The (path, method) pairs that routes() serves, found over HTTP: a method a route does not
/// serve answers 405. Probed as a persona the route's guard admits (the guard wraps the 405 too),
/// with 0 for every path parameter so that no probe touches a fixture object.
async fn served(
    app: &TestApp,
    fx: &Fixture,
    clients: &[(Persona, Client)],
) -> BTreeSet<(String, Method)> {
    let anonymous = client_for(app, fx, Anonymous).await;
    let client_of = |p: Persona| &clients.iter().find(|(q, _)| *q == p).unwrap().1;
    let mut out = BTreeSet::new();
    for (pattern, access, _) in routes() {
        let c = match access {
            Access::Public => &anonymous,
            Access::Signed | Access::Unit => client_of(Unit),
            Access::Staff => client_of(County),
            Access::City => client_of(City),
            Access::Admin => client_of(Admin),
        };
        let path = fill(pattern, |_| 0);
        for method in [Method::Get, Method::Post] {
            let page = send(c, method, &path, Input::Nothing).await;
            if page.status != 405 {
                out.insert((pattern.to_string(), method));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_for_every_persona() {
    let app = TestApp::spawn().await;
    let fx = build_fixture(&app).await;
    let table = table();
    let mut problems: Vec<String> = Vec::new();

    // One signed-in client per persona for the cells that change nothing.
    let mut clients = Vec::new();
    for p in SIGNED_IN {
        clients.push((*p, client_for(&app, &fx, *p).await));
    }

    // (a) The table has exactly one row per (path, method) that routes() serves.
    let declared = served(&app, &fx, &clients).await;
    let mut rows = BTreeSet::new();
    for row in &table {
        if !rows.insert((row.path.to_string(), row.method)) {
            problems.push(format!("duplicate row {} {}", row.method, row.path));
        }
    }
    for (path, method) in declared.difference(&rows) {
        problems.push(format!(
            "route {method} {path} is served but has no row in the table"
        ));
    }
    for (path, method) in rows.difference(&declared) {
        problems.push(format!(
            "row {method} {path} is in the table but no route serves it"
        ));
    }
    // The table agrees with each route's declared access: anonymous visitors are sent to sign
    // in, and a role the access does not admit is refused, on every non-public route.
    let policies: Vec<(&str, Access)> = routes().into_iter().map(|(p, a, _)| (p, a)).collect();
    for row in &table {
        let Some((_, access)) = policies.iter().find(|(p, _)| *p == row.path) else {
            continue;
        };
        for (p, expected) in PERSONAS.iter().zip(row.expect) {
            let required = match (*access, *p) {
                (Access::Public, _) => None,
                (_, Anonymous) => Some(Outcome::LoginRedirect),
                (a, p) if !p.admitted(a) => Some(Outcome::Forbidden),
                _ => None,
            };
            if required.is_some_and(|r| r != expected)
                || (required.is_none() && expected == Outcome::LoginRedirect)
            {
                problems.push(format!(
                    "row {} {} expects {expected} for {} against its access {access:?}",
                    row.method,
                    row.path,
                    p.label()
                ));
            }
        }
    }

    // The table: first every cell that leaves the fixtures as they are, then the deferred ones.
    let mut cells = Vec::new();
    for deferred_pass in [false, true] {
        for row in &table {
            for (persona, expected) in PERSONAS.iter().zip(row.expect) {
                if row.deferred.contains(persona) != deferred_pass {
                    continue;
                }
                let cell = if deferred_pass || *persona == Anonymous {
                    let c = client_for(&app, &fx, *persona).await;
                    run_cell(&c, &fx, row, *persona, expected).await
                } else {
                    let c = &clients.iter().find(|(q, _)| q == persona).unwrap().1;
                    run_cell(c, &fx, row, *persona, expected).await
                };
                cells.push(cell);
            }
        }
    }
    let failed = cells.iter().filter(|c| !c.passed).count();
    if failed > 0 || !problems.is_empty() {
        let failures: Vec<Cell> = cells
            .iter()
            .filter(|c| !c.passed)
            .map(Cell::clone)
            .collect();
        panic!(
            "{failed} of {} cells failed\n\nThe whole table:\n{}\nThe failed cells:\n{}\n{}",
            cells.len(),
            render(&cells),
            render(&failures),
            problems.join("\n")
        );
    }
    assert_eq!(cells.len(), table.len() * PERSONAS.len());
    println!("{} cells asserted", cells.len());

    // (b) A POST without its CSRF token is refused, and changes nothing.
    let anonymous = client_for(&app, &fx, Anonymous).await;
    let refused = anonymous
        .post_raw(
            "/login",
            &[
                ("login_id", "city".into()),
                ("password", DEMO_PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.location.is_empty());
    assert!(Outcome::LoginRedirect.matches(Method::Get, "/home", &anonymous.get("/home").await));
    let unit = client_for(&app, &fx, PendingUnit).await;
    for token in [None, Some("0123456789abcdef")] {
        let mut fields = vec![
            ("old_password", UNIT_PASSWORD.to_string()),
            ("password", "Fresh#2026pass".to_string()),
            ("password2", "Fresh#2026pass".to_string()),
        ];
        if let Some(t) = token {
            fields.push(("csrf", t.to_string()));
        }
        let refused = unit.post_raw("/account/password", &fields).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        refused.assert_has("表单已失效");
    }
    client_for(&app, &fx, PendingUnit).await; // the old password still signs in

    // (c) Another unit opening the unit's attachment by its URL: 404 and none of the file.
    let url = fx.path("/units/{unit_id}/files/{file_id}");
    let (status, _, bytes) = client_for(&app, &fx, Unit).await.get_bytes(&url).await;
    assert_eq!(
        (status, &bytes),
        (200, &fx.file_bytes),
        "the unit's own file"
    );
    for p in [OtherUnit, PendingUnit, OtherCounty] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&url).await;
        assert_eq!(status, 404, "{}", p.label());
        assert!(
            !bytes
                .windows(fx.file_bytes.len())
                .any(|w| w == fx.file_bytes),
            "{} got the file's bytes",
            p.label()
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("%PDF"));
    }

    // (d) County staff opening another district's registration: 404, nothing of it shown.
    let wujin = client_for(&app, &fx, OtherCounty).await;
    for path in [
        format!("/review/units/{}", fx.unit.unit_id),
        format!("/review/changes/{}", fx.change_id),
    ] {
        let page = wujin.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        page.assert_lacks(&fx.unit.code).assert_lacks(&fx.unit.name);
    }
    let tianning = client_for(&app, &fx, County).await;
    let page = tianning
        .get(&format!("/review/units/{}", fx.other.unit_id))
        .await;
    assert_eq!(page.status, 404);
    page.assert_lacks(&fx.other.code)
        .assert_lacks(&fx.other.name);
    // The other unit's change request (submitted in the deferred pass) is 武进区's too.
    let other_change: i64 = sqlx::query_scalar("SELECT id FROM unit_changes WHERE unit_id = $1")
        .bind(fx.other.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let page = tianning
        .get(&format!("/review/changes/{other_change}"))
        .await;
    assert_eq!(page.status, 404);
    page.assert_lacks(&fx.other.code);
    assert_eq!(
        wujin
            .get(&format!("/review/changes/{other_change}"))
            .await
            .status,
        200
    );

    // A return without a reason on an item the reviewer may act on (the unit's change request,
    // passed by the county in the deferred pass): the detail page again, with the error.
    let city = client_for(&app, &fx, City).await;
    let path = format!("/review/changes/{}", fx.change_id);
    city.get(&path).await.assert_ok().assert_has("【退回】");
    city.post(&format!("{path}/return"), &[("reason", "  ")])
        .await
        .assert_ok()
        .assert_has("请填写退回原因");
    let state: String = sqlx::query_scalar("SELECT state FROM unit_changes WHERE id = $1")
        .bind(fx.change_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "pending_city");
}
