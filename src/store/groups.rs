//! Invitation groups: data, visitors, files, the review state machine, queues and history.
//!
//! Every transition is one `UPDATE … WHERE state = …` (plus the unit's district for county
//! staff), so two reviewers acting at once cannot both succeed.

use std::collections::BTreeMap;

use sqlx::Row;

use super::reference::FileMeta;
use super::sealed;
use super::sql::{Conn, DbResult};
use crate::domain::group::{
    parse_date, Attachment, EntryType, Ground, GroupData, GroupState, VisitorData, VisitorScan,
};
use crate::domain::group_flow::Sequence;
use crate::keys::KeyRing;

#[derive(Clone, Debug)]
pub struct Group {
    pub id: i64,
    pub unit_id: i64,
    pub number: String,
    pub state: GroupState,
    pub data: GroupData,
    pub data_hash: String,
    pub printed_hash: Option<String>,
    pub scan_file_id: Option<i64>,
    pub scan_hash: Option<String>,
    pub return_reason: Option<String>,
    pub returned_by: Option<String>,
    pub acceptance_no: Option<String>,
    pub verification_no: Option<String>,
    pub letter_file_id: Option<i64>,
    pub submitted_at: Option<i64>,
    pub county_passed_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub reported_at: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the retention job erased its visitors' personal data and its files (issue 18).
    pub personal_data_erased_at: Option<i64>,
    /// When the unit last confirmed it told the visitors the rules on personal information.
    pub informed_at: Option<i64>,
    /// Joined: the unit's name and district.
    pub unit_name: String,
    pub district_id: i64,
    pub district_name: String,
    /// Joined: the mission's name and host country.
    pub mission_name: String,
    pub country: String,
    pub country_name: String,
}

impl Group {
    /// The print is of the current data.
    pub fn printed_current(&self) -> bool {
        self.printed_hash.as_deref() == Some(self.data_hash.as_str())
    }
    /// The stamped scan belongs to the current print.
    pub fn scan_current(&self) -> bool {
        self.scan_file_id.is_some() && self.scan_hash.as_deref() == Some(self.data_hash.as_str())
    }
    pub fn created_text(&self) -> String {
        crate::clock::fmt_ts(self.created_at)
    }
    pub fn submitted_text(&self) -> String {
        crate::clock::fmt_opt_ts(self.submitted_at)
    }
    /// When the visitors' personal data was erased (retention), for the page.
    pub fn erased_text(&self) -> Option<String> {
        self.personal_data_erased_at.map(crate::clock::fmt_ts)
    }
    pub fn short_hash(&self) -> &str {
        &self.data_hash[..16.min(self.data_hash.len())]
    }
}

const COLS: &str = "g.id, g.unit_id, g.number, g.state, g.name, g.purpose, g.arrival, g.departure, \
    g.places, g.cost_bearer, g.mission_id, g.entry_type, g.ground, g.contact_name, g.contact_phone, \
    g.remarks, g.group_size, g.data_hash, g.printed_hash, g.scan_file_id, g.scan_hash, g.return_reason, \
    g.returned_by, g.acceptance_no, g.verification_no, g.letter_file_id, g.submitted_at, \
    g.county_passed_at, g.accepted_at, g.reported_at, g.dispatched_at, g.created_at, g.updated_at, \
    g.personal_data_erased_at, g.informed_at, \
    u.name AS unit_name, u.district_id, d.name AS district_name, m.name_zh AS mission_name, \
    m.host_alpha3 AS country, c.name_zh AS country_name";

const FROM: &str = "FROM invitation_groups g JOIN units u ON u.id = g.unit_id \
    JOIN districts d ON d.id = u.district_id JOIN missions m ON m.id = g.mission_id \
    JOIN countries c ON c.alpha3 = m.host_alpha3";

pub(super) fn date(r: &sqlx::any::AnyRow, col: &str) -> DbResult<chrono::NaiveDate> {
    let s: String = r.try_get(col)?;
    parse_date(&s).ok_or_else(|| sqlx::Error::Decode(format!("bad date in {col}").into()))
}

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<Group> {
    let state: String = r.try_get("state")?;
    let entry_type: String = r.try_get("entry_type")?;
    let ground: String = r.try_get("ground")?;
    Ok(Group {
        id: r.try_get("id")?,
        unit_id: r.try_get("unit_id")?,
        number: r.try_get("number")?,
        state: GroupState::parse(&state).ok_or_else(|| unknown_code("GroupState", &state))?,
        data: GroupData {
            name: r.try_get("name")?,
            purpose: r.try_get("purpose")?,
            arrival: date(r, "arrival")?,
            departure: date(r, "departure")?,
            places: r.try_get("places")?,
            cost_bearer: r.try_get("cost_bearer")?,
            mission_id: r.try_get("mission_id")?,
            entry_type: EntryType::parse(&entry_type)
                .ok_or_else(|| sqlx::Error::Decode("unknown entry type".into()))?,
            ground: Ground::parse_code(&ground)
                .ok_or_else(|| sqlx::Error::Decode("unknown ground".into()))?,
            contact_name: r.try_get("contact_name")?,
            contact_phone: r.try_get("contact_phone")?,
            remarks: r.try_get("remarks")?,
            size: r.try_get("group_size")?,
            // Read by `get` from its own table.
            itinerary: Vec::new(),
        },
        data_hash: r.try_get("data_hash")?,
        printed_hash: r.try_get("printed_hash")?,
        scan_file_id: r.try_get("scan_file_id")?,
        scan_hash: r.try_get("scan_hash")?,
        return_reason: r.try_get("return_reason")?,
        returned_by: r.try_get("returned_by")?,
        acceptance_no: r.try_get("acceptance_no")?,
        verification_no: r.try_get("verification_no")?,
        letter_file_id: r.try_get("letter_file_id")?,
        submitted_at: r.try_get("submitted_at")?,
        county_passed_at: r.try_get("county_passed_at")?,
        accepted_at: r.try_get("accepted_at")?,
        reported_at: r.try_get("reported_at")?,
        dispatched_at: r.try_get("dispatched_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        personal_data_erased_at: r.try_get("personal_data_erased_at")?,
        informed_at: r.try_get("informed_at")?,
        unit_name: r.try_get("unit_name")?,
        district_id: r.try_get("district_id")?,
        district_name: r.try_get("district_name")?,
        mission_name: r.try_get("mission_name")?,
        country: r.try_get("country")?,
        country_name: r.try_get("country_name")?,
    })
}

pub async fn get(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<Group>> {
    let row = sqlx::query(&format!("SELECT {COLS} {FROM} WHERE g.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let Some(mut g) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    g.data.itinerary = super::itinerary::of_group(pool, id).await?;
    Ok(Some(g))
}

/// The next value of a per-year sequence.
pub async fn next_in_sequence(conn: &mut Conn, sequence: Sequence, year: i64) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO counters (name, year, value) VALUES ($1, $2, 1)
         ON CONFLICT (name, year) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(sequence.counter())
    .bind(year)
    .fetch_one(conn)
    .await
}

fn bind_data<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    d: &'q GroupData,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(d.name.as_str())
        .bind(d.purpose.as_str())
        .bind(d.arrival.to_string())
        .bind(d.departure.to_string())
        .bind(d.places.as_str())
        .bind(d.cost_bearer.as_str())
        .bind(d.mission_id)
        .bind(d.entry_type.as_str())
        .bind(Ground::code(d.ground))
        .bind(d.contact_name.as_str())
        .bind(d.contact_phone.as_str())
        .bind(d.remarks.as_str())
        .bind(d.size)
}

pub async fn insert(
    conn: &mut Conn,
    unit_id: i64,
    number: &str,
    data: &GroupData,
    hash: &str,
    now: i64,
) -> DbResult<i64> {
    let q = sqlx::query_scalar::<_, i64>(
        "INSERT INTO invitation_groups (name, purpose, arrival, departure, places, cost_bearer,
            mission_id, entry_type, ground, contact_name, contact_phone, remarks, group_size,
            unit_id, district_id, number, state, data_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
            (SELECT district_id FROM units WHERE id = $14), $15, 'draft', $16, $17, $17)
         RETURNING id",
    );
    q.bind(data.name.as_str())
        .bind(data.purpose.as_str())
        .bind(data.arrival.to_string())
        .bind(data.departure.to_string())
        .bind(data.places.as_str())
        .bind(data.cost_bearer.as_str())
        .bind(data.mission_id)
        .bind(data.entry_type.as_str())
        .bind(Ground::code(data.ground))
        .bind(data.contact_name.as_str())
        .bind(data.contact_phone.as_str())
        .bind(data.remarks.as_str())
        .bind(data.size)
        .bind(unit_id)
        .bind(number)
        .bind(hash)
        .bind(now)
        .fetch_one(conn)
        .await
}

/// The condition of a group its unit may change: not submitted (or returned, or withdrawn), of a
/// unit that is approved and not on the dishonesty list. Every write of the unit's group carries it.
const EDITABLE: &str = "state IN ('draft', 'returned', 'withdrawn')
    AND unit_id IN (SELECT id FROM units WHERE state = 'approved' AND blacklisted = 0)";

/// Locks an editable group's row until the transaction ends: true when it is editable, and then
/// no transition (【提交】, a review) can change it before the caller's writes are committed.
/// Uploads call it first, so that a file is linked only to a group its unit may still change.
pub async fn lock_editable(conn: &mut Conn, id: i64) -> DbResult<bool> {
    let r = sqlx::query(&format!(
        "UPDATE invitation_groups SET updated_at = updated_at WHERE id = $1 AND {EDITABLE}"
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Saves the data of an editable group; false when it is not editable (any more).
pub async fn update(
    conn: &mut Conn,
    id: i64,
    data: &GroupData,
    hash: &str,
    now: i64,
) -> DbResult<bool> {
    let sql = format!(
        "UPDATE invitation_groups SET name = $1, purpose = $2, arrival = $3, departure = $4,
            places = $5, cost_bearer = $6, mission_id = $7, entry_type = $8, ground = $9,
            contact_name = $10, contact_phone = $11, remarks = $12, group_size = $13,
            data_hash = $14, updated_at = $15
         WHERE id = $16 AND {EDITABLE}"
    );
    let q = sqlx::query(&sql);
    let r = bind_data(q, data)
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Clone, Debug)]
pub struct Visitor {
    pub id: i64,
    pub seq: i64,
    pub data: VisitorData,
    pub passport_file_id: Option<i64>,
    pub visa_file_id: Option<i64>,
}

/// The columns of a visitor's data, as [`visitor_data`] reads them.
pub(super) const VISITOR_DATA_COLUMNS: &str = "surname, given_name, sex, birth_date, \
    nationality, passport_no, passport_expiry, employer, position, visa_type, stay_days, \
    employer_country, employer_city, employer_address";

/// A visitor's data from a row holding [`VISITOR_DATA_COLUMNS`].
pub(super) fn visitor_data(keys: &KeyRing, r: &sqlx::any::AnyRow) -> DbResult<VisitorData> {
    let birth_date = sealed::open(keys, r, "birth_date", sealed::BIRTH_DATE)?;
    if birth_date.is_empty() {
        return erased_visitor(r);
    }
    Ok(VisitorData {
        surname: r.try_get("surname")?,
        given_name: r.try_get("given_name")?,
        sex: r.try_get("sex")?,
        birth_date: parse_date(&birth_date)
            .ok_or_else(|| sqlx::Error::Decode("bad date in birth_date".into()))?,
        nationality: r.try_get("nationality")?,
        passport_no: sealed::open(keys, r, "passport_no", sealed::PASSPORT_NO)?,
        passport_expiry: date(r, "passport_expiry")?,
        employer: r.try_get("employer")?,
        position: r.try_get("position")?,
        visa_type: r.try_get("visa_type")?,
        stay_days: r.try_get("stay_days")?,
        employer_country: r.try_get("employer_country")?,
        employer_city: r.try_get("employer_city")?,
        employer_address: sealed::open(keys, r, "employer_address", sealed::EMPLOYER_ADDRESS)?,
    })
}

/// A visitor whose personal data the retention job erased: what is kept for the statistics,
/// empty text and the earliest date for the rest (pages say the data was erased).
fn erased_visitor(r: &sqlx::any::AnyRow) -> DbResult<VisitorData> {
    Ok(VisitorData {
        surname: String::new(),
        given_name: String::new(),
        sex: r.try_get("sex")?,
        birth_date: chrono::NaiveDate::MIN,
        nationality: r.try_get("nationality")?,
        passport_no: String::new(),
        passport_expiry: chrono::NaiveDate::MIN,
        employer: String::new(),
        position: String::new(),
        visa_type: r.try_get("visa_type")?,
        stay_days: r.try_get("stay_days")?,
        employer_country: r.try_get("employer_country")?,
        employer_city: r.try_get("employer_city")?,
        employer_address: String::new(),
    })
}

pub async fn visitors(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    group_id: i64,
) -> DbResult<Vec<Visitor>> {
    let rows = sqlx::query(&format!(
        "SELECT id, seq, {VISITOR_DATA_COLUMNS}, passport_file_id, visa_file_id
             FROM group_visitors WHERE group_id = $1 ORDER BY seq, id"
    ))
    .bind(group_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Visitor {
                id: r.try_get("id")?,
                seq: r.try_get("seq")?,
                data: visitor_data(keys, r)?,
                passport_file_id: r.try_get("passport_file_id")?,
                visa_file_id: r.try_get("visa_file_id")?,
            })
        })
        .collect()
}

/// Records that the unit confirmed, now, that it told the group's visitors the rules on
/// personal information (个人信息处理规则).
pub async fn record_informed(conn: &mut Conn, id: i64, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE invitation_groups SET informed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the visitors: rows with a known id of this group are updated (their scans kept),
/// new ones inserted, the rest deleted.
pub async fn save_visitors(
    conn: &mut Conn,
    keys: &KeyRing,
    group_id: i64,
    visitors: &[(Option<i64>, VisitorData)],
) -> DbResult<()> {
    let existing: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM group_visitors WHERE group_id = $1")
            .bind(group_id)
            .fetch_all(&mut *conn)
            .await?;
    let kept: Vec<i64> = visitors
        .iter()
        .filter_map(|(id, _)| *id)
        .filter(|id| existing.contains(id))
        .collect();
    for id in existing.iter().filter(|id| !kept.contains(id)) {
        sqlx::query("DELETE FROM group_visitors WHERE id = $1")
            .bind(*id)
            .execute(&mut *conn)
            .await?;
    }
    for (i, (id, v)) in visitors.iter().enumerate() {
        let seq = i as i64 + 1;
        let known = id.filter(|id| existing.contains(id));
        let sql = match known {
            Some(_) => {
                "UPDATE group_visitors SET seq = $1, surname = $2, given_name = $3, sex = $4,
                    birth_date = $5, nationality = $6, passport_no = $7, passport_expiry = $8,
                    employer = $9, position = $10, visa_type = $11, stay_days = $12,
                    employer_country = $13, employer_city = $14, employer_address = $15,
                    passport_index = $17, seal_key = $18
                 WHERE id = $16"
            }
            None => {
                "INSERT INTO group_visitors (seq, surname, given_name, sex, birth_date, nationality,
                    passport_no, passport_expiry, employer, position, visa_type, stay_days,
                    employer_country, employer_city, employer_address, group_id,
                    passport_index, seal_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18)"
            }
        };
        let sealed = sealed::seal_visitor(
            keys,
            &v.passport_no,
            &v.birth_date.to_string(),
            &v.employer_address,
        );
        sqlx::query(sql)
            .bind(seq)
            .bind(v.surname.as_str())
            .bind(v.given_name.as_str())
            .bind(v.sex.as_str())
            .bind(sealed.birth_date.as_str())
            .bind(v.nationality.as_str())
            .bind(sealed.passport_no.as_str())
            .bind(v.passport_expiry.to_string())
            .bind(v.employer.as_str())
            .bind(v.position.as_str())
            .bind(v.visa_type.as_str())
            .bind(v.stay_days)
            .bind(v.employer_country.as_str())
            .bind(v.employer_city.as_str())
            .bind(sealed.employer_address.as_str())
            .bind(known.unwrap_or(group_id))
            .bind(sealed.passport_index.as_str())
            .bind(sealed.key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Sets one of a visitor's scans (the caller holds the group's [`lock_editable`]).
pub async fn set_visitor_file(
    conn: &mut Conn,
    group_id: i64,
    visitor_id: i64,
    scan: VisitorScan,
    file_id: i64,
) -> DbResult<bool> {
    let col = match scan {
        VisitorScan::Visa => "visa_file_id",
        VisitorScan::Passport => "passport_file_id",
    };
    let r = sqlx::query(&format!(
        "UPDATE group_visitors SET {col} = $1 WHERE id = $2 AND group_id = $3"
    ))
    .bind(file_id)
    .bind(visitor_id)
    .bind(group_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Group-level attachments by type (rows of a type no longer known are left out).
pub async fn attachments(
    pool: &sqlx::AnyPool,
    group_id: i64,
) -> DbResult<BTreeMap<Attachment, FileMeta>> {
    let rows = sqlx::query(
        "SELECT a.type_code, f.id, f.sha256, f.size, f.mime, f.original_name, f.uploaded_by
         FROM group_attachments a JOIN files f ON f.id = a.file_id WHERE a.group_id = $1",
    )
    .bind(group_id)
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        if let Some(a) = Attachment::parse(&r.try_get::<String, _>("type_code")?) {
            out.insert(a, super::reference::file_meta(r)?);
        }
    }
    Ok(out)
}

/// Sets a group-level attachment (the caller holds the group's [`lock_editable`]).
pub async fn set_attachment(
    conn: &mut Conn,
    group_id: i64,
    attachment: Attachment,
    file_id: i64,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO group_attachments (group_id, type_code, file_id, uploaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, type_code) DO UPDATE SET file_id = excluded.file_id,
            uploaded_at = excluded.uploaded_at",
    )
    .bind(group_id)
    .bind(attachment.code())
    .bind(file_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a file belongs to this group (any of its scans, attachments or the letter).
pub async fn owns_file(pool: &sqlx::AnyPool, group_id: i64, file_id: i64) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT
            (SELECT COUNT(*) FROM group_attachments WHERE group_id = $1 AND file_id = $2)
          + (SELECT COUNT(*) FROM group_visitors WHERE group_id = $1 AND (passport_file_id = $2 OR visa_file_id = $2))
          + (SELECT COUNT(*) FROM invitation_groups WHERE id = $1 AND (scan_file_id = $2 OR letter_file_id = $2))",
    )
    .bind(group_id)
    .bind(file_id)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// 【打印】: records that the current version was printed.
pub async fn mark_printed(conn: &mut Conn, id: i64, hash: &str) -> DbResult<bool> {
    let r = sqlx::query(&format!(
        "UPDATE invitation_groups SET printed_hash = $1
         WHERE id = $2 AND data_hash = $1 AND {EDITABLE}"
    ))
    .bind(hash)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The stamped scan of the current print.
pub async fn set_scan(conn: &mut Conn, id: i64, file_id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(&format!(
        "UPDATE invitation_groups SET scan_file_id = $1, scan_hash = printed_hash, updated_at = $2
         WHERE id = $3 AND printed_hash = data_hash AND {EDITABLE}"
    ))
    .bind(file_id)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// 【提交】: `draft`/`returned`/`withdrawn` → `pending_county`, only with a current stamped scan. The clock
/// of the time limit (re)starts now.
pub async fn submit(conn: &mut Conn, id: i64, now: i64) -> DbResult<bool> {
    let r = sqlx::query(&format!(
        "UPDATE invitation_groups SET state = 'pending_county', submitted_at = $1, updated_at = $1,
            return_reason = NULL, returned_by = NULL
         WHERE id = $2 AND {EDITABLE} AND scan_file_id IS NOT NULL
           AND scan_hash = data_hash"
    ))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What a transition writes besides the new state and its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    None,
    /// 退件: the reason and the office that returned it.
    Returned {
        reason: &'a str,
        by: &'a str,
    },
    /// 上报外交部: the 核实单号.
    Reported {
        verification_no: &'a str,
    },
    /// 外交部不予核实: returned with the reason; the refused report's 核实单号 is cleared (the
    /// timeline keeps it).
    MinistryRefused {
        reason: &'a str,
        by: &'a str,
    },
}

/// A guarded transition: `from` → `to`, within the county's district when given. The time the
/// group reached its new state (county passed, accepted, reported, dispatched) is recorded here.
/// False (and nothing written) when the group is no longer in `from` there.
pub async fn transition(
    conn: &mut Conn,
    id: i64,
    from: GroupState,
    to: GroupState,
    district: Option<i64>,
    change: Change<'_>,
    now: i64,
) -> DbResult<bool> {
    // Extra assignments use $6.. for their values.
    let (set, values): (&str, Vec<&str>) = match change {
        Change::Returned { reason, by } => {
            (", return_reason = $6, returned_by = $7", vec![reason, by])
        }
        Change::Reported { verification_no } => (", verification_no = $6", vec![verification_no]),
        Change::MinistryRefused { reason, by } => (
            ", return_reason = $6, returned_by = $7, verification_no = NULL",
            vec![reason, by],
        ),
        Change::None => ("", Vec::new()),
    };
    let sql = format!(
        "UPDATE invitation_groups SET state = $1, updated_at = $2,
            county_passed_at = CASE WHEN $1 = 'pending_city' THEN $2 ELSE county_passed_at END,
            accepted_at = CASE WHEN $1 = 'accepted' THEN $2 ELSE accepted_at END,
            reported_at = CASE WHEN $1 = 'reported' THEN $2 ELSE reported_at END,
            dispatched_at = CASE WHEN $1 = 'dispatched' THEN $2 ELSE dispatched_at END{set}
         WHERE id = $3 AND state = $4 AND ({d} < 0 OR unit_id IN (SELECT id FROM units WHERE district_id = {d}))",
        d = "$5",
    );
    let mut q = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .bind(district.unwrap_or(-1));
    for v in values {
        q = q.bind(v.to_string());
    }
    let r = q.execute(&mut *conn).await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    if to == GroupState::Dispatched {
        super::visits::refresh_unregistered_of_group(&mut *conn, id).await?;
    }
    Ok(true)
}

/// 发件: the letter of a group the caller's transaction has just moved to `dispatched`.
pub async fn set_letter(conn: &mut Conn, id: i64, letter_file_id: i64) -> DbResult<()> {
    sqlx::query("UPDATE invitation_groups SET letter_file_id = $1 WHERE id = $2")
        .bind(letter_file_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the 受理编号 drawn for a group just accepted.
pub async fn set_acceptance_no(conn: &mut Conn, id: i64, acceptance_no: &str) -> DbResult<()> {
    sqlx::query("UPDATE invitation_groups SET acceptance_no = $1 WHERE id = $2")
        .bind(acceptance_no)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A row of a review queue or the history.
#[derive(Clone, Debug)]
pub struct GroupRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub unit_name: String,
    pub district_name: String,
    pub state: GroupState,
    pub arrival: String,
    pub departure: String,
    pub visitors: i64,
    /// 团组人数 (none for a group saved before it was asked).
    pub group_size: Option<i64>,
    pub submitted_at: Option<i64>,
    pub created_at: i64,
    pub acceptance_no: Option<String>,
    pub verification_no: Option<String>,
    pub return_reason: Option<String>,
    pub letter_file_id: Option<i64>,
    /// Working days left against the limit (queues only).
    pub days_left: i64,
}

impl GroupRow {
    pub fn submitted_text(&self) -> String {
        crate::clock::fmt_opt_ts(self.submitted_at)
    }
    pub fn created_text(&self) -> String {
        crate::clock::fmt_ts(self.created_at)
    }
}

const ROW_COLS: &str =
    "g.id, g.number, g.name, u.name AS unit_name, d.name AS district_name, g.state, \
    g.arrival, g.departure, g.submitted_at, g.created_at, g.acceptance_no, g.verification_no, \
    g.return_reason, g.letter_file_id, g.group_size, \
    (SELECT COUNT(*) FROM group_visitors v WHERE v.group_id = g.id) AS visitors";

fn row_from(r: &sqlx::any::AnyRow) -> DbResult<GroupRow> {
    let state: String = r.try_get("state")?;
    Ok(GroupRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        name: r.try_get("name")?,
        unit_name: r.try_get("unit_name")?,
        district_name: r.try_get("district_name")?,
        state: GroupState::parse(&state).ok_or_else(|| unknown_code("GroupState", &state))?,
        arrival: r.try_get("arrival")?,
        departure: r.try_get("departure")?,
        visitors: r.try_get("visitors")?,
        group_size: r.try_get("group_size")?,
        submitted_at: r.try_get("submitted_at")?,
        created_at: r.try_get("created_at")?,
        acceptance_no: r.try_get("acceptance_no")?,
        verification_no: r.try_get("verification_no")?,
        return_reason: r.try_get("return_reason")?,
        letter_file_id: r.try_get("letter_file_id")?,
        days_left: 0,
    })
}

/// A page of the groups in one state (in a district, or the whole city), oldest submission
/// first: read along `groups_district_queue` for a county and `groups_queue` for the city, so
/// a page costs the same however many groups wait.
pub async fn queue(
    pool: &sqlx::AnyPool,
    state: GroupState,
    district: Option<i64>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<GroupRow>> {
    let in_district = super::sql::district_filter("g", district);
    let rows = sqlx::query(&format!(
        "SELECT {ROW_COLS} FROM invitation_groups g JOIN units u ON u.id = g.unit_id
         JOIN districts d ON d.id = u.district_id
         WHERE g.state = $1{in_district}
         ORDER BY g.submitted_at, g.id LIMIT $2 OFFSET $3"
    ))
    .bind(state.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.iter().map(row_from).collect()
}

/// `'pending_city', 'accepted'`: states written into a statement (their codes are constants).
fn state_list(states: &[GroupState]) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query counting the groups in these states (in a district, or the whole city from the
/// state index alone), with its values written in (see `units::queue_count_sql`).
pub(crate) fn queue_count_sql(states: &[GroupState], district: Option<i64>) -> String {
    let list = state_list(states);
    match district {
        None => format!("SELECT COUNT(*) FROM invitation_groups WHERE state IN ({list})"),
        // One range of `groups_district_queue` per state (migration 0013).
        Some(d) => format!(
            "SELECT COUNT(*) FROM invitation_groups WHERE state IN ({list}) AND district_id = {d}"
        ),
    }
}

pub async fn queue_count(
    pool: &sqlx::AnyPool,
    states: &[GroupState],
    district: Option<i64>,
) -> DbResult<i64> {
    sqlx::query_scalar(&queue_count_sql(states, district))
        .fetch_one(pool)
        .await
}

/// Filters of 申报历史查询.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    pub from_ts: Option<i64>,
    pub to_ts: Option<i64>,
    pub state: Option<GroupState>,
    pub text: String,
    /// The keyed index of `text` as a passport number (see `store::sealed`).
    pub text_index: String,
}

/// A value bound to a statement built at run time.
enum Arg {
    Int(i64),
    Text(String),
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_all<'q>(mut q: AnyQuery<'q>, args: &[Arg]) -> AnyQuery<'q> {
    for a in args {
        q = match a {
            Arg::Int(i) => q.bind(*i),
            Arg::Text(t) => q.bind(t.clone()),
        };
    }
    q
}

/// The condition of a unit's history with the filters in use, and its values. Only the
/// filters in use are in the statement (a generic `($4 = '' OR …)` form kept PostgreSQL's
/// cached plans from reading the unit's groups from the index alone).
fn history_condition(unit_id: i64, f: &HistoryFilter) -> (String, Vec<Arg>) {
    let mut cond = String::from("g.unit_id = $1");
    let mut args = vec![Arg::Int(unit_id)];
    let mut push = |sql: &str, arg: Arg| {
        args.push(arg);
        cond.push_str(&sql.replace('?', &format!("${}", args.len())));
    };
    if let Some(from) = f.from_ts {
        push(" AND g.created_at >= ?", Arg::Int(from));
    }
    if let Some(to) = f.to_ts {
        push(" AND g.created_at < ?", Arg::Int(to));
    }
    if let Some(state) = f.state {
        push(" AND g.state = ?", Arg::Text(state.as_str().into()));
    }
    let text = f.text.trim().replace(['%', '_'], "");
    if !text.is_empty() {
        push(
            " AND (g.name LIKE ? OR g.number LIKE ? OR g.acceptance_no LIKE ?
             OR g.verification_no LIKE ?
             OR EXISTS (SELECT 1 FROM group_visitors v WHERE v.group_id = g.id
                        AND (v.given_name LIKE ? OR v.surname LIKE ?",
            Arg::Text(format!("%{text}%")),
        );
        // Passport numbers are sealed: found whole, by their keyed index (or, not yet sealed,
        // as typed).
        push(" OR v.passport_index = ?", Arg::Text(f.text_index.clone()));
        push(
            " OR (v.passport_index IS NULL AND v.passport_no = ?))))",
            Arg::Text(f.text.trim().to_uppercase()),
        );
    }
    (cond, args)
}

async fn history_rows(
    pool: &sqlx::AnyPool,
    cond: &str,
    args: &[Arg],
    limit: i64,
    offset: i64,
) -> DbResult<Vec<GroupRow>> {
    let n = args.len();
    let sql = format!(
        "SELECT {ROW_COLS} FROM invitation_groups g JOIN units u ON u.id = g.unit_id
         JOIN districts d ON d.id = u.district_id WHERE {cond}
         ORDER BY g.created_at DESC, g.id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = bind_all(sqlx::query(&sql), args)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    rows.iter().map(row_from).collect()
}

/// A page of the unit's groups, newest first, and how many match in all (counted only when
/// the page does not show them all).
pub async fn history(
    pool: &sqlx::AnyPool,
    unit_id: i64,
    f: &HistoryFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<GroupRow>, i64)> {
    let (cond, args) = history_condition(unit_id, f);
    let rows = history_rows(pool, &cond, &args, limit, offset).await?;
    if offset == 0 && (rows.len() as i64) < limit {
        let total = rows.len() as i64;
        return Ok((rows, total));
    }
    let count_sql = format!("SELECT COUNT(*) FROM invitation_groups g WHERE {cond}");
    let total: i64 = bind_all(sqlx::query(&count_sql), &args)
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok((rows, total))
}

/// The unit's newest groups (its home page, the administrators' unit page): not counted.
pub async fn latest(pool: &sqlx::AnyPool, unit_id: i64, limit: i64) -> DbResult<Vec<GroupRow>> {
    let (cond, args) = history_condition(unit_id, &HistoryFilter::default());
    history_rows(pool, &cond, &args, limit, 0).await
}

/// The unit's groups in `states`, newest first, at most `limit` (one index range per state).
pub async fn of_unit_in(
    pool: &sqlx::AnyPool,
    unit_id: i64,
    states: &[GroupState],
    limit: i64,
) -> DbResult<Vec<GroupRow>> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let cond = format!("g.unit_id = $1 AND g.state IN ({})", state_list(states));
    history_rows(pool, &cond, &[Arg::Int(unit_id)], limit, 0).await
}

/// Staff search (issue 6): groups whose number, 受理编号 or 核实单号 equals `text`, or with a
/// visitor whose passport number, surname, given name or full name equals it (case-insensitive
/// for Latin letters). Exact matches only, so that every branch is an index lookup at any size.
/// Limited to the given states and, for county staff, to one district; newest first.
///
/// The matches are collected first, one index lookup per identifier (a UNION), then joined:
/// written as one `OR` over the joined rows, both databases walked every group (about a second
/// at 1,000,000 groups) whenever fewer than `limit` matched. Ordering by `created_at` (not
/// indexed alone) keeps PostgreSQL from walking the primary key backwards in the hope of
/// finding `limit` matches early. A very common surname still reads all its groups.
pub async fn search_staff(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    text: &str,
    states: &[GroupState],
    district: Option<i64>,
    limit: i64,
) -> DbResult<Vec<GroupRow>> {
    let key = text.trim().to_uppercase();
    if key.is_empty() || states.is_empty() {
        return Ok(Vec::new());
    }
    let list = state_list(states);
    let in_district = super::sql::in_district(district);
    let matches = "SELECT id FROM invitation_groups WHERE number = $1
                UNION SELECT id FROM invitation_groups WHERE acceptance_no = $1
                UNION SELECT id FROM invitation_groups WHERE verification_no = $1
                UNION SELECT group_id FROM group_visitors WHERE passport_index = $2
                UNION SELECT group_id FROM group_visitors
                    WHERE passport_index IS NULL AND passport_no = $1
                UNION SELECT group_id FROM group_visitors WHERE UPPER(surname) = $1
                UNION SELECT group_id FROM group_visitors WHERE UPPER(given_name) = $1
                UNION SELECT group_id FROM group_visitors
                    WHERE UPPER(surname || ' ' || given_name) = $1";
    // The matching ids first: PostgreSQL cannot know how few a passport number finds and
    // planned the join for thousands (reading every unit). Up to a thousand are then written
    // into the second statement; a name shared by more is joined in one statement.
    const FEW: usize = 1000;
    let index = sealed::passport_index(keys, &key);
    let ids: Vec<i64> = sqlx::query_scalar(&format!("{matches} LIMIT {}", FEW + 1))
        .bind(key.as_str())
        .bind(index.as_str())
        .fetch_all(pool)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let few = ids.len() <= FEW;
    let among = match few {
        true => super::sql::id_list(&ids),
        false => matches.to_string(),
    };
    let sql = format!(
        "SELECT {ROW_COLS} FROM invitation_groups g JOIN units u ON u.id = g.unit_id
         JOIN districts d ON d.id = u.district_id
         WHERE g.id IN ({among}) AND g.state IN ({list}){in_district}
         ORDER BY g.created_at DESC, g.id DESC LIMIT {limit}"
    );
    let query = match few {
        true => sqlx::query(&sql),
        false => sqlx::query(&sql).bind(key.as_str()).bind(index.as_str()),
    };
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(row_from).collect()
}

/// Another group in which a passport appears for an overlapping period, with what decides
/// who may see it.
#[derive(Clone, Debug)]
pub struct Overlap {
    pub id: i64,
    pub number: String,
    pub state: GroupState,
    pub unit_id: i64,
    pub district_id: i64,
    pub unit_name: String,
}

/// The other groups in which this passport appears for an overlapping period, oldest first.
pub async fn overlapping(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    group_id: i64,
    passport_no: &str,
    arrival: &str,
    departure: &str,
) -> DbResult<Vec<Overlap>> {
    let rows = sqlx::query(
        "SELECT g.id, g.number, g.state, g.unit_id, g.district_id, u.name AS unit_name
         FROM invitation_groups g JOIN units u ON u.id = g.unit_id
         WHERE g.id <> $2 AND g.arrival <= $3 AND g.departure >= $4
           AND g.id IN (SELECT v.group_id FROM group_visitors v WHERE v.passport_index = $1
                        UNION SELECT v.group_id FROM group_visitors v
                            WHERE v.passport_index IS NULL AND v.passport_no = $5)
         ORDER BY g.id",
    )
    .bind(sealed::passport_index(keys, passport_no))
    .bind(group_id)
    .bind(departure)
    .bind(arrival)
    .bind(passport_no)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            Ok(Overlap {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                state: GroupState::parse(&state)
                    .ok_or_else(|| unknown_code("GroupState", &state))?,
                unit_id: r.try_get("unit_id")?,
                district_id: r.try_get("district_id")?,
                unit_name: r.try_get("unit_name")?,
            })
        })
        .collect()
}

// ---- bulk loading (the synthetic data generator, `laihua seed-synthetic`) ----

/// A group as its history left it, with its id chosen by the loader.
#[derive(Clone, Debug)]
pub struct ImportGroup {
    pub id: i64,
    pub unit_id: i64,
    /// The unit's district (see migration 0013).
    pub district_id: i64,
    pub number: String,
    pub state: GroupState,
    pub data: GroupData,
    pub data_hash: String,
    pub printed_hash: Option<String>,
    pub scan_file_id: Option<i64>,
    pub scan_hash: Option<String>,
    pub return_reason: Option<String>,
    pub returned_by: Option<String>,
    pub acceptance_no: Option<String>,
    pub verification_no: Option<String>,
    pub letter_file_id: Option<i64>,
    pub submitted_at: Option<i64>,
    pub county_passed_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub reported_at: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Inserts many groups with multi-row INSERTs (a few hundred rows per statement).
pub async fn import(conn: &mut Conn, rows: &[ImportGroup]) -> DbResult<()> {
    const COLS: usize = 34;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let sql = format!(
            "INSERT INTO invitation_groups (id, unit_id, district_id, number, state, name, purpose, arrival,
                departure, places, cost_bearer, mission_id, entry_type, ground, contact_name,
                contact_phone, remarks, group_size, data_hash, printed_hash, scan_file_id, scan_hash,
                return_reason, returned_by, acceptance_no, verification_no, letter_file_id,
                submitted_at, county_passed_at, accepted_at, reported_at, dispatched_at,
                created_at, updated_at) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for g in chunk {
            q = q
                .bind(g.id)
                .bind(g.unit_id)
                .bind(g.district_id)
                .bind(g.number.as_str())
                .bind(g.state.as_str());
            q = bind_data(q, &g.data)
                .bind(g.data_hash.as_str())
                .bind(g.printed_hash.as_deref())
                .bind(g.scan_file_id)
                .bind(g.scan_hash.as_deref())
                .bind(g.return_reason.as_deref())
                .bind(g.returned_by.as_deref())
                .bind(g.acceptance_no.as_deref())
                .bind(g.verification_no.as_deref())
                .bind(g.letter_file_id)
                .bind(g.submitted_at)
                .bind(g.county_passed_at)
                .bind(g.accepted_at)
                .bind(g.reported_at)
                .bind(g.dispatched_at)
                .bind(g.created_at)
                .bind(g.updated_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A visitor with its id chosen by the loader.
#[derive(Clone, Debug)]
pub struct ImportVisitor {
    pub id: i64,
    pub group_id: i64,
    pub seq: i64,
    pub data: VisitorData,
}

/// Inserts many visitors with multi-row INSERTs.
pub async fn import_visitors(
    conn: &mut Conn,
    keys: &KeyRing,
    rows: &[ImportVisitor],
) -> DbResult<()> {
    const COLS: usize = 19;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let sql = format!(
            "INSERT INTO group_visitors (id, group_id, seq, surname, given_name, sex, birth_date,
                nationality, passport_no, passport_expiry, employer, position, visa_type, stay_days,
                employer_country, employer_city, employer_address, passport_index, seal_key)
                VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let sealed: Vec<_> = chunk
            .iter()
            .map(|v| {
                sealed::seal_visitor(
                    keys,
                    &v.data.passport_no,
                    &v.data.birth_date.to_string(),
                    &v.data.employer_address,
                )
            })
            .collect();
        let mut q = sqlx::query(&sql);
        for (v, sealed) in chunk.iter().zip(&sealed) {
            q = q
                .bind(v.id)
                .bind(v.group_id)
                .bind(v.seq)
                .bind(v.data.surname.as_str())
                .bind(v.data.given_name.as_str())
                .bind(v.data.sex.as_str())
                .bind(sealed.birth_date.as_str())
                .bind(v.data.nationality.as_str())
                .bind(sealed.passport_no.as_str())
                .bind(v.data.passport_expiry.to_string())
                .bind(v.data.employer.as_str())
                .bind(v.data.position.as_str())
                .bind(v.data.visa_type.as_str())
                .bind(v.data.stay_days)
                .bind(v.data.employer_country.as_str())
                .bind(v.data.employer_city.as_str())
                .bind(sealed.employer_address.as_str())
                .bind(sealed.passport_index.as_str())
                .bind(sealed.key);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The current value of a per-year sequence (0 when none was drawn).
pub async fn sequence_value(conn: &mut Conn, name: &str, year: i64) -> DbResult<i64> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT value FROM counters WHERE name = $1 AND year = $2")
            .bind(name)
            .bind(year)
            .fetch_optional(conn)
            .await?;
    Ok(v.unwrap_or(0))
}

/// Raises a per-year sequence to at least `value` (after numbers were drawn in bulk).
pub async fn raise_sequence(conn: &mut Conn, name: &str, year: i64, value: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO counters (name, year, value) VALUES ($1, $2, $3)
         ON CONFLICT (name, year) DO UPDATE SET value = CASE WHEN counters.value > excluded.value
            THEN counters.value ELSE excluded.value END",
    )
    .bind(name)
    .bind(year)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// A code in the database that no enum knows: a decode error, never a silent default.
fn unknown_code(kind: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {kind} {code:?}").into())
}
