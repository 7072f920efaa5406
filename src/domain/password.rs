//! 密码 (password) strength rules.
//!
//! * 8–64 characters (Unicode scalar values, not bytes).  The password is
//!   **not** trimmed: leading or trailing spaces are part of it.
//! * At least three of four classes: ASCII upper-case letter, ASCII
//!   lower-case letter, ASCII digit, symbol.  Every other character counts as
//!   a symbol — punctuation, spaces (ASCII or full-width), Chinese
//!   characters, non-ASCII letters and digits alike.  Spaces are allowed
//!   because passphrases are a good thing and the clerk types the password
//!   twice anyway.
//! * Control characters (tab, newline, NUL, …) are rejected: they cannot be
//!   typed reliably into a password field.
//! * It must not contain the login ID, ignoring case (a login ID of fewer than three
//!   characters is not looked for).
//! * It must not be one of the 10,000 most common passwords, ignoring case
//!   (`common_passwords.txt`: the first 10,000 of the frequency-ordered list of zxcvbn, MIT
//!   licence, Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.; lower-cased and sorted).
//!
//! [`Password`] deliberately implements neither `Display` nor a revealing
//! `Debug`; use [`Password::expose`] at the single place that hashes it.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use thiserror::Error;

use super::fields::FieldErrors;

/// Minimum length in characters.
pub const MIN_CHARS: usize = 8;
/// Maximum length in characters.
pub const MAX_CHARS: usize = 64;

/// Why a password was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    /// Nothing was entered.
    #[error("请填写密码")]
    Empty,
    /// Fewer than 8 or more than 64 characters.
    #[error("密码应为8至64个字符")]
    Length,
    /// Contains a control character such as a tab or line break.
    #[error("密码不能包含换行、制表符等控制字符")]
    ControlChar,
    /// Fewer than three character classes.
    #[error("密码须包含大写字母、小写字母、数字、符号中的至少三类")]
    TooSimple,
    /// Contains the login ID, ignoring case.
    #[error("密码不能包含登录ID")]
    SameAsLoginId,
    /// One of the most common passwords.
    #[error("该密码过于常见，容易被猜中，请换一个")]
    Common,
}

/// The 10,000 most common passwords, lower-cased.
fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| include_str!("common_passwords.txt").lines().collect())
}

/// Whether `password` is one of the 10,000 most common passwords, ignoring case.
pub fn is_common(password: &str) -> bool {
    common().contains(password.to_lowercase().as_str())
}

/// A password that satisfies the strength rules.  Its `Debug` output is
/// redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Number of distinct classes among upper, lower, digit, symbol.
fn class_count(password: &str) -> usize {
    let (mut upper, mut lower, mut digit, mut symbol) = (false, false, false, false);
    for c in password.chars() {
        if c.is_ascii_uppercase() {
            upper = true;
        } else if c.is_ascii_lowercase() {
            lower = true;
        } else if c.is_ascii_digit() {
            digit = true;
        } else {
            symbol = true;
        }
    }
    [upper, lower, digit, symbol].iter().filter(|&&b| b).count()
}

impl Password {
    /// Validates `password` for the user whose login ID is `login_id` (the
    /// login ID is trimmed before comparison; an empty one is ignored).
    ///
    /// Checks run in the order empty → length → control characters → login
    /// ID → character classes → common; the first failure is reported.
    pub fn parse(password: &str, login_id: &str) -> Result<Password, PasswordError> {
        if password.is_empty() {
            return Err(PasswordError::Empty);
        }
        let len = password.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&len) {
            return Err(PasswordError::Length);
        }
        if password.chars().any(char::is_control) {
            return Err(PasswordError::ControlChar);
        }
        let login_id = login_id.trim().to_lowercase();
        if login_id.chars().count() >= 3 && password.to_lowercase().contains(&login_id) {
            return Err(PasswordError::SameAsLoginId);
        }
        if class_count(password) < 3 {
            return Err(PasswordError::TooSimple);
        }
        if is_common(password) {
            return Err(PasswordError::Common);
        }
        Ok(Password(password.to_owned()))
    }

    /// The plain-text password, for hashing.  Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Checks a new password typed twice against the rules.
pub fn check_new_password(
    pw: &str,
    pw2: &str,
    login_id: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    match Password::parse(pw, login_id) {
        Ok(p) if pw == pw2 => Some(p.expose().to_string()),
        Ok(_) => {
            errors.add("password2", "两次输入的密码不一致");
            None
        }
        Err(e) => {
            errors.add("password", e.to_string());
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_strong_passwords() {
        for pw in [
            "Abcdefx1",              // upper, lower, digit
            "abcdefg1!",             // lower, digit, symbol
            "ABCDEFG1#",             // upper, digit, symbol
            "Abcdefgh!",             // upper, lower, symbol
            "correct Horse battery", // space counts as symbol
            "密码Password",          // Chinese counts as symbol
            " Abcdefg1 ",            // not trimmed
        ] {
            let parsed = Password::parse(pw, "zhangsan").unwrap();
            assert_eq!(parsed.expose(), pw);
        }
    }

    #[test]
    fn empty() {
        assert_eq!(Password::parse("", "zhangsan"), Err(PasswordError::Empty));
    }

    #[test]
    fn length_limits_count_characters() {
        assert_eq!(
            Password::parse("Abcde1!", "zhangsan"),
            Err(PasswordError::Length)
        );
        assert!(Password::parse("Abcdef1!", "zhangsan").is_ok());
        let max = format!("Ab1{}", "x".repeat(61));
        assert_eq!(max.chars().count(), 64);
        assert!(Password::parse(&max, "zhangsan").is_ok());
        let too_long = format!("{max}x");
        assert_eq!(
            Password::parse(&too_long, "zhangsan"),
            Err(PasswordError::Length)
        );
        // 8 characters, more than 8 bytes.
        assert!(Password::parse("密码Ab12中文", "zhangsan").is_ok());
        // 64 Chinese characters plus classes would be 67: too long.
        let cjk = format!("Ab1{}", "中".repeat(62));
        assert_eq!(
            Password::parse(&cjk, "zhangsan"),
            Err(PasswordError::Length)
        );
        // Only spaces: right length, one class.
        assert_eq!(
            Password::parse("        ", "zhangsan"),
            Err(PasswordError::TooSimple)
        );
    }

    #[test]
    fn too_few_classes() {
        for pw in [
            "abcdefgh",
            "ABCDEFGH",
            "12345678",
            "!@#$%^&*",
            "abcd1234",
            "ABCD1234",
            "abcdEFGH",
            "abcd!@#$",
            "中文密码很长很长",
        ] {
            assert_eq!(
                Password::parse(pw, "zhangsan"),
                Err(PasswordError::TooSimple),
                "{pw}"
            );
        }
    }

    #[test]
    fn control_characters_rejected() {
        for pw in ["Abcdef1\t!", "Abcdef1\n!", "Abcdef1\0!", "Abcdef1\u{7F}!"] {
            assert_eq!(
                Password::parse(pw, "zhangsan"),
                Err(PasswordError::ControlChar)
            );
        }
    }

    #[test]
    fn must_differ_from_login_id() {
        assert_eq!(
            Password::parse("ZhangSan2024", "zhangsan2024"),
            Err(PasswordError::SameAsLoginId)
        );
        assert_eq!(
            Password::parse("zhangsan2024", " ZHANGSAN2024 "),
            Err(PasswordError::SameAsLoginId)
        );
        // Containing the login ID is refused too.
        assert_eq!(
            Password::parse("ZhangSan2024!", "zhangsan2024"),
            Err(PasswordError::SameAsLoginId)
        );
        assert_eq!(
            Password::parse("My-admin-Pass9", "Admin"),
            Err(PasswordError::SameAsLoginId)
        );
        // Empty and very short login IDs are not looked for.
        assert!(Password::parse("Abcdefx1", "").is_ok());
        assert!(Password::parse("Abxdefg1", "ab").is_ok());
    }

    #[test]
    fn common_passwords_refused_whatever_the_case() {
        for pw in [
            "Password1",
            "PassWord1",
            "Qwerty123",
            "Iloveyou1",
            "Abcdefg1",
        ] {
            assert_eq!(
                Password::parse(pw, "zhangsan"),
                Err(PasswordError::Common),
                "{pw}"
            );
        }
        assert_eq!(common().len(), 10_000);
        assert!(is_common("123456") && is_common("password"));
        assert!(!is_common("Wq7#pLz!9vRt"));
    }

    #[test]
    fn debug_is_redacted() {
        let pw = Password::parse("Secret123!", "zhangsan").unwrap();
        let debug = format!("{pw:?}");
        assert!(!debug.contains("Secret"));
        assert_eq!(debug, "Password(***)");
        let nested = format!("{:?}", Some(pw));
        assert!(!nested.contains("Secret"));
    }

    #[test]
    fn error_messages() {
        assert_eq!(PasswordError::Empty.to_string(), "请填写密码");
        assert_eq!(PasswordError::Length.to_string(), "密码应为8至64个字符");
        assert_eq!(
            PasswordError::TooSimple.to_string(),
            "密码须包含大写字母、小写字母、数字、符号中的至少三类"
        );
        assert_eq!(
            PasswordError::SameAsLoginId.to_string(),
            "密码不能包含登录ID"
        );
        assert_eq!(
            PasswordError::ControlChar.to_string(),
            "密码不能包含换行、制表符等控制字符"
        );
    }

    proptest! {
        #[test]
        fn three_classes_always_accepted(
            upper in "[A-Z]{1,20}",
            lower in "[a-z]{1,20}",
            digits in "[0-9]{1,20}",
            pad in "[a-z]{8}",
        ) {
            let pw = format!("{upper}{lower}{digits}{pad}");
            prop_assume!(pw.chars().count() <= MAX_CHARS);
            let parsed = Password::parse(&pw, "someone").unwrap();
            prop_assert_eq!(parsed.expose(), pw.as_str());
        }

        #[test]
        fn accepted_passwords_obey_rules(pw in "\\PC{0,70}", login in "[A-Za-z0-9]{0,12}") {
            if let Ok(p) = Password::parse(&pw, &login) {
                let n = p.expose().chars().count();
                prop_assert!((MIN_CHARS..=MAX_CHARS).contains(&n));
                prop_assert!(class_count(p.expose()) >= 3);
                prop_assert!(
                    login.len() < 3 || !p.expose().to_lowercase().contains(&login.to_lowercase())
                );
                prop_assert!(!is_common(p.expose()));
                prop_assert_eq!(format!("{p:?}"), "Password(***)");
            }
        }

        #[test]
        fn two_classes_always_rejected(pw in "[a-z0-9]{8,64}") {
            prop_assert!(Password::parse(&pw, "someone").is_err());
        }
    }
}
