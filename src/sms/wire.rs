//! What the providers share: the outcome of a sent message and the hashing of the signatures.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::error::{Retry, SmsError};
use super::message::Sms;

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

/// `value` trimmed, or `default` when it is empty.
pub(crate) fn or_default<'a>(value: &'a str, default: &'a str) -> &'a str {
    match value.trim() {
        "" => default,
        v => v,
    }
}

/// The signature a message goes out under: the codes' own one for a verification code where
/// configured (a verification-only signature cannot send notifications), else `sign`.
pub(crate) fn sign_for<'a>(sms: &Sms, sign: &'a str, code_sign: &'a str) -> &'a str {
    match sms.kind.is_code() && !code_sign.trim().is_empty() {
        true => code_sign.trim(),
        false => sign.trim(),
    }
}

/// The HTTP client of a provider: every request ends within `timeout`.
pub(crate) fn client(timeout: Duration) -> reqwest::Client {
    // Building only fails if the TLS backend cannot be initialised; the per-request timeout
    // still applies to the fallback client.
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap_or_default()
}

/// Sends one request (a POST with `body`, or a GET without) and reads the answer; a request
/// without an answer is the provider's transport error.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<String>,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, String), SmsError> {
    let mut request = match body {
        // An empty body still says so (hyper leaves `Content-Length` out for it; some gateways
        // want it on every POST, and the providers' SDKs send it).
        Some(body) if body.is_empty() => client
            .post(url)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .body(body),
        Some(body) => client.post(url).body(body),
        None => client.get(url),
    };
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| SmsError::transport(provider, e))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| SmsError::transport(provider, e))?;
    Ok((status, text))
}

/// An answer that is not the provider's: a server error is tried again later; anything else
/// may have been taken, so its outcome is unknown.
pub(crate) fn unrecognised(provider: &str, status: reqwest::StatusCode, body: &str) -> SmsError {
    let retry = match status.is_server_error() {
        true => Retry::Later,
        false => Retry::Unknown,
    };
    SmsError::new(
        retry,
        format!(
            "{provider}：无法识别的应答（HTTP {}）：{}",
            status.as_u16(),
            body.chars().take(200).collect::<String>()
        ),
    )
}
