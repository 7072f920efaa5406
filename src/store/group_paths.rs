//! The paths of a group beside its review (issue 16): deleting a draft never submitted, and the
//! cancellation of a dispatched invitation with the records of its visitors (migration 0018).
//! The state changes themselves go through `groups::transition` like every other.

use sqlx::Row;

use super::sql::{Conn, DbResult};

/// Removes the unit's draft `id` (never submitted) with its visitors and attachments, and the
/// rows of their files; returns the hashes of the files whose rows went (the caller removes
/// them from the file store once committed, if no other row still names them), or `None` when
/// the group is not such a draft (any more).
pub async fn delete_draft(conn: &mut Conn, id: i64, unit_id: i64) -> DbResult<Option<Vec<String>>> {
    // Lock the row first: a concurrent 【提交】 or upload of the same draft waits, then finds
    // it gone (or this finds it submitted).
    let r = sqlx::query(
        "UPDATE invitation_groups SET updated_at = updated_at
         WHERE id = $1 AND unit_id = $2 AND state = 'draft' AND submitted_at IS NULL",
    )
    .bind(id)
    .bind(unit_id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(None);
    }
    let (ids, shas) = file_rows(conn, id).await?;
    for sql in [
        "DELETE FROM group_attachments WHERE group_id = $1",
        "DELETE FROM group_itinerary WHERE group_id = $1",
        "DELETE FROM group_visitors WHERE group_id = $1",
        "DELETE FROM invitation_groups WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    if !ids.is_empty() {
        let list = super::sql::id_list(&ids);
        sqlx::query(&format!("DELETE FROM files WHERE id IN ({list})"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(shas))
}

/// The rows of every file of group `id` (its attachments, its visitors' scans, its stamped
/// form and letter, its visitors' post-visit registrations): their ids and distinct hashes.
pub(super) async fn file_rows(conn: &mut Conn, id: i64) -> DbResult<(Vec<i64>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT f.id, f.sha256 FROM files f WHERE f.id IN (
            SELECT file_id FROM group_attachments WHERE group_id = $1
            UNION SELECT passport_file_id FROM group_visitors WHERE group_id = $1
            UNION SELECT visa_file_id FROM group_visitors WHERE group_id = $1
            UNION SELECT scan_file_id FROM invitation_groups WHERE id = $1
            UNION SELECT letter_file_id FROM invitation_groups WHERE id = $1
            UNION SELECT vf.file_id FROM visit_files vf
                JOIN visit_records r ON r.id = vf.record_id WHERE r.group_id = $1)",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::new();
    let mut shas = Vec::new();
    for r in &rows {
        ids.push(r.try_get::<i64, _>("id")?);
        let sha: String = r.try_get("sha256")?;
        if !shas.contains(&sha) {
            shas.push(sha);
        }
    }
    Ok((ids, shas))
}

/// Locks a dispatched group's row until the transaction ends: true while it is dispatched. A
/// post-visit registration takes it before it writes, so that it and a 取消邀请 of the same
/// group come one after the other.
pub async fn lock_dispatched(conn: &mut Conn, id: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE invitation_groups SET updated_at = updated_at WHERE id = $1 AND state = 'dispatched'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How many of the group's visitors have their entry into China registered (a 销签登记 with
/// an entry date, whatever its state).
pub async fn entries_registered(conn: &mut Conn, group_id: i64) -> DbResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM visit_records WHERE group_id = $1 AND entry_date IS NOT NULL",
    )
    .bind(group_id)
    .fetch_one(conn)
    .await
}

/// Records the cancellation of group `id` (just moved to `cancelled` in the caller's
/// transaction) and a cancellation record for each of its visitors; their due registrations
/// end (the overdue lists read only dispatched groups' unregistered visitors).
pub async fn record_cancellation(
    conn: &mut Conn,
    id: i64,
    reason: &str,
    by: &str,
    user_id: Option<i64>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO group_cancellations (group_id, reason, cancelled_by, user_id, cancelled_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(reason)
    .bind(by)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO visitor_cancellations (visitor_id, group_id, unit_id, reason, created_at)
         SELECT v.id, g.id, g.unit_id, $2, $3 FROM group_visitors v
           JOIN invitation_groups g ON g.id = v.group_id WHERE g.id = $1",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::visits::refresh_unregistered_of_group(&mut *conn, id).await?;
    Ok(())
}

/// Why and by whom an invitation was cancelled.
#[derive(Clone, Debug)]
pub struct Cancellation {
    pub reason: String,
    pub by: String,
    pub at: i64,
}

impl Cancellation {
    pub fn at_text(&self) -> String {
        crate::clock::fmt_ts(self.at)
    }
}

/// The cancellation of group `id`, if it was cancelled.
pub async fn cancellation(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<Cancellation>> {
    let row = sqlx::query(
        "SELECT reason, cancelled_by, cancelled_at FROM group_cancellations WHERE group_id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Cancellation {
            reason: r.try_get("reason")?,
            by: r.try_get("cancelled_by")?,
            at: r.try_get("cancelled_at")?,
        })
    })
    .transpose()
}

/// An invitation cancelled lately, as the offices' 团组待办 lists it.
#[derive(Clone, Debug)]
pub struct Cancelled {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub unit_name: String,
    pub district_name: String,
    pub c: Cancellation,
}

/// The invitations cancelled since `since` (in a district, or the whole city), newest first.
pub async fn cancelled_since(
    pool: &sqlx::AnyPool,
    since: i64,
    district: Option<i64>,
    limit: i64,
) -> DbResult<Vec<Cancelled>> {
    let in_district = super::sql::district_filter("g", district);
    let rows = sqlx::query(&format!(
        "SELECT g.id, g.number, g.name, u.name AS unit_name, d.name AS district_name,
            c.reason, c.cancelled_by, c.cancelled_at
         FROM group_cancellations c JOIN invitation_groups g ON g.id = c.group_id
           JOIN units u ON u.id = g.unit_id JOIN districts d ON d.id = g.district_id
         WHERE c.cancelled_at >= $1{in_district}
         ORDER BY c.cancelled_at DESC, g.id DESC LIMIT $2"
    ))
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Cancelled {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                name: r.try_get("name")?,
                unit_name: r.try_get("unit_name")?,
                district_name: r.try_get("district_name")?,
                c: Cancellation {
                    reason: r.try_get("reason")?,
                    by: r.try_get("cancelled_by")?,
                    at: r.try_get("cancelled_at")?,
                },
            })
        })
        .collect()
}
