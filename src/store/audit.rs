//! Append-only audit log: every state change and security event.

use sqlx::Row;

use super::sql::{Conn, DbResult};
pub use crate::domain::audit::ChainBreak;
use crate::domain::audit::{action_label, ObjectType};
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
pub async fn write(
    conn: &mut Conn,
    actor: &Actor,
    at: i64,
    action: &str,
    object_type: ObjectType,
    object_id: &str,
    detail: &str,
) -> DbResult<()> {
    insert(
        conn,
        actor,
        at,
        action,
        object_type.as_str(),
        object_id,
        detail,
    )
    .await
}

async fn insert(
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
    Broken(i64, ChainBreak),
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
                    return Ok(Verdict::Broken(id, ChainBreak::Link));
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
                return Ok(Verdict::Broken(id, ChainBreak::Altered));
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
            return Ok(Verdict::Broken(after, ChainBreak::Tail));
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
    /// Who acted, for timelines: the name without the login ID the audit log keeps.
    pub fn who(&self) -> &str {
        crate::domain::principal::Actor::public_label(&self.actor)
    }
    /// The detail in words, for timelines: the printed form's data version is for the audit log
    /// only, and older rows named the kind of a 销签登记 by its code.
    pub fn detail_text(&self) -> String {
        if self.detail.starts_with("数据版本") {
            return String::new();
        }
        self.detail
            .replace("（travelled）", "（实际成行）")
            .replace("（cancelled）", "（取消行程）")
    }
}

/// The timeline of one object, oldest first.
pub async fn timeline(
    pool: &sqlx::AnyPool,
    object_type: ObjectType,
    object_id: &str,
) -> DbResult<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, ip, action, object_type, object_id, detail FROM audit_log
         WHERE object_type = $1 AND object_id = $2 ORDER BY at, id",
    )
    .bind(object_type.as_str())
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
    pub object_type: Option<ObjectType>,
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
    .bind(f.object_type.map(ObjectType::as_str).unwrap_or_default())
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
        .bind(f.object_type.map(ObjectType::as_str).unwrap_or_default())
        .bind(f.object_id.trim())
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
    Ok((rows.iter().map(from_row).collect::<DbResult<_>>()?, total))
}

/// An audit entry written by a bulk loader (the synthetic data generator).
pub struct ImportAudit {
    pub at: i64,
    pub actor: Actor,
    pub action: &'static str,
    pub object_type: ObjectType,
    pub object_id: String,
    pub detail: String,
}

/// Appends entries to the audit log, continuing its hash chain exactly as [`record`] does one
/// entry at a time (its four statements per entry would dominate a bulk load of millions).
pub async fn append_chained(conn: &mut Conn, rows: &[ImportAudit]) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE audit_chain SET last_hash = last_hash WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let mut prev: String = sqlx::query_scalar("SELECT last_hash FROM audit_chain WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    const COLS: usize = 10;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let mut chained = Vec::with_capacity(chunk.len());
        for r in chunk {
            let hash = entry_hash(
                &prev,
                r.at,
                r.actor.user_id,
                &r.actor.label,
                &r.actor.ip,
                r.action,
                r.object_type.as_str(),
                &r.object_id,
                &r.detail,
            );
            chained.push((std::mem::replace(&mut prev, hash.clone()), hash));
        }
        let sql = format!(
            "INSERT INTO audit_log (at, actor_user_id, actor, ip, action, object_type, object_id,
                detail, prev_hash, hash) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for (r, (p, h)) in chunk.iter().zip(&chained) {
            q = q
                .bind(r.at)
                .bind(r.actor.user_id)
                .bind(r.actor.label.as_str())
                .bind(r.actor.ip.as_str())
                .bind(r.action)
                .bind(r.object_type.as_str())
                .bind(r.object_id.as_str())
                .bind(r.detail.as_str())
                .bind(p.as_str())
                .bind(h.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_chain SET last_hash = $1 WHERE id = 1")
        .bind(prev.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
