//! The SQL of `laihua backup` and `laihua restore` (see `crate::backup`): the schema as the
//! database's own catalogue describes it (tables, columns, foreign keys, sequences), every
//! table's rows as plain values, and their loading back, on SQLite and PostgreSQL alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, ensure};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::db::{Backend, Db};

/// Values bound in one INSERT of a restore (both databases accept far more).
const BINDS_PER_INSERT: usize = 4000;
/// The table of applied migrations: not copied (a restore runs the migrations itself).
pub const MIGRATIONS_TABLE: &str = "schema_migrations";
/// Rows that the migrations themselves insert (table, SQL condition): a database holding only
/// these is empty, and a restore replaces them with the backup's.
const MIGRATION_ROWS: &[(&str, &str)] = &[("audit_chain", "id = 1 AND last_hash = 'genesis'")];

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Bigint,
    Text,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<Column>,
}

/// A read-only transaction whose reads all see one snapshot of the database: on SQLite (WAL)
/// the snapshot of its first read, on PostgreSQL REPEATABLE READ.
pub async fn begin_snapshot(db: &Db) -> anyhow::Result<Transaction<'static, Any>> {
    let mut tx = db.pool.begin().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// The versions of the migrations applied, in order.
pub async fn applied_migrations(conn: &mut AnyConnection) -> anyhow::Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Calls `f` with the values of every row of `table`, in column order (JSON numbers for
/// BIGINT, strings for TEXT, null), streamed.
pub async fn each_row(
    conn: &mut AnyConnection,
    table: &TableSchema,
    mut f: impl FnMut(Vec<Value>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let cols = table
        .columns
        .iter()
        .map(|c| ident(&c.name))
        .collect::<anyhow::Result<Vec<_>>>()?
        .join(", ");
    let sql = format!("SELECT {cols} FROM {}", ident(&table.name)?);
    let mut rows = sqlx::query(&sql).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, c) in table.columns.iter().enumerate() {
            let v = match c.ty {
                ColumnType::Bigint => row
                    .try_get::<Option<i64>, _>(i)
                    .map_err(|e| anyhow::anyhow!("reading {}.{}: {e}", table.name, c.name))?
                    .map_or(Value::Null, Value::from),
                ColumnType::Text => row
                    .try_get::<Option<String>, _>(i)
                    .map_err(|e| anyhow::anyhow!("reading {}.{}: {e}", table.name, c.name))?
                    .map_or(Value::Null, Value::from),
            };
            values.push(v);
        }
        f(values)?;
    }
    Ok(())
}

/// Deletes the rows the migrations inserted (of an otherwise empty database), to make way for
/// a backup's.
pub async fn clear_migration_rows(conn: &mut AnyConnection, schema: &Schema) -> anyhow::Result<()> {
    for (table, condition) in MIGRATION_ROWS {
        if schema.tables.iter().any(|t| t.name == *table) {
            sqlx::query(&format!("DELETE FROM {} WHERE {condition}", ident(table)?))
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Inserts rows (values in the order of `columns`), several to a statement.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[Column],
    rows: &[Vec<Value>],
) -> anyhow::Result<()> {
    let names = columns
        .iter()
        .map(|c| ident(&c.name))
        .collect::<anyhow::Result<Vec<_>>>()?
        .join(", ");
    let per_statement = (BINDS_PER_INSERT / columns.len().max(1)).max(1);
    for batch in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {} ({names}) VALUES ", ident(table)?);
        let mut n = 0;
        for (r, _) in batch.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for row in batch {
            for (v, c) in row.iter().zip(columns) {
                query = match c.ty {
                    ColumnType::Bigint => query.bind(v.as_i64()),
                    ColumnType::Text => query.bind(v.as_str().map(str::to_string)),
                };
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The tables that hold data, with their row counts (rows the migrations insert aside).
pub async fn tables_with_data(
    conn: &mut AnyConnection,
    schema: &Schema,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut full = Vec::new();
    for t in &schema.tables {
        let condition = MIGRATION_ROWS
            .iter()
            .find(|(table, _)| *table == t.name)
            .map(|(_, c)| format!(" WHERE NOT ({c})"))
            .unwrap_or_default();
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {}{condition}",
            ident(&t.name)?
        ))
        .fetch_one(&mut *conn)
        .await?;
        if n > 0 {
            full.push((t.name.clone(), n));
        }
    }
    Ok(full)
}

/// Moves every sequence past the highest id of its table and past what the source had given
/// (`issued`), so that the copy never gives an id twice.
pub async fn restore_sequences(
    conn: &mut AnyConnection,
    backend: Backend,
    serial: &[(String, String)],
    issued: &BTreeMap<String, i64>,
) -> anyhow::Result<()> {
    for (table, column) in serial {
        let max: i64 = sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX({}), 0) FROM {}",
            ident(column)?,
            ident(table)?
        ))
        .fetch_one(&mut *conn)
        .await?;
        let value = max.max(issued.get(table).copied().unwrap_or(0));
        match backend {
            Backend::Postgres => {
                // The next id is value + 1 (1 on a table that never had a row).
                sqlx::query("SELECT setval(pg_get_serial_sequence($1, $2), $3, false)")
                    .bind(table.as_str())
                    .bind(column.as_str())
                    .bind(value + 1)
                    .execute(&mut *conn)
                    .await?;
            }
            Backend::Sqlite => {
                sqlx::query("DELETE FROM sqlite_sequence WHERE name = $1")
                    .bind(table.as_str())
                    .execute(&mut *conn)
                    .await?;
                if value > 0 {
                    sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)")
                        .bind(table.as_str())
                        .bind(value)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

pub struct Schema {
    /// In foreign-key order, without `schema_migrations`.
    pub tables: Vec<TableSchema>,
    /// (table, column) of every column filled by a sequence.
    pub serial: Vec<(String, String)>,
}

pub async fn table_names(
    conn: &mut AnyConnection,
    backend: Backend,
) -> anyhow::Result<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(&mut *conn).await?)
}

pub async fn read_schema(conn: &mut AnyConnection, backend: Backend) -> anyhow::Result<Schema> {
    let names: Vec<String> = table_names(conn, backend)
        .await?
        .into_iter()
        .filter(|n| n != MIGRATIONS_TABLE)
        .collect();
    let mut tables = Vec::new();
    let mut serial = Vec::new();
    let mut edges = Vec::new();
    for name in &names {
        ident(name)?;
        let mut columns = Vec::new();
        match backend {
            Backend::Sqlite => {
                let rows =
                    sqlx::query("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                        .bind(name.as_str())
                        .fetch_all(&mut *conn)
                        .await?;
                let create: String = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
                )
                .bind(name.as_str())
                .fetch_one(&mut *conn)
                .await?;
                let autoincrement = create.to_ascii_uppercase().contains("AUTOINCREMENT");
                for r in rows {
                    let column: String = r.try_get(0)?;
                    let declared: String = r.try_get(1)?;
                    let pk: i64 = r.try_get(2)?;
                    let upper = declared.to_ascii_uppercase();
                    let ty = if upper.contains("INT") {
                        ColumnType::Bigint
                    } else if upper.contains("TEXT") || upper.contains("CHAR") {
                        ColumnType::Text
                    } else {
                        bail!("{name}.{column}: type {declared} cannot be backed up (TEXT or BIGINT only)");
                    };
                    if autoincrement && pk == 1 && ty == ColumnType::Bigint {
                        serial.push((name.clone(), column.clone()));
                    }
                    columns.push(Column { name: column, ty });
                }
                let parents: Vec<String> =
                    sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                        .bind(name.as_str())
                        .fetch_all(&mut *conn)
                        .await?;
                edges.extend(parents.into_iter().map(|p| (name.clone(), p)));
            }
            Backend::Postgres => {
                let rows = sqlx::query(
                    "SELECT column_name::text, data_type::text, COALESCE(column_default::text, '')
                     FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1
                     ORDER BY ordinal_position",
                )
                .bind(name.as_str())
                .fetch_all(&mut *conn)
                .await?;
                for r in rows {
                    let column: String = r.try_get(0)?;
                    let declared: String = r.try_get(1)?;
                    let default: String = r.try_get(2)?;
                    let ty = match declared.as_str() {
                        "bigint" | "integer" | "smallint" => ColumnType::Bigint,
                        "text" | "character varying" | "character" => ColumnType::Text,
                        _ => bail!("{name}.{column}: type {declared} cannot be backed up (TEXT or BIGINT only)"),
                    };
                    if default.starts_with("nextval(") {
                        serial.push((name.clone(), column.clone()));
                    }
                    columns.push(Column { name: column, ty });
                }
            }
        }
        tables.push(TableSchema {
            name: name.clone(),
            columns,
        });
    }
    if backend == Backend::Postgres {
        let rows = sqlx::query(
            "SELECT c.relname::text, p.relname::text FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_class p ON p.oid = k.confrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE k.contype = 'f' AND n.nspname = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            edges.push((r.try_get(0)?, r.try_get(1)?));
        }
    }
    let order = foreign_key_order(&names, &edges)?;
    let mut by_name: HashMap<String, TableSchema> =
        tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let tables = order
        .iter()
        .filter_map(|n| by_name.remove(n))
        .collect::<Vec<_>>();
    Ok(Schema { tables, serial })
}

/// The tables ordered so that each comes after every table it refers to (ties by name).
pub fn foreign_key_order(
    names: &[String],
    edges: &[(String, String)],
) -> anyhow::Result<Vec<String>> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = names
        .iter()
        .map(|n| (n.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in edges {
        if child != parent && parents.contains_key(parent.as_str()) {
            if let Some(p) = parents.get_mut(child.as_str()) {
                p.insert(parent.as_str());
            }
        }
    }
    let mut order: Vec<String> = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, p)| p.is_empty())
            .map(|(n, _)| *n)
            .collect();
        ensure!(
            !ready.is_empty(),
            "the foreign keys of tables {:?} form a cycle",
            parents.keys().collect::<Vec<_>>()
        );
        for n in ready {
            parents.remove(n);
            for p in parents.values_mut() {
                p.remove(n);
            }
            order.push(n.to_string());
        }
    }
    Ok(order)
}

pub async fn read_sequences(
    conn: &mut AnyConnection,
    backend: Backend,
    serial: &[(String, String)],
) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    match backend {
        Backend::Sqlite => {
            let rows = sqlx::query("SELECT name, seq FROM sqlite_sequence")
                .fetch_all(&mut *conn)
                .await?;
            for r in rows {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Backend::Postgres => {
            for (table, column) in serial {
                let seq: Option<String> =
                    sqlx::query_scalar("SELECT pg_get_serial_sequence($1, $2)")
                        .bind(table.as_str())
                        .bind(column.as_str())
                        .fetch_one(&mut *conn)
                        .await?;
                let Some(seq) = seq else { continue };
                // `seq` is quoted by PostgreSQL itself.
                let issued: i64 = sqlx::query_scalar(&format!(
                    "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {seq}"
                ))
                .fetch_one(&mut *conn)
                .await?;
                out.insert(table.clone(), issued);
            }
        }
    }
    Ok(out)
}

/// A quoted identifier, after checking it is a plain lower-case name.
pub fn ident(name: &str) -> anyhow::Result<String> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    ensure!(plain, "unexpected name {name:?} in the schema");
    Ok(format!("\"{name}\""))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_after_those_they_refer_to() {
        let names: Vec<String> = ["units", "files", "users", "districts", "unit_attachments"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        let edges = vec![
            e("units", "districts"),
            e("users", "units"),
            e("users", "users"),
            e("unit_attachments", "files"),
            e("unit_attachments", "units"),
        ];
        let order = foreign_key_order(&names, &edges).unwrap();
        let at = |n: &str| order.iter().position(|x| x == n).unwrap();
        assert!(at("districts") < at("units"));
        assert!(at("units") < at("users"));
        assert!(at("files") < at("unit_attachments") && at("units") < at("unit_attachments"));
        let cycle = vec![e("units", "users"), e("users", "units")];
        assert!(foreign_key_order(&names, &cycle).is_err());
    }

    #[test]
    fn names_outside_the_schema_alphabet_are_refused() {
        assert!(ident("audit_log").is_ok());
        assert!(ident("x\"; DROP TABLE units; --").is_err());
        assert!(ident("Units").is_err());
        assert!(ident("").is_err());
    }
}
