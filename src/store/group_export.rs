//! What exports of groups add beyond their rows: the visitors (with their visas and employers)
//! and the itineraries of many groups, read a thousand groups to a statement.

use sqlx::Row;

use super::sql::{id_list, DbResult};
use crate::domain::group::{parse_date, VisitorData};
use crate::domain::group_fields::ItineraryRow;

const CHUNK: usize = 1000;

fn date(r: &sqlx::any::AnyRow, col: &str) -> DbResult<chrono::NaiveDate> {
    let s: String = r.try_get(col)?;
    parse_date(&s).ok_or_else(|| sqlx::Error::Decode(format!("bad date in {col}").into()))
}

/// The visitors of these groups: (group id, seq, data), by group then seq.
pub async fn visitors(pool: &sqlx::AnyPool, ids: &[i64]) -> DbResult<Vec<(i64, i64, VisitorData)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = sqlx::query(&format!(
            "SELECT group_id, seq, surname, given_name, sex, birth_date, nationality, passport_no,
                passport_expiry, employer, position, visa_type, stay_days, employer_country,
                employer_city, employer_address
             FROM group_visitors WHERE group_id IN ({}) ORDER BY group_id, seq, id",
            id_list(chunk)
        ))
        .fetch_all(pool)
        .await?;
        for r in &rows {
            out.push((
                r.try_get("group_id")?,
                r.try_get("seq")?,
                VisitorData {
                    surname: r.try_get("surname")?,
                    given_name: r.try_get("given_name")?,
                    sex: r.try_get("sex")?,
                    birth_date: date(r, "birth_date")?,
                    nationality: r.try_get("nationality")?,
                    passport_no: r.try_get("passport_no")?,
                    passport_expiry: date(r, "passport_expiry")?,
                    employer: r.try_get("employer")?,
                    position: r.try_get("position")?,
                    visa_type: r.try_get("visa_type")?,
                    stay_days: r.try_get("stay_days")?,
                    employer_country: r.try_get("employer_country")?,
                    employer_city: r.try_get("employer_city")?,
                    employer_address: r.try_get("employer_address")?,
                },
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
