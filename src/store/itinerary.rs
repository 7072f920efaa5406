//! 在华日程: the rows of a group's itinerary (migration 0017), kept in date order.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::group::parse_date;
use crate::domain::group_fields::ItineraryRow;

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<ItineraryRow> {
    let day: String = r.try_get("day")?;
    Ok(ItineraryRow {
        date: parse_date(&day)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad itinerary date {day:?}").into()))?,
        city: r.try_get("city")?,
        activity: r.try_get("activity")?,
        host: r.try_get("host")?,
    })
}

/// The itinerary of a group, in order.
pub async fn of_group(pool: &sqlx::AnyPool, group_id: i64) -> DbResult<Vec<ItineraryRow>> {
    sqlx::query(
        "SELECT day, city, activity, host FROM group_itinerary WHERE group_id = $1
         ORDER BY seq, id",
    )
    .bind(group_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Replaces the itinerary of a group (in the transaction that saves the group).
pub async fn save(conn: &mut Conn, group_id: i64, rows: &[ItineraryRow]) -> DbResult<()> {
    sqlx::query("DELETE FROM group_itinerary WHERE group_id = $1")
        .bind(group_id)
        .execute(&mut *conn)
        .await?;
    insert(conn, group_id, rows).await
}

async fn insert(conn: &mut Conn, group_id: i64, rows: &[ItineraryRow]) -> DbResult<()> {
    let numbered: Vec<(i64, i64, &ItineraryRow)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (group_id, i as i64 + 1, r))
        .collect();
    insert_rows(conn, &numbered).await
}

/// Inserts (group id, seq, row) with multi-row INSERTs.
async fn insert_rows(conn: &mut Conn, rows: &[(i64, i64, &ItineraryRow)]) -> DbResult<()> {
    const COLS: usize = 6;
    for chunk in rows.chunks(super::bulk::rows_per_insert(conn, COLS)) {
        let sql = format!(
            "INSERT INTO group_itinerary (group_id, seq, day, city, activity, host) VALUES {}",
            super::bulk::values_placeholders(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for (group_id, seq, r) in chunk {
            q = q
                .bind(*group_id)
                .bind(*seq)
                .bind(r.date.to_string())
                .bind(r.city.as_str())
                .bind(r.activity.as_str())
                .bind(r.host.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Bulk loading (the synthetic data generator): the itineraries of many new groups.
pub async fn import(conn: &mut Conn, groups: &[(i64, &[ItineraryRow])]) -> DbResult<()> {
    let rows: Vec<(i64, i64, &ItineraryRow)> = groups
        .iter()
        .flat_map(|(g, rows)| {
            rows.iter()
                .enumerate()
                .map(move |(i, r)| (*g, i as i64 + 1, r))
        })
        .collect();
    insert_rows(conn, &rows).await
}
