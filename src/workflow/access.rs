//! 个人信息访问记录 (issue 18): every page view, file download, print, export and search hit
//! that shows visitors' personal data (name, passport number, birth date, employer, scans) is
//! recorded — who, when, from where, which page and which visitors — before the data is
//! handed back. The workflow reads that return visitors call [`record`] (or read through
//! [`group_visitors`]), so the pages cannot show the data without its entry; an entry that
//! cannot be written fails the request rather than show the data untraced.
//!
//! Administrators ask the log two questions ([`by_passport`], [`by_user`]); each question is
//! itself written to the audit log with ids only, never the passport number typed. Entries
//! are kept at least `MIN_RETENTION_DAYS` (180) days (网络安全法 Art. 21) and deleted after the
//! setting's period by [`purge`].

use std::collections::{BTreeMap, BTreeSet};

use super::error::{Error, Outcome};
use super::roles::require_admin;
use crate::domain::access_log::retention_days_from;
pub use crate::domain::access_log::Kind;
use crate::domain::audit::ObjectType;
use crate::domain::group::parse_passport;
use crate::domain::principal::{Principal, Role};
use crate::domain::settings::Setting;
use crate::state::AppState;
use crate::store::access::{self, Entry, NewEntry, SeenVisitor};
use crate::store::groups::{self, Visitor};
use crate::store::{audit, reference, users};

/// Where the data was seen: the kind of view, the page in words and the object shown
/// (`group:12`, `file:34`, `visitor:5`, `export:review.groups` …).
#[derive(Clone, Debug)]
pub struct Seen {
    pub kind: Kind,
    pub page: &'static str,
    pub object: String,
}

impl Seen {
    pub fn new(kind: Kind, page: &'static str, object: impl Into<String>) -> Seen {
        Seen {
            kind,
            page,
            object: object.into(),
        }
    }
    /// A page showing group `id`.
    pub fn group(kind: Kind, page: &'static str, id: i64) -> Seen {
        Seen::new(kind, page, format!("group:{id}"))
    }
}

/// Records that `p` saw the personal data of `visitors` as `seen` says, in a transaction of its
/// own committed before the data is shown. Nothing is written when no visitor was shown.
pub async fn record(
    state: &AppState,
    p: &Principal,
    seen: &Seen,
    visitors: impl IntoIterator<Item = i64>,
) -> Outcome<()> {
    let ids: Vec<i64> = visitors
        .into_iter()
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    access::write(
        tx.conn(),
        &NewEntry {
            at: state.now(),
            actor: &p.actor,
            kind: seen.kind.as_str(),
            page: seen.page,
            object: &seen.object,
            visitors: &ids,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The visitors of group `group_id` with their data, as `p` is shown them: read and recorded.
pub async fn group_visitors(
    state: &AppState,
    p: &Principal,
    group_id: i64,
    seen: &Seen,
) -> Outcome<Vec<Visitor>> {
    let vs = groups::visitors(state.pool(), &state.keys, group_id).await?;
    record(state, p, seen, vs.iter().map(|v| v.id)).await?;
    Ok(vs)
}

/// Records that `p` saw the visitors of these groups (an export of their rows).
pub async fn record_groups(
    state: &AppState,
    p: &Principal,
    seen: &Seen,
    groups: &[i64],
) -> Outcome<()> {
    let ids = access::visitor_ids_of_groups(state.pool(), groups).await?;
    record(state, p, seen, ids).await
}

/// The visitors a staff search's hits show: those of the groups found whose passport number or
/// name is the text searched (a hit by group number, 受理编号 or 核实单号 shows none).
pub async fn search_hits(state: &AppState, text: &str, groups: &[i64]) -> Outcome<Vec<i64>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let key = text.trim().to_uppercase();
    let mut ids = access::visitor_ids_by_name(state.pool(), groups, &key).await?;
    if let Some(passport) = parse_passport(&key) {
        let in_groups = access::visitor_ids_of_groups(state.pool(), groups).await?;
        ids.extend(
            access::visitor_ids_by_passport(state.pool(), &state.keys, &passport)
                .await?
                .into_iter()
                .filter(|v| in_groups.contains(v)),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

// ---- retention ----

/// The retention of the access log in force, in days.
pub async fn retention_days(state: &AppState) -> Outcome<i64> {
    let value = reference::setting(state.pool(), Setting::AccessLogRetentionDays).await?;
    Ok(retention_days_from(value.as_deref()))
}

/// Deletes the access entries older than the retention period (never younger than
/// `MIN_RETENTION_DAYS`); returns how many. The audit log is never purged.
pub async fn purge(state: &AppState) -> Outcome<u64> {
    let days = retention_days(state).await?;
    let before = state.now() - days * 86_400;
    let mut tx = state.db.begin().await?;
    let n = access::purge_before(tx.conn(), before).await?;
    tx.commit().await?;
    Ok(n)
}

// ---- the administrators' page ----

/// An entry as the page shows it, with the visitors it names (some of them for a large export).
pub struct EntryView {
    pub e: Entry,
    pub visitors: Vec<SeenVisitor>,
}

impl EntryView {
    pub fn at_text(&self) -> String {
        crate::clock::fmt_ts(self.e.at)
    }
    pub fn kind_text(&self) -> &str {
        Kind::label_of(&self.e.kind)
    }
    /// The account's role and its unit or district ("市外办", "县区外办 天宁区", "邀请单位 某公司").
    pub fn office(&self) -> String {
        let role = Role::parse(&self.e.role).map_or("", Role::label);
        let place = match Role::parse(&self.e.role) {
            Some(Role::Unit) => self.e.unit.as_str(),
            Some(Role::County) => self.e.district.as_str(),
            _ => "",
        };
        [role, place]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// The group whose page it was, when the object is a group.
    pub fn group_id(&self) -> Option<i64> {
        self.e.object.strip_prefix("group:")?.parse().ok()
    }
    /// How many of the visitors it names are not listed.
    pub fn more(&self) -> i64 {
        (self.e.visitors - self.visitors.len() as i64).max(0)
    }
}

/// Visitors listed per entry of the account query (an export may name thousands).
const LISTED_PER_ENTRY: i64 = 20;

/// What a query found.
pub struct Answer {
    pub entries: Vec<EntryView>,
    pub total: i64,
    /// The visitors the passport number found (by passport), or none.
    pub visitors: Vec<i64>,
    /// The account asked about (by account).
    pub user: Option<users::User>,
    /// The conditions in words for an export's audit entry: ids only.
    pub described: String,
}

/// Writes the audit entry of a query of the access log.
async fn audit_query(
    state: &AppState,
    p: &Principal,
    object_id: &str,
    detail: &str,
) -> Outcome<()> {
    let mut tx = state.db.begin().await?;
    audit::write(
        tx.conn(),
        &p.actor,
        state.now(),
        QUERY_AUDIT_NAME,
        ObjectType::AccessLog,
        object_id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The audit action of a query of the access log.
pub const QUERY_AUDIT_NAME: &str = "access.query";

fn visitor_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|v| format!("#{v}"))
        .collect::<Vec<_>>()
        .join("、")
}

/// Who saw the visitors with this passport number (exact): a page of the entries, newest first.
/// Audited with the visitor ids found, never the number.
pub async fn by_passport(
    state: &AppState,
    p: &Principal,
    passport: &str,
    limit: i64,
    offset: i64,
) -> Outcome<Answer> {
    require_admin(p)?;
    let Some(passport) = parse_passport(passport) else {
        return Err(Error::invalid(
            "passport",
            "护照号码应为5至20位字母或数字，须完整输入",
        ));
    };
    let visitors = access::visitor_ids_by_passport(state.pool(), &state.keys, &passport).await?;
    let described = match visitors.is_empty() {
        true => "按护照号码查询：未找到到访人员".to_string(),
        false => format!("按护照号码查询：到访人员{}", visitor_list(&visitors)),
    };
    audit_query(state, p, "passport", &described).await?;
    let (entries, total) = access::by_visitors(state.pool(), &visitors, limit, offset).await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let mut seen =
        access::visitors_of(state.pool(), &ids, Some(&visitors), LISTED_PER_ENTRY).await?;
    Ok(Answer {
        entries: views(entries, &mut seen),
        total,
        visitors,
        user: None,
        described,
    })
}

/// What the account with this login ID saw: a page of its entries, newest first. Audited.
pub async fn by_user(
    state: &AppState,
    p: &Principal,
    login_id: &str,
    limit: i64,
    offset: i64,
) -> Outcome<Answer> {
    require_admin(p)?;
    let key = login_id.trim().to_ascii_lowercase();
    if key.is_empty() || key.chars().count() > 32 {
        return Err(Error::invalid("login", "请输入完整的登录ID"));
    }
    let Some(user) = users::by_login_key(state.pool(), &key).await? else {
        return Err(Error::invalid("login", "没有该登录ID的帐号"));
    };
    let described = format!("按帐号查询：用户#{}", user.id);
    audit_query(state, p, &format!("user:{}", user.id), &described).await?;
    let (entries, total) = access::by_user(state.pool(), user.id, limit, offset).await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let mut seen = access::visitors_of(state.pool(), &ids, None, LISTED_PER_ENTRY).await?;
    Ok(Answer {
        entries: views(entries, &mut seen),
        total,
        visitors: Vec::new(),
        user: Some(user),
        described,
    })
}

fn views(entries: Vec<Entry>, seen: &mut BTreeMap<i64, Vec<SeenVisitor>>) -> Vec<EntryView> {
    entries
        .into_iter()
        .map(|e| EntryView {
            visitors: seen.remove(&e.id).unwrap_or_default(),
            e,
        })
        .collect()
}
