//! 好差评: the ratings of a group's steps, the city office's follow-up items (差评整改) and the
//! figures of satisfaction. A step is the audit entry of the action that took it (发件, 退件).

use sqlx::Row;

use super::sql::{id_list, Conn, DbResult};
use crate::domain::rating::{FollowUp, Level};

/// One decided step of a group: its audit entry.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: i64,
    pub at: i64,
    pub action: String,
    pub actor: String,
    pub detail: String,
}

/// The steps of a group taken by the actions named (audit names), oldest first.
pub async fn steps(pool: &sqlx::AnyPool, group_id: i64, actions: &[&str]) -> DbResult<Vec<Step>> {
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    // Audit names are constants of the code, not input; bound one by one all the same.
    let marks: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT id, at, action, actor, detail FROM audit_log
         WHERE object_type = 'group' AND object_id = $1 AND action IN ({})
         ORDER BY at, id",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(group_id.to_string());
    for a in actions {
        q = q.bind(a.to_string());
    }
    q.fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Step {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                action: r.try_get("action")?,
                actor: r.try_get("actor")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// A rating, with its group's number and unit as the follow-up lists show them.
#[derive(Clone, Debug)]
pub struct Rating {
    pub id: i64,
    pub group_id: i64,
    pub unit_id: i64,
    pub district_id: i64,
    pub step_id: i64,
    pub step_action: String,
    pub step_at: i64,
    pub round: i64,
    pub level: Level,
    pub comment: String,
    pub rated_at: i64,
    pub followup: FollowUp,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    /// Joined.
    pub group_number: String,
    pub group_name: String,
    pub unit_name: String,
    pub district_name: String,
}

const SELECT: &str = "SELECT r.id, r.group_id, r.unit_id, r.district_id, r.step_id, r.step_action,
        r.step_at, r.round, r.level, r.comment, r.rated_at, r.followup, r.reply, r.replied_at,
        g.number AS group_number, g.name AS group_name, u.name AS unit_name,
        COALESCE(d.name, '') AS district_name
    FROM ratings r
    JOIN invitation_groups g ON g.id = r.group_id
    JOIN units u ON u.id = r.unit_id
    LEFT JOIN districts d ON d.id = r.district_id";

fn unknown(col: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {col} {value:?} in ratings").into())
}

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<Rating> {
    let level: String = r.try_get("level")?;
    let followup: String = r.try_get("followup")?;
    Ok(Rating {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        unit_id: r.try_get("unit_id")?,
        district_id: r.try_get("district_id")?,
        step_id: r.try_get("step_id")?,
        step_action: r.try_get("step_action")?,
        step_at: r.try_get("step_at")?,
        round: r.try_get("round")?,
        level: Level::parse(&level).ok_or_else(|| unknown("level", &level))?,
        comment: r.try_get("comment")?,
        rated_at: r.try_get("rated_at")?,
        followup: FollowUp::parse(&followup).ok_or_else(|| unknown("followup", &followup))?,
        reply: r.try_get("reply")?,
        replied_at: r.try_get("replied_at")?,
        group_number: r.try_get("group_number")?,
        group_name: r.try_get("group_name")?,
        unit_name: r.try_get("unit_name")?,
        district_name: r.try_get("district_name")?,
    })
}

/// Every rating of a group, by step and round.
pub async fn of_group(pool: &sqlx::AnyPool, group_id: i64) -> DbResult<Vec<Rating>> {
    let sql = format!("{SELECT} WHERE r.group_id = $1 ORDER BY r.step_at, r.step_id, r.round");
    sqlx::query(&sql)
        .bind(group_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One rating.
pub async fn get(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<Rating>> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The latest round of a step and where its follow-up stands, read in the rating's transaction.
pub async fn latest_round(conn: &mut Conn, step_id: i64) -> DbResult<Option<(i64, FollowUp)>> {
    let row = sqlx::query(
        "SELECT round, followup FROM ratings WHERE step_id = $1 ORDER BY round DESC LIMIT 1",
    )
    .bind(step_id)
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let followup: String = r.try_get("followup")?;
    Ok(Some((
        r.try_get("round")?,
        FollowUp::parse(&followup).ok_or_else(|| unknown("followup", &followup))?,
    )))
}

/// A new rating as the workflow checked it.
pub struct NewRating<'a> {
    pub group_id: i64,
    pub unit_id: i64,
    pub district_id: i64,
    pub step_id: i64,
    pub step_action: &'a str,
    pub step_at: i64,
    pub round: i64,
    pub level: Level,
    pub comment: &'a str,
    pub rated_by: i64,
    pub rated_at: i64,
}

/// Inserts the rating of its step and round; `None` when that round of the step was rated
/// already (by a request that got there first), else its id.
pub async fn insert(conn: &mut Conn, n: &NewRating<'_>) -> DbResult<Option<i64>> {
    let followup = if n.level.needs_follow_up() {
        FollowUp::Open
    } else {
        FollowUp::None
    };
    let row = sqlx::query(
        "INSERT INTO ratings (group_id, unit_id, district_id, step_id, step_action, step_at, round,
            level, comment, rated_by, rated_at, followup)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (step_id, round) DO NOTHING
         RETURNING id",
    )
    .bind(n.group_id)
    .bind(n.unit_id)
    .bind(n.district_id)
    .bind(n.step_id)
    .bind(n.step_action)
    .bind(n.step_at)
    .bind(n.round)
    .bind(n.level.as_str())
    .bind(n.comment)
    .bind(n.rated_by)
    .bind(n.rated_at)
    .bind(followup.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

/// Closes an open follow-up item with the office's reply; false when it is not open (closed by
/// someone else first).
pub async fn reply(conn: &mut Conn, id: i64, text: &str, by: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE ratings SET followup = 'done', reply = $1, replied_by = $2, replied_at = $3
         WHERE id = $4 AND followup = 'open'",
    )
    .bind(text)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The follow-up items in `state` (open: oldest first; done: newest reply first), a page of
/// them and how many there are.
pub async fn followups(
    pool: &sqlx::AnyPool,
    state: FollowUp,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Rating>, i64)> {
    let order = match state {
        FollowUp::Done => "r.replied_at DESC, r.id DESC",
        _ => "r.rated_at, r.id",
    };
    let sql = format!("{SELECT} WHERE r.followup = $1 ORDER BY {order} LIMIT $2 OFFSET $3");
    let rows = sqlx::query(&sql)
        .bind(state.as_str())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok((rows, count(pool, state).await?))
}

/// How many follow-up items are in `state` (the navigation's 差评整改 count: open ones).
/// The count of open follow-up items, as a scalar subquery (for the navigation's one statement).
pub(crate) fn open_count_sql() -> String {
    format!(
        "SELECT COUNT(*) FROM ratings WHERE followup = '{}'",
        FollowUp::Open.as_str()
    )
}

pub async fn count(pool: &sqlx::AnyPool, state: FollowUp) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE followup = $1")
        .bind(state.as_str())
        .fetch_one(pool)
        .await
}

/// Ratings per Beijing day, district and level: (day number, district, level, count).
pub struct Tally {
    pub day: i64,
    pub district_id: i64,
    pub level: Level,
    pub count: i64,
}

/// The ratings given in `[from_ts, to_ts)`, in `district` or the whole city, tallied.
pub async fn tally(
    pool: &sqlx::AnyPool,
    from_ts: i64,
    to_ts: i64,
    district: Option<i64>,
) -> DbResult<Vec<Tally>> {
    let sql = format!(
        "SELECT (rated_at + 28800) / 86400 AS day, district_id, level, COUNT(*) AS n
         FROM ratings WHERE rated_at >= $1 AND rated_at < $2{}
         GROUP BY (rated_at + 28800) / 86400, district_id, level",
        district.map_or(String::new(), |d| format!(
            " AND district_id IN ({})",
            id_list(&[d])
        ))
    );
    sqlx::query(&sql)
        .bind(from_ts)
        .bind(to_ts)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let level: String = r.try_get("level")?;
            Ok(Tally {
                day: r.try_get("day")?,
                district_id: r.try_get("district_id")?,
                level: Level::parse(&level).ok_or_else(|| unknown("level", &level))?,
                count: r.try_get("n")?,
            })
        })
        .collect()
}

/// Follow-up items rated in `[from_ts, to_ts)` (in `district` or the city): (rated_at,
/// followup, replied_at), for the figures of how they were closed.
pub async fn followup_times(
    pool: &sqlx::AnyPool,
    from_ts: i64,
    to_ts: i64,
    district: Option<i64>,
) -> DbResult<Vec<(i64, FollowUp, Option<i64>)>> {
    let sql = format!(
        "SELECT rated_at, followup, replied_at FROM ratings
         WHERE followup <> 'none' AND rated_at >= $1 AND rated_at < $2{}",
        district.map_or(String::new(), |d| format!(
            " AND district_id IN ({})",
            id_list(&[d])
        ))
    );
    sqlx::query(&sql)
        .bind(from_ts)
        .bind(to_ts)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let f: String = r.try_get("followup")?;
            Ok((
                r.try_get("rated_at")?,
                FollowUp::parse(&f).ok_or_else(|| unknown("followup", &f))?,
                r.try_get("replied_at")?,
            ))
        })
        .collect()
}
