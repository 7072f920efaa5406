//! Database access, one module per area. Queries are written once for SQLite and PostgreSQL.

pub mod access;
pub mod api_tokens;
pub mod attempts;
pub mod audit;
pub mod bulk;
pub mod data_keys;
pub mod dump;
pub mod file_locks;
pub mod flows;
pub mod group_export;
pub mod group_paths;
pub mod groups;
pub mod itinerary;
pub mod messages;
pub mod ops;
pub mod queues;
pub mod ratings;
pub mod refadmin;
pub mod reference;
pub mod refs;
pub mod retention;
pub mod sealed;
pub mod second_factors;
pub mod sessions;
pub mod sms_codes;
pub mod sms_queue;
pub mod sql;
pub mod stats;
pub mod units;
pub mod users;
pub mod visits;

pub use crate::domain::principal::Actor;
pub use sql::{Conn, DbResult};
