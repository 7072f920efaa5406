//! Why an SMS was not sent.

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("短信发送失败: {0}")]
    Provider(String),
    #[error("短信发送失败: {0}")]
    Io(#[from] std::io::Error),
}
