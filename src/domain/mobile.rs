//! 手机号码 (mainland China mobile number).
//!
//! Normalisation: surrounding whitespace is trimmed, then every whitespace
//! character and hyphen is removed (`138 1234 5678`, `138-1234-5678`), then a
//! leading `+86` or `86` country code is stripped only when exactly 11 digits
//! follow it.  The result must be 11 ASCII digits, the first `1` and the
//! second `3`–`9`.

use std::fmt;

use thiserror::Error;

/// Why a mobile number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MobileError {
    /// Nothing but whitespace was entered.
    #[error("请填写手机号码")]
    Empty,
    /// Not a mainland mobile number.
    #[error("请输入正确的11位手机号码")]
    Invalid,
}

/// A validated mobile number, stored as 11 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

fn is_eleven_digits(s: &str) -> bool {
    s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Mobile {
    /// A stored number masked for display (`***` if it is not a number).
    pub fn mask(text: &str) -> String {
        Mobile::parse(text)
            .map(|m| m.masked())
            .unwrap_or_else(|_| "***".into())
    }

    /// Parses and normalises a mainland mobile number.
    pub fn parse(input: &str) -> Result<Mobile, MobileError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(MobileError::Empty);
        }
        let compact: String = trimmed
            .chars()
            .filter(|&c| !c.is_whitespace() && c != '-')
            .collect();
        let number = ["+86", "86"]
            .iter()
            .find_map(|prefix| {
                compact
                    .strip_prefix(prefix)
                    .filter(|rest| is_eleven_digits(rest))
            })
            .unwrap_or(&compact);
        let bytes = number.as_bytes();
        let valid = is_eleven_digits(number)
            && bytes.first() == Some(&b'1')
            && bytes.get(1).is_some_and(|b| (b'3'..=b'9').contains(b));
        if valid {
            Ok(Mobile(number.to_owned()))
        } else {
            Err(MobileError::Invalid)
        }
    }

    /// The 11-digit number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with the middle four digits hidden, e.g. `138****5678`.
    pub fn masked(&self) -> String {
        // Always 11 ASCII digits, so byte slicing is safe.
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Mobile {
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
    fn accepts_plain_numbers() {
        for n in ["13812345678", "19912345678", "15000000000", "17012345678"] {
            assert_eq!(Mobile::parse(n).unwrap().as_str(), n);
        }
    }

    #[test]
    fn normalises_formatting() {
        for input in [
            "  13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "8613812345678",
            "86 13812345678",
            "\u{3000}138\u{3000}1234\u{3000}5678",
        ] {
            assert_eq!(
                Mobile::parse(input).unwrap().as_str(),
                "13812345678",
                "{input}"
            );
        }
    }

    #[test]
    fn country_code_only_stripped_before_eleven_digits() {
        // "86" followed by 10 digits is not a country code; 12 digits total.
        assert_eq!(Mobile::parse("861381234567"), Err(MobileError::Invalid));
        assert_eq!(Mobile::parse("+861381234567"), Err(MobileError::Invalid));
        assert_eq!(Mobile::parse("+86138123456789"), Err(MobileError::Invalid));
        // Other country codes are not accepted.
        assert_eq!(Mobile::parse("+8513812345678"), Err(MobileError::Invalid));
        assert_eq!(Mobile::parse("+13812345678"), Err(MobileError::Invalid));
        // "86" followed by an invalid 11-digit number is stripped, then rejected.
        assert_eq!(Mobile::parse("8612345678901"), Err(MobileError::Invalid));
    }

    #[test]
    fn rejects_invalid_numbers() {
        for n in [
            "1381234567",   // 10 digits
            "138123456789", // 12 digits
            "23812345678",  // first digit not 1
            "12812345678",  // second digit 2
            "11812345678",  // second digit 1
            "10812345678",  // second digit 0
            "1381234567a",
            "１３８１２３４５６７８", // full-width digits
            "138_1234_5678",
            "(138)12345678",
            "-",
            "+86",
        ] {
            assert_eq!(Mobile::parse(n), Err(MobileError::Invalid), "{n}");
        }
    }

    #[test]
    fn empty() {
        assert_eq!(Mobile::parse(""), Err(MobileError::Empty));
        assert_eq!(Mobile::parse(" \t "), Err(MobileError::Empty));
    }

    #[test]
    fn masked() {
        let m = Mobile::parse("138-1234-5678").unwrap();
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(m.to_string(), "13812345678");
    }

    #[test]
    fn error_messages() {
        assert_eq!(MobileError::Empty.to_string(), "请填写手机号码");
        assert_eq!(MobileError::Invalid.to_string(), "请输入正确的11位手机号码");
    }

    proptest! {
        #[test]
        fn valid_numbers_round_trip(n in "1[3-9][0-9]{9}") {
            let m = Mobile::parse(&n).unwrap();
            prop_assert_eq!(m.as_str(), n.as_str());
            let spaced = format!("+86 {} {} {}", &n[..3], &n[3..7], &n[7..]);
            prop_assert_eq!(Mobile::parse(&spaced).unwrap(), m.clone());
            let prefixed = format!("86{n}");
            prop_assert_eq!(Mobile::parse(&prefixed).unwrap(), m.clone());
            let masked = m.masked();
            prop_assert_eq!(masked.len(), 11);
            prop_assert_eq!(&masked[..3], &n[..3]);
            prop_assert_eq!(&masked[3..7], "****");
            prop_assert_eq!(&masked[7..], &n[7..]);
        }

        #[test]
        fn accepted_numbers_are_well_formed(input in "[+0-9 \\-]{0,20}") {
            if let Ok(m) = Mobile::parse(&input) {
                let s = m.as_str();
                prop_assert_eq!(s.len(), 11);
                prop_assert!(s.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(s.starts_with('1'));
                prop_assert!((b'3'..=b'9').contains(&s.as_bytes()[1]));
            }
        }

        #[test]
        fn never_panics(input in "\\PC{0,30}") {
            let _ = Mobile::parse(&input);
        }
    }
}
