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
    let head = Head::read(conn).await?;
    let prev = head.hash.clone();
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
    let link = head.link(&hash);
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, ip, action, object_type, object_id, detail, prev_hash, hash, link)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
    .bind(link.as_deref())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_chain SET last_hash = $1, last_link = $2 WHERE id = 1")
        .bind(hash.as_str())
        .bind(link.as_deref())
        .execute(conn)
        .await?;
    Ok(())
}

/// The text the keyed chain starts from (the link "before" the first keyed entry).
pub const LINK_GENESIS: &str = "genesis";

/// The chain head, read under its lock: the last entry's hash and keyed link, and the keys of
/// the installation (none before its key file was first opened: entries are then written
/// without a link, before the keyed part of the chain starts).
struct Head {
    hash: String,
    link: Option<String>,
    keys: Option<std::sync::Arc<crate::keys::Keys>>,
}

impl Head {
    async fn read(conn: &mut Conn) -> DbResult<Head> {
        let row = sqlx::query(&format!(
            "SELECT last_hash, last_link, {} AS installation FROM audit_chain WHERE id = 1",
            crate::keys::INSTALLATION_SQL
        ))
        .fetch_one(&mut *conn)
        .await?;
        let installation: Option<String> = row.try_get("installation")?;
        let keys = match installation {
            None => None,
            Some(i) => Some(crate::keys::of_installation(&i).ok_or_else(|| {
                sqlx::Error::Protocol(
                    "the audit key of this database is not loaded: open the key file first".into(),
                )
            })?),
        };
        Ok(Head {
            hash: row.try_get("last_hash")?,
            link: row.try_get("last_link")?,
            keys,
        })
    }

    /// The keyed link of the entry whose hash is `hash`, following this head.
    fn link(&self, hash: &str) -> Option<String> {
        let keys = self.keys.as_ref()?;
        Some(keys.audit_link(self.link.as_deref().unwrap_or(LINK_GENESIS), hash))
    }
}

/// How many entries carry a keyed link (the keyed part of the chain).
pub async fn keyed_entries(pool: &sqlx::AnyPool) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE link IS NOT NULL")
        .fetch_one(pool)
        .await
}

/// Outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every chained entry checks out; the number of entries checked.
    Intact(u64),
    /// The first entry that does not match (its id), and why.
    Broken(i64, ChainBreak),
}

/// Recomputes the chain from the first hashed entry to the head: the SHA-256 chain of every
/// entry, and the keyed chain (HMAC-SM3 under the audit key of the key file) from the first
/// entry that has a link on: after it, every entry must have the link the key gives, so an
/// entry altered and re-hashed by someone without the key is found. The installation's keys
/// must have been opened in this process (`keys::KeyRing::open`).
pub async fn verify(pool: &sqlx::AnyPool) -> DbResult<Verdict> {
    let head = Head::read(&mut *pool.acquire().await?).await?;
    let mut last: Option<String> = None;
    // The keyed chain: the previous link once it started.
    let mut last_link: Option<String> = None;
    // Whether every entry from here on must have a link: from the entry after the head the
    // key file was made at (all of them when it was made on an empty log).
    let from = head
        .keys
        .as_ref()
        .and_then(|k| k.audit_from().map(str::to_string));
    let mut must_link = from.as_deref() == Some("genesis");
    let mut from_seen = must_link;
    let mut checked = 0u64;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, at, actor_user_id, actor, ip, action, object_type, object_id, detail, prev_hash, hash, link
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
            let link: Option<String> = r.try_get("link")?;
            match (&link, &last_link) {
                (None, _) if must_link => return Ok(Verdict::Broken(id, ChainBreak::Unlinked)),
                (None, None) => {}
                (None, Some(_)) => return Ok(Verdict::Broken(id, ChainBreak::Unlinked)),
                (Some(l), before) => {
                    let Some(keys) = &head.keys else {
                        return Ok(Verdict::Broken(id, ChainBreak::KeyedLink));
                    };
                    let prev = before.as_deref().unwrap_or(LINK_GENESIS);
                    if keys.audit_link(prev, &stored) != *l {
                        return Ok(Verdict::Broken(id, ChainBreak::KeyedLink));
                    }
                }
            }
            if link.is_some() {
                last_link = link;
            }
            if from.as_deref() == Some(stored.as_str()) {
                must_link = true;
                from_seen = true;
            }
            last = Some(stored);
            checked += 1;
        }
    }
    // The head as it is now (entries written during the check were checked too).
    let end = Head::read(&mut *pool.acquire().await?).await?;
    if let Some(l) = last {
        if l != end.hash {
            return Ok(Verdict::Broken(after, ChainBreak::Tail));
        }
    }
    if last_link.is_some() && end.link != last_link {
        return Ok(Verdict::Broken(after, ChainBreak::Tail));
    }
    // The entry the keyed chain starts after is gone or was rewritten.
    if from.is_some() && !from_seen {
        return Ok(Verdict::Broken(after, ChainBreak::KeyedLink));
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
    let mut head = Head::read(conn).await?;
    let mut prev = head.hash.clone();
    const COLS: usize = 11;
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
            let link = head.link(&hash);
            if link.is_some() {
                head.link.clone_from(&link);
            }
            chained.push((std::mem::replace(&mut prev, hash.clone()), hash, link));
        }
        let sql = format!(
            "INSERT INTO audit_log (at, actor_user_id, actor, ip, action, object_type, object_id,
                detail, prev_hash, hash, link) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for (r, (p, h, l)) in chunk.iter().zip(&chained) {
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
                .bind(h.as_str())
                .bind(l.as_deref());
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_chain SET last_hash = $1, last_link = $2 WHERE id = 1")
        .bind(prev.as_str())
        .bind(head.link.as_deref())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
