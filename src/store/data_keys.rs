//! The check values of the data keys (see `keys`): the database knows which keys its data is
//! sealed under without holding them.

use sqlx::Row;

use super::sql::DbResult;

/// The check values held: (key number, check value), by number.
pub async fn checks(pool: &sqlx::AnyPool) -> DbResult<Vec<(i64, String)>> {
    let rows = sqlx::query("SELECT number, check_value FROM data_keys ORDER BY number")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Records key `number`'s check value unless the database knows that key already.
pub async fn record<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    number: i64,
    check: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO data_keys (number, check_value, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (number) DO NOTHING",
    )
    .bind(number)
    .bind(check)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The audit chain's head hash (where a new key file's keyed chain starts).
pub async fn audit_head(pool: &sqlx::AnyPool) -> DbResult<String> {
    sqlx::query_scalar("SELECT last_hash FROM audit_chain WHERE id = 1")
        .fetch_one(pool)
        .await
}
