#![allow(clippy::unwrap_used)]
//! `AliyunSender` against a local mock of Dysmsapi that verifies the request signature with its
//! own implementation of Aliyun's RPC signature (it does not call `signed_query`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use laihua::sms::aliyun::{AliyunConfig, AliyunSender};

const SECRET: &str = "mock-secret/+=";
const KEY_ID: &str = "LTAI-mock-id";
const SIGN_NAME: &str = "来华邀请";
const TEMPLATE: &str = "SMS_400000001";
const PHONE: &str = "13912345678";
const TEXT: &str =
    "尊敬的 Jane Doe: 您的邀请函 (No. 2024*001~A) 已签发, 详见 https://x.cn/a?b=c&d=e+f";

#[derive(Clone)]
struct Mock {
    answer: &'static str,
    seen: Arc<Mutex<Vec<Result<(), String>>>>,
}

/// Aliyun's percent-encoding, written independently: RFC 3986 unreserved characters stay,
/// every other UTF-8 byte becomes `%XX` with upper-case hex.
fn aliyun_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            assert_ne!(bytes[i], b'+', "space must be sent as %20, not +");
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Checks one received query string; `Err` describes the first problem.
fn verify(raw: &str) -> Result<(), String> {
    let mut params = BTreeMap::new();
    for pair in raw.split('&') {
        let (k, v) = pair.split_once('=').ok_or(format!("bad pair {pair}"))?;
        // Every value must already be in Aliyun's canonical encoding.
        let (k, v) = (percent_decode(k), percent_decode(v));
        if aliyun_encode(&v) != pair.split_once('=').unwrap().1 {
            return Err(format!("{k} is not encoded canonically: {pair}"));
        }
        if params.insert(k.clone(), v).is_some() {
            return Err(format!("duplicate parameter {k}"));
        }
    }

    let expect = |name: &str, value: &str| -> Result<(), String> {
        match params.get(name) {
            Some(v) if v == value => Ok(()),
            other => Err(format!("{name}: expected {value:?}, got {other:?}")),
        }
    };
    expect("AccessKeyId", KEY_ID)?;
    expect("Action", "SendSms")?;
    expect("Format", "JSON")?;
    expect("PhoneNumbers", PHONE)?;
    expect("RegionId", "cn-hangzhou")?;
    expect("SignName", SIGN_NAME)?;
    expect("SignatureMethod", "HMAC-SHA1")?;
    expect("SignatureVersion", "1.0")?;
    expect("TemplateCode", TEMPLATE)?;
    expect("Version", "2017-05-25")?;

    let template: serde_json::Value =
        serde_json::from_str(params.get("TemplateParam").ok_or("no TemplateParam")?)
            .map_err(|e| format!("TemplateParam is not JSON: {e}"))?;
    if template != serde_json::json!({ "content": TEXT }) {
        return Err(format!("TemplateParam: {template}"));
    }

    let nonce = params.get("SignatureNonce").ok_or("no SignatureNonce")?;
    if nonce.len() < 16 {
        return Err(format!("SignatureNonce too short: {nonce}"));
    }
    let ts = params.get("Timestamp").ok_or("no Timestamp")?;
    let parsed = chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|e| format!("Timestamp {ts}: {e}"))?;
    let skew = (chrono::Utc::now().naive_utc() - parsed)
        .num_seconds()
        .abs();
    if skew > 300 {
        return Err(format!("Timestamp {ts} is {skew}s off"));
    }

    // Recompute the signature over every parameter except Signature itself.
    let signature = params.remove("Signature").ok_or("no Signature")?;
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", aliyun_encode(k), aliyun_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!("GET&%2F&{}", aliyun_encode(&canonical));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{SECRET}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if signature != expected {
        return Err(format!("Signature {signature}, expected {expected}"));
    }
    Ok(())
}

async fn handler(State(mock): State<Mock>, RawQuery(query): RawQuery) -> String {
    let result = verify(query.as_deref().unwrap_or(""));
    let answer = match &result {
        Ok(()) => mock.answer.to_owned(),
        Err(e) => serde_json::json!({ "Code": "SignatureDoesNotMatch", "Message": e }).to_string(),
    };
    mock.seen.lock().unwrap().push(result);
    answer
}

/// Starts the mock and returns a sender pointed at it plus the log of checked requests.
async fn start(answer: &'static str) -> (AliyunSender, Arc<Mutex<Vec<Result<(), String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route("/", get(handler)).with_state(Mock {
        answer,
        seen: seen.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sender = AliyunSender::new(AliyunConfig {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.into(),
        sign_name: SIGN_NAME.into(),
        template_code: TEMPLATE.into(),
        region_id: "cn-hangzhou".into(),
        endpoint: format!("http://{addr}/"),
    });
    (sender, seen)
}

#[tokio::test]
async fn send_signs_the_request_and_accepts_ok() {
    let (sender, seen) = start(r#"{"Code":"OK","Message":"OK","BizId":"x","RequestId":"y"}"#).await;

    let result = sender.send(PHONE, TEXT).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "expected exactly one request: {seen:?}");
    assert_eq!(seen[0], Ok(()));
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn send_reports_provider_error_code() {
    let (sender, seen) =
        start(r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发流控"}"#).await;

    let err = sender.send(PHONE, TEXT).await.unwrap_err();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, vec![Ok(())], "the request itself must be valid");
    let shown = err.to_string();
    assert!(shown.contains("isv.BUSINESS_LIMIT_CONTROL"), "{shown}");
    assert!(shown.contains("触发流控"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn send_reports_http_errors() {
    // Nothing listens on this port once the listener is dropped.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let sender = AliyunSender::new(AliyunConfig {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.into(),
        sign_name: SIGN_NAME.into(),
        template_code: TEMPLATE.into(),
        region_id: String::new(),
        endpoint: format!("http://{addr}/"),
    });

    let err = sender.send(PHONE, TEXT).await.unwrap_err();

    let shown = err.to_string();
    assert!(shown.contains("阿里云短信请求失败"), "{shown}");
    assert!(
        !shown.contains(PHONE),
        "error must not echo the request URL: {shown}"
    );
}

#[tokio::test]
async fn send_reports_http_status_errors() {
    let app = Router::new().route(
        "/",
        get(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sender = AliyunSender::new(AliyunConfig {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.into(),
        sign_name: SIGN_NAME.into(),
        template_code: TEMPLATE.into(),
        region_id: String::new(),
        endpoint: format!("http://{addr}/"),
    });

    let shown = sender.send(PHONE, TEXT).await.unwrap_err().to_string();

    assert!(shown.contains("503"), "{shown}");
}
