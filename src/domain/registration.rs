//! The inviting unit's registration data and its rules (its life is `registration_flow`).

use serde::{Deserialize, Serialize};

use super::credit_code::CreditCode;
use super::fields::{required, FieldErrors};
pub use super::registration_flow::RegState;

/// Unit types offered at registration.
pub const UNIT_TYPES: &[&str] = &[
    "企业",
    "事业单位",
    "学校",
    "医院",
    "社会团体",
    "机关",
    "其他",
];

/// Organisation information as typed (also what a change request proposes).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub english_name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub district_id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub unit_type: String,
    #[serde(default)]
    pub legal_rep: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub landline: String,
    #[serde(default)]
    pub email: String,
}

/// Validated organisation information.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegData {
    pub name: String,
    pub english_name: String,
    pub credit_code: String,
    pub district_id: i64,
    pub address: String,
    pub unit_type: String,
    pub legal_rep: String,
    pub contact_name: String,
    pub landline: String,
    pub email: String,
}

impl RegData {
    pub fn to_form(&self) -> RegForm {
        RegForm {
            name: self.name.clone(),
            english_name: self.english_name.clone(),
            credit_code: self.credit_code.clone(),
            district_id: self.district_id.to_string(),
            address: self.address.clone(),
            unit_type: self.unit_type.clone(),
            legal_rep: self.legal_rep.clone(),
            contact_name: self.contact_name.clone(),
            landline: self.landline.clone(),
            email: self.email.clone(),
        }
    }
}

/// The key under which unit names are unique: trimmed, inner spaces collapsed, lower case.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl RegForm {
    /// Checks every field; `districts` are the ids that may be chosen.
    pub fn validate(&self, districts: &[i64]) -> Result<RegData, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = required(&mut e, "name", &self.name, "单位全称", 100);
        let english_name = required(
            &mut e,
            "english_name",
            &self.english_name,
            "单位英文名称",
            200,
        );
        if !e.has("english_name")
            && !english_name
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' ')
        {
            e.add("english_name", "单位英文名称只能包含英文字母、数字和标点");
        }
        let credit_code = match CreditCode::parse(&self.credit_code) {
            Ok(c) => c.as_str().to_string(),
            Err(err) => {
                e.add("credit_code", err.to_string());
                self.credit_code.trim().to_string()
            }
        };
        let district_id = match self.district_id.trim().parse::<i64>() {
            Ok(id) if districts.contains(&id) => id,
            _ => {
                e.add("district_id", "请选择所属县区");
                0
            }
        };
        let address = required(&mut e, "address", &self.address, "单位地址", 200);
        let unit_type = self.unit_type.trim().to_string();
        if !UNIT_TYPES.contains(&unit_type.as_str()) {
            e.add("unit_type", "请选择单位类型");
        }
        let legal_rep = required(&mut e, "legal_rep", &self.legal_rep, "法定代表人", 50);
        let contact_name = required(&mut e, "contact_name", &self.contact_name, "联系人", 50);
        let landline = required(&mut e, "landline", &self.landline, "联系电话", 30);
        if !e.has("landline") && !valid_phone(&landline) {
            e.add("landline", "请输入正确的联系电话，如0519-85680000");
        }
        let email = required(&mut e, "email", &self.email, "电子邮箱", 100);
        if !e.has("email") && !valid_email(&email) {
            e.add("email", "请输入正确的电子邮箱地址");
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(RegData {
            name,
            english_name,
            credit_code,
            district_id,
            address,
            unit_type,
            legal_rep,
            contact_name,
            landline,
            email,
        })
    }
}

/// A landline or mobile: digits with optional hyphens, spaces, parentheses, a leading + and an
/// extension; 7 to 20 digits.
pub fn valid_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=20).contains(&digits)
        && s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || "-() ".contains(c) || (c == '+' && i == 0) || c == '转'
        })
}

pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.contains('@')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn form() -> RegForm {
        RegForm {
            name: " 常州市某某科技有限公司 ".into(),
            english_name: "Changzhou Example Tech Co., Ltd.".into(),
            credit_code: "91330100799655058B".into(),
            district_id: "2".into(),
            address: "常州市天宁区某路1号".into(),
            unit_type: "企业".into(),
            legal_rep: "张三".into(),
            contact_name: "李四".into(),
            landline: "0519-85680000".into(),
            email: "li@example.com".into(),
        }
    }

    #[test]
    fn name_key_ignores_case_and_spacing() {
        assert_eq!(name_key("  ACME  Co "), name_key("acme co"));
    }

    #[test]
    fn bad_fields_are_each_reported() {
        let mut f = form();
        f.email = "nope".into();
        f.landline = "abc".into();
        f.district_id = "99".into();
        f.unit_type = "x".into();
        f.name = "".into();
        let e = f.validate(&[1, 2]).unwrap_err();
        for field in ["email", "landline", "district_id", "unit_type", "name"] {
            assert!(e.has(field), "{field}");
        }
    }

    #[test]
    fn phone_and_email_rules() {
        assert!(valid_phone("0519-85680000"));
        assert!(valid_phone("13812345678"));
        assert!(!valid_phone("12345"));
        assert!(valid_email("a.b@c.cn"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@c.cn"));
    }
}
