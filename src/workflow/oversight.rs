//! Oversight by the offices: staff search across units and groups, the statistics (统计分析),
//! and the audit of every spreadsheet export. County staff see their own district only
//! ([`Principal::district_scope`]); each role finds only what it may open.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::access::{self, Kind, Seen};
use super::error::{Error, Outcome};
use crate::domain::audit::ObjectType;
use crate::domain::group::{parse_date, working_days_between, EntryType, GroupState};
use crate::domain::group_flow;
use crate::domain::period::Period;
use crate::domain::principal::{Principal, Role};
use crate::domain::registration::RegState;
use crate::domain::settings::Setting;
use crate::domain::time_limit;
use crate::domain::visit::{overdue, VisitState};
use crate::state::AppState;
use crate::store::groups::{self, GroupRow};
use crate::store::stats::{self, Count, Scope};
use crate::store::units::{self, SearchRow};
use crate::store::{audit, reference};

/// Oversight is the offices' and the administrators': a unit has no part in it.
fn oversees(p: &Principal) -> Outcome<()> {
    match p.role {
        Role::Unit => Err(Error::Forbidden),
        _ => Ok(()),
    }
}

// ---- search ----

/// Most results of each kind.
pub const SEARCH_LIMIT: i64 = 200;

/// What a search found.
#[derive(Debug, Default)]
pub struct Found {
    pub units: Vec<SearchRow>,
    pub groups: Vec<GroupRow>,
}

/// The units a principal may open from the results (as the review of registrations, without
/// the county-passed check of returned registrations, which the city finds in its queues).
fn unit_visible(p: &Principal, state: RegState) -> bool {
    match p.role {
        Role::County => state != RegState::Draft,
        Role::City => matches!(state, RegState::PendingCity | RegState::Approved),
        Role::Admin => true,
        Role::Unit => false,
    }
}

/// The group states a principal may open, in the table's order ([`group_flow::may_view`] for a
/// group of the principal's own district, which the search is limited to).
fn group_states(p: &Principal) -> Vec<GroupState> {
    let district = p.district_id.unwrap_or(0);
    GroupState::ALL
        .into_iter()
        .filter(|s| group_flow::may_view(p, *s, district, 0))
        .collect()
}

/// Staff search (issue 6): part of a unit's name (two characters at least); a unit's credit
/// code or login ID, a group number, 受理编号, 核实单号, a visitor's passport number or name
/// (exactly). The text is at most 100 characters (a refusal names the field `q`). The visitors
/// whose passport number or name found a group are recorded as seen in the results.
pub async fn search(state: &AppState, p: &Principal, text: &str) -> Outcome<Found> {
    let found = find(state, p, text).await?;
    let groups: Vec<i64> = found.groups.iter().map(|g| g.id).collect();
    let hits = access::search_hits(state, text, &groups).await?;
    let seen = Seen::new(Kind::Search, "综合查询", "search");
    access::record(state, p, &seen, hits).await?;
    Ok(found)
}

/// The search of the results' export, and its conditions in words for the export's audit
/// entry. Not recorded here: the export's sheets record every visitor of the groups found. A
/// text that may be a passport number is not written into the audit log: the visitors it
/// found are, by id.
pub async fn search_export(
    state: &AppState,
    p: &Principal,
    text: &str,
) -> Outcome<(Found, String)> {
    let found = find(state, p, text).await?;
    let key = text.trim().to_uppercase();
    let names_a_group = found.groups.iter().any(|g| {
        g.number == key
            || g.acceptance_no.as_deref() == Some(key.as_str())
            || g.verification_no.as_deref() == Some(key.as_str())
    });
    let described = match crate::domain::group::parse_passport(&key) {
        Some(passport) if !names_a_group => {
            let ids =
                crate::store::access::visitor_ids_by_passport(state.pool(), &state.keys, &passport)
                    .await?
                    .iter()
                    .map(|v| format!("#{v}"))
                    .collect::<Vec<_>>();
            match ids.is_empty() {
                true => "查询=（可能为护照号码，已隐去）".to_string(),
                false => format!(
                    "查询=（护照号码已隐去，为到访人员{}的护照号码）",
                    ids.join("、")
                ),
            }
        }
        _ => format!("查询={}", text.trim()),
    };
    Ok((found, described))
}

async fn find(state: &AppState, p: &Principal, text: &str) -> Outcome<Found> {
    oversees(p)?;
    let text = text.trim();
    let chars = text.chars().count();
    if chars > 100 {
        return Err(Error::invalid("q", "查询内容不能超过100个字符"));
    }
    let mut found = Found::default();
    if text.is_empty() {
        return Ok(found);
    }
    let district = p.district_scope();
    // Part of a name needs at least two characters, so that one letter does not list every
    // unit.
    if chars >= 2 {
        found.units = units::search_staff(state.pool(), text, district, SEARCH_LIMIT)
            .await?
            .into_iter()
            .filter(|r| unit_visible(p, r.state))
            .collect();
    }
    found.groups = groups::search_staff(
        state.pool(),
        &state.keys,
        text,
        &group_states(p),
        district,
        SEARCH_LIMIT,
    )
    .await?;
    Ok(found)
}

// ---- exports ----

/// Most rows one export holds (a worksheet holds at most 1,048,576).
pub const MAX_ROWS: i64 = 100_000;

/// Records in the audit log that the principal exported `rows` rows of a list: `list` is a
/// short code of the list (`review.units`, `audit`…), `label` its Chinese name and `filters` a
/// description of its conditions. Returns the time of the export.
pub async fn record_export(
    state: &AppState,
    p: &Principal,
    list: &str,
    label: &str,
    filters: &str,
    rows: usize,
) -> Outcome<i64> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "export",
        ObjectType::Export,
        list,
        &format!("{label}；条件：{}；{rows}行", non_empty(filters)),
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

fn non_empty(s: &str) -> &str {
    if s.trim().is_empty() {
        "无"
    } else {
        s
    }
}

// ---- statistics ----

/// Which way a chart's bars run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// Columns along a horizontal axis: for a time series (months).
    Vertical,
    /// Bars, one row per category with its label on the left: for categories.
    Horizontal,
}

/// A bar chart: categories, each with one value per series (bars side by side).
#[derive(Clone, Debug)]
pub struct BarChart {
    /// Read by screen readers (`aria-label`, `<title>`).
    pub title: String,
    pub orientation: Orientation,
    /// Names of the value series; a legend is drawn when there are several.
    pub series: Vec<String>,
    /// (category label, one value per series).
    pub items: Vec<(String, Vec<i64>)>,
}

/// A cell of a statistics table: text, or a number (kept as a number for exports).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Shown with at most one decimal (medians).
    Num(f64),
}

impl Cell {
    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(s) => f.write_str(s),
            Cell::Int(n) => write!(f, "{n}"),
            Cell::Num(x) if x.fract() == 0.0 => write!(f, "{x:.0}"),
            Cell::Num(x) => write!(f, "{x:.1}"),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

/// One table of the statistics page (and one sheet of an export).
#[derive(Clone, Debug)]
pub struct StatTable {
    /// Stable identifier: the HTML anchor, and a name for an export sheet.
    pub key: &'static str,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// The 合计 row, when the rows partition the groups.
    pub footer: Option<Vec<Cell>>,
    /// What the figures mean, shown under the title.
    pub note: String,
    /// The chart drawn beside the table (not part of an export).
    pub chart: Option<BarChart>,
}

/// What the statistics of a principal cover: the county's district by name, or 全市.
pub async fn scope_name(state: &AppState, p: &Principal) -> Outcome<String> {
    oversees(p)?;
    Ok(match p.district_scope() {
        Some(id) => reference::district_name(state.pool(), id).await?,
        None => "全市".to_string(),
    })
}

/// The settings the figures use.
async fn limits(state: &AppState) -> Outcome<Limits> {
    let (processing_days, holidays) = super::reference::limits(state).await?;
    let overdue = reference::setting(state.pool(), Setting::OverdueDays).await?;
    Ok(Limits {
        processing_days,
        holidays,
        overdue_days: time_limit::overdue_days_from(overdue.as_deref()),
    })
}

/// Every table of 统计分析 for the principal and period: groups and visitors by month,
/// district, nationality, purpose and entry type; processing times against the limit; overdue
/// post-visit registrations (as of today).
pub async fn statistics(
    state: &AppState,
    p: &Principal,
    period: &Period,
) -> Outcome<Vec<StatTable>> {
    oversees(p)?;
    let limits = limits(state).await?;
    tables(state, p, period, &limits, state.today()).await
}

/// The districts the tables list.
struct Districts {
    /// Every district, retired ones too: (id, name, retired).
    all: Vec<(i64, String, bool)>,
    /// The county reviewer's own district.
    own: Option<i64>,
}

impl Districts {
    fn name(&self, id: i64) -> String {
        self.all
            .iter()
            .find(|(d, _, _)| *d == id)
            .map(|(_, n, _)| n.clone())
            .unwrap_or_else(|| format!("县区{id}"))
    }

    /// The county's own district; for the city every district in force, and retired ones that
    /// have figures.
    fn listed(&self, with_data: impl Fn(i64) -> bool) -> Vec<i64> {
        self.all
            .iter()
            .filter(|(id, _, retired)| match self.own {
                Some(own) => *id == own,
                None => !retired || with_data(*id),
            })
            .map(|(id, _, _)| *id)
            .collect()
    }
}

/// The median of sorted values (None when empty).
fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// Settings the figures depend on.
struct Limits {
    /// 办理时限 in working days.
    processing_days: i64,
    holidays: Vec<NaiveDate>,
    /// Days after the planned departure when a visitor without registration is overdue.
    overdue_days: i64,
}

const SERIES: [&str; 2] = ["团组数", "人数"];

fn series() -> Vec<String> {
    SERIES.iter().map(|s| s.to_string()).collect()
}

fn count_row(label: String, c: &Count<impl Sized>) -> Vec<Cell> {
    vec![label.into(), c.groups.into(), c.visitors.into()]
}

fn totals<K>(counts: &[Count<K>]) -> (i64, i64) {
    counts
        .iter()
        .fold((0, 0), |(g, v), c| (g + c.groups, v + c.visitors))
}

fn total_row(counts: &[Count<impl Sized>]) -> Vec<Cell> {
    let (g, v) = totals(counts);
    vec!["合计".into(), g.into(), v.into()]
}

fn headers(first: &str) -> Vec<String> {
    vec![first.to_string(), SERIES[0].into(), SERIES[1].into()]
}

/// A table of (label, groups, visitors) rows with its horizontal bar chart.
fn category_table(
    key: &'static str,
    title: &str,
    first: &str,
    rows: Vec<(String, Count<()>)>,
    with_total: bool,
    note: &str,
) -> StatTable {
    let counts: Vec<Count<()>> = rows.iter().map(|(_, c)| c.clone()).collect();
    StatTable {
        key,
        title: title.into(),
        headers: headers(first),
        footer: with_total.then(|| total_row(&counts)),
        note: note.into(),
        chart: Some(BarChart {
            title: title.into(),
            orientation: Orientation::Horizontal,
            series: series(),
            items: rows
                .iter()
                .map(|(l, c)| (l.clone(), vec![c.groups, c.visitors]))
                .collect(),
        }),
        rows: rows.iter().map(|(l, c)| count_row(l.clone(), c)).collect(),
    }
}

fn unkeyed<K>(c: &Count<K>) -> Count<()> {
    Count {
        key: (),
        groups: c.groups,
        visitors: c.visitors,
    }
}

/// Every table of the statistics for the principal and period.
async fn tables(
    state: &AppState,
    p: &Principal,
    period: &Period,
    limits: &Limits,
    today: NaiveDate,
) -> Outcome<Vec<StatTable>> {
    let pool = state.pool();
    let (from_ts, to_ts) = period.bounds();
    let district = p.district_scope();
    let scope = Scope {
        from_ts,
        to_ts,
        district,
    };
    let districts = Districts {
        all: stats::districts(pool).await?,
        own: district,
    };

    let mut out = Vec::new();

    // By month.
    let by_day = stats::by_day(pool, &scope).await?;
    let mut months: BTreeMap<(i32, u32), Count<()>> = period
        .months()
        .into_iter()
        .map(|m| {
            (
                m,
                Count {
                    key: (),
                    groups: 0,
                    visitors: 0,
                },
            )
        })
        .collect();
    for c in &by_day {
        let d = stats::date_of_day(c.key);
        let e = months.entry((d.year(), d.month())).or_insert(Count {
            key: (),
            groups: 0,
            visitors: 0,
        });
        e.groups += c.groups;
        e.visitors += c.visitors;
    }
    let month_rows: Vec<(String, Count<()>)> = months
        .into_iter()
        .map(|((y, m), c)| (format!("{y}-{m:02}"), c))
        .collect();
    let mut t = category_table(
        "by_month",
        "按月份统计",
        "月份",
        month_rows,
        true,
        "按团组提交时间（北京时间）所在月份统计。",
    );
    if let Some(chart) = &mut t.chart {
        chart.orientation = Orientation::Vertical;
    }
    let (total_groups, total_visitors) = totals(&by_day);
    out.push(t);

    // By district.
    let by_district = stats::by_district(pool, &scope).await?;
    let rows = districts
        .listed(|id| by_district.iter().any(|c| c.key == id))
        .into_iter()
        .map(|id| {
            let c = by_district
                .iter()
                .find(|c| c.key == id)
                .map(unkeyed)
                .unwrap_or(Count {
                    key: (),
                    groups: 0,
                    visitors: 0,
                });
            (districts.name(id), c)
        })
        .collect();
    out.push(category_table(
        "by_district",
        "按县区统计",
        "县区",
        rows,
        true,
        "按邀请单位的属地县区统计。",
    ));

    // By nationality: most visitors first.
    let names = stats::country_names(pool).await?;
    let mut by_nat = stats::by_nationality(pool, &scope).await?;
    by_nat.sort_by(|a, b| b.visitors.cmp(&a.visitors).then(a.key.cmp(&b.key)));
    let rows: Vec<(String, Count<()>)> = by_nat
        .iter()
        .map(|c| {
            let name = names.get(&c.key).cloned().unwrap_or_else(|| c.key.clone());
            (name, unkeyed(c))
        })
        .collect();
    const TOP: usize = 15;
    let mut t = category_table(
        "by_nationality",
        "按国籍统计",
        "国籍",
        rows,
        false,
        "人数为该国籍的到访人员数；团组数为含该国籍人员的团组数（一个团组有多个国籍的，分别计入）。",
    );
    if let Some(chart) = &mut t.chart {
        chart.series = vec![SERIES[1].into()];
        chart.items.truncate(TOP);
        for (_, v) in &mut chart.items {
            v.remove(0);
        }
        if by_nat.len() > TOP {
            chart.title = format!("按国籍统计（人数最多的{TOP}个国家和地区）");
            t.note.push_str(&format!(
                "图中只显示人数最多的{TOP}个国家和地区，表中列出全部。"
            ));
        }
    }
    if !by_nat.is_empty() {
        t.footer = Some(vec![
            "合计".into(),
            total_groups.into(),
            total_visitors.into(),
        ]);
    }
    out.push(t);

    // By purpose: most groups first.
    let purposes = stats::code_names(pool, "purpose").await?;
    let mut by_purpose = stats::by_purpose(pool, &scope).await?;
    by_purpose.sort_by(|a, b| b.groups.cmp(&a.groups).then(a.key.cmp(&b.key)));
    let rows = by_purpose
        .iter()
        .map(|c| {
            let name = purposes
                .get(&c.key)
                .cloned()
                .unwrap_or_else(|| c.key.clone());
            (name, unkeyed(c))
        })
        .collect();
    out.push(category_table(
        "by_purpose",
        "按来华事由统计",
        "来华事由",
        rows,
        true,
        "",
    ));

    // By entry type: every type, in the form's order.
    let by_entry = stats::by_entry_type(pool, &scope).await?;
    let mut rows: Vec<(String, Count<()>)> = EntryType::ALL
        .iter()
        .map(|e| {
            let c = by_entry
                .iter()
                .find(|c| c.key == e.as_str())
                .map(unkeyed)
                .unwrap_or(Count {
                    key: (),
                    groups: 0,
                    visitors: 0,
                });
            (e.label().to_string(), c)
        })
        .collect();
    for c in &by_entry {
        if EntryType::parse(&c.key).is_none() {
            rows.push((c.key.clone(), unkeyed(c)));
        }
    }
    out.push(category_table(
        "by_entry_type",
        "按入境次数统计",
        "入境次数",
        rows,
        true,
        "",
    ));

    out.push(processing_table(
        &stats::processed(pool, &scope).await?,
        limits,
        &districts,
    ));
    out.push(overdue_table(
        &stats::registrations(pool, &scope).await?,
        limits,
        today,
        &districts,
    ));
    Ok(out)
}

/// Working days from submission to dispatch of the dispatched groups, per district, against
/// the limit.
fn processing_table(
    processed: &[stats::Processed],
    limits: &Limits,
    districts: &Districts,
) -> StatTable {
    let mut days: HashMap<i64, Vec<i64>> = HashMap::new();
    for p in processed {
        let d = working_days_between(p.submitted, p.dispatched, &limits.holidays);
        let v = days.entry(p.district_id).or_default();
        v.extend(std::iter::repeat_n(d, p.groups.max(0) as usize));
    }
    let limit = limits.processing_days;
    let row = |label: String, v: &mut Vec<i64>| -> (Vec<Cell>, (i64, i64)) {
        v.sort_unstable();
        let within = v.iter().filter(|d| **d <= limit).count() as i64;
        let over = v.len() as i64 - within;
        let cells = vec![
            label.into(),
            (v.len() as i64).into(),
            within.into(),
            over.into(),
            median(v).map(Cell::Num).unwrap_or_else(|| "—".into()),
            v.last()
                .map(|m| Cell::Int(*m))
                .unwrap_or_else(|| "—".into()),
        ];
        (cells, (within, over))
    };
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for id in districts.listed(|id| days.contains_key(&id)) {
        let mut v = days.get(&id).cloned().unwrap_or_default();
        let name = districts.name(id);
        let (cells, (within, over)) = row(name.clone(), &mut v);
        rows.push(cells);
        items.push((name, vec![within, over]));
    }
    let mut all: Vec<i64> = days.values().flatten().copied().collect();
    let (footer, _) = row("合计".into(), &mut all);
    let title = "团组办理用时".to_string();
    StatTable {
        key: "processing",
        title: title.clone(),
        headers: vec![
            "县区".into(),
            "已发件团组".into(),
            format!("时限内（≤{limit}个工作日）"),
            "超过时限".into(),
            "用时中位数（工作日）".into(),
            "最长用时（工作日）".into(),
        ],
        rows,
        footer: Some(footer),
        note: format!(
            "统计期间内提交、现已发件的团组，从提交（退件后重新提交的，从最近一次提交）到发件的工作日数（不含周末和系统设置的节假日），办理时限为{limit}个工作日。"
        ),
        chart: Some(BarChart {
            title,
            orientation: Orientation::Horizontal,
            series: vec!["时限内".into(), "超过时限".into()],
            items,
        }),
    }
}

/// Post-visit registrations of the visitors of dispatched groups, per district: registered,
/// not yet due, overdue (the rule of the reminders, as of today).
fn overdue_table(
    regs: &[stats::VisitorRegistration],
    limits: &Limits,
    today: NaiveDate,
    districts: &Districts,
) -> StatTable {
    // (visitors, registered, completed, overdue) per district.
    let mut per: HashMap<i64, [i64; 4]> = HashMap::new();
    for r in regs {
        let state = r.state.as_deref().and_then(VisitState::parse);
        let registered = state.is_some_and(|s| s.registered());
        let late = parse_date(&r.departure)
            .is_some_and(|d| overdue(d, today, limits.overdue_days, registered));
        let e = per.entry(r.district_id).or_default();
        e[0] += r.visitors;
        if registered {
            e[1] += r.visitors;
        }
        if state == Some(VisitState::Completed) {
            e[2] += r.visitors;
        }
        if late {
            e[3] += r.visitors;
        }
    }
    let cells = |label: String, n: [i64; 4]| -> Vec<Cell> {
        vec![
            label.into(),
            n[0].into(),
            n[1].into(),
            n[2].into(),
            (n[0] - n[1] - n[3]).into(),
            n[3].into(),
        ]
    };
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut sum = [0i64; 4];
    for id in districts.listed(|id| per.contains_key(&id)) {
        let n = per.get(&id).copied().unwrap_or_default();
        for (s, x) in sum.iter_mut().zip(n) {
            *s += x;
        }
        let name = districts.name(id);
        rows.push(cells(name.clone(), n));
        items.push((name, vec![n[3]]));
    }
    let title = "逾期未销签登记".to_string();
    StatTable {
        key: "overdue_visits",
        title: title.clone(),
        headers: vec![
            "县区".into(),
            "已发件团组人员".into(),
            "已登记（已提交或已销签）".into(),
            "其中已销签".into(),
            "未登记，未逾期".into(),
            "逾期未登记".into(),
        ],
        rows,
        footer: Some(cells("合计".into(), sum)),
        note: format!(
            "统计期间内提交、现已发件的团组的到访人员；计划出境日期{}天后仍未提交销签登记的为逾期（截至今天）。",
            limits.overdue_days
        ),
        chart: Some(BarChart {
            title: format!("{title}（人）"),
            orientation: Orientation::Horizontal,
            series: vec!["逾期未登记".into()],
            items,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3]), Some(3.0));
        assert_eq!(median(&[1, 2, 4, 9]), Some(3.0));
        assert_eq!(median(&[1, 2]), Some(1.5));
        assert_eq!(Cell::Num(1.5).to_string(), "1.5");
        assert_eq!(Cell::Num(3.0).to_string(), "3");
    }
}
