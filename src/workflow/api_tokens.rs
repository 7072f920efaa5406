//! Personal access tokens of the JSON API (issue 19): a unit's clerk creates them on the
//! account page (named, expiring), sees a token once, revokes it; a request presenting one acts
//! as the clerk, every use an audit entry. The pages and the API share every other rule.

use super::error::{Error, Outcome};
use crate::domain::audit::ObjectType;
use crate::domain::fields::FieldErrors;
use crate::domain::principal::{Actor, Principal, Role};
use crate::state::AppState;
use crate::store::api_tokens::{self, Token};
use crate::store::audit;

/// The most tokens an account may have in use at once.
pub const MAX_ACTIVE: i64 = 10;
/// The longest life of a token, in days.
pub const MAX_DAYS: i64 = 365;
/// What every token starts with (secret scanners recognise it).
pub const TOKEN_PREFIX: &str = "lhpat_";

/// A token just created: shown once.
pub struct Created {
    pub id: i64,
    pub secret: String,
}

fn only_units(p: &Principal) -> Outcome<()> {
    if p.role == Role::Unit {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The account's tokens.
pub async fn list(state: &AppState, p: &Principal) -> Outcome<Vec<Token>> {
    only_units(p)?;
    Ok(api_tokens::for_user(state.pool(), p.user_id).await?)
}

/// Creates a token named `name` valid `days` days (1 to [`MAX_DAYS`]).
pub async fn create(state: &AppState, p: &Principal, name: &str, days: &str) -> Outcome<Created> {
    only_units(p)?;
    let mut e = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() {
        e.add("token_name", "请填写令牌名称（例如对接的系统名称）");
    } else if name.chars().count() > 50 {
        e.add("token_name", "令牌名称不能超过50个字符");
    }
    let days = match days.trim().parse::<i64>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
        _ => {
            e.add("token_days", format!("有效期须为1至{MAX_DAYS}天"));
            0
        }
    };
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if api_tokens::active_count(tx.conn(), p.user_id, now).await? >= MAX_ACTIVE {
        return Err(Error::invalid(
            "token_name",
            format!("每个帐号最多同时使用{MAX_ACTIVE}个令牌，请先吊销不用的令牌"),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", crate::security::random_token());
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let id = api_tokens::insert(
        tx.conn(),
        p.user_id,
        name,
        &secret,
        &prefix,
        now,
        now + days * 86_400,
    )
    .await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "api_token.create",
        ObjectType::ApiToken,
        &id.to_string(),
        &format!("{name}（{prefix}…），有效期{days}天"),
    )
    .await?;
    tx.commit().await?;
    Ok(Created { id, secret })
}

/// Revokes the account's token `id` (not found when it is not the account's or already revoked).
pub async fn revoke(state: &AppState, p: &Principal, id: i64) -> Outcome<()> {
    only_units(p)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let Some((name, prefix)) = api_tokens::revoke(tx.conn(), p.user_id, id, now).await? else {
        return Err(Error::NotFound);
    };
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "api_token.revoke",
        ObjectType::ApiToken,
        &id.to_string(),
        &format!("{name}（{prefix}…）"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a presented token was refused, for the API's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Unknown,
    Expired,
    Revoked,
    /// The account is disabled, or its unit on the dishonesty list.
    Account,
}

impl Refused {
    pub fn message(&self) -> &'static str {
        match self {
            Refused::Unknown => {
                "令牌无效，请在“帐号信息”页面创建API令牌后，以 Authorization: Bearer <令牌> 发送"
            }
            Refused::Expired => "令牌已过期，请在“帐号信息”页面创建新的令牌",
            Refused::Revoked => "令牌已被吊销",
            Refused::Account => "帐号状态异常，请联系市外办处理。",
        }
    }
}

/// The principal a token acts as, from `ip`, with the token's id.
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    ip: &str,
) -> Outcome<Result<(Principal, i64), Refused>> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Ok(Err(Refused::Unknown));
    }
    let Some(found) = api_tokens::find(state.pool(), secret).await? else {
        return Ok(Err(Refused::Unknown));
    };
    let now = state.now();
    if found.token.revoked_at.is_some() {
        return Ok(Err(Refused::Revoked));
    }
    if found.token.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    if found.user.disabled || found.unit_blacklisted || found.user.role != Role::Unit {
        return Ok(Err(Refused::Account));
    }
    let mut p = super::accounts::principal(&found.user, ip);
    p.actor = Actor {
        label: format!("{}·API令牌{}", p.actor.label, found.token.prefix),
        ..p.actor
    };
    Ok(Ok((p, found.token.id)))
}

/// Records a use of token `id`: the audit entry (method, path, answer) and the last use.
pub async fn record_use(state: &AppState, p: &Principal, id: i64, what: &str) -> Outcome<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    api_tokens::touch(tx.conn(), id, now, &p.actor.ip).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "api.use",
        ObjectType::ApiToken,
        &id.to_string(),
        what,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
