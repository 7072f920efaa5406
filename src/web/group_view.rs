//! The pages of a group that its unit and the offices both see: the read-only record (with the
//! buttons of the actions the workflow allows) and the printed application form.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::group::Ground;
use crate::domain::group_flow::GroupAction;
use crate::domain::principal::Role;
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::store::groups::Group;
use crate::store::reference::FileMeta;
use crate::workflow::groups::{Duplicate, FileSlot, Printed, Record, VisitorView};

#[derive(Template)]
#[template(path = "group_record.html")]
struct RecordPage {
    l: Layout,
    g: Group,
    purpose: String,
    cost_bearer: String,
    entry_type: String,
    ground: String,
    visitors: Vec<VisitorView>,
    files: Vec<FileSlot>,
    scan: Option<FileMeta>,
    letter: Option<FileMeta>,
    timeline: Vec<Entry>,
    is_unit: bool,
    can_county: bool,
    can_accept: bool,
    can_report: bool,
    can_dispatch: bool,
    can_return: bool,
    days_left: Option<i64>,
    duplicates: Vec<Duplicate>,
    errors: FieldErrors,
    reason: String,
    verification_no: String,
    /// The 好差评 section (empty before the group's first 发件 or 退件).
    rating_html: String,
}

impl RecordPage {
    fn days(&self) -> i64 {
        self.days_left.unwrap_or(0)
    }
    fn overdue(&self) -> bool {
        self.days() < 0
    }
    fn late_days(&self) -> i64 {
        -self.days()
    }
}

/// What a refused action typed, shown again on the record.
#[derive(Default)]
pub struct Typed {
    pub errors: FieldErrors,
    pub reason: String,
    pub verification_no: String,
    pub flash: String,
}

/// The read-only record of a group with the buttons of the actions the viewer may take.
pub async fn record_page(state: &AppState, ctx: &Ctx, r: Record, t: Typed) -> AppResult<Response> {
    let is_unit = ctx.principal()?.role == Role::Unit;
    let may = |a: GroupAction| r.actions.contains(&a);
    let mut l = layout(state, ctx, &format!("团组{}", r.group.number)).await?;
    l.flash = t.flash;
    let rating_html = super::ratings::section_html(state, ctx, &r.group).await?;
    render(RecordPage {
        rating_html,
        entry_type: r.group.data.entry_type.label().into(),
        ground: r.group.data.ground.map_or("", Ground::label).into(),
        can_county: may(GroupAction::CountyApprove),
        can_accept: may(GroupAction::Accept),
        can_report: may(GroupAction::Report),
        can_dispatch: may(GroupAction::Dispatch),
        can_return: r.actions.iter().any(|a| a.is_return()),
        is_unit,
        l,
        g: r.group,
        purpose: r.purpose,
        cost_bearer: r.cost_bearer,
        visitors: r.visitors,
        files: r.files,
        scan: r.scan,
        letter: r.letter,
        timeline: r.timeline,
        days_left: r.days_left,
        duplicates: r.duplicates,
        errors: t.errors,
        reason: t.reason,
        verification_no: t.verification_no,
    })
}

#[derive(Template)]
#[template(path = "group_print.html")]
struct PrintPage {
    f: crate::pdf::FormData,
    qr: String,
    short_hash: String,
}

/// The printed form: the PDF, or without a CJK font the same form as an A4 HTML page the
/// browser prints.
pub fn printed(p: Printed) -> AppResult<Response> {
    match p.pdf {
        Some(pdf) => Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    super::files::disposition("inline", &p.file_name),
                ),
            ],
            pdf,
        )
            .into_response()),
        None => {
            let payload = crate::pdf::qr_payload(&p.form.group_number, &p.form.data_hash);
            let page = PrintPage {
                qr: crate::pdf::qr_svg(&payload),
                short_hash: p.form.data_hash.chars().take(16).collect(),
                f: p.form,
            };
            Ok(Html(page.render()?).into_response())
        }
    }
}
