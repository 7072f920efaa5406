//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Layout of the 18 characters:
//!
//! | position | meaning                                   |
//! |----------|-------------------------------------------|
//! | 1        | registration authority (登记管理部门) code |
//! | 2        | organisation category (机构类别) code      |
//! | 3–8      | administrative division code              |
//! | 9–17     | organisation identifier                   |
//! | 18       | check character                           |
//!
//! All characters come from the 31-character set
//! `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, Z, S, V).  The check
//! character is `31 - (Σ value(cᵢ)·wᵢ mod 31)` with the value 31 mapped to 0,
//! turned back into a character by its index in that set.

use std::fmt;

use thiserror::Error;

/// The GB 32100-2015 character set; a character's value is its index here.
pub const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights for positions 1..=17 (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Registration authority codes accepted in position 1: 1–9 (机构编制、外交、
/// 司法行政、文化、民政、旅游、宗教、工会、市场监管), A (中央军委改革和编制办公室),
/// N (农业), Y (其他).
const AUTHORITY_CODES: &str = "123456789ANY";

/// Why a unified social credit code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreditCodeError {
    /// Nothing but whitespace was entered.
    #[error("请填写统一社会信用代码")]
    Empty,
    /// Not exactly 18 characters after trimming.
    #[error("统一社会信用代码应为18位")]
    Length,
    /// A character outside the GB 32100 set, or an unknown registration
    /// authority code in position 1.
    #[error("统一社会信用代码含有无效字符")]
    Charset,
    /// The 18th character does not match the computed check character.
    #[error("统一社会信用代码校验位错误，请核对")]
    Checksum,
}

/// A validated unified social credit code: 18 upper-case characters with a
/// correct check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Value (index in [`CHARSET`]) of an upper-case character.
fn value_of(c: char) -> Option<u32> {
    CHARSET
        .chars()
        .position(|x| x == c)
        .and_then(|i| u32::try_from(i).ok())
}

/// Character of a value in `0..31`.
fn char_of(value: u32) -> Option<char> {
    usize::try_from(value)
        .ok()
        .and_then(|i| CHARSET.chars().nth(i))
}

/// Computes the check character (position 18) for the first 17 characters.
///
/// Lower-case letters are accepted (they are upper-cased first).  Returns
/// `None` unless `first17` is exactly 17 characters from [`CHARSET`].  Only
/// the character set is checked here, not the registration authority code,
/// so data generators must themselves pick a valid first character
/// (1–9, A, N or Y) for the result to pass [`CreditCode::parse`].
pub fn check_char(first17: &str) -> Option<char> {
    let mut count = 0usize;
    let mut sum = 0u32;
    for (i, c) in first17.chars().enumerate() {
        let weight = *WEIGHTS.get(i)?;
        sum += value_of(c.to_ascii_uppercase())? * weight;
        count += 1;
    }
    if count != WEIGHTS.len() {
        return None;
    }
    let check = (31 - sum % 31) % 31;
    char_of(check)
}

impl CreditCode {
    /// Parses and validates a unified social credit code.
    ///
    /// Surrounding whitespace is trimmed and letters are upper-cased.  Checks
    /// are applied in the order empty → length → character set → check
    /// character, and the first failure is reported.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        if trimmed.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        let code = trimmed.to_ascii_uppercase();
        if !code.chars().all(|c| value_of(c).is_some()) {
            return Err(CreditCodeError::Charset);
        }
        if !code
            .chars()
            .next()
            .is_some_and(|c| AUTHORITY_CODES.contains(c))
        {
            return Err(CreditCodeError::Charset);
        }
        // All 18 characters are ASCII here, so byte slicing is safe.
        let (first17, last) = code.split_at(17);
        match check_char(first17) {
            Some(expected) if last.chars().eq(std::iter::once(expected)) => Ok(CreditCode(code)),
            _ => Err(CreditCodeError::Checksum),
        }
    }

    /// The normalised (trimmed, upper-case) code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Codes whose check character was verified against the algorithm
    /// (independently, with a separate script) before being put here.
    const VALID: [&str; 6] = [
        "914403001922038216",
        "91330100799655058B",
        "91440300708461136T",
        "91110108551385082Q",
        "91110000802100433B",
        "91110000710925462X",
    ];

    #[test]
    fn accepts_verified_codes() {
        for code in VALID {
            let parsed = CreditCode::parse(code).unwrap();
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
        }
    }

    #[test]
    fn check_char_matches_verified_codes() {
        for code in VALID {
            let expected = code.chars().last().unwrap();
            assert_eq!(check_char(&code[..17]), Some(expected), "{code}");
        }
    }

    #[test]
    fn check_char_arithmetic() {
        // 9·1 + 1·3 = 12 → 31 − 12 = 19 → 'K'.
        assert_eq!(check_char("91000000000000000"), Some('K'));
        // 1·1 = 1 → 30 → 'Y'.
        assert_eq!(check_char("10000000000000000"), Some('Y'));
        // 'Y' (30)·1 = 30 → 1 → '1'.
        assert_eq!(check_char("Y0000000000000000"), Some('1'));
        // 30·1 + 1·3 = 33 ≡ 2 → 29 → 'X'.
        assert_eq!(check_char("Y1000000000000000"), Some('X'));
    }

    #[test]
    fn check_value_31_maps_to_zero() {
        // Seventeen zeros: sum 0 → 31 − 0 = 31 → 0 → '0'.
        assert_eq!(check_char("00000000000000000"), Some('0'));
        // 1·1 + 'A'(10)·3 = 31 ≡ 0 → 31 → '0'.
        assert_eq!(check_char("1A000000000000000"), Some('0'));
        assert!(CreditCode::parse("1A0000000000000000").is_ok());
        assert_eq!(
            CreditCode::parse("1A000000000000000Y"),
            Err(CreditCodeError::Checksum)
        );
    }

    #[test]
    fn check_char_rejects_bad_input() {
        assert_eq!(check_char(""), None);
        assert_eq!(check_char("9144030019220382"), None); // 16
        assert_eq!(check_char("914403001922038216"), None); // 18
        assert_eq!(check_char("9144030019220382I"), None); // I not allowed
        assert_eq!(check_char("9144030019220382中"), None);
    }

    #[test]
    fn lowercase_and_whitespace_are_normalised() {
        let parsed = CreditCode::parse("  91330100799655058b\t\n").unwrap();
        assert_eq!(parsed.as_str(), "91330100799655058B");
        let parsed = CreditCode::parse("\u{3000}91110000710925462x\u{3000}").unwrap();
        assert_eq!(parsed.as_str(), "91110000710925462X");
    }

    #[test]
    fn empty_input() {
        assert_eq!(CreditCode::parse(""), Err(CreditCodeError::Empty));
        assert_eq!(CreditCode::parse("   \t "), Err(CreditCodeError::Empty));
    }

    #[test]
    fn wrong_length() {
        assert_eq!(
            CreditCode::parse("91440300708461136"),
            Err(CreditCodeError::Length)
        );
        assert_eq!(
            CreditCode::parse("91440300708461136T0"),
            Err(CreditCodeError::Length)
        );
        // Interior whitespace is not removed.
        assert_eq!(
            CreditCode::parse("914403 00708461136T"),
            Err(CreditCodeError::Length)
        );
        // Length is counted in characters, not bytes.
        assert_eq!(
            CreditCode::parse("一二三四五六七八九十一二三四五六七八"),
            Err(CreditCodeError::Charset)
        );
    }

    #[test]
    fn invalid_characters() {
        for bad in ["I", "O", "Z", "S", "V", "-", " ", "中"] {
            let code = format!("9144030070846113{bad}T");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::Charset),
                "{code}"
            );
        }
    }

    #[test]
    fn registration_authority_code() {
        for first in "123456789ANY".chars() {
            let first17 = format!("{first}1440300708461136");
            let code = format!("{first17}{}", check_char(&first17).unwrap());
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
        }
        for first in "0BCDEFGHJKLMPQRTUWX".chars() {
            let first17 = format!("{first}1440300708461136");
            let code = format!("{first17}{}", check_char(&first17).unwrap());
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::Charset),
                "{code}"
            );
        }
    }

    #[test]
    fn wrong_check_character() {
        assert_eq!(
            CreditCode::parse("91440300708461136U"),
            Err(CreditCodeError::Checksum)
        );
        assert_eq!(
            CreditCode::parse("914403001922038217"),
            Err(CreditCodeError::Checksum)
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(CreditCodeError::Empty.to_string(), "请填写统一社会信用代码");
        assert_eq!(
            CreditCodeError::Length.to_string(),
            "统一社会信用代码应为18位"
        );
        assert_eq!(
            CreditCodeError::Charset.to_string(),
            "统一社会信用代码含有无效字符"
        );
        assert_eq!(
            CreditCodeError::Checksum.to_string(),
            "统一社会信用代码校验位错误，请核对"
        );
    }

    fn charset_chars() -> Vec<char> {
        CHARSET.chars().collect()
    }

    /// Valid codes: authority code + 16 random charset characters + check.
    fn valid_code() -> impl Strategy<Value = String> {
        (
            prop::sample::select(AUTHORITY_CODES.chars().collect::<Vec<_>>()),
            prop::collection::vec(prop::sample::select(charset_chars()), 16),
        )
            .prop_map(|(first, rest)| {
                let mut code = String::with_capacity(18);
                code.push(first);
                code.extend(rest);
                let check = check_char(&code).unwrap();
                code.push(check);
                code
            })
    }

    fn replace_at(code: &str, pos: usize, c: char) -> String {
        code.chars()
            .enumerate()
            .map(|(i, x)| if i == pos { c } else { x })
            .collect()
    }

    proptest! {
        #[test]
        fn generated_codes_parse(code in valid_code()) {
            let parsed = CreditCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            let lower = format!("  {} ", code.to_ascii_lowercase());
            prop_assert_eq!(CreditCode::parse(&lower).unwrap(), parsed);
        }

        #[test]
        fn single_character_mutation_is_rejected(
            code in valid_code(),
            pos in 0usize..18,
            replacement in prop::sample::select(charset_chars()),
        ) {
            let original = code.chars().nth(pos).unwrap();
            prop_assume!(original != replacement);
            let mutated = replace_at(&code, pos, replacement);
            prop_assert!(CreditCode::parse(&mutated).is_err(), "{} accepted", mutated);
        }

        #[test]
        fn adjacent_transposition(code in valid_code(), pos in 0usize..17) {
            let chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[pos] != chars[pos + 1]);
            let mut swapped = chars.clone();
            swapped.swap(pos, pos + 1);
            let swapped: String = swapped.into_iter().collect();
            let result = CreditCode::parse(&swapped);
            if pos < 16 {
                // Adjacent weights differ mod 31 (a prime), so swapping two
                // different characters among the first 17 always changes
                // the weighted sum and hence the check character.
                prop_assert!(result.is_err(), "{} accepted", swapped);
            } else {
                // Swapping character 17 with the check character is caught
                // only if the check character actually changes: compute it.
                let first17: String = swapped.chars().take(17).collect();
                let last = swapped.chars().nth(17).unwrap();
                let consistent = check_char(&first17) == Some(last);
                prop_assert_eq!(result.is_ok(), consistent);
            }
        }

        #[test]
        fn never_panics(input in "\\PC{0,40}") {
            let _ = CreditCode::parse(&input);
        }
    }
}
