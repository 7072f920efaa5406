//! 腾讯云短信 (`SendSms`, API version 2021-01-11), signed with TC3-HMAC-SHA256.
//!
//! A `POST /` with a JSON body. The canonical request is method, path, an empty query, the
//! signed headers (`content-type`, `host`, `x-tc-action`), their names and the body's SHA-256;
//! the string to sign is the algorithm, the timestamp, the credential scope
//! (`DATE/sms/tc3_request`) and the canonical request's SHA-256; the key is derived by
//! HMAC-SHA256 chaining `"TC3" + SecretKey`, the UTC date, the service and `tc3_request`.
//!
//! Each kind of message goes through its own approved template (`--sms-templates`, the
//! `[tencent]` table) with its variables as `TemplateParamSet` in the order of the text (the
//! template's `{1}`, `{2}`…, as `laihua sms templates --numbered` prints them).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::error::{Reason, Retry, SmsError};
use super::message::{shorten, Sms, MAX_PARAM};
use super::templates::Templates;
use super::wire::{
    client, exchange, hmac_sha256, host_of, or_default, sha256_hex, sign_for, unrecognised, Sent,
};

pub const DEFAULT_ENDPOINT: &str = "https://sms.tencentcloudapi.com/";
pub const DEFAULT_REGION: &str = "ap-guangzhou";
pub const API_VERSION: &str = "2021-01-11";
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
const SERVICE: &str = "sms";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const NAME: &str = "腾讯云短信";

#[derive(Clone)]
pub struct TencentConfig {
    pub secret_id: String,
    pub secret_key: String,
    /// The SMS application (`SmsSdkAppId`, e.g. `1400006666`).
    pub sdk_app_id: String,
    /// Approved signature of notifications.
    pub sign_name: String,
    /// Approved signature of verification codes; the notifications' when empty.
    pub code_sign_name: String,
    pub templates: Templates,
    /// `ap-guangzhou` when empty.
    pub region: String,
    /// [`DEFAULT_ENDPOINT`] when empty.
    pub endpoint: String,
    /// The most characters of a variable's value the account may send: 35 for an organisation
    /// (企业/政府) account; an individually verified account has 12.
    pub param_max: usize,
}

impl fmt::Debug for TencentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentConfig")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("sdk_app_id", &self.sdk_app_id)
            .field("sign_name", &self.sign_name)
            .field("code_sign_name", &self.code_sign_name)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl TencentConfig {
    fn endpoint(&self) -> &str {
        or_default(&self.endpoint, DEFAULT_ENDPOINT)
    }

    fn region(&self) -> &str {
        or_default(&self.region, DEFAULT_REGION)
    }

    pub fn sign_name_for(&self, sms: &Sms) -> &str {
        sign_for(sms, &self.sign_name, &self.code_sign_name)
    }

    /// The JSON body of a message to the mainland number `to`.
    pub fn body(&self, to: &str, sms: &Sms) -> String {
        let mut body = serde_json::json!({
            "PhoneNumberSet": [format!("+86{to}")],
            "SmsSdkAppId": self.sdk_app_id.trim(),
            "SignName": self.sign_name_for(sms),
            "TemplateId": self.templates.code(sms.kind),
        });
        if !sms.values().is_empty() {
            let max = self.param_max.clamp(6, MAX_PARAM);
            let values: Vec<String> = sms.values().iter().map(|v| shorten(v, max)).collect();
            body["TemplateParamSet"] = serde_json::json!(values);
        }
        body.to_string()
    }
}

#[derive(Clone)]
pub struct TencentSender {
    config: TencentConfig,
    client: reqwest::Client,
}

impl fmt::Debug for TencentSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentSender")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Error")]
    error: Option<Status>,
    #[serde(rename = "SendStatusSet", default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "SerialNo", default)]
    serial_no: String,
}

impl TencentSender {
    pub fn new(config: TencentConfig) -> Self {
        TencentSender {
            config,
            client: client(REQUEST_TIMEOUT),
        }
    }

    pub async fn send(&self, to: &str, sms: &Sms) -> Result<Sent, SmsError> {
        let body = self.config.body(to, sms);
        let timestamp = chrono::Utc::now().timestamp();
        let headers = signed_headers(&self.config, &body, timestamp)?;
        let url = self.config.endpoint();
        let (status, text) = exchange(
            &self.client,
            NAME,
            url,
            &headers,
            Some(body),
            REQUEST_TIMEOUT,
        )
        .await?;
        answer(status, &text)
    }
}

/// The outcome a `SendSms` answer gives (one number per request).
fn answer(status: reqwest::StatusCode, text: &str) -> Result<Sent, SmsError> {
    let parsed = serde_json::from_str::<Envelope>(text)
        .ok()
        .map(|e| e.response);
    match parsed {
        Some(Body { error: Some(e), .. }) => {
            Err(SmsError::from_code(NAME, ERRORS, &e.code, &e.message))
        }
        Some(Body { statuses, .. }) if status.is_success() => match statuses.first() {
            Some(s) if s.code == "Ok" => Ok(Sent {
                reference: s.serial_no.clone(),
            }),
            Some(s) => Err(SmsError::from_code(NAME, ERRORS, &s.code, &s.message)),
            None => Err(SmsError::new(
                Retry::Unknown,
                format!("{NAME}：应答中没有发送状态"),
            )),
        },
        _ => Err(unrecognised(NAME, status, text)),
    }
}

const ERRORS: &[(&str, Retry, Reason, &str)] = &[
    (
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码30秒内的发送上限",
    ),
    (
        "LimitExceeded.PhoneNumberOneHourLimit",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码1小时内的发送上限",
    ),
    (
        "LimitExceeded.PhoneNumberDailyLimit",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码当日发送上限",
    ),
    (
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        Retry::Later,
        Reason::NumberLimit,
        "已达该号码当日相同内容的发送上限",
    ),
    (
        "LimitExceeded.DeliveryFrequencyLimit",
        Retry::Later,
        Reason::NumberLimit,
        "发送过于频繁",
    ),
    (
        "InvalidParameterValue.IncorrectPhoneNumber",
        Retry::Never,
        Reason::NumberInvalid,
        "手机号码格式错误",
    ),
    (
        "FailedOperation.PhoneNumberInBlacklist",
        Retry::Never,
        Reason::NumberInvalid,
        "手机号码在免打扰名单中",
    ),
    (
        "FailedOperation.PhoneNumberParseFail",
        Retry::Never,
        Reason::NumberInvalid,
        "手机号码无法解析",
    ),
    (
        "FailedOperation.ContainSensitiveWord",
        Retry::Never,
        Reason::Other,
        "短信内容含有敏感词",
    ),
    (
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        Retry::Never,
        Reason::Other,
        "变量中不能含有网址",
    ),
    (
        "FailedOperation.TemplateIncorrectOrUnapproved",
        Retry::Later,
        Reason::Other,
        "模板不存在或未审核通过（请核对短信模板配置文件中的模板ID）",
    ),
    (
        "FailedOperation.SignatureIncorrectOrUnapproved",
        Retry::Later,
        Reason::Other,
        "签名不存在或未审核通过（请核对签名名称）",
    ),
    (
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        Retry::Later,
        Reason::Other,
        "参数个数与模板变量不符（模板应与 laihua sms templates --numbered 列出的文本一致）",
    ),
    (
        "InvalidParameterValue.TemplateParameterFormatError",
        Retry::Later,
        Reason::Other,
        "变量值格式不符合模板变量类型",
    ),
    (
        "InvalidParameterValue.TemplateParameterLengthLimit",
        Retry::Later,
        Reason::Other,
        "变量值超出长度限制",
    ),
    (
        "FailedOperation.InsufficientBalanceInSmsPackage",
        Retry::Later,
        Reason::Other,
        "短信套餐包余量不足",
    ),
    (
        "FailedOperation.FailResolvePacket",
        Retry::Later,
        Reason::Other,
        "请求包解析失败",
    ),
    (
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
        Retry::Later,
        Reason::Other,
        "SmsSdkAppId 校验失败",
    ),
    (
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
        Retry::Later,
        Reason::Other,
        "个人认证用户没有此权限",
    ),
    (
        "AuthFailure.SignatureFailure",
        Retry::Later,
        Reason::Other,
        "请求签名不符（请核对 SecretKey）",
    ),
    (
        "AuthFailure.SignatureExpire",
        Retry::Later,
        Reason::Other,
        "签名过期（请校准服务器时钟）",
    ),
    (
        "AuthFailure.SecretIdNotFound",
        Retry::Later,
        Reason::Other,
        "SecretId 不存在或已停用",
    ),
    (
        "AuthFailure.UnauthorizedOperation",
        Retry::Later,
        Reason::Other,
        "CAM 权限不足（密钥须有 sms:SendSms 权限）",
    ),
    (
        "RequestLimitExceeded",
        Retry::Later,
        Reason::Other,
        "调用过于频繁，被平台限流",
    ),
    (
        "InternalError",
        Retry::Later,
        Reason::Other,
        "短信平台内部错误",
    ),
];

/// The headers of a request with body `body` at `timestamp` (seconds), `Authorization` last.
pub fn signed_headers(
    config: &TencentConfig,
    body: &str,
    timestamp: i64,
) -> Result<Vec<(String, String)>, SmsError> {
    let endpoint = config.endpoint();
    let host = host_of(endpoint)
        .ok_or_else(|| SmsError::new(Retry::Later, format!("{NAME}：服务地址无效：{endpoint}")))?;
    let authorization = authorization(
        &config.secret_id,
        &config.secret_key,
        SERVICE,
        &host,
        "SendSms",
        CONTENT_TYPE,
        body,
        timestamp,
        true,
    );
    Ok(vec![
        ("Content-Type".into(), CONTENT_TYPE.into()),
        ("Host".into(), host),
        ("X-TC-Action".into(), "SendSms".into()),
        ("X-TC-Timestamp".into(), timestamp.to_string()),
        ("X-TC-Version".into(), API_VERSION.into()),
        ("X-TC-Region".into(), config.region().into()),
        ("Authorization".into(), authorization),
    ])
}

/// TC3-HMAC-SHA256 `Authorization` of a `POST /` with the headers `content-type`, `host` and,
/// when `sign_action`, `x-tc-action` signed (its value lower-cased).
#[allow(clippy::too_many_arguments)]
pub fn authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    action: &str,
    content_type: &str,
    payload: &str,
    timestamp: i64,
    sign_action: bool,
) -> String {
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let (action_line, signed_headers) = match sign_action {
        true => (
            format!("x-tc-action:{}\n", action.to_ascii_lowercase()),
            "content-type;host;x-tc-action",
        ),
        false => (String::new(), "content-type;host"),
    };
    let canonical = format!(
        "POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n{action_line}\n{signed_headers}\n{}",
        sha256_hex(payload.as_bytes())
    );
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sms::message::Kind;

    fn config() -> TencentConfig {
        TencentConfig {
            secret_id: "AKIDtest".into(),
            secret_key: "tencent-secret".into(),
            sdk_app_id: "1400006666".into(),
            sign_name: "常州外办".into(),
            code_sign_name: "常州外办验证".into(),
            templates: Templates::from_pairs(
                Kind::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (*k, (2000 + i).to_string())),
            ),
            region: String::new(),
            endpoint: String::new(),
            param_max: 35,
        }
    }

    /// The worked example of 腾讯云 "签名方法 v3" (cloud.tencent.com/document/api/213/30654):
    /// CVM DescribeInstances at 1551113065. The page's earlier version (keys ending in EXAMPLE,
    /// `content-type;host` signed) gives `72e494ea…`; its current version (the keys masked as
    /// `AKID` + 32 `*` and 32 `*`, `x-tc-action` signed too) gives `10b1a37a…`. The official
    /// Python SDK reproduces the first.
    #[test]
    fn signature_matches_documented_examples() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            sha256_hex(payload.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let sign = |id: &str, key: &str, action: bool| {
            authorization(
                id,
                key,
                "cvm",
                "cvm.tencentcloudapi.com",
                "DescribeInstances",
                "application/json; charset=utf-8",
                payload,
                1551113065,
                action,
            )
        };
        assert_eq!(
            sign("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", false),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        let id = format!("AKID{}", "*".repeat(32));
        assert_eq!(
            sign(&id, &"*".repeat(32), true),
            format!(
                "TC3-HMAC-SHA256 Credential={id}/2019-02-25/cvm/tc3_request, \
                 SignedHeaders=content-type;host;x-tc-action, \
                 Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
            )
        );
    }

    #[test]
    fn send_headers_are_the_documented_ones() {
        let c = config();
        let sms = Sms::new(Kind::VerifyCode, &[("code", "123456")]);
        let headers = signed_headers(&c, &c.body("13800138000", &sms), 1_700_000_000).unwrap();
        let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Host",
                "X-TC-Action",
                "X-TC-Timestamp",
                "X-TC-Version",
                "X-TC-Region",
                "Authorization"
            ]
        );
        assert_eq!(headers[1].1, "sms.tencentcloudapi.com");
        assert_eq!(headers[4].1, "2021-01-11");
        assert_eq!(headers[5].1, "ap-guangzhou");
        assert!(headers[6].1.starts_with("TC3-HMAC-SHA256 Credential=AKIDtest/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="), "{}", headers[6].1);
    }

    #[test]
    fn the_body_has_the_kinds_template_and_values_in_order() {
        let c = config();
        let sms = Sms::new(
            Kind::VisitReturned,
            &[
                ("group", "20260001"),
                ("name", "Jane Doe"),
                ("office", "市外办"),
            ],
        );
        let body: serde_json::Value = serde_json::from_str(&c.body("13800138000", &sms)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "PhoneNumberSet": ["+8613800138000"],
                "SmsSdkAppId": "1400006666",
                "SignName": "常州外办",
                "TemplateId": "2012",
                "TemplateParamSet": ["20260001", "Jane Doe", "市外办"],
            })
        );
        let code = Sms::new(Kind::VerifyCode, &[("code", "123456")]);
        let body: serde_json::Value = serde_json::from_str(&c.body("13800138000", &code)).unwrap();
        assert_eq!(body["SignName"], "常州外办验证");
        assert_eq!(body["TemplateId"], "2000");
        let mut short = config();
        short.param_max = 12;
        let body: serde_json::Value =
            serde_json::from_str(&short.body("13800138000", &sms)).unwrap();
        assert_eq!(
            body["TemplateParamSet"],
            serde_json::json!(["20260001", "Jane Doe", "市外办"])
        );
        let long = Sms::new(
            Kind::VisitReturned,
            &[
                ("group", "20260001"),
                ("name", "Maximilian Alexander"),
                ("office", "市外办"),
            ],
        );
        let body: serde_json::Value =
            serde_json::from_str(&short.body("13800138000", &long)).unwrap();
        assert_eq!(body["TemplateParamSet"][1], "Maximilian …");
        let fixed = Sms::new(Kind::ChangeApproved, &[]);
        let body: serde_json::Value = serde_json::from_str(&c.body("13800138000", &fixed)).unwrap();
        assert!(body.get("TemplateParamSet").is_none());
    }

    #[test]
    fn answers_become_outcomes() {
        let ok = answer(
            reqwest::StatusCode::OK,
            r#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:104571066915705365784949619","PhoneNumber":"+8618511122233","Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6"}}"#,
        );
        assert_eq!(ok.unwrap().reference, "5000:104571066915705365784949619");
        let limit = answer(reqwest::StatusCode::OK, r#"{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8618511122233","Fee":0,"Code":"LimitExceeded.PhoneNumberOneHourLimit","Message":"the number of sms messages sent from a single mobile number within 1 hour exceeds the upper limit","IsoCode":"CN"}],"RequestId":"b"}}"#).unwrap_err();
        assert_eq!(
            (limit.retry, limit.reason),
            (Retry::Later, Reason::NumberLimit)
        );
        let auth = answer(reqwest::StatusCode::OK, r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"c"}}"#).unwrap_err();
        assert_eq!(auth.code, "AuthFailure.SignatureFailure");
        assert!(auth.message.contains("SecretKey"));
        let internal = answer(reqwest::StatusCode::OK, r#"{"Response":{"Error":{"Code":"InternalError.Timeout","Message":"t"},"RequestId":"d"}}"#).unwrap_err();
        assert!(
            internal.message.contains("内部错误"),
            "{}",
            internal.message
        );
        let number = answer(reqwest::StatusCode::OK, r#"{"Response":{"SendStatusSet":[{"Code":"InvalidParameterValue.IncorrectPhoneNumber","Message":"x"}],"RequestId":"e"}}"#).unwrap_err();
        assert_eq!(
            (number.retry, number.reason),
            (Retry::Never, Reason::NumberInvalid)
        );
    }

    #[test]
    fn debug_does_not_leak_the_key() {
        let shown = format!("{:?}", TencentSender::new(config()));
        assert!(!shown.contains("tencent-secret") && shown.contains("AKIDtest"));
    }
}
