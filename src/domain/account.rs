//! The rules of accounts: sign-in lockout and what an SMS verification code is for.

/// Consecutive failed sign-ins that lock a login ID.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked login ID stays locked.
pub const LOCK_SECS: i64 = 15 * 60;

/// What an SMS verification code is for: a code for one purpose does not serve another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePurpose {
    /// The registration wizard's mobile number.
    Register,
    /// Password recovery (找回密码).
    Reset,
    /// Binding a new mobile number to a unit account.
    Rebind,
}

impl CodePurpose {
    /// The `purpose` column's value (also part of the code's hash).
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Register => "register",
            CodePurpose::Reset => "reset",
            CodePurpose::Rebind => "rebind",
        }
    }
}
