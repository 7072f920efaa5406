//! Staff writing site messages (站内信): to one unit from its review page (county and city
//! staff who may see the unit), and to every unit or every unit of a district (city staff).

use super::error::{Error, Outcome};
use super::registration::{districts, visible_unit};
use crate::domain::audit::ObjectType;
use crate::domain::fields::{required, FieldErrors};
use crate::domain::principal::{Principal, Role};
use crate::state::AppState;
use crate::store::{audit, messages};

/// The longest message body.
pub const MAX_BODY: usize = 5000;

/// A message as typed.
pub struct Draft<'a> {
    pub title: &'a str,
    pub body: &'a str,
}

/// Checks a message's title and body: (title, body) trimmed, or the errors.
fn check(d: &Draft<'_>) -> Result<(String, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let title = required(&mut e, "title", d.title, "标题", 100);
    let body = d.body.trim().to_string();
    if body.is_empty() {
        e.add("body", "请填写消息内容");
    } else if body.chars().count() > MAX_BODY {
        e.add("body", format!("消息内容不能超过{MAX_BODY}个字符"));
    }
    if e.is_empty() {
        Ok((title, body))
    } else {
        Err(e)
    }
}

/// One message to a unit the principal (county or city staff) may see.
pub async fn to_unit(
    state: &AppState,
    p: &Principal,
    unit_id: i64,
    draft: &Draft<'_>,
) -> Outcome<()> {
    if !p.role.is_staff() {
        return Err(Error::Forbidden);
    }
    visible_unit(state, p, unit_id).await?;
    let (title, body) = check(draft).map_err(Error::Invalid)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = messages::send(tx.conn(), unit_id, &p.actor, &title, &body, now).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "message.send",
        ObjectType::Unit,
        &unit_id.to_string(),
        &format!("站内信{id}：{title}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// City staff: one message to every unit (`target` "all") or every unit of a district (its
/// id). Every problem of the form is reported at once.
pub async fn broadcast(
    state: &AppState,
    p: &Principal,
    target: &str,
    draft: &Draft<'_>,
) -> Outcome<()> {
    if p.role != Role::City {
        return Err(Error::Forbidden);
    }
    let districts = districts(state).await?;
    let target = match target {
        "all" => Ok(None),
        t => match t.parse::<i64>() {
            Ok(id) if districts.iter().any(|d| d.id == id) => Ok(Some(id)),
            _ => Err("请选择发送对象"),
        },
    };
    let (target, (title, body)) = match (target, check(draft)) {
        (Ok(t), Ok(v)) => (t, v),
        (t, c) => {
            let mut errors = c.err().unwrap_or_default();
            if let Err(m) = t {
                errors.add("target", m);
            }
            return Err(Error::Invalid(errors));
        }
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let n = messages::broadcast(tx.conn(), target, &p.actor, &title, &body, now).await?;
    let scope = match target {
        Some(id) => districts
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        None => "全部单位".into(),
    };
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "message.broadcast",
        ObjectType::District,
        &target.unwrap_or(0).to_string(),
        &format!("{scope}，{n}个单位：{title}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
