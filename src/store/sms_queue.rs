//! The SMS queue (migration 0025): every message the system sends, its state and attempts.
//! A row goes out only under a claim taken by one conditional UPDATE (`state = 'pending'`), and
//! only the holder of the claim's token records the outcome.

use sqlx::Row;

use super::sql::{Conn, DbResult};

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const UNKNOWN: &str = "unknown";
/// Every state, in the order of a message's life.
pub const STATES: [&str; 5] = [PENDING, SENDING, SENT, FAILED, UNKNOWN];

/// A row of the queue.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub kind: String,
    pub mobile: String,
    pub params: String,
    pub unit_id: Option<i64>,
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub sent_at: Option<i64>,
    pub reference: String,
    pub last_error: String,
}

const COLS: &str = "id, kind, mobile, params, unit_id, created_at, state, attempts, next_at, \
                    sent_at, reference, last_error";

fn entry(r: &sqlx::any::AnyRow) -> DbResult<Entry> {
    Ok(Entry {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        mobile: r.try_get("mobile")?,
        params: r.try_get("params")?,
        unit_id: r.try_get("unit_id")?,
        created_at: r.try_get("created_at")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        sent_at: r.try_get("sent_at")?,
        reference: r.try_get("reference")?,
        last_error: r.try_get("last_error")?,
    })
}

/// A new message waiting to be sent (inside the caller's transaction).
pub async fn enqueue(
    conn: &mut Conn,
    kind: &str,
    mobile: &str,
    params: &str,
    unit_id: Option<i64>,
    now: i64,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO sms_queue (kind, mobile, params, unit_id, created_at, state, attempts,
                                next_at, reference, last_error)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $5, '', '') RETURNING id",
    )
    .bind(kind)
    .bind(mobile)
    .bind(params)
    .bind(unit_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// A message sent at once under `claim` (a verification code): recorded already claimed.
pub async fn insert_claimed(
    pool: &sqlx::AnyPool,
    kind: &str,
    mobile: &str,
    params: &str,
    now: i64,
    claim: &str,
    lease_until: i64,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO sms_queue (kind, mobile, params, created_at, state, attempts, next_at,
                                claim, lease_until, reference, last_error)
         VALUES ($1, $2, $3, $4, 'sending', 1, $4, $5, $6, '', '') RETURNING id",
    )
    .bind(kind)
    .bind(mobile)
    .bind(params)
    .bind(now)
    .bind(claim)
    .bind(lease_until)
    .fetch_one(pool)
    .await
}

/// Claims a due pending message for one attempt: the row, or `None` when it is not pending
/// and due (sent, claimed elsewhere, or waiting for its next attempt).
pub async fn claim(
    pool: &sqlx::AnyPool,
    id: i64,
    claim: &str,
    now: i64,
    lease_until: i64,
) -> DbResult<Option<Entry>> {
    let row = sqlx::query(&format!(
        "UPDATE sms_queue SET state = 'sending', claim = $2, lease_until = $3,
                attempts = attempts + 1
         WHERE id = $1 AND state = 'pending' AND next_at <= $4 RETURNING {COLS}"
    ))
    .bind(id)
    .bind(claim)
    .bind(lease_until)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(entry).transpose()
}

/// The ids of pending messages due at `now`, oldest first.
pub async fn due(pool: &sqlx::AnyPool, now: i64, limit: i64) -> DbResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM sms_queue WHERE state = 'pending' AND next_at <= $1
         ORDER BY next_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records the outcome of an attempt made under `claim`: `sent` (with the provider's
/// reference), or `pending` again at `next_at`, `failed` or `unknown` with the error. False
/// when the claim is no longer the row's.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    pool: &sqlx::AnyPool,
    id: i64,
    claim: &str,
    state: &str,
    now: i64,
    next_at: i64,
    reference: &str,
    error: &str,
) -> DbResult<bool> {
    let sent_at = (state == SENT).then_some(now);
    let done = sqlx::query(
        "UPDATE sms_queue SET state = $3, sent_at = $4, next_at = $5, reference = $6,
                last_error = $7, claim = NULL, lease_until = NULL
         WHERE id = $1 AND claim = $2",
    )
    .bind(id)
    .bind(claim)
    .bind(state)
    .bind(sent_at)
    .bind(next_at)
    .bind(reference)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Messages whose claim's lease ran out before an outcome was recorded (the instance stopped
/// mid-send) become `unknown`, with `error`; returns them.
pub async fn expire_leases(pool: &sqlx::AnyPool, now: i64, error: &str) -> DbResult<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "UPDATE sms_queue SET state = 'unknown', last_error = $2, claim = NULL, lease_until = NULL
         WHERE state = 'sending' AND lease_until < $1 RETURNING {COLS}"
    ))
    .bind(now)
    .bind(error)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry).collect()
}

/// Puts a failed or unknown notification back in the queue, due now, with its attempts
/// counted from zero; false when it is not failed or unknown (or a code, never sent again).
pub async fn requeue(conn: &mut Conn, id: i64, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE sms_queue SET state = 'pending', next_at = $2, attempts = 0
         WHERE id = $1 AND state IN ('failed', 'unknown') AND kind <> 'verify_code'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<Entry>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM sms_queue WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(entry).transpose()
}

/// A page of the queue, newest first, of the given states (all when empty); [`counts`] says
/// how many there are.
pub async fn list(
    pool: &sqlx::AnyPool,
    states: &[&str],
    limit: i64,
    offset: i64,
) -> DbResult<Vec<Entry>> {
    // The states are constants of this module, never input.
    let filter = match states.is_empty() {
        true => String::new(),
        false => format!(
            "WHERE state IN ({})",
            states
                .iter()
                .map(|s| format!("'{}'", s.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM sms_queue {filter} ORDER BY id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry).collect()
}

/// How many messages are in each state.
#[derive(Clone, Debug, Default)]
pub struct Counts(Vec<(String, i64)>);

impl Counts {
    pub fn of(&self, state: &str) -> i64 {
        self.0
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    }

    /// Of the given states, or of all when none is given.
    pub fn sum(&self, states: &[&str]) -> i64 {
        self.0
            .iter()
            .filter(|(s, _)| states.is_empty() || states.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    }
}

pub async fn counts(pool: &sqlx::AnyPool) -> DbResult<Counts> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM sms_queue GROUP BY state")
        .fetch_all(pool)
        .await?;
    let counts = rows
        .iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect::<DbResult<_>>()?;
    Ok(Counts(counts))
}

/// Deletes the messages created before `before` that are done with (sent, failed, unknown).
pub async fn purge(pool: &sqlx::AnyPool, before: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "DELETE FROM sms_queue WHERE created_at < $1 AND state IN ('sent', 'failed', 'unknown')",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
