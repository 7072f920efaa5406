//! Why an SMS was not sent, and whether trying again may help.

/// Whether a failed message may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Not sent; the same message may go later (a limit, the network, the account, the
    /// configuration).
    Later,
    /// Will fail the same way again (the number, the content).
    Never,
    /// May have reached the provider (no answer after the request went out): never sent again
    /// by itself, so that nobody gets it twice.
    Unknown,
}

/// What the person waiting for a verification code is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The provider's limit of messages to one number.
    NumberLimit,
    /// The number cannot receive SMS (wrong, unassigned, blacklisted).
    NumberInvalid,
    Other,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct SmsError {
    pub retry: Retry,
    pub reason: Reason,
    /// The provider's error code (`isv.BUSINESS_LIMIT_CONTROL`), empty when it gave none.
    pub code: String,
    /// What happened, in Chinese, for the administrators' list and the log.
    pub message: String,
}

impl SmsError {
    pub fn new(retry: Retry, message: impl Into<String>) -> SmsError {
        SmsError {
            retry,
            reason: Reason::Other,
            code: String::new(),
            message: message.into(),
        }
    }

    /// A provider's error code, described by `table` (`code`, retry, reason, meaning) where
    /// it is listed, with the provider's own message.
    pub fn from_code(
        provider: &str,
        table: &[(&str, Retry, Reason, &str)],
        code: &str,
        provider_message: &str,
    ) -> SmsError {
        let found = table.iter().find(|(c, ..)| *c == code).or_else(|| {
            // Families: `InternalError.Timeout` as `InternalError`.
            let family = code.split('.').next().unwrap_or(code);
            table.iter().find(|(c, ..)| *c == family)
        });
        let (retry, reason, meaning) = match found {
            Some((_, retry, reason, meaning)) => (*retry, *reason, *meaning),
            None => (Retry::Later, Reason::Other, "短信平台返回错误"),
        };
        let detail = provider_message.chars().take(200).collect::<String>();
        SmsError {
            retry,
            reason,
            code: code.to_string(),
            message: format!("{provider}：{meaning}（{code}：{detail}）"),
        }
    }

    /// The error of a request that got no usable answer: not sent if it never connected,
    /// unknown once it went out.
    pub fn transport(provider: &str, e: reqwest::Error) -> SmsError {
        let retry = match e.is_connect() || e.is_builder() {
            true => Retry::Later,
            false => Retry::Unknown,
        };
        let what = match retry {
            Retry::Later => "无法连接短信平台",
            _ => "短信平台无应答，发送结果不明",
        };
        SmsError::new(retry, format!("{provider}：{what}（{}）", describe(e)))
    }

    /// What the person who asked for a verification code is told.
    pub fn for_user(&self) -> &'static str {
        match self.reason {
            Reason::NumberLimit => "该手机号码接收短信过于频繁，已达短信平台的限制，请稍后再试",
            Reason::NumberInvalid => "该手机号码无法接收短信，请核对号码",
            Reason::Other => "短信发送失败，请稍后再试",
        }
    }
}

impl From<std::io::Error> for SmsError {
    fn from(e: std::io::Error) -> SmsError {
        SmsError::new(Retry::Later, format!("写入短信发件箱失败：{e}"))
    }
}

/// The error and its causes, without the request URL (it carries the number and the text).
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
