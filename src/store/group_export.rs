//! What exports of groups add beyond their rows: the visitors (with their visas and employers)
//! and the itineraries of many groups, read a thousand groups to a statement.

use sqlx::Row;

use super::groups::{date, visitor_data, VISITOR_DATA_COLUMNS};
use super::sql::{id_list, DbResult};
use crate::domain::group::VisitorData;
use crate::domain::group_fields::ItineraryRow;
use crate::keys::KeyRing;

const CHUNK: usize = 1000;

/// The visitors of these groups: (group id, seq, data), by group then seq.
pub async fn visitors(
    pool: &sqlx::AnyPool,
    keys: &KeyRing,
    ids: &[i64],
) -> DbResult<Vec<(i64, i64, VisitorData)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = sqlx::query(&format!(
            "SELECT group_id, seq, {VISITOR_DATA_COLUMNS}
             FROM group_visitors WHERE group_id IN ({}) AND passport_no <> ''
             ORDER BY group_id, seq, id",
            id_list(chunk)
        ))
        .fetch_all(pool)
        .await?;
        for r in &rows {
            out.push((
                r.try_get("group_id")?,
                r.try_get("seq")?,
                visitor_data(keys, r)?,
            ));
        }
    }
    Ok(out)
}

/// The itineraries of these groups: (group id, row), by group then date.
pub async fn itineraries(pool: &sqlx::AnyPool, ids: &[i64]) -> DbResult<Vec<(i64, ItineraryRow)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = sqlx::query(&format!(
            "SELECT group_id, day, city, activity, host FROM group_itinerary
             WHERE group_id IN ({}) ORDER BY group_id, seq, id",
            id_list(chunk)
        ))
        .fetch_all(pool)
        .await?;
        for r in &rows {
            out.push((
                r.try_get("group_id")?,
                ItineraryRow {
                    date: date(r, "day")?,
                    city: r.try_get("city")?,
                    activity: r.try_get("activity")?,
                    host: r.try_get("host")?,
                },
            ));
        }
    }
    Ok(out)
}
