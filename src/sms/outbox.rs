//! Development and test provider: one JSON line per message in `<data-dir>/sms-outbox.jsonl`,
//! with the whole text as a phone shows it (`【office】text`), the kind and its parameters.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::error::SmsError;
use super::message::Sms;
use super::wire::Sent;

#[derive(Clone, Debug)]
pub struct OutboxSender {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    clock: crate::clock::Clock,
}

impl OutboxSender {
    pub fn new(path: PathBuf, clock: crate::clock::Clock) -> Self {
        OutboxSender {
            path,
            lock: Arc::new(Mutex::new(())),
            clock,
        }
    }

    pub async fn send(&self, to: &str, sms: &Sms, office: &str) -> Result<Sent, SmsError> {
        let at = self
            .clock
            .now()
            .with_timezone(&crate::clock::beijing())
            .to_rfc3339();
        let mut line = serde_json::json!({
            "to": to,
            "text": format!("【{office}】{}", sms.text()),
            "kind": sms.kind.key(),
            "params": sms.params_object(),
            "at": at,
        })
        .to_string();
        line.push('\n');
        let _guard = self.lock.lock().await;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        f.write_all(line.as_bytes()).await?;
        f.flush().await?;
        Ok(Sent::default())
    }
}
