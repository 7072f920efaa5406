//! Site messages (站内信) to units.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::principal::Actor;

#[derive(Clone, Debug)]
pub struct Message {
    pub id: i64,
    pub sender_label: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl Message {
    pub fn created_text(&self) -> String {
        crate::clock::fmt_ts(self.created_at)
    }
    pub fn unread(&self) -> bool {
        self.read_at.is_none()
    }
}

pub async fn send(
    conn: &mut Conn,
    unit_id: i64,
    sender: &Actor,
    title: &str,
    body: &str,
    now: i64,
) -> DbResult<i64> {
    insert(conn, unit_id, sender, title, body, now, None).await
}

/// A record of something the unit did itself: kept in its list, already read (no reminder).
pub async fn record_read(
    conn: &mut Conn,
    unit_id: i64,
    sender: &Actor,
    title: &str,
    body: &str,
    now: i64,
) -> DbResult<i64> {
    insert(conn, unit_id, sender, title, body, now, Some(now)).await
}

async fn insert(
    conn: &mut Conn,
    unit_id: i64,
    sender: &Actor,
    title: &str,
    body: &str,
    now: i64,
    read_at: Option<i64>,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO messages (unit_id, sender_user_id, sender_label, title, body, created_at, read_at, next_popup_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id",
    )
    .bind(unit_id)
    .bind(sender.user_id)
    .bind(Actor::public_label(&sender.label))
    .bind(title)
    .bind(body)
    .bind(now)
    .bind(read_at)
    .fetch_one(conn)
    .await
}

const COLS: &str = "id, sender_label, title, body, created_at, read_at";

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<Message> {
    Ok(Message {
        id: r.try_get("id")?,
        // Stored with the login ID for older rows; the unit sees the name only.
        sender_label: crate::domain::principal::Actor::public_label(
            &r.try_get::<String, _>("sender_label")?,
        )
        .to_string(),
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
    })
}

/// The unit's newest messages, without counting the rest (the home page shows five).
pub async fn recent(pool: &sqlx::AnyPool, unit_id: i64, limit: i64) -> DbResult<Vec<Message>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM messages WHERE unit_id = $1 AND deleted_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(unit_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// A page of a unit's messages, newest first, and the total count.
pub async fn list(
    pool: &sqlx::AnyPool,
    unit_id: i64,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Message>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM messages WHERE unit_id = $1 AND deleted_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(unit_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE unit_id = $1 AND deleted_at IS NULL",
    )
    .bind(unit_id)
    .fetch_one(pool)
    .await?;
    Ok((rows.iter().map(from_row).collect::<DbResult<_>>()?, total))
}

/// One of the unit's own messages (never another unit's).
pub async fn get(pool: &sqlx::AnyPool, unit_id: i64, id: i64) -> DbResult<Option<Message>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM messages WHERE id = $1 AND unit_id = $2 AND deleted_at IS NULL"
    ))
    .bind(id)
    .bind(unit_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn mark_read(pool: &sqlx::AnyPool, unit_id: i64, id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE messages SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND unit_id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(unit_id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete(pool: &sqlx::AnyPool, unit_id: i64, id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE messages SET deleted_at = $1 WHERE id = $2 AND unit_id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(unit_id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Minutes between two pop-ups of the same unread message.
pub const POPUP_EVERY: i64 = 10 * 60;

/// The unit's number of unread messages and, when its reminder is due, the newest unread one,
/// claimed so that it pops up once per `POPUP_EVERY` across tabs and instances. One statement
/// on every page of a unit (a second only when a reminder is claimed).
pub async fn reminder(
    pool: &sqlx::AnyPool,
    unit_id: i64,
    now: i64,
) -> DbResult<(i64, Option<Message>)> {
    let r = sqlx::query(
        "SELECT c.n, m.id, m.sender_label, m.title, m.body, m.created_at, m.read_at, m.next_popup_at
         FROM (SELECT COUNT(*) AS n FROM messages
               WHERE unit_id = $1 AND deleted_at IS NULL AND read_at IS NULL) c
         LEFT JOIN (SELECT id, sender_label, title, body, created_at, read_at, next_popup_at
                    FROM messages WHERE unit_id = $1 AND deleted_at IS NULL AND read_at IS NULL
                    ORDER BY created_at DESC, id DESC LIMIT 1) m ON 1 = 1",
    )
    .bind(unit_id)
    .fetch_one(pool)
    .await?;
    let unread: i64 = r.try_get("n")?;
    let due: Option<i64> = r.try_get("next_popup_at")?;
    let Some(due) = due.filter(|due| *due <= now) else {
        return Ok((unread, None));
    };
    let m = from_row(&r)?;
    let claimed = sqlx::query(
        "UPDATE messages SET next_popup_at = $1 WHERE id = $2 AND next_popup_at = $3 AND read_at IS NULL AND deleted_at IS NULL",
    )
    .bind(now + POPUP_EVERY)
    .bind(m.id)
    .bind(due)
    .execute(pool)
    .await?;
    Ok((unread, (claimed.rows_affected() == 1).then_some(m)))
}

/// Writes the same message to every unit, or every unit of a district. Returns how many.
pub async fn broadcast(
    conn: &mut Conn,
    district_id: Option<i64>,
    sender: &Actor,
    title: &str,
    body: &str,
    now: i64,
) -> DbResult<u64> {
    let r = sqlx::query(
        "INSERT INTO messages (unit_id, sender_user_id, sender_label, title, body, created_at, next_popup_at)
         SELECT id, $1, $2, $3, $4, $5, $5 FROM units WHERE ($6 < 0 OR district_id = $6)",
    )
    .bind(sender.user_id)
    .bind(Actor::public_label(&sender.label))
    .bind(title)
    .bind(body)
    .bind(now)
    .bind(district_id.unwrap_or(-1))
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// A message for bulk loading (the synthetic data generator, `laihua seed-synthetic`).
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub unit_id: i64,
    pub sender: Actor,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Inserts many messages with multi-row INSERTs, in the order given.
pub async fn insert_many(conn: &mut Conn, rows: &[NewMessage]) -> DbResult<()> {
    const COLS: usize = 8;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let sql = format!(
            "INSERT INTO messages (unit_id, sender_user_id, sender_label, title, body, created_at,
                read_at, next_popup_at) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            q = q
                .bind(m.unit_id)
                .bind(m.sender.user_id)
                .bind(m.sender.label.as_str())
                .bind(m.title.as_str())
                .bind(m.body.as_str())
                .bind(m.created_at)
                .bind(m.read_at)
                .bind(m.created_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
