//! Post-visit registration records, their files, review transitions, overdue lists and the
//! reminder claims.

use std::collections::BTreeMap;

use sqlx::Row;

use super::sealed;
use crate::keys::KeyRing;

use super::reference::FileMeta;
use super::sql::{Conn, DbResult};
use crate::domain::group::{parse_date, GroupState};
use crate::domain::visit::{Scan, VisitData, VisitKind, VisitState};

/// A visitor of a dispatched group with its registration, as listed.
#[derive(Clone, Debug)]
pub struct VisitRow {
    pub visitor_id: i64,
    pub group_id: i64,
    pub unit_id: i64,
    pub group_number: String,
    pub name: String,
    pub passport_no: String,
    pub nationality: String,
    pub arrival: String,
    pub departure: String,
    pub acceptance_no: String,
    pub verification_no: String,
    pub unit_name: String,
    pub district_name: String,
    pub state: Option<VisitState>,
    pub submitted_at: Option<i64>,
    pub overdue: bool,
    /// The invitation was cancelled (取消邀请): the visitor has a cancellation record and needs
    /// no registration.
    pub cancelled: bool,
}

/// How the 销签登记 list reads a visitor of a cancelled invitation.
pub const INVITATION_CANCELLED: &str = "邀请已取消";

impl VisitRow {
    pub fn state_label(&self) -> &'static str {
        if self.cancelled {
            return INVITATION_CANCELLED;
        }
        self.state.unwrap_or(VisitState::Unregistered).label()
    }
    pub fn registered(&self) -> bool {
        self.state.is_some_and(|s| s.registered())
    }
    pub fn submitted_text(&self) -> String {
        crate::clock::fmt_opt_ts(self.submitted_at)
    }
}

const ROW: &str = "v.id AS visitor_id, g.id AS group_id, g.unit_id, g.number, v.surname, v.given_name, v.passport_no, \
    v.nationality, g.arrival, g.departure, COALESCE(g.acceptance_no, '') AS acceptance_no, \
    COALESCE(g.verification_no, '') AS verification_no, u.name AS unit_name, d.name AS district_name, \
    r.state AS visit_state, r.submitted_at AS visit_submitted, g.state AS group_state";

const FROM: &str = "FROM group_visitors v JOIN invitation_groups g ON g.id = v.group_id \
    JOIN units u ON u.id = g.unit_id JOIN districts d ON d.id = u.district_id \
    LEFT JOIN visit_records r ON r.visitor_id = v.id";

/// What decides whether a registration is overdue: today, and the days allowed after the
/// planned departure.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    pub today: chrono::NaiveDate,
    pub days: i64,
}

fn row_from(keys: &KeyRing, r: &sqlx::any::AnyRow, due: Due) -> DbResult<VisitRow> {
    let Due { today, days } = due;
    let surname: String = r.try_get("surname")?;
    let given: String = r.try_get("given_name")?;
    let state: Option<String> = r.try_get("visit_state")?;
    let state = state.as_deref().and_then(VisitState::parse);
    let departure: String = r.try_get("departure")?;
    let group_state: String = r.try_get("group_state")?;
    let cancelled = group_state == GroupState::Cancelled.as_str();
    let registered = state.is_some_and(|s| s.registered());
    let overdue = !cancelled
        && parse_date(&departure)
            .is_some_and(|d| crate::domain::visit::overdue(d, today, days, registered));
    Ok(VisitRow {
        visitor_id: r.try_get("visitor_id")?,
        group_id: r.try_get("group_id")?,
        unit_id: r.try_get("unit_id")?,
        group_number: r.try_get("number")?,
        name: if surname.is_empty() {
            given
        } else {
            format!("{surname} {given}")
        },
        passport_no: sealed::open(keys, r, "passport_no", sealed::PASSPORT_NO)?,
        nationality: r.try_get("nationality")?,
        arrival: r.try_get("arrival")?,
        departure,
        acceptance_no: r.try_get("acceptance_no")?,
        verification_no: r.try_get("verification_no")?,
        unit_name: r.try_get("unit_name")?,
        district_name: r.try_get("district_name")?,
        state,
        submitted_at: r.try_get("visit_submitted")?,
        overdue,
        cancelled,
    })
}

/// The unit's visitors of dispatched groups, and of cancelled invitations (shown as such),
/// optionally of one group: overdue first.
pub async fn for_unit(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    unit_id: i64,
    group: Option<i64>,
    due: Due,
) -> DbResult<Vec<VisitRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ROW} {FROM} WHERE g.unit_id = $1 AND g.state IN ('dispatched', 'cancelled') AND ($2 < 0 OR g.id = $2)
           AND g.personal_data_erased_at IS NULL
         ORDER BY g.departure, g.id, v.seq LIMIT 2000"
    ))
    .bind(unit_id)
    .bind(group.unwrap_or(-1))
    .fetch_all(pool)
    .await?;
    let mut out: Vec<VisitRow> = rows
        .iter()
        .map(|r| row_from(keys, r, due))
        .collect::<DbResult<_>>()?;
    out.sort_by_key(|r| !r.overdue);
    Ok(out)
}

/// How many of the unit's visitors are overdue: planned departure before `cutoff`, not
/// registered (the same rule as `overdue`, counted in the database).
pub async fn overdue_count(pool: &sqlx::AnyPool, unit_id: i64, cutoff: &str) -> DbResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitation_groups g JOIN group_visitors v ON v.group_id = g.id
         LEFT JOIN visit_records r ON r.visitor_id = v.id
         WHERE g.unit_id = $1 AND g.state = 'dispatched' AND g.departure < $2
           AND (r.state IS NULL OR r.state IN ('entered', 'draft', 'returned'))",
    )
    .bind(unit_id)
    .bind(cutoff)
    .fetch_one(pool)
    .await
}

/// Sets `group_visitors.unregistered_departure` from the truth: the group's planned departure
/// while the group is dispatched and the visitor's registration is not submitted, NULL otherwise
/// (migration 0010). `filter` picks the visitors (`$1` is its value).
const UNREGISTERED: &str = "UPDATE group_visitors SET unregistered_departure = CASE
    WHEN EXISTS (SELECT 1 FROM visit_records r WHERE r.visitor_id = group_visitors.id
                 AND r.state NOT IN ('entered', 'draft', 'returned')) THEN NULL
    ELSE (SELECT g.departure FROM invitation_groups g
          WHERE g.id = group_visitors.group_id AND g.state = 'dispatched') END";

/// After a group changed state (dispatch): its visitors become due for registration.
pub async fn refresh_unregistered_of_group(conn: &mut Conn, group_id: i64) -> DbResult<()> {
    sqlx::query(&format!("{UNREGISTERED} WHERE group_id = $1"))
        .bind(group_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// After a registration changed state (submitted, returned).
async fn refresh_unregistered_of_record(conn: &mut Conn, record_id: i64) -> DbResult<()> {
    sqlx::query(&format!(
        "{UNREGISTERED} WHERE id = (SELECT visitor_id FROM visit_records WHERE id = $1)"
    ))
    .bind(record_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every visitor at once (after a bulk import).
pub async fn refresh_unregistered_all(conn: &mut Conn) -> DbResult<()> {
    sqlx::query(UNREGISTERED).execute(conn).await?;
    Ok(())
}

/// The overdue condition: the visitor's group was dispatched, its planned departure is before
/// the cutoff (`unregistered_departure` is kept only while the registration is outstanding,
/// migration 0010) and no registration is under review or complete.
const OVERDUE: &str = "v.unregistered_departure < $1 AND g.state = 'dispatched'
    AND (r.state IS NULL OR r.state IN ('entered', 'draft', 'returned'))";

/// A page of the visitors whose registration is overdue (departure before `cutoff`), earliest
/// departure first, in a district or the whole city: read along the partial index of
/// unregistered visitors, so the cost follows the number of visitors still unregistered, not
/// the years of history.
pub async fn overdue(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    district: Option<i64>,
    cutoff: &str,
    due: Due,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<VisitRow>> {
    let in_district = super::sql::district_filter("g", district);
    let rows = sqlx::query(&format!(
        "SELECT {ROW} {FROM} WHERE {OVERDUE}{in_district}
         ORDER BY v.unregistered_departure, g.id, v.seq LIMIT $2 OFFSET $3"
    ))
    .bind(cutoff)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| row_from(keys, r, due)).collect()
}

/// How many visitors are overdue in each district (by name, in the districts' order).
pub async fn overdue_by_district(
    pool: &sqlx::AnyPool,
    district: Option<i64>,
    cutoff: &str,
) -> DbResult<Vec<(String, i64)>> {
    let in_district = super::sql::district_filter("g", district);
    let rows = sqlx::query(&format!(
        "SELECT d.name, COUNT(*) AS n FROM group_visitors v
           JOIN invitation_groups g ON g.id = v.group_id JOIN districts d ON d.id = g.district_id
           LEFT JOIN visit_records r ON r.visitor_id = v.id
         WHERE {OVERDUE}{in_district} GROUP BY d.id, d.name, d.sort ORDER BY d.sort, d.id"
    ))
    .bind(cutoff)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("n")?)))
        .collect()
}

/// A page of the registrations waiting in a state (in a district, or the whole city), oldest
/// submission first, read along `visit_records_district_queue` or `visit_records_queue`.
pub async fn queue(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    state: VisitState,
    district: Option<i64>,
    due: Due,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<VisitRow>> {
    let in_district = super::sql::district_filter("r", district);
    let rows = sqlx::query(&format!(
        "SELECT {ROW} {FROM} WHERE r.state = $1{in_district}
         ORDER BY r.submitted_at, r.id LIMIT $2 OFFSET $3"
    ))
    .bind(state.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| row_from(keys, r, due)).collect()
}

/// The query counting registrations in a state (in a district, or the whole city from the state
/// index alone), with its values written in (see `units::queue_count_sql`).
pub(crate) fn queue_count_sql(state: VisitState, district: Option<i64>) -> String {
    let state = state.as_str();
    match district {
        None => format!("SELECT COUNT(*) FROM visit_records WHERE state = '{state}'"),
        // One range of `visit_records_district_queue` (migration 0013).
        Some(d) => format!(
            "SELECT COUNT(*) FROM visit_records WHERE state = '{state}' AND district_id = {d}"
        ),
    }
}

/// A visitor with its group (for the form and the review page).
#[derive(Clone, Debug)]
pub struct Subject {
    pub visitor_id: i64,
    pub group_id: i64,
    pub group_number: String,
    pub group_state: GroupState,
    pub unit_id: i64,
    pub district_id: i64,
    pub name: String,
    pub passport_no: String,
    pub nationality: String,
    pub arrival: String,
    pub departure: String,
    pub dispatched_at: Option<i64>,
}

pub async fn subject(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    visitor_id: i64,
) -> DbResult<Option<Subject>> {
    let row = sqlx::query(
        "SELECT v.id, g.id AS group_id, g.number, g.state, g.unit_id, u.district_id, v.surname,
            v.given_name, v.passport_no, v.nationality, g.arrival, g.departure, g.dispatched_at
         FROM group_visitors v JOIN invitation_groups g ON g.id = v.group_id JOIN units u ON u.id = g.unit_id
         WHERE v.id = $1",
    )
    .bind(visitor_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let surname: String = r.try_get("surname")?;
    let given: String = r.try_get("given_name")?;
    let group_state: String = r.try_get("state")?;
    Ok(Some(Subject {
        visitor_id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        group_number: r.try_get("number")?,
        // An unknown state is no state a registration may start from.
        group_state: GroupState::parse(&group_state)
            .ok_or_else(|| unknown_code("GroupState", &group_state))?,
        unit_id: r.try_get("unit_id")?,
        district_id: r.try_get("district_id")?,
        name: if surname.is_empty() {
            given
        } else {
            format!("{surname} {given}")
        },
        passport_no: sealed::open(keys, &r, "passport_no", sealed::PASSPORT_NO)?,
        nationality: r.try_get("nationality")?,
        arrival: r.try_get("arrival")?,
        departure: r.try_get("departure")?,
        dispatched_at: r.try_get("dispatched_at")?,
    }))
}

#[derive(Clone, Debug)]
pub struct Record {
    pub id: i64,
    pub state: VisitState,
    pub kind: VisitKind,
    pub entry_date: Option<String>,
    pub entry_port_id: Option<i64>,
    pub exit_date: Option<String>,
    pub exit_port_id: Option<i64>,
    pub cancel_reason: Option<String>,
    pub return_reason: Option<String>,
    pub returned_by: Option<String>,
    pub submitted_at: Option<i64>,
    pub county_passed_at: Option<i64>,
}

/// The visitor a post-visit registration belongs to (audit entries name the registration).
pub async fn visitor_of_record(pool: &sqlx::AnyPool, record_id: i64) -> DbResult<Option<i64>> {
    sqlx::query_scalar("SELECT visitor_id FROM visit_records WHERE id = $1")
        .bind(record_id)
        .fetch_optional(pool)
        .await
}

pub async fn record(pool: &sqlx::AnyPool, visitor_id: i64) -> DbResult<Option<Record>> {
    let row = sqlx::query(
        "SELECT id, state, kind, entry_date, entry_port_id, exit_date, exit_port_id, cancel_reason,
            return_reason, returned_by, submitted_at, county_passed_at
         FROM visit_records WHERE visitor_id = $1",
    )
    .bind(visitor_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let state: String = r.try_get("state")?;
    let kind: String = r.try_get("kind")?;
    Ok(Some(Record {
        id: r.try_get("id")?,
        state: VisitState::parse(&state).ok_or_else(|| unknown_code("VisitState", &state))?,
        kind: VisitKind::from_stored(&kind),
        entry_date: r.try_get("entry_date")?,
        entry_port_id: r.try_get("entry_port_id")?,
        exit_date: r.try_get("exit_date")?,
        exit_port_id: r.try_get("exit_port_id")?,
        cancel_reason: r.try_get("cancel_reason")?,
        return_reason: r.try_get("return_reason")?,
        returned_by: r.try_get("returned_by")?,
        submitted_at: r.try_get("submitted_at")?,
        county_passed_at: r.try_get("county_passed_at")?,
    }))
}

/// Saves the unit's registration while editable, in `state` (a returned one saved whole stays
/// returned: see `visit_flow::saved_state`); returns the record id, or None when it is under
/// review or done.
pub async fn save(
    conn: &mut Conn,
    s: &Subject,
    data: &VisitData,
    state: VisitState,
    now: i64,
) -> DbResult<Option<i64>> {
    let (entry_date, entry_port, exit_date, exit_port, reason) = match data {
        VisitData::Travelled {
            entry_date,
            entry_port,
            exit,
        } => (
            Some(entry_date.to_string()),
            Some(*entry_port),
            exit.map(|(d, _)| d.to_string()),
            exit.map(|(_, p)| p),
            None,
        ),
        VisitData::Cancelled { reason } => (None, None, None, None, Some(reason.clone())),
    };
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO visit_records (visitor_id, group_id, unit_id, district_id, state, kind,
            entry_date, entry_port_id, exit_date, exit_port_id, cancel_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         ON CONFLICT (visitor_id) DO UPDATE SET
            state = CASE WHEN visit_records.state = 'returned' AND excluded.state = 'draft' THEN 'returned' ELSE excluded.state END,
            kind = excluded.kind, entry_date = excluded.entry_date, entry_port_id = excluded.entry_port_id,
            exit_date = excluded.exit_date, exit_port_id = excluded.exit_port_id,
            cancel_reason = excluded.cancel_reason, updated_at = excluded.updated_at
         WHERE visit_records.state IN ('entered', 'draft', 'returned')
         RETURNING id",
    )
    .bind(s.visitor_id)
    .bind(s.group_id)
    .bind(s.unit_id)
    .bind(state.as_str())
    .bind(data.kind().as_str())
    .bind(entry_date)
    .bind(entry_port)
    .bind(exit_date)
    .bind(exit_port)
    .bind(reason)
    .bind(now)
    .bind(s.district_id)
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// The files of a registration by scan (a row of an unknown kind is left out).
pub async fn files(pool: &sqlx::AnyPool, record_id: i64) -> DbResult<BTreeMap<Scan, FileMeta>> {
    let rows = sqlx::query(
        "SELECT a.kind, f.id, f.sha256, f.size, f.mime, f.original_name, f.uploaded_by
         FROM visit_files a JOIN files f ON f.id = a.file_id WHERE a.record_id = $1",
    )
    .bind(record_id)
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        if let Some(scan) = Scan::parse(&r.try_get::<String, _>("kind")?) {
            out.insert(scan, super::reference::file_meta(r)?);
        }
    }
    Ok(out)
}

/// Locks a registration its unit may still change (entered, draft or returned) and whose kind
/// is `kind` until the transaction ends; false (nothing locked) when it is not so any more. No
/// 【提交】 or review can change it before the caller's writes are committed.
pub async fn lock_editable(conn: &mut Conn, record_id: i64, kind: VisitKind) -> DbResult<bool> {
    // As `VisitKind::from_stored` reads it: anything but a cancellation is a trip.
    let of_kind = match kind {
        VisitKind::Cancelled => "kind = 'cancelled'",
        VisitKind::Travelled => "kind <> 'cancelled'",
    };
    let r = sqlx::query(&format!(
        "UPDATE visit_records SET updated_at = updated_at
         WHERE id = $1 AND {of_kind} AND state IN ('entered', 'draft', 'returned')"
    ))
    .bind(record_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets one scan of a registration (the caller holds its [`lock_editable`]).
pub async fn set_file(
    conn: &mut Conn,
    record_id: i64,
    kind: Scan,
    file_id: i64,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO visit_files (record_id, kind, file_id, uploaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (record_id, kind) DO UPDATE SET file_id = excluded.file_id, uploaded_at = excluded.uploaded_at",
    )
    .bind(record_id)
    .bind(kind.as_str())
    .bind(file_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn owns_file(pool: &sqlx::AnyPool, record_id: i64, file_id: i64) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM visit_files WHERE record_id = $1 AND file_id = $2",
    )
    .bind(record_id)
    .bind(file_id)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// [提交]: `draft`/`returned` → `pending_county`.
pub async fn submit(conn: &mut Conn, record_id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE visit_records SET state = 'pending_county', submitted_at = $1, updated_at = $1,
            return_reason = NULL, returned_by = NULL
         WHERE id = $2 AND state IN ('draft', 'returned')",
    )
    .bind(now)
    .bind(record_id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    refresh_unregistered_of_record(conn, record_id).await?;
    Ok(true)
}

/// A guarded review transition within the county's district when given.
pub async fn transition(
    conn: &mut Conn,
    record_id: i64,
    from: VisitState,
    to: VisitState,
    district: Option<i64>,
    reason: Option<(&str, &str)>,
    now: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE visit_records SET state = $1, updated_at = $2,
            return_reason = COALESCE($3, return_reason), returned_by = COALESCE($4, returned_by),
            county_passed_at = CASE WHEN $1 = 'pending_city' THEN $2 ELSE county_passed_at END,
            completed_at = CASE WHEN $1 = 'completed' THEN $2 ELSE completed_at END
         WHERE id = $5 AND state = $6
           AND ($7 < 0 OR unit_id IN (SELECT id FROM units WHERE district_id = $7))",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(reason.map(|(r, _)| r.to_string()))
    .bind(reason.map(|(_, by)| by.to_string()))
    .bind(record_id)
    .bind(from.as_str())
    .bind(district.unwrap_or(-1))
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    refresh_unregistered_of_record(conn, record_id).await?;
    Ok(true)
}

/// Visitors reminded after `since` (not due again yet): the overdue job skips them without a
/// transaction; the claim below still decides.
pub async fn reminded_since(
    pool: &sqlx::AnyPool,
    since: i64,
) -> DbResult<std::collections::HashSet<i64>> {
    sqlx::query_scalar("SELECT visitor_id FROM visit_reminders WHERE last_sent_at > $1")
        .bind(since)
        .fetch_all(pool)
        .await
        .map(|ids| ids.into_iter().collect())
}

/// Claims the reminder of an overdue visitor: the first one, or a weekly one after
/// `every` seconds. True when this caller won the claim and must send it.
pub async fn claim_reminder(
    conn: &mut Conn,
    visitor_id: i64,
    now: i64,
    every: i64,
) -> DbResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO visit_reminders (visitor_id, first_sent_at, last_sent_at, sent_count)
         VALUES ($1, $2, $2, 1) ON CONFLICT (visitor_id) DO NOTHING",
    )
    .bind(visitor_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(true);
    }
    let updated = sqlx::query(
        "UPDATE visit_reminders SET last_sent_at = $1, sent_count = sent_count + 1
         WHERE visitor_id = $2 AND last_sent_at <= $3",
    )
    .bind(now)
    .bind(visitor_id)
    .bind(now - every)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A post-visit registration as its history left it, with its id chosen by the loader (the
/// synthetic data generator, `laihua seed-synthetic`).
#[derive(Clone, Debug)]
pub struct ImportRecord {
    pub id: i64,
    pub visitor_id: i64,
    pub group_id: i64,
    pub unit_id: i64,
    /// The unit's district (see migration 0013).
    pub district_id: i64,
    pub state: VisitState,
    pub data: VisitData,
    pub submitted_at: Option<i64>,
    pub county_passed_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Inserts many registrations with multi-row INSERTs.
pub async fn import(conn: &mut Conn, rows: &[ImportRecord]) -> DbResult<()> {
    const COLS: usize = 17;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let sql = format!(
            "INSERT INTO visit_records (id, visitor_id, group_id, unit_id, district_id, state, kind, entry_date,
                entry_port_id, exit_date, exit_port_id, cancel_reason, submitted_at,
                county_passed_at, completed_at, created_at, updated_at) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let (entry_date, entry_port, exit_date, exit_port, reason) = match &r.data {
                VisitData::Travelled {
                    entry_date,
                    entry_port,
                    exit,
                } => (
                    Some(entry_date.to_string()),
                    Some(*entry_port),
                    exit.map(|(d, _)| d.to_string()),
                    exit.map(|(_, p)| p),
                    None,
                ),
                VisitData::Cancelled { reason } => (None, None, None, None, Some(reason.clone())),
            };
            q = q
                .bind(r.id)
                .bind(r.visitor_id)
                .bind(r.group_id)
                .bind(r.unit_id)
                .bind(r.district_id)
                .bind(r.state.as_str())
                .bind(r.data.kind().as_str())
                .bind(entry_date)
                .bind(entry_port)
                .bind(exit_date)
                .bind(exit_port)
                .bind(reason)
                .bind(r.submitted_at)
                .bind(r.county_passed_at)
                .bind(r.completed_at)
                .bind(r.created_at)
                .bind(r.updated_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A code in the database that no enum knows: a decode error, never a silent default.
fn unknown_code(kind: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {kind} {code:?}").into())
}
