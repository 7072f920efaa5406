//! Outgoing SMS behind one small interface. The default provider appends to a JSON-lines outbox.

pub mod aliyun;
mod error;
mod outbox;

pub use error::SmsError;
pub use outbox::OutboxSender;

/// The configured SMS provider.
#[derive(Clone, Debug)]
pub enum SmsSender {
    Outbox(OutboxSender),
    Aliyun(aliyun::AliyunSender),
}

impl SmsSender {
    /// Sends `text` to the mainland mobile number `to`.
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        match self {
            SmsSender::Outbox(s) => s.send(to, text).await,
            SmsSender::Aliyun(s) => s.send(to, text).await,
        }
    }
}
