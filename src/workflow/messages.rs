//! A unit's site messages (站内信): its list, opening one (which marks it read), 【我知道了】,
//! 【删除】 and the reminder that pops up. Only a unit account has messages; a unit reaches only
//! its own. (Staff write them: `notify` on status changes, the city's notices.)

use super::error::{Error, Outcome};
use crate::domain::principal::Principal;
use crate::state::AppState;
use crate::store::messages::{self, Message};

fn unit_of(p: &Principal) -> Outcome<i64> {
    p.own_unit().ok_or(Error::Forbidden)
}

/// A page of the unit's messages, newest first, and how many it has.
pub async fn list(
    state: &AppState,
    p: &Principal,
    limit: i64,
    offset: i64,
) -> Outcome<(Vec<Message>, i64)> {
    Ok(messages::list(state.pool(), unit_of(p)?, limit, offset).await?)
}

/// The unit's newest messages (its home page).
pub async fn recent(state: &AppState, p: &Principal, limit: i64) -> Outcome<Vec<Message>> {
    Ok(messages::recent(state.pool(), unit_of(p)?, limit).await?)
}

/// One of the unit's messages; opening it marks it read.
pub async fn open(state: &AppState, p: &Principal, id: i64) -> Outcome<Message> {
    let unit_id = unit_of(p)?;
    let m = messages::get(state.pool(), unit_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    // Whether it changed is not needed: the message was found just above (one deleted in
    // between is shown this once).
    messages::mark_read(state.pool(), unit_id, id, state.now()).await?;
    Ok(m)
}

/// 【我知道了】: marks the message read.
pub async fn mark_read(state: &AppState, p: &Principal, id: i64) -> Outcome<()> {
    if !messages::mark_read(state.pool(), unit_of(p)?, id, state.now()).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// 【删除】: gone for this unit; it never pops up again.
pub async fn delete(state: &AppState, p: &Principal, id: i64) -> Outcome<()> {
    if !messages::delete(state.pool(), unit_of(p)?, id, state.now()).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// A unit's unread count and the unread message due to pop up now, if any (claimed, so that it
/// pops up once per interval across tabs and instances); nothing for other accounts.
pub async fn reminder(state: &AppState, p: &Principal) -> Outcome<(i64, Option<Message>)> {
    match p.own_unit() {
        Some(unit_id) => Ok(messages::reminder(state.pool(), unit_id, state.now()).await?),
        None => Ok((0, None)),
    }
}
