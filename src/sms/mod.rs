//! Outgoing SMS behind one small interface. Every message is a [`message::Kind`] with named
//! parameters; each provider maps the kind to its approved template. The default provider
//! appends the whole text to a JSON-lines outbox.

pub mod aliyun;
mod error;
pub mod message;
mod outbox;
pub mod templates;
pub mod tencent;
mod wire;

pub use error::{Reason, Retry, SmsError};
pub use message::{Kind, Sms};
pub use outbox::OutboxSender;
pub use wire::Sent;

/// The configured SMS provider.
#[derive(Clone, Debug)]
pub enum SmsSender {
    Outbox(OutboxSender),
    Aliyun(aliyun::AliyunSender),
    Tencent(tencent::TencentSender),
}

impl SmsSender {
    /// Sends `sms` to the mainland mobile number `to`. `office` is the signature the outbox
    /// shows (the real providers add their approved one).
    pub async fn send(&self, to: &str, sms: &Sms, office: &str) -> Result<Sent, SmsError> {
        match self {
            SmsSender::Outbox(s) => s.send(to, sms, office).await,
            SmsSender::Aliyun(s) => s.send(to, sms).await,
            SmsSender::Tencent(s) => s.send(to, sms).await,
        }
    }

    /// Whether the office's name is the signature (the outbox; the providers add their own).
    pub fn shows_office(&self) -> bool {
        matches!(self, SmsSender::Outbox(_))
    }

    /// The provider's name for the administrators' list.
    pub fn name(&self) -> &'static str {
        match self {
            SmsSender::Outbox(_) => "发件箱文件（开发测试用）",
            SmsSender::Aliyun(_) => "阿里云短信",
            SmsSender::Tencent(_) => "腾讯云短信",
        }
    }
}
