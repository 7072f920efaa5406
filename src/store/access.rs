//! 个人信息访问记录 (issue 18): who saw which visitors' personal data, when, from where and on
//! which page; the administrators' two questions ("who saw these visitors", "what did this
//! account see"); the purge of entries past the retention period; and the one lookup of
//! visitors by passport number.

use std::collections::BTreeMap;

use sqlx::Row;

use super::sql::{id_list, Conn, DbResult};
use crate::domain::principal::Actor;

/// Visitor ids written into one INSERT of an entry's visitors (integers, so no placeholders).
const VISITORS_PER_INSERT: usize = 1000;

/// An entry to write.
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor: &'a Actor,
    pub kind: &'a str,
    pub page: &'a str,
    pub object: &'a str,
    /// Distinct visitor ids (the caller deduplicates).
    pub visitors: &'a [i64],
}

/// Writes an entry and its visitors (in the caller's transaction); returns its id.
pub async fn write(conn: &mut Conn, e: &NewEntry<'_>) -> DbResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO access_log (at, user_id, actor, ip, kind, page, object, visitors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(e.at)
    .bind(e.actor.user_id)
    .bind(e.actor.label.as_str())
    .bind(e.actor.ip.as_str())
    .bind(e.kind)
    .bind(e.page)
    .bind(e.object)
    .bind(e.visitors.len() as i64)
    .fetch_one(&mut *conn)
    .await?;
    for chunk in e.visitors.chunks(VISITORS_PER_INSERT) {
        let values = chunk
            .iter()
            .map(|v| format!("({id}, {v})"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO access_log_visitors (access_id, visitor_id) VALUES {values}"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// An entry as the administrators' page lists it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub kind: String,
    pub page: String,
    pub object: String,
    /// How many visitors it names.
    pub visitors: i64,
    /// The account's role code ("" for an entry without an account).
    pub role: String,
    /// The account's unit or district by name ("" for the city office and administrators).
    pub unit: String,
    pub district: String,
}

const ENTRY_COLS: &str = "a.id, a.at, a.user_id, a.actor, a.ip, a.kind, a.page, a.object, \
    a.visitors, COALESCE(u.role, '') AS role, COALESCE(un.name, '') AS unit_name, \
    COALESCE(d.name, '') AS district_name";

const ENTRY_FROM: &str = "FROM access_log a LEFT JOIN users u ON u.id = a.user_id \
    LEFT JOIN units un ON un.id = u.unit_id \
    LEFT JOIN districts d ON d.id = COALESCE(u.district_id, un.district_id)";

fn entry(r: &sqlx::any::AnyRow) -> DbResult<Entry> {
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        user_id: r.try_get("user_id")?,
        actor: r.try_get("actor")?,
        ip: r.try_get("ip")?,
        kind: r.try_get("kind")?,
        page: r.try_get("page")?,
        object: r.try_get("object")?,
        visitors: r.try_get("visitors")?,
        role: r.try_get("role")?,
        unit: r.try_get("unit_name")?,
        district: r.try_get("district_name")?,
    })
}

/// A page of the entries naming any of these visitors, newest first, and how many there are.
pub async fn by_visitors(
    pool: &sqlx::AnyPool,
    visitors: &[i64],
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Entry>, i64)> {
    if visitors.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let ids = id_list(visitors);
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} {ENTRY_FROM}
         WHERE a.id IN (SELECT access_id FROM access_log_visitors WHERE visitor_id IN ({ids}))
         ORDER BY a.id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(DISTINCT access_id) FROM access_log_visitors WHERE visitor_id IN ({ids})"
    ))
    .fetch_one(pool)
    .await?;
    Ok((rows.iter().map(entry).collect::<DbResult<_>>()?, total))
}

/// A page of the entries of one account, newest first, and how many there are.
pub async fn by_user(
    pool: &sqlx::AnyPool,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Entry>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} {ENTRY_FROM} WHERE a.user_id = $1 ORDER BY a.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_log WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await?;
    Ok((rows.iter().map(entry).collect::<DbResult<_>>()?, total))
}

/// A visitor named by an entry, as the page lists it: the name and group while the visitor
/// exists (a draft deleted since leaves the id alone).
#[derive(Clone, Debug)]
pub struct SeenVisitor {
    pub visitor_id: i64,
    pub name: Option<String>,
    pub group_id: Option<i64>,
    pub group_number: Option<String>,
}

/// The visitors of these entries (at most `per_entry` of each, lowest ids first; only those
/// among `only` when given), by entry.
pub async fn visitors_of(
    pool: &sqlx::AnyPool,
    entries: &[i64],
    only: Option<&[i64]>,
    per_entry: i64,
) -> DbResult<BTreeMap<i64, Vec<SeenVisitor>>> {
    let mut out: BTreeMap<i64, Vec<SeenVisitor>> = BTreeMap::new();
    if entries.is_empty() {
        return Ok(out);
    }
    let among = match only {
        Some([]) => return Ok(out),
        Some(ids) => format!(" AND visitor_id IN ({})", id_list(ids)),
        None => String::new(),
    };
    let rows = sqlx::query(&format!(
        "SELECT x.access_id, x.visitor_id, v.surname, v.given_name, g.id AS group_id, g.number
         FROM (SELECT access_id, visitor_id,
                 ROW_NUMBER() OVER (PARTITION BY access_id ORDER BY visitor_id) AS n
               FROM access_log_visitors WHERE access_id IN ({}){among}) x
         LEFT JOIN group_visitors v ON v.id = x.visitor_id
         LEFT JOIN invitation_groups g ON g.id = v.group_id
         WHERE x.n <= $1 ORDER BY x.access_id, x.visitor_id",
        id_list(entries)
    ))
    .bind(per_entry)
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let surname: Option<String> = r.try_get("surname")?;
        let given: Option<String> = r.try_get("given_name")?;
        let name = given.map(|g| match surname.as_deref() {
            Some(s) if !s.is_empty() => format!("{s} {g}"),
            _ => g,
        });
        out.entry(r.try_get("access_id")?)
            .or_default()
            .push(SeenVisitor {
                visitor_id: r.try_get("visitor_id")?,
                name,
                group_id: r.try_get("group_id")?,
                group_number: r.try_get("number")?,
            });
    }
    Ok(out)
}

/// Deletes the entries written before `before` (and their visitors); returns how many.
pub async fn purge_before(conn: &mut Conn, before: i64) -> DbResult<u64> {
    sqlx::query(
        "DELETE FROM access_log_visitors
         WHERE access_id IN (SELECT id FROM access_log WHERE at < $1)",
    )
    .bind(before)
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query("DELETE FROM access_log WHERE at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

/// The visitors (of any group) with this passport number, as normalised by
/// `domain::group::parse_passport`, found by the keyed index of the sealed numbers.
pub async fn visitor_ids_by_passport(
    pool: &sqlx::AnyPool,
    keys: &crate::keys::KeyRing,
    passport: &str,
) -> DbResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM group_visitors WHERE passport_index = $1
         UNION SELECT id FROM group_visitors WHERE passport_index IS NULL AND passport_no = $2
         ORDER BY id",
    )
    .bind(super::sealed::passport_index(keys, passport))
    .bind(passport)
    .fetch_all(pool)
    .await
}

/// The visitors of these groups whose surname, given name or full name equals `key`
/// (upper-cased), as the staff search matches them.
pub async fn visitor_ids_by_name(
    pool: &sqlx::AnyPool,
    groups: &[i64],
    key: &str,
) -> DbResult<Vec<i64>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(&format!(
        "SELECT id FROM group_visitors WHERE group_id IN ({})
           AND (UPPER(surname) = $1 OR UPPER(given_name) = $1
                OR UPPER(surname || ' ' || given_name) = $1)
         ORDER BY id",
        id_list(groups)
    ))
    .bind(key)
    .fetch_all(pool)
    .await
}

/// The visitors of these groups (ids only).
pub async fn visitor_ids_of_groups(pool: &sqlx::AnyPool, groups: &[i64]) -> DbResult<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in groups.chunks(VISITORS_PER_INSERT) {
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM group_visitors WHERE group_id IN ({}) ORDER BY id",
            id_list(chunk)
        ))
        .fetch_all(pool)
        .await?;
        out.extend(ids);
    }
    Ok(out)
}
