//! What the providers share: the outcome of a sent message and the hashing of the signatures.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// What a provider said of a message it took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// The provider's reference (阿里云 `BizId`, 腾讯云 `SerialNo`), empty for the outbox.
    pub reference: String,
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The `Host` header a request to `endpoint` carries (`host` or `host:port`).
pub(crate) fn host_of(endpoint: &str) -> Option<String> {
    let url = reqwest::Url::parse(endpoint).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}
