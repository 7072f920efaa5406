//! The administrator's editing of reference data: countries, missions, ports, purposes, cost
//! bearers, districts and registration attachment types. Each list is described once by a
//! [`Spec`] (table, key, editable columns); entries are added, edited, retired and restored.
//! A retired entry keeps its row, so old records still show its name; only the lists that
//! forms offer leave it out.

use std::collections::BTreeMap;

use sqlx::Row;

use super::sql::{Conn, DbResult};

/// How a column is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Free text, required unless the field says otherwise.
    Text,
    /// One of fixed (value, label) choices.
    Choice(&'static [(&'static str, &'static str)]),
    /// A country (alpha-3) from the countries list.
    Country,
    /// A yes/no checkbox stored as 0/1.
    Check,
    /// The sort number (BIGINT); empty means "at the end".
    Sort,
}

/// Extra rule on a text column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    None,
    /// Exactly `n` uppercase ASCII letters.
    Upper(usize),
    /// A lowercase code: a letter, then letters, digits or `_`, 32 at most.
    Code,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Column and form field name.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub rule: Rule,
    pub required: bool,
    pub max: usize,
    /// Unique within the list.
    pub unique: bool,
    /// The key of a list keyed by text: entered when adding, fixed afterwards (old records refer
    /// to it).
    pub key: bool,
    pub hint: &'static str,
}

const fn text(name: &'static str, label: &'static str, max: usize) -> Field {
    Field {
        name,
        label,
        input: Input::Text,
        rule: Rule::None,
        required: true,
        max,
        unique: false,
        key: false,
        hint: "",
    }
}

const fn sort() -> Field {
    Field {
        input: Input::Sort,
        required: false,
        hint: "数字小的排在前面；不填则排在最后",
        ..text("sort", "排序号", 9)
    }
}

pub const MISSION_KINDS: &[(&str, &str)] = &[
    ("embassy", "大使馆"),
    ("consulate_general", "总领事馆"),
    ("consulate", "领事馆"),
    ("office", "办事处"),
];

pub const PORT_KINDS: &[(&str, &str)] = &[("air", "空港"), ("land", "陆路"), ("sea", "水运")];

/// One list the administrator edits.
#[derive(Debug)]
pub struct Spec {
    /// Path segment: `/admin/refdata/{slug}`.
    pub slug: &'static str,
    pub label: &'static str,
    /// Audit object type.
    pub object_type: &'static str,
    pub table: &'static str,
    /// Key column: `id` (BIGINT, generated) or a text key field.
    pub key: &'static str,
    /// `codes.kind` of the code lists.
    pub code_kind: Option<&'static str>,
    /// `attachment_types.scope` of the attachment types.
    pub scope: Option<&'static str>,
    pub fields: &'static [Field],
    /// The field that names an entry (in messages and the audit log).
    pub name_field: &'static str,
    pub note: &'static str,
}

impl Spec {
    pub fn int_key(&self) -> bool {
        self.key == "id"
    }
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The audit object id of an entry.
    pub fn object_id(&self, key: &str) -> String {
        match self.code_kind {
            Some(k) => format!("{k}:{key}"),
            None => key.to_string(),
        }
    }
    /// `(column, value)` that restricts the table to this list, if it shares its table.
    fn scope(&self) -> Option<(&'static str, &'static str)> {
        match (self.code_kind, self.scope) {
            (Some(k), _) => Some(("kind", k)),
            (None, Some(s)) => Some(("scope", s)),
            _ => None,
        }
    }
}

pub const SPECS: &[Spec] = &[
    Spec {
        slug: "countries",
        label: "国家和地区",
        object_type: "country",
        table: "countries",
        key: "alpha3",
        code_kind: None,
        scope: None,
        fields: &[
            Field {
                rule: Rule::Upper(3),
                unique: true,
                key: true,
                hint: "ISO 3166-1 三位字母代码，如USA；新增后不能修改",
                ..text("alpha3", "三位字母代码", 3)
            },
            Field {
                rule: Rule::Upper(2),
                unique: true,
                hint: "ISO 3166-1 两位字母代码，如US",
                ..text("alpha2", "两位字母代码", 2)
            },
            Field {
                unique: true,
                ..text("name_zh", "中文名称", 50)
            },
            text("name_en", "英文名称", 100),
            sort(),
        ],
        name_field: "name_zh",
        note: "国家和地区用于外宾国籍和签证申办国家。停用后不再供选择，其使领馆也不再供选择；已申报的团组仍显示原名称。",
    },
    Spec {
        slug: "missions",
        label: "驻外使领馆",
        object_type: "mission",
        table: "missions",
        key: "id",
        code_kind: None,
        scope: None,
        fields: &[
            Field {
                input: Input::Country,
                ..text("host_alpha3", "所在国家", 3)
            },
            Field {
                input: Input::Choice(MISSION_KINDS),
                ..text("kind", "类别", 32)
            },
            Field {
                unique: true,
                hint: "如“中国驻纽约总领事馆”",
                ..text("name_zh", "名称", 50)
            },
            Field {
                required: false,
                ..text("city_zh", "所在城市", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "团组申报时选择的签证申办使领馆。",
    },
    Spec {
        slug: "ports",
        label: "入出境口岸",
        object_type: "port",
        table: "ports",
        key: "id",
        code_kind: None,
        scope: None,
        fields: &[
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            Field {
                input: Input::Choice(PORT_KINDS),
                ..text("kind", "类别", 32)
            },
            text("province_zh", "所在省份", 20),
            sort(),
        ],
        name_field: "name_zh",
        note: "销签登记时选择的实际入境、出境口岸。",
    },
    Spec {
        slug: "purposes",
        label: "来华事由",
        object_type: "code",
        table: "codes",
        key: "code",
        code_kind: Some("purpose"),
        scope: None,
        fields: &[
            Field {
                rule: Rule::Code,
                unique: true,
                key: true,
                hint: "小写英文字母、数字或下划线，如business；新增后不能修改",
                ..text("code", "代码", 32)
            },
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "团组申报时选择的来华事由。",
    },
    Spec {
        slug: "cost_bearers",
        label: "费用承担",
        object_type: "code",
        table: "codes",
        key: "code",
        code_kind: Some("cost_bearer"),
        scope: None,
        fields: &[
            Field {
                rule: Rule::Code,
                unique: true,
                key: true,
                hint: "小写英文字母、数字或下划线，如inviting_unit；新增后不能修改",
                ..text("code", "代码", 32)
            },
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "团组申报时选择的费用承担方式。",
    },
    Spec {
        slug: "districts",
        label: "县区",
        object_type: "district",
        table: "districts",
        key: "id",
        code_kind: None,
        scope: None,
        fields: &[
            Field {
                unique: true,
                ..text("name", "名称", 20)
            },
            sort(),
        ],
        name_field: "name",
        note: "邀请单位注册和县区外办帐号所属的县区。尚有邀请单位的县区不能停用。",
    },
    Spec {
        slug: "attachment_types",
        label: "注册附件类型",
        object_type: "attachment_type",
        table: "attachment_types",
        key: "id",
        code_kind: None,
        scope: Some("unit"),
        fields: &[
            Field {
                unique: true,
                ..text("name", "名称", 100)
            },
            Field {
                input: Input::Check,
                required: false,
                ..text("required", "必须上传", 1)
            },
            sort(),
        ],
        name_field: "name",
        note: "邀请单位注册时上传的附件。样式模板文件在“样式模板管理”中上传或更换。",
    },
];

pub fn spec(slug: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.slug == slug)
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
        match spec.scope() {
            Some((col, v)) => format!(" AND {col} = {}", self.arg(Value::Text(v.into()))),
            None => String::new(),
        }
    }
    /// `key = $n AND …`: one entry; `None` when an integer key does not parse.
    fn entry(&mut self, spec: &Spec, key: &str) -> Option<String> {
        let k = if spec.int_key() {
            Value::Int(key.parse::<i64>().ok()?)
        } else {
            Value::Text(key.to_string())
        };
        let k = self.arg(k);
        Some(format!("{} = {k}{}", spec.key, self.scope(spec)))
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
        .filter(|n| *n != spec.key)
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_of(spec: &Spec, r: &sqlx::any::AnyRow) -> DbResult<String> {
    if spec.int_key() {
        Ok(r.try_get::<i64, _>(spec.key)?.to_string())
    } else {
        r.try_get::<String, _>(spec.key)
    }
}

fn entry_of(spec: &Spec, r: &sqlx::any::AnyRow) -> DbResult<Entry> {
    let key = key_of(spec, r)?;
    let mut values = BTreeMap::new();
    for f in spec.fields {
        let v = if f.name == spec.key {
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
        key = spec.key,
        cols = columns(spec),
        table = spec.table,
        cond = sql.scope(spec),
    );
    sql.query(&text)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| entry_of(spec, r))
        .collect()
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
        key = spec.key,
        cols = columns(spec),
        table = spec.table,
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
        key = spec.key,
        table = spec.table,
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
        spec.table,
        sql.scope(spec)
    );
    sql.query(&text).fetch_one(conn).await?.try_get("n")
}

/// Inserts an entry; returns its key.
pub async fn insert(conn: &mut Conn, spec: &Spec, values: &[(&str, Value)]) -> DbResult<String> {
    let mut sql = Sql::default();
    let mut cols = Vec::new();
    let mut ph = Vec::new();
    for (c, v) in values {
        cols.push(c.to_string());
        ph.push(sql.arg(v.clone()));
    }
    if let Some((col, v)) = spec.scope() {
        cols.push(col.to_string());
        ph.push(sql.arg(Value::Text(v.to_string())));
    }
    if spec.table == "attachment_types" {
        // New attachment types get a generated code (the seeded ones have readable codes).
        cols.push("code".into());
        ph.push(sql.arg(Value::Text(format!(
            "custom_{}",
            hex::encode(rand::random::<[u8; 6]>())
        ))));
    }
    let text = format!(
        "INSERT INTO {table} ({cols}, retired) VALUES ({ph}, 0) RETURNING {key}",
        table = spec.table,
        cols = cols.join(", "),
        ph = ph.join(", "),
        key = spec.key,
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
        table = spec.table,
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
        table = spec.table,
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

/// (active, retired) entries of a list, for the overview.
pub async fn counts(pool: &sqlx::AnyPool, spec: &Spec) -> DbResult<(i64, i64)> {
    let mut sql = Sql::default();
    let text = format!(
        "SELECT COUNT(CASE WHEN retired = 0 THEN 1 END) AS active,
         COUNT(CASE WHEN retired <> 0 THEN 1 END) AS retired
         FROM {} WHERE 1 = 1{}",
        spec.table,
        sql.scope(spec)
    );
    let r = sql.query(&text).fetch_one(pool).await?;
    Ok((r.try_get("active")?, r.try_get("retired")?))
}
