//! Reference data (districts, attachment types, notices) and settings, with idempotent seeding.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::settings::Setting;
use crate::domain::texts::Text;

#[derive(Clone, Debug)]
pub struct District {
    pub id: i64,
    pub name: String,
}

pub async fn districts(pool: &sqlx::AnyPool) -> DbResult<Vec<District>> {
    let rows = sqlx::query("SELECT id, name FROM districts WHERE retired = 0 ORDER BY sort, id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(District {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect()
}

/// The name of a retired district (None when it is not retired or does not exist).
pub async fn retired_district_name(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<String>> {
    sqlx::query_scalar("SELECT name FROM districts WHERE id = $1 AND retired <> 0")
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn district_name(pool: &sqlx::AnyPool, id: i64) -> DbResult<String> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM districts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(name.unwrap_or_default())
}

pub async fn district_by_name(pool: &sqlx::AnyPool, name: &str) -> DbResult<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM districts WHERE name = $1 AND retired = 0")
        .bind(name)
        .fetch_optional(pool)
        .await
}

#[derive(Clone, Debug)]
pub struct AttachmentType {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub required: bool,
    pub template_name: Option<String>,
    pub template_file_id: Option<i64>,
    /// Retired by the administrator: no longer asked for, still shown where a file was given.
    pub retired: bool,
}

/// Active attachment types of a scope ("unit" for registrations), in display order.
pub async fn attachment_types(pool: &sqlx::AnyPool, scope: &str) -> DbResult<Vec<AttachmentType>> {
    Ok(attachment_types_shown(pool, scope, &[])
        .await?
        .into_iter()
        .filter(|t| !t.retired)
        .collect())
}

/// The active attachment types of a scope and the retired ones in `keep` (those a record has a
/// file of), in display order.
pub async fn attachment_types_shown(
    pool: &sqlx::AnyPool,
    scope: &str,
    keep: &[i64],
) -> DbResult<Vec<AttachmentType>> {
    let rows = sqlx::query(
        "SELECT id, code, name, required, template_name, template_file_id, retired
         FROM attachment_types WHERE scope = $1 ORDER BY sort, id",
    )
    .bind(scope)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let t = AttachmentType {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            required: r.try_get::<i64, _>("required")? != 0,
            template_name: r.try_get("template_name")?,
            template_file_id: r.try_get("template_file_id")?,
            retired: r.try_get::<i64, _>("retired")? != 0,
        };
        if !t.retired || keep.contains(&t.id) {
            out.push(t);
        }
    }
    Ok(out)
}

/// The stored template of an attachment type: (download name, sha256, mime).
pub async fn template_file(
    pool: &sqlx::AnyPool,
    type_id: i64,
) -> DbResult<Option<(String, String, String)>> {
    let row = sqlx::query(
        "SELECT t.template_name, f.sha256, f.mime FROM attachment_types t
         JOIN files f ON f.id = t.template_file_id WHERE t.id = $1",
    )
    .bind(type_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let name: Option<String> = r.try_get("template_name")?;
    Ok(Some((
        name.unwrap_or_else(|| "template".into()),
        r.try_get("sha256")?,
        r.try_get("mime")?,
    )))
}

#[derive(Clone, Debug)]
pub struct Content {
    pub title: String,
    pub body: String,
}

async fn content(pool: &sqlx::AnyPool, key: &str) -> DbResult<Content> {
    let row = sqlx::query("SELECT title, body FROM content WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(r) => Ok(Content {
            title: r.try_get("title")?,
            body: r.try_get("body")?,
        }),
        None => Ok(Content {
            title: String::new(),
            body: String::new(),
        }),
    }
}

/// A text an administrator edits.
pub async fn text(pool: &sqlx::AnyPool, text: Text) -> DbResult<Content> {
    content(pool, text.key()).await
}

/// Replaces a text's body.
pub async fn set_text(conn: &mut Conn, text: Text, body: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE content SET body = $1, updated_at = $2 WHERE key = $3")
        .bind(body)
        .bind(now)
        .bind(text.key())
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts a text unless it exists (keeps edited ones).
pub async fn text_default(conn: &mut Conn, text: Text, body: &str, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO content (key, title, body, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(text.key())
    .bind(text.label())
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a district unless one of this name exists.
pub async fn district_default(conn: &mut Conn, name: &str, sort: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO districts (name, sort, retired) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(sort)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether an attachment type with this code exists.
pub async fn attachment_type_exists(conn: &mut Conn, code: &str) -> DbResult<bool> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM attachment_types WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(id.is_some())
}

/// A registration attachment type to add (first-run seeding).
pub struct NewAttachmentType<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub required: bool,
    pub sort: i64,
    pub template_name: &'a str,
    pub template_file_id: i64,
}

pub async fn insert_attachment_type(conn: &mut Conn, t: &NewAttachmentType<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO attachment_types (code, scope, name, required, sort, template_name, template_file_id, retired)
         VALUES ($1, 'unit', $2, $3, $4, $5, $6, 0)",
    )
    .bind(t.code)
    .bind(t.name)
    .bind(i64::from(t.required))
    .bind(t.sort)
    .bind(t.template_name)
    .bind(t.template_file_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The name of an attachment type (any scope, retired or not).
pub async fn attachment_type_name(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<String>> {
    sqlx::query_scalar("SELECT name FROM attachment_types WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Whether an attachment type is retired (None when it does not exist).
pub async fn attachment_type_retired(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<bool>> {
    let retired: Option<i64> =
        sqlx::query_scalar("SELECT retired FROM attachment_types WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(retired.map(|r| r != 0))
}

/// Locks an attachment type in use (not retired) until the transaction ends; false (nothing
/// locked) when it is retired or gone. Its template is replaced only so.
pub async fn lock_active_type(conn: &mut Conn, id: i64) -> DbResult<bool> {
    let r =
        sqlx::query("UPDATE attachment_types SET retired = retired WHERE id = $1 AND retired = 0")
            .bind(id)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives an attachment type a new template file (the caller holds its [`lock_active_type`]).
pub async fn set_template(conn: &mut Conn, type_id: i64, file_id: i64, name: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE attachment_types SET template_file_id = $1, template_name = $2 WHERE id = $3",
    )
    .bind(file_id)
    .bind(name)
    .bind(type_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn setting(pool: &sqlx::AnyPool, key: Setting) -> DbResult<Option<String>> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key.key())
        .fetch_optional(pool)
        .await
}

/// Several settings in one statement: key → value for those that are set.
pub async fn settings(
    pool: &sqlx::AnyPool,
    keys: &[Setting],
) -> DbResult<std::collections::HashMap<Setting, String>> {
    let mut q = String::from("SELECT key, value FROM settings WHERE key IN (");
    for i in 1..=keys.len() {
        q.push_str(&format!("{}${i}", if i > 1 { ", " } else { "" }));
    }
    q.push(')');
    let mut query = sqlx::query(&q);
    for k in keys {
        query = query.bind(k.key());
    }
    let mut out = std::collections::HashMap::new();
    for r in query.fetch_all(pool).await? {
        let key: String = r.try_get("key")?;
        if let Some(k) = keys.iter().find(|k| k.key() == key) {
            out.insert(*k, r.try_get("value")?);
        }
    }
    Ok(out)
}

/// Inserts a setting unless it exists (keeps edited values).
pub async fn setting_default(conn: &mut Conn, key: Setting, value: &str) -> DbResult<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key.key())
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_file(
    conn: &mut Conn,
    sha: &str,
    size: i64,
    mime: &str,
    name: &str,
    uploaded_by: Option<i64>,
    now: i64,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO files (sha256, size, mime, original_name, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(sha)
    .bind(size)
    .bind(mime)
    .bind(name)
    .bind(uploaded_by)
    .bind(now)
    .fetch_one(conn)
    .await
}

#[derive(Clone, Debug)]
pub struct FileMeta {
    pub id: i64,
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub original_name: String,
    pub uploaded_by: Option<i64>,
}

/// Reads a file's metadata from a row with the columns id, sha256, size, mime, original_name
/// and uploaded_by.
pub fn file_meta(r: &sqlx::any::AnyRow) -> DbResult<FileMeta> {
    Ok(FileMeta {
        id: r.try_get("id")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size")?,
        mime: r.try_get("mime")?,
        original_name: r.try_get("original_name")?,
        uploaded_by: r.try_get("uploaded_by")?,
    })
}

/// The columns [`file_meta`] reads.
const FILE_COLS: &str = "id, sha256, size, mime, original_name, uploaded_by";

/// Several files' metadata in one statement (a page showing a group's scans), by id.
pub async fn files(
    pool: &sqlx::AnyPool,
    ids: &[i64],
) -> DbResult<std::collections::HashMap<i64, FileMeta>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    // Ids are integers: written into the statement, one statement for any number of them.
    let rows = sqlx::query(&format!(
        "SELECT {FILE_COLS} FROM files WHERE id IN ({})",
        super::sql::id_list(ids)
    ))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>("id")?, file_meta(r)?)))
        .collect()
}

pub async fn file(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<FileMeta>> {
    let row = sqlx::query(&format!("SELECT {FILE_COLS} FROM files WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(file_meta).transpose()
}

/// Sets a setting that exists.
pub async fn set_setting(conn: &mut Conn, key: Setting, value: &str) -> DbResult<()> {
    sqlx::query("UPDATE settings SET value = $1 WHERE key = $2")
        .bind(value)
        .bind(key.key())
        .execute(conn)
        .await?;
    Ok(())
}
