//! What every store module shares: the result and connection types, and helpers that write
//! ids and district filters into statements.

pub type DbResult<T> = Result<T, sqlx::Error>;
pub type Conn = sqlx::AnyConnection;

/// ` AND <alias>.district_id = <id>` for county staff, nothing for the city: written into the
/// statement (an id) rather than a generic `($n < 0 OR …)`, which PostgreSQL's cached plans
/// cannot simplify. `alias` is the unit (`u`), or a group or registration, which carry their
/// unit's district (migration 0013).
pub(crate) fn district_filter(alias: &str, district: Option<i64>) -> String {
    district.map_or(String::new(), |d| format!(" AND {alias}.district_id = {d}"))
}

/// ` AND u.district_id = <id>`: see [`district_filter`].
pub(crate) fn in_district(district: Option<i64>) -> String {
    district_filter("u", district)
}

/// `1, 2, 3`: ids written into a statement (integers, so nothing to escape).
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
