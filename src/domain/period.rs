//! The period of the statistics (统计分析): Beijing calendar days, both included, as typed in
//! the page's two date fields.

use chrono::{Datelike, NaiveDate};

use super::fields::FieldErrors;
use super::group::parse_date;

/// The period of the statistics: Beijing calendar days, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The longest period one page computes (its month table has a row per month).
const MAX_YEARS: i32 = 10;

impl Period {
    /// The default: the twelve calendar months up to today, this month included (from the first
    /// day of the month eleven months ago).
    pub fn default_for(today: NaiveDate) -> Period {
        Period {
            from: first_of_month(months_back(today, 11)),
            to: today,
        }
    }

    /// Parses the `from` and `to` fields; an empty field takes its default.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Period, FieldErrors> {
        let mut e = FieldErrors::new();
        let to_date = if to.trim().is_empty() {
            Some(today)
        } else {
            parse_date(to)
        };
        if to_date.is_none() {
            e.add("to", "日期格式应为2026-01-31");
        }
        let from_date = if from.trim().is_empty() {
            Some(Period::default_for(to_date.unwrap_or(today)).from)
        } else {
            parse_date(from)
        };
        if from_date.is_none() {
            e.add("from", "日期格式应为2026-01-31");
        }
        match (from_date, to_date) {
            (Some(f), Some(t)) if f > t => {
                e.add("to", "结束日期不能早于开始日期");
                Err(e)
            }
            (Some(f), Some(t)) if months_back(t, 12 * MAX_YEARS as u32) > f => {
                e.add("from", format!("统计期间不能超过{MAX_YEARS}年"));
                Err(e)
            }
            (Some(from), Some(to)) => Ok(Period { from, to }),
            _ => Err(e),
        }
    }

    /// Unix seconds of the start of `from` and of the day after `to`, Beijing time.
    pub fn bounds(&self) -> (i64, i64) {
        let start = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp() - 8 * 3600)
                .unwrap_or(0)
        };
        (start(self.from), start(self.to) + 86_400)
    }

    /// Every month of the period, in order.
    pub fn months(&self) -> Vec<(i32, u32)> {
        let mut out = Vec::new();
        let (mut y, mut m) = (self.from.year(), self.from.month());
        while (y, m) <= (self.to.year(), self.to.month()) {
            out.push((y, m));
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
        out
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn months_back(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(chrono::Months::new(n)).unwrap_or(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn default_period_is_twelve_calendar_months() {
        let p = Period::parse("", "", d("2026-05-14")).unwrap();
        assert_eq!(p.from, d("2025-06-01"));
        assert_eq!(p.to, d("2026-05-14"));
        assert_eq!(p.months().len(), 12);
        assert_eq!(p.months()[0], (2025, 6));
        assert_eq!(p.months()[11], (2026, 5));
    }

    #[test]
    fn bad_periods_are_refused_beside_their_field() {
        let today = d("2026-05-14");
        let e = Period::parse("2026-13-01", "x", today).unwrap_err();
        assert!(e.has("from") && e.has("to"));
        let e = Period::parse("2026-05-02", "2026-05-01", today).unwrap_err();
        assert_eq!(e.get("to"), "结束日期不能早于开始日期");
        let e = Period::parse("2000-01-01", "2026-05-01", today).unwrap_err();
        assert!(e.get("from").contains("不能超过10年"));
        assert!(Period::parse("2016-05-01", "2026-05-01", today).is_ok());
    }

    #[test]
    fn bounds_are_beijing_days() {
        let p = Period::parse("2026-02-01", "2026-02-01", d("2026-05-14")).unwrap();
        let (a, b) = p.bounds();
        // 2026-02-01 00:00 Beijing is 2026-01-31 16:00 UTC.
        assert_eq!(a, 1_769_875_200);
        assert_eq!(b - a, 86_400);
    }
}
