//! The pages of a group that its unit and the offices both see: the read-only record (with the
//! buttons of the actions the workflow allows) and the printed application form.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::group::{Ground, GroupState};
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
    can_withdraw: bool,
    can_cancel: bool,
    can_ministry_refuse: bool,
    cancellation: Option<crate::store::group_paths::Cancellation>,
    days_left: Option<i64>,
    duplicates: Vec<Duplicate>,
    errors: FieldErrors,
    reason: String,
    verification_no: String,
    cancel_reason: String,
    ministry_reason: String,
    /// The 好差评 section (empty before the group's first 发件 or 退件).
    rating_html: String,
}

impl RecordPage {
    /// The 受理编号 drawn at an earlier 受理 is kept while the group is back with the unit or on
    /// its way to the city again.
    fn acceptance_kept(&self) -> bool {
        self.g.acceptance_no.is_some()
            && matches!(
                self.g.state,
                GroupState::Returned
                    | GroupState::Withdrawn
                    | GroupState::PendingCounty
                    | GroupState::PendingCity
            )
    }
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
    pub cancel_reason: String,
    pub ministry_reason: String,
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
        can_withdraw: may(GroupAction::Withdraw),
        can_cancel: may(GroupAction::Cancel),
        can_ministry_refuse: may(GroupAction::MinistryRefuse),
        cancellation: r.cancellation,
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
        cancel_reason: t.cancel_reason,
        ministry_reason: t.ministry_reason,
    })
}

#[derive(Template)]
#[template(path = "group_print.html")]
struct PrintPage {
    f: crate::pdf::FormData,
    qr: String,
    short_hash: String,
    /// The same text the PDF prints.
    declaration: &'static str,
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
                declaration: crate::pdf::DECLARATION,
                f: p.form,
            };
            Ok(Html(page.render()?).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HTML print (a server without a Chinese font) carries what the PDF carries, and the
    /// very declaration the PDF prints.
    #[test]
    fn the_html_print_has_the_new_fields_and_the_pdf_declaration() {
        let form = crate::pdf::sample_form();
        let page = PrintPage {
            qr: String::new(),
            short_hash: "3f5a9c0e12b47d68".into(),
            declaration: crate::pdf::DECLARATION,
            f: form,
        };
        let html = page.render().unwrap_or_default();
        for wanted in [
            crate::pdf::DECLARATION,
            "团组人数",
            "四、到访人员签证及工作单位",
            "拟申请签证种类",
            "M（商贸）",
            "停留期限（天）",
            "工作单位所在国家（地区）",
            "Stuttgart-Bad Cannstatt",
            "五、在华日程",
            "出席中德（常州）创新产业园合作交流会并签署合作备忘录",
            "六、申请单位声明",
        ] {
            assert!(html.contains(wanted), "{wanted:?} not in the HTML print");
        }
    }
}
