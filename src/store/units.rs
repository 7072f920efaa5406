//! Inviting units: registration data, attachments, the review state machine and change requests.
//!
//! Every transition is one `UPDATE … WHERE state = …` so that two reviewers acting at once cannot
//! both succeed; callers write the audit entry and message in the same transaction.

use std::collections::BTreeMap;

use sqlx::Row;

use super::reference::FileMeta;
use super::sql::{Conn, DbResult};
use crate::domain::registration::{name_key, RegData};
use crate::domain::registration_flow::{RegState, Request};

#[derive(Clone, Debug)]
pub struct Unit {
    pub id: i64,
    pub data: RegData,
    pub district_name: String,
    pub mobile: String,
    pub state: RegState,
    pub return_reason: Option<String>,
    pub submitted_at: Option<i64>,
    pub approved_at: Option<i64>,
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    pub created_at: i64,
}

impl Unit {
    pub fn submitted_text(&self) -> String {
        crate::clock::fmt_opt_ts(self.submitted_at)
    }
    pub fn mobile_masked(&self) -> String {
        crate::domain::Mobile::parse(&self.mobile)
            .map(|m| m.masked())
            .unwrap_or_default()
    }
}

const COLS: &str = "u.id, u.name, u.english_name, u.credit_code, u.district_id, u.address, u.unit_type, \
    u.legal_rep, u.contact_name, u.landline, u.mobile, u.email, u.state, u.return_reason, \
    u.submitted_at, u.approved_at, u.blacklisted, u.blacklist_reason, u.created_at, d.name AS district_name";

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<Unit> {
    let state: String = r.try_get("state")?;
    Ok(Unit {
        id: r.try_get("id")?,
        data: RegData {
            name: r.try_get("name")?,
            english_name: r.try_get("english_name")?,
            credit_code: r.try_get("credit_code")?,
            district_id: r.try_get("district_id")?,
            address: r.try_get("address")?,
            unit_type: r.try_get("unit_type")?,
            legal_rep: r.try_get("legal_rep")?,
            contact_name: r.try_get("contact_name")?,
            landline: r.try_get("landline")?,
            email: r.try_get("email")?,
        },
        district_name: r.try_get("district_name")?,
        mobile: r.try_get("mobile")?,
        state: RegState::parse(&state).ok_or_else(|| unknown_code("RegState", &state))?,
        return_reason: r.try_get("return_reason")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_at: r.try_get("approved_at")?,
        blacklisted: r.try_get::<i64, _>("blacklisted")? != 0,
        blacklist_reason: r.try_get("blacklist_reason")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A unit, read from the pool or inside a transaction (`&mut Conn`).
pub async fn get<'c, E>(pool: E, id: i64) -> DbResult<Option<Unit>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM units u JOIN districts d ON d.id = u.district_id WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which of name and credit code another unit already uses: (name taken, code taken).
pub async fn taken(
    pool: &sqlx::AnyPool,
    data: &RegData,
    except_unit: Option<i64>,
) -> DbResult<(bool, bool)> {
    let except = except_unit.unwrap_or(0);
    let name: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE name_key = $1 AND id <> $2")
            .bind(name_key(&data.name))
            .bind(except)
            .fetch_one(pool)
            .await?;
    let code: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE credit_code = $1 AND id <> $2")
            .bind(data.credit_code.as_str())
            .bind(except)
            .fetch_one(pool)
            .await?;
    Ok((name > 0, code > 0))
}

/// Creates a unit in `draft`; its clerk accepted the registration notice and the rules on
/// personal information (个人信息处理规则) in the wizard before (recorded as accepted now).
pub async fn insert(conn: &mut Conn, data: &RegData, mobile: &str, now: i64) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO units (name, name_key, english_name, credit_code, district_id, address, unit_type,
            legal_rep, contact_name, landline, mobile, email, state, county_passed, blacklisted,
            created_at, updated_at, rules_accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', 0, 0, $13, $13, $13)
         RETURNING id",
    )
    .bind(data.name.as_str())
    .bind(name_key(&data.name))
    .bind(data.english_name.as_str())
    .bind(data.credit_code.as_str())
    .bind(data.district_id)
    .bind(data.address.as_str())
    .bind(data.unit_type.as_str())
    .bind(data.legal_rep.as_str())
    .bind(data.contact_name.as_str())
    .bind(data.landline.as_str())
    .bind(mobile)
    .bind(data.email.as_str())
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Overwrites the registration data. `only_editable` restricts it to draft/returned units.
pub async fn update_data(
    conn: &mut Conn,
    unit_id: i64,
    data: &RegData,
    now: i64,
    only_editable: bool,
) -> DbResult<bool> {
    let cond = if only_editable {
        " AND state IN ('draft', 'returned')"
    } else {
        ""
    };
    let r = sqlx::query(&format!(
        "UPDATE units SET name = $1, name_key = $2, english_name = $3, credit_code = $4,
            district_id = $5, address = $6, unit_type = $7, legal_rep = $8, contact_name = $9,
            landline = $10, email = $11, updated_at = $12 WHERE id = $13{cond}"
    ))
    .bind(data.name.as_str())
    .bind(name_key(&data.name))
    .bind(data.english_name.as_str())
    .bind(data.credit_code.as_str())
    .bind(data.district_id)
    .bind(data.address.as_str())
    .bind(data.unit_type.as_str())
    .bind(data.legal_rep.as_str())
    .bind(data.contact_name.as_str())
    .bind(data.landline.as_str())
    .bind(data.email.as_str())
    .bind(now)
    .bind(unit_id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    // Its groups and registrations carry its district (migration 0013): they move with it.
    for table in ["invitation_groups", "visit_records"] {
        sqlx::query(&format!(
            "UPDATE {table} SET district_id = $1 WHERE unit_id = $2 AND district_id <> $1"
        ))
        .bind(data.district_id)
        .bind(unit_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}

pub async fn set_mobile(conn: &mut Conn, unit_id: i64, mobile: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE units SET mobile = $1, updated_at = $2 WHERE id = $3")
        .bind(mobile)
        .bind(now)
        .bind(unit_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The unit's current attachments by type id.
pub async fn attachments(pool: &sqlx::AnyPool, unit_id: i64) -> DbResult<BTreeMap<i64, FileMeta>> {
    let rows = sqlx::query(
        "SELECT a.type_id, f.id, f.sha256, f.size, f.mime, f.original_name, f.uploaded_by
         FROM unit_attachments a JOIN files f ON f.id = a.file_id WHERE a.unit_id = $1",
    )
    .bind(unit_id)
    .fetch_all(pool)
    .await?;
    let mut map = BTreeMap::new();
    for r in &rows {
        map.insert(
            r.try_get::<i64, _>("type_id")?,
            super::reference::file_meta(r)?,
        );
    }
    Ok(map)
}

/// Sets a registration attachment: the caller holds the unit's [`lock_editable`], or applies an
/// approved change request.
pub async fn set_attachment(
    conn: &mut Conn,
    unit_id: i64,
    type_id: i64,
    file_id: i64,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO unit_attachments (unit_id, type_id, file_id, uploaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (unit_id, type_id) DO UPDATE SET file_id = excluded.file_id,
            uploaded_at = excluded.uploaded_at",
    )
    .bind(unit_id)
    .bind(type_id)
    .bind(file_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the file belongs to the unit: a current attachment or one of its change requests'
/// (drafts only when `with_drafts`: reviewers see what was submitted, not work in progress).
pub async fn owns_file(
    pool: &sqlx::AnyPool,
    unit_id: i64,
    file_id: i64,
    with_drafts: bool,
) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM unit_attachments WHERE unit_id = $1 AND file_id = $2",
    )
    .bind(unit_id)
    .bind(file_id)
    .fetch_one(pool)
    .await?;
    if n > 0 {
        return Ok(true);
    }
    for change in changes_of(pool, unit_id).await? {
        if (with_drafts || change.submitted_at.is_some())
            && change.attachments.values().any(|f| *f == file_id)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `draft`/`returned` → `pending_county`.
pub async fn submit(conn: &mut Conn, unit_id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE units SET state = 'pending_county', submitted_at = $1, return_reason = NULL,
            county_passed = 0, updated_at = $1
         WHERE id = $2 AND state IN ('draft', 'returned')",
    )
    .bind(now)
    .bind(unit_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// One review of a registration or change request, as the workflow decided it from the table:
/// from the state the reviewer acts on to the next one, within the county's district (`None`:
/// the city, every district), with the reason of a return.
#[derive(Clone, Copy, Debug)]
pub struct Decision<'a> {
    pub from: RegState,
    pub to: RegState,
    pub district: Option<i64>,
    pub reason: Option<&'a str>,
}

impl Decision<'_> {
    /// The district bound into the statements: -1 for every district.
    fn district(&self) -> i64 {
        self.district.unwrap_or(-1)
    }
    /// Reaching `pending_city` records that the county passed it (the city may see it from then).
    fn county_passes(&self) -> bool {
        self.to == RegState::PendingCity
    }
}

/// Moves a pending registration on (approval, or a return with its reason). False when it is not
/// (any longer) in `from`, or not in the district.
pub async fn review(conn: &mut Conn, unit_id: i64, d: &Decision<'_>, now: i64) -> DbResult<bool> {
    let passed = d.county_passes().then_some(1i64);
    let approved_at = (d.to == RegState::Approved).then_some(now);
    let r = sqlx::query(
        "UPDATE units SET state = $1, return_reason = $2, county_passed = COALESCE($3, county_passed),
            approved_at = COALESCE($4, approved_at), updated_at = $5
         WHERE id = $6 AND state = $7 AND ($8 < 0 OR district_id = $8)",
    )
    .bind(d.to.as_str())
    .bind(d.reason)
    .bind(passed)
    .bind(approved_at)
    .bind(now)
    .bind(unit_id)
    .bind(d.from.as_str())
    .bind(d.district())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A row of a review queue.
#[derive(Clone, Debug)]
pub struct QueueItem {
    pub kind: Request,
    pub id: i64,
    pub unit_id: i64,
    pub name: String,
    pub credit_code: String,
    pub district_name: String,
    pub submitted_at: i64,
}

impl QueueItem {
    pub fn submitted_text(&self) -> String {
        crate::clock::fmt_ts(self.submitted_at)
    }
    pub fn is_change(&self) -> bool {
        self.kind == Request::Change
    }
}

/// Registrations and change requests in `state` (within `district`, or every district), oldest
/// first.
pub async fn queue(
    pool: &sqlx::AnyPool,
    state: RegState,
    district: Option<i64>,
) -> DbResult<Vec<QueueItem>> {
    let state = state.as_str();
    let district = district.unwrap_or(-1);
    let regs = sqlx::query(
        "SELECT u.id, u.name, u.credit_code, d.name AS district_name, u.submitted_at
         FROM units u JOIN districts d ON d.id = u.district_id
         WHERE u.state = $1 AND ($2 < 0 OR u.district_id = $2) ORDER BY u.submitted_at, u.id",
    )
    .bind(state)
    .bind(district)
    .fetch_all(pool)
    .await?;
    let changes = sqlx::query(
        "SELECT c.id, c.unit_id, u.name, u.credit_code, d.name AS district_name, c.submitted_at
         FROM unit_changes c JOIN units u ON u.id = c.unit_id JOIN districts d ON d.id = u.district_id
         WHERE c.state = $1 AND ($2 < 0 OR u.district_id = $2) ORDER BY c.submitted_at, c.id",
    )
    .bind(state)
    .bind(district)
    .fetch_all(pool)
    .await?;
    let mut items = Vec::with_capacity(regs.len() + changes.len());
    for r in &regs {
        let id: i64 = r.try_get("id")?;
        items.push(QueueItem {
            kind: Request::Registration,
            id,
            unit_id: id,
            name: r.try_get("name")?,
            credit_code: r.try_get("credit_code")?,
            district_name: r.try_get("district_name")?,
            submitted_at: r.try_get::<Option<i64>, _>("submitted_at")?.unwrap_or(0),
        });
    }
    for r in &changes {
        items.push(QueueItem {
            kind: Request::Change,
            id: r.try_get("id")?,
            unit_id: r.try_get("unit_id")?,
            name: r.try_get("name")?,
            credit_code: r.try_get("credit_code")?,
            district_name: r.try_get("district_name")?,
            submitted_at: r.try_get::<Option<i64>, _>("submitted_at")?.unwrap_or(0),
        });
    }
    items.sort_by_key(|i| (i.submitted_at, i.id));
    Ok(items)
}

/// The query counting registrations and change requests in `state` (within `district`, or every
/// district), with its values written in (enum codes and an id), so that the navigation can
/// count every queue in one statement.
pub(crate) fn queue_count_sql(state: RegState, district: Option<i64>) -> String {
    let state = state.as_str();
    let (units_in, changes_in) = match district {
        None => (String::new(), String::new()),
        Some(d) => (
            format!(" AND district_id = {d}"),
            format!(" AND u.district_id = {d}"),
        ),
    };
    format!(
        "SELECT (SELECT COUNT(*) FROM units WHERE state = '{state}'{units_in})
              + (SELECT COUNT(*) FROM unit_changes c JOIN units u ON u.id = c.unit_id
                 WHERE c.state = '{state}'{changes_in})"
    )
}

/// How many units are in `state` (the administrators' overview).
pub async fn count_in_state(pool: &sqlx::AnyPool, state: RegState) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE state = $1")
        .bind(state.as_str())
        .fetch_one(pool)
        .await
}

/// Every district's name by id, retired ones too (a unit's data may name one).
pub async fn district_names(pool: &sqlx::AnyPool) -> DbResult<BTreeMap<i64, String>> {
    Ok(
        sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM districts")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
    )
}

/// Whether county or city passed this unit's registration at least once (city may then see it).
pub async fn county_passed(pool: &sqlx::AnyPool, unit_id: i64) -> DbResult<bool> {
    let n: Option<i64> = sqlx::query_scalar("SELECT county_passed FROM units WHERE id = $1")
        .bind(unit_id)
        .fetch_optional(pool)
        .await?;
    Ok(n.unwrap_or(0) != 0)
}

// ---- change requests ----

#[derive(Clone, Debug)]
pub struct Change {
    pub id: i64,
    pub unit_id: i64,
    pub data: RegData,
    /// Attachment type id → file id, for replaced attachments only.
    pub attachments: BTreeMap<i64, i64>,
    pub state: RegState,
    pub return_reason: Option<String>,
    pub county_passed: bool,
    pub submitted_at: Option<i64>,
}

fn change_from_row(r: &sqlx::any::AnyRow) -> DbResult<Change> {
    let data: String = r.try_get("data")?;
    let att: String = r.try_get("attachments")?;
    let state: String = r.try_get("state")?;
    Ok(Change {
        id: r.try_get("id")?,
        unit_id: r.try_get("unit_id")?,
        data: serde_json::from_str(&data).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        attachments: serde_json::from_str(&att).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        state: RegState::parse(&state).ok_or_else(|| unknown_code("RegState", &state))?,
        return_reason: r.try_get("return_reason")?,
        county_passed: r.try_get::<i64, _>("county_passed")? != 0,
        submitted_at: r.try_get("submitted_at")?,
    })
}

const CHANGE_COLS: &str =
    "id, unit_id, data, attachments, state, return_reason, county_passed, submitted_at";

pub async fn change(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<Change>> {
    let row = sqlx::query(&format!(
        "SELECT {CHANGE_COLS} FROM unit_changes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(change_from_row).transpose()
}

/// The unit's change request that is not yet approved, if any (from the pool or inside a
/// transaction).
pub async fn open_change<'c, E>(pool: E, unit_id: i64) -> DbResult<Option<Change>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {CHANGE_COLS} FROM unit_changes WHERE unit_id = $1 AND state <> 'approved'
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(unit_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(change_from_row).transpose()
}

pub async fn changes_of(pool: &sqlx::AnyPool, unit_id: i64) -> DbResult<Vec<Change>> {
    let rows = sqlx::query(&format!(
        "SELECT {CHANGE_COLS} FROM unit_changes WHERE unit_id = $1 ORDER BY id"
    ))
    .bind(unit_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(change_from_row).collect()
}

fn encode<T: serde::Serialize>(v: &T) -> DbResult<String> {
    serde_json::to_string(v).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// Creates a draft change request.
pub async fn insert_change(
    conn: &mut Conn,
    unit_id: i64,
    data: &RegData,
    now: i64,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO unit_changes (unit_id, data, attachments, state, county_passed, created_at, updated_at)
         VALUES ($1, $2, '{}', 'draft', 0, $3, $3) RETURNING id",
    )
    .bind(unit_id)
    .bind(encode(data)?)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Saves an editable (draft/returned) change request's data and attachments.
pub async fn update_change(conn: &mut Conn, change: &Change, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE unit_changes SET data = $1, attachments = $2, updated_at = $3
         WHERE id = $4 AND state IN ('draft', 'returned')",
    )
    .bind(encode(&change.data)?)
    .bind(encode(&change.attachments)?)
    .bind(now)
    .bind(change.id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn submit_change(conn: &mut Conn, change_id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE unit_changes SET state = 'pending_county', submitted_at = $1, return_reason = NULL,
            county_passed = 0, updated_at = $1
         WHERE id = $2 AND state IN ('draft', 'returned')",
    )
    .bind(now)
    .bind(change_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves a pending change request on, as [`review`] does a registration; on final approval the
/// caller applies it.
pub async fn review_change(
    conn: &mut Conn,
    change_id: i64,
    d: &Decision<'_>,
    now: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE unit_changes SET state = $1, return_reason = $2,
            county_passed = CASE WHEN $3 = 1 THEN 1 ELSE county_passed END, updated_at = $4
         WHERE id = $5 AND state = $6
           AND ($7 < 0 OR unit_id IN (SELECT id FROM units WHERE district_id = $7))",
    )
    .bind(d.to.as_str())
    .bind(d.reason)
    .bind(i64::from(d.county_passes()))
    .bind(now)
    .bind(change_id)
    .bind(d.from.as_str())
    .bind(d.district())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Puts an approved change request into force.
pub async fn apply_change(conn: &mut Conn, change: &Change, now: i64) -> DbResult<()> {
    update_data(conn, change.unit_id, &change.data, now, false).await?;
    for (type_id, file_id) in &change.attachments {
        set_attachment(conn, change.unit_id, *type_id, *file_id, now).await?;
    }
    Ok(())
}

/// A row of the administrators' unit search.
#[derive(Clone, Debug)]
pub struct SearchRow {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub district_name: String,
    pub state: RegState,
    pub login_id: String,
    pub blacklisted: bool,
}

/// Units by name, credit code or login ID (part of any), district and state; newest first.
pub async fn search(
    pool: &sqlx::AnyPool,
    text: &str,
    district: Option<i64>,
    state: Option<RegState>,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<SearchRow>, i64)> {
    let like = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
    let cond =
        "($1 = '%%' OR u.name_key LIKE $1 OR LOWER(u.credit_code) LIKE $1 OR s.login_key LIKE $1)
        AND ($2 < 0 OR u.district_id = $2) AND ($3 = '' OR u.state = $3)";
    let st = state.map(|s| s.as_str()).unwrap_or("");
    let rows = sqlx::query(&format!(
        "SELECT u.id, u.name, u.credit_code, d.name AS district_name, u.state, u.blacklisted,
            COALESCE(s.login_id, '') AS login_id
         FROM units u JOIN districts d ON d.id = u.district_id LEFT JOIN users s ON s.unit_id = u.id
         WHERE {cond} ORDER BY u.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(like.as_str())
    .bind(district.unwrap_or(-1))
    .bind(st)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM units u LEFT JOIN users s ON s.unit_id = u.id WHERE {cond}"
    ))
    .bind(like.as_str())
    .bind(district.unwrap_or(-1))
    .bind(st)
    .fetch_one(pool)
    .await?;
    let rows = rows.iter().map(search_row).collect::<DbResult<Vec<_>>>()?;
    Ok((rows, total))
}

fn search_row(r: &sqlx::any::AnyRow) -> DbResult<SearchRow> {
    let state: String = r.try_get("state")?;
    Ok(SearchRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        credit_code: r.try_get("credit_code")?,
        district_name: r.try_get("district_name")?,
        state: RegState::parse(&state).ok_or_else(|| unknown_code("RegState", &state))?,
        login_id: r.try_get("login_id")?,
        blacklisted: r.try_get::<i64, _>("blacklisted")? != 0,
    })
}

/// Staff search (`/search`): units whose name contains `text` (case-insensitive), or whose
/// credit code or login ID is exactly `text`; within a district for county staff; newest
/// first. Only the name is read row by row (one column of the units table); the code and the
/// login ID are index lookups, and nothing is counted.
pub async fn search_staff(
    pool: &sqlx::AnyPool,
    text: &str,
    district: Option<i64>,
    limit: i64,
) -> DbResult<Vec<SearchRow>> {
    let text = text.trim();
    let like = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
    let in_district = super::sql::in_district(district);
    let rows = sqlx::query(&format!(
        "SELECT u.id, u.name, u.credit_code, d.name AS district_name, u.state, u.blacklisted,
            COALESCE(s.login_id, '') AS login_id
         FROM units u JOIN districts d ON d.id = u.district_id LEFT JOIN users s ON s.unit_id = u.id
         WHERE u.id IN (SELECT id FROM units WHERE name_key LIKE $1
                        UNION SELECT id FROM units WHERE credit_code = $2
                        UNION SELECT unit_id FROM users WHERE login_key = $3 AND unit_id IS NOT NULL)
           {in_district}
         ORDER BY u.id DESC LIMIT $4"
    ))
    .bind(like.as_str())
    .bind(text.to_uppercase())
    .bind(text.to_lowercase())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(search_row).collect()
}

/// Puts a unit on the dishonesty list (with the reason) or takes it off (reason None).
pub async fn set_blacklist(
    conn: &mut Conn,
    unit_id: i64,
    reason: Option<&str>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE units SET blacklisted = $1, blacklist_reason = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(i64::from(reason.is_some()))
    .bind(reason)
    .bind(now)
    .bind(unit_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the row of a unit in one of `states` (and, with `applicant`, not on the dishonesty
/// list) until the transaction ends; false (nothing locked) when it is not. Writes whose right
/// depends on the unit's state call it first: no review or 失信 decision can change the unit
/// before they are committed.
async fn lock_in(conn: &mut Conn, unit_id: i64, states: &str, applicant: bool) -> DbResult<bool> {
    let listed = if applicant {
        " AND blacklisted = 0"
    } else {
        ""
    };
    let r = sqlx::query(&format!(
        "UPDATE units SET updated_at = updated_at WHERE id = $1 AND state IN ({states}){listed}"
    ))
    .bind(unit_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Locks a unit whose registration it may still change (draft or returned): see [`lock_in`].
pub async fn lock_editable(conn: &mut Conn, unit_id: i64) -> DbResult<bool> {
    lock_in(conn, unit_id, "'draft', 'returned'", false).await
}

/// Locks an approved unit (whose changes go through a change request): see [`lock_in`].
pub async fn lock_approved(conn: &mut Conn, unit_id: i64) -> DbResult<bool> {
    lock_in(conn, unit_id, "'approved'", false).await
}

/// Locks a unit that may apply for groups (approved, not on the dishonesty list): see
/// [`lock_in`].
pub async fn lock_applicant(conn: &mut Conn, unit_id: i64) -> DbResult<bool> {
    lock_in(conn, unit_id, "'approved'", true).await
}

/// Locks a unit's row until the transaction ends (work on one unit done once across instances).
pub async fn lock(conn: &mut Conn, unit_id: i64) -> DbResult<()> {
    sqlx::query("UPDATE units SET updated_at = updated_at WHERE id = $1")
        .bind(unit_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A code in the database that no enum knows: a decode error, never a silent default.
fn unknown_code(kind: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {kind} {code:?}").into())
}
