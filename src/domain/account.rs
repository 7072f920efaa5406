//! The rules of accounts: how many attempts at a secret may be made, and what an SMS
//! verification code is for.
//!
//! # Attempt limits
//!
//! Every guess at a secret (a password, the current password, a second-factor code, a login ID
//! in the registration wizard) first reserves an attempt: one statement adds it to the count of
//! its limit and returns the count, and the secret is checked only when the count is within the
//! limit. Concurrent guesses therefore cannot all be checked: of a burst of any size, at most
//! `max` are. A success gives the reservation back (and, for a sign-in, forgets the account's
//! failures); a failure keeps it. A count starts again `period` seconds after the last attempt
//! that was counted within the limit; refused attempts do not prolong it.
//!
//! Sign-in:
//! - per account: [`SIGN_IN`], 5 failures lock the login ID for 15 minutes;
//! - per address: [`SIGN_IN_ADDRESS`], 30 failures in an hour from one address (spraying many
//!   accounts) refuse every sign-in from it for the rest of the hour;
//! - an address the account signed in from successfully in the last 90 days is *known*: there the
//!   account's own limit is [`SIGN_IN_KNOWN`] (5 failures per account and address) instead of
//!   the account-wide one. So an attacker who keeps an administrator's account locked from
//!   elsewhere never locks the administrator out at the office; and the attacker's own address
//!   is soon refused by the per-address limit.
//!
//! The unknown login ID of a failure is stored shortened to
//! [`MAX_LOGIN_RECORDED`](super::fields::MAX_LOGIN_RECORDED) characters.

/// A limit on attempts: at most `max` within `period` seconds of the last counted one, for each
/// subject (an account, an address…) of a `scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub scope: &'static str,
    pub max: i64,
    pub period: i64,
}

/// Failed sign-ins per login ID (the lockout).
pub const SIGN_IN: Limit = Limit {
    scope: "sign_in",
    max: 5,
    period: 15 * 60,
};
/// Failed sign-ins per login ID from one of its known addresses.
pub const SIGN_IN_KNOWN: Limit = Limit {
    scope: "sign_in_known",
    max: 5,
    period: 15 * 60,
};
/// Failed sign-ins from one address, whatever the account.
pub const SIGN_IN_ADDRESS: Limit = Limit {
    scope: "sign_in_address",
    max: 30,
    period: 3600,
};
/// Wrong current passwords per account (修改密码, rebinding the mobile).
pub const CURRENT_PASSWORD: Limit = Limit {
    scope: "current_password",
    max: 5,
    period: 15 * 60,
};
/// Wrong second-factor codes per account.
pub const SECOND_FACTOR: Limit = Limit {
    scope: "second_factor",
    max: 5,
    period: 15 * 60,
};
/// Login IDs tried in one registration wizard.
pub const LOGIN_ID_CHECK_FLOW: Limit = Limit {
    scope: "login_id_flow",
    max: 10,
    period: 2 * 3600,
};
/// Login IDs tried from one address in the registration wizard.
pub const LOGIN_ID_CHECK_ADDRESS: Limit = Limit {
    scope: "login_id_address",
    max: 30,
    period: 3600,
};
/// Units looked up by credit code and name in 找回密码, per address.
pub const RECOVERY_LOOKUP: Limit = Limit {
    scope: "recovery_lookup",
    max: 20,
    period: 3600,
};
/// SMS codes sent to one number: one per minute…
pub const SMS_RESEND: Limit = Limit {
    scope: "sms_resend",
    max: 1,
    period: 60,
};
/// …and ten a day.
pub const SMS_DAILY: Limit = Limit {
    scope: "sms_daily",
    max: 10,
    period: 86_400,
};
/// SMS codes requested from one address per hour (its maximum is a setting of the server).
pub const SMS_ADDRESS_SCOPE: &str = "sms_address";

/// How long an address an account signed in from stays known.
pub const KNOWN_ADDRESS_SECS: i64 = 90 * 86_400;
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
