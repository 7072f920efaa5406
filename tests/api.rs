//! Issue 19: the JSON API. A unit's clerk creates a token on the account page and submits a
//! group with curl-like requests (create, read, upload, print, stamped scan, submit); errors are
//! problem+json in Chinese; tokens are refused when missing, wrong, revoked or expired; every
//! use is audited; each token is rate limited; and every route answers each principal as the
//! table says (a route missing from the table fails the test).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// Creates a token on the account page; returns it.
async fn token(c: &Client, name: &str, days: &str) -> String {
    c.get("/account/tokens").await.assert_ok();
    let page = c
        .post("/account/tokens", &[("name", name), ("days", days)])
        .await;
    page.assert_ok().assert_has("请立即复制并保存此令牌");
    let at = page.body.find("<code id=\"new-token\">").unwrap();
    let rest = &page.body[at + "<code id=\"new-token\">".len()..];
    rest.split('<').next().unwrap().to_string()
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn call(
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
    content_type: &str,
) -> Answer {
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.header("Content-Type", content_type).body(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Answer {
        status,
        content_type,
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

async fn api(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> Answer {
    call(&app.base, method, path, token, None, "").await
}

async fn api_json(app: &TestApp, method: Method, path: &str, token: &str, body: &Value) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap();
    call(
        &app.base,
        method,
        path,
        Some(token),
        Some(bytes),
        "application/json",
    )
    .await
}

async fn api_file(app: &TestApp, path: &str, token: &str, bytes: Vec<u8>) -> Answer {
    call(
        &app.base,
        Method::PUT,
        path,
        Some(token),
        Some(bytes),
        "application/octet-stream",
    )
    .await
}

/// The group form's fields (tests/common) as the API's JSON body.
async fn group_json(app: &TestApp, n: usize) -> Value {
    let f = group_fields(app, n).await;
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut body = json!({});
    for k in [
        "name",
        "purpose",
        "arrival",
        "departure",
        "places",
        "cost_bearer",
        "country",
        "mission",
        "entry_type",
        "ground",
        "contact_name",
        "contact_phone",
        "remarks",
        "size",
    ] {
        body[k] = json!(get(k));
    }
    body["informed"] = json!(true);
    body["itinerary"] = json!([{
        "date": get("t0_date"), "city": get("t0_city"),
        "activity": get("t0_activity"), "host": get("t0_host"),
    }]);
    let mut visitors = Vec::new();
    for i in 0..n {
        let mut v = json!({});
        for k in [
            "surname",
            "given_name",
            "sex",
            "birth_date",
            "nationality",
            "passport_no",
            "passport_expiry",
            "employer",
            "position",
            "visa_type",
            "stay_days",
            "employer_country",
            "employer_city",
            "employer_address",
        ] {
            v[k] = json!(get(&format!("v{i}_{k}")));
        }
        visitors.push(v);
    }
    body["visitors"] = json!(visitors);
    body
}

fn assert_problem(a: &Answer, status: u16, detail: &str) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.content_type, "application/problem+json");
    let p = a.json();
    assert_eq!(p["status"], status);
    assert!(
        p["detail"].as_str().unwrap().contains(detail),
        "{p} lacks {detail}"
    );
}

#[tokio::test]
async fn a_token_submits_a_group_from_start_to_end() {
    let app = TestApp::spawn().await;
    let (r, unit) = approved_unit(&app, 1971, "天宁区", "tianning").await;
    let t = token(&unit, "人事系统对接", "30").await;
    assert!(t.starts_with("lhpat_"));
    // The page lists it, with its start only; the database keeps only a hash.
    let page = unit.get("/account/tokens").await;
    page.assert_has("人事系统对接")
        .assert_has("从未使用")
        .assert_lacks(&t);
    let stored = app
        .scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = prefix OR prefix = token_hash")
        .await;
    assert_eq!(stored, 0);

    // Without a token: 401 with the way to get one.
    let a = api(&app, Method::GET, "/api/v1/groups", None).await;
    assert_problem(&a, 401, "令牌无效");
    // A wrong body: 400; a wrong field: 422 naming it, nothing saved.
    let bad = call(
        &app.base,
        Method::POST,
        "/api/v1/groups",
        Some(&t),
        Some(b"{".to_vec()),
        "application/json",
    )
    .await;
    assert_problem(&bad, 400, "不是有效的JSON");
    let mut body = group_json(&app, 2).await;
    body["visitors"][1]["passport_no"] = json!("");
    let a = api_json(&app, Method::POST, "/api/v1/groups", &t, &body).await;
    assert_problem(&a, 422, "");
    assert!(a.json()["errors"]["v1_passport_no"]
        .as_str()
        .unwrap()
        .contains("护照号码"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        0
    );

    // Created, with the first visitor's passport fields from its machine-readable zone.
    let mut body = group_json(&app, 2).await;
    for k in [
        "surname",
        "given_name",
        "sex",
        "birth_date",
        "nationality",
        "passport_no",
        "passport_expiry",
    ] {
        body["visitors"][0][k] = json!("");
    }
    body["visitors"][0]["mrz"] = json!(zone(
        "USA",
        "SMITH<<LISA",
        "C01234567",
        "850505",
        'F',
        "340701"
    ));
    let a = api_json(&app, Method::POST, "/api/v1/groups", &t, &body).await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let id = a.json()["id"].as_i64().unwrap();
    let number = a.json()["number"].as_str().unwrap().to_string();

    let g = api(&app, Method::GET, &format!("/api/v1/groups/{id}"), Some(&t)).await;
    assert_eq!(g.status, 200);
    let g = g.json();
    assert_eq!(g["number"], number.as_str());
    assert_eq!(g["state"], "draft");
    assert_eq!(g["visitors"][0]["passport_no"], "C01234567");
    assert_eq!(g["visitors"][0]["surname"], "SMITH");
    assert!(g["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "submit"));
    let vids: Vec<i64> = g["visitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();

    // Submitting before the files: refused with the page's reason.
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/groups/{id}/submit"),
        Some(&t),
    )
    .await;
    assert!(
        a.status == 409 || a.status == 422,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    // The scans, a refused file (not a PDF) named, the print, the stamped scan.
    for v in &vids {
        let a = api_file(
            &app,
            &format!("/api/v1/groups/{id}/files/passport-{v}?name=passport.pdf"),
            &t,
            pdf("passport"),
        )
        .await;
        assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    }
    let a = api_file(
        &app,
        &format!("/api/v1/groups/{id}/files/clerk_id"),
        &t,
        b"not a file".to_vec(),
    )
    .await;
    assert_problem(&a, 422, "");
    let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
    let a = api_file(
        &app,
        &format!("/api/v1/groups/{id}/files/clerk_id?name=clerk.png"),
        &t,
        png,
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    let a = api_file(
        &app,
        &format!("/api/v1/groups/{id}/files/scan"),
        &t,
        pdf("stamped"),
    )
    .await;
    assert_problem(&a, 422, "打印");
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/groups/{id}/print"),
        Some(&t),
    )
    .await;
    assert_eq!(a.status, 200);
    let a = api_file(
        &app,
        &format!("/api/v1/groups/{id}/files/scan?name=stamped.pdf"),
        &t,
        pdf("stamped"),
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/groups/{id}/submit"),
        Some(&t),
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));

    // Submitted, as the pages say; read-only now.
    let g = api(&app, Method::GET, &format!("/api/v1/groups/{id}"), Some(&t))
        .await
        .json();
    assert_eq!(g["state"], "pending_county");
    assert!(g["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["action"] == "提交团组" || s["action"].as_str().unwrap().contains("提交")));
    let a = api_json(
        &app,
        Method::PUT,
        &format!("/api/v1/groups/{id}"),
        &t,
        &group_json(&app, 2).await,
    )
    .await;
    assert_problem(&a, 409, "团组已提交，不能修改");
    let list = api(&app, Method::GET, "/api/v1/groups", Some(&t))
        .await
        .json();
    assert_eq!(list[0]["number"], number.as_str());
    unit.get("/groups").await.assert_has(&number);
    // The county's queue has it, and the unit got its messages as on the pages.
    let msgs = api(&app, Method::GET, "/api/v1/messages", Some(&t)).await;
    assert_eq!(msgs.status, 200);

    // Every use is in the audit log under the clerk, with the token's start; the list shows
    // the last use.
    let uses = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'api.use'")
        .await;
    assert!(uses >= 12, "{uses}");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'group.submit' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    assert!(
        actor.contains(&r.login) && actor.contains("API令牌"),
        "{actor}"
    );
    unit.get("/account/tokens").await.assert_lacks("从未使用");
}

#[tokio::test]
async fn revoked_expired_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1972, "天宁区", "tianning").await;
    let (_, other) = approved_unit(&app, 1973, "天宁区", "tianning").await;
    let t = token(&unit, "甲", "1").await;
    let theirs = saved_group(&app, &other, 1).await;
    // Another unit's group: not found, exactly as a missing one.
    let a = api(
        &app,
        Method::GET,
        &format!("/api/v1/groups/{theirs}"),
        Some(&t),
    )
    .await;
    assert_problem(&a, 404, "页面不存在或您无权查看");
    let a = api(&app, Method::GET, "/api/v1/groups/999999", Some(&t)).await;
    assert_problem(&a, 404, "页面不存在或您无权查看");
    // The name and days are checked beside their fields.
    let page = unit
        .post("/account/tokens", &[("name", ""), ("days", "400")])
        .await;
    page.assert_has("请填写令牌名称")
        .assert_has("有效期须为1至365天");
    // Revoked.
    let t2 = token(&unit, "乙", "30").await;
    assert_eq!(
        api(&app, Method::GET, "/api/v1/groups", Some(&t2))
            .await
            .status,
        200
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = '乙'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    // Another unit cannot revoke it.
    other.get("/account/tokens").await;
    assert_eq!(
        other
            .post(&format!("/account/tokens/{id}/revoke"), &[])
            .await
            .status,
        404
    );
    unit.get("/account/tokens").await;
    unit.post(&format!("/account/tokens/{id}/revoke"), &[])
        .await
        .assert_redirect("/account/tokens?ok=revoked");
    let a = api(&app, Method::GET, "/api/v1/groups", Some(&t2)).await;
    assert_problem(&a, 401, "令牌已被吊销");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'api_token.revoke'")
            .await,
        1
    );
    // A session cookie is not a token.
    let cookie = unit.cookie_header();
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/groups", app.base))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // Expired after its day (the first token was valid one day).
    app.clock().advance(86_401);
    let a = api(&app, Method::GET, "/api/v1/groups", Some(&t)).await;
    assert_problem(&a, 401, "令牌已过期");
}

/// A row of the table: method, OpenAPI path, body, and the status for each of [`Who`].
type Route = (&'static str, &'static str, Option<Vec<u8>>, [u16; 4]);

/// What a principal gets from a route.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    NoToken,
    WrongToken,
    Owner,
    OtherUnit,
}

#[tokio::test]
async fn every_api_route_answers_every_principal_as_the_table_says() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1974, "天宁区", "tianning").await;
    let (_, other) = approved_unit(&app, 1975, "天宁区", "tianning").await;
    let owner = token(&unit, "owner", "30").await;
    let foreign = token(&other, "other", "30").await;
    let id = saved_group(&app, &unit, 1).await;
    let body = serde_json::to_vec(&group_json(&app, 1).await).unwrap();
    let zone = serde_json::to_vec(&json!({"mrz": ""})).unwrap();
    // (method, OpenAPI path, body, [no token, wrong token, owner, other unit]).
    let table: Vec<Route> = vec![
        ("GET", "/api/v1/groups", None, [401, 401, 200, 200]),
        (
            "POST",
            "/api/v1/groups",
            Some(b"{}".to_vec()),
            [401, 401, 422, 422],
        ),
        ("GET", "/api/v1/groups/{id}", None, [401, 401, 200, 404]),
        (
            "PUT",
            "/api/v1/groups/{id}",
            Some(body.clone()),
            [401, 401, 200, 404],
        ),
        (
            "POST",
            "/api/v1/groups/{id}/print",
            None,
            [401, 401, 200, 404],
        ),
        (
            "PUT",
            "/api/v1/groups/{id}/files/{slot}",
            Some(b"x".to_vec()),
            [401, 401, 422, 404],
        ),
        (
            "POST",
            "/api/v1/groups/{id}/submit",
            None,
            [401, 401, 422, 404],
        ),
        ("GET", "/api/v1/messages", None, [401, 401, 200, 200]),
        ("POST", "/api/v1/mrz", Some(zone), [401, 401, 422, 422]),
        // {visitor_id}: the owner's visitor of a dispatched group, not yet registered.
        ("GET", "/api/v1/visits", None, [401, 401, 200, 200]),
        (
            "GET",
            "/api/v1/visits/{visitor_id}",
            None,
            [401, 401, 200, 404],
        ),
        (
            "PUT",
            "/api/v1/visits/{visitor_id}",
            Some(b"{}".to_vec()),
            [401, 401, 422, 404],
        ),
        (
            "PUT",
            "/api/v1/visits/{visitor_id}/files/{kind}",
            Some(b"x".to_vec()),
            [401, 401, 422, 404],
        ),
        (
            "POST",
            "/api/v1/visits/{visitor_id}/submit",
            None,
            [401, 401, 422, 404],
        ),
    ];
    let dispatched = dispatched_group(&app, &unit, 1, "tianning").await;
    let visitor = visitor_ids(&app, dispatched).await[0];
    // Every route of the OpenAPI document is in the table, and only those.
    let mut documented = laihua::web::api::operations();
    documented.sort();
    let mut listed: Vec<(String, String)> = table
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    listed.sort();
    assert_eq!(documented, listed);
    for (method, path, body, expect) in &table {
        let real = path
            .replace("{id}", &id.to_string())
            .replace("{slot}", "clerk_id")
            .replace("{visitor_id}", &visitor.to_string())
            .replace("{kind}", "entry_stamp");
        for (i, who) in [Who::NoToken, Who::WrongToken, Who::Owner, Who::OtherUnit]
            .iter()
            .enumerate()
        {
            let t = match who {
                Who::NoToken => None,
                Who::WrongToken => Some("lhpat_not-a-token"),
                Who::Owner => Some(owner.as_str()),
                Who::OtherUnit => Some(foreign.as_str()),
            };
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let ct = if path.contains("/files/") {
                "application/octet-stream"
            } else {
                "application/json"
            };
            let a = call(&app.base, m, &real, t, body.clone(), ct).await;
            assert_eq!(
                a.status,
                expect[i],
                "{method} {path} as {who:?}: {}",
                String::from_utf8_lossy(&a.body)
            );
            if a.status >= 400 {
                assert_eq!(
                    a.content_type, "application/problem+json",
                    "{method} {path} as {who:?}"
                );
            }
        }
    }
    // The framework's own refusals are problems too: a path parameter that is not a number,
    // a wrong method.
    let a = api(&app, Method::GET, "/api/v1/groups/abc", Some(&owner)).await;
    assert_problem(&a, 400, "请求有误");
    let a = api(&app, Method::DELETE, "/api/v1/groups", Some(&owner)).await;
    assert_problem(&a, 405, "不支持此请求方式");
    // An unknown API path is a problem too; the OpenAPI document is open and 3.1.
    let a = api(&app, Method::GET, "/api/v1/nothing", Some(&owner)).await;
    assert_problem(&a, 404, "接口不存在");
    let doc = api(&app, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    assert!(doc["paths"]["/api/v1/groups/{id}/submit"]["post"].is_object());
}

#[tokio::test]
async fn a_post_visit_registration_is_filed_through_the_api() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1976, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &unit, 1, "tianning").await;
    let t = token(&unit, "销签", "30").await;
    let list = api(&app, Method::GET, "/api/v1/visits", Some(&t)).await;
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list[0]["state"], "unregistered");
    let v = list[0]["visitor_id"].as_i64().unwrap();
    assert_eq!(visitor_ids(&app, id).await, vec![v]);
    app.clock().advance(10 * 86_400);
    let r = api(&app, Method::GET, &format!("/api/v1/visits/{v}"), Some(&t))
        .await
        .json();
    let ports = r["ports"].as_array().unwrap();
    let port = |name: &str| {
        ports
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["id"].as_i64().unwrap().to_string())
            .unwrap()
    };
    let (pvg, nkg) = (port("上海浦东国际机场"), port("南京禄口国际机场"));
    // A wrong date: 422 naming the field, nothing saved.
    let mut body = json!({"kind": "travelled", "entry_date": "2020-01-01", "entry_port": pvg,
        "exit_date": date_in(&app, -2), "exit_port": nkg});
    let a = api_json(&app, Method::PUT, &format!("/api/v1/visits/{v}"), &t, &body).await;
    assert_problem(&a, 422, "");
    assert!(a.json()["errors"]["entry_date"].is_string(), "{}", a.json());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_records").await, 0);
    body["entry_date"] = json!(date_in(&app, -8));
    let a = api_json(&app, Method::PUT, &format!("/api/v1/visits/{v}"), &t, &body).await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/visits/{v}/submit"),
        Some(&t),
    )
    .await;
    assert_problem(&a, 422, "入境章扫描件");
    for kind in ["entry_stamp", "exit_stamp", "visa_page"] {
        let a = api_file(
            &app,
            &format!("/api/v1/visits/{v}/files/{kind}?name={kind}.pdf"),
            &t,
            pdf(kind),
        )
        .await;
        assert_eq!(
            a.status,
            204,
            "{kind}: {}",
            String::from_utf8_lossy(&a.body)
        );
    }
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/visits/{v}/submit"),
        Some(&t),
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    let r = api(&app, Method::GET, &format!("/api/v1/visits/{v}"), Some(&t))
        .await
        .json();
    assert_eq!(r["state"], "pending_county");
    assert_eq!(r["editable"], false);
}

/// The limit: a burst of N requests, then 429 with Retry-After, refilled at N a minute. Its
/// own server with N = 10, so that the test does not depend on how fast the database answers.
#[tokio::test]
async fn a_token_is_rate_limited() {
    let app = TestApp::spawn_with(|a| a.api_per_minute = 10).await;
    let (_, unit) = approved_unit(&app, 1977, "天宁区", "tianning").await;
    let t = token(&unit, "丙", "30").await;
    let mut statuses = Vec::new();
    for _ in 0..14 {
        statuses.push(
            api(&app, Method::GET, "/api/v1/messages", Some(&t))
                .await
                .status,
        );
    }
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[13], 429, "{statuses:?}");
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/messages", app.base))
        .header("Authorization", format!("Bearer {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "6");
    // Another token of the same clerk has its own bucket.
    let other = token(&unit, "丁", "30").await;
    assert_eq!(
        api(&app, Method::GET, "/api/v1/messages", Some(&other))
            .await
            .status,
        200
    );
    // Refilled after its time (one request per six seconds).
    tokio::time::sleep(std::time::Duration::from_millis(6_500)).await;
    assert_eq!(
        api(&app, Method::GET, "/api/v1/messages", Some(&t))
            .await
            .status,
        200
    );
}
