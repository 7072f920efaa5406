//! The administrator's editing of reference data: each list of [`SPECS`] (described in
//! `domain::refdata`) is kept in a table, whole or in part; entries are added, edited, retired
//! and restored. A retired entry keeps its row, so old records still show its name; only the
//! lists that forms offer leave it out.

use std::collections::BTreeMap;

use sqlx::Row;

use super::sql::{Conn, DbResult};

use crate::domain::refdata::{Field, Input, RefList, Spec};

/// Where a list is kept: its table, and the `(column, value)` that restricts the table to the
/// list when lists share it.
struct Table {
    name: &'static str,
    scope: Option<(&'static str, &'static str)>,
}

fn table(spec: &Spec) -> Table {
    let (name, scope) = match spec.list {
        RefList::Countries => ("countries", None),
        RefList::Missions => ("missions", None),
        RefList::Ports => ("ports", None),
        RefList::Purposes => ("codes", Some(("kind", "purpose"))),
        RefList::CostBearers => ("codes", Some(("kind", "cost_bearer"))),
        RefList::VisaTypes => ("codes", Some(("kind", "visa_type"))),
        RefList::Districts => ("districts", None),
        RefList::AttachmentTypes => ("attachment_types", Some(("scope", "unit"))),
    };
    Table { name, scope }
}

/// The key column: the key field, or the generated `id`.
fn key_column(spec: &Spec) -> &'static str {
    spec.key_field().map(|f| f.name).unwrap_or("id")
}

fn int_key(spec: &Spec) -> bool {
    spec.key_field().is_none()
}

/// One entry: its key, its column values as text (checkbox and sort as digits), retired or not.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub key: String,
    pub values: BTreeMap<String, String>,
    pub retired: bool,
}

impl Entry {
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn name(&self, spec: &Spec) -> &str {
        self.get(spec.name_field)
    }
}

fn int_column(f: &Field) -> bool {
    matches!(f.input, Input::Check | Input::Sort)
}

/// A checked value to store (or a key to compare).
#[derive(Clone, Debug)]
pub enum Value {
    Text(String),
    Int(i64),
}

/// SQL with its arguments, numbered as they are added.
#[derive(Default)]
struct Sql {
    args: Vec<Value>,
}

impl Sql {
    fn arg(&mut self, v: Value) -> String {
        self.args.push(v);
        format!("${}", self.args.len())
    }
    /// ` AND kind = $n` (or scope) for lists that share their table.
    fn scope(&mut self, spec: &Spec) -> String {
        match table(spec).scope {
            Some((col, v)) => format!(" AND {col} = {}", self.arg(Value::Text(v.into()))),
            None => String::new(),
        }
    }
    /// `key = $n AND …`: one entry; `None` when an integer key does not parse.
    fn entry(&mut self, spec: &Spec, key: &str) -> Option<String> {
        let k = if int_key(spec) {
            Value::Int(key.parse::<i64>().ok()?)
        } else {
            Value::Text(key.to_string())
        };
        let k = self.arg(k);
        Some(format!("{} = {k}{}", key_column(spec), self.scope(spec)))
    }
    fn query<'q>(
        &self,
        text: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut q = sqlx::query(text);
        for v in &self.args {
            q = match v {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

fn columns(spec: &Spec) -> String {
    spec.fields
        .iter()
        .map(|f| f.name)
        .filter(|n| *n != key_column(spec))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_of(spec: &Spec, r: &sqlx::any::AnyRow) -> DbResult<String> {
    if int_key(spec) {
        Ok(r.try_get::<i64, _>(key_column(spec))?.to_string())
    } else {
        r.try_get::<String, _>(key_column(spec))
    }
}

fn entry_of(spec: &Spec, r: &sqlx::any::AnyRow) -> DbResult<Entry> {
    let key = key_of(spec, r)?;
    let mut values = BTreeMap::new();
    for f in spec.fields {
        let v = if f.name == key_column(spec) {
            key.clone()
        } else if int_column(f) {
            r.try_get::<i64, _>(f.name)?.to_string()
        } else {
            r.try_get::<String, _>(f.name)?
        };
        values.insert(f.name.to_string(), v);
    }
    Ok(Entry {
        key,
        values,
        retired: r.try_get::<i64, _>("retired")? != 0,
    })
}

/// Every entry of a list, retired ones included, in display order.
pub async fn list(pool: &sqlx::AnyPool, spec: &Spec) -> DbResult<Vec<Entry>> {
    let mut sql = Sql::default();
    let text = format!(
        "SELECT {key}, {cols}, retired FROM {table} WHERE 1 = 1{cond} ORDER BY sort, {key}",
        key = key_column(spec),
        cols = columns(spec),
        table = table(spec).name,
        cond = sql.scope(spec),
    );
    let mut entries = sql
        .query(&text)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| entry_of(spec, r))
        .collect::<DbResult<Vec<_>>>()?;
    if spec.pinyin_order() {
        crate::collate::sort_by_name(&mut entries, |e| e.name(spec));
    }
    Ok(entries)
}

pub async fn get(pool: &sqlx::AnyPool, spec: &Spec, key: &str) -> DbResult<Option<Entry>> {
    let mut conn = pool.acquire().await?;
    get_on(&mut conn, spec, key).await
}

/// One entry, read on the given connection (inside a transaction).
pub async fn get_on(conn: &mut Conn, spec: &Spec, key: &str) -> DbResult<Option<Entry>> {
    let mut sql = Sql::default();
    let Some(cond) = sql.entry(spec, key) else {
        return Ok(None);
    };
    let text = format!(
        "SELECT {key}, {cols}, retired FROM {table} WHERE {cond}",
        key = key_column(spec),
        cols = columns(spec),
        table = table(spec).name,
    );
    sql.query(&text)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(|r| entry_of(spec, r))
        .transpose()
}

/// Whether another entry of the list (not `except`) has this value in a text column.
pub async fn taken(
    conn: &mut Conn,
    spec: &Spec,
    column: &str,
    value: &str,
    except: Option<&str>,
) -> DbResult<bool> {
    let mut sql = Sql::default();
    let v = sql.arg(Value::Text(value.to_string()));
    let text = format!(
        "SELECT {key} FROM {table} WHERE {column} = {v}{cond}",
        key = key_column(spec),
        table = table(spec).name,
        cond = sql.scope(spec),
    );
    for r in sql.query(&text).fetch_all(conn).await?.iter() {
        if Some(key_of(spec, r)?.as_str()) != except {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The next sort number (after the last entry).
pub async fn next_sort(conn: &mut Conn, spec: &Spec) -> DbResult<i64> {
    let mut sql = Sql::default();
    let text = format!(
        "SELECT COALESCE(MAX(sort), -1) + 1 AS n FROM {} WHERE 1 = 1{}",
        table(spec).name,
        sql.scope(spec)
    );
    sql.query(&text).fetch_one(conn).await?.try_get("n")
}

/// Inserts an entry; returns its key.
pub async fn insert(conn: &mut Conn, spec: &Spec, values: &[(&str, Value)]) -> DbResult<String> {
    // Lists in pinyin order have no 排序号 field; their sort column is still filled.
    let sort = if spec.fields.iter().any(|f| f.input == Input::Sort) {
        None
    } else {
        Some(next_sort(conn, spec).await?)
    };
    let mut sql = Sql::default();
    let mut cols = Vec::new();
    let mut ph = Vec::new();
    for (c, v) in values {
        cols.push(c.to_string());
        ph.push(sql.arg(v.clone()));
    }
    if let Some(n) = sort {
        cols.push("sort".into());
        ph.push(sql.arg(Value::Int(n)));
    }
    if let Some((col, v)) = table(spec).scope {
        cols.push(col.to_string());
        ph.push(sql.arg(Value::Text(v.to_string())));
    }
    if spec.list == RefList::AttachmentTypes {
        // New attachment types get a generated code (the seeded ones have readable codes).
        cols.push("code".into());
        ph.push(sql.arg(Value::Text(format!(
            "custom_{}",
            hex::encode(rand::random::<[u8; 6]>())
        ))));
    }
    let text = format!(
        "INSERT INTO {table} ({cols}, retired) VALUES ({ph}, 0) RETURNING {key}",
        table = table(spec).name,
        cols = cols.join(", "),
        ph = ph.join(", "),
        key = key_column(spec),
    );
    let row = sql.query(&text).fetch_one(&mut *conn).await?;
    super::refs::bump_version(conn).await?;
    key_of(spec, &row)
}

/// Updates an entry's columns (not its key); false when it does not exist.
pub async fn update(
    conn: &mut Conn,
    spec: &Spec,
    key: &str,
    values: &[(&str, Value)],
) -> DbResult<bool> {
    let mut sql = Sql::default();
    let sets: Vec<String> = values
        .iter()
        .map(|(c, v)| format!("{c} = {}", sql.arg(v.clone())))
        .collect();
    let Some(cond) = sql.entry(spec, key) else {
        return Ok(false);
    };
    let text = format!(
        "UPDATE {table} SET {sets} WHERE {cond}",
        table = table(spec).name,
        sets = sets.join(", "),
    );
    let done = sql.query(&text).execute(&mut *conn).await?.rows_affected() == 1;
    super::refs::bump_version(conn).await?;
    Ok(done)
}

/// Retires (`true`) or restores an entry; false when it was already so (or does not exist).
pub async fn set_retired(conn: &mut Conn, spec: &Spec, key: &str, retired: bool) -> DbResult<bool> {
    let mut sql = Sql::default();
    let r = sql.arg(Value::Int(i64::from(retired)));
    let Some(cond) = sql.entry(spec, key) else {
        return Ok(false);
    };
    let text = format!(
        "UPDATE {table} SET retired = {r} WHERE {cond} AND retired <> {r}",
        table = table(spec).name,
    );
    let done = sql.query(&text).execute(&mut *conn).await?.rows_affected() == 1;
    super::refs::bump_version(conn).await?;
    Ok(done)
}

/// Units registered in a district, whatever their state.
pub async fn units_in_district(conn: &mut Conn, district_id: i64) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE district_id = $1")
        .bind(district_id)
        .fetch_one(conn)
        .await
}

/// The name of an attachment type's template file, if it has one.
pub async fn template_name(pool: &sqlx::AnyPool, type_id: i64) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT template_name FROM attachment_types WHERE id = $1",
    )
    .bind(type_id)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// (active, retired) entries of a list, for the overview.
pub async fn counts(pool: &sqlx::AnyPool, spec: &Spec) -> DbResult<(i64, i64)> {
    let mut sql = Sql::default();
    let text = format!(
        "SELECT COUNT(CASE WHEN retired = 0 THEN 1 END) AS active,
         COUNT(CASE WHEN retired <> 0 THEN 1 END) AS retired
         FROM {} WHERE 1 = 1{}",
        table(spec).name,
        sql.scope(spec)
    );
    let r = sql.query(&text).fetch_one(pool).await?;
    Ok((r.try_get("active")?, r.try_get("retired")?))
}
