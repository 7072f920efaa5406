//! The rules of the system, one module per area: each function takes the application state
//! (database, files, clock), the acting [`Principal`](crate::domain::principal::Principal) and
//! parsed input, checks what the principal may do in the record's current state, does it in one
//! transaction with its audit entry and notifications, and returns a result or a typed
//! refusal ([`error::Error`]). The pages call these functions; so will the API. No HTML, no URLs.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod api_tokens;
pub mod attempts;
pub mod audit_log;
pub mod entry;
pub mod error;
pub mod files;
pub mod group_fields;
pub mod group_paths;
pub mod groups;
pub mod messages;
pub mod navigation;
pub mod notices;
pub mod notify;
pub mod ops;
pub mod oversight;
pub mod ratings;
pub mod refdata;
pub mod reference;
pub mod registration;
pub mod retention;
pub mod roles;
pub mod sealing;
pub mod second_factor;
pub mod settings;
pub mod sms;
pub mod verify;
pub mod visits;
