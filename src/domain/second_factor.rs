//! The second sign-in factor's pure rules: which roles must have one (the setting), the TOTP
//! time steps a code is accepted for, and the shape of what is typed (a code or a recovery
//! code).

use super::principal::Role;

/// Seconds per TOTP time step (RFC 6238's default, the one authenticator apps use).
pub const STEP_SECS: i64 = 30;
/// Digits of a TOTP code.
pub const DIGITS: usize = 6;
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (without the hyphen shown in its middle).
pub const RECOVERY_LEN: usize = 10;
/// The characters of recovery codes: lower-case letters and digits without the look-alikes
/// 0/o, 1/l/i (31 characters: about 49 bits per code).
pub const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The roles the setting may make a second factor mandatory for, in the settings page's order.
pub const MANDATABLE: [Role; 3] = [Role::County, Role::City, Role::Admin];

/// The setting's value when nobody changed it: administrators only.
pub const DEFAULT_ROLES: &str = "admin";

/// Whether the setting `roles` (comma-separated role codes) makes a second factor mandatory for
/// `role`. Unit accounts may enrol but never have to.
pub fn is_mandatory(roles: &str, role: Role) -> bool {
    MANDATABLE.contains(&role)
        && roles
            .split(',')
            .any(|r| Role::parse(r.trim()) == Some(role))
}

/// The setting's value for these roles (in [`MANDATABLE`]'s order, others left out).
pub fn roles_setting(roles: &[Role]) -> String {
    MANDATABLE
        .iter()
        .filter(|r| roles.contains(r))
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The time step of the Unix time `now`.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// The steps whose code is accepted at `now`: the current one and one on either side, for
/// clocks that drift and codes typed as they change.
pub fn accepted_steps(now: i64) -> [i64; 3] {
    let s = step_of(now);
    [s - 1, s, s + 1]
}

/// What was typed where the sign-in asks for the second factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Typed {
    /// Six digits: a TOTP code.
    Totp(String),
    /// A recovery code, normalised (lower case, no spaces or hyphens).
    Recovery(String),
    /// Neither.
    Malformed,
}

/// Reads what was typed: spaces and hyphens are ignored, letters in any case.
pub fn parse_code(input: &str) -> Typed {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    if s.len() == DIGITS && s.bytes().all(|b| b.is_ascii_digit()) {
        Typed::Totp(s)
    } else if s.len() == RECOVERY_LEN && s.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        Typed::Recovery(s)
    } else {
        Typed::Malformed
    }
}

/// A recovery code as shown: two groups of five joined by a hyphen.
pub fn show_recovery(code: &str) -> String {
    if code.len() == RECOVERY_LEN && code.is_ascii() {
        format!("{}-{}", &code[..5], &code[5..])
    } else {
        code.to_string()
    }
}

/// A base32 secret as shown for typing by hand: groups of four.
pub fn show_secret(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_roles_and_units_never_must() {
        assert!(is_mandatory("admin", Role::Admin));
        assert!(!is_mandatory("admin", Role::City));
        assert!(is_mandatory(" county , city", Role::City));
        assert!(!is_mandatory("", Role::Admin));
        assert!(!is_mandatory("unit,admin", Role::Unit));
        assert_eq!(roles_setting(&[Role::Admin, Role::County]), "county,admin");
        assert_eq!(roles_setting(&[Role::Unit]), "");
        assert_eq!(roles_setting(&[]), "");
    }

    #[test]
    fn steps_around_now() {
        assert_eq!(step_of(59), 1);
        assert_eq!(step_of(60), 2);
        assert_eq!(accepted_steps(60), [1, 2, 3]);
        assert_eq!(step_of(-1), -1);
    }

    #[test]
    fn what_was_typed() {
        assert_eq!(parse_code(" 123 456 "), Typed::Totp("123456".into()));
        assert_eq!(
            parse_code("ABCDE-FGHJK"),
            Typed::Recovery("abcdefghjk".into())
        );
        assert_eq!(
            parse_code("abcde fghjk"),
            Typed::Recovery("abcdefghjk".into())
        );
        // A look-alike that no recovery code contains, too short, too long.
        assert_eq!(parse_code("abcde-fghj0"), Typed::Malformed);
        assert_eq!(parse_code("12345"), Typed::Malformed);
        assert_eq!(parse_code("1234567"), Typed::Malformed);
        assert_eq!(parse_code(""), Typed::Malformed);
        assert_eq!(parse_code("１２３４５６"), Typed::Malformed);
    }

    #[test]
    fn shown_forms() {
        assert_eq!(show_recovery("abcdefghjk"), "abcde-fghjk");
        assert_eq!(show_secret("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
