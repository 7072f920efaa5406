//! What a workflow function answers when it does not do what was asked.
//!
//! # Error policy
//!
//! Every failure is one of five kinds, and each kind has one treatment everywhere:
//!
//! | kind | when | the user sees | the log |
//! |---|---|---|---|
//! | [`Error::NotFound`] | the record does not exist, **or the principal may not see it** (one answer for both, so nobody learns what exists elsewhere) | 404 "页面不存在或您无权查看" | nothing |
//! | [`Error::Forbidden`] | the principal may see the record but their role may not take this action | 403 "您无权进行此操作" | nothing |
//! | [`Error::Stale`] | the principal's role takes this action, but not in the record's state now: most often someone else acted first (checked in the same `UPDATE … WHERE state = …`); also a unit whose registration is not (or no longer) approved, or a group not yet dispatched | 409 with what happened and what to do (refresh the list) | nothing |
//! | [`Error::Invalid`] | the input breaks a rule; the messages are per field | the same form again, what was typed kept, each message beside its field (a handler that has no form shows the first message, 400) | nothing |
//! | [`Error::Fault`] | anything else: the database, the disk, a bug | 500 "系统繁忙…", nothing internal | `error!` with the whole cause chain |
//!
//! Refusals (the first four) are answers, not faults: they are never logged as errors, and a
//! refusal writes nothing (the transaction is dropped, so it rolls back). Security events that
//! are refusals (a failed sign-in, a lockout) are written to the audit log by the workflow
//! function itself, in their own transaction. A fault is never swallowed: a function that
//! cannot finish returns it, and only work done after the commit that the user does not wait
//! for (an SMS after the state change) may log a fault and go on — it says so where it does.

use crate::domain::fields::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("页面不存在或您无权查看")]
    NotFound,
    #[error("您无权进行此操作")]
    Forbidden,
    #[error("{0}")]
    Stale(String),
    #[error("{}", first_message(.0))]
    Invalid(FieldErrors),
    #[error("internal error: {0:#}")]
    Fault(#[from] anyhow::Error),
}

fn first_message(e: &FieldErrors) -> String {
    e.first().unwrap_or("输入有误").to_string()
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Fault(e.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Fault(e.into())
    }
}

impl Error {
    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        let mut e = FieldErrors::new();
        e.add(field, message);
        Error::Invalid(e)
    }
}

pub type Outcome<T> = Result<T, Error>;
