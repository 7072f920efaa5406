//! 登录ID (login ID) chosen by a user at registration.
//!
//! Rules: surrounding whitespace is trimmed; 2–32 characters (Unicode scalar
//! values, not bytes); only ASCII letters, ASCII digits and Chinese
//! characters (CJK Unified Ideographs U+4E00–U+9FFF and Extension A
//! U+3400–U+4DBF).  Uniqueness is case-insensitive: compare [`LoginId::key`].

use std::fmt;

use thiserror::Error;

/// Minimum length in characters.
pub const MIN_CHARS: usize = 2;
/// Maximum length in characters.
pub const MAX_CHARS: usize = 32;

/// Why a login ID was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginIdError {
    /// Nothing but whitespace was entered.
    #[error("请填写登录ID")]
    Empty,
    /// Fewer than 2 or more than 32 characters.
    #[error("登录ID应为2至32个字符")]
    Length,
    /// A character that is not an ASCII letter, ASCII digit or Chinese
    /// character.
    #[error("登录ID只能由字母、数字或中文组成")]
    Charset,
}

/// A validated login ID, kept as typed (after trimming).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginId(String);

/// Whether `c` is a Chinese character accepted in login IDs.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_chinese(c)
}

impl LoginId {
    /// Parses and validates a login ID.
    ///
    /// Checks run in the order empty → character set → length, so a
    /// too-short ID containing a forbidden character reports the character
    /// problem (the more useful hint).
    pub fn parse(input: &str) -> Result<LoginId, LoginIdError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(LoginIdError::Empty);
        }
        if !trimmed.chars().all(is_allowed) {
            return Err(LoginIdError::Charset);
        }
        let len = trimmed.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&len) {
            return Err(LoginIdError::Length);
        }
        Ok(LoginId(trimmed.to_owned()))
    }

    /// The login ID as typed (trimmed, case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-cased form for case-insensitive uniqueness checks and lookups.
    /// Chinese characters have no case and are unchanged.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LoginId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_typical_ids() {
        for id in ["ab", "Zhang3", "张三", "外办Admin01", "㐀㐁", "龥A", "a1"] {
            assert_eq!(LoginId::parse(id).unwrap().as_str(), id, "{id}");
        }
    }

    #[test]
    fn trims_and_keeps_case() {
        let id = LoginId::parse("  WangWu88 \t").unwrap();
        assert_eq!(id.as_str(), "WangWu88");
        assert_eq!(id.key(), "wangwu88");
        assert_eq!(id.to_string(), "WangWu88");
        let id = LoginId::parse("\u{3000}李四\u{3000}").unwrap();
        assert_eq!(id.as_str(), "李四");
    }

    #[test]
    fn key_is_case_insensitive() {
        let a = LoginId::parse("ZhangSan").unwrap();
        let b = LoginId::parse("zhangsan").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.key(), b.key());
        assert_eq!(LoginId::parse("张San").unwrap().key(), "张san");
    }

    #[test]
    fn empty() {
        assert_eq!(LoginId::parse(""), Err(LoginIdError::Empty));
        assert_eq!(LoginId::parse("  \n"), Err(LoginIdError::Empty));
    }

    #[test]
    fn length_limits_count_characters() {
        assert_eq!(LoginId::parse("a"), Err(LoginIdError::Length));
        assert_eq!(LoginId::parse("张"), Err(LoginIdError::Length));
        assert!(LoginId::parse(&"a".repeat(32)).is_ok());
        assert_eq!(LoginId::parse(&"a".repeat(33)), Err(LoginIdError::Length));
        // 32 Chinese characters are 96 bytes but only 32 characters.
        assert!(LoginId::parse(&"中".repeat(32)).is_ok());
        assert_eq!(LoginId::parse(&"中".repeat(33)), Err(LoginIdError::Length));
    }

    #[test]
    fn rejects_other_characters() {
        for id in [
            "zhang san",
            "zhang_san",
            "zhang.san",
            "a@b",
            "ｚｈａｎｇ", // full-width letters
            "１２３",     // full-width digits
            "张三。",
            "Ñandú",
            "こんにちは",
            "한국어",
            "a\u{200B}b", // zero-width space
            "😀😀",
            "𠀀𠀁", // Extension B is outside the accepted ranges
            "@",
        ] {
            assert_eq!(LoginId::parse(id), Err(LoginIdError::Charset), "{id}");
        }
    }

    #[test]
    fn range_boundaries() {
        assert!(LoginId::parse("\u{4E00}\u{9FFF}").is_ok());
        assert!(LoginId::parse("\u{3400}\u{4DBF}").is_ok());
        assert_eq!(LoginId::parse("a\u{4DC0}"), Err(LoginIdError::Charset));
        assert_eq!(LoginId::parse("a\u{33FF}"), Err(LoginIdError::Charset));
        assert_eq!(LoginId::parse("a\u{A000}"), Err(LoginIdError::Charset));
    }

    #[test]
    fn error_messages() {
        assert_eq!(LoginIdError::Empty.to_string(), "请填写登录ID");
        assert_eq!(LoginIdError::Length.to_string(), "登录ID应为2至32个字符");
        assert_eq!(
            LoginIdError::Charset.to_string(),
            "登录ID只能由字母、数字或中文组成"
        );
    }

    proptest! {
        #[test]
        fn valid_ids_parse(id in "[A-Za-z0-9\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}]{2,32}") {
            let parsed = LoginId::parse(&format!(" {id} ")).unwrap();
            prop_assert_eq!(parsed.as_str(), id.as_str());
            prop_assert_eq!(parsed.key(), id.to_lowercase());
            let upper = LoginId::parse(&id.to_uppercase()).unwrap();
            prop_assert_eq!(upper.key(), parsed.key());
        }

        #[test]
        fn accepted_ids_obey_rules(input in "\\PC{0,40}") {
            if let Ok(id) = LoginId::parse(&input) {
                let n = id.as_str().chars().count();
                prop_assert!((MIN_CHARS..=MAX_CHARS).contains(&n));
                prop_assert!(id.as_str().chars().all(is_allowed));
                prop_assert_eq!(id.as_str(), input.trim());
            }
        }
    }
}
