//! What the pages of a unit's registration share: its attachment slots (the unit's pages and the
//! review page), and the review detail page, shown by the review handlers and again by the
//! message form on it when a message cannot be sent.

use std::collections::BTreeMap;

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::registration::RegData;
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::store::reference::AttachmentType;
use crate::store::reference::FileMeta;
use crate::store::units::Change;
use crate::store::units::Unit;
use crate::workflow::registration::{self, AttachmentSlot, Subject};

/// One attachment slot on a page.
pub struct Slot {
    pub t: AttachmentType,
    pub file: Option<FileMeta>,
    pub replaced: bool,
    pub error: String,
}

/// The slots of a page, without messages.
pub fn slots(from: Vec<AttachmentSlot>) -> Vec<Slot> {
    from.into_iter()
        .map(|s| Slot {
            t: s.t,
            file: s.file,
            replaced: s.replaced,
            error: String::new(),
        })
        .collect()
}

/// A message to a unit, or to all units (`target`), as typed.
#[derive(Deserialize, Default, Clone)]
pub struct MessageForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub target: String,
}

impl MessageForm {
    pub fn draft(&self) -> crate::workflow::notices::Draft<'_> {
        crate::workflow::notices::Draft {
            title: &self.title,
            body: &self.body,
        }
    }
}

/// A field shown on the detail page, with the proposed value for change requests.
pub struct Row {
    pub label: &'static str,
    pub value: String,
    pub proposed: String,
}

impl Row {
    pub fn changed(&self) -> bool {
        !self.proposed.is_empty() && self.proposed != self.value
    }
}

fn rows(unit: &Unit, district_names: &BTreeMap<i64, String>, change: Option<&Change>) -> Vec<Row> {
    let row = |label, get: &dyn Fn(&RegData) -> String| Row {
        label,
        value: get(&unit.data),
        proposed: change.map(|c| get(&c.data)).unwrap_or_default(),
    };
    let district = |d: &RegData| {
        district_names
            .get(&d.district_id)
            .cloned()
            .unwrap_or_default()
    };
    vec![
        row("单位全称", &|d| d.name.clone()),
        row("单位英文名称", &|d| d.english_name.clone()),
        row("统一社会信用代码", &|d| d.credit_code.clone()),
        row("所属县区", &district),
        row("单位地址", &|d| d.address.clone()),
        row("单位类型", &|d| d.unit_type.clone()),
        row("法定代表人", &|d| d.legal_rep.clone()),
        row("联系人", &|d| d.contact_name.clone()),
        row("联系电话", &|d| d.landline.clone()),
        row("电子邮箱", &|d| d.email.clone()),
        Row {
            label: "手机号码",
            value: unit.mobile.clone(),
            proposed: String::new(),
        },
    ]
}

#[derive(Template)]
#[template(path = "review_detail.html")]
struct DetailPage {
    l: Layout,
    unit: Unit,
    change: Option<Change>,
    rows: Vec<Row>,
    slots: Vec<Slot>,
    timeline: Vec<Entry>,
    can_act: bool,
    action_base: String,
    reason: String,
    comment: String,
    errors: FieldErrors,
    msg: MessageForm,
    msg_errors: FieldErrors,
    upload: bool,
    unit_id: i64,
}

/// What a re-rendered detail page keeps: typed reason/comment, the message form, errors.
#[derive(Default)]
pub struct Extras {
    pub reason: String,
    pub comment: String,
    pub errors: FieldErrors,
    pub msg: MessageForm,
    pub msg_errors: FieldErrors,
    pub flash: String,
}

/// The review detail page of a registration or change request.
pub async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    subject: Subject,
    x: Extras,
) -> AppResult<Response> {
    let page = registration::review_page(state, ctx.principal()?, subject).await?;
    // Both buttons or none: approving and returning wait for the same reviewer.
    let can_act = page.actions.iter().any(|a| a.is_review());
    let action_base = match &page.change {
        Some(c) => format!("/review/changes/{}", c.id),
        None => format!("/review/units/{}", page.unit.id),
    };
    let mut l = layout(
        state,
        ctx,
        if page.change.is_some() {
            "注册信息变更审核"
        } else {
            "注册审核"
        },
    )
    .await?;
    l.flash = x.flash;
    render(DetailPage {
        upload: false,
        unit_id: page.unit.id,
        rows: rows(&page.unit, &page.district_names, page.change.as_ref()),
        l,
        unit: page.unit,
        change: page.change,
        slots: slots(page.slots),
        timeline: page.timeline,
        can_act,
        action_base,
        reason: x.reason,
        comment: x.comment,
        errors: x.errors,
        msg: x.msg,
        msg_errors: x.msg_errors,
    })
}
