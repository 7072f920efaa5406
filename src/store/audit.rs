//! Append-only audit log: every state change and security event.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::principal::Actor;

/// The hash of an entry: its fields and the hash of the entry before it.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev: &str,
    at: i64,
    actor_user_id: Option<i64>,
    actor: &str,
    ip: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        prev,
        &at.to_string(),
        &actor_user_id.map(|u| u.to_string()).unwrap_or_default(),
        actor,
        ip,
        action,
        object_type,
        object_id,
        detail,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Writes one audit entry on the given connection (inside the transaction of the change). The
/// chain head is locked first, so entries chain in the order they are written.
pub async fn record(
    conn: &mut Conn,
    actor: &Actor,
    at: i64,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> DbResult<()> {
    sqlx::query("UPDATE audit_chain SET last_hash = last_hash WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let prev: String = sqlx::query_scalar("SELECT last_hash FROM audit_chain WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let hash = entry_hash(
        &prev,
        at,
        actor.user_id,
        &actor.label,
        &actor.ip,
        action,
        object_type,
        object_id,
        detail,
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, ip, action, object_type, object_id, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(at)
    .bind(actor.user_id)
    .bind(actor.label.as_str())
    .bind(actor.ip.as_str())
    .bind(action)
    .bind(object_type)
    .bind(object_id)
    .bind(detail)
    .bind(prev.as_str())
    .bind(hash.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_chain SET last_hash = $1 WHERE id = 1")
        .bind(hash.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every chained entry checks out; the number of entries checked.
    Intact(u64),
    /// The first entry that does not match (its id), and why.
    Broken(i64, String),
}

/// Recomputes the chain from the first hashed entry to the head.
pub async fn verify(pool: &sqlx::AnyPool) -> DbResult<Verdict> {
    let mut last: Option<String> = None;
    let mut checked = 0u64;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, at, actor_user_id, actor, ip, action, object_type, object_id, detail, prev_hash, hash
             FROM audit_log WHERE id > $1 AND hash IS NOT NULL ORDER BY id LIMIT 5000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            after = id;
            let prev: String = r.try_get("prev_hash")?;
            let stored: String = r.try_get("hash")?;
            if let Some(l) = &last {
                if *l != prev {
                    return Ok(Verdict::Broken(
                        id,
                        "与前一条记录的链接不符（记录被删除或插入）".into(),
                    ));
                }
            }
            let actor: String = r.try_get("actor")?;
            let ip: String = r.try_get("ip")?;
            let action: String = r.try_get("action")?;
            let object_type: String = r.try_get("object_type")?;
            let object_id: String = r.try_get("object_id")?;
            let detail: String = r.try_get("detail")?;
            let computed = entry_hash(
                &prev,
                r.try_get("at")?,
                r.try_get("actor_user_id")?,
                &actor,
                &ip,
                &action,
                &object_type,
                &object_id,
                &detail,
            );
            if computed != stored {
                return Ok(Verdict::Broken(id, "记录内容被修改".into()));
            }
            last = Some(stored);
            checked += 1;
        }
    }
    let head: String = sqlx::query_scalar("SELECT last_hash FROM audit_chain WHERE id = 1")
        .fetch_one(pool)
        .await?;
    if let Some(l) = last {
        if l != head {
            return Ok(Verdict::Broken(
                after,
                "最后的记录与链头不符（末尾的记录被删除）".into(),
            ));
        }
    }
    Ok(Verdict::Intact(checked))
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
}

impl Entry {
    pub fn at_text(&self) -> String {
        crate::clock::fmt_ts(self.at)
    }
    /// The action in words, for timelines.
    pub fn action_text(&self) -> &str {
        action_label(&self.action)
    }
}

pub fn action_label(action: &str) -> &str {
    match action {
        "unit.create" => "创建注册帐号",
        "unit.update" => "修改注册信息",
        "unit.attachment" => "上传附件",
        "unit.submit" => "提交注册",
        "unit.county_approve" => "县区外办初审通过",
        "unit.city_approve" => "市外办审核通过",
        "unit.county_return" => "县区外办退回补充",
        "unit.city_return" => "市外办退回补充",
        "unit.mobile" => "修改绑定手机",
        "change.update" => "修改变更申请",
        "change.attachment" => "上传变更附件",
        "change.submit" => "提交变更申请",
        "change.county_approve" => "县区外办初审通过变更",
        "change.city_approve" => "市外办审核通过变更",
        "change.county_return" => "县区外办退回变更",
        "change.city_return" => "市外办退回变更",
        "group.create" => "新建团组",
        "group.save" => "保存团组",
        "group.file" => "上传附件",
        "group.print" => "打印申请表",
        "group.submit" => "提交团组",
        "group.county_approve" => "县区外办初审通过",
        "group.county_return" => "县区外办退件",
        "group.city_return" => "市外办退件",
        "group.accept" => "市外办受理",
        "group.report" => "上报外交部",
        "group.dispatch" => "发件",
        "message.send" => "发送站内信",
        "staff.create" => "创建工作人员帐号",
        "settings.update" => "修改系统设置",
        "content.update" => "修改须知或帮助",
        "unit.blacklist" => "列入失信企业名单",
        "unit.unblacklist" => "移出失信企业名单",
        "unit.mobile_by_staff" => "工作人员更换绑定手机",
        "unit.reset_password" => "重置单位密码",
        "staff.update" => "修改工作人员帐号",
        "staff.reset_password" => "重置工作人员密码",
        "visit.save" => "保存销签登记",
        "visit.file" => "上传扫描件",
        "visit.submit" => "提交销签登记",
        "visit.county_approve" => "县区外办审核通过",
        "visit.county_return" => "县区外办退回",
        "visit.city_return" => "市外办退回",
        "visit.complete" => "已销签",
        "visit.overdue_reminder" => "逾期提醒",
        "message.broadcast" => "发送通知",
        "template.replace" => "更换样式模板",
        "export" => "导出Excel",
        "refdata.add" => "新增基础数据",
        "refdata.update" => "修改基础数据",
        "refdata.retire" => "停用基础数据",
        "refdata.restore" => "恢复使用基础数据",
        "login.success" => "登录",
        "login.failed" => "登录失败",
        "login.lockout" => "帐号锁定",
        "logout" => "注销",
        "password.change" => "修改密码",
        "password.reset_by_sms" => "短信重置密码",
        other => other,
    }
}

/// The timeline of one object, oldest first.
pub async fn for_object(
    pool: &sqlx::AnyPool,
    object_type: &str,
    object_id: &str,
) -> DbResult<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, ip, action, object_type, object_id, detail FROM audit_log
         WHERE object_type = $1 AND object_id = $2 ORDER BY at, id",
    )
    .bind(object_type)
    .bind(object_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Most recent entries (for tests and the admin overview).
pub async fn recent(pool: &sqlx::AnyPool, limit: i64) -> DbResult<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, ip, action, object_type, object_id, detail FROM audit_log
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<Entry> {
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        ip: r.try_get("ip")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        detail: r.try_get("detail")?,
    })
}

/// Filters of the audit log viewer.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A page of the audit log, newest first, and the total.
pub async fn search(
    pool: &sqlx::AnyPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Entry>, i64)> {
    let clean = |s: &str| s.trim().replace(['%', '_'], "");
    let actor = format!("%{}%", clean(&f.actor));
    let action = format!("{}%", clean(&f.action));
    let cond = "actor LIKE $1 AND action LIKE $2 AND ($3 = '' OR object_type = $3)
        AND ($4 = '' OR object_id = $4) AND at >= $5 AND at < $6";
    let from = f.from.unwrap_or(i64::MIN / 2);
    let to = f.to.unwrap_or(i64::MAX / 2);
    let rows = sqlx::query(&format!(
        "SELECT id, at, actor, ip, action, object_type, object_id, detail FROM audit_log
         WHERE {cond} ORDER BY id DESC LIMIT $7 OFFSET $8"
    ))
    .bind(actor.as_str())
    .bind(action.as_str())
    .bind(f.object_type.trim())
    .bind(f.object_id.trim())
    .bind(from)
    .bind(to)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE {cond}"))
        .bind(actor.as_str())
        .bind(action.as_str())
        .bind(f.object_type.trim())
        .bind(f.object_id.trim())
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
    Ok((rows.iter().map(from_row).collect::<DbResult<_>>()?, total))
}

impl Entry {
    /// Where an administrator sees the object of this entry, if it has a page.
    pub fn object_link(&self) -> Option<String> {
        match self.object_type.as_str() {
            "unit" => Some(format!("/admin/units/{}", self.object_id)),
            "user" => Some(format!("/admin/staff/{}", self.object_id)),
            "content" => Some(format!("/admin/content/{}", self.object_id)),
            "settings" => Some("/admin/settings".into()),
            "group" => Some(format!("/review/groups/{}", self.object_id)),
            "change" => Some(format!("/review/changes/{}", self.object_id)),
            "visit" => Some(format!("/review/visit-records/{}", self.object_id)),
            "country" | "mission" | "port" | "district" | "attachment_type" => {
                let list = crate::store::refadmin::SPECS
                    .iter()
                    .find(|s| s.object_type == self.object_type)?;
                Some(format!("/admin/refdata/{}/{}", list.slug, self.object_id))
            }
            // Keys are ASCII (ids, alpha-3 codes, lowercase codes): no escaping needed. Codes
            // are "kind:code" (purpose:business).
            "code" => {
                let (kind, code) = self.object_id.split_once(':')?;
                let list = crate::store::refadmin::SPECS
                    .iter()
                    .find(|s| s.code_kind == Some(kind))?;
                Some(format!("/admin/refdata/{}/{code}", list.slug))
            }
            _ => None,
        }
    }
}
