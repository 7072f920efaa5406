//! Append-only audit log: every state change and security event.

use sqlx::Row;

use super::{Actor, Conn, DbResult};

/// Writes one audit entry on the given connection (usually inside the transaction of the change).
pub async fn record(
    conn: &mut Conn,
    actor: &Actor,
    at: i64,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, ip, action, object_type, object_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(at)
    .bind(actor.user_id)
    .bind(actor.label.as_str())
    .bind(actor.ip.as_str())
    .bind(action)
    .bind(object_type)
    .bind(object_id)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
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
