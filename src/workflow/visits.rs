//! 销签登记: the post-visit registrations of dispatched groups' visitors — the unit's list and
//! form, saving, scans, submitting — their review by county and city, the overdue lists, the
//! warning on a unit's pages and the reminders of overdue ones. Who may do what in which state
//! is [`visit_flow::TABLE`].

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::access::{self, Kind, Seen};
use super::error::{Error, Outcome};
use super::files::{self, Accept, Upload};
use super::notify;
use super::oversight::MAX_ROWS;
use crate::domain::audit::ObjectType;
use crate::domain::fields::{too_long, MAX_REASON};
use crate::domain::group::GroupState;
use crate::domain::principal::{Actor, Principal};
use crate::domain::registration::RegState;
use crate::domain::settings::Setting;
use crate::domain::time_limit;
use crate::domain::visit::{Scan, VisitForm, VisitKind, VisitState};
use crate::domain::visit_flow::{self, VisitAction, OVERDUE_REMINDER_AUDIT_NAME};
use crate::state::AppState;
use crate::store::audit::{self, Entry};
use crate::store::reference::{self, FileMeta};
use crate::store::refs::{self, Port};
use crate::store::units;
use crate::store::visits::{self, Record, Subject, VisitRow};
use crate::store::Conn;

/// The field of a refusal that concerns the whole form (shown above its [提交] button).
pub const FORM: &str = "submit";

/// The object type of a registration in the audit log.
const AUDIT_OBJECT: ObjectType = ObjectType::Visit;

const NOT_EDITABLE: &str = "销签登记已提交或已完成，不能修改";
const SUBMITTED: &str = "销签登记已提交或已完成，请勿重复提交";
const STALE: &str = "该销签登记已被他人处理或状态已变化，请返回待办刷新后查看";

/// Writes the audit entry of `action` on registration `record_id` in the action's transaction.
async fn audit_step(
    conn: &mut Conn,
    p: &Principal,
    now: i64,
    action: VisitAction,
    record_id: i64,
    detail: &str,
) -> Outcome<()> {
    audit::write(
        conn,
        &p.actor,
        now,
        action.audit_name(),
        AUDIT_OBJECT,
        &record_id.to_string(),
        detail,
    )
    .await?;
    Ok(())
}

/// Days after the planned departure when an unregistered visitor is overdue (setting).
pub async fn overdue_days(state: &AppState) -> Outcome<i64> {
    let value = reference::setting(state.pool(), Setting::OverdueDays).await?;
    Ok(time_limit::overdue_days_from(value.as_deref()))
}

/// Planned departures before this date are overdue after `days` days.
fn cutoff(today: NaiveDate, days: i64) -> String {
    (today - chrono::Duration::days(days)).to_string()
}

/// Names of every country by alpha-3, retired ones included (old records keep theirs).
pub async fn country_names(state: &AppState) -> Outcome<BTreeMap<String, String>> {
    Ok(refs::country_names(state.pool()).await?)
}

/// The visitor's nationality by name.
async fn nationality(state: &AppState, s: &Subject) -> Outcome<String> {
    Ok(country_names(state)
        .await?
        .get(&s.nationality)
        .cloned()
        .unwrap_or_default())
}

/// A unit's 销签登记 list.
pub struct UnitList {
    /// One row per visitor of its dispatched groups, overdue rows first.
    pub rows: Vec<VisitRow>,
    pub countries: BTreeMap<String, String>,
    /// The overdue limit in days.
    pub days: i64,
}

/// The unit's visitors of dispatched groups (of one group when given). Only an approved unit
/// has any.
pub async fn list(state: &AppState, p: &Principal, group: Option<i64>) -> Outcome<UnitList> {
    let unit_id = p.own_unit().ok_or(Error::Forbidden)?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    if unit.state != RegState::Approved {
        return Err(Error::Stale(
            "审核通过前无数据申报功能，请等待注册审核通过。".into(),
        ));
    }
    let days = overdue_days(state).await?;
    let rows = visits::for_unit(
        state.pool(),
        &state.keys,
        unit_id,
        group,
        visits::Due {
            today: state.today(),
            days,
        },
    )
    .await?;
    let object = match group {
        Some(g) => format!("group:{g}"),
        None => format!("unit:{unit_id}"),
    };
    let seen = Seen::new(Kind::Page, "销签登记列表", object);
    access::record(state, p, &seen, rows.iter().map(|r| r.visitor_id)).await?;
    Ok(UnitList {
        rows,
        countries: country_names(state).await?,
        days,
    })
}

/// The principal's own visitor of a dispatched group: what a unit registers.
pub async fn subject(state: &AppState, p: &Principal, visitor_id: i64) -> Outcome<Subject> {
    let unit_id = p.own_unit().ok_or(Error::Forbidden)?;
    let s = visits::subject(state.pool(), &state.keys, visitor_id)
        .await?
        .filter(|s| s.unit_id == unit_id)
        .ok_or(Error::NotFound)?;
    if s.group_state == GroupState::Cancelled {
        return Err(Error::Stale(
            "该团组的邀请已取消，到访人员已记为“邀请已取消”，无需办理销签登记。".into(),
        ));
    }
    if s.group_state != GroupState::Dispatched {
        return Err(Error::Stale(
            "只有市外办发件后的团组，才能进行销签登记".into(),
        ));
    }
    Ok(s)
}

/// The Beijing date the office dispatched the letter (no registered entry may be earlier).
fn dispatch_date(s: &Subject) -> NaiveDate {
    chrono::DateTime::from_timestamp(s.dispatched_at.unwrap_or(0), 0)
        .map(|t| t.with_timezone(&crate::clock::beijing()).date_naive())
        .unwrap_or_default()
}

/// The state of a visitor's registration, [`VisitState::Unregistered`] before the first save.
fn state_of(record: Option<&Record>) -> VisitState {
    record.map_or(VisitState::Unregistered, |r| r.state)
}

/// What the unit's registration form shows.
pub struct Registration {
    pub subject: Subject,
    pub record: Option<Record>,
    pub files: BTreeMap<Scan, FileMeta>,
    /// The unit may still save it.
    pub editable: bool,
    /// The visitor's nationality by name.
    pub nationality: String,
    /// The ports in force, and every port's name (retired ones too).
    pub ports: Vec<Port>,
    pub port_names: BTreeMap<i64, String>,
}

/// The registration of the unit's visitor `s` (from [`subject`]) with its files and the lists
/// of its form; recorded as the unit seeing the visitor.
pub async fn registration(state: &AppState, p: &Principal, s: Subject) -> Outcome<Registration> {
    let seen = Seen::new(
        Kind::Page,
        "销签登记表",
        format!("visitor:{}", s.visitor_id),
    );
    access::record(state, p, &seen, [s.visitor_id]).await?;
    let record = visits::record(state.pool(), s.visitor_id).await?;
    let files = match &record {
        Some(r) => visits::files(state.pool(), r.id).await?,
        None => BTreeMap::new(),
    };
    let editable = visit_flow::may(
        p,
        state_of(record.as_ref()),
        VisitAction::Save,
        s.district_id,
        s.unit_id,
    )
    .is_some();
    let nationality = nationality(state, &s).await?;
    Ok(Registration {
        subject: s,
        record,
        files,
        editable,
        nationality,
        ports: refs::ports(state.pool()).await?,
        port_names: refs::port_names(state.pool()).await?,
    })
}

/// Saves what the unit entered for visitor `s` (from [`subject`]): the entry alone while the
/// visitor is still in China, or the whole registration.
pub async fn save(state: &AppState, p: &Principal, s: &Subject, form: &VisitForm) -> Outcome<()> {
    let ports: Vec<i64> = refs::ports(state.pool())
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let data = form
        .validate(&ports, dispatch_date(s), state.today())
        .map_err(Error::Invalid)?;
    let action = data.save_action();
    let to =
        visit_flow::saved_state(p, action, s.district_id, s.unit_id).ok_or(Error::Forbidden)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    // The group is held dispatched while this writes: a 取消邀请 at the same moment comes
    // before (and this is refused) or after (and sees this entry).
    if !crate::store::group_paths::lock_dispatched(tx.conn(), s.group_id).await? {
        return Err(Error::Stale(
            "只有市外办发件后的团组，才能进行销签登记".into(),
        ));
    }
    let Some(id) = visits::save(tx.conn(), s, &data, to, now).await? else {
        return Err(Error::Stale(NOT_EDITABLE.into()));
    };
    let detail = format!("{}（{}）", s.name, data.kind().label());
    audit_step(tx.conn(), p, now, action, id, &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Where an upload of `scan` for visitor `s` goes: its registration, once saved, while the unit
/// may change it and when its kind needs this scan. Checked before the upload is read; a
/// refusal about the file names the field `scan`, one about the form [`FORM`].
pub async fn upload_target(
    state: &AppState,
    p: &Principal,
    s: &Subject,
    scan: Scan,
) -> Outcome<Record> {
    let Some(record) = visits::record(state.pool(), s.visitor_id).await? else {
        return Err(Error::invalid(
            scan.as_str(),
            "请先填写登记信息并【保存】，再上传扫描件",
        ));
    };
    may_upload(p, s, &record)?;
    // Only the scans of the registration's own kind (travelled or cancelled).
    if !record.kind.scans().contains(&scan) {
        return Err(Error::invalid(
            FORM,
            "该材料与登记类型不符，请先选择正确的登记类型并【保存】",
        ));
    }
    Ok(record)
}

fn may_upload(p: &Principal, s: &Subject, record: &Record) -> Outcome<()> {
    match visit_flow::may(
        p,
        record.state,
        VisitAction::Upload,
        s.district_id,
        s.unit_id,
    ) {
        Some(_) => Ok(()),
        None => Err(Error::Stale(NOT_EDITABLE.into())),
    }
}

/// Stores `upload` as the `scan` of `record` (from [`upload_target`]): the statement a PDF, the
/// stamps and the visa page a PDF, JPEG or PNG. The registration is checked again, locked in
/// the transaction that links the file: one submitted (or of another kind) since the upload
/// began keeps its files and nothing is stored.
pub async fn upload(
    state: &AppState,
    p: &Principal,
    s: &Subject,
    record: &Record,
    scan: Scan,
    upload: &Upload,
) -> Outcome<()> {
    may_upload(p, s, record)?;
    let accept = if scan.pdf_only() {
        Accept::Pdf
    } else {
        Accept::Scan
    };
    let checked = files::check(upload, accept, scan.as_str())?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !visits::lock_editable(tx.conn(), record.id, record.kind).await? {
        return Err(Error::Stale(NOT_EDITABLE.into()));
    }
    let file_id = files::store(state, tx.conn(), checked, Some(p.user_id), now).await?;
    visits::set_file(tx.conn(), record.id, scan, file_id, now).await?;
    audit_step(
        tx.conn(),
        p,
        now,
        VisitAction::Upload,
        record.id,
        &upload.name,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The registration of visitor `s` that [提交] sends: saved, and still the unit's to edit.
pub async fn submittable(state: &AppState, s: &Subject) -> Outcome<Record> {
    let Some(r) = visits::record(state.pool(), s.visitor_id).await? else {
        return Err(Error::invalid(FORM, "请先填写登记信息并【保存】"));
    };
    if !r.state.editable() {
        return Err(Error::Stale(SUBMITTED.into()));
    }
    Ok(r)
}

/// What registration `r` lacks before [提交] (the exit date once travelled, then its scans):
/// [提交] refuses while there is anything, and the confirmation step does not ask first (the
/// form says what to complete).
pub async fn missing_for_submit(state: &AppState, r: &Record) -> Outcome<Vec<&'static str>> {
    let files = visits::files(state.pool(), r.id).await?;
    let mut missing: Vec<&'static str> = r
        .kind
        .scans()
        .iter()
        .filter(|k| !files.contains_key(k))
        .map(|k| k.label())
        .collect();
    if r.kind == VisitKind::Travelled && r.exit_date.is_none() {
        missing.insert(0, "实际出境日期和口岸（外宾出境后填写）");
    }
    Ok(missing)
}

/// [提交]: the complete registration of visitor `s` with its scans goes to the county office.
pub async fn submit(state: &AppState, p: &Principal, s: &Subject) -> Outcome<()> {
    let r = submittable(state, s).await?;
    let missing = missing_for_submit(state, &r).await?;
    if !missing.is_empty() {
        return Err(Error::invalid(
            FORM,
            format!("提交前请补齐：{}", missing.join("、")),
        ));
    }
    visit_flow::may(p, r.state, VisitAction::Submit, s.district_id, s.unit_id)
        .ok_or_else(|| Error::Stale(SUBMITTED.into()))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !visits::submit(tx.conn(), r.id, now).await? {
        return Err(Error::Stale(SUBMITTED.into()));
    }
    audit_step(tx.conn(), p, now, VisitAction::Submit, r.id, &s.name).await?;
    tx.commit().await?;
    Ok(())
}

/// A visitor and their registration, when the principal may see it (one answer, not found, for
/// a registration that does not exist and one they may not see).
async fn visible(state: &AppState, p: &Principal, visitor_id: i64) -> Outcome<(Subject, Record)> {
    let s = visits::subject(state.pool(), &state.keys, visitor_id)
        .await?
        .ok_or(Error::NotFound)?;
    let r = visits::record(state.pool(), visitor_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !visit_flow::may_view(p, r.state, s.district_id, s.unit_id) {
        return Err(Error::NotFound);
    }
    Ok((s, r))
}

/// Whether the principal may open file `file_id` of visitor `visitor_id`'s registration.
pub async fn may_read_file(
    state: &AppState,
    p: &Principal,
    visitor_id: i64,
    file_id: i64,
) -> Outcome<()> {
    let (_, r) = visible(state, p, visitor_id).await?;
    if !visits::owns_file(state.pool(), r.id, file_id).await? {
        return Err(Error::NotFound);
    }
    let seen = Seen::new(
        Kind::File,
        "销签登记扫描件",
        format!("visitor:{visitor_id}/file:{file_id}"),
    );
    access::record(state, p, &seen, [visitor_id]).await
}

/// What a reviewer's page of one registration shows.
pub struct Review {
    pub subject: Subject,
    pub record: Record,
    pub files: BTreeMap<Scan, FileMeta>,
    pub entry_port: String,
    pub exit_port: String,
    pub timeline: Vec<Entry>,
    /// The principal's decisions now (【审核通过】, 【退回】).
    pub actions: Vec<VisitAction>,
    pub nationality: String,
}

/// A registration for review, with its files, ports, history and the principal's actions;
/// recorded as the principal seeing the visitor.
pub async fn review(state: &AppState, p: &Principal, visitor_id: i64) -> Outcome<Review> {
    let (s, r) = visible(state, p, visitor_id).await?;
    let seen = Seen::new(Kind::Page, "销签登记审核", format!("visitor:{visitor_id}"));
    access::record(state, p, &seen, [visitor_id]).await?;
    let files = visits::files(state.pool(), r.id).await?;
    // Every port, retired ones included: the record keeps the port it was registered with.
    let ports = refs::port_names(state.pool()).await?;
    let port = |id: Option<i64>| {
        id.and_then(|id| ports.get(&id))
            .cloned()
            .unwrap_or_default()
    };
    let timeline = audit::timeline(state.pool(), AUDIT_OBJECT, &r.id.to_string()).await?;
    let nationality = nationality(state, &s).await?;
    Ok(Review {
        actions: visit_flow::actions(p, r.state, s.district_id, s.unit_id),
        entry_port: port(r.entry_port_id),
        exit_port: port(r.exit_port_id),
        files,
        timeline,
        nationality,
        subject: s,
        record: r,
    })
}

/// The visitor a registration belongs to (audit entries name the registration).
pub async fn visitor_of_record(state: &AppState, record_id: i64) -> Outcome<i64> {
    visits::visitor_of_record(state.pool(), record_id)
        .await?
        .ok_or(Error::NotFound)
}

/// A reviewer's 【审核通过】 (`reason` None) or 【退回】 with a reason of visitor `visitor_id`'s
/// registration; the unit is told. Returns the action taken.
pub async fn decide(
    state: &AppState,
    p: &Principal,
    visitor_id: i64,
    reason: Option<&str>,
) -> Outcome<VisitAction> {
    let (s, r) = visible(state, p, visitor_id).await?;
    let action = VisitAction::decision(p.role, reason.is_some()).ok_or(Error::Forbidden)?;
    let to = visit_flow::may(p, r.state, action, s.district_id, s.unit_id)
        .ok_or_else(|| Error::Stale(STALE.into()))?;
    if reason.is_some_and(|text| text.trim().is_empty()) {
        return Err(Error::invalid(
            "reason",
            "请填写退回原因，一次性告知需要修改或补充的全部内容",
        ));
    }
    if let Some(m) = reason.and_then(|text| too_long(text.trim(), "退回原因", MAX_REASON)) {
        return Err(Error::invalid("reason", m));
    }
    let by = p.office();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let returned = reason.map(|text| (text.trim(), by));
    if !visits::transition(
        tx.conn(),
        r.id,
        r.state,
        to,
        p.district_scope(),
        returned,
        now,
    )
    .await?
    {
        return Err(Error::Stale(STALE.into()));
    }
    audit_step(tx.conn(), p, now, action, r.id, reason.unwrap_or("")).await?;
    let notice = match action {
        VisitAction::CountyApprove => notify::visit_county_passed(&s.name, &s.group_number),
        VisitAction::Complete => notify::visit_completed(&s.name, &s.group_number),
        _ => notify::visit_returned(&s.name, &s.group_number, by, reason.unwrap_or("")),
    };
    let queued = notify::write(tx.conn(), s.unit_id, &p.actor, &notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(action)
}

/// The overdue visitors a reviewer oversees (their district; the whole city for the city).
pub struct Overdue {
    /// The overdue limit in days.
    pub days: i64,
    cutoff: String,
    /// Overdue visitors per district (by name, in the districts' order).
    pub counts: Vec<(String, i64)>,
}

impl Overdue {
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|c| c.1).sum()
    }
}

/// How many visitors are overdue in each district the principal oversees.
pub async fn overdue(state: &AppState, p: &Principal) -> Outcome<Overdue> {
    if !p.role.is_staff() {
        return Err(Error::Forbidden);
    }
    let days = overdue_days(state).await?;
    let cutoff = cutoff(state.today(), days);
    let counts = visits::overdue_by_district(state.pool(), p.district_scope(), &cutoff).await?;
    Ok(Overdue {
        days,
        cutoff,
        counts,
    })
}

/// Which rows of 销签待办's two lists: a page of each, or every row for an export.
#[derive(Clone, Copy, Debug)]
pub enum Window {
    Page {
        per: i64,
        pending_offset: i64,
        overdue_offset: i64,
    },
    Export,
}

/// 销签待办: the registrations waiting for the principal, oldest submission first, and the
/// overdue visitors of `overdue` (from [`overdue`]), within `window`; the visitors listed are
/// recorded as seen (on the page, or exported).
pub async fn queue(
    state: &AppState,
    p: &Principal,
    overdue: &Overdue,
    window: Window,
) -> Outcome<(Vec<VisitRow>, Vec<VisitRow>)> {
    if !p.role.is_staff() {
        return Err(Error::Forbidden);
    }
    let (per, pending_at, overdue_at) = match window {
        Window::Page {
            per,
            pending_offset,
            overdue_offset,
        } => (per, pending_offset, overdue_offset),
        Window::Export => (MAX_ROWS, 0, 0),
    };
    let today = state.today();
    let district = p.district_scope();
    let rows = match visit_flow::work_state(p.role) {
        Some(s) => {
            visits::queue(
                state.pool(),
                &state.keys,
                s,
                district,
                visits::Due {
                    today,
                    days: overdue.days,
                },
                per,
                pending_at,
            )
            .await?
        }
        None => Vec::new(),
    };
    let late = visits::overdue(
        state.pool(),
        &state.keys,
        district,
        &overdue.cutoff,
        visits::Due {
            today,
            days: overdue.days,
        },
        per,
        overdue_at,
    )
    .await?;
    let kind = match window {
        Window::Page { .. } => Kind::Page,
        Window::Export => Kind::Export,
    };
    let seen = Seen::new(kind, "销签待办", "review.visits");
    let listed = rows.iter().chain(&late).map(|r| r.visitor_id);
    access::record(state, p, &seen, listed).await?;
    Ok((rows, late))
}

/// Whether the unit has overdue registrations older than the configured limit and warning
/// days, and whether the office blocks new applications then (a setting, off by default).
pub async fn overdue_warning(state: &AppState, unit_id: i64) -> Outcome<(usize, bool)> {
    let set = reference::settings(state.pool(), &time_limit::OVERDUE_WARNING_SETTINGS).await?;
    let (days, block) = time_limit::overdue_warning_from(&set);
    let n = visits::overdue_count(state.pool(), unit_id, &cutoff(state.today(), days)).await?;
    let n = usize::try_from(n).unwrap_or(0);
    Ok((n, block && n > 0))
}

/// Sends the first reminder to units whose visitors became overdue and a weekly one after.
/// Each reminder is claimed in the database, so several server instances send it once.
/// Returns the number of visitors reminded.
pub async fn run_overdue(state: &AppState) -> Outcome<usize> {
    let days = overdue_days(state).await?;
    let today = state.today();
    // Every overdue visitor: those reminded within the week are left out below.
    let rows = visits::overdue(
        state.pool(),
        &state.keys,
        None,
        &cutoff(today, days),
        visits::Due { today, days },
        i64::MAX,
        0,
    )
    .await?;
    let now = state.now();
    const EVERY: i64 = 7 * 86_400;
    // Units whose overdue visitors were all reminded within the week need no transaction.
    let recent = visits::reminded_since(state.pool(), now - EVERY).await?;
    let mut by_unit: BTreeMap<i64, Vec<VisitRow>> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| !recent.contains(&r.visitor_id)) {
        by_unit.entry(r.unit_id).or_default().push(r);
    }
    let mut n = 0;
    for (unit_id, rows) in by_unit {
        let mut tx = state.db.begin().await?;
        // Lock the unit first: another instance working on the same unit waits here, then
        // finds every reminder already claimed.
        units::lock(tx.conn(), unit_id).await?;
        let mut claimed = Vec::new();
        for r in rows {
            if visits::claim_reminder(tx.conn(), r.visitor_id, now, EVERY).await? {
                claimed.push(r);
            }
        }
        if claimed.is_empty() {
            tx.commit().await?;
            continue;
        }
        n += claimed.len();
        let list: Vec<String> = claimed
            .iter()
            .map(|r| {
                format!(
                    "团组{} {}（计划{}出境）",
                    r.group_number, r.name, r.departure
                )
            })
            .collect();
        let notice = notify::visit_overdue(&list);
        let queued = notify::write(tx.conn(), unit_id, &Actor::system(), &notice, now).await?;
        audit::write(
            tx.conn(),
            &Actor::system(),
            now,
            OVERDUE_REMINDER_AUDIT_NAME,
            ObjectType::Unit,
            &unit_id.to_string(),
            &list.join("；"),
        )
        .await?;
        tx.commit().await?;
        notify::send(state, queued).await;
    }
    Ok(n)
}
