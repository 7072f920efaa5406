//! Per-field error messages for forms: shown beside the field, the typed values kept.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }
    /// The message for a field, or "" (templates test for emptiness).
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    /// The message of field `name` of visitor block `index` (`v{index}_{name}`).
    pub fn get_v(&self, index: impl std::borrow::Borrow<usize>, name: &str) -> &str {
        self.get(&format!("v{}_{name}", index.borrow()))
    }
    pub fn has_v(&self, index: impl std::borrow::Borrow<usize>, name: &str) -> bool {
        self.has(&format!("v{}_{name}", index.borrow()))
    }
    /// The message of column `name` of itinerary row `index` (`t{index}_{name}`).
    pub fn get_t(&self, index: impl std::borrow::Borrow<usize>, name: &str) -> &str {
        self.get(&format!("t{}_{name}", index.borrow()))
    }
    pub fn has_t(&self, index: impl std::borrow::Borrow<usize>, name: &str) -> bool {
        self.has(&format!("t{}_{name}", index.borrow()))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The first message (by field name), for a refusal that has no form to show it beside.
    pub fn first(&self) -> Option<&str> {
        self.0.values().next().map(String::as_str)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

/// A date as forms post it: `2026-01-31`.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Trims and checks a required text field of at most `max` characters.
pub fn required(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    label: &str,
    max: usize,
) -> String {
    let v = value.trim().to_string();
    if v.is_empty() {
        errors.add(field, format!("请填写{label}"));
    } else if v.chars().count() > max {
        errors.add(field, format!("{label}不能超过{max}个字符"));
    } else if v.chars().any(char::is_control) {
        errors.add(field, format!("{label}含有无效字符"));
    }
    v
}

/// Checks an optional text field of at most `max` characters: the trimmed value (kept to show
/// again, also when too long).
pub fn optional(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    label: &str,
    max: usize,
) -> String {
    let v = value.trim().to_string();
    if let Some(m) = too_long(&v, label, max) {
        errors.add(field, m);
    }
    v
}

/// The message for a value of more than `max` characters, if it is one.
pub fn too_long(value: &str, label: &str, max: usize) -> Option<String> {
    (value.chars().count() > max).then(|| format!("{label}不能超过{max}个字符"))
}

/// The longest reason or comment of a reviewer's decision.
pub const MAX_REASON: usize = 2000;

/// The longest search term of a search form.
pub const MAX_SEARCH: usize = 100;

/// The longest login ID written to the audit log or the failure table for an account that does
/// not exist (a real login ID is at most `login_id::MAX_CHARS`, far less).
pub const MAX_LOGIN_RECORDED: usize = 64;

/// The first `max_chars` characters of `s` (all of it when shorter): what may be recorded of
/// something typed that nothing else bounds, such as an unknown login ID.
pub fn clip(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 3), "abc");
        assert_eq!(clip("常州市外办", 2), "常州");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("x", 0), "");
        let long = "长".repeat(250_000);
        assert_eq!(clip(&long, MAX_LOGIN_RECORDED).chars().count(), 64);
    }

    #[test]
    fn optional_keeps_what_was_typed_and_names_the_limit() {
        let mut e = FieldErrors::new();
        assert_eq!(optional(&mut e, "q", "  常州  ", "查询内容", 100), "常州");
        assert!(e.is_empty());
        let typed = "a".repeat(101);
        assert_eq!(optional(&mut e, "q", &typed, "查询内容", 100), typed);
        assert_eq!(e.get("q"), "查询内容不能超过100个字符");
    }
}
