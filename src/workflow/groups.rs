//! 团组: the enforcement of a group's life as `domain::group_flow` declares it. A unit applies
//! (【保存】, uploads, 【打印】, 【提交】), the county passes or returns it, the city accepts,
//! reports, dispatches or returns it. Every action is checked against the table before the
//! request's input is read ([`own`], [`review`]); every state change is one transaction whose
//! `UPDATE` checks the state again, with its audit entry and the unit's message, the SMS after
//! commit. Pages and the API call these functions; they hold no HTML and no URLs.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::access::{self, Kind, Seen};
use super::error::{Error, Outcome};
use super::files::{self, Accept, Upload};
use super::notify::{self, Notice};
use super::reference::limits;
use crate::db::Tx;
use crate::domain::audit::ObjectType;
use crate::domain::fields::{too_long, FieldErrors, MAX_SEARCH};
use crate::domain::group::{
    data_hash, parse_verification_no, warnings, working_days_left, Attachment, Choices, EntryType,
    Ground, GroupData, GroupForm, GroupState, Trip, UploadSlot, VisitorData, VisitorForm,
    MAX_VISITORS, TOO_MANY_VISITORS,
};
use crate::domain::group_fields::{self as fields, ItineraryForm};
use crate::domain::group_flow::{self, GroupAction, Sequence, CREATE_AUDIT_NAME};
use crate::domain::principal::{Actor, Principal};
use crate::domain::registration::RegState;
use crate::state::AppState;
use crate::store::audit::{self, Entry};
use crate::store::groups::{self, Change, Group, GroupRow, HistoryFilter, Visitor};
use crate::store::reference::{self, Content, FileMeta};
use crate::store::refs::Lists;
use crate::store::units::{self, Unit};
use crate::store::Conn;

/// The audit log's object type of a group.
const OBJECT: ObjectType = ObjectType::Group;

/// The pages of a group in the access log.
const PAGE_FORM: &str = "团组申报表";
const PAGE_RECORD: &str = "团组记录";
const PAGE_PRINT: &str = "邀请外国人来华申请表";
const PAGE_FILE: &str = "团组附件";

/// What a reviewer is told when someone else acted on the group first.
const STALE: &str = "该团组已被他人处理或状态已变化，请返回待办刷新后查看";

/// The refusal of an action the principal's role takes, but not in the group's state now.
pub(super) fn refusal(action: GroupAction) -> &'static str {
    match action {
        GroupAction::Save => "团组已提交，不能修改",
        GroupAction::Upload => "团组已提交，不能修改附件",
        GroupAction::Submit => "团组已提交，请勿重复提交",
        GroupAction::Withdraw => {
            "县区外办已办理该团组，不能撤回。如需修改，请联系县区外办或市外办退件。"
        }
        GroupAction::Delete => "只能删除从未提交过的草稿，该团组已提交或已删除。",
        GroupAction::Cancel => "只有已发件的团组才能取消邀请，该团组的状态已变化。",
        _ => STALE,
    }
}

// ---- who acts ----

/// A unit account whose unit may apply for groups now: approved and not on the dishonesty list.
pub struct Applicant {
    principal: Principal,
    unit: Unit,
}

impl Applicant {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    pub fn unit(&self) -> &Unit {
        &self.unit
    }
}

/// Checks that the principal's unit (read once per request by the caller) may apply.
pub fn applicant(p: &Principal, unit: Option<Unit>) -> Outcome<Applicant> {
    let unit = unit
        .filter(|u| p.own_unit() == Some(u.id))
        .ok_or(Error::NotFound)?;
    if unit.state != RegState::Approved {
        return Err(Error::Stale(
            "审核通过前无数据申报功能，请等待注册审核通过。".into(),
        ));
    }
    if unit.blacklisted {
        return Err(Error::Stale("帐号状态异常，请联系市外办处理。".into()));
    }
    Ok(Applicant {
        principal: p.clone(),
        unit,
    })
}

/// A group the principal may take `action` on, as read at the start of the request: the action
/// functions take one, so the check comes before any input (an upload) is read.
#[derive(Clone, Debug)]
pub struct Allowed {
    group: Group,
    action: GroupAction,
    /// The state the action leads to.
    to: GroupState,
}

impl Allowed {
    pub fn group(&self) -> &Group {
        &self.group
    }
    /// The action it was checked for.
    pub(super) fn action(&self) -> GroupAction {
        self.action
    }
    pub(super) fn expect(&self, action: GroupAction) -> Outcome<()> {
        if self.action == action {
            Ok(())
        } else {
            Err(Error::Fault(anyhow::anyhow!(
                "group {} was checked for {:?}, not {action:?}",
                self.group.id,
                self.action
            )))
        }
    }
}

/// The table's answer for this principal, group and action: the next state, or why not.
fn next(p: &Principal, g: &Group, action: GroupAction) -> Outcome<GroupState> {
    answer(p, g.state, g.district_id, g.unit_id, action)
}

/// The table's answer for a group in `from` of `unit` in `district`.
fn answer(
    p: &Principal,
    from: GroupState,
    district: i64,
    unit: i64,
    action: GroupAction,
) -> Outcome<GroupState> {
    match group_flow::may(p, from, action, district, unit) {
        Some(to) => Ok(to),
        None if group_flow::role_takes(p.role, action) => Err(Error::Stale(refusal(action).into())),
        None => Err(Error::Forbidden),
    }
}

fn check(p: &Principal, group: Group, action: GroupAction) -> Outcome<Allowed> {
    let to = next(p, &group, action)?;
    Ok(Allowed { group, action, to })
}

/// A group the principal may see (one answer, not found, for a group that does not exist).
async fn visible(state: &AppState, p: &Principal, id: i64) -> Outcome<Group> {
    groups::get(state.pool(), id)
        .await?
        .filter(|g| group_flow::may_view(p, g.state, g.district_id, g.unit_id))
        .ok_or(Error::NotFound)
}

/// The applicant's own group.
pub(super) async fn own_group(state: &AppState, a: &Applicant, id: i64) -> Outcome<Group> {
    groups::get(state.pool(), id)
        .await?
        .filter(|g| g.unit_id == a.unit.id)
        .ok_or(Error::NotFound)
}

/// The applicant's group, for `action` (【保存】, upload, 【提交】, 【撤回】, 【删除草稿】, 【取消邀请】).
pub async fn own(
    state: &AppState,
    a: &Applicant,
    id: i64,
    action: GroupAction,
) -> Outcome<Allowed> {
    let g = own_group(state, a, id).await?;
    check(&a.principal, g, action)
}

/// A group a reviewer acts on.
pub async fn review(
    state: &AppState,
    p: &Principal,
    id: i64,
    action: GroupAction,
) -> Outcome<Allowed> {
    let g = visible(state, p, id).await?;
    check(p, g, action)
}

/// The principal's 【退件】 (the county's or the city's).
pub fn returning(p: &Principal) -> Outcome<GroupAction> {
    group_flow::return_action(p.role).ok_or(Error::Forbidden)
}

// ---- the unit's pages ----

/// Overdue post-visit registrations of a unit, and whether they block new groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overdue {
    pub visitors: usize,
    pub blocks: bool,
}

impl Overdue {
    /// The warning shown to the unit (and the refusal of a new group when it blocks).
    pub fn message(&self) -> Option<String> {
        let n = self.visitors;
        match (n, self.blocks) {
            (0, _) => None,
            (_, true) => Some(format!("您单位有{n}名到访人员的销签登记已逾期。按市外办规定，请先办理销签登记，再申报新的团组。")),
            (_, false) => Some(format!(
                "您单位有{n}名到访人员的销签登记已逾期，请尽快在“销签登记”中办理。"
            )),
        }
    }
}

/// The unit's overdue post-visit registrations: overdue (and warned about) some days after the
/// planned departure, blocking new groups when the settings say so.
pub async fn overdue_block(state: &AppState, unit_id: i64) -> Outcome<Overdue> {
    let (visitors, blocks) = super::visits::overdue_warning(state, unit_id).await?;
    Ok(Overdue { visitors, blocks })
}

/// 来华申报: the unit's latest groups, its 办理进度 and its overdue registrations.
pub async fn home(state: &AppState, a: &Applicant) -> Outcome<(Vec<GroupRow>, Progress, Overdue)> {
    let rows = groups::latest(state.pool(), a.unit.id, 5).await?;
    let progress = progress(state, a).await?;
    let overdue = overdue_block(state, a.unit.id).await?;
    Ok((rows, progress, overdue))
}

/// At most this many groups in 办理进度: a unit has a handful in progress; the page says when
/// there are more (申报历史查询 finds each by its state).
const PROGRESS_ROWS: usize = 100;

/// 办理进度 (issue 17): each of the unit's groups in progress, newest first, with its step, the
/// working days left of the offices' time limit while it is with them, and the next step.
pub struct Progress {
    pub rows: Vec<GroupRow>,
    /// The offices' time limit in working days.
    pub limit: i64,
    /// More groups are in progress than `rows` shows.
    pub more: bool,
}

impl Progress {
    /// Whether the offices' time limit runs for `r` (submitted, with county or city).
    pub fn timed(&self, r: &GroupRow) -> bool {
        r.submitted_at.is_some() && group_flow::with_offices(r.state)
    }
}

/// The unit's 办理进度, for 来华申报 and 申报历史查询.
pub async fn progress(state: &AppState, a: &Applicant) -> Outcome<Progress> {
    let mut rows = groups::of_unit_in(
        state.pool(),
        a.unit.id,
        &group_flow::IN_PROGRESS,
        PROGRESS_ROWS as i64 + 1,
    )
    .await?;
    let more = rows.len() > PROGRESS_ROWS;
    rows.truncate(PROGRESS_ROWS);
    let (limit, holidays) = limits(state).await?;
    let today = state.today();
    for r in &mut rows {
        if let (Some(ts), true) = (r.submitted_at, group_flow::with_offices(r.state)) {
            r.days_left = working_days_left(beijing_date(ts), today, limit, &holidays);
        }
    }
    Ok(Progress { rows, limit, more })
}

/// The invitation notice the unit confirms before a new group.
pub async fn notice(state: &AppState, _a: &Applicant) -> Outcome<Content> {
    Ok(reference::text(state.pool(), crate::domain::texts::Text::InvitationNotice).await?)
}

/// An upload slot of the group (per-visitor scans are in the visitor blocks).
pub struct FileSlot {
    pub code: &'static str,
    pub name: &'static str,
    pub required: bool,
    pub file: Option<FileMeta>,
}

/// The group's attachments the form offers for this entry type (`None`: not chosen yet).
pub fn file_slots(
    entry_type: Option<EntryType>,
    attachments: &BTreeMap<Attachment, FileMeta>,
) -> Vec<FileSlot> {
    Attachment::ALL
        .into_iter()
        .filter(|a| a.offered(entry_type, attachments.contains_key(a)))
        .map(|a| FileSlot {
            code: a.code(),
            name: a.name(),
            required: a.required(entry_type),
            file: attachments.get(&a).cloned(),
        })
        .collect()
}

/// A visitor block of the form, with the visitor's scans once saved.
pub struct VisitorSlot {
    pub index: usize,
    pub id: Option<i64>,
    pub form: VisitorForm,
    pub passport: Option<FileMeta>,
    pub visa: Option<FileMeta>,
}

/// A visitor block as posted: its row id when saved before, and what was typed.
pub type TypedVisitor = (Option<i64>, VisitorForm);

/// What the group form shows.
pub struct FormView {
    /// The saved group (none before the first 【保存】).
    pub group: Option<Group>,
    pub form: GroupForm,
    pub visitors: Vec<VisitorSlot>,
    /// The choices of the form (retired entries are the page's to add).
    pub lists: Lists,
    /// Warnings about the saved version.
    pub warnings: Vec<String>,
    pub files: Vec<FileSlot>,
}

/// The form's data: the saved group's visitors (with their scans), warnings and attachments,
/// and `typed` instead of the saved visitors when given. The saved visitors are recorded as
/// seen by `p` (the page shows their data, scans and passport warnings).
pub(super) async fn form_view(
    state: &AppState,
    p: &Principal,
    group: Option<Group>,
    form: GroupForm,
    typed: Option<Vec<TypedVisitor>>,
) -> Outcome<FormView> {
    let mut form = form;
    let lists = crate::workflow::reference::lists(state).await?;
    if form.itinerary.is_empty() {
        form.itinerary.push(ItineraryForm::default());
    }
    let (saved, warnings, attachments) = match &group {
        Some(g) => {
            let seen = Seen::group(Kind::Page, PAGE_FORM, g.id);
            let vs = access::group_visitors(state, p, g.id, &seen).await?;
            let w = group_warnings(state, g, &vs).await?;
            let att = groups::attachments(state.pool(), g.id).await?;
            (vs, w, att)
        }
        None => (Vec::new(), Vec::new(), BTreeMap::new()),
    };
    let mut rows = typed.unwrap_or_else(|| {
        saved
            .iter()
            .map(|v| (Some(v.id), v.data.to_form()))
            .collect()
    });
    default_visa_types(&lists, &form, &mut rows);
    // The saved visitors' scans in one statement.
    let ids: Vec<i64> = saved
        .iter()
        .flat_map(|v| [v.passport_file_id, v.visa_file_id])
        .flatten()
        .collect();
    let metas = reference::files(state.pool(), &ids).await?;
    let meta = |id: Option<i64>| id.and_then(|id| metas.get(&id).cloned());
    let visitors = rows
        .into_iter()
        .enumerate()
        .map(|(index, (id, form))| {
            let v = id.and_then(|id| saved.iter().find(|v| v.id == id));
            VisitorSlot {
                index,
                id,
                form,
                passport: meta(v.and_then(|v| v.passport_file_id)),
                visa: meta(v.and_then(|v| v.visa_file_id)),
            }
        })
        .collect();
    let files = file_slots(EntryType::parse(&form.entry_type), &attachments);
    Ok(FormView {
        group,
        form,
        visitors,
        lists,
        warnings,
        files,
    })
}

/// Warnings of the saved version, as its unit reads them: passport validity, arrival soon, the
/// same passport elsewhere in the same period. Of its own other groups the unit is told the
/// numbers; of another unit's application only that there is one (never which, nor whose).
async fn group_warnings(state: &AppState, g: &Group, vs: &[Visitor]) -> Outcome<Vec<String>> {
    let data: Vec<VisitorData> = vs.iter().map(|v| v.data.clone()).collect();
    let mut out = warnings(&g.data, &data, state.today());
    for v in vs {
        let others = overlapping(state, g, v).await?;
        let (own, foreign): (Vec<_>, Vec<_>) = others.iter().partition(|o| o.unit_id == g.unit_id);
        if !own.is_empty() {
            let numbers: Vec<&str> = own.iter().map(|o| o.number.as_str()).collect();
            out.push(format!(
                "护照号码{}（{}）已在同期的其他团组中申报：{}",
                v.data.passport_no,
                v.data.full_name(),
                numbers.join("、")
            ));
        }
        if !foreign.is_empty() {
            out.push(format!(
                "护照号码{}（{}）已出现在同期的其他申请中，请核实到访人员信息",
                v.data.passport_no,
                v.data.full_name(),
            ));
        }
    }
    Ok(out)
}

/// The other groups with visitor `v`'s passport in the period of group `g`.
async fn overlapping(state: &AppState, g: &Group, v: &Visitor) -> Outcome<Vec<groups::Overlap>> {
    Ok(groups::overlapping(
        state.pool(),
        &state.keys,
        g.id,
        &v.data.passport_no,
        &g.data.arrival.to_string(),
        &g.data.departure.to_string(),
    )
    .await?)
}

/// A passport of a group that appears in other groups of the same period, as a reviewer sees
/// it: the groups they may see (a county its district's, the city those it reviews).
pub struct Duplicate {
    pub passport_no: String,
    pub name: String,
    pub groups: Vec<groups::Overlap>,
}

/// The duplicates of group `g`'s visitors a reviewer is shown (none for the unit: its form
/// warns it, without naming other units' groups).
async fn duplicates(
    state: &AppState,
    p: &Principal,
    g: &Group,
    vs: &[Visitor],
) -> Outcome<Vec<Duplicate>> {
    if p.role == crate::domain::principal::Role::Unit {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for v in vs {
        let seen: Vec<groups::Overlap> = overlapping(state, g, v)
            .await?
            .into_iter()
            .filter(|o| group_flow::may_view(p, o.state, o.district_id, o.unit_id))
            .collect();
        if !seen.is_empty() {
            out.push(Duplicate {
                passport_no: v.data.passport_no.clone(),
                name: v.data.full_name(),
                groups: seen,
            });
        }
    }
    Ok(out)
}

/// A new, empty group form (contact prefilled from the registration), unless overdue
/// post-visit registrations block new groups.
pub async fn blank(state: &AppState, a: &Applicant) -> Outcome<FormView> {
    let overdue = overdue_block(state, a.unit.id).await?;
    if overdue.blocks {
        return Err(Error::Stale(overdue.message().unwrap_or_default()));
    }
    let form = GroupForm {
        contact_name: a.unit.data.contact_name.clone(),
        contact_phone: a.unit.mobile.clone(),
        entry_type: EntryType::Single.as_str().into(),
        ..GroupForm::default()
    };
    form_view(
        state,
        &a.principal,
        None,
        form,
        Some(vec![(None, VisitorForm::default())]),
    )
    .await
}

/// What the group's page shows its unit: the form while it may edit, the record after.
pub enum Opened {
    Form(Box<FormView>),
    Record(Box<Record>),
}

/// The applicant's group page.
pub async fn open(state: &AppState, a: &Applicant, id: i64) -> Outcome<Opened> {
    let g = own_group(state, a, id).await?;
    match next(&a.principal, &g, GroupAction::Save) {
        Ok(_) => {
            let form = saved_form(&g);
            let view = form_view(state, &a.principal, Some(g), form, None).await?;
            Ok(Opened::Form(Box::new(view)))
        }
        Err(_) => Ok(Opened::Record(Box::new(
            record_of(state, &a.principal, g).await?,
        ))),
    }
}

/// A saved group's form: its data, and the rules' confirmation as it was given.
fn saved_form(g: &Group) -> GroupForm {
    GroupForm {
        informed: if g.informed_at.is_some() { "1" } else { "" }.into(),
        ..g.data.to_form(&g.country)
    }
}

/// The form again: of the group `t` (or a new one), with what was typed when given, else as saved.
pub async fn form_again(
    state: &AppState,
    a: &Applicant,
    t: Option<&Allowed>,
    typed: Option<(GroupForm, Vec<TypedVisitor>)>,
) -> Outcome<FormView> {
    let group = t.map(|t| t.group.clone());
    match typed {
        Some((form, visitors)) => form_view(state, &a.principal, group, form, Some(visitors)).await,
        None => {
            let form = group.as_ref().map(saved_form).unwrap_or_default();
            form_view(state, &a.principal, group, form, None).await
        }
    }
}

/// Fills the visa type of the visitors whose clerk has not chosen one with the type the
/// purpose calls for, when that type is offered.
fn default_visa_types(lists: &Lists, form: &GroupForm, visitors: &mut [TypedVisitor]) {
    let Some(code) = fields::default_visa_type(form.purpose.trim()) else {
        return;
    };
    if !lists.visa_types.iter().any(|c| c.code == code) {
        return;
    }
    for (_, v) in visitors.iter_mut() {
        if v.visa_type.trim().is_empty() {
            v.visa_type = code.to_string();
        }
    }
}

/// Itinerary rows: one more blank row (refused past the maximum).
pub fn add_itinerary_row(form: &mut GroupForm) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if form.itinerary.len() >= fields::MAX_ITINERARY {
        errors.add(
            "itinerary",
            format!(
                "在华日程不能超过{}行，请合并同日的活动",
                fields::MAX_ITINERARY
            ),
        );
    } else {
        form.itinerary.push(ItineraryForm::default());
    }
    errors
}

/// Visitor blocks: one more (refused past the maximum, with the manual's sentence).
pub fn add_visitor(visitors: &mut Vec<TypedVisitor>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if visitors.len() >= MAX_VISITORS {
        errors.add("visitors", TOO_MANY_VISITORS);
    } else {
        visitors.push((None, VisitorForm::default()));
    }
    errors
}

/// A visitor to save, with its row id when it exists already.
type KeptVisitor = (Option<i64>, VisitorData);

/// Validates the whole form against the reference data in force; (group, visitors) or the errors.
fn validate(
    lists: &Lists,
    form: &GroupForm,
    typed: &[TypedVisitor],
    today: NaiveDate,
) -> Result<(GroupData, Vec<KeptVisitor>), FieldErrors> {
    with_choices(lists, |choices| {
        validate_with(lists, choices, form, typed, today)
    })
}

/// The reference lists in force as the domain's checks take them, given to `f`.
pub(super) fn with_choices<R>(lists: &Lists, f: impl FnOnce(&Choices) -> R) -> R {
    let purposes: Vec<&str> = lists.purposes.iter().map(|c| c.code.as_str()).collect();
    let bearers: Vec<&str> = lists.cost_bearers.iter().map(|c| c.code.as_str()).collect();
    let missions: Vec<(i64, &str)> = lists
        .missions
        .iter()
        .map(|m| (m.id, m.host_alpha3.as_str()))
        .collect();
    let nationalities: Vec<&str> = lists
        .nationalities()
        .iter()
        .map(|c| c.alpha3.as_str())
        .collect();
    let visa_types: Vec<&str> = lists.visa_types.iter().map(|c| c.code.as_str()).collect();
    let countries: Vec<&str> = lists.countries.iter().map(|c| c.alpha3.as_str()).collect();
    let choices = Choices {
        purposes: &purposes,
        cost_bearers: &bearers,
        missions: &missions,
        nationalities: &nationalities,
        visa_types: &visa_types,
        countries: &countries,
    };
    f(&choices)
}

fn validate_with(
    lists: &Lists,
    choices: &Choices,
    form: &GroupForm,
    typed: &[TypedVisitor],
    today: NaiveDate,
) -> Result<(GroupData, Vec<KeptVisitor>), FieldErrors> {
    let group = form.validate(choices, today);
    let mut errors = match &group {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let trip = Trip::of(form);
    let mut typed = typed.to_vec();
    default_visa_types(lists, form, &mut typed);
    let filled: Vec<&TypedVisitor> = typed
        .iter()
        .filter(|(id, v)| id.is_some() || !v.is_blank())
        .collect();
    if filled.is_empty() {
        errors.add("visitors", "请至少填写一名到访人员");
    }
    if !errors.has("size") {
        fields::validate_size(&form.size, filled.len(), &mut errors);
    }
    let mut visitors = Vec::new();
    for (i, (id, v)) in filled.iter().enumerate() {
        if let Some(d) = v.validate(i, choices, &trip, today, &mut errors) {
            visitors.push((*id, d));
        }
    }
    let mut seen = Vec::new();
    for (i, (_, v)) in visitors.iter().enumerate() {
        if seen.contains(&v.passport_no) {
            errors.add(&format!("v{i}_passport_no"), "同一团组内护照号码重复");
        }
        seen.push(v.passport_no.clone());
    }
    match group {
        Ok(g) if errors.is_empty() => Ok((g, visitors)),
        _ => Err(errors),
    }
}

/// The next number of a per-year sequence, formatted.
async fn draw(conn: &mut Conn, sequence: Sequence, today: NaiveDate) -> Outcome<String> {
    let year = today.year();
    let seq = groups::next_in_sequence(conn, sequence, i64::from(year)).await?;
    Ok(sequence.format(year, seq))
}

/// 【保存】: creates the draft with its number (no `t`) or saves the group `t` and its visitors;
/// returns the group's id. A change after 【打印】 voids the print.
/// The message beside the confirmation of the rules on personal information when it is not
/// ticked.
pub const NOT_INFORMED: &str = "请确认已将《个人信息处理规则》告知全部来访人员并取得其同意";

pub async fn save(
    state: &AppState,
    a: &Applicant,
    t: Option<&Allowed>,
    form: &GroupForm,
    typed: &[TypedVisitor],
) -> Outcome<i64> {
    save_as(state, a, t, form, typed, None).await
}

/// [`save`], and for a new group copied from `copied_from` (再次邀请) the `group.copy` entry in
/// the same transaction.
pub(super) async fn save_as(
    state: &AppState,
    a: &Applicant,
    t: Option<&Allowed>,
    form: &GroupForm,
    typed: &[TypedVisitor],
    copied_from: Option<&Group>,
) -> Outcome<i64> {
    if let Some(t) = t {
        t.expect(GroupAction::Save)?;
    }
    let lists = crate::workflow::reference::lists(state).await?;
    let checked = validate(&lists, form, typed, state.today());
    // The rules on personal information told to the visitors (issue 18), asked beside the
    // other fields' messages.
    let (data, visitors) = match (checked, form.informed == "1") {
        (Ok(ok), true) => ok,
        (checked, informed) => {
            let mut e = checked.err().unwrap_or_default();
            if !informed {
                e.add("informed", NOT_INFORMED);
            }
            return Err(Error::Invalid(e));
        }
    };
    let vdata: Vec<VisitorData> = visitors.iter().map(|(_, v)| v.clone()).collect();
    let hash = data_hash(&data, &vdata);
    let now = state.now();
    let actor = &a.principal.actor;
    if t.is_none() {
        // A new group: refused like the blank form while overdue registrations block it.
        let overdue = overdue_block(state, a.unit.id).await?;
        if overdue.blocks {
            return Err(Error::Stale(overdue.message().unwrap_or_default()));
        }
    }
    let mut tx = state.db.begin().await?;
    let id = match t {
        None => {
            // The unit's row is locked while it may apply: a 失信 decision or a review of it
            // waits for this group.
            if !units::lock_applicant(tx.conn(), a.unit.id).await? {
                return Err(Error::Stale("帐号状态异常，请联系市外办处理。".into()));
            }
            let number = draw(tx.conn(), Sequence::Group, state.today()).await?;
            let id = groups::insert(tx.conn(), a.unit.id, &number, &data, &hash, now).await?;
            audit::write(
                tx.conn(),
                actor,
                now,
                CREATE_AUDIT_NAME,
                OBJECT,
                &id.to_string(),
                &format!("团组编号{number}"),
            )
            .await?;
            if let Some(src) = copied_from {
                audit::write(
                    tx.conn(),
                    actor,
                    now,
                    crate::domain::group_flow::COPY_AUDIT_NAME,
                    OBJECT,
                    &id.to_string(),
                    &format!("再次邀请：复制自团组{}", src.number),
                )
                .await?;
            }
            id
        }
        Some(t) => {
            let g = &t.group;
            if !groups::update(tx.conn(), g.id, &data, &hash, now).await? {
                return Err(Error::Stale(refusal(GroupAction::Save).into()));
            }
            let detail = if g.data_hash != hash && g.printed_hash.is_some() {
                "数据已修改，原打印件作废"
            } else {
                ""
            };
            audit::write(
                tx.conn(),
                actor,
                now,
                GroupAction::Save.audit_name(),
                OBJECT,
                &g.id.to_string(),
                detail,
            )
            .await?;
            g.id
        }
    };
    groups::save_visitors(tx.conn(), &state.keys, id, &visitors).await?;
    groups::record_informed(tx.conn(), id, now).await?;
    crate::store::itinerary::save(tx.conn(), id, &data.itinerary).await?;
    tx.commit().await?;
    Ok(id)
}

/// An upload slot of the group `t`, checked before the upload is read.
pub struct Slot(UploadSlot);

impl Slot {
    /// The slot's code (the form marks the slot of a refused upload).
    pub fn code(&self) -> String {
        self.0.code()
    }
}

/// The slot `code` of the group `t`: not found unless it is one of the group's (a visitor's
/// scan of one of its visitors); the stamped scan only after the current version was printed.
pub async fn upload_slot(state: &AppState, t: &Allowed, code: &str) -> Outcome<Slot> {
    t.expect(GroupAction::Upload)?;
    let slot = UploadSlot::parse(code).ok_or(Error::NotFound)?;
    if let UploadSlot::Visitor(_, vid) = slot {
        let vs = groups::visitors(state.pool(), &state.keys, t.group.id).await?;
        if !vs.iter().any(|v| v.id == vid) {
            return Err(Error::NotFound);
        }
    }
    if slot == UploadSlot::Scan && !t.group.printed_current() {
        return Err(Error::invalid(
            &slot.code(),
            "请先【打印】当前版本的申请表，盖章签字后再上传扫描件",
        ));
    }
    Ok(Slot(slot))
}

/// Stores an upload (a PDF, JPEG or PNG scan) in its slot; a refusal of its content names the
/// slot's code as the field. `t` was checked before the upload was read, which may have taken
/// long: the group is checked again, locked in the transaction that links the file, so a group
/// submitted (or reviewed) meanwhile keeps its files and nothing is stored.
pub async fn upload(
    state: &AppState,
    a: &Applicant,
    t: &Allowed,
    slot: &Slot,
    file: &Upload,
) -> Outcome<()> {
    t.expect(GroupAction::Upload)?;
    let id = t.group.id;
    let checked = files::check(file, Accept::Scan, &slot.code())?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !groups::lock_editable(tx.conn(), id).await? {
        return Err(Error::Stale(refusal(GroupAction::Upload).into()));
    }
    let file_id = files::store(state, tx.conn(), checked, Some(a.principal.user_id), now).await?;
    let ok = match slot.0 {
        UploadSlot::Visitor(scan, vid) => {
            groups::set_visitor_file(tx.conn(), id, vid, scan, file_id).await?
        }
        UploadSlot::Scan => groups::set_scan(tx.conn(), id, file_id, now).await?,
        UploadSlot::Attachment(attachment) => {
            groups::set_attachment(tx.conn(), id, attachment, file_id, now).await?;
            true
        }
    };
    if !ok {
        return Err(Error::Stale("团组已变化，请刷新页面后重试".into()));
    }
    audit::write(
        tx.conn(),
        &a.principal.actor,
        now,
        GroupAction::Upload.audit_name(),
        OBJECT,
        &id.to_string(),
        &format!("{}：{}", slot.0.label(), file.name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What is missing before 【提交】: 【提交】 refuses while there is anything, and the
/// confirmation step does not ask first (the form says what to complete).
pub async fn missing_for_submit(state: &AppState, group: &Group) -> Outcome<Vec<String>> {
    let mut missing = Vec::new();
    let vs = groups::visitors(state.pool(), &state.keys, group.id).await?;
    if vs.is_empty() {
        missing.push("到访人员".to_string());
    }
    for v in &vs {
        if v.passport_file_id.is_none() {
            missing.push(format!("{}的护照扫描件", v.data.full_name()));
        }
    }
    let att = groups::attachments(state.pool(), group.id).await?;
    for slot in file_slots(Some(group.data.entry_type), &att) {
        if slot.required && slot.file.is_none() {
            missing.push(slot.name.to_string());
        }
    }
    if !group.printed_current() {
        missing.push("当前版本的【打印】（保存后内容有修改，请重新打印）".into());
    } else if !group.scan_current() {
        missing.push("盖章签字的申请表扫描件（须为当前打印版本）".into());
    }
    Ok(missing)
}

/// 【提交】 to the county: read-only from now on. Refused (field `submit`) while something is
/// missing.
pub async fn submit(state: &AppState, a: &Applicant, t: &Allowed) -> Outcome<()> {
    t.expect(GroupAction::Submit)?;
    let g = &t.group;
    let missing = missing_for_submit(state, g).await?;
    if !missing.is_empty() {
        return Err(Error::invalid(
            "submit",
            format!("提交前请补齐：{}", missing.join("；")),
        ));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !groups::submit(tx.conn(), g.id, now).await? {
        return Err(Error::Stale("团组已提交或已变化，请刷新页面".into()));
    }
    let done = Done {
        action: GroupAction::Submit,
        detail: if g.state == GroupState::Returned {
            "重新提交".into()
        } else {
            String::new()
        },
        notice: notify::group_submitted(&g.number),
    };
    // The unit's own action: the message comes from the system.
    finish(
        state,
        tx,
        g,
        &a.principal.actor,
        &Actor::system(),
        done,
        now,
    )
    .await
}

// ---- printing and files ----

/// The application form of the saved version: its data, its file name, and the PDF (none
/// without a CJK font: the page prints the same form as HTML).
pub struct Printed {
    pub file_name: String,
    pub form: crate::pdf::FormData,
    pub pdf: Option<Vec<u8>>,
}

/// 【打印】 the 《邀请外国人来华申请表》 of a group the principal may see. When its unit prints
/// it while it may edit it, the printed version is recorded (the stamped scan must be of it).
pub async fn print(state: &AppState, p: &Principal, id: i64) -> Outcome<Printed> {
    let g = visible(state, p, id).await?;
    let form = form_data(state, p, &g).await?;
    if form.visitors.is_empty() {
        return Err(Error::Stale("请先填写到访人员并【保存】".into()));
    }
    if next(p, &g, GroupAction::Print).is_ok() {
        let now = state.now();
        let mut tx = state.db.begin().await?;
        if groups::mark_printed(tx.conn(), g.id, &g.data_hash).await? && !g.printed_current() {
            audit::write(
                tx.conn(),
                &p.actor,
                now,
                GroupAction::Print.audit_name(),
                OBJECT,
                &g.id.to_string(),
                &format!("数据版本{}", g.short_hash()),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let file_name = format!("邀请外国人来华申请表-{}.pdf", g.number);
    let pdf = match state.printer.render_blocking(form.clone()).await {
        Ok(pdf) => Some(pdf),
        Err(crate::pdf::PdfError::NoFont) => None,
        Err(e) => {
            return Err(Error::Fault(anyhow::anyhow!(
                "printing group {}: {e}",
                g.number
            )))
        }
    };
    Ok(Printed {
        file_name,
        form,
        pdf,
    })
}

/// The application form's data, its visitors recorded as printed by `p`.
async fn form_data(
    state: &AppState,
    p: &Principal,
    group: &Group,
) -> Outcome<crate::pdf::FormData> {
    let unit = units::get(state.pool(), group.unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    let lists = crate::workflow::reference::lists(state).await?;
    let seen = Seen::group(Kind::Print, PAGE_PRINT, group.id);
    let vs = access::group_visitors(state, p, group.id, &seen).await?;
    Ok(crate::pdf::FormData {
        group_number: group.number.clone(),
        data_hash: group.data_hash.clone(),
        printed_at: crate::clock::fmt_ts(state.now()),
        office_name: crate::workflow::reference::site(state)
            .await?
            .office_name
            .clone(),
        unit: crate::pdf::UnitInfo {
            name: unit.data.name.clone(),
            english_name: unit.data.english_name.clone(),
            credit_code: unit.data.credit_code.clone(),
            address: unit.data.address.clone(),
            contact_name: unit.data.contact_name.clone(),
            contact_phone: unit.data.landline.clone(),
            district: unit.district_name.clone(),
        },
        group: crate::pdf::GroupInfo {
            name: group.data.name.clone(),
            purpose: lists.purpose_name(&group.data.purpose),
            arrival: group.data.arrival.to_string(),
            departure: group.data.departure.to_string(),
            places: group.data.places.clone(),
            cost_bearer: lists.cost_bearer_name(&group.data.cost_bearer),
            country: group.country_name.clone(),
            mission: group.mission_name.clone(),
            entry_type: group.data.entry_type.label().to_string(),
            entry_ground: group.data.ground.map_or("", Ground::label).to_string(),
            contact_name: group.data.contact_name.clone(),
            contact_phone: group.data.contact_phone.clone(),
            remarks: group.data.remarks.clone(),
            size: group.data.size.map(|n| n.to_string()).unwrap_or_default(),
        },
        itinerary: group
            .data
            .itinerary
            .iter()
            .enumerate()
            .map(|(i, r)| crate::pdf::ItineraryInfo {
                seq: u32::try_from(i + 1).unwrap_or(0),
                date: r.date.to_string(),
                city: r.city.clone(),
                activity: r.activity.clone(),
                host: r.host.clone(),
            })
            .collect(),
        visitors: vs
            .iter()
            .map(|v| crate::pdf::VisitorInfo {
                seq: u32::try_from(v.seq).unwrap_or(0),
                surname: v.data.surname.clone(),
                given_name: v.data.given_name.clone(),
                sex: v.data.sex_label().to_string(),
                birth_date: v.data.birth_date.to_string(),
                nationality: lists.country_name(&v.data.nationality),
                passport_no: v.data.passport_no.clone(),
                passport_expiry: v.data.passport_expiry.to_string(),
                employer: v.data.employer.clone(),
                position: v.data.position.clone(),
                visa_type: lists.visa_type_label(&v.data.visa_type),
                stay_days: v.data.stay_days.map(|n| n.to_string()).unwrap_or_default(),
                employer_country: if v.data.employer_country.is_empty() {
                    String::new()
                } else {
                    lists.country_name(&v.data.employer_country)
                },
                employer_city: v.data.employer_city.clone(),
                employer_address: v.data.employer_address.clone(),
            })
            .collect(),
    })
}

/// Whether the principal may download file `file_id` of group `id`: the file must be one of the
/// group's and the group one they may see (not found otherwise). The download is recorded as
/// seeing the visitor whose scan it is, or every visitor of the group for the group's own files
/// (the stamped form, the letter and the attachments name them all).
pub async fn file(state: &AppState, p: &Principal, id: i64, file_id: i64) -> Outcome<()> {
    visible(state, p, id).await?;
    if !groups::owns_file(state.pool(), id, file_id).await? {
        return Err(Error::NotFound);
    }
    let vs = groups::visitors(state.pool(), &state.keys, id).await?;
    let own: Vec<i64> = vs
        .iter()
        .filter(|v| v.passport_file_id == Some(file_id) || v.visa_file_id == Some(file_id))
        .map(|v| v.id)
        .collect();
    let seen_ids = match own.is_empty() {
        true => vs.iter().map(|v| v.id).collect(),
        false => own,
    };
    let seen = Seen::new(Kind::File, PAGE_FILE, format!("group:{id}/file:{file_id}"));
    access::record(state, p, &seen, seen_ids).await
}

// ---- the record and the review ----

/// A visitor on the record, with the nationality's name and the scans.
pub struct VisitorView {
    pub v: Visitor,
    pub nationality: String,
    /// 拟申请签证种类 as `M（商贸）` and the employer's country by name ("" when not given).
    pub visa_type: String,
    pub employer_country: String,
    pub passport: Option<FileMeta>,
    pub visa: Option<FileMeta>,
}

/// The read-only record of a group: every field, the scans, the timeline, the working days left
/// while the offices have it, and the actions the principal may take now.
pub struct Record {
    pub group: Group,
    pub purpose: String,
    pub cost_bearer: String,
    pub visitors: Vec<VisitorView>,
    pub files: Vec<FileSlot>,
    pub scan: Option<FileMeta>,
    pub letter: Option<FileMeta>,
    pub timeline: Vec<Entry>,
    pub actions: Vec<GroupAction>,
    pub days_left: Option<i64>,
    /// Passports also in other groups of the same period that the principal may see.
    pub duplicates: Vec<Duplicate>,
    /// Why and by whom the invitation was cancelled (取消邀请).
    pub cancellation: Option<crate::store::group_paths::Cancellation>,
}

/// The record of a group the principal may see.
pub async fn record(state: &AppState, p: &Principal, id: i64) -> Outcome<Record> {
    let g = visible(state, p, id).await?;
    record_of(state, p, g).await
}

/// The record of the group `t` again (a refused action shows it with the messages).
pub async fn record_again(state: &AppState, p: &Principal, t: &Allowed) -> Outcome<Record> {
    record_of(state, p, t.group.clone()).await
}

async fn record_of(state: &AppState, p: &Principal, g: Group) -> Outcome<Record> {
    let lists = crate::workflow::reference::lists(state).await?;
    let seen = Seen::group(Kind::Page, PAGE_RECORD, g.id);
    let vs = access::group_visitors(state, p, g.id, &seen).await?;
    let duplicates = duplicates(state, p, &g, &vs).await?;
    // Every scan's metadata in one statement.
    let ids: Vec<i64> = vs
        .iter()
        .flat_map(|v| [v.passport_file_id, v.visa_file_id])
        .chain([g.scan_file_id, g.letter_file_id])
        .flatten()
        .collect();
    let metas = reference::files(state.pool(), &ids).await?;
    let meta = |id: Option<i64>| id.and_then(|id| metas.get(&id).cloned());
    let scan = meta(g.scan_file_id);
    let letter = meta(g.letter_file_id);
    let visitors: Vec<VisitorView> = vs
        .into_iter()
        .map(|v| VisitorView {
            nationality: lists.country_name(&v.data.nationality),
            visa_type: lists.visa_type_label(&v.data.visa_type),
            employer_country: match v.data.employer_country.as_str() {
                "" => String::new(),
                c => lists.country_name(c),
            },
            passport: meta(v.passport_file_id),
            visa: meta(v.visa_file_id),
            v,
        })
        .collect();
    let att = groups::attachments(state.pool(), g.id).await?;
    let files = file_slots(Some(g.data.entry_type), &att);
    let timeline = audit::timeline(state.pool(), OBJECT, &g.id.to_string()).await?;
    let cancellation = match g.state {
        GroupState::Cancelled => {
            crate::store::group_paths::cancellation(state.pool(), g.id).await?
        }
        _ => None,
    };
    let days_left = match g.submitted_at {
        Some(ts) if group_flow::with_offices(g.state) => {
            let (limit, holidays) = limits(state).await?;
            Some(working_days_left(
                beijing_date(ts),
                state.today(),
                limit,
                &holidays,
            ))
        }
        _ => None,
    };
    Ok(Record {
        purpose: lists.purpose_name(&g.data.purpose),
        cost_bearer: lists.cost_bearer_name(&g.data.cost_bearer),
        actions: group_flow::actions(p, g.state, g.district_id, g.unit_id),
        group: g,
        visitors,
        files,
        scan,
        letter,
        timeline,
        days_left,
        duplicates,
        cancellation,
    })
}

/// What a reviewer's action comes with.
pub enum Input {
    /// 【审核通过】, 【受理】.
    Nothing,
    /// 【退件】: the reason, told once and in full.
    Reason(String),
    /// 【上报外交部】: the 核实单号 the Ministry's system returned.
    VerificationNo(String),
    /// 【发件】: the letter PDF the Ministry's system produced.
    Letter(Upload),
}

/// Takes the reviewer's action `t` with its input. Refusals of the input name their field
/// (`reason`, `verification_no`, `letter`) and write nothing.
pub async fn act(state: &AppState, p: &Principal, t: &Allowed, input: Input) -> Outcome<()> {
    let g = &t.group;
    let now = state.now();
    let (tx, done) = match (t.action, input) {
        (GroupAction::CountyApprove, Input::Nothing) => {
            let tx = claim(state, p, t, Change::None, now).await?;
            let notice = notify::group_county_passed(&g.number);
            (tx, Done::new(t.action, String::new(), notice))
        }
        (action, Input::Reason(typed)) if action.is_return() => {
            let reason = typed.trim();
            if reason.is_empty() {
                return Err(Error::invalid(
                    "reason",
                    "请填写退件原因，一次性告知需要修改或补充的全部内容",
                ));
            }
            if reason.chars().count() > 2000 {
                return Err(Error::invalid("reason", "退件原因不能超过2000个字符"));
            }
            let by = p.office();
            let change = Change::Returned { reason, by };
            let tx = claim(state, p, t, change, now).await?;
            let notice = notify::group_returned(&g.number, by, reason);
            (tx, Done::new(action, reason.to_string(), notice))
        }
        (GroupAction::Accept, Input::Nothing) => {
            // The group is claimed first: of two city users acting at once only one gets past
            // this, so exactly one number is drawn.
            let mut tx = claim(state, p, t, Change::None, now).await?;
            // A group returned after its 受理 keeps its 受理编号 (the record page says so):
            // accepted again, it is not given a second one.
            let no = match &g.acceptance_no {
                Some(kept) => kept.clone(),
                None => {
                    let no = draw(tx.conn(), Sequence::Acceptance, state.today()).await?;
                    groups::set_acceptance_no(tx.conn(), g.id, &no).await?;
                    no
                }
            };
            let notice = notify::group_accepted(&g.number, &no);
            (tx, Done::new(t.action, format!("受理编号{no}"), notice))
        }
        (GroupAction::Report, Input::VerificationNo(typed)) => {
            let no = parse_verification_no(&typed).ok_or_else(|| {
                Error::invalid("verification_no", "核实单号只能由字母和数字组成（6至40位），请按外交部系统返回的单号填写，不要包含空格或符号")
            })?;
            let change = Change::Reported {
                verification_no: &no,
            };
            let tx = claim(state, p, t, change, now).await?;
            let notice = notify::group_reported(&g.number, &no);
            (tx, Done::new(t.action, format!("核实单号{no}"), notice))
        }
        (GroupAction::Dispatch, Input::Letter(letter)) => {
            let checked = files::check(&letter, Accept::Pdf, "letter")?;
            // The group is claimed first, then the letter stored: a dispatch refused as stale
            // leaves no file behind.
            let mut tx = claim(state, p, t, Change::None, now).await?;
            let letter_file_id =
                files::store(state, tx.conn(), checked, Some(p.user_id), now).await?;
            groups::set_letter(tx.conn(), g.id, letter_file_id).await?;
            let notice = notify::group_dispatched(&g.number);
            (
                tx,
                Done::new(t.action, format!("邀请函：{}", letter.name), notice),
            )
        }
        (action, _) => {
            return Err(Error::Fault(anyhow::anyhow!(
                "{action:?} on group {} with input it does not take",
                g.id
            )))
        }
    };
    finish(state, tx, g, &p.actor, &p.actor, done, now).await
}

/// Moves the group `t` to its next state in a new transaction: refused as stale when someone
/// else changed it first.
pub(super) async fn claim(
    state: &AppState,
    p: &Principal,
    t: &Allowed,
    change: Change<'_>,
    now: i64,
) -> Outcome<Tx> {
    let mut tx = state.db.begin().await?;
    let g = &t.group;
    let moved = groups::transition(
        tx.conn(),
        g.id,
        g.state,
        t.to,
        p.district_scope(),
        change,
        now,
    )
    .await?;
    if !moved {
        return Err(Error::Stale(STALE.into()));
    }
    Ok(tx)
}

/// What a state change leaves: its audit entry and the unit's notice.
pub(super) struct Done {
    action: GroupAction,
    detail: String,
    notice: Notice,
}

impl Done {
    pub(super) fn new(action: GroupAction, detail: String, notice: Notice) -> Done {
        Done {
            action,
            detail,
            notice,
        }
    }
}

/// Writes the audit entry (by `actor`) and the unit's message (from `sender`), commits, then
/// sends the SMS.
pub(super) async fn finish(
    state: &AppState,
    mut tx: Tx,
    g: &Group,
    actor: &Actor,
    sender: &Actor,
    done: Done,
    now: i64,
) -> Outcome<()> {
    audit::write(
        tx.conn(),
        actor,
        now,
        done.action.audit_name(),
        OBJECT,
        &g.id.to_string(),
        &done.detail,
    )
    .await?;
    let queued = notify::write(tx.conn(), g.unit_id, sender, &done.notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

// ---- work lists ----

fn beijing_date(ts: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&crate::clock::beijing()).date_naive())
        .unwrap_or_default()
}

/// One state of a reviewer's 团组待办: a page of its groups and how many wait in all.
pub struct Section {
    pub state: GroupState,
    pub rows: Vec<GroupRow>,
    pub total: i64,
}

/// 团组待办: the time limit, and a section per state waiting for the principal, oldest
/// submission first, each row with its working days left. `page` gives the rows to read of a
/// section (limit, offset) from its total; `counted` is the principal's whole group queue when
/// the caller knows it already (the navigation counted it), used for a single section.
pub async fn queue(
    state: &AppState,
    p: &Principal,
    counted: Option<i64>,
    mut page: impl FnMut(GroupState, i64) -> (i64, i64),
) -> Outcome<(i64, Vec<Section>)> {
    let (limit, holidays) = limits(state).await?;
    let today = state.today();
    let district = p.district_scope();
    let states = group_flow::work_states(p.role);
    let mut sections = Vec::new();
    for s in &states {
        let total = match counted {
            Some(n) if states.len() == 1 => n,
            _ => groups::queue_count(state.pool(), &[*s], district).await?,
        };
        let (count, offset) = page(*s, total);
        let mut rows = groups::queue(state.pool(), *s, district, count, offset).await?;
        for r in &mut rows {
            r.days_left = working_days_left(
                beijing_date(r.submitted_at.unwrap_or(0)),
                today,
                limit,
                &holidays,
            );
        }
        sections.push(Section {
            state: *s,
            rows,
            total,
        });
    }
    Ok((limit, sections))
}

/// The filters of 申报历史查询 as typed (dates already read).
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Created on or after this day (Beijing time).
    pub from: Option<NaiveDate>,
    /// Created on or before this day.
    pub to: Option<NaiveDate>,
    pub state: Option<GroupState>,
    /// Part of a name, number or passport number (at most 50 characters are used).
    pub text: String,
}

/// Beijing midnight of a date, as unix seconds.
fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp() - 8 * 3600)
        .unwrap_or(0)
}

/// 申报历史查询: a page of the applicant's groups, newest first, and how many match in all.
pub async fn history(
    state: &AppState,
    a: &Applicant,
    q: &HistoryQuery,
    limit: i64,
    offset: i64,
) -> Outcome<(Vec<GroupRow>, i64)> {
    let filter = HistoryFilter {
        from_ts: q.from.map(day_start),
        to_ts: q.to.map(|d| day_start(d) + 86_400),
        state: q.state,
        text: q.text.trim().to_string(),
        text_index: crate::store::sealed::passport_index(
            &state.keys,
            &q.text.trim().to_uppercase(),
        ),
    };
    if let Some(m) = too_long(&filter.text, "关键词", MAX_SEARCH) {
        return Err(Error::invalid("q", m));
    }
    Ok(groups::history(state.pool(), a.unit.id, &filter, limit, offset).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::flow::testing::who as principal;
    use crate::domain::principal::Role;

    /// A role that never takes the action is refused as such; one whose turn has passed is told
    /// the group moved on, with the message of the action.
    #[test]
    fn refusals_tell_forbidden_from_stale() {
        use GroupState as S;
        let ask =
            |role: Role, from: S, action: GroupAction| answer(&principal(role), from, 3, 7, action);
        assert!(matches!(
            ask(Role::City, S::PendingCity, GroupAction::CountyApprove),
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            ask(Role::County, S::PendingCity, GroupAction::CountyApprove),
            Err(Error::Stale(m)) if m == STALE
        ));
        assert_eq!(
            ask(Role::City, S::PendingCity, GroupAction::Accept).ok(),
            Some(S::Accepted)
        );
        for (action, message) in [
            (GroupAction::Save, "团组已提交，不能修改"),
            (GroupAction::Upload, "团组已提交，不能修改附件"),
            (GroupAction::Submit, "团组已提交，请勿重复提交"),
        ] {
            assert!(matches!(
                ask(Role::Unit, S::PendingCounty, action),
                Err(Error::Stale(m)) if m == message
            ));
        }
        assert_eq!(
            ask(Role::Unit, S::Returned, GroupAction::Submit).ok(),
            Some(S::PendingCounty)
        );
        // Another unit's group is refused like a state it cannot act in (the page never shows it).
        assert!(answer(&principal(Role::Unit), S::Draft, 3, 8, GroupAction::Save).is_err());
    }

    #[test]
    fn the_form_offers_the_proof_for_multiple_entries_only() {
        let codes =
            |entry: Option<EntryType>, att: &BTreeMap<Attachment, FileMeta>| -> Vec<(&str, bool)> {
                file_slots(entry, att)
                    .iter()
                    .map(|s| (s.code, s.required))
                    .collect()
            };
        let none = BTreeMap::new();
        assert_eq!(
            codes(Some(EntryType::Single), &none),
            vec![("clerk_id", true), ("other", false)]
        );
        // An entry type not chosen (or garbled) in the form: as single.
        assert_eq!(
            codes(None, &none),
            vec![("clerk_id", true), ("other", false)]
        );
        assert_eq!(
            codes(Some(EntryType::HalfYear), &none),
            vec![
                ("clerk_id", true),
                ("multi_entry_proof", true),
                ("other", false)
            ]
        );
        let mut uploaded = BTreeMap::new();
        uploaded.insert(
            Attachment::MultiEntryProof,
            FileMeta {
                id: 1,
                sha256: String::new(),
                size: 0,
                mime: String::new(),
                original_name: String::new(),
                uploaded_by: None,
            },
        );
        assert_eq!(
            codes(Some(EntryType::Single), &uploaded),
            vec![
                ("clerk_id", true),
                ("multi_entry_proof", false),
                ("other", false)
            ]
        );
    }

    #[test]
    fn overdue_messages_and_the_history_day() {
        assert_eq!(Overdue::default().message(), None);
        let warn = Overdue {
            visitors: 2,
            blocks: false,
        };
        assert!(warn.message().unwrap().contains("请尽快"));
        let block = Overdue {
            visitors: 2,
            blocks: true,
        };
        assert!(block.message().unwrap().contains("再申报新的团组"));
        // 2026-01-01 00:00 in Beijing is 2025-12-31 16:00 UTC.
        assert_eq!(
            day_start(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            1_767_196_800
        );
        let mut vs = vec![(None, VisitorForm::default()); MAX_VISITORS - 1];
        assert!(add_visitor(&mut vs).is_empty());
        assert_eq!(vs.len(), MAX_VISITORS);
        assert!(add_visitor(&mut vs).has("visitors"));
        assert_eq!(vs.len(), MAX_VISITORS);
    }
}
