//! The machine-readable zone of a passport (ICAO Doc 9303 part 4, TD3: two lines of 44
//! characters), as pasted from a scan or typed by a desk passport reader (issue 19): the
//! fields a visitor's form needs, after every check digit and the composite check.

use chrono::{Datelike, NaiveDate};

use super::group::VisitorForm;

/// What the zone gives a visitor's form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mrz {
    /// The issuing state (ICAO code as printed, e.g. `D` for Germany).
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    pub passport_no: String,
    /// ISO 3166-1 alpha-3 where the ICAO code differs (`D` → `DEU`, British variants → `GBR`).
    pub nationality: String,
    /// `M`, `F`, or empty when unspecified (`<`, `X`).
    pub sex: String,
    pub birth_date: NaiveDate,
    pub expiry: NaiveDate,
}

/// Why a zone was refused, worded for the clerk.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("机读区应为两行、每行44个字符（护照首页底部以“P<”开头的两行）")]
    Shape,
    #[error("机读区第一行应以“P”开头（护照）")]
    NotPassport,
    #[error("机读区含有无效字符“{0}”（只能是大写字母、数字和“<”）")]
    Character(char),
    #[error("{0}校验位不符，请核对机读区第二行")]
    CheckDigit(&'static str),
    #[error("{0}不是有效的日期")]
    Date(&'static str),
}

impl Mrz {
    /// Fills the passport's fields of a visitor's form (and empties its pasted zone); the
    /// nationality only when `known` (the reference list has it), else it is left as it was.
    pub fn fill(&self, v: &mut VisitorForm, known: bool) {
        v.surname = self.surname.clone();
        v.given_name = self.given_names.clone();
        v.sex = self.sex.clone();
        v.birth_date = self.birth_date.to_string();
        v.passport_no = self.passport_no.clone();
        v.passport_expiry = self.expiry.to_string();
        if known {
            v.nationality = self.nationality.clone();
        }
        v.mrz.clear();
    }
}

/// The value of a character in a check-digit computation.
fn value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The check digit of `field` (weights 7, 3, 1 repeated, modulo 10).
pub fn check_digit(field: &[u8]) -> u32 {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    field
        .iter()
        .enumerate()
        .map(|(i, c)| value(*c).unwrap_or(0) * WEIGHTS[i % 3])
        .sum::<u32>()
        % 10
}

/// Whether `digit` is the check digit of `field` (a filler `<` counts as 0, as for an empty
/// optional field).
fn checks(field: &[u8], digit: u8) -> bool {
    value(digit).is_some_and(|d| d < 10 && d == check_digit(field))
}

/// The two lines of a pasted zone: spaces and line breaks dropped, lower case raised (readers
/// and OCR differ), 88 characters in all.
fn lines(text: &str) -> Result<(Vec<u8>, Vec<u8>), MrzError> {
    let cleaned: Vec<u8> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .map(|c| match c {
            // The filler as some readers and fonts give it.
            '«' | '‹' => '<',
            c => c,
        })
        .map(|c| if c.is_ascii() { Ok(c as u8) } else { Err(c) })
        .collect::<Result<_, char>>()
        .map_err(MrzError::Character)?;
    if cleaned.len() != 88 {
        return Err(MrzError::Shape);
    }
    if let Some(c) = cleaned
        .iter()
        .find(|c| value(**c).is_none())
        .map(|c| char::from(*c))
    {
        return Err(MrzError::Character(c));
    }
    let (a, b) = cleaned.split_at(44);
    Ok((a.to_vec(), b.to_vec()))
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field)
        .split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// YYMMDD to a date: a birth date is the latest such date not after `today`; an expiry date
/// is in this century (passports with a machine-readable zone were issued after 1980 and are
/// valid at most ten years).
fn date(
    field: &[u8],
    birth: bool,
    today: NaiveDate,
    what: &'static str,
) -> Result<NaiveDate, MrzError> {
    let s = std::str::from_utf8(field).map_err(|_| MrzError::Date(what))?;
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|v| v.parse::<u32>().ok());
    let (Some(yy), Some(mm), Some(dd)) = (n(0..2), n(2..4), n(4..6)) else {
        return Err(MrzError::Date(what));
    };
    let century = if birth {
        let this = today.year() % 100;
        if i32::try_from(yy).unwrap_or(0) > this {
            1900
        } else {
            2000
        }
    } else {
        2000
    };
    let year = century + i32::try_from(yy).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, mm, dd).ok_or(MrzError::Date(what))
}

/// The reference list's code of an ICAO nationality code.
pub fn nationality(icao: &str) -> String {
    match icao {
        "D" => "DEU".into(),
        // British citizen, overseas territories citizen, national (overseas), overseas
        // citizen, protected person, subject.
        "GBD" | "GBN" | "GBO" | "GBP" | "GBS" => "GBR".into(),
        other => other.to_string(),
    }
}

/// Reads a TD3 zone; `today` decides the century of a birth date.
pub fn parse(input: &str, today: NaiveDate) -> Result<Mrz, MrzError> {
    let (l1, l2) = lines(input)?;
    if l1[0] != b'P' {
        return Err(MrzError::NotPassport);
    }
    let number = &l2[0..9];
    if !checks(number, l2[9]) {
        return Err(MrzError::CheckDigit("护照号码"));
    }
    if !checks(&l2[13..19], l2[19]) {
        return Err(MrzError::CheckDigit("出生日期"));
    }
    if !checks(&l2[21..27], l2[27]) {
        return Err(MrzError::CheckDigit("护照有效期"));
    }
    // The optional personal number: an empty one may have `<` as its check digit.
    let personal = &l2[28..42];
    let empty = personal.iter().all(|c| *c == b'<');
    if !(checks(personal, l2[42]) || (empty && l2[42] == b'<')) {
        return Err(MrzError::CheckDigit("个人号码"));
    }
    let composite: Vec<u8> = [&l2[0..10], &l2[13..20], &l2[21..43]].concat();
    if !checks(&composite, l2[43]) {
        return Err(MrzError::CheckDigit("机读区总"));
    }
    let name = String::from_utf8_lossy(&l1[5..44]).to_string();
    let (surname, given) = name.split_once("<<").unwrap_or((name.as_str(), ""));
    let sex = match l2[20] {
        b'M' => "M",
        b'F' => "F",
        _ => "",
    };
    Ok(Mrz {
        issuing_state: text(&l1[2..5]),
        surname: text(surname.as_bytes()),
        given_names: text(given.as_bytes()),
        passport_no: text(number),
        nationality: nationality(&text(&l2[10..13])),
        sex: sex.into(),
        birth_date: date(&l2[13..19], true, today, "出生日期")?,
        expiry: date(&l2[21..27], false, today, "护照有效期")?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    /// ICAO Doc 9303 part 4, appendix A: the specimen passport of Utopia.
    const SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                            L898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn the_icao_specimen_reads() {
        let m = parse(SPECIMEN, today()).unwrap();
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.passport_no, "L898902C3");
        assert_eq!(m.nationality, "UTO");
        assert_eq!(m.sex, "F");
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1974, 8, 12).unwrap());
        assert_eq!(m.expiry, NaiveDate::from_ymd_opt(2012, 4, 15).unwrap());
        // Pasted on one line, in lower case, with spaces: the same.
        let loose = SPECIMEN.replace('\n', " ").to_lowercase();
        assert_eq!(parse(&loose, today()).unwrap(), m);
    }

    #[test]
    fn a_wrong_digit_is_named() {
        let cases = [
            // Passport number changed (C3 → C4).
            ("L898902C46", "护照号码"),
            // Birth date changed.
            ("7408132", "出生日期"),
        ];
        let (l1, l2) = SPECIMEN.split_once('\n').unwrap();
        let l2 = l2.trim();
        let bad = l2.replacen("L898902C36", cases[0].0, 1);
        assert_eq!(
            parse(&format!("{l1}\n{bad}"), today()),
            Err(MrzError::CheckDigit(cases[0].1))
        );
        let bad = l2.replacen("7408122", cases[1].0, 1);
        assert_eq!(
            parse(&format!("{l1}\n{bad}"), today()),
            Err(MrzError::CheckDigit(cases[1].1))
        );
        // The composite alone.
        let bad = format!("{}1", &l2[..43]);
        assert_eq!(
            parse(&format!("{l1}\n{bad}"), today()),
            Err(MrzError::CheckDigit("机读区总"))
        );
        assert_eq!(parse("P<UTO", today()), Err(MrzError::Shape));
        assert_eq!(
            parse(&SPECIMEN.replacen("ANNA", "ANN-", 1), today()),
            Err(MrzError::Character('-'))
        );
    }

    /// A TD3 zone of the given fields, with its check digits computed.
    fn zone(state: &str, name: &str, number: &str, birth: &str, sex: char, expiry: &str) -> String {
        let l1 = format!("P<{state:<<3}{name:<<39}");
        let mut l2 = format!("{number:<<9}");
        l2.push(char::from_digit(check_digit(l2.as_bytes()), 10).unwrap());
        l2.push_str(&format!("{state:<<3}{birth}"));
        l2.push(char::from_digit(check_digit(birth.as_bytes()), 10).unwrap());
        l2.push(sex);
        l2.push_str(expiry);
        l2.push(char::from_digit(check_digit(expiry.as_bytes()), 10).unwrap());
        l2.push_str("<<<<<<<<<<<<<<<");
        let composite = [&l2[0..10], &l2[13..20], &l2[21..43]].concat();
        l2.push(char::from_digit(check_digit(composite.as_bytes()), 10).unwrap());
        format!("{l1}\n{l2}")
    }

    /// Generated passports of many nationalities read back; any single changed digit of the
    /// second line is caught.
    #[test]
    fn generated_passports_read_back_and_any_changed_digit_is_caught() {
        let states = [
            "D", "GBR", "GBN", "USA", "JPN", "FRA", "KOR", "IND", "BRA", "ZAF",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for i in 0..400 {
            let state = states[i % states.len()];
            let number: String = (0..9)
                .map(|_| {
                    let v = next(36) as u8;
                    char::from(if v < 10 { b'0' + v } else { b'A' + v - 10 })
                })
                .collect();
            let birth = format!("{:02}{:02}{:02}", next(100), 1 + next(12), 1 + next(28));
            let expiry = format!("{:02}{:02}{:02}", 27 + next(10), 1 + next(12), 1 + next(28));
            let sex = ['M', 'F', '<'][i % 3];
            let z = zone(state, "MUELLER<<ANNA<LENA", &number, &birth, sex, &expiry);
            let m = parse(&z, today()).unwrap_or_else(|e| panic!("{z}: {e}"));
            assert_eq!(m.passport_no, number);
            assert_eq!(m.nationality, nationality(state));
            assert_eq!(
                (m.surname.as_str(), m.given_names.as_str()),
                ("MUELLER", "ANNA LENA")
            );
            assert!(m.birth_date <= today());
            // Change one digit of the number, the dates or a check digit: refused.
            let line2_start = 45;
            let pos = [0usize, 9, 13, 16, 19, 21, 24, 27][i % 8];
            let mut bytes = z.into_bytes();
            let at = line2_start + pos;
            // The next character (its value one more, modulo 36): a change the weights
            // 7, 3, 1 cannot hide.
            let v = (value(bytes[at]).unwrap() + 1) % 36;
            bytes[at] = if v < 10 {
                b'0' + v as u8
            } else {
                b'A' + (v - 10) as u8
            };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(parse(&changed, today()).is_err(), "{changed}");
        }
    }

    proptest::proptest! {
        /// Any passport (number, nationality, dates, sex) reads back as written, and changing any
        /// one digit of its second line's checked fields or check digits to another digit is
        /// refused: the weights 7, 3, 1 are prime to 10, so no single digit change keeps a sum.
        #[test]
        fn any_passport_reads_back_and_any_changed_digit_is_caught(
            number in "[A-Z0-9]{6,9}",
            state in proptest::sample::select(vec![
                "D", "GBR", "GBD", "GBN", "GBO", "GBP", "GBS", "USA", "JPN", "FRA", "KOR",
                "IND", "BRA", "ZAF", "RUS", "ITA", "ESP", "CAN", "AUS", "NZL", "MEX", "EGY",
                "NGA", "KEN", "THA", "VNM", "IDN", "PHL", "PAK", "TUR", "IRN", "SAU", "ARE",
                "ISR", "POL", "UKR", "SWE", "NOR", "FIN", "DNK", "NLD", "BEL", "CHE", "AUT",
            ]),
            birth in (0u32..100, 1u32..=12, 1u32..=28),
            expiry in (27u32..=36, 1u32..=12, 1u32..=28),
            sex in proptest::sample::select(vec!['M', 'F', '<']),
            at in proptest::sample::select(vec![
                // Number, its check digit, birth date, its check digit, expiry, its check
                // digit, the composite check digit.
                0usize, 3, 8, 9, 13, 15, 18, 19, 21, 24, 26, 27, 43,
            ]),
            to in 0u8..10,
        ) {
            let birth = format!("{:02}{:02}{:02}", birth.0, birth.1, birth.2);
            let expiry = format!("{:02}{:02}{:02}", expiry.0, expiry.1, expiry.2);
            let z = zone(state, "NGUYEN<<VAN<AN", &number, &birth, sex, &expiry);
            let m = parse(&z, today()).unwrap();
            proptest::prop_assert_eq!(&m.passport_no, &number);
            proptest::prop_assert_eq!(m.nationality, nationality(state));
            proptest::prop_assert_eq!(m.sex, match sex { 'M' => "M", 'F' => "F", _ => "" });
            proptest::prop_assert_eq!(m.birth_date.format("%y%m%d").to_string(), birth);
            proptest::prop_assert_eq!(m.expiry.format("%y%m%d").to_string(), expiry);
            let mut bytes = z.into_bytes();
            let i = 45 + at;
            // Only digits are changed (a letter or filler of the number stays as written).
            proptest::prop_assume!(bytes[i].is_ascii_digit() && bytes[i] != b'0' + to);
            bytes[i] = b'0' + to;
            let changed = String::from_utf8(bytes).unwrap();
            proptest::prop_assert!(parse(&changed, today()).is_err(), "{}", changed);
        }
    }

    #[test]
    fn icao_codes_map_to_the_reference_list() {
        assert_eq!(nationality("D"), "DEU");
        for c in ["GBR", "GBD", "GBN", "GBO", "GBP", "GBS"] {
            assert_eq!(nationality(c), "GBR");
        }
        assert_eq!(nationality("USA"), "USA");
    }
}
