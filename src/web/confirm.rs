//! The confirmation step of irreversible actions (issue 17): a POST to one of the routes listed
//! in [`of`] acts only when it carries `confirm=1`. Without it nothing happens and the page says
//! what will happen, with a 【确认…】 button that posts the same fields again with `confirm=1`.
//! It works without JavaScript and is the one mechanism for every such action.
//!
//! An action that would be refused anyway goes straight to its handler, which answers with its
//! message beside the field: a `required` field left blank, or (for the submissions, see
//! [`Ready`]) something still missing. Asking first would only delay that message.
//!
//! Upload forms (【发件】 carries the letter) cannot be posted again without the file, so they
//! carry a checkbox `confirm` that states what will happen; a post without it gets the same page
//! with a way back instead of the button.

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, RawPathParams, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::page::{layout, render, Layout};
use crate::domain::group_flow::GroupAction;
use crate::state::AppState;
use crate::workflow::{groups, registration, visits};

/// The largest body read here: that of the upload routes (their own limit applies too).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What an irreversible action does, as the confirmation page tells it.
#[derive(Debug)]
pub struct Confirm {
    /// The button as the page shows it, e.g. 【审核通过】.
    pub action: &'static str,
    /// What will happen, in full.
    pub will: &'static str,
    /// The button that carries the confirmation.
    pub button: &'static str,
    /// Red rather than blue.
    pub danger: bool,
    /// Fields the action requires: when one is blank the handler refuses anyway (with its
    /// message beside the field), so the request goes straight to it.
    pub required: &'static [&'static str],
    /// A submission refused while something is missing: when it is, the request goes straight
    /// to the handler, which says what to complete.
    pub ready: Option<Ready>,
}

/// The submissions whose handlers refuse while something is missing (each rule is its
/// workflow's `missing_for_submit`, which the handler's submit calls too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    /// 【提交】 of a group (`/groups/{id}/submit`).
    Group,
    /// 【提交】 of the unit's registration or change request.
    Registration,
    /// [提交] of a visitor's 销签登记 (`/visits/{visitor_id}/submit`).
    Visit,
}

const fn c(
    action: &'static str,
    will: &'static str,
    button: &'static str,
    danger: bool,
    required: &'static [&'static str],
) -> Confirm {
    Confirm {
        action,
        will,
        button,
        danger,
        required,
        ready: None,
    }
}

/// `what`, checked for missing items before it asks (see [`Ready`]).
const fn ready(what: Confirm, ready: Ready) -> Confirm {
    Confirm {
        ready: Some(ready),
        ..what
    }
}

static REGISTRATION_SUBMIT: Confirm = ready(
    c(
        "【提交】注册信息",
        "注册信息和附件将提交属地县区外办审核；审核期间不能修改。",
        "【确认提交】",
        false,
        &[],
    ),
    Ready::Registration,
);
static GROUP_SUBMIT: Confirm = ready(
    c(
        "【提交】团组",
        "团组将提交属地县区外办初审，提交后不能修改；县区外办初审前可以撤回。",
        "【确认提交】",
        false,
        &[],
    ),
    Ready::Group,
);
static GROUP_DELETE: Confirm = c(
    "【删除草稿】",
    "该草稿的团组资料、到访人员和已上传的附件将一并删除，且不能恢复。",
    "【确认删除】",
    true,
    &[],
);
static UNIT_CANCEL: Confirm = c(
    "【取消邀请】",
    "邀请将被取消，市外办将收到通知，到访人员无需办理销签登记。取消后不能恢复。",
    "【确认取消邀请】",
    true,
    &["cancel_reason"],
);
static VISIT_SUBMIT: Confirm = ready(
    c(
        "【提交】销签登记",
        "该到访人员的销签登记将提交县区外办和市外办审核；审核期间不能修改。",
        "【确认提交】",
        false,
        &[],
    ),
    Ready::Visit,
);
static VISIT_APPROVE: Confirm = c(
    "【审核通过】销签登记",
    "该到访人员的销签登记将审核通过，不能撤销。",
    "【确认审核通过】",
    false,
    &[],
);
static VISIT_RETURN: Confirm = c(
    "【退回】销签登记",
    "销签登记将退回申请单位，并通知其按退回原因修改后重新提交。",
    "【确认退回】",
    true,
    &["reason"],
);
static UNIT_APPROVE: Confirm = c(
    "【审核通过】",
    "审核通过后申请单位即可使用系统办理来华申报，并将收到短信和站内信通知。",
    "【确认审核通过】",
    false,
    &[],
);
static UNIT_RETURN: Confirm = c(
    "【退回】",
    "注册信息将退回申请单位，并通知其按退回原因修改后重新提交。",
    "【确认退回】",
    true,
    &["reason"],
);
static GROUP_APPROVE: Confirm = c(
    "【审核通过】",
    "团组初审通过，将提交市外办审核受理；县区外办不能再退件。",
    "【确认审核通过】",
    false,
    &[],
);
static GROUP_RETURN: Confirm = c(
    "【退件】",
    "团组将退回申请单位，并通知其按退件原因修改后重新提交。",
    "【确认退件】",
    true,
    &["reason"],
);
static GROUP_ACCEPT: Confirm = c(
    "【受理】",
    "团组将被受理，系统自动分配本年度下一个受理编号（不能撤销），团组进入“已受理，待上报外交部”。",
    "【确认受理】",
    false,
    &[],
);
static GROUP_REPORT: Confirm = c(
    "【上报外交部】",
    "将记录外交部系统返回的核实单号，团组进入“已上报，待发件”。",
    "【确认上报】",
    false,
    &["verification_no"],
);
static GROUP_MINISTRY: Confirm = c(
    "【外交部不予核实】",
    "团组将退回申请单位并告知外交部不予核实的原因；受理编号保留，核实单号作废。",
    "【确认外交部不予核实】",
    true,
    &["ministry_reason"],
);
static CITY_CANCEL: Confirm = c(
    "【取消邀请】",
    "邀请将被取消，并通知申请单位；到访人员无需办理销签登记。取消后不能恢复。",
    "【确认取消邀请】",
    true,
    &["cancel_reason"],
);
pub static GROUP_DISPATCH: Confirm = c(
    "【发件】",
    "邀请函 / 核实通知将发给申请单位并短信通知，团组办结为“已发件”，不能撤销。",
    "【确认发件】",
    false,
    &[],
);
static STAFF_RESET: Confirm = c(
    "【重置密码】",
    "将为该工作人员帐号生成新的随机密码，只在下一页显示一次，请告知本人（系统不发短信）。原密码立即失效，该帐号已登录的会话全部结束；本人下次登录时须修改密码。",
    "【确认重置密码】",
    true,
    &[],
);
static STAFF_RESET_2FA: Confirm = c(
    "【重置两步验证】",
    "将删除该帐号的两步验证（验证器和恢复码都不能再用），该帐号已登录的会话全部结束；本人下次登录时按规定重新启用。",
    "【确认重置两步验证】",
    true,
    &[],
);
static UNIT_BLACKLIST: Confirm = c(
    "【列入失信企业名单】",
    "该单位将列入失信企业名单：其帐号已登录的会话立即结束，此后不能登录系统，直至移出名单。单位不会收到短信或站内信。",
    "【确认列入失信企业名单】",
    true,
    &["reason"],
);
static UNIT_MOBILE: Confirm = c(
    "【更换绑定手机】",
    "该单位的绑定手机将换成下面的新号码：此后短信验证码（如找回密码）和短信通知只发到新号码，原号码不再接收。更换时不发短信核对，请先核实是该单位本人申请。",
    "【确认更换绑定手机】",
    false,
    &["mobile"],
);
static UNIT_RESET: Confirm = c(
    "【重置单位密码】",
    "将为该单位帐号生成新的随机密码，只在下一页显示一次，请告知单位（系统不发短信）。原密码立即失效，该单位已登录的会话全部结束；单位下次登录时须修改密码。",
    "【确认重置单位密码】",
    true,
    &[],
);
static MESSAGE_DELETE: Confirm = c(
    "【删除】消息",
    "这条消息将从站内信中删除，不能恢复，也不再弹出提醒。",
    "【确认删除】",
    true,
    &[],
);

/// The confirmation of the route `path` (as written in the route table), if it needs one.
pub fn of(path: &str) -> Option<&'static Confirm> {
    Some(match path {
        "/registration/submit" => &REGISTRATION_SUBMIT,
        "/groups/{id}/submit" => &GROUP_SUBMIT,
        "/groups/{id}/delete" => &GROUP_DELETE,
        "/groups/{id}/cancel" => &UNIT_CANCEL,
        "/visits/{visitor_id}/submit" => &VISIT_SUBMIT,
        "/review/visits/{visitor_id}/approve" => &VISIT_APPROVE,
        "/review/visits/{visitor_id}/return" => &VISIT_RETURN,
        "/review/units/{id}/approve" | "/review/changes/{id}/approve" => &UNIT_APPROVE,
        "/review/units/{id}/return" | "/review/changes/{id}/return" => &UNIT_RETURN,
        "/review/groups/{id}/approve" => &GROUP_APPROVE,
        "/review/groups/{id}/return" => &GROUP_RETURN,
        "/review/groups/{id}/accept" => &GROUP_ACCEPT,
        "/review/groups/{id}/report" => &GROUP_REPORT,
        "/review/groups/{id}/ministry_refuse" => &GROUP_MINISTRY,
        "/review/groups/{id}/cancel" => &CITY_CANCEL,
        "/review/groups/{id}/dispatch" => &GROUP_DISPATCH,
        "/admin/staff/{id}/reset" => &STAFF_RESET,
        "/admin/staff/{id}/reset-2fa" => &STAFF_RESET_2FA,
        "/admin/units/{id}/blacklist" => &UNIT_BLACKLIST,
        "/admin/units/{id}/mobile" => &UNIT_MOBILE,
        "/admin/units/{id}/reset" => &UNIT_RESET,
        "/messages/{id}/delete" => &MESSAGE_DELETE,
        _ => return None,
    })
}

/// Labels of the fields the confirmation page repeats (what was typed).
fn field_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "reason" => "原因",
        "cancel_reason" => "取消原因",
        "ministry_reason" => "外交部不予核实原因",
        "verification_no" => "核实单号",
        "comment" => "审核意见",
        "mobile" => "新手机号码",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    l: Layout,
    what: &'static Confirm,
    action: String,
    /// The fields posted again, hidden (without `csrf` and `confirm`).
    fields: Vec<(String, String)>,
    /// What was typed, shown to be checked.
    shown: Vec<(&'static str, String)>,
    /// False for upload forms: the file cannot be posted again.
    can_repost: bool,
    back: String,
}

/// The page a request comes back to when the action is not confirmed: the page the form says
/// it was on (`back`, as the message reminder's forms carry), else the record the action was
/// taken on (the path without its last segment).
fn back_to(path: &str, fields: &[(String, String)]) -> String {
    fields
        .iter()
        .find(|(k, _)| k == "back")
        .and_then(|(_, v)| super::ctx::safe_next(v))
        .unwrap_or_else(|| back_of(path))
}

/// The record an action at `path` was taken on.
fn back_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/home".into(),
        Some(("/registration", _)) => "/registration/attachments".into(),
        Some((head, _)) => head.into(),
    }
}

/// Middleware of the routes listed in [`of`]: passes a confirmed POST on, and one its handler
/// refuses anyway (a `required` field blank, a submission with something missing); answers any
/// other with the confirmation page.
pub async fn gate(
    State((state, what)): State<(AppState, &'static Confirm)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return AppError::TooLarge("提交的内容过大".into()).into_response(),
    };
    let multipart = content_type.starts_with("multipart/form-data");
    let (confirmed, fields) = if multipart {
        (multipart_confirmed(&content_type, &bytes).await, Vec::new())
    } else {
        let pairs = super::ctx::url_decode_pairs(&bytes);
        let confirmed = pairs.iter().any(|(k, v)| k == "confirm" && v == "1");
        let blank = what
            .required
            .iter()
            .any(|r| !pairs.iter().any(|(k, v)| k == r && !v.trim().is_empty()));
        (confirmed || blank, pairs)
    };
    let pass = match (
        confirmed,
        what.ready,
        parts.extensions.get::<Ctx>().cloned(),
    ) {
        (false, Some(ready), Some(ctx)) if !multipart => {
            let id = RawPathParams::from_request_parts(&mut parts, &())
                .await
                .ok()
                .and_then(|p| p.iter().next().and_then(|(_, v)| v.parse::<i64>().ok()));
            refused_anyway(&state, &ctx, ready, id).await
        }
        (confirmed, ..) => confirmed,
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    if pass {
        return next.run(req).await;
    }
    let ctx = req.extensions().get::<Ctx>().cloned();
    let Some(ctx) = ctx else {
        return AppError::NotFound.into_response();
    };
    let path = req.uri().path().to_string();
    let page = async {
        let title = format!("请确认：{}", what.action);
        let l = layout(&state, &ctx, &title).await?;
        let shown = fields
            .iter()
            .filter_map(|(k, v)| field_label(k).map(|label| (label, v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let back = back_to(&path, &fields);
        let fields = fields
            .into_iter()
            .filter(|(k, _)| k != "csrf" && k != "confirm")
            .collect();
        render(ConfirmPage {
            l,
            what,
            action: path.clone(),
            fields,
            shown,
            can_repost: !multipart,
            back,
        })
    };
    match page.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Whether the submission `ready` (of the record `id` of the path) would be refused for
/// something missing, or for any other reason: then its handler answers, as it would after the
/// confirmation.
async fn refused_anyway(state: &AppState, ctx: &Ctx, ready: Ready, id: Option<i64>) -> bool {
    let missing = async {
        let p = ctx.principal()?;
        let missing = match ready {
            Ready::Group => {
                let a = groups::applicant(p, ctx.unit(state).await?)?;
                let id = id.ok_or(AppError::NotFound)?;
                let t = groups::own(state, &a, id, GroupAction::Submit).await?;
                groups::missing_for_submit(state, t.group()).await?.len()
            }
            Ready::Registration => {
                let own = registration::own(state, p).await?;
                let request = registration::submitting(&own)?;
                registration::missing_for_submit(state, &own, request)
                    .await?
                    .len()
            }
            Ready::Visit => {
                let s = visits::subject(state, p, id.ok_or(AppError::NotFound)?).await?;
                let r = visits::submittable(state, &s).await?;
                visits::missing_for_submit(state, &r).await?.len()
            }
        };
        AppResult::Ok(missing)
    };
    missing.await.map_or(true, |n| n > 0)
}

/// Whether an upload form carries `confirm=1` among its fields.
async fn multipart_confirmed(content_type: &str, bytes: &axum::body::Bytes) -> bool {
    let probe = match Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes.clone()))
    {
        Ok(r) => r,
        Err(_) => return false,
    };
    let Ok(mut m) = Multipart::from_request(probe, &()).await else {
        return false;
    };
    while let Ok(Some(field)) = m.next_field().await {
        if field.name() == Some("confirm") {
            return field.text().await.is_ok_and(|v| v == "1");
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_goes_to_the_record_the_action_was_on() {
        assert_eq!(back_of("/review/groups/7/accept"), "/review/groups/7");
        assert_eq!(back_of("/groups/3/submit"), "/groups/3");
        assert_eq!(back_of("/registration/submit"), "/registration/attachments");
        assert_eq!(back_of("/admin/staff/3/reset"), "/admin/staff/3");
        assert_eq!(back_of("/admin/staff/3/reset-2fa"), "/admin/staff/3");
        assert_eq!(back_of("/admin/units/7/blacklist"), "/admin/units/7");
        assert_eq!(back_of("/admin/units/7/mobile"), "/admin/units/7");
        assert_eq!(back_of("/admin/units/7/reset"), "/admin/units/7");
        assert_eq!(back_of("/messages/5/delete"), "/messages/5");
    }

    #[test]
    fn back_is_the_page_the_form_names_when_it_is_ours() {
        let field = |v: &str| vec![("back".to_string(), v.to_string())];
        assert_eq!(back_to("/messages/5/delete", &field("/groups")), "/groups");
        assert_eq!(back_to("/messages/5/delete", &[]), "/messages/5");
        assert_eq!(
            back_to("/messages/5/delete", &field("//evil.example")),
            "/messages/5"
        );
    }

    #[test]
    fn administrators_irreversible_actions_and_message_delete_ask_first() {
        for path in [
            "/admin/staff/{id}/reset",
            "/admin/staff/{id}/reset-2fa",
            "/admin/units/{id}/blacklist",
            "/admin/units/{id}/mobile",
            "/admin/units/{id}/reset",
            "/messages/{id}/delete",
        ] {
            assert!(of(path).is_some(), "{path} asks first");
        }
        // A blank reason or number is refused beside the field, without asking.
        assert_eq!(
            of("/admin/units/{id}/blacklist").map(|c| c.required),
            Some(&["reason"][..])
        );
        assert_eq!(
            of("/admin/units/{id}/mobile").map(|c| c.required),
            Some(&["mobile"][..])
        );
        assert_eq!(of("/admin/units/{id}/unblacklist").map(|c| c.action), None);
    }
}
