//! 阿里云短信 (Dysmsapi `SendSms`, API version 2017-05-25).
//!
//! Requests are signed with signature V3 (`ACS3-HMAC-SHA256`, Alibaba Cloud's current scheme):
//! a `POST /` whose parameters are the canonical query string and whose body is empty; the
//! canonical request (method, path, query, the `host` and `x-acs-*` headers, the body's SHA-256)
//! is hashed, prefixed with the algorithm, and signed with HMAC-SHA256 under the AccessKey
//! secret; `Authorization` carries the key id, the signed headers and the hex signature.
//!
//! Signature V1 (`HMAC-SHA1` over the sorted GET query) is kept behind
//! `--aliyun-signature-version 1` for gateways that do not take V3 yet (an older 专有云/政务云
//! deployment of Apsara Stack).
//!
//! Each kind of message goes through its own approved template (`--sms-templates`) with its named
//! variables as `TemplateParam`; verification codes may use a signature of their own
//! (`--aliyun-code-sign-name`: a verification-only signature cannot send notifications).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use sha1::Sha1;

use super::error::{Reason, Retry, SmsError};
use super::message::Sms;
use super::templates::Templates;
use super::wire::{
    client, exchange, hmac_sha256, host_of, or_default, sha256_hex, sign_for, unrecognised, Sent,
};

/// Public endpoint of the SMS service.
pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";
/// Region used when the configuration leaves `region_id` empty (V1 only).
pub const DEFAULT_REGION_ID: &str = "cn-hangzhou";
/// Dysmsapi version implemented here.
pub const API_VERSION: &str = "2017-05-25";
/// Timeout of one whole `SendSms` request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The signature algorithm of V3.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Everything except the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded,
/// so space becomes `%20` (not `+`), `*` becomes `%2A` and `~` stays as it is.
const ALIYUN_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Which signature the requests carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureVersion {
    /// `ACS3-HMAC-SHA256` (the default).
    #[default]
    V3,
    /// `HMAC-SHA1`, SignatureVersion 1.0.
    V1,
}

/// Credentials, signatures and templates of the Aliyun SMS account.
#[derive(Clone)]
pub struct AliyunConfig {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// Approved signature name (签名) of notifications, e.g. `常州市外办`.
    pub sign_name: String,
    /// Approved signature of verification codes; the notifications' when empty.
    pub code_sign_name: String,
    /// The approved template of every kind of message.
    pub templates: Templates,
    /// Region, `cn-hangzhou` when empty (a V1 parameter).
    pub region_id: String,
    /// Service endpoint, e.g. `https://dysmsapi.aliyuncs.com/`; [`DEFAULT_ENDPOINT`] when empty.
    pub endpoint: String,
    pub signature: SignatureVersion,
}

impl fmt::Debug for AliyunConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliyunConfig")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("sign_name", &self.sign_name)
            .field("code_sign_name", &self.code_sign_name)
            .field("region_id", &self.region_id)
            .field("endpoint", &self.endpoint)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl AliyunConfig {
    fn region(&self) -> &str {
        or_default(&self.region_id, DEFAULT_REGION_ID)
    }

    fn endpoint(&self) -> &str {
        or_default(&self.endpoint, DEFAULT_ENDPOINT)
    }

    /// The signature a message goes out under.
    pub fn sign_name_for(&self, sms: &Sms) -> &str {
        sign_for(sms, &self.sign_name, &self.code_sign_name)
    }

    /// The `SendSms` parameters of a message (without the V1 common parameters).
    fn send_params(&self, to: &str, sms: &Sms) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("PhoneNumbers", to.to_string()),
            ("SignName", self.sign_name_for(sms).to_string()),
            ("TemplateCode", self.templates.code(sms.kind).to_string()),
        ];
        // A template without variables takes no TemplateParam.
        if !sms.values().is_empty() {
            params.push(("TemplateParam", sms.params_json()));
        }
        params
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
    #[serde(rename = "BizId")]
    biz_id: Option<String>,
}

/// A request ready to go: its URL (with the query) and headers.
#[derive(Debug)]
pub struct SignedRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

const NAME: &str = "阿里云短信";

impl AliyunSender {
    pub fn new(config: AliyunConfig) -> Self {
        Self {
            config,
            client: client(REQUEST_TIMEOUT),
        }
    }

    /// Sends `sms` to the mainland number `to` through the kind's template.
    pub async fn send(&self, to: &str, sms: &Sms) -> Result<Sent, SmsError> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let request = match self.config.signature {
            SignatureVersion::V3 => v3_request(&self.config, to, sms, &nonce, &now)?,
            SignatureVersion::V1 => SignedRequest {
                method: "GET",
                url: format!(
                    "{}?{}",
                    self.config.endpoint(),
                    v1_query(&self.config, to, sms, &nonce, &now)
                ),
                headers: Vec::new(),
            },
        };
        // V3 posts an empty body (the parameters are in the query); V1 is a GET.
        let body = (request.method == "POST").then(String::new);
        let (status, text) = exchange(
            &self.client,
            NAME,
            &request.url,
            &request.headers,
            body,
            REQUEST_TIMEOUT,
        )
        .await?;
        answer(status, &text)
    }
}

/// The outcome a `SendSms` answer gives.
fn answer(status: reqwest::StatusCode, body: &str) -> Result<Sent, SmsError> {
    match serde_json::from_str::<SendSmsResponse>(body).ok() {
        Some(SendSmsResponse {
            code: Some(code),
            biz_id,
            ..
        }) if status.is_success() && code == "OK" => Ok(Sent {
            reference: biz_id.unwrap_or_default(),
        }),
        Some(SendSmsResponse {
            code: Some(code),
            message,
            ..
        }) => Err(SmsError::from_code(
            NAME,
            ERRORS,
            &code,
            message.as_deref().unwrap_or(""),
        )),
        _ => Err(unrecognised(NAME, status, body)),
    }
}

/// Aliyun's error codes: whether to try again, what the person waiting for a code is told, and
/// what administrators read.
const ERRORS: &[(&str, Retry, Reason, &str)] = &[
    (
        "isv.BUSINESS_LIMIT_CONTROL",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码的发送频率限制（每分钟1条、每小时5条、每天10条）",
    ),
    (
        "isv.DAY_LIMIT_CONTROL",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码当日发送上限",
    ),
    (
        "isv.MOBILE_NUMBER_ILLEGAL",
        Retry::Never,
        Reason::NumberInvalid,
        "手机号码格式错误",
    ),
    (
        "isv.MOBILE_COUNT_OVER_LIMIT",
        Retry::Never,
        Reason::NumberInvalid,
        "手机号码数量超过限制",
    ),
    (
        "isv.BLACK_KEY_CONTROL_LIMIT",
        Retry::Never,
        Reason::Other,
        "短信内容含有禁止发送的词语",
    ),
    (
        "isv.SMS_CONTENT_ILLEGAL",
        Retry::Never,
        Reason::Other,
        "短信内容违规",
    ),
    (
        "isv.PARAM_NOT_SUPPORT_URL",
        Retry::Never,
        Reason::Other,
        "变量中不能含有网址",
    ),
    (
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        Retry::Never,
        Reason::NumberInvalid,
        "该模板不能发往此号码",
    ),
    (
        "isv.SMS_TEMPLATE_ILLEGAL",
        Retry::Later,
        Reason::Other,
        "模板不存在或未审核通过（请核对短信模板配置文件中的模板代码）",
    ),
    (
        "isv.SMS_SIGNATURE_ILLEGAL",
        Retry::Later,
        Reason::Other,
        "签名不存在或未审核通过（请核对签名名称）",
    ),
    (
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        Retry::Later,
        Reason::Other,
        "签名与模板类型不符（验证码签名不能发送通知短信，请为通知配置通用签名）",
    ),
    (
        "isv.TEMPLATE_MISSING_PARAMETERS",
        Retry::Later,
        Reason::Other,
        "模板变量缺少对应的参数值（模板应与 laihua sms templates 列出的文本一致）",
    ),
    (
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        Retry::Later,
        Reason::Other,
        "模板变量值不合规",
    ),
    (
        "isv.PARAM_LENGTH_LIMIT",
        Retry::Later,
        Reason::Other,
        "参数超出长度限制",
    ),
    (
        "isv.INVALID_JSON_PARAM",
        Retry::Later,
        Reason::Other,
        "模板参数不是合法的JSON",
    ),
    (
        "isv.INVALID_PARAMETERS",
        Retry::Later,
        Reason::Other,
        "参数格式错误",
    ),
    (
        "isv.AMOUNT_NOT_ENOUGH",
        Retry::Later,
        Reason::Other,
        "账户余额不足",
    ),
    (
        "isv.OUT_OF_SERVICE",
        Retry::Later,
        Reason::Other,
        "业务停机（账户欠费）",
    ),
    (
        "isv.ACCOUNT_NOT_EXISTS",
        Retry::Later,
        Reason::Other,
        "账户不存在",
    ),
    (
        "isv.ACCOUNT_ABNORMAL",
        Retry::Later,
        Reason::Other,
        "账户异常",
    ),
    (
        "isv.PRODUCT_UN_SUBSCRIPT",
        Retry::Later,
        Reason::Other,
        "未开通短信服务",
    ),
    (
        "isv.DENY_IP_RANGE",
        Retry::Later,
        Reason::Other,
        "本机地址被禁止调用",
    ),
    (
        "isp.RAM_PERMISSION_DENY",
        Retry::Later,
        Reason::Other,
        "RAM 权限不足（AccessKey 须有 dysms:SendSms 权限）",
    ),
    (
        "isp.SYSTEM_ERROR",
        Retry::Later,
        Reason::Other,
        "短信平台系统错误",
    ),
    (
        "SignatureDoesNotMatch",
        Retry::Later,
        Reason::Other,
        "请求签名不符（请核对 AccessKey Secret）",
    ),
    (
        "IncompleteSignature",
        Retry::Later,
        Reason::Other,
        "请求签名不完整",
    ),
    (
        "InvalidAccessKeyId.NotFound",
        Retry::Later,
        Reason::Other,
        "AccessKey ID 不存在",
    ),
    (
        "InvalidAccessKeyId.Inactive",
        Retry::Later,
        Reason::Other,
        "AccessKey ID 已停用",
    ),
    (
        "InvalidTimeStamp.Expired",
        Retry::Later,
        Reason::Other,
        "请求时间与平台相差过大（请校准服务器时钟）",
    ),
    (
        "SignatureNonceUsed",
        Retry::Later,
        Reason::Other,
        "随机数已被使用",
    ),
    (
        "Throttling",
        Retry::Later,
        Reason::Other,
        "调用过于频繁，被平台限流",
    ),
    (
        "ServiceUnavailable",
        Retry::Later,
        Reason::Other,
        "短信平台暂时不可用",
    ),
    (
        "InternalError",
        Retry::Later,
        Reason::Other,
        "短信平台内部错误",
    ),
];

/// The signed V3 request of a message with the given nonce and time (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn v3_request(
    config: &AliyunConfig,
    to: &str,
    sms: &Sms,
    nonce: &str,
    date: &str,
) -> Result<SignedRequest, SmsError> {
    let endpoint = config.endpoint();
    let host = host_of(endpoint)
        .ok_or_else(|| SmsError::new(Retry::Later, format!("{NAME}：服务地址无效：{endpoint}")))?;
    let params = config.send_params(to, sms);
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let query = canonicalized_query(&pairs);
    let mut headers = vec![
        ("host".to_string(), host),
        ("x-acs-action".to_string(), "SendSms".to_string()),
        ("x-acs-content-sha256".to_string(), sha256_hex(b"")),
        ("x-acs-date".to_string(), date.to_string()),
        ("x-acs-signature-nonce".to_string(), nonce.to_string()),
        ("x-acs-version".to_string(), API_VERSION.to_string()),
    ];
    let authorization = v3_authorization(
        &config.access_key_id,
        &config.access_key_secret,
        "POST",
        "/",
        &query,
        &headers,
        &sha256_hex(b""),
    );
    headers.push(("authorization".to_string(), authorization));
    Ok(SignedRequest {
        method: "POST",
        url: format!("{endpoint}?{query}"),
        headers,
    })
}

/// The V3 canonical request: method, path, query, the headers (lower-case names, sorted,
/// `name:value` lines), the signed header names, the payload hash.
pub fn v3_canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    let mut lines: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    lines.sort();
    let canonical_headers: String = lines.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = lines
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload_hash}"),
        signed,
    )
}

/// The `Authorization` header of a V3 request whose headers are all signed.
pub fn v3_authorization(
    key_id: &str,
    secret: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> String {
    let (canonical, signed) = v3_canonical_request(method, path, query, headers, payload_hash);
    let string_to_sign = format!("{V3_ALGORITHM}\n{}", sha256_hex(canonical.as_bytes()));
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    format!("{V3_ALGORITHM} Credential={key_id},SignedHeaders={signed},Signature={signature}")
}

/// The complete signed V1 query string (without the leading `?`) with the given nonce and
/// timestamp (`YYYY-MM-DDTHH:MM:SSZ`, UTC).
pub fn v1_query(
    config: &AliyunConfig,
    to: &str,
    sms: &Sms,
    nonce: &str,
    timestamp: &str,
) -> String {
    let mut params: Vec<(&str, String)> = config.send_params(to, sms);
    params.extend([
        ("AccessKeyId", config.access_key_id.clone()),
        ("Action", "SendSms".to_string()),
        ("Format", "JSON".to_string()),
        ("RegionId", config.region().to_string()),
        ("SignatureMethod", "HMAC-SHA1".to_string()),
        ("SignatureNonce", nonce.to_string()),
        ("SignatureVersion", "1.0".to_string()),
        ("Timestamp", timestamp.to_string()),
        ("Version", API_VERSION.to_string()),
    ]);
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let canonical = canonicalized_query(&pairs);
    let signature = v1_sign(&config.access_key_secret, &canonical);
    format!("{canonical}&Signature={}", percent_encode(&signature))
}

/// Percent-encodes per Aliyun's rules (RFC 3986, upper-case hex, `~` unescaped).
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, ALIYUN_ENCODE_SET).to_string()
}

/// Encodes names and values and joins them sorted by parameter name.
pub fn canonicalized_query(params: &[(&str, &str)]) -> String {
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
fn v1_sign(secret: &str, canonical: &str) -> String {
    let string_to_sign = format!("GET&{}&{}", percent_encode("/"), percent_encode(canonical));
    let key = format!("{secret}&");
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sms::message::Kind;

    fn config() -> AliyunConfig {
        AliyunConfig {
            access_key_id: "LTAItestid".into(),
            access_key_secret: "testsecret".into(),
            sign_name: "来华邀请".into(),
            code_sign_name: String::new(),
            templates: Templates::from_pairs(
                Kind::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (*k, format!("SMS_{}", 100 + i))),
            ),
            region_id: String::new(),
            endpoint: DEFAULT_ENDPOINT.into(),
            signature: SignatureVersion::V3,
        }
    }

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

    /// The worked example of Aliyun's V1 "签名机制" documentation (ECS DescribeRegions,
    /// AccessKey `testid` / `testsecret`), whose documented signature is
    /// `CT9X0VtwR86fNWSnsc6v8YGOjuE=`.
    #[test]
    fn v1_signature_matches_documented_example() {
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
            v1_sign("testsecret", &canonical),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE="
        );
    }

    /// The worked example of Aliyun's "V3版本请求体&签名机制" (help.aliyun.com/zh/sdk/
    /// product-overview/v3-request-structure-and-signature): RunInstances with AccessKey
    /// `YourAccessKeyId` / `YourAccessKeySecret`; its canonical request, hash and signature are
    /// quoted from the page (the official Python SDK gives the same Authorization).
    #[test]
    fn v3_signature_matches_documented_example() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(sha256_hex(b""), empty);
        let headers: Vec<(String, String)> = [
            ("x-acs-version", "2014-05-26"),
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-content-sha256", empty),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let query = canonicalized_query(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ]);
        let (canonical, signed) = v3_canonical_request("POST", "/", &query, &headers, empty);
        assert_eq!(
            canonical,
            "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n\
             host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n\
             x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
             x-acs-version:2014-05-26\n\n\
             host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signed,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            v3_authorization(
                "YourAccessKeyId",
                "YourAccessKeySecret",
                "POST",
                "/",
                &query,
                &headers,
                empty
            ),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;\
             x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    /// A SendSms request: every parameter in the query, the body empty, the headers signed.
    #[test]
    fn v3_send_request_carries_the_kinds_template() {
        let sms = Sms::new(
            Kind::GroupReturned,
            &[("group", "20260001"), ("office", "市外办")],
        );
        let r = v3_request(&config(), "13800138000", &sms, NONCE, TIMESTAMP).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.url,
            "https://dysmsapi.aliyuncs.com/?PhoneNumbers=13800138000\
             &SignName=%E6%9D%A5%E5%8D%8E%E9%82%80%E8%AF%B7&TemplateCode=SMS_109\
             &TemplateParam=%7B%22group%22%3A%2220260001%22%2C%22office%22%3A%22%E5%B8%82%E5%A4%96%E5%8A%9E%22%7D"
        );
        let header = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("host"), Some("dysmsapi.aliyuncs.com"));
        assert_eq!(header("x-acs-action"), Some("SendSms"));
        assert_eq!(header("x-acs-version"), Some("2017-05-25"));
        assert_eq!(header("x-acs-date"), Some(TIMESTAMP));
        assert_eq!(header("x-acs-signature-nonce"), Some(NONCE));
        let auth = header("authorization").unwrap();
        assert!(auth.starts_with("ACS3-HMAC-SHA256 Credential=LTAItestid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="), "{auth}");
        let mut c = config();
        c.endpoint = "http://127.0.0.1:8081/".into();
        let r = v3_request(&c, "13800138000", &sms, NONCE, TIMESTAMP).unwrap();
        assert!(r
            .headers
            .contains(&("host".into(), "127.0.0.1:8081".into())));
    }

    #[test]
    fn v1_query_is_sorted_and_signed_last() {
        let sms = Sms::new(Kind::GroupDispatched, &[("group", "2026 0001")]);
        let query = v1_query(&config(), "13800138000", &sms, NONCE, TIMESTAMP);
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
        assert!(query.contains("&TemplateParam=%7B%22group%22%3A%222026%200001%22%7D&"));
        assert!(query.contains("&TemplateCode=SMS_108&"), "{query}");
    }

    #[test]
    fn codes_and_notifications_use_their_own_templates_and_signatures() {
        let mut c = config();
        c.code_sign_name = "来华验证".into();
        let code = Sms::new(Kind::VerifyCode, &[("code", "123456")]);
        let note = Sms::new(Kind::RegistrationApproved, &[]);
        let q = |sms: &Sms| {
            v3_request(&c, "13800138000", sms, NONCE, TIMESTAMP)
                .unwrap()
                .url
        };
        let (code_url, note_url) = (q(&code), q(&note));
        assert!(code_url.contains("SignName=%E6%9D%A5%E5%8D%8E%E9%AA%8C%E8%AF%81"));
        assert!(code_url.contains("TemplateCode=SMS_100"));
        assert!(code_url.contains("TemplateParam=%7B%22code%22%3A%22123456%22%7D"));
        assert!(note_url.contains("SignName=%E6%9D%A5%E5%8D%8E%E9%82%80%E8%AF%B7"));
        assert!(note_url.contains("TemplateCode=SMS_102"));
        // A template without variables has no TemplateParam.
        assert!(!note_url.contains("TemplateParam"), "{note_url}");
    }

    #[test]
    fn debug_does_not_leak_the_secret() {
        let sender = AliyunSender::new(config());
        let shown = format!("{:?} {:?}", config(), sender);
        assert!(!shown.contains("testsecret"), "{shown}");
        assert!(shown.contains("LTAItestid"));
    }

    #[test]
    fn answers_become_outcomes() {
        let ok = answer(
            reqwest::StatusCode::OK,
            r#"{"Code":"OK","Message":"OK","BizId":"9006197469364984400","RequestId":"F655A8D5"}"#,
        );
        assert_eq!(ok.unwrap().reference, "9006197469364984400");
        let limit = answer(
            reqwest::StatusCode::OK,
            r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发小时级流控Permits:5"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (limit.retry, limit.reason),
            (Retry::Later, Reason::NumberLimit)
        );
        assert!(limit.message.contains("每小时5条") && limit.message.contains("Permits:5"));
        let number = answer(
            reqwest::StatusCode::OK,
            r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"invalid"}"#,
        )
        .unwrap_err();
        assert_eq!(number.retry, Retry::Never);
        let sig = answer(
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched"}"#,
        )
        .unwrap_err();
        assert!(sig.message.contains("AccessKey Secret"), "{}", sig.message);
        let busy = answer(reqwest::StatusCode::SERVICE_UNAVAILABLE, "busy").unwrap_err();
        assert_eq!(busy.retry, Retry::Later);
        assert!(busy.message.contains("503"));
        let odd = answer(reqwest::StatusCode::OK, "<html>").unwrap_err();
        assert_eq!(odd.retry, Retry::Unknown);
    }
}
