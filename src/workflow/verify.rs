//! SMS verification codes: 6 digits, valid 5 minutes, stored as keyed hashes, single use; five
//! wrong tries void a code; one send per number per 60 s, five in any hour, ten per 24 h (the
//! providers' own limits for a number), and a per-address cap (domain::account).

use rand::Rng;

pub use crate::domain::account::CodePurpose as Purpose;
use crate::domain::account::{Limit, SMS_ADDRESS_SCOPE, SMS_DAILY, SMS_RESEND};
use crate::domain::audit::ObjectType;
use crate::security::{hmac_hex, same};
use crate::sms::{Kind, Reason, Sms};
use crate::state::AppState;
use crate::store::{audit, sms_codes, Actor};

pub const CODE_TTL: i64 = 5 * 60;
pub const MAX_TRIES: i64 = 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("请{0}秒后再获取验证码")]
    TooSoon(i64),
    #[error("该手机号码一小时内获取验证码已达5次，请{0}分钟后再试")]
    HourLimit(i64),
    #[error("该手机号码今日获取验证码次数已达上限，请明天再试")]
    DailyLimit,
    #[error("获取验证码过于频繁，请稍后再试")]
    IpLimit,
    #[error("短信发送失败，请稍后再试")]
    Failed,
    /// The provider refused the message (its limit for the number, a number it cannot reach).
    #[error("{0}")]
    Refused(&'static str),
}

/// Codes one number may get in any hour (阿里云 and 腾讯云 both refuse the sixth).
pub const CODES_PER_HOUR: usize = 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckError {
    #[error("请先获取验证码")]
    NoCode,
    #[error("验证码已过期，请重新获取")]
    Expired,
    #[error("验证码错误，还可尝试{0}次")]
    Wrong(i64),
    #[error("验证码错误次数过多，已失效，请重新获取")]
    Voided,
    #[error("请输入6位数字验证码")]
    Malformed,
}

fn code_hash(state: &AppState, mobile: &str, purpose: Purpose, code: &str) -> String {
    hmac_hex(&state.secret, &["sms", mobile, purpose.as_str(), code])
}

/// Sends a new code for `purpose` to `mobile`.
pub async fn send_code(
    state: &AppState,
    mobile: &str,
    purpose: Purpose,
    ip: &str,
) -> Result<(), SendError> {
    let now = state.now();
    // Each limit is reserved in one statement before anything is sent, so a burst of requests
    // cannot send more than the limits allow.
    let resend = reserve(state, &SMS_RESEND, mobile).await?;
    if !resend.allowed {
        return Err(SendError::TooSoon(resend.wait.max(1)));
    }
    // A sliding hour, as the providers count: the 60 s limit above lets one request per number
    // at a time get here, so counting the codes sent is not racy.
    let hour = sms_codes::sent_since(state.pool(), mobile, now - 3600)
        .await
        .map_err(send_fault)?;
    if hour.len() >= CODES_PER_HOUR {
        let free_at = hour[hour.len() - CODES_PER_HOUR] + 3600;
        return Err(SendError::HourLimit(((free_at - now + 59) / 60).max(1)));
    }
    if !reserve(state, &SMS_DAILY, mobile).await?.allowed {
        return Err(SendError::DailyLimit);
    }
    let per_address = Limit {
        scope: SMS_ADDRESS_SCOPE,
        max: state.config.serve.sms_per_ip_hour,
        period: 3600,
    };
    if !reserve(state, &per_address, ip).await?.allowed {
        return Err(SendError::IpLimit);
    }
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    let hash = code_hash(state, mobile, purpose, &code);
    let stored = async {
        let mut tx = state.db.begin().await?;
        sms_codes::insert(tx.conn(), mobile, purpose, &hash, ip, now, CODE_TTL).await?;
        audit::write(
            tx.conn(),
            &Actor::anonymous(ip),
            now,
            "sms.code_sent",
            ObjectType::Mobile,
            &crate::domain::Mobile::mask(mobile),
            purpose.as_str(),
        )
        .await?;
        tx.commit().await
    };
    stored.await.map_err(|e| {
        tracing::error!("storing SMS code: {e}");
        SendError::Failed
    })?;
    let sms = Sms::new(Kind::VerifyCode, &[("code", &code)]);
    super::sms::send_code(state, mobile, &sms)
        .await
        .map_err(|e| {
            tracing::error!("sending an SMS code: {e}");
            match e.reason {
                Reason::Other => SendError::Failed,
                _ => SendError::Refused(e.for_user()),
            }
        })
}

/// Checks (and on success uses up) the code typed for `mobile` and `purpose`.
pub async fn check_code(
    state: &AppState,
    mobile: &str,
    purpose: Purpose,
    typed: &str,
) -> Result<(), CheckError> {
    let typed = typed.trim();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckError::Malformed);
    }
    let pool = state.pool();
    let current = sms_codes::current(pool, mobile, purpose)
        .await
        .map_err(check_fault)?;
    let Some(code) = current else {
        return Err(CheckError::NoCode);
    };
    if state.now() > code.expires_at {
        return Err(CheckError::Expired);
    }
    // The try is counted in one statement before the code is compared: of concurrent tries,
    // at most MAX_TRIES are compared.
    let Some(tries) = sms_codes::reserve_try(pool, code.id, MAX_TRIES)
        .await
        .map_err(check_fault)?
    else {
        return Err(CheckError::Voided);
    };
    if same(&code.code_hash, &code_hash(state, mobile, purpose, typed)) {
        return match sms_codes::consume(pool, code.id).await {
            Ok(true) => Ok(()),
            // Used by a request that came first.
            Ok(false) => Err(CheckError::NoCode),
            Err(e) => Err(check_fault(e)),
        };
    }
    if tries >= MAX_TRIES {
        if let Err(e) = sms_codes::void(pool, code.id).await {
            tracing::error!("voiding an SMS code: {e}");
        }
        Err(CheckError::Voided)
    } else {
        Err(CheckError::Wrong(MAX_TRIES - tries))
    }
}

/// Reserves a send of a code (see domain::account).
async fn reserve(
    state: &AppState,
    limit: &Limit,
    subject: &str,
) -> Result<super::attempts::Reserved, SendError> {
    super::attempts::reserve(state, limit, subject)
        .await
        .map_err(send_fault)
}

/// A database fault while sending a code: logged, and the user told the sending failed.
fn send_fault(e: impl std::fmt::Display) -> SendError {
    tracing::error!("SMS code: {e}");
    SendError::Failed
}

/// A database fault while checking a code: logged, and the user asked for a new code.
fn check_fault(e: sqlx::Error) -> CheckError {
    tracing::error!("SMS code check: {e}");
    CheckError::NoCode
}
