//! Aliyun (Alibaba Cloud) SMS provider: Dysmsapi `SendSms`, API version 2017-05-25.
//!
//! Requests use the classic RPC signature (SignatureVersion 1.0, HMAC-SHA1):
//! all parameters except `Signature` are percent-encoded, sorted by name and joined into a
//! canonicalized query string; the string to sign is
//! `"GET&%2F&" + percent_encode(canonicalized)`; the key is `AccessKeySecret + "&"`; the
//! signature is the base64 of the HMAC-SHA1 digest and is appended as the `Signature` parameter.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use sha1::Sha1;

use super::error::SmsError;

/// Public endpoint of the SMS service.
pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";
/// Region used when the configuration leaves `region_id` empty.
pub const DEFAULT_REGION_ID: &str = "cn-hangzhou";
/// Dysmsapi version implemented here.
pub const API_VERSION: &str = "2017-05-25";
/// Timeout of one whole `SendSms` request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything except the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded,
/// so space becomes `%20` (not `+`), `*` becomes `%2A` and `~` stays as it is.
const ALIYUN_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

type HmacSha1 = Hmac<Sha1>;

/// Credentials and fixed request parameters of the Aliyun SMS account.
#[derive(Clone)]
pub struct AliyunConfig {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// Approved signature name (签名), e.g. `来华邀请`.
    pub sign_name: String,
    /// Approved template code, e.g. `SMS_123456789`; the template must have a `${content}` variable.
    pub template_code: String,
    /// Region, `cn-hangzhou` when empty.
    pub region_id: String,
    /// Service endpoint, e.g. `https://dysmsapi.aliyuncs.com/`; [`DEFAULT_ENDPOINT`] when empty.
    pub endpoint: String,
}

impl fmt::Debug for AliyunConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliyunConfig")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("sign_name", &self.sign_name)
            .field("template_code", &self.template_code)
            .field("region_id", &self.region_id)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl AliyunConfig {
    fn region(&self) -> &str {
        if self.region_id.trim().is_empty() {
            DEFAULT_REGION_ID
        } else {
            self.region_id.trim()
        }
    }

    fn endpoint(&self) -> &str {
        if self.endpoint.trim().is_empty() {
            DEFAULT_ENDPOINT
        } else {
            self.endpoint.trim()
        }
    }
}

/// Sends SMS through Aliyun's Dysmsapi.
#[derive(Clone)]
pub struct AliyunSender {
    config: AliyunConfig,
    client: reqwest::Client,
}

impl fmt::Debug for AliyunSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliyunSender")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The fields of the `SendSms` response that matter here.
#[derive(Debug, Deserialize)]
struct SendSmsResponse {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
}

impl AliyunSender {
    pub fn new(config: AliyunConfig) -> Self {
        // Building only fails if the TLS backend cannot be initialised; the per-request
        // timeout in `send` still applies to the fallback client.
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self { config, client }
    }

    /// Sends `text` to `to` as the `content` variable of the configured template.
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let query = signed_query(&self.config, to, text, &nonce, &timestamp);
        let url = format!("{}?{}", self.config.endpoint(), query);

        let response = self
            .client
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| SmsError::Provider(format!("阿里云短信请求失败: {}", describe(e))))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| SmsError::Provider(format!("阿里云短信响应读取失败: {}", describe(e))))?;
        let parsed: Option<SendSmsResponse> = serde_json::from_str(&body).ok();

        match parsed {
            Some(SendSmsResponse {
                code: Some(code), ..
            }) if status.is_success() && code == "OK" => Ok(()),
            Some(SendSmsResponse { code, message }) => Err(SmsError::Provider(format!(
                "阿里云短信返回错误 (HTTP {}): {} {}",
                status.as_u16(),
                code.as_deref().unwrap_or("<无 Code>"),
                message.as_deref().unwrap_or("")
            ))),
            None => Err(SmsError::Provider(format!(
                "阿里云短信返回无法解析的响应 (HTTP {}): {}",
                status.as_u16(),
                body.chars().take(200).collect::<String>()
            ))),
        }
    }
}

/// The error and its causes, without the request URL (it carries the phone number and text).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Builds the complete signed query string (without the leading `?`) of a `SendSms` request
/// with the given nonce and timestamp (`YYYY-MM-DDTHH:MM:SSZ`, UTC).
pub fn signed_query(
    config: &AliyunConfig,
    to: &str,
    text: &str,
    nonce: &str,
    timestamp: &str,
) -> String {
    let template_param = serde_json::json!({ "content": text }).to_string();
    let params = [
        ("AccessKeyId", config.access_key_id.as_str()),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("PhoneNumbers", to),
        ("RegionId", config.region()),
        ("SignName", config.sign_name.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", nonce),
        ("SignatureVersion", "1.0"),
        ("TemplateCode", config.template_code.as_str()),
        ("TemplateParam", template_param.as_str()),
        ("Timestamp", timestamp),
        ("Version", API_VERSION),
    ];
    let canonical = canonicalized_query(&params);
    let signature = sign(&config.access_key_secret, &canonical);
    format!("{canonical}&Signature={}", percent_encode(&signature))
}

/// Percent-encodes per Aliyun's rules (RFC 3986, upper-case hex, `~` unescaped).
fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, ALIYUN_ENCODE_SET).to_string()
}

/// Encodes names and values and joins them sorted by parameter name.
fn canonicalized_query(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Base64 HMAC-SHA1 of `"GET&%2F&" + percent_encode(canonical)` keyed with `secret + "&"`.
fn sign(secret: &str, canonical: &str) -> String {
    let string_to_sign = format!("GET&{}&{}", percent_encode("/"), percent_encode(canonical));
    let key = format!("{secret}&");
    #[allow(clippy::expect_used)]
    let mut mac =
        HmacSha1::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AliyunConfig {
        AliyunConfig {
            access_key_id: "LTAItestid".into(),
            access_key_secret: "testsecret".into(),
            sign_name: "来华邀请".into(),
            template_code: "SMS_123456789".into(),
            region_id: String::new(),
            endpoint: DEFAULT_ENDPOINT.into(),
        }
    }

    const TEXT: &str = "您好 John*~ 邀请函已签发: a+b/c&d=e";
    const NONCE: &str = "8c1f6d2a-6f3e-4b7e-9d1a-2b5c7e9f0a13";
    const TIMESTAMP: &str = "2024-05-06T07:08:09Z";

    #[test]
    fn percent_encoding_follows_aliyun_rules() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(percent_encode("\""), "%22");
        assert_eq!(percent_encode("%"), "%25");
        assert_eq!(percent_encode("来"), "%E6%9D%A5");
    }

    /// The worked example of Aliyun's "签名机制" documentation (ECS DescribeRegions, AccessKey
    /// `testid` / `testsecret`), whose documented signature is `CT9X0VtwR86fNWSnsc6v8YGOjuE=`.
    #[test]
    fn signature_matches_documented_example() {
        let params = [
            ("TimeStamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ];
        let canonical = canonicalized_query(&params);
        assert_eq!(
            canonical,
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1\
             &SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0\
             &TimeStamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
        );
        assert_eq!(
            sign("testsecret", &canonical),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE="
        );
    }

    /// Expected values computed independently with Python 3's standard library:
    ///
    /// ```text
    /// pe = lambda s: urllib.parse.quote(s, safe='~')
    /// tp = json.dumps({'content': TEXT}, ensure_ascii=False, separators=(',', ':'))
    /// canon = '&'.join(pe(k) + '=' + pe(v) for k, v in sorted(params.items()))
    /// sts = 'GET&%2F&' + pe(canon)
    /// base64.b64encode(hmac.new(b'testsecret&', sts.encode(), hashlib.sha1).digest())
    /// ```
    ///
    /// with the same parameters as below (that script also reproduces the documented
    /// `CT9X0VtwR86fNWSnsc6v8YGOjuE=` of the test above).
    #[test]
    fn signed_query_for_fixed_nonce_and_timestamp() {
        let query = signed_query(&config(), "13800138000", TEXT, NONCE, TIMESTAMP);
        assert_eq!(
            query,
            "AccessKeyId=LTAItestid&Action=SendSms&Format=JSON&PhoneNumbers=13800138000\
             &RegionId=cn-hangzhou&SignName=%E6%9D%A5%E5%8D%8E%E9%82%80%E8%AF%B7\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=8c1f6d2a-6f3e-4b7e-9d1a-2b5c7e9f0a13\
             &SignatureVersion=1.0&TemplateCode=SMS_123456789\
             &TemplateParam=%7B%22content%22%3A%22%E6%82%A8%E5%A5%BD%20John%2A~%20\
             %E9%82%80%E8%AF%B7%E5%87%BD%E5%B7%B2%E7%AD%BE%E5%8F%91%3A%20a%2Bb%2Fc%26d%3De%22%7D\
             &Timestamp=2024-05-06T07%3A08%3A09Z&Version=2017-05-25\
             &Signature=fcuioZ2oXg0b9VlujL0qdqKKZJY%3D"
        );
    }

    #[test]
    fn canonical_order_is_sorted_by_name_and_signature_is_last() {
        let query = signed_query(&config(), "13800138000", "hi", NONCE, TIMESTAMP);
        let names: Vec<&str> = query
            .split('&')
            .filter_map(|pair| pair.split('=').next())
            .collect();
        assert_eq!(
            names,
            [
                "AccessKeyId",
                "Action",
                "Format",
                "PhoneNumbers",
                "RegionId",
                "SignName",
                "SignatureMethod",
                "SignatureNonce",
                "SignatureVersion",
                "TemplateCode",
                "TemplateParam",
                "Timestamp",
                "Version",
                "Signature",
            ]
        );
        let unsorted = [("b", "2"), ("B", "1"), ("a", "3"), ("Ab", "4")];
        assert_eq!(canonicalized_query(&unsorted), "Ab=4&B=1&a=3&b=2");
    }

    #[test]
    fn region_and_endpoint_defaults() {
        let mut c = config();
        assert!(signed_query(&c, "1", "x", NONCE, TIMESTAMP).contains("&RegionId=cn-hangzhou&"));
        c.region_id = "cn-shanghai".into();
        assert!(signed_query(&c, "1", "x", NONCE, TIMESTAMP).contains("&RegionId=cn-shanghai&"));
        c.endpoint = String::new();
        assert_eq!(c.endpoint(), DEFAULT_ENDPOINT);
    }

    #[test]
    fn debug_does_not_leak_the_secret() {
        let sender = AliyunSender::new(config());
        let shown = format!("{:?} {:?}", config(), sender);
        assert!(!shown.contains("testsecret"), "{shown}");
        assert!(shown.contains("LTAItestid"));
    }
}
