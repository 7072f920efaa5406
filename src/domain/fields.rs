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
