//! Database access, one module per area. Queries are written once for SQLite and PostgreSQL.

pub mod audit;
pub mod flows;
pub mod groups;
pub mod messages;
pub mod refadmin;
pub mod reference;
pub mod refs;
pub mod sessions;
pub mod sms_codes;
pub mod stats;
pub mod units;
pub mod users;
pub mod visits;

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

/// Who did something, for the audit log and message senders.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
    pub ip: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            label: "系统".into(),
            ip: "-".into(),
        }
    }
    pub fn anonymous(ip: &str) -> Actor {
        Actor {
            user_id: None,
            label: "匿名用户".into(),
            ip: ip.into(),
        }
    }
}
