//! Post-visit registration (销签登记): what the unit reports for each visitor of a dispatched
//! group, its rules and states.

use chrono::NaiveDate;

use super::fields::FieldErrors;
use super::group::parse_date;
use super::visit_flow::VisitAction;
pub use super::visit_flow::VisitState;

/// What the unit reports: the visitor came (实际成行) or the trip was cancelled (取消行程).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitKind {
    Travelled,
    Cancelled,
}

impl VisitKind {
    /// The kind in words, as the form's radio buttons name it.
    pub fn label(self) -> &'static str {
        match self {
            VisitKind::Travelled => "实际成行",
            VisitKind::Cancelled => "取消行程",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Travelled => "travelled",
            VisitKind::Cancelled => "cancelled",
        }
    }
    /// A stored kind; anything but a cancellation is a trip.
    pub fn from_stored(s: &str) -> VisitKind {
        if s == "cancelled" {
            VisitKind::Cancelled
        } else {
            VisitKind::Travelled
        }
    }
    /// The scans a registration of this kind needs before it may be submitted.
    pub fn scans(self) -> &'static [Scan] {
        match self {
            VisitKind::Travelled => &[Scan::EntryStamp, Scan::ExitStamp, Scan::VisaPage],
            VisitKind::Cancelled => &[Scan::Statement],
        }
    }
}

/// A file of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scan {
    EntryStamp,
    ExitStamp,
    VisaPage,
    /// The statement of a cancelled trip (PDF only).
    Statement,
}

impl Scan {
    pub const ALL: [Scan; 4] = [
        Scan::EntryStamp,
        Scan::ExitStamp,
        Scan::VisaPage,
        Scan::Statement,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Scan::EntryStamp => "entry_stamp",
            Scan::ExitStamp => "exit_stamp",
            Scan::VisaPage => "visa_page",
            Scan::Statement => "statement",
        }
    }
    pub fn parse(s: &str) -> Option<Scan> {
        Scan::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Scan::EntryStamp => "入境章扫描件",
            Scan::ExitStamp => "出境章扫描件",
            Scan::VisaPage => "签证页扫描件",
            Scan::Statement => "情况说明（PDF）",
        }
    }
    /// Only a PDF is accepted (the others may also be JPEG or PNG images).
    pub fn pdf_only(self) -> bool {
        self == Scan::Statement
    }
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct VisitForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub entry_date: String,
    #[serde(default)]
    pub entry_port: String,
    #[serde(default)]
    pub exit_date: String,
    #[serde(default)]
    pub exit_port: String,
    #[serde(default)]
    pub cancel_reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitData {
    Travelled {
        entry_date: NaiveDate,
        entry_port: i64,
        /// None while the visitor is still in China.
        exit: Option<(NaiveDate, i64)>,
    },
    Cancelled {
        reason: String,
    },
}

impl VisitData {
    pub fn kind(&self) -> VisitKind {
        match self {
            VisitData::Travelled { .. } => VisitKind::Travelled,
            VisitData::Cancelled { .. } => VisitKind::Cancelled,
        }
    }
    /// Saving this: the entry alone while the visitor is still in China, or the whole
    /// registration.
    pub fn save_action(&self) -> VisitAction {
        match self {
            VisitData::Travelled { exit: None, .. } => VisitAction::SaveEntered,
            _ => VisitAction::Save,
        }
    }
}

impl VisitForm {
    /// `dispatched` is the date the office dispatched the letter; `ports` the ids in force.
    pub fn validate(
        &self,
        ports: &[i64],
        dispatched: NaiveDate,
        today: NaiveDate,
    ) -> Result<VisitData, FieldErrors> {
        let mut e = FieldErrors::new();
        match self.kind.as_str() {
            "cancelled" => {
                let reason = self.cancel_reason.trim().to_string();
                if reason.is_empty() {
                    e.add("cancel_reason", "请填写取消行程的原因");
                } else if reason.chars().count() > 1000 {
                    e.add("cancel_reason", "取消原因不能超过1000个字符");
                }
                if e.is_empty() {
                    Ok(VisitData::Cancelled { reason })
                } else {
                    Err(e)
                }
            }
            "travelled" => {
                let port = |s: &str| s.trim().parse::<i64>().ok().filter(|p| ports.contains(p));
                let entry = parse_date(&self.entry_date);
                match entry {
                    None => e.add("entry_date", "请填写实际入境日期（格式：2026-01-31）"),
                    Some(d) if d < dispatched => {
                        e.add("entry_date", "实际入境日期不能早于邀请函发件日期")
                    }
                    Some(d) if d > today => e.add("entry_date", "实际入境日期不能晚于今天"),
                    _ => {}
                }
                let entry_port = port(&self.entry_port);
                if entry_port.is_none() {
                    e.add("entry_port", "请选择入境口岸（须从列表中选择）");
                }
                let has_exit =
                    !self.exit_date.trim().is_empty() || !self.exit_port.trim().is_empty();
                let mut exit = None;
                if has_exit {
                    let d = parse_date(&self.exit_date);
                    match (d, entry) {
                        (None, _) => e.add("exit_date", "请填写实际出境日期（格式：2026-01-31）"),
                        (Some(x), _) if x > today => e.add("exit_date", "实际出境日期不能晚于今天"),
                        (Some(x), Some(n)) if x < n => {
                            e.add("exit_date", "实际出境日期不能早于实际入境日期")
                        }
                        _ => {}
                    }
                    let p = port(&self.exit_port);
                    if p.is_none() {
                        e.add("exit_port", "请选择出境口岸（须从列表中选择）");
                    }
                    if let (Some(d), Some(p)) = (d, p) {
                        exit = Some((d, p));
                    }
                }
                match (e.is_empty(), entry, entry_port) {
                    (true, Some(entry_date), Some(entry_port)) => Ok(VisitData::Travelled {
                        entry_date,
                        entry_port,
                        exit,
                    }),
                    _ => Err(e),
                }
            }
            _ => {
                e.add("kind", "请选择实际成行或取消行程");
                Err(e)
            }
        }
    }
}

/// Whether a visitor is overdue: planned departure more than `days` days ago and not registered.
pub fn overdue(departure: NaiveDate, today: NaiveDate, days: i64, registered: bool) -> bool {
    !registered && (today - departure).num_days() > days
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn travelled() -> VisitForm {
        VisitForm {
            kind: "travelled".into(),
            entry_date: "2026-10-01".into(),
            entry_port: "1".into(),
            exit_date: "2026-10-10".into(),
            exit_port: "2".into(),
            cancel_reason: String::new(),
        }
    }

    #[test]
    fn travelled_rules() {
        let ok = travelled()
            .validate(&[1, 2], d("2026-09-01"), d("2026-11-27"))
            .unwrap();
        assert!(matches!(ok, VisitData::Travelled { exit: Some(_), .. }));
        let mut f = travelled();
        f.exit_date = "2026-09-30".into();
        assert!(f
            .validate(&[1, 2], d("2026-09-01"), d("2026-11-27"))
            .unwrap_err()
            .get("exit_date")
            .contains("不能早于"));
        let e = travelled()
            .validate(&[1, 2], d("2026-10-05"), d("2026-11-27"))
            .unwrap_err();
        assert!(e.get("entry_date").contains("发件日期"));
        let mut f = travelled();
        f.exit_date = "2026-12-01".into();
        assert!(f
            .validate(&[1, 2], d("2026-09-01"), d("2026-11-27"))
            .unwrap_err()
            .get("exit_date")
            .contains("晚于今天"));
        let mut f = travelled();
        f.entry_port = "99".into();
        assert!(f
            .validate(&[1, 2], d("2026-09-01"), d("2026-11-27"))
            .unwrap_err()
            .has("entry_port"));
    }

    #[test]
    fn entry_only_is_allowed_while_in_china() {
        let mut f = travelled();
        f.exit_date = String::new();
        f.exit_port = String::new();
        let v = f
            .validate(&[1, 2], d("2026-09-01"), d("2026-11-27"))
            .unwrap();
        assert!(matches!(v, VisitData::Travelled { exit: None, .. }));
    }

    #[test]
    fn cancellation_needs_a_reason() {
        let f = VisitForm {
            kind: "cancelled".into(),
            ..VisitForm::default()
        };
        assert!(f
            .validate(&[], d("2026-09-01"), d("2026-11-27"))
            .unwrap_err()
            .has("cancel_reason"));
    }

    #[test]
    fn overdue_after_the_configured_days() {
        assert!(!overdue(d("2026-10-28"), d("2026-11-27"), 30, false));
        assert!(overdue(d("2026-10-27"), d("2026-11-27"), 30, false));
        assert!(!overdue(d("2026-01-01"), d("2026-11-27"), 30, true));
    }
}
