//! Statistics (统计分析): aggregates of invitation groups, their visitors and the post-visit
//! registrations, grouped in SQL that runs the same on SQLite and PostgreSQL.
//!
//! Which groups count: every group whose (latest) submission falls in the period, whatever its
//! state now, except drafts (a returned group's resubmission moves it to the date of the new
//! submission). Visitors are the visitors of those groups. Times are unix seconds; a day is a
//! Beijing (UTC+8) calendar day, computed in SQL as `(t + 28800) / 86400` (integer division of
//! a BIGINT, identical on both databases) and turned into months in Rust.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::sql::DbResult;

/// The groups a statistic covers: submitted in `[from_ts, to_ts)`, within a district when given.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    pub from_ts: i64,
    pub to_ts: i64,
    /// County staff see their district only.
    pub district: Option<i64>,
}

/// Groups and visitors under one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Count<K> {
    pub key: K,
    pub groups: i64,
    pub visitors: i64,
}

/// Days since 1970-01-01 (Beijing) of submission.
const SUBMITTED_DAY: &str = "(g.submitted_at + 28800) / 86400";
/// Days since 1970-01-01 (Beijing) of dispatch.
const DISPATCHED_DAY: &str = "(g.dispatched_at + 28800) / 86400";

/// The joins and conditions every statistic shares ($1, $2: period; $3: district or -1).
const FROM: &str = "FROM invitation_groups g JOIN units u ON u.id = g.unit_id";
const SCOPE: &str = "g.state <> 'draft' AND g.submitted_at IS NOT NULL
    AND g.submitted_at >= $1 AND g.submitted_at < $2 AND ($3 < 0 OR u.district_id = $3)";

/// The calendar date of a day number from `(t + 28800) / 86400`.
pub fn date_of_day(day: i64) -> NaiveDate {
    // `NaiveDate::default()` is 1970-01-01.
    NaiveDate::default() + chrono::Duration::days(day)
}

/// Groups and visitors per value of `key` (an SQL expression over `g` and `u`, or over `v`
/// when `per_visitor`: then only groups with a visitor of that value count under it).
async fn counts<K>(
    pool: &sqlx::AnyPool,
    key: &str,
    per_visitor: bool,
    s: &Scope,
) -> DbResult<Vec<Count<K>>>
where
    K: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let join = if per_visitor { "JOIN" } else { "LEFT JOIN" };
    let sql = format!(
        "SELECT {key} AS k, COUNT(DISTINCT g.id) AS n_groups, COUNT(v.id) AS n_visitors
         {FROM} {join} group_visitors v ON v.group_id = g.id
         WHERE {SCOPE} GROUP BY {key}"
    );
    sqlx::query(&sql)
        .bind(s.from_ts)
        .bind(s.to_ts)
        .bind(s.district.unwrap_or(-1))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Count {
                key: r.try_get("k")?,
                groups: r.try_get("n_groups")?,
                visitors: r.try_get("n_visitors")?,
            })
        })
        .collect()
}

/// Per Beijing day of submission (day numbers, see [`date_of_day`]).
pub async fn by_day(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Count<i64>>> {
    counts(pool, SUBMITTED_DAY, false, s).await
}

/// Per district id of the inviting unit.
pub async fn by_district(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Count<i64>>> {
    counts(pool, "u.district_id", false, s).await
}

/// Per purpose code.
pub async fn by_purpose(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Count<String>>> {
    counts(pool, "g.purpose", false, s).await
}

/// Per entry type code.
pub async fn by_entry_type(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Count<String>>> {
    counts(pool, "g.entry_type", false, s).await
}

/// Per visitor nationality (alpha-3): visitors of that nationality, and the groups with at
/// least one of them (a group of mixed nationalities counts under each).
pub async fn by_nationality(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Count<String>>> {
    counts(pool, "v.nationality", true, s).await
}

/// Dispatched groups of the scope, counted per (district, day submitted, day dispatched):
/// enough to compute working days in Rust without a row per group.
#[derive(Clone, Debug)]
pub struct Processed {
    pub district_id: i64,
    pub submitted: NaiveDate,
    pub dispatched: NaiveDate,
    pub groups: i64,
}

/// Groups the office dispatched (invitations cancelled since included), by submission and dispatch day.
pub async fn processed(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<Processed>> {
    let sql = format!(
        "SELECT u.district_id AS district_id, {SUBMITTED_DAY} AS sday, {DISPATCHED_DAY} AS dday,
            COUNT(*) AS n
         {FROM} WHERE {SCOPE} AND g.state IN ('dispatched', 'cancelled') AND g.dispatched_at IS NOT NULL
         GROUP BY u.district_id, {SUBMITTED_DAY}, {DISPATCHED_DAY}"
    );
    sqlx::query(&sql)
        .bind(s.from_ts)
        .bind(s.to_ts)
        .bind(s.district.unwrap_or(-1))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Processed {
                district_id: r.try_get("district_id")?,
                submitted: date_of_day(r.try_get("sday")?),
                dispatched: date_of_day(r.try_get("dday")?),
                groups: r.try_get("n")?,
            })
        })
        .collect()
}

/// Visitors of the scope's dispatched groups, counted per (district, planned departure, state of
/// the post-visit registration; None = not registered at all), for the overdue rule.
#[derive(Clone, Debug)]
pub struct VisitorRegistration {
    pub district_id: i64,
    pub departure: String,
    pub state: Option<String>,
    pub visitors: i64,
}

pub async fn registrations(pool: &sqlx::AnyPool, s: &Scope) -> DbResult<Vec<VisitorRegistration>> {
    let sql = format!(
        "SELECT u.district_id AS district_id, g.departure AS departure, r.state AS rstate, COUNT(*) AS n
         {FROM} JOIN group_visitors v ON v.group_id = g.id
         LEFT JOIN visit_records r ON r.visitor_id = v.id
         WHERE {SCOPE} AND g.state = 'dispatched'
         GROUP BY u.district_id, g.departure, r.state"
    );
    sqlx::query(&sql)
        .bind(s.from_ts)
        .bind(s.to_ts)
        .bind(s.district.unwrap_or(-1))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(VisitorRegistration {
                district_id: r.try_get("district_id")?,
                departure: r.try_get("departure")?,
                state: r.try_get("rstate")?,
                visitors: r.try_get("n")?,
            })
        })
        .collect()
}

/// Every district, retired ones too (old groups may belong to them): (id, name, retired), in
/// display order.
pub async fn districts(pool: &sqlx::AnyPool) -> DbResult<Vec<(i64, String, bool)>> {
    sqlx::query("SELECT id, name, retired FROM districts ORDER BY sort, id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("name")?,
                r.try_get::<i64, _>("retired")? != 0,
            ))
        })
        .collect()
}

/// Chinese names of every country by alpha-3, retired entries too.
pub async fn country_names(pool: &sqlx::AnyPool) -> DbResult<HashMap<String, String>> {
    sqlx::query("SELECT alpha3, name_zh FROM countries")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("alpha3")?, r.try_get("name_zh")?)))
        .collect()
}

/// Chinese names of the codes of a kind (e.g. "purpose"), retired entries too.
pub async fn code_names(pool: &sqlx::AnyPool, kind: &str) -> DbResult<HashMap<String, String>> {
    sqlx::query("SELECT code, name_zh FROM codes WHERE kind = $1")
        .bind(kind)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("name_zh")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_are_beijing_dates() {
        // 2026-01-31 16:00 UTC is 2026-02-01 00:00 in Beijing.
        let ts = 1_769_875_200;
        assert_eq!((ts + 28800) / 86400, 20485);
        assert_eq!(date_of_day(20485).to_string(), "2026-02-01");
        assert_eq!(
            date_of_day((ts - 1 + 28800) / 86400).to_string(),
            "2026-01-31"
        );
    }
}
