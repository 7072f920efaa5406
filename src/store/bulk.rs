//! Multi-row INSERTs for bulk loading (the synthetic data generator, `laihua seed-synthetic`).

use super::sql::{Conn, DbResult};
use crate::domain::group::GroupState;

/// `($o+1, …, $o+cols), (…)` for `rows` rows of `cols` columns: the VALUES of a multi-row
/// INSERT. Both backends accept a few thousand placeholders per statement.
pub(crate) fn values_placeholders(cols: usize, rows: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// Rows per multi-row INSERT of `cols` columns. SQLite looks each placeholder up by name in a
/// list (`sqlite3_bind_parameter_name`), so binding costs grow with the square of the
/// placeholders in a statement: keep them to about two hundred there. PostgreSQL takes thousands
/// and each statement is a round trip.
pub(crate) fn rows_per_insert(conn: &Conn, cols: usize) -> usize {
    let params = if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        240
    } else {
        16_000
    };
    (params / cols).max(1)
}

/// The tables whose ids a bulk loader chooses itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkTable {
    Groups,
    Visitors,
    Records,
}

impl BulkTable {
    const ALL: [BulkTable; 3] = [BulkTable::Groups, BulkTable::Visitors, BulkTable::Records];
    fn name(self) -> &'static str {
        match self {
            BulkTable::Groups => "invitation_groups",
            BulkTable::Visitors => "group_visitors",
            BulkTable::Records => "visit_records",
        }
    }
}

/// The highest id in a table (0 when empty).
pub async fn max_id(conn: &mut Conn, table: BulkTable) -> DbResult<i64> {
    let v: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(id) FROM {}", table.name()))
        .fetch_one(conn)
        .await?;
    Ok(v.unwrap_or(0))
}

/// PostgreSQL: moves the id sequences past the ids a bulk loader chose.
pub async fn advance_id_sequences(conn: &mut Conn) -> DbResult<()> {
    for table in BulkTable::ALL.map(BulkTable::name) {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Statistics for the planner after a bulk load. PostgreSQL: `VACUUM ANALYZE` (also the
/// visibility map, without which index-only scans visit every heap page until autovacuum runs).
/// SQLite: statistics from a sample of each index, as SQLite advises for large databases (a
/// full ANALYZE of a 1,000,000-group file reads all 8 GB of it).
pub async fn analyze(conn: &mut Conn, postgres: bool) -> DbResult<()> {
    if postgres {
        sqlx::query("VACUUM ANALYZE").execute(&mut *conn).await?;
    } else {
        sqlx::query("PRAGMA analysis_limit = 1000")
            .execute(&mut *conn)
            .await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
    }
    Ok(())
}

/// How many groups there are.
pub async fn count_groups(pool: &sqlx::AnyPool) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM invitation_groups")
        .fetch_one(pool)
        .await
}

/// Rows of each table a bulk load fills, for its summary.
pub async fn table_counts(pool: &sqlx::AnyPool) -> DbResult<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for table in [
        "units",
        "users",
        "invitation_groups",
        "group_visitors",
        "visit_records",
        "messages",
        "audit_log",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await?;
        out.push((table.to_string(), n));
    }
    Ok(out)
}

/// Groups in a state.
pub async fn groups_in_state(pool: &sqlx::AnyPool, state: GroupState) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM invitation_groups WHERE state = $1")
        .bind(state.as_str())
        .fetch_one(pool)
        .await
}

/// Groups of a unit.
pub async fn groups_of_unit(pool: &sqlx::AnyPool, unit_id: i64) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM invitation_groups WHERE unit_id = $1")
        .bind(unit_id)
        .fetch_one(pool)
        .await
}
