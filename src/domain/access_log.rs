//! The vocabulary of the access log (个人信息访问记录, issue 18): how visitors' personal data was
//! seen, and how long the entries are kept.

/// How the data was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Page,
    File,
    Export,
    Search,
    Print,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Page,
        Kind::File,
        Kind::Export,
        Kind::Search,
        Kind::Print,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::File => "file",
            Kind::Export => "export",
            Kind::Search => "search",
            Kind::Print => "print",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Page => "查看页面",
            Kind::File => "下载文件",
            Kind::Export => "导出",
            Kind::Search => "查询结果",
            Kind::Print => "打印",
        }
    }

    /// The label of a stored code (the code itself when unknown).
    pub fn label_of(code: &str) -> &'_ str {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == code)
            .map_or(code, |k| k.label())
    }
}

/// The shortest retention of the access and audit logs (网络安全法 Art. 21: six months).
pub const MIN_RETENTION_DAYS: i64 = 180;
/// Years visitors' personal data is kept after a group ended (setting
/// 个人信息保存期限（年）): 3 by default, 1 to 30.
pub const DEFAULT_PERSONAL_DATA_YEARS: i64 = 3;
pub const MIN_PERSONAL_DATA_YEARS: i64 = 1;
pub const MAX_PERSONAL_DATA_YEARS: i64 = 30;
/// The retention of the access log until an administrator sets another.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
/// The longest retention the setting takes (ten years).
pub const MAX_RETENTION_DAYS: i64 = 3650;

/// The personal data's retention in years from the stored setting: the default when unset or
/// unreadable, within the bounds.
pub fn personal_data_years_from(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_PERSONAL_DATA_YEARS)
        .clamp(MIN_PERSONAL_DATA_YEARS, MAX_PERSONAL_DATA_YEARS)
}

/// The retention in days from the stored setting: the default when unset or unreadable, never
/// less than the minimum (a value written around the settings page does not shorten it).
pub fn retention_days_from(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS)
        .clamp(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_never_below_the_minimum() {
        assert_eq!(retention_days_from(None), DEFAULT_RETENTION_DAYS);
        assert_eq!(retention_days_from(Some("")), DEFAULT_RETENTION_DAYS);
        assert_eq!(retention_days_from(Some(" 200 ")), 200);
        assert_eq!(retention_days_from(Some("30")), MIN_RETENTION_DAYS);
        assert_eq!(retention_days_from(Some("-5")), MIN_RETENTION_DAYS);
        assert_eq!(retention_days_from(Some("99999")), MAX_RETENTION_DAYS);
    }

    #[test]
    fn kinds_have_labels() {
        for k in Kind::ALL {
            assert_eq!(Kind::label_of(k.as_str()), k.label());
        }
        assert_eq!(Kind::label_of("other"), "other");
    }
}
