//! The fields issue 16 adds to a group: its size, its itinerary in China (在华日程), and per
//! visitor the visa type applied for (拟申请签证种类), the days per stay (停留期限) and the
//! employer's address. Pure rules; the forms and data that carry them are in [`super::group`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::fields::{parse_date, required, FieldErrors};

/// The whole delegation, which may be larger than the visitors on one form.
pub const MAX_GROUP_SIZE: i64 = 999;
/// Rows of an itinerary (the printed form continues on further pages).
pub const MAX_ITINERARY: usize = 60;

/// Days per stay: one entry allows up to 180 days, each stay of a multiple-entry visa up to 90
/// (the usual durations the missions grant on invitation letters).
pub fn max_stay(multiple: bool) -> i64 {
    if multiple {
        90
    } else {
        180
    }
}

/// The sentence beside 停留期限（天）.
pub const STAY_HINT: &str =
    "每次在华停留天数：一次入境不超过180天，多次入境每次不超过90天；不得短于计划在华天数。";

/// The visa type a purpose of visit (来华事由) usually calls for; `None` when the clerk must
/// choose (e.g. 其他, or a purpose an administrator added).
pub fn default_visa_type(purpose: &str) -> Option<&'static str> {
    match purpose {
        "business" | "trade" | "investment" | "exhibition" | "installation" => Some("M"),
        "technical" | "conference" | "training" | "academic" | "culture" | "education"
        | "medical" | "sports" | "visit" => Some("F"),
        _ => None,
    }
}

/// How a visa type is offered and printed: `M（商贸）`.
pub fn visa_label(code: &str, name: &str) -> String {
    if code.is_empty() {
        String::new()
    } else if name.is_empty() || name == code {
        code.to_string()
    } else {
        format!("{code}（{name}）")
    }
}

/// A row of the itinerary as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItineraryForm {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub activity: String,
    #[serde(default)]
    pub host: String,
}

impl ItineraryForm {
    pub fn is_blank(&self) -> bool {
        [&self.date, &self.city, &self.activity, &self.host]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// A checked row of the itinerary.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItineraryRow {
    pub date: NaiveDate,
    pub city: String,
    pub activity: String,
    pub host: String,
}

impl ItineraryRow {
    pub fn to_form(&self) -> ItineraryForm {
        ItineraryForm {
            date: self.date.to_string(),
            city: self.city.clone(),
            activity: self.activity.clone(),
            host: self.host.clone(),
        }
    }
}

/// The field name of column `name` of itinerary row `index` (`t{index}_{name}`).
pub fn row_field(index: usize, name: &str) -> String {
    format!("t{index}_{name}")
}

/// Checks the itinerary: blank rows are ignored, at least one row, each date within
/// arrival..=departure (when those are valid). Messages are beside the row's field; the rows
/// come back sorted by date (a stable sort: rows of one day keep their order).
pub fn validate_itinerary(
    rows: &[ItineraryForm],
    arrival: Option<NaiveDate>,
    departure: Option<NaiveDate>,
    e: &mut FieldErrors,
) -> Vec<ItineraryRow> {
    let mut out = Vec::new();
    let filled: Vec<(usize, &ItineraryForm)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank())
        .collect();
    if filled.is_empty() {
        e.add("itinerary", "请至少填写一行在华日程");
        return out;
    }
    if filled.len() > MAX_ITINERARY {
        e.add(
            "itinerary",
            format!("在华日程不能超过{MAX_ITINERARY}行，请合并同日的活动"),
        );
    }
    for (i, r) in filled {
        let f = |name: &str| row_field(i, name);
        let n = i + 1;
        let date = parse_date(&r.date);
        match (date, arrival, departure) {
            (None, _, _) => e.add(
                &f("date"),
                format!("请填写日程{n}的日期（格式：2026-01-31）"),
            ),
            (Some(d), Some(a), _) if d < a => {
                e.add(&f("date"), format!("日程{n}的日期早于计划入境日期（{a}）"))
            }
            (Some(d), _, Some(x)) if d > x => {
                e.add(&f("date"), format!("日程{n}的日期晚于计划出境日期（{x}）"))
            }
            _ => {}
        }
        let city = required(e, &f("city"), &r.city, &format!("日程{n}的城市"), 50);
        let activity = required(
            e,
            &f("activity"),
            &r.activity,
            &format!("日程{n}的活动内容"),
            200,
        );
        let host = required(e, &f("host"), &r.host, &format!("日程{n}的接待单位"), 100);
        if let Some(date) = date {
            out.push(ItineraryRow {
                date,
                city,
                activity,
                host,
            });
        }
    }
    out.sort_by_key(|r| r.date);
    out
}

/// Checks the group size against the visitors listed on the form.
pub fn validate_size(size: &str, visitors: usize, e: &mut FieldErrors) -> Option<i64> {
    let s = size.trim();
    if s.is_empty() {
        e.add("size", "请填写团组人数");
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) if !(1..=MAX_GROUP_SIZE).contains(&n) => {
            e.add("size", format!("团组人数应为1至{MAX_GROUP_SIZE}之间的整数"));
            None
        }
        Ok(n) if (n as usize) < visitors => {
            e.add(
                "size",
                format!("团组人数不能少于本表填写的到访人员人数（{visitors}人）"),
            );
            None
        }
        Ok(n) => Some(n),
        Err(_) => {
            e.add("size", format!("团组人数应为1至{MAX_GROUP_SIZE}之间的整数"));
            None
        }
    }
}

/// Checks the days per stay against the entry type (`multiple`: whether it allows several
/// entries; `None` when not chosen) and the planned stay (`planned`: days from
/// arrival to departure, both counted).
pub fn validate_stay(
    field: &str,
    stay: &str,
    multiple: Option<bool>,
    planned: Option<i64>,
    e: &mut FieldErrors,
) -> Option<i64> {
    let s = stay.trim();
    if s.is_empty() {
        e.add(field, "请填写停留期限（天）");
        return None;
    }
    let Ok(n) = s.parse::<i64>() else {
        e.add(field, "停留期限应为整数天数");
        return None;
    };
    let max = max_stay(multiple.unwrap_or(false));
    if n < 1 {
        e.add(field, "停留期限至少为1天");
        return None;
    }
    if n > max {
        let what = match multiple {
            Some(true) => "多次入境每次停留",
            _ => "一次入境停留",
        };
        e.add(field, format!("{what}不能超过{max}天"));
        return None;
    }
    if let Some(p) = planned.filter(|p| n < *p) {
        e.add(
            field,
            format!("停留期限短于计划在华天数（{p}天，按计划入境至出境日期计）"),
        );
        return None;
    }
    Some(n)
}

/// Days from arrival to departure, both counted.
pub fn planned_days(arrival: NaiveDate, departure: NaiveDate) -> i64 {
    (departure - arrival).num_days() + 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn row(date: &str, city: &str) -> ItineraryForm {
        ItineraryForm {
            date: date.into(),
            city: city.into(),
            activity: "参观".into(),
            host: "常州某公司".into(),
        }
    }

    #[test]
    fn itinerary_rows_are_sorted_and_blank_ones_ignored() {
        let mut e = FieldErrors::new();
        let rows = validate_itinerary(
            &[
                row("2027-03-05", "苏州"),
                ItineraryForm::default(),
                row("2027-03-01", "常州"),
            ],
            Some(d("2027-03-01")),
            Some(d("2027-03-10")),
            &mut e,
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].city, "常州");
        assert_eq!(rows[1].city, "苏州");
    }

    #[test]
    fn itinerary_dates_stay_within_the_planned_stay() {
        let mut e = FieldErrors::new();
        validate_itinerary(
            &[
                row("2027-02-28", "常州"),
                row("2027-03-11", "常州"),
                row("2027-3-1x", "常州"),
            ],
            Some(d("2027-03-01")),
            Some(d("2027-03-10")),
            &mut e,
        );
        assert!(e.get("t0_date").contains("早于计划入境日期"));
        assert!(e.get("t1_date").contains("晚于计划出境日期"));
        assert!(e.get("t2_date").contains("格式"));
        let mut e = FieldErrors::new();
        validate_itinerary(&[ItineraryForm::default()], None, None, &mut e);
        assert!(e.get("itinerary").contains("至少"));
        let mut e = FieldErrors::new();
        let mut r = row("2027-03-02", "");
        r.host = " ".into();
        validate_itinerary(&[r], None, None, &mut e);
        assert_eq!(e.get("t0_city"), "请填写日程1的城市");
        assert_eq!(e.get("t0_host"), "请填写日程1的接待单位");
    }

    #[test]
    fn group_size_counts_the_visitors() {
        let mut e = FieldErrors::new();
        assert_eq!(validate_size("12", 3, &mut e), Some(12));
        assert_eq!(validate_size("2", 3, &mut e), None);
        assert!(e.get("size").contains("不能少于"));
        for bad in ["", "0", "1000", "abc", "-1"] {
            let mut e = FieldErrors::new();
            assert_eq!(validate_size(bad, 1, &mut e), None, "{bad}");
            assert!(e.has("size"));
        }
    }

    #[test]
    fn stays_are_limited_by_the_entry_type() {
        let single = Some(false);
        let multi = Some(true);
        let mut e = FieldErrors::new();
        assert_eq!(
            validate_stay("s", "180", single, Some(10), &mut e),
            Some(180)
        );
        assert_eq!(validate_stay("s", "90", multi, Some(10), &mut e), Some(90));
        assert!(e.is_empty());
        assert_eq!(validate_stay("s", "181", single, None, &mut e), None);
        assert!(e.get("s").contains("180"));
        let mut e = FieldErrors::new();
        assert_eq!(validate_stay("s", "91", multi, None, &mut e), None);
        assert!(e.get("s").contains("每次停留不能超过90天"));
        let mut e = FieldErrors::new();
        assert_eq!(validate_stay("s", "5", single, Some(10), &mut e), None);
        assert!(e.get("s").contains("10天"));
        for bad in ["", "0", "x", "1.5"] {
            let mut e = FieldErrors::new();
            assert_eq!(validate_stay("s", bad, single, None, &mut e), None, "{bad}");
        }
        assert_eq!(planned_days(d("2027-03-01"), d("2027-03-10")), 10);
    }

    #[test]
    fn purposes_default_to_a_visa_type_that_exists() {
        assert_eq!(default_visa_type("business"), Some("M"));
        assert_eq!(default_visa_type("academic"), Some("F"));
        assert_eq!(default_visa_type("other"), None);
        assert_eq!(visa_label("M", "商贸"), "M（商贸）");
        assert_eq!(visa_label("", ""), "");
    }
}
