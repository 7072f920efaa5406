//! What the operator's endpoints read: a cheap query that proves the database answers, and the
//! sizes of the review queues (indexed counts, see the `*_queue` indexes).

use sqlx::Row;

use super::sql::DbResult;

/// The database answers a query.
pub async fn ping(pool: &sqlx::AnyPool) -> DbResult<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// The states in which an item waits for a reviewer, by queue (the `queue` label of
/// `laihua_queue_waiting`) and its table.
pub const WAITING: &[(&str, &str, &[&str])] = &[
    (
        "groups",
        "invitation_groups",
        &["pending_county", "pending_city", "accepted", "reported"],
    ),
    (
        "registrations",
        "units",
        &["pending_county", "pending_city"],
    ),
    (
        "changes",
        "unit_changes",
        &["pending_county", "pending_city"],
    ),
    (
        "visits",
        "visit_records",
        &["pending_county", "pending_city"],
    ),
];

/// (queue, state, count) of every queue and waiting state that has items, in one statement.
pub async fn waiting(conn: &mut sqlx::AnyConnection) -> DbResult<Vec<(String, String, i64)>> {
    let sql = WAITING
        .iter()
        .map(|(queue, table, states)| {
            let list = states
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT CAST('{queue}' AS TEXT) AS queue, state, COUNT(*) AS n FROM {table} \
                 WHERE state IN ({list}) GROUP BY state"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("queue")?, r.try_get("state")?, r.try_get("n")?)))
        .collect()
}
