#![allow(clippy::unwrap_used)]
//! SMS through real providers' protocols (issue 20), against a local fake of 阿里云 Dysmsapi
//! and 腾讯云 SMS that checks every request's signature with its own implementation of
//! ACS3-HMAC-SHA256 and TC3-HMAC-SHA256 (not the server's), answers as the provider does (or
//! with the errors a test scripts), and — like a phone — appends what it delivered to the
//! server's outbox file, so the helpers that read codes work unchanged.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use common::*;
use hmac::{Hmac, Mac};
use laihua::sms::Kind;
use sha2::{Digest, Sha256};

const ALI_ID: &str = "LTAI5tFakeKeyId";
const ALI_SECRET: &str = "fake/secret+of=aliyun";
const TC_ID: &str = "AKIDfakeSecretId";
const TC_SECRET: &str = "fake-secret-of-tencent";
const NOTE_SIGN: &str = "常州外办";
const CODE_SIGN: &str = "常州外办验证";

/// One request the fake received, as it understood it.
#[derive(Clone, Debug)]
struct Seen {
    /// The signature checked out (else why not).
    verified: Result<(), String>,
    phone: String,
    sign: String,
    template: String,
    /// The parameters by name (阿里云) or `1`, `2`… (腾讯云).
    params: Vec<(String, String)>,
    /// What the fake answered: delivered, or the error code.
    answered: String,
}

#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Errors to answer, once each, for a template code.
    fail: Arc<Mutex<Vec<(String, String)>>>,
    /// Where delivered messages are appended (the server's outbox file), once known.
    outbox: Arc<Mutex<Option<PathBuf>>>,
    /// Seconds every answer takes.
    slow: Arc<Mutex<u64>>,
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn rfc3986(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// `Key=value` pairs of an `Authorization` header after the algorithm.
fn auth_parts(auth: &str, algorithm: &str) -> Option<BTreeMap<String, String>> {
    let rest = auth.strip_prefix(algorithm)?.strip_prefix(' ')?;
    Some(
        rest.split(',')
            .filter_map(|p| p.trim().split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Checks an ACS3-HMAC-SHA256 request as Dysmsapi would.
fn verify_aliyun(
    h: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<BTreeMap<String, String>, String> {
    let parts = auth_parts(header(h, "authorization"), "ACS3-HMAC-SHA256")
        .ok_or("no ACS3 Authorization")?;
    if parts.get("Credential").map(String::as_str) != Some(ALI_ID) {
        return Err(format!("Credential {:?}", parts.get("Credential")));
    }
    let signed = parts.get("SignedHeaders").ok_or("no SignedHeaders")?;
    for required in [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ] {
        if !signed.split(';').any(|s| s == required) {
            return Err(format!("{required} not signed"));
        }
    }
    if header(h, "x-acs-action") != "SendSms" || header(h, "x-acs-version") != "2017-05-25" {
        return Err("action or version".into());
    }
    // A POST carries its length, 0 for the empty body (as the official SDK sends it).
    if header(h, "content-length") != body.len().to_string() {
        return Err(format!("content-length {:?}", header(h, "content-length")));
    }
    if header(h, "x-acs-content-sha256") != sha_hex(body) {
        return Err("x-acs-content-sha256 is not the body's hash".into());
    }
    let date = chrono::NaiveDateTime::parse_from_str(header(h, "x-acs-date"), "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|e| format!("x-acs-date: {e}"))?;
    if (chrono::Utc::now().naive_utc() - date).num_seconds().abs() > 900 {
        return Err("x-acs-date is off".into());
    }
    // The query must be canonical already: sorted, every value encoded per RFC 3986.
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or("bad pair")?;
        if rfc3986(&decode(v)) != v || rfc3986(&decode(k)) != k {
            return Err(format!("not canonically encoded: {pair}"));
        }
        params.insert(decode(k), decode(v));
    }
    let canonical_query = params
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    if canonical_query != query {
        return Err("query not sorted".into());
    }
    let headers: String = signed
        .split(';')
        .map(|n| format!("{n}:{}\n", header(h, n).trim()))
        .collect();
    let canonical = format!("POST\n/\n{query}\n{headers}\n{signed}\n{}", sha_hex(body));
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha_hex(canonical.as_bytes()));
    let expected = hex::encode(hmac256(ALI_SECRET.as_bytes(), &to_sign));
    if parts.get("Signature") != Some(&expected) {
        return Err("signature does not match".into());
    }
    Ok(params)
}

/// Checks a TC3-HMAC-SHA256 request as 腾讯云 would.
fn verify_tencent(h: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let parts =
        auth_parts(header(h, "authorization"), "TC3-HMAC-SHA256").ok_or("no TC3 Authorization")?;
    let credential = parts.get("Credential").ok_or("no Credential")?;
    let ts: i64 = header(h, "x-tc-timestamp")
        .parse()
        .map_err(|_| "X-TC-Timestamp")?;
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return Err("timestamp is off".into());
    }
    let date = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    if credential != &format!("{TC_ID}/{date}/sms/tc3_request") {
        return Err(format!("Credential {credential}"));
    }
    if header(h, "x-tc-action") != "SendSms"
        || header(h, "x-tc-version") != "2021-01-11"
        || header(h, "x-tc-region").is_empty()
    {
        return Err("action, version or region".into());
    }
    let signed = parts.get("SignedHeaders").ok_or("no SignedHeaders")?;
    if !signed.contains("content-type") || !signed.contains("host") {
        return Err("content-type and host must be signed".into());
    }
    let headers: String = signed
        .split(';')
        .map(|n| {
            let v = header(h, n).trim();
            let v = if n == "x-tc-action" {
                v.to_ascii_lowercase()
            } else {
                v.to_string()
            };
            format!("{n}:{v}\n")
        })
        .collect();
    let canonical = format!("POST\n/\n\n{headers}\n{signed}\n{}", sha_hex(body));
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{ts}\n{date}/sms/tc3_request\n{}",
        sha_hex(canonical.as_bytes())
    );
    let k = hmac256(format!("TC3{TC_SECRET}").as_bytes(), &date);
    let k = hmac256(&k, "sms");
    let k = hmac256(&k, "tc3_request");
    if parts.get("Signature") != Some(&hex::encode(hmac256(&k, &to_sign))) {
        return Err("signature does not match".into());
    }
    Ok(())
}

/// The kind a template code stands for in the files the tests write.
fn kind_of(template: &str) -> Option<Kind> {
    let n: usize = template.trim_start_matches("SMS_").parse().ok()?;
    Kind::ALL.get(n % 100).copied()
}

impl Fake {
    /// The answer to a checked request: a scripted error, or delivery (appended to the outbox
    /// as a phone would show it).
    fn answer(&self, mut seen: Seen) -> Option<String> {
        let failure = {
            let mut fail = self.fail.lock().unwrap();
            let at = fail.iter().position(|(t, _)| *t == seen.template);
            at.map(|i| fail.remove(i).1)
        };
        match (&seen.verified, failure) {
            (Err(_), _) => seen.answered = "SignatureDoesNotMatch".into(),
            (Ok(()), Some(code)) => seen.answered = code,
            (Ok(()), None) => {
                seen.answered = "delivered".into();
                let kind = kind_of(&seen.template).expect("a known template");
                let mut text = kind.numbered_text();
                for (i, (name, value)) in seen.params.iter().enumerate() {
                    text = text.replace(&format!("{{{}}}", i + 1), value);
                    assert!(
                        kind.params().get(i) == Some(&name.as_str())
                            || name == &(i + 1).to_string()
                    );
                }
                if let Some(path) = self.outbox.lock().unwrap().as_ref() {
                    use std::io::Write;
                    let line = serde_json::json!({
                        "to": seen.phone.trim_start_matches("+86"),
                        "text": format!("【{}】{text}", seen.sign),
                        "at": chrono::Utc::now().to_rfc3339(),
                    });
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .unwrap();
                    writeln!(f, "{line}").unwrap();
                }
            }
        }
        let answered = seen.answered.clone();
        self.seen.lock().unwrap().push(seen);
        (answered != "delivered").then_some(answered)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn fail_once(&self, template: &str, code: &str) {
        self.fail
            .lock()
            .unwrap()
            .push((template.into(), code.into()));
    }
}

async fn aliyun(
    State(fake): State<Fake>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> String {
    let q = q.unwrap_or_default();
    let checked = verify_aliyun(&h, &q, &body);
    let params = checked.clone().unwrap_or_default();
    let template_params: Vec<(String, String)> = params
        .get("TemplateParam")
        .map(|t| {
            let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(t).unwrap();
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    // The names in the template's order (JSON objects have none).
    let template = params.get("TemplateCode").cloned().unwrap_or_default();
    let ordered = match kind_of(&template) {
        Some(k) => k
            .params()
            .iter()
            .map(|n| {
                let v = template_params
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone());
                (
                    n.to_string(),
                    v.unwrap_or_else(|| panic!("{n} missing from {template_params:?}")),
                )
            })
            .collect(),
        None => template_params,
    };
    let seen = Seen {
        verified: checked.map(|_| ()),
        phone: params.get("PhoneNumbers").cloned().unwrap_or_default(),
        sign: params.get("SignName").cloned().unwrap_or_default(),
        template,
        params: ordered,
        answered: String::new(),
    };
    match fake.answer(seen) {
        None => {
            r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5"}"#
                .into()
        }
        Some(code) => {
            serde_json::json!({"Code": code, "Message": "scripted", "RequestId": "x"}).to_string()
        }
    }
}

/// Checks a signature V1 request (HMAC-SHA1 over the sorted GET query).
fn verify_aliyun_v1(query: &str) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').ok_or("bad pair")?;
        if rfc3986(&decode(v)) != v {
            return Err(format!("not canonically encoded: {pair}"));
        }
        params.insert(decode(k), decode(v));
    }
    let signature = params.remove("Signature").ok_or("no Signature")?;
    for (k, v) in [
        ("AccessKeyId", ALI_ID),
        ("Action", "SendSms"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Version", "2017-05-25"),
        ("Format", "JSON"),
    ] {
        if params.get(k).map(String::as_str) != Some(v) {
            return Err(format!("{k}: {:?}", params.get(k)));
        }
    }
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("GET&%2F&{}", rfc3986(&canonical));
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(format!("{ALI_SECRET}&").as_bytes()).unwrap();
    m.update(to_sign.as_bytes());
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
    if signature != expected {
        return Err("V1 signature does not match".into());
    }
    Ok(params)
}

async fn aliyun_v1(State(fake): State<Fake>, RawQuery(q): RawQuery) -> String {
    let checked = verify_aliyun_v1(&q.unwrap_or_default());
    let params = checked.clone().unwrap_or_default();
    let template = params.get("TemplateCode").cloned().unwrap_or_default();
    let values: serde_json::Map<String, serde_json::Value> = params
        .get("TemplateParam")
        .map(|t| serde_json::from_str(t).unwrap())
        .unwrap_or_default();
    let kind = kind_of(&template).unwrap();
    let seen = Seen {
        verified: checked.map(|_| ()),
        phone: params.get("PhoneNumbers").cloned().unwrap_or_default(),
        sign: params.get("SignName").cloned().unwrap_or_default(),
        params: kind
            .params()
            .iter()
            .map(|n| (n.to_string(), values[*n].as_str().unwrap().to_string()))
            .collect(),
        template,
        answered: String::new(),
    };
    match fake.answer(seen) {
        None => r#"{"Code":"OK","Message":"OK","BizId":"1","RequestId":"2"}"#.into(),
        Some(code) => serde_json::json!({"Code": code, "Message": "scripted"}).to_string(),
    }
}

async fn tencent(State(fake): State<Fake>, h: HeaderMap, body: Bytes) -> String {
    let slow = *fake.slow.lock().unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(slow)).await;
    let checked = verify_tencent(&h, &body);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let params = v["TemplateParamSet"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, x)| ((i + 1).to_string(), x.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(v["SmsSdkAppId"], "1400006666");
    let seen = Seen {
        verified: checked,
        phone: v["PhoneNumberSet"][0].as_str().unwrap_or("").into(),
        sign: v["SignName"].as_str().unwrap_or("").into(),
        template: v["TemplateId"].as_str().unwrap_or("").into(),
        params,
        answered: String::new(),
    };
    let phone = seen.phone.clone();
    match fake.answer(seen) {
        None => serde_json::json!({"Response": {"SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": phone, "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}], "RequestId": "a0aabda6"}}).to_string(),
        Some(code) if code.starts_with("AuthFailure") => serde_json::json!({"Response": {"Error": {"Code": code, "Message": "scripted"}, "RequestId": "b"}}).to_string(),
        Some(code) => serde_json::json!({"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "Code": code, "Message": "scripted", "IsoCode": "CN"}], "RequestId": "c"}}).to_string(),
    }
}

/// Starts the fake; its base URL.
async fn start_fake(fake: &Fake) -> String {
    let app = Router::new()
        .route("/aliyun/", post(aliyun).get(aliyun_v1))
        .route("/tencent/", post(tencent))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A templates file with both providers' tables: kind number i is `SMS_10i` (阿里云) and
/// `20i` + 100 (腾讯云), so the fake knows the kind from the code.
fn templates_file(dir: &Path) -> PathBuf {
    let mut text = String::from("[aliyun]\n");
    for (i, k) in Kind::ALL.iter().enumerate() {
        text.push_str(&format!("{} = \"SMS_{}\"\n", k.key(), 100 + i));
    }
    text.push_str("[tencent]\n");
    for (i, k) in Kind::ALL.iter().enumerate() {
        text.push_str(&format!("{} = {}\n", k.key(), 200 + i));
    }
    let path = dir.join("sms-templates.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn code_of(kind: Kind, provider: &str) -> String {
    let i = Kind::ALL.iter().position(|k| *k == kind).unwrap();
    match provider {
        "aliyun" => format!("SMS_{}", 100 + i),
        _ => (200 + i).to_string(),
    }
}

async fn with_provider(provider: &str, fake: &Fake) -> (TestApp, tempdir::TempDir) {
    let base = start_fake(fake).await;
    let dir = tempdir::TempDir::new();
    let file = templates_file(dir.path());
    let provider = provider.to_string();
    let app = TestApp::spawn_with(|s| {
        s.sms_templates = Some(file);
        s.aliyun_access_key_id = ALI_ID.into();
        s.aliyun_access_key_secret = ALI_SECRET.into();
        s.aliyun_sign_name = NOTE_SIGN.into();
        s.aliyun_code_sign_name = CODE_SIGN.into();
        s.aliyun_endpoint = format!("{base}/aliyun/");
        s.aliyun_signature_version = 3;
        s.tencent_secret_id = TC_ID.into();
        s.tencent_secret_key = TC_SECRET.into();
        s.tencent_sdk_app_id = "1400006666".into();
        s.tencent_sign_name = NOTE_SIGN.into();
        s.tencent_code_sign_name = CODE_SIGN.into();
        s.tencent_region = "ap-guangzhou".into();
        s.tencent_param_max = 35;
        s.tencent_endpoint = format!("{base}/tencent/");
        s.sms_provider = match provider.as_str() {
            "aliyun" => laihua::config::SmsProvider::Aliyun,
            _ => laihua::config::SmsProvider::Tencent,
        };
    })
    .await;
    *fake.outbox.lock().unwrap() = Some(app.data_dir.join("sms-outbox.jsonl"));
    (app, dir)
}

async fn queue_row(app: &TestApp, kind: Kind) -> (String, i64, String) {
    sqlx::query_as::<_, (String, i64, String)>(
        "SELECT state, attempts, last_error FROM sms_queue WHERE kind = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(kind.key())
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

/// Every request signed right, every parameter within the providers' limits, codes and
/// notifications through their own templates and signatures.
fn check_requests(fake: &Fake, provider: &str) {
    let seen = fake.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert_eq!(s.verified, Ok(()), "{s:?}");
        let kind = kind_of(&s.template).unwrap();
        assert_eq!(s.template, code_of(kind, provider));
        assert_eq!(
            s.sign,
            if kind.is_code() { CODE_SIGN } else { NOTE_SIGN },
            "{s:?}"
        );
        assert_eq!(s.params.len(), kind.params().len(), "{s:?}");
        for (_, v) in &s.params {
            let n = v.chars().count();
            assert!((1..=35).contains(&n), "{s:?}");
            assert!(!v.contains('【') && !v.contains('】'));
        }
        if kind.is_code() {
            assert!(s.params[0].1.len() == 6 && s.params[0].1.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

#[tokio::test]
async fn aliyun_codes_and_notifications_use_their_templates_and_a_failed_one_is_retried_once() {
    let fake = Fake::default();
    let (app, _dir) = with_provider("aliyun", &fake).await;
    let approved = code_of(Kind::RegistrationApproved, "aliyun");
    fake.fail_once(&approved, "isv.BUSINESS_LIMIT_CONTROL");

    // A registration: a code, then the county's and the city's approvals (two notifications).
    let (r, _c) = approved_unit(&app, 2001, "天宁区", "tianning").await;
    check_requests(&fake, "aliyun");
    let kinds: Vec<Kind> = fake
        .seen()
        .iter()
        .map(|s| kind_of(&s.template).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            Kind::VerifyCode,
            Kind::RegistrationCountyPassed,
            Kind::RegistrationApproved
        ]
    );
    // The approval stands; its SMS waits for a retry after a minute, with the reason kept.
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM units WHERE id = {} AND state = 'approved'",
            r.unit_id
        ))
        .await,
        1
    );
    let (st, attempts, error) = queue_row(&app, Kind::RegistrationApproved).await;
    assert_eq!((st.as_str(), attempts), ("pending", 1));
    assert!(
        error.contains("isv.BUSINESS_LIMIT_CONTROL") && error.contains("频率限制"),
        "{error}"
    );
    // Codes are kept masked.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sms_queue WHERE kind = 'verify_code' AND params = '{\"code\":\"******\"}' AND state = 'sent'").await, 1);

    // Not due yet: nothing goes out.
    let ran = laihua::workflow::sms::run(&app.state).await.unwrap();
    assert_eq!(ran, laihua::workflow::sms::Ran::default());
    app.clock().advance(61);
    let ran = laihua::workflow::sms::run(&app.state).await.unwrap();
    assert_eq!((ran.sent, ran.failed), (1, 0));
    let ran = laihua::workflow::sms::run(&app.state).await.unwrap();
    assert_eq!(ran, laihua::workflow::sms::Ran::default());
    check_requests(&fake, "aliyun");
    let tries = fake
        .seen()
        .iter()
        .filter(|s| s.template == approved)
        .count();
    assert_eq!(tries, 2);
    let texts: Vec<String> = app
        .sms()
        .into_iter()
        .filter(|(to, _)| *to == r.mobile)
        .map(|(_, t)| t)
        .collect();
    let approval =
        "【常州外办】您单位的邀请外国人来华信息系统注册申请已审核通过，可登录系统申请《邀请函》。";
    assert_eq!(
        texts.iter().filter(|t| *t == approval).count(),
        1,
        "{texts:?}"
    );
    assert_eq!(queue_row(&app, Kind::RegistrationApproved).await.0, "sent");

    // The administrators' list shows it, with its two attempts.
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin
        .get("/admin/sms")
        .await
        .assert_ok()
        .assert_has("阿里云短信")
        .assert_has("注册申请审核通过")
        .assert_has("已发送")
        .assert_has("验证码")
        .assert_has("******")
        .assert_lacks(&r.mobile);
}

#[tokio::test]
async fn tencent_notification_failed_for_good_is_shown_and_sent_again_by_an_administrator() {
    let fake = Fake::default();
    let (app, _dir) = with_provider("tencent", &fake).await;
    let county_passed = code_of(Kind::RegistrationCountyPassed, "tencent");
    fake.fail_once(&county_passed, "InvalidParameterValue.IncorrectPhoneNumber");
    let (r, _c) = approved_unit(&app, 2002, "天宁区", "tianning").await;
    check_requests(&fake, "tencent");
    assert!(fake
        .seen()
        .iter()
        .all(|s| s.phone == format!("+86{}", r.mobile)));

    // A number the provider refuses is not retried: failed, audited, on the admin home page.
    let (st, attempts, error) = queue_row(&app, Kind::RegistrationCountyPassed).await;
    assert_eq!((st.as_str(), attempts), ("failed", 1));
    assert!(error.contains("手机号码格式错误"), "{error}");
    app.clock().advance(7200);
    laihua::workflow::sms::run(&app.state).await.unwrap();
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.template == county_passed)
            .count(),
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sms.failed'")
            .await,
        1
    );
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin
        .get("/admin")
        .await
        .assert_ok()
        .assert_has("有1条短信发送失败或结果不明");
    let page = admin.get("/admin/sms?show=problems").await;
    page.assert_ok()
        .assert_has("腾讯云短信")
        .assert_has("发送失败")
        .assert_has("重新发送")
        .assert_lacks("注册申请审核通过");
    let id = app
        .scalar("SELECT id FROM sms_queue WHERE state = 'failed'")
        .await;

    // 【重新发送】: sent once more, audited; a second press finds nothing to send.
    admin
        .act(&format!("/admin/sms/{id}/resend"), &[])
        .await
        .assert_redirect(&format!("/admin/sms?id={id}&ok=resent"));
    assert_eq!(
        queue_row(&app, Kind::RegistrationCountyPassed).await.0,
        "sent"
    );
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.template == county_passed)
            .count(),
        2
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sms.resend'")
            .await,
        1
    );
    let again = admin.act(&format!("/admin/sms/{id}/resend"), &[]).await;
    assert!(again.has("已不是"), "{}", again.status);
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.template == county_passed)
            .count(),
        2
    );
    // Units and offices may not see the list.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    assert_ne!(city.get("/admin/sms").await.status, 200);

    // A visitor's name is not shown in the list.
    let sms = laihua::sms::Sms::new(
        Kind::VisitReturned,
        &[
            ("group", "20260001"),
            ("name", "Jane Doe"),
            ("office", "市外办"),
        ],
    );
    let mut conn = app.state.pool().acquire().await.unwrap();
    let _ = laihua::workflow::sms::enqueue(&mut conn, None, "13900001111", &sms, app.state.now())
        .await
        .unwrap();
    drop(conn);
    admin
        .get("/admin/sms")
        .await
        .assert_has("到访人员J**的销签登记被市外办退回")
        .assert_lacks("Jane Doe");
    laihua::workflow::sms::run(&app.state).await.unwrap();

    // The list keeps a message 180 days; codes are kept a week.
    app.clock().advance(179 * 86_400);
    laihua::workflow::accounts::housekeeping(&app.state)
        .await
        .unwrap();
    assert!(app.scalar("SELECT COUNT(*) FROM sms_queue").await > 0);
    app.clock().advance(2 * 86_400);
    laihua::workflow::accounts::housekeeping(&app.state)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sms_queue").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sms_codes").await, 0);
}

#[tokio::test]
async fn a_message_goes_out_once_across_instances_and_a_lost_claim_is_not_resent() {
    let fake = Fake::default();
    let (app, _dir) = with_provider("aliyun", &fake).await;
    let peer = app.spawn_peer().await;
    let unit_id = {
        let (r, _) = approved_unit(&app, 2003, "天宁区", "tianning").await;
        r.unit_id
    };
    let before = fake.seen().len();
    let now = app.state.now();
    // 30 notifications due at once, sent by both instances' jobs at the same time.
    for n in 0..30 {
        let sms =
            laihua::sms::Sms::new(Kind::GroupDispatched, &[("group", &format!("2026{n:04}"))]);
        let mut conn = app.state.pool().acquire().await.unwrap();
        let _ = laihua::workflow::sms::enqueue(
            &mut conn,
            Some(unit_id),
            &format!("1390000{n:04}"),
            &sms,
            now,
        )
        .await
        .unwrap();
    }
    let (a, b) = tokio::join!(
        laihua::workflow::sms::run(&app.state),
        laihua::workflow::sms::run(&peer.state)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 30, "{a:?} {b:?}");
    let seen = fake.seen();
    assert_eq!(seen.len() - before, 30);
    let mut phones: Vec<&str> = seen[before..].iter().map(|s| s.phone.as_str()).collect();
    phones.sort();
    phones.dedup();
    assert_eq!(phones.len(), 30, "a message went out twice");
    check_requests(&fake, "aliyun");

    // An instance that stopped after claiming a message: when the lease runs out the message
    // is "unknown" (it may have gone out) and not sent again by itself.
    let sms = laihua::sms::Sms::new(Kind::GroupDispatched, &[("group", "20269999")]);
    let mut conn = app.state.pool().acquire().await.unwrap();
    let _ = laihua::workflow::sms::enqueue(&mut conn, Some(unit_id), "13900009999", &sms, now)
        .await
        .unwrap();
    drop(conn);
    let id = app.scalar("SELECT MAX(id) FROM sms_queue").await;
    assert!(
        laihua::store::sms_queue::claim(app.state.pool(), id, "stopped", now, now + 120)
            .await
            .unwrap()
            .is_some()
    );
    app.clock().advance(121);
    let ran = laihua::workflow::sms::run(&app.state).await.unwrap();
    assert_eq!((ran.sent, ran.unknown), (0, 1));
    laihua::workflow::sms::run(&peer.state).await.unwrap();
    assert!(fake.seen().iter().all(|s| s.phone != "13900009999"));
    assert_eq!(queue_row(&app, Kind::GroupDispatched).await.0, "unknown");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sms.unknown'")
            .await,
        1
    );
}

/// Asks for a registration code for `mobile` as a new visitor would.
async fn ask_code(app: &TestApp, mobile: &str) -> Page {
    let c = app.client();
    c.get("/register").await.assert_ok();
    app.clock().advance(11);
    c.post("/register", &[]).await;
    c.post(
        "/register/mobile",
        &[("action", "send"), ("mobile", mobile)],
    )
    .await
}

#[tokio::test]
async fn a_sixth_code_within_an_hour_is_refused_before_the_provider_is_asked() {
    let app = TestApp::spawn().await;
    let mobile = "13912340001";
    // Codes at 11, 722, 1433, 2144 and 2855 s.
    for _ in 0..5 {
        ask_code(&app, mobile).await.assert_has("验证码已发送");
        app.clock().advance(700);
    }
    // The sixth at 3566 s: the first leaves the hour at 3611 s.
    ask_code(&app, mobile)
        .await
        .assert_has("该手机号码一小时内获取验证码已达5次，请1分钟后再试");
    assert_eq!(app.sms().len(), 5);
    app.clock().advance(50);
    ask_code(&app, mobile).await.assert_has("验证码已发送");
    assert_eq!(app.sms().len(), 6);
    let (_, text) = app.sms().pop().unwrap();
    assert!(
        text.starts_with("【") && text.contains("您的验证码为"),
        "{text}"
    );
}

#[tokio::test]
async fn the_provider_refusing_a_code_is_told_plainly() {
    let fake = Fake::default();
    let (app, _dir) = with_provider("aliyun", &fake).await;
    fake.fail_once(
        &code_of(Kind::VerifyCode, "aliyun"),
        "isv.BUSINESS_LIMIT_CONTROL",
    );
    ask_code(&app, "13912340002")
        .await
        .assert_has("该手机号码接收短信过于频繁，已达短信平台的限制，请稍后再试");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM sms_queue WHERE kind = 'verify_code' AND state = 'failed'"
        )
        .await,
        1
    );
    check_requests(&fake, "aliyun");
}

#[tokio::test]
async fn a_provider_without_a_template_for_every_kind_does_not_start() {
    let dir = tempdir::TempDir::new();
    let path = dir.path().join("t.toml");
    std::fs::write(
        &path,
        "[aliyun]\nverify_code = \"SMS_1\"\ngroup_dispatched = \"SMS_2\"\n",
    )
    .unwrap();
    let mut serve = laihua::config::ServeArgs {
        sms_provider: laihua::config::SmsProvider::Aliyun,
        sms_templates: Some(path.clone()),
        aliyun_access_key_id: "id".into(),
        aliyun_access_key_secret: "secret".into(),
        aliyun_sign_name: "常州外办".into(),
        aliyun_signature_version: 3,
        ..Default::default()
    };
    let common = laihua::config::Common {
        data_dir: dir.path().to_path_buf(),
        data_key_file: None,
        database_url: None,
        files: Default::default(),
    };
    let config = laihua::config::Config::new(&common, serve.clone());
    let e = laihua::app::sms_sender(&config, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("registration_approved")
            && e.contains("visit_overdue")
            && !e.contains("group_dispatched,"),
        "{e}"
    );
    serve.sms_templates = None;
    let config = laihua::config::Config::new(&common, serve.clone());
    let e = laihua::app::sms_sender(&config, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--sms-templates"), "{e}");
    serve.sms_provider = laihua::config::SmsProvider::Tencent;
    serve.sms_templates = Some(path);
    let config = laihua::config::Config::new(&common, serve);
    let e = laihua::app::sms_sender(&config, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("LAIHUA_TENCENT_SECRET_ID") && e.contains("LAIHUA_TENCENT_SDK_APP_ID"),
        "{e}"
    );
}

/// Signature V1, kept for older gateways, signs the same parameters.
#[tokio::test]
async fn aliyun_signature_v1_is_still_accepted() {
    let fake = Fake::default();
    let base = start_fake(&fake).await;
    let dir = tempdir::TempDir::new();
    let templates =
        laihua::sms::templates::for_provider(&templates_file(dir.path()), "aliyun").unwrap();
    let sender = laihua::sms::aliyun::AliyunSender::new(laihua::sms::aliyun::AliyunConfig {
        access_key_id: ALI_ID.into(),
        access_key_secret: ALI_SECRET.into(),
        sign_name: NOTE_SIGN.into(),
        code_sign_name: CODE_SIGN.into(),
        templates,
        region_id: String::new(),
        endpoint: format!("{base}/aliyun/"),
        signature: laihua::sms::aliyun::SignatureVersion::V1,
    });
    let code = laihua::sms::Sms::new(Kind::VerifyCode, &[("code", "012345")]);
    let long = "Maximilian Alexander Konstantin von Hohenzollern-Sigmaringen";
    let note = laihua::sms::Sms::new(
        Kind::VisitReturned,
        &[("group", "20260001"), ("name", long), ("office", "市外办")],
    );
    sender.send("13912345678", &code).await.unwrap();
    sender.send("13912345678", &note).await.unwrap();
    check_requests(&fake, "aliyun");
    let seen = fake.seen();
    assert_eq!(seen[1].params[1].1, "Maximilian Alexander Konstantin vo…");
    // A refusal is told with its code and what it means.
    fake.fail_once(
        &code_of(Kind::VerifyCode, "aliyun"),
        "isv.MOBILE_NUMBER_ILLEGAL",
    );
    let e = sender.send("13912345678", &code).await.unwrap_err();
    assert_eq!(e.retry, laihua::sms::Retry::Never);
    assert!(
        e.message.contains("手机号码格式错误") && e.message.contains("isv.MOBILE_NUMBER_ILLEGAL"),
        "{e}"
    );
    // Nothing listening: not sent, tried again later; the number is not in the message.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let tencent = laihua::sms::tencent::TencentSender::new(laihua::sms::tencent::TencentConfig {
        secret_id: TC_ID.into(),
        secret_key: TC_SECRET.into(),
        sdk_app_id: "1400006666".into(),
        sign_name: NOTE_SIGN.into(),
        code_sign_name: String::new(),
        templates: laihua::sms::templates::for_provider(&templates_file(dir.path()), "tencent")
            .unwrap(),
        region: String::new(),
        endpoint: format!("http://{addr}/"),
        param_max: 35,
    });
    let e = tencent.send("13912345678", &code).await.unwrap_err();
    assert_eq!(e.retry, laihua::sms::Retry::Later);
    assert!(
        e.message.contains("无法连接短信平台") && !e.message.contains("13912345678"),
        "{e}"
    );
}

/// A provider that takes 8 s to answer does not hold the reviewer's page: the page comes back
/// after the 3 s the request waits, and the message is sent in the background, once.
#[tokio::test]
async fn a_slow_provider_does_not_hold_the_page() {
    let fake = Fake::default();
    let (app, _dir) = with_provider("tencent", &fake).await;
    let (r, _c, county) = submitted_unit(&app, 2004, "天宁区", "tianning").await;
    *fake.slow.lock().unwrap() = 8;
    let started = std::time::Instant::now();
    county
        .act(
            &format!("/review/units/{}/return", r.unit_id),
            &[("reason", "营业执照副本不清晰，请重新扫描。")],
        )
        .await
        .assert_redirect("/review");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(7), "{took:?}");
    // Claimed by the background attempt: the job does not send it too.
    assert_eq!(
        queue_row(&app, Kind::RegistrationReturned).await.0,
        "sending"
    );
    laihua::workflow::sms::run(&app.state).await.unwrap();
    for _ in 0..200 {
        if queue_row(&app, Kind::RegistrationReturned).await.0 == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(queue_row(&app, Kind::RegistrationReturned).await.0, "sent");
    let returned = code_of(Kind::RegistrationReturned, "tencent");
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.template == returned)
            .count(),
        1
    );
    check_requests(&fake, "tencent");
}
