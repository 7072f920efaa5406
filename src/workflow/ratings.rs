//! 好差评: a unit rates the decided steps of its groups (every 发件 and 退件, see
//! `domain::rating`); a 差评 is a follow-up item (差评整改) of the city office, due within 15
//! working days, closed by the office's reply, after which the unit may rate the step again;
//! the figures of satisfaction by month and district.
//!
//! Both writes are one transaction each with their audit entry and the unit's message, and
//! safe against two requests at once: a step's round is unique (the second rating of it inserts
//! nothing and is refused), a follow-up item closes with `UPDATE … WHERE followup = 'open'`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::error::{Error, Outcome};
use super::notify;
use super::oversight::{BarChart, Cell, Orientation, StatTable};
use crate::domain::audit::{action_label, ObjectType};
use crate::domain::group_flow;
use crate::domain::period::Period;
use crate::domain::principal::{Principal, Role};
use crate::domain::rating::{
    add_working_days, parse_rating, parse_reply, ratable_actions, satisfaction_rate, FollowUp,
    Level, FOLLOW_UP_DAYS,
};
use crate::state::AppState;
use crate::store::audit;
use crate::store::groups::{self, Group};
use crate::store::ratings::{self, NewRating, Rating, Step};

/// The audit name of a rating.
pub const SUBMIT: &str = "rating.submit";
/// The audit name of the office's reply to a follow-up item.
pub const REPLY: &str = "rating.reply";

/// Told when a step was rated already (also to the second of two requests at once).
const RATED: &str = "该环节已评价，请勿重复提交。";
/// Told when a 差评 of the step waits for the office.
const WAITING: &str = "您对该环节的评价正在整改中，市外办答复后可重新评价。";
/// Told when a follow-up item was closed already (by someone else first).
const CLOSED: &str = "该差评整改已办结，请返回差评整改列表刷新后查看。";

fn beijing_date(ts: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&crate::clock::beijing()).date_naive())
        .unwrap_or_default()
}

fn audit_names() -> Vec<&'static str> {
    ratable_actions().iter().map(|a| a.audit_name()).collect()
}

/// A step in words: its action ("发件", "市外办退件") and when.
pub fn step_label(action: &str) -> String {
    action_label(action).to_string()
}

/// A rating with its follow-up's limit.
#[derive(Clone, Debug)]
pub struct RatingView {
    pub r: Rating,
    /// The last day of the office's limit (open and closed items).
    pub due: Option<NaiveDate>,
    /// Working days left (negative: overdue), while the item is open.
    pub days_left: Option<i64>,
}

impl RatingView {
    pub fn step(&self) -> String {
        step_label(&self.r.step_action)
    }
    pub fn rated_text(&self) -> String {
        crate::clock::fmt_ts(self.r.rated_at)
    }
    pub fn replied_text(&self) -> String {
        crate::clock::fmt_opt_ts(self.r.replied_at)
    }
    pub fn step_text(&self) -> String {
        crate::clock::fmt_ts(self.r.step_at)
    }
    pub fn due_text(&self) -> String {
        self.due.map(|d| d.to_string()).unwrap_or_default()
    }
    pub fn is_open(&self) -> bool {
        self.r.followup == FollowUp::Open
    }
    pub fn is_done(&self) -> bool {
        self.r.followup == FollowUp::Done
    }
    pub fn overdue(&self) -> bool {
        self.days_left.is_some_and(|d| d < 0)
    }
    pub fn days(&self) -> i64 {
        self.days_left.unwrap_or(0)
    }
    pub fn late_days(&self) -> i64 {
        -self.days()
    }
    pub fn reply_text(&self) -> &str {
        self.r.reply.as_deref().unwrap_or_default()
    }
}

fn view(r: Rating, holidays: &[NaiveDate], today: NaiveDate) -> RatingView {
    let rated = beijing_date(r.rated_at);
    let (due, days_left) = match r.followup {
        FollowUp::None => (None, None),
        FollowUp::Open => (
            Some(add_working_days(rated, FOLLOW_UP_DAYS, holidays)),
            Some(
                FOLLOW_UP_DAYS - crate::domain::group::working_days_between(rated, today, holidays),
            ),
        ),
        FollowUp::Done => (
            Some(add_working_days(rated, FOLLOW_UP_DAYS, holidays)),
            None,
        ),
    };
    RatingView { r, due, days_left }
}

async fn holidays(state: &AppState) -> Outcome<Vec<NaiveDate>> {
    Ok(super::reference::limits(state).await?.1)
}

/// One ratable step of a group with its ratings, and whether its unit may rate it now.
#[derive(Clone, Debug)]
pub struct StepView {
    pub step: Step,
    pub ratings: Vec<RatingView>,
    /// The unit may rate it now (not yet, or again after the office's reply).
    pub ratable: bool,
}

impl StepView {
    pub fn label(&self) -> String {
        step_label(&self.step.action)
    }
    pub fn at_text(&self) -> String {
        crate::clock::fmt_ts(self.step.at)
    }
    /// The next rating is a 再次评价.
    pub fn again(&self) -> bool {
        !self.ratings.is_empty()
    }
}

/// The ratable steps of a group the principal may see, with their ratings; `may_rate` when the
/// principal is its unit.
pub async fn of_group(state: &AppState, p: &Principal, g: &Group) -> Outcome<Vec<StepView>> {
    if !group_flow::may_view(p, g.state, g.district_id, g.unit_id) {
        return Err(Error::NotFound);
    }
    let steps = ratings::steps(state.pool(), g.id, &audit_names()).await?;
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let all = ratings::of_group(state.pool(), g.id).await?;
    // The holidays count only for the due date of a 差评's follow-up.
    let holidays = if all.iter().any(|r| r.followup != FollowUp::None) {
        holidays(state).await?
    } else {
        Vec::new()
    };
    let today = state.today();
    let is_unit = p.role == Role::Unit;
    Ok(steps
        .into_iter()
        .map(|step| {
            let ratings: Vec<RatingView> = all
                .iter()
                .filter(|r| r.step_id == step.id)
                .cloned()
                .map(|r| view(r, &holidays, today))
                .collect();
            let ratable = is_unit
                && ratings
                    .last()
                    .is_none_or(|r| r.r.followup == FollowUp::Done);
            StepView {
                step,
                ratings,
                ratable,
            }
        })
        .collect())
}

/// The unit's own group (not found for anyone else's, or for another role).
async fn own_group(state: &AppState, p: &Principal, group_id: i64) -> Outcome<Group> {
    let unit = match p.own_unit() {
        Some(u) => u,
        None if p.role == Role::Unit => return Err(Error::NotFound),
        None => return Err(Error::Forbidden),
    };
    groups::get(state.pool(), group_id)
        .await?
        .filter(|g| g.unit_id == unit)
        .ok_or(Error::NotFound)
}

/// A step of the unit's group it may rate, checked before the input is read: not found when
/// the group has no such step; refused while the group has no decided step yet.
pub async fn step(
    state: &AppState,
    p: &Principal,
    group_id: i64,
    step_id: i64,
) -> Outcome<(Group, StepView)> {
    let g = own_group(state, p, group_id).await?;
    let steps = of_group(state, p, &g).await?;
    if steps.is_empty() {
        return Err(Error::Stale(
            "团组发件或退件后才能评价，当前还没有可评价的办理环节。".into(),
        ));
    }
    let s = steps
        .into_iter()
        .find(|s| s.step.id == step_id)
        .ok_or(Error::NotFound)?;
    Ok((g, s))
}

/// 【提交评价】: the unit's rating of a step of its group. A 差评 opens a follow-up item due in
/// [`FOLLOW_UP_DAYS`] working days. Refusals of the input name `level` or `comment`.
pub async fn rate(
    state: &AppState,
    p: &Principal,
    group_id: i64,
    step_id: i64,
    level: &str,
    comment: &str,
) -> Outcome<()> {
    let (g, s) = step(state, p, group_id, step_id).await?;
    let (level, comment) = parse_rating(level, comment).map_err(Error::Invalid)?;
    let holidays = holidays(state).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let round = match ratings::latest_round(tx.conn(), s.step.id).await? {
        None => 1,
        Some((n, FollowUp::Done)) => n + 1,
        Some((_, FollowUp::Open)) => return Err(Error::Stale(WAITING.into())),
        Some((_, FollowUp::None)) => return Err(Error::Stale(RATED.into())),
    };
    let inserted = ratings::insert(
        tx.conn(),
        &NewRating {
            group_id: g.id,
            unit_id: g.unit_id,
            district_id: g.district_id,
            step_id: s.step.id,
            step_action: &s.step.action,
            step_at: s.step.at,
            round,
            level,
            comment: &comment,
            rated_by: p.user_id,
            rated_at: now,
        },
    )
    .await?;
    if inserted.is_none() {
        return Err(Error::Stale(RATED.into()));
    }
    let step = s.label();
    let again = if round > 1 {
        format!("（第{round}次评价）")
    } else {
        String::new()
    };
    let mut detail = format!("评价“{step}”环节{again}：{}", level.label());
    if !comment.is_empty() {
        detail.push_str(&format!("；评价内容：{comment}"));
    }
    let due = level
        .needs_follow_up()
        .then(|| add_working_days(beijing_date(now), FOLLOW_UP_DAYS, &holidays).to_string());
    if let Some(d) = &due {
        detail.push_str(&format!("；差评整改期限{d}"));
    }
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        SUBMIT,
        ObjectType::Group,
        &g.id.to_string(),
        &detail,
    )
    .await?;
    let notice = notify::rating_submitted(&g.number, &step, level.label(), due.as_deref());
    let queued = notify::write(tx.conn(), g.unit_id, &p.actor, &notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

/// Follow-up items are the city office's.
fn city(p: &Principal) -> Outcome<()> {
    if p.role == Role::City {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Whether the principal works the follow-up items (city staff only; the navigation counts
/// them for it).
pub fn sees_followups(p: &Principal) -> bool {
    p.role == Role::City
}

/// A page of follow-up items: the open ones oldest first with their working days left, or
/// the closed ones newest first; and how many there are.
pub async fn followups(
    state: &AppState,
    p: &Principal,
    open: bool,
    limit: i64,
    offset: i64,
) -> Outcome<(Vec<RatingView>, i64)> {
    city(p)?;
    let which = if open { FollowUp::Open } else { FollowUp::Done };
    let (rows, total) = ratings::followups(state.pool(), which, limit, offset).await?;
    let holidays = holidays(state).await?;
    let today = state.today();
    Ok((
        rows.into_iter()
            .map(|r| view(r, &holidays, today))
            .collect(),
        total,
    ))
}

/// One follow-up item (any rating that opened one).
pub async fn followup(state: &AppState, p: &Principal, id: i64) -> Outcome<RatingView> {
    city(p)?;
    let r = ratings::get(state.pool(), id)
        .await?
        .filter(|r| r.followup != FollowUp::None)
        .ok_or(Error::NotFound)?;
    Ok(view(r, &holidays(state).await?, state.today()))
}

/// 【办结】: the office records what it did; the unit is told by site message and SMS and may
/// rate the step again. The reply is refused (field `reply`) when empty; the item closed by
/// someone else first is refused as stale.
pub async fn reply(state: &AppState, p: &Principal, id: i64, text: &str) -> Outcome<()> {
    let item = followup(state, p, id).await?;
    if !item.is_open() {
        return Err(Error::Stale(CLOSED.into()));
    }
    let text = parse_reply(text).map_err(Error::Invalid)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !ratings::reply(tx.conn(), id, &text, p.user_id, now).await? {
        return Err(Error::Stale(CLOSED.into()));
    }
    let r = &item.r;
    let step = item.step();
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        REPLY,
        ObjectType::Group,
        &r.group_id.to_string(),
        &format!("差评整改办结（“{step}”环节，{}）：{text}", r.level.label()),
    )
    .await?;
    let notice = notify::rating_replied(&r.group_number, &step, &text);
    let queued = notify::write(tx.conn(), r.unit_id, &p.actor, &notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

// ---- 满意度统计 ----

/// Counts per level, in the order of [`Level::ALL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Levels([i64; 5]);

impl Levels {
    fn add(&mut self, level: Level, n: i64) {
        if let Some(i) = Level::ALL.iter().position(|l| *l == level) {
            self.0[i] += n;
        }
    }
    fn total(&self) -> i64 {
        self.0.iter().sum()
    }
    fn satisfied(&self) -> i64 {
        Level::ALL
            .iter()
            .zip(self.0)
            .filter(|(l, _)| l.satisfied())
            .map(|(_, n)| n)
            .sum()
    }
    fn merged(mut self, other: &Levels) -> Levels {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
        self
    }
    fn row(&self, label: String) -> Vec<Cell> {
        let mut row = vec![Cell::Text(label)];
        row.extend(self.0.iter().map(|n| Cell::Int(*n)));
        row.push(Cell::Int(self.total()));
        row.push(match satisfaction_rate(self.satisfied(), self.total()) {
            Some(rate) => Cell::Num((rate * 10.0).round() / 10.0),
            None => Cell::Text("—".into()),
        });
        row
    }
}

fn headers(first: &str) -> Vec<String> {
    let mut h = vec![first.to_string()];
    h.extend(Level::ALL.iter().map(|l| l.label().to_string()));
    h.push("评价数".into());
    h.push("满意率（%）".into());
    h
}

const SERIES: [&str; 2] = ["满意（含基本满意）", "不满意"];

fn table(
    key: &'static str,
    title: &str,
    first: &str,
    rows: Vec<(String, Levels)>,
    orientation: Orientation,
    note: &str,
) -> StatTable {
    let total = rows
        .iter()
        .fold(Levels::default(), |acc, (_, l)| acc.merged(l));
    StatTable {
        key,
        title: title.into(),
        headers: headers(first),
        footer: Some(total.row("合计".into())),
        note: note.into(),
        chart: Some(BarChart {
            title: title.into(),
            orientation,
            series: SERIES.iter().map(|s| s.to_string()).collect(),
            items: rows
                .iter()
                .map(|(label, l)| {
                    (
                        label.clone(),
                        vec![l.satisfied(), l.total() - l.satisfied()],
                    )
                })
                .collect(),
        }),
        rows: rows.iter().map(|(label, l)| l.row(label.clone())).collect(),
    }
}

/// 满意度统计 of the ratings given in the period: by month and by district (county staff: their
/// own district), each level's count, the number of ratings and the satisfaction rate; and the
/// follow-up items of the period, how many were closed and how many in time.
pub async fn statistics(
    state: &AppState,
    p: &Principal,
    period: &Period,
) -> Outcome<Vec<StatTable>> {
    if p.role == Role::Unit {
        return Err(Error::Forbidden);
    }
    let pool = state.pool();
    let (from_ts, to_ts) = period.bounds();
    let district = p.district_scope();
    let tally = ratings::tally(pool, from_ts, to_ts, district).await?;

    let mut months: BTreeMap<(i32, u32), Levels> = period
        .months()
        .into_iter()
        .map(|m| (m, Levels::default()))
        .collect();
    let mut by_district: BTreeMap<i64, Levels> = BTreeMap::new();
    for t in &tally {
        let d = crate::store::stats::date_of_day(t.day);
        months
            .entry((d.year(), d.month()))
            .or_default()
            .add(t.level, t.count);
        by_district
            .entry(t.district_id)
            .or_default()
            .add(t.level, t.count);
    }
    let note = "统计口径：统计期间内提交的评价（以北京时间计），每次评价计一次（差评整改后重新评价的，另计一次）。满意率＝（非常满意＋满意＋基本满意）÷评价数。";
    let month_rows = months
        .into_iter()
        .map(|((y, m), l)| (format!("{y}-{m:02}"), l))
        .collect();
    let mut out = vec![table(
        "rating_month",
        "满意度（按月）",
        "月份",
        month_rows,
        Orientation::Vertical,
        note,
    )];

    let districts = crate::store::stats::districts(pool).await?;
    let district_rows = districts
        .iter()
        .filter(|(id, _, retired)| match district {
            Some(own) => *id == own,
            None => !retired || by_district.contains_key(id),
        })
        .map(|(id, name, _)| {
            (
                name.clone(),
                by_district.get(id).copied().unwrap_or_default(),
            )
        })
        .collect();
    out.push(table(
        "rating_district",
        "满意度（按县区）",
        "县区",
        district_rows,
        Orientation::Horizontal,
        "县区为评价时邀请单位的属地。",
    ));

    // The follow-up items of the period.
    let holidays = holidays(state).await?;
    let today = state.today();
    let items = ratings::followup_times(pool, from_ts, to_ts, district).await?;
    let (mut open, mut open_late, mut done, mut done_late) = (0, 0, 0, 0);
    for (rated_at, f, replied_at) in &items {
        let due = add_working_days(beijing_date(*rated_at), FOLLOW_UP_DAYS, &holidays);
        match (f, replied_at) {
            (FollowUp::Done, Some(at)) => {
                done += 1;
                if beijing_date(*at) > due {
                    done_late += 1;
                }
            }
            _ => {
                open += 1;
                if today > due {
                    open_late += 1;
                }
            }
        }
    }
    let n = |x: i64| Cell::Int(x);
    out.push(StatTable {
        key: "rating_followup",
        title: "差评整改".into(),
        headers: vec![
            "差评数".into(),
            "已办结".into(),
            "其中超期办结".into(),
            "整改中".into(),
            "其中已超期".into(),
        ],
        rows: vec![vec![
            n(open + done),
            n(done),
            n(done_late),
            n(open),
            n(open_late),
        ]],
        footer: None,
        note: format!("统计期间内的差评（不满意、非常不满意）及其整改：市外办应在{FOLLOW_UP_DAYS}个工作日内办结并答复。"),
        chart: None,
    });
    Ok(out)
}

/// What the statistics of a principal cover: the county's district by name, or 全市.
pub async fn scope_name(state: &AppState, p: &Principal) -> Outcome<String> {
    super::oversight::scope_name(state, p).await
}
