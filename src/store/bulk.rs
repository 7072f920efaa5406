//! Multi-row INSERTs for bulk loading (the synthetic data generator, `laihua seed-synthetic`).

use super::sql::Conn;

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
