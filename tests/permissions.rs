//! The permission matrix: every route of `laihua::web::router::routes()`, every method it serves,
//! for eight kinds of visitor, with the expected answer of each cell. Path parameters address the
//! objects of one approved unit of 天宁区 ("the unit"): its id, one of its attachments, one of its
//! site messages, its pending change request, its two invitation groups (one passed by the
//! county, one a draft) with one of their files, and the visitors of its dispatched group
//! (销签登记) with their scans.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use std::collections::BTreeSet;
use std::fmt;

use laihua::web::ctx::{urlencode, Access};
use laihua::web::router::routes;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Persona {
    Anonymous,
    /// A registered and submitted unit of 天宁区, not yet approved.
    PendingUnit,
    /// The approved unit of 天宁区 whose objects the paths address.
    Unit,
    /// An approved unit of 武进区 addressing the unit's objects.
    OtherUnit,
    /// County staff of 天宁区 (`tianning`).
    County,
    /// County staff of 武进区 (`wujin`).
    OtherCounty,
    City,
    Admin,
}

use Persona::*;

/// The columns of the table, in this order.
const PERSONAS: [Persona; 8] = [
    Anonymous,
    PendingUnit,
    Unit,
    OtherUnit,
    County,
    OtherCounty,
    City,
    Admin,
];
const SIGNED_IN: &[Persona] = &[
    PendingUnit,
    Unit,
    OtherUnit,
    County,
    OtherCounty,
    City,
    Admin,
];

impl Persona {
    fn label(self) -> &'static str {
        match self {
            Anonymous => "anonymous",
            PendingUnit => "pending unit",
            Unit => "the unit",
            OtherUnit => "other unit",
            County => "county (tianning)",
            OtherCounty => "county (wujin)",
            City => "city",
            Admin => "admin",
        }
    }

    /// Whether a route with this access policy lets this persona past its guard.
    fn admitted(self, access: Access) -> bool {
        match access {
            Access::Public => true,
            Access::Signed => self != Anonymous,
            Access::Unit => matches!(self, PendingUnit | Unit | OtherUnit),
            Access::Staff => matches!(self, County | OtherCounty | City),
            Access::City => self == City,
            Access::Admin => self == Admin,
            Access::Oversight => matches!(self, County | OtherCounty | City | Admin),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Method {
    Get,
    Post,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Ok,
    /// 3xx to exactly this location, optionally followed by a query string.
    Redirect(&'static str),
    /// 3xx to the record the row acts on (the row's path less its last segment), optionally
    /// followed by a query string.
    Parent,
    /// The guard's 3xx to the sign-in page (`/login?next=<path>` for GET, `/login` for POST).
    LoginRedirect,
    /// 3xx to a path starting with this (the record's id follows).
    Under(&'static str),
    Forbidden,
    NotFound,
    Conflict,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("200"),
            Outcome::Redirect(to) => write!(f, "3xx → {to}"),
            Outcome::Parent => f.write_str("3xx → the record"),
            Outcome::LoginRedirect => f.write_str("3xx → /login"),
            Outcome::Under(to) => write!(f, "3xx → {to}…"),
            Outcome::Forbidden => f.write_str("403"),
            Outcome::NotFound => f.write_str("404"),
            Outcome::Conflict => f.write_str("409"),
        }
    }
}

impl Outcome {
    fn matches(self, method: Method, path: &str, page: &Page) -> bool {
        let redirect = (300..400).contains(&page.status);
        let redirect_to = |to: &str| {
            redirect
                && page.location.starts_with(to)
                && matches!(page.location[to.len()..].chars().next(), None | Some('?'))
        };
        match self {
            Outcome::Ok => (200..300).contains(&page.status),
            Outcome::Redirect(to) => redirect_to(to),
            Outcome::Parent => path.rsplit_once('/').is_some_and(|(up, _)| redirect_to(up)),
            Outcome::LoginRedirect => {
                redirect
                    && match method {
                        Method::Get => page.location == format!("/login?next={}", urlencode(path)),
                        Method::Post => page.location == "/login",
                    }
            }
            Outcome::Under(to) => redirect && page.location.starts_with(to),
            Outcome::Forbidden => page.status == 403,
            Outcome::NotFound => page.status == 404,
            Outcome::Conflict => page.status == 409,
        }
    }
}

/// What a cell sends.
#[derive(Clone, Copy)]
enum Input {
    /// Only the CSRF token (POST) or nothing (GET).
    Nothing,
    /// A form, with the CSRF token added.
    Form(&'static [(&'static str, &'static str)]),
    /// A multipart upload of a file that is not a PDF (refused without storing anything).
    NotPdf,
    /// The same in a form of several file inputs, in the input of this slot (a route
    /// parameter such as `{type_id}` is filled in like the path's).
    NotPdfIn(&'static str),
}

struct Row {
    path: &'static str,
    method: Method,
    input: Input,
    /// Expected answer per persona, in the order of `PERSONAS`.
    expect: [Outcome; 8],
    /// Cells that change state when they succeed: run after every other cell, each with a freshly
    /// signed-in client, so that they cannot disturb the rest of the table.
    deferred: &'static [Persona],
    /// Text that every 2xx answer of the row must contain, one of these when there are several
    /// (so that a 200 is the expected page).
    markers: Vec<&'static str>,
}

impl Row {
    fn deferred(mut self, personas: &'static [Persona]) -> Row {
        self.deferred = personas;
        self
    }
    fn marker(mut self, text: &'static str) -> Row {
        self.markers = vec![text];
        self
    }
    /// The printed application form: a PDF, or the HTML page to print where the server has no
    /// Chinese font.
    fn printed_form(mut self) -> Row {
        self.markers = vec!["%PDF-", "邀请外国人来华申请表"];
        self
    }
}

fn get(path: &'static str, expect: [Outcome; 8]) -> Row {
    Row {
        path,
        method: Method::Get,
        input: Input::Nothing,
        expect,
        deferred: &[],
        markers: Vec::new(),
    }
}

fn post(path: &'static str, input: Input, expect: [Outcome; 8]) -> Row {
    Row {
        path,
        method: Method::Post,
        input,
        expect,
        deferred: &[],
        markers: Vec::new(),
    }
}

const EMPTY: Input = Input::Form(&[]);
const NO_CREDENTIALS: Input = Input::Form(&[("login_id", ""), ("password", "")]);
const WRONG_OLD_PASSWORD: Input = Input::Form(&[
    ("old_password", "Wrong#2026pass"),
    ("password", "Fresh#2026pass"),
    ("password2", "Fresh#2026pass"),
]);
const BAD_MOBILE: Input = Input::Form(&[("action", "send"), ("mobile", "123")]);
const NO_COMMENT: Input = Input::Form(&[("comment", "")]);
const WITH_REASON: Input = Input::Form(&[("reason", "请补充营业执照副本")]);
const NO_REASON: Input = Input::Form(&[("reason", "")]);
/// 【保存】 of a group form with no field filled: the form again with the errors, nothing saved.
const SAVE_EMPTY: Input = Input::Form(&[("action", "save")]);
/// A reason for 【取消邀请】; an empty one for 【外交部不予核实】.
const CANCEL_REASON: Input = Input::Form(&[("cancel_reason", "外方取消来访")]);
const NO_MINISTRY_REASON: Input = Input::Form(&[("ministry_reason", "")]);
/// A 核实单号 with a space and a dash: refused with the form's error where the state allows.
const BAD_VERIFICATION_NO: Input = Input::Form(&[("verification_no", "HW 3255-0202")]);

/// The expected answers. Columns: anonymous, pending unit, the unit, other unit,
/// county (tianning), county (wujin), city, admin.
///
/// Fixture state the answers rely on: the unit is approved and has a change request waiting for
/// the county (so its own registration is not editable); the pending unit waits for the county;
/// the other unit is approved with no change request (so it may edit and submit one). The unit has
/// an invitation group that the county passed (待审核受理, `pending_city`), a draft group that
/// is saved, not printed, with its clerk's ID uploaded, and a dispatched group of three visitors:
/// one cancelled and submitted with its statement (待县区外办审核, `pending_county`), one not
/// registered, one registered as entered (已入境, `entered`) with its entry stamp.
#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Outcome::*;
    const HOME: Outcome = Redirect("/home");
    const LR: Outcome = LoginRedirect;
    const F: Outcome = Forbidden;
    const NF: Outcome = NotFound;
    const C: Outcome = Conflict;
    const REG: Outcome = Redirect("/registration");
    const REVIEW: Outcome = Redirect("/review");
    vec![
        //                                                           anonymous            pending  the unit  other    tianning  wujin    city     admin
        get("/",                                                    [Redirect("/login"), HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME]),
        get("/login",                                               [Ok,                 HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME]),
        post("/login", NO_CREDENTIALS,                              [Ok,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok])
            .marker("请输入登录ID和密码"),
        post("/logout", Input::Nothing,                             [Redirect("/login"); 8])
            .deferred(SIGNED_IN),
        // The second factor's step of a sign-in: no persona has a pending sign-in.
        get("/login/2fa",                                           [Redirect("/login?ok=signin_expired"); 8]),
        post("/login/2fa", EMPTY,                                   [Redirect("/login?ok=signin_expired"); 8]),
        get("/forgot",                                              [Ok; 8]),
        post("/forgot", EMPTY,                                      [Ok; 8])
            .marker("请填写单位全称"),
        get("/forgot/sms",                                          [Redirect("/forgot"); 8]),
        post("/forgot/sms", EMPTY,                                  [Redirect("/forgot"); 8]),
        get("/forgot/reset",                                        [Redirect("/forgot"); 8]),
        post("/forgot/reset", EMPTY,                                [Redirect("/forgot"); 8]),
        get("/register",                                            [Ok,                 HOME,    HOME,     HOME,    HOME,     HOME,    HOME,    HOME])
            .marker("我已阅读以上须知"),
        post("/register", Input::Nothing,                           [Redirect("/register"); 8]),
        get("/register/mobile",                                     [Redirect("/register"); 8]),
        post("/register/mobile", EMPTY,                             [Redirect("/register"); 8]),
        get("/register/org",                                        [Redirect("/register/mobile"); 8]),
        post("/register/org", EMPTY,                                [Redirect("/register/mobile"); 8]),
        get("/register/account",                                    [Redirect("/register/org"); 8]),
        post("/register/account", EMPTY,                            [Redirect("/register"); 8]),
        get("/templates",                                           [Ok; 8])
            .marker("模板下载"),
        get("/templates/{type_id}",                                 [Ok; 8])
            .marker("{\\rtf1"),
        get("/help",                                                [Ok; 8]),
        get("/rules",                                               [Ok; 8]),
        get("/home",                                                [LR,                 Ok,      Ok,       Ok,      REVIEW,   REVIEW,  REVIEW,  Redirect("/admin")]),
        get("/account",                                             [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok]),
        get("/account/password",                                    [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok]),
        post("/account/password", WRONG_OLD_PASSWORD,               [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok])
            .marker("原密码不正确"),
        // Without an action nothing changes: the page again.
        get("/account/2fa",                                         [LR,                 Ok,      Ok,       Ok,      Ok,       Ok,      Ok,      Ok])
            .marker("两步验证"),
        post("/account/2fa", EMPTY,                                 [LR,                 Redirect("/account/2fa"), Redirect("/account/2fa"), Redirect("/account/2fa"),
                                                                                                                     Redirect("/account/2fa"), Redirect("/account/2fa"), Redirect("/account/2fa"), Redirect("/account/2fa")]),
        get("/account/mobile",                                      [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        post("/account/mobile", BAD_MOBILE,                         [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F])
            .marker("请输入正确的11位手机号码"),
        // API tokens (issue 19): a unit's own; {id} is not one of its tokens.
        get("/account/tokens",                                      [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F])
            .marker("API令牌"),
        post("/account/tokens", EMPTY,                              [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F])
            .marker("请填写令牌名称"),
        post("/account/tokens/{id}/revoke", Input::Nothing,         [LR,                 NF,      NF,       NF,      F,        F,       F,       F]),
        get("/registration",                                        [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        get("/registration/edit",                                   [LR,                 REG,     REG,      Ok,      F,        F,       F,       F]),
        post("/registration/edit", EMPTY,                           [LR,                 C,       C,        Ok,      F,        F,       F,       F])
            .marker("请按提示修改标红的项目"),
        get("/registration/attachments",                            [LR,                 REG,     REG,      Ok,      F,        F,       F,       F]),
        post("/registration/attachments/{type_id}", Input::NotPdf,  [LR,                 C,       C,        Ok,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF"),
        post("/registration/attachments", Input::NotPdfIn("{type_id}"), [LR,             C,       C,        Ok,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF"),
        // The other unit's submit creates and submits its own change request.
        post("/registration/submit", Input::Nothing,                [LR,                 C,       C,        Redirect("/registration?ok=change_submitted"),
                                                                                                                     F,        F,       F,       F])
            .deferred(&[OtherUnit]),
        get("/units/{unit_id}/files/{file_id}",                     [LR,                 NF,      Ok,       NF,      Ok,       NF,      Ok,      Ok])
            .marker("%PDF-1.4"),
        // Invitation groups (来华申报): a unit not yet approved has none (409); another unit's group
        // is 404. {id} is the unit's draft group, except for print and files: the group the county
        // passed, which printing does not change. {slot} is `clerk_id`.
        get("/groups",                                              [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("最近的团组"),
        post("/groups", SAVE_EMPTY,                                 [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("请至少填写一名到访人员"),
        get("/groups/new",                                          [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("我已阅读，确认继续"),
        get("/groups/form",                                         [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("【保存】"),
        // The passport's machine-readable zone read for the page's script (JSON).
        post("/groups/mrz", EMPTY,                                  [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("机读区应为两行"),
        // The visitors' spreadsheet: its template, an import (an empty upload asks for the
        // file) and the fill of a part of it (the blocks checked again on 【保存】).
        get("/groups/visitors.xlsx",                                [LR,                 C,       Ok,       Ok,      F,        F,       F,       F]),
        post("/groups/import", Input::NotPdf,                       [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("文件不是有效的Excel工作簿"),
        post("/groups/fill", EMPTY,                                 [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("【保存】"),
        post("/groups/{id}/import", Input::NotPdf,                  [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("文件不是有效的Excel工作簿"),
        post("/groups/{id}/fill", EMPTY,                            [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("【保存】"),
        get("/groups/{id}",                                         [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("【提交】"),
        post("/groups/{id}", SAVE_EMPTY,                            [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("请至少填写一名到访人员"),
        post("/groups/{id}/print", Input::Nothing,                  [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .printed_form(),
        post("/groups/{id}/upload/{slot}", Input::NotPdf,           [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF、JPEG或PNG"),
        post("/groups/{id}/files", Input::NotPdfIn("clerk_id"),     [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF、JPEG或PNG"),
        // The draft is not printed: the form again, naming what is missing.
        post("/groups/{id}/submit", Input::Nothing,                 [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("提交前请补齐"),
        // The draft was never submitted: nothing to withdraw, no invitation to cancel.
        post("/groups/{id}/withdraw", Input::Nothing,               [LR,                 C,       C,        NF,      F,        F,       F,       F]),
        post("/groups/{id}/cancel", CANCEL_REASON,                  [LR,                 C,       C,        NF,      F,        F,       F,       F]),
        // These address the unit's submitted group: not a draft, so not deleted; copied for 再次邀请.
        post("/groups/{id}/delete", Input::Nothing,                 [LR,                 C,       C,        NF,      F,        F,       F,       F]),
        get("/groups/{id}/copy",                                    [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("再次邀请"),
        post("/groups/{id}/copy", SAVE_EMPTY,                       [LR,                 C,       Ok,       NF,      F,        F,       F,       F])
            .marker("请至少填写一名到访人员"),
        // 好差评 of the draft: nothing decided yet to rate (409); staff do not rate.
        get("/groups/{id}/rating",                                  [LR,                 C,       C,        NF,      F,        F,       F,       F]),
        post("/groups/{id}/rating", EMPTY,                          [LR,                 C,       C,        NF,      F,        F,       F,       F]),
        // Whoever may see the group: its unit, the county of its district once submitted, the city
        // once the county passed it, the administrator always.
        get("/groups/{id}/files/{file_id}",                         [LR,                 NF,      Ok,       NF,      Ok,       NF,      Ok,      Ok])
            .marker("%PDF-1.4"),
        get("/history",                                             [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("有[受理编号]表示市外办已审核受理"),
        get("/messages",                                            [LR,                 Ok,      Ok,       Ok,      F,        F,       F,       F]),
        // Public so that the page's script never gets a sign-in page: 204 unless a unit has a
        // message due to pop up (then 200 with it as JSON).
        get("/messages/popup",                                      [Ok; 8]),
        get("/messages/{id}",                                       [LR,                 NF,      Ok,       NF,      F,        F,       F,       F]),
        post("/messages/{id}/read", Input::Nothing,                 [LR,                 NF,      Redirect("/messages"),
                                                                                                            NF,      F,        F,       F,       F]),
        // Deletes another of the unit's messages than the one the other message cells use.
        post("/messages/{id}/delete", Input::Nothing,               [LR,                 NF,      Redirect("/messages?ok=deleted"),
                                                                                                            NF,      F,        F,       F,       F])
            .deferred(&[Unit]),
        get("/review",                                              [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      F]),
        get("/review/units/{id}",                                   [LR,                 F,       F,        F,       Ok,       NF,      Ok,      Ok]),
        // The unit is approved already: nothing left to approve or return.
        post("/review/units/{id}/approve", NO_COMMENT,              [LR,                 F,       F,        F,       C,        NF,      C,       F]),
        post("/review/units/{id}/return", WITH_REASON,              [LR,                 F,       F,        F,       C,        NF,      C,       F]),
        // Without a title and body: the detail page again, with the errors.
        post("/review/units/{id}/message", EMPTY,                   [LR,                 F,       F,        F,       Ok,       NF,      Ok,      F])
            .marker("请填写消息内容"),
        // The change request waits for the county: the city does not see it until the county
        // passed it.
        get("/review/changes/{id}",                                 [LR,                 F,       F,        F,       Ok,       NF,      NF,      Ok]),
        post("/review/changes/{id}/approve", NO_COMMENT,            [LR,                 F,       F,        F,       Redirect("/review?ok=approved"),
                                                                                                                               NF,      NF,      F])
            .deferred(&[County]),
        // Without a reason: the detail page again with the error.
        post("/review/changes/{id}/return", NO_REASON,              [LR,                 F,       F,        F,       Ok,       NF,      NF,      F]),
        // The group the county passed: its county still sees it, the other county does not.
        get("/review/groups",                                       [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      F])
            .marker("办理时限"),
        // Administrators read every submitted group (audit links, search); no actions.
        get("/review/groups/{id}",                                  [LR,                 F,       F,        F,       Ok,       NF,      Ok,      Ok])
            .marker("办理记录"),
        post("/review/groups/{id}/print", Input::Nothing,           [LR,                 F,       F,        F,       Ok,       NF,      Ok,      F])
            .printed_form(),
        // 初审 is the county's and done already; the city may not.
        post("/review/groups/{id}/approve", Input::Nothing,         [LR,                 F,       F,        F,       C,        NF,      F,       F]),
        // The county is past its turn; the city gets the detail page again with the error.
        post("/review/groups/{id}/return", NO_REASON,               [LR,                 F,       F,        F,       C,        NF,      Ok,      F])
            .marker("请填写退件原因"),
        // 【受理】 assigns the 受理编号 and leads back to the group.
        post("/review/groups/{id}/accept", Input::Nothing,          [LR,                 F,       F,        F,       F,        F,       Parent,  F])
            .deferred(&[City]),
        // Not accepted, not reported yet: 409 before the number or the file is looked at.
        post("/review/groups/{id}/report", BAD_VERIFICATION_NO,     [LR,                 F,       F,        F,       F,        F,       C,       F]),
        post("/review/groups/{id}/dispatch", Input::NotPdf,         [LR,                 F,       F,        F,       F,        F,       C,       F]),
        // Neither reported nor dispatched: refused before the reason is looked at.
        post("/review/groups/{id}/ministry_refuse", NO_MINISTRY_REASON,
                                                                    [LR,                 F,       F,        F,       F,        F,       C,       F]),
        post("/review/groups/{id}/cancel", CANCEL_REASON,           [LR,                 F,       F,        F,       F,        F,       C,       F]),
        // 销签登记 of the visitors of the unit's dispatched group. {visitor_id} is the visitor not
        // registered for the form, the one registered as entered (已入境, its entry stamp
        // uploaded) for the upload and 【提交】, and the cancelled one the unit submitted
        // (待县区外办审核) for its statement ({file_id}) and the review. {kind} is `exit_stamp`.
        // Another unit's visitor is 404; a unit not yet approved has no 销签登记 (409, like the
        // group pages).
        get("/visits",                                              [LR,                 C,       Ok,       Ok,      F,        F,       F,       F])
            .marker("只有市外办发件后的团组才能进行销签登记"),
        get("/visits/{visitor_id}",                                 [LR,                 NF,      Ok,       NF,      F,        F,       F,       F])
            .marker("先【保存】登记信息，再上传扫描件并[提交]"),
        // Neither 实际成行 nor 取消行程: the form again with the error, nothing saved.
        post("/visits/{visitor_id}", EMPTY,                         [LR,                 NF,      Ok,       NF,      F,        F,       F,       F])
            .marker("请选择实际成行或取消行程"),
        post("/visits/{visitor_id}/upload/{kind}", Input::NotPdf,   [LR,                 NF,      Ok,       NF,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF、JPEG或PNG"),
        post("/visits/{visitor_id}/files", Input::NotPdfIn("exit_stamp"), [LR,           NF,      Ok,       NF,      F,        F,       F,       F])
            .marker("文件内容不是有效的PDF、JPEG或PNG"),
        // Still in China: the form again, naming what is missing.
        post("/visits/{visitor_id}/submit", Input::Nothing,         [LR,                 NF,      Ok,       NF,      F,        F,       F,       F])
            .marker("提交前请补齐：实际出境日期和口岸"),
        // Whoever may see the registration: its unit, the county of its district and the
        // administrator once submitted, the city once the county passed it.
        get("/visits/{visitor_id}/files/{file_id}",                 [LR,                 NF,      Ok,       NF,      Ok,       NF,      NF,      Ok])
            .marker("%PDF-1.4"),
        get("/review/visits",                                       [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      F])
            .marker("逾期未销签"),
        // Waiting for the county: the other county and the city do not see it.
        get("/review/visits/{visitor_id}",                          [LR,                 F,       F,        F,       Ok,       NF,      NF,      Ok])
            .marker("办理记录"),
        // An audit entry's registration number leads to the visitor's review page, which
        // checks who may see it.
        get("/review/visit-records/{id}",                           [LR,                 F,       F,        F,       Under("/review/visits/"),
                                                                                                                               Under("/review/visits/"),
                                                                                                                                        Under("/review/visits/"),
                                                                                                                                                 Under("/review/visits/")]),
        post("/review/visits/{visitor_id}/approve", Input::Nothing, [LR,                 F,       F,        F,       Redirect("/review/visits?ok=approved"),
                                                                                                                               NF,      NF,      F])
            .deferred(&[County]),
        // Without a reason: the detail page again with the error.
        post("/review/visits/{visitor_id}/return", NO_REASON,       [LR,                 F,       F,        F,       Ok,       NF,      NF,      F])
            .marker("请填写退回原因"),
        // Statistics: county staff (their district's figures), the city and administrators.
        get("/stats",                                               [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      Ok])
            .marker("统计口径"),
        get("/stats/satisfaction",                                  [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      Ok])
            .marker("满意度（按月）"),
        // 差评整改 is the city office's; {id} is no follow-up item.
        get("/review/followups",                                    [LR,                 F,       F,        F,       F,        F,       Ok,      F])
            .marker("待办结"),
        get("/review/followups/{id}",                               [LR,                 F,       F,        F,       F,        F,       NF,      F]),
        post("/review/followups/{id}", EMPTY,                       [LR,                 F,       F,        F,       F,        F,       NF,      F]),
        // Broadcasts are the city's alone. Without a target, title and body: the form again.
        // Staff search: every reviewer and the administrators; nothing searched without a query.
        get("/search",                                              [LR,                 F,       F,        F,       Ok,       Ok,      Ok,      Ok])
            .marker("综合查询"),
        get("/notices/new",                                         [LR,                 F,       F,        F,       F,        F,       Ok,      F]),
        post("/notices", EMPTY,                                     [LR,                 F,       F,        F,       F,        F,       Ok,      F])
            .marker("请选择发送对象"),
        get("/admin",                                               [LR,                 F,       F,        F,       F,        F,       F,       Ok]),
        get("/admin/templates",                                     [LR,                 F,       F,        F,       F,        F,       F,       Ok]),
        // Not a template file: the list again with the error, the template unchanged.
        post("/admin/templates/{type_id}", Input::NotPdf,           [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("模板须为PDF、Word、Excel或RTF文件"),
        // Staff accounts are the administrators' alone. Empty forms: the page again with the
        // errors, nothing created or changed. `{id}` is the first administrator `admin`.
        get("/admin/staff",                                         [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("新增工作人员帐号"),
        post("/admin/staff", EMPTY,                                 [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写登录ID"),
        get("/admin/staff/{id}",                                    [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("修改工作人员帐号"),
        post("/admin/staff/{id}", EMPTY,                            [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请选择角色"),
        // Resets the first administrator's password (no persona signs in as it).
        post("/admin/staff/{id}/reset", Input::Nothing,             [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("密码已重置"),
        // The first administrator has no second factor: nothing to reset.
        post("/admin/staff/{id}/reset-2fa", Input::Nothing,         [LR,                 F,       F,        F,       F,        F,       F,       C]),
        // Units are managed by administrators. `{id}` is a spare unit no persona signs in as;
        // the inputs change nothing but the reset (of that spare unit's password).
        get("/admin/units",                                         [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("邀请单位管理"),
        get("/admin/units/{id}",                                    [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("失信企业名单"),
        post("/admin/units/{id}/blacklist", EMPTY,                  [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写列入失信企业名单的原因"),
        post("/admin/units/{id}/unblacklist", Input::Nothing,       [LR,                 F,       F,        F,       F,        F,       F,       Parent]),
        post("/admin/units/{id}/mobile", EMPTY,                     [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写手机号码"),
        post("/admin/units/{id}/reset", Input::Nothing,             [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("密码已重置"),        // Settings and texts: empty forms give the page again with the errors.
        get("/admin/settings",                                      [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("系统设置"),
        post("/admin/settings", EMPTY,                              [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写城市名称"),
        get("/admin/content/{key}",                                 [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("预览"),
        post("/admin/content/{key}", EMPTY,                         [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("内容不能为空"),        // The audit log: read-only, administrators only.
        get("/admin/audit",                                         [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("审计日志只能查看"),
        // The access log: administrators only.
        get("/admin/access",                                        [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("个人信息访问记录"),
        // The SMS list: administrators only; `{id}` is no message.
        get("/admin/sms",                                           [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("短信发送记录"),
        post("/admin/sms/{id}/resend", Input::Nothing,              [LR,                 F,       F,        F,       F,        F,       F,       NF]),
        // Reference data, administrators only. `{list}` is the districts, `{item}` 天宁区, which
        // has units: empty forms give the page again with the errors, retiring it is refused with
        // the reason, restoring an entry in use changes nothing.
        get("/admin/refdata",                                       [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("基础数据管理"),
        get("/admin/refdata/{list}",                                [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("新增县区"),
        post("/admin/refdata/{list}", EMPTY,                        [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写名称"),
        get("/admin/refdata/{list}/{item}",                         [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("停用后表单中不再供选择"),
        post("/admin/refdata/{list}/{item}", EMPTY,                 [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("请填写名称"),
        post("/admin/refdata/{list}/{item}/retire", Input::Nothing, [LR,                 F,       F,        F,       F,        F,       F,       Ok])
            .marker("不能停用"),
        post("/admin/refdata/{list}/{item}/restore", Input::Nothing,[LR,                 F,       F,        F,       F,        F,       F,       Parent]),
    ]
}

/// The objects the paths address, and who signs in as whom.
struct Fixture {
    unit: Registered,
    other: Registered,
    pending: Registered,
    /// One of the unit's attachments, and its bytes.
    file_id: i64,
    file_bytes: Vec<u8>,
    /// The unit's message read by the message cells, and another one that the unit deletes.
    message_id: i64,
    doomed_message_id: i64,
    /// The unit's change request, waiting for the county.
    change_id: i64,
    /// A registration attachment type.
    type_id: i64,
    /// The unit's group that the county passed (`pending_city`), the passport scan of its visitor
    /// (bytes too), its number.
    group: SampleGroup,
    /// The unit's draft group, its clerk's ID scan (bytes too), its number.
    draft: SampleGroup,
    /// The visitors of the unit's dispatched group.
    visits: SampleVisits,
    /// The first administrator's account (`admin`), for the staff-account rows.
    admin_id: i64,
    /// A unit no persona signs in as, for the unit-management rows.
    spare_unit_id: i64,
    /// 天宁区, a district with units, for the reference-data rows.
    district_id: i64,
}

/// The three visitors of the unit's dispatched group (销签登记).
struct SampleVisits {
    group_id: i64,
    /// 取消行程 with its statement, submitted: 待县区外办审核 (`pending_county`).
    submitted: i64,
    /// Its registration (`visit_records.id`), as audit entries name it.
    submitted_record: i64,
    /// Its statement.
    statement: SampleFile,
    /// Not registered.
    unregistered: i64,
    /// 实际成行 with the entry alone (已入境, `entered`): the unit's until it submits.
    entered: i64,
    /// Its entry stamp.
    entry_stamp: SampleFile,
}

struct SampleFile {
    id: i64,
    bytes: Vec<u8>,
}

/// One of the unit's invitation groups and one of its files.
struct SampleGroup {
    id: i64,
    number: String,
    file_id: i64,
    file_bytes: Vec<u8>,
}

impl Fixture {
    /// The route pattern with its parameters filled in.
    fn path(&self, pattern: &str) -> String {
        let group = pattern == "/groups/{id}/print"
            || pattern == "/groups/{id}/delete"
            || pattern == "/groups/{id}/copy"
            || pattern.starts_with("/groups/{id}/files/");
        fill(pattern, |name| match name {
            "unit_id" => self.unit.unit_id.to_string(),
            "file_id" if pattern.starts_with("/groups/") => self.group.file_id.to_string(),
            "file_id" if pattern.starts_with("/visits/") => self.visits.statement.id.to_string(),
            "file_id" => self.file_id.to_string(),
            "type_id" => self.type_id.to_string(),
            "slot" => "clerk_id".to_string(),
            "kind" => "exit_stamp".to_string(),
            "key" => "help".to_string(),
            "visitor_id"
                if pattern.starts_with("/review/visits/") || pattern.contains("/files/") =>
            {
                self.visits.submitted.to_string()
            }
            "visitor_id"
                if pattern.ends_with("/upload/{kind}")
                    || pattern.ends_with("/submit")
                    || pattern == "/visits/{visitor_id}/files" =>
            {
                self.visits.entered.to_string()
            }
            "visitor_id" => self.visits.unregistered.to_string(),
            "id" if group || pattern.starts_with("/review/groups/") => self.group.id.to_string(),
            "id" if pattern.starts_with("/groups/") => self.draft.id.to_string(),
            "id" if pattern.starts_with("/messages/") && pattern.ends_with("/delete") => {
                self.doomed_message_id.to_string()
            }
            "id" if pattern.starts_with("/messages/") => self.message_id.to_string(),
            "id" if pattern.starts_with("/review/units/") => self.unit.unit_id.to_string(),
            // No rating in the fixtures: an id of no follow-up item.
            "id" if pattern.starts_with("/review/followups/") => self.group.id.to_string(),
            "id" if pattern.starts_with("/review/changes/") => self.change_id.to_string(),
            "id" if pattern.starts_with("/admin/staff/") => self.admin_id.to_string(),
            "id" if pattern.starts_with("/review/visit-records/") => {
                self.visits.submitted_record.to_string()
            }
            "id" if pattern.starts_with("/admin/units/") => self.spare_unit_id.to_string(),
            // No token in the fixtures: an id no account has.
            "id" if pattern.starts_with("/account/tokens/") => "987654".to_string(),
            "id" if pattern.starts_with("/admin/sms/") => "987654".to_string(),
            "list" if pattern.starts_with("/admin/refdata/") => "districts".to_string(),
            "item" if pattern.starts_with("/admin/refdata/") => self.district_id.to_string(),
            _ => panic!("no fixture object for {{{name}}} in {pattern}: extend Fixture::path"),
        })
    }

    fn credentials(&self, p: Persona) -> Option<(&str, &str)> {
        match p {
            Anonymous => None,
            PendingUnit => Some((&self.pending.login, UNIT_PASSWORD)),
            Unit => Some((&self.unit.login, UNIT_PASSWORD)),
            OtherUnit => Some((&self.other.login, UNIT_PASSWORD)),
            County => Some(("tianning", DEMO_PASSWORD)),
            OtherCounty => Some(("wujin", DEMO_PASSWORD)),
            City => Some(("city", DEMO_PASSWORD)),
            Admin => Some(("demoadmin", DEMO_PASSWORD)),
        }
    }
}

/// Replaces every `{name}` of a route pattern.
fn fill(pattern: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap();
        out.push_str(&rest[..start]);
        out.push_str(&value(&rest[start + 1..end]));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A new client of this persona: signed in, or (anonymous) holding a CSRF cookie and token.
async fn client_for(app: &TestApp, fx: &Fixture, p: Persona) -> Client {
    let c = app.client();
    match fx.credentials(p) {
        None => {
            c.get("/login").await.assert_ok();
        }
        Some((login, password)) => {
            c.login(login, password).await.assert_redirect("/home");
        }
    }
    c
}

async fn send(c: &Client, method: Method, path: &str, input: Input, slot: &str) -> Page {
    match (method, input) {
        (Method::Post, Input::NotPdfIn(_)) => {
            c.upload_files(
                path,
                &[(slot, "scan.pdf", b"GIF89a, not a PDF".to_vec())],
                false,
            )
            .await
        }
        (Method::Get, _) => c.get(path).await,
        // Confirmed, so that the irreversible actions act (the confirmation step itself is
        // tested in groups.rs).
        (Method::Post, Input::Nothing) => c.act(path, &[]).await,
        (Method::Post, Input::Form(fields)) => c.act(path, fields).await,
        (Method::Post, Input::NotPdf) => {
            c.upload_confirmed(path, "scan.pdf", b"GIF89a, not a PDF".to_vec())
                .await
        }
    }
}

/// One asserted cell.
#[derive(Clone)]
struct Cell {
    route: &'static str,
    method: Method,
    persona: Persona,
    expected: Outcome,
    actual: String,
    passed: bool,
}

fn describe(page: &Page) -> String {
    if (300..400).contains(&page.status) {
        format!("{} → {}", page.status, page.location)
    } else {
        page.status.to_string()
    }
}

async fn run_cell(
    c: &Client,
    fx: &Fixture,
    row: &Row,
    persona: Persona,
    expected: Outcome,
) -> Cell {
    let path = fx.path(row.path);
    let slot = match row.input {
        Input::NotPdfIn(slot) => fx.path(slot),
        _ => String::new(),
    };
    let page = send(c, row.method, &path, row.input, &slot).await;
    let mut passed = expected.matches(row.method, &path, &page);
    let mut actual = describe(&page);
    if passed
        && expected == Outcome::Ok
        && !row.markers.is_empty()
        && !row.markers.iter().any(|m| page.has(m))
    {
        passed = false;
        let wanted: Vec<String> = row.markers.iter().map(|m| format!("{m:?}")).collect();
        actual.push_str(&format!(" without {}", wanted.join(" or ")));
    }
    Cell {
        route: row.path,
        method: row.method,
        persona,
        expected,
        actual,
        passed,
    }
}

fn render(cells: &[Cell]) -> String {
    let mut out = format!(
        "{:<2} {:<40} {:<6} {:<18} {:<36} {}\n",
        "", "route", "method", "persona", "expected", "actual"
    );
    for c in cells {
        out.push_str(&format!(
            "{:<2} {:<40} {:<6} {:<18} {:<36} {}\n",
            if c.passed { "" } else { "✗" },
            c.route,
            c.method.to_string(),
            c.persona.label(),
            c.expected.to_string(),
            c.actual
        ));
    }
    out
}

/// A group form with one visitor, for 【保存】.
async fn group_form(app: &TestApp, name: &str, passport_no: &str) -> Vec<(&'static str, String)> {
    let mission: i64 = sqlx::query_scalar("SELECT id FROM missions WHERE name_zh = $1")
        .bind("中国驻纽约总领事馆")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let today = app
        .clock()
        .now()
        .with_timezone(&laihua::clock::beijing())
        .date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    vec![
        ("name", name.to_string()),
        ("purpose", "business".into()),
        ("arrival", day(60)),
        ("departure", day(70)),
        ("places", "常州".into()),
        ("cost_bearer", "inviting_unit".into()),
        ("country", "USA".into()),
        ("mission", mission.to_string()),
        ("entry_type", "single".into()),
        ("ground", String::new()),
        ("contact_name", "李四".into()),
        ("contact_phone", "13900000000".into()),
        ("remarks", String::new()),
        ("informed", "1".into()),
        ("v0_surname", "SMITH".into()),
        ("v0_given_name", "JOHN".into()),
        ("v0_sex", "M".into()),
        ("v0_birth_date", "1980-05-05".into()),
        ("v0_nationality", "USA".into()),
        ("v0_passport_no", passport_no.to_string()),
        ("v0_passport_expiry", day(3000)),
        ("v0_employer", "ACME Corp.".into()),
        ("v0_position", "Engineer".into()),
        ("v0_visa_type", "M".into()),
        ("v0_stay_days", "30".into()),
        ("v0_employer_country", "USA".into()),
        ("v0_employer_city", "New York".into()),
        ("v0_employer_address", "1 Main Street".into()),
        ("size", "1".into()),
        ("t0_date", day(61)),
        ("t0_city", "常州".into()),
        ("t0_activity", "技术交流".into()),
        ("t0_host", "常州某公司".into()),
        ("action", "save".into()),
    ]
}

/// A new draft group of the signed-in unit, saved, with its clerk's ID scan uploaded.
async fn draft_group(app: &TestApp, c: &Client, name: &str, passport_no: &str) -> SampleGroup {
    c.get("/groups/form").await.assert_ok();
    let fields = group_form(app, name, passport_no).await;
    let saved = c.post("/groups", &as_refs(&fields)).await;
    saved.assert_redirect("/groups/");
    let id: i64 = saved.location["/groups/".len()..]
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let path = format!("/groups/{id}");
    c.get(&path).await.assert_ok();
    let file_bytes = pdf(&format!("clerk id of {passport_no}"));
    c.upload(
        &format!("{path}/upload/clerk_id"),
        "clerk.pdf",
        file_bytes.clone(),
    )
    .await
    .assert_redirect(&path);
    let (number, file_id): (String, i64) = sqlx::query_as(
        "SELECT g.number, a.file_id FROM invitation_groups g
         JOIN group_attachments a ON a.group_id = g.id
         WHERE g.id = $1 AND a.type_code = 'clerk_id'",
    )
    .bind(id)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    SampleGroup {
        id,
        number,
        file_id,
        file_bytes,
    }
}

/// A group of the signed-in unit of 天宁区 taken through 【打印】, the stamped scan and 【提交】,
/// and passed by the county: 待审核受理. Its file is the visitor's passport scan.
async fn passed_group(app: &TestApp, c: &Client) -> SampleGroup {
    let draft = draft_group(app, c, "美国客户技术交流团", "E1000001").await;
    let id = draft.id;
    let path = format!("/groups/{id}");
    let visitor: i64 = sqlx::query_scalar("SELECT id FROM group_visitors WHERE group_id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let file_bytes = pdf("passport of E1000001");
    c.upload(
        &format!("{path}/upload/passport-{visitor}"),
        "passport.pdf",
        file_bytes.clone(),
    )
    .await
    .assert_redirect(&path);
    c.get(&path).await.assert_ok();
    assert_eq!(c.post(&format!("{path}/print"), &[]).await.status, 200);
    c.get(&path).await.assert_ok();
    c.upload(
        &format!("{path}/upload/scan"),
        "stamped.pdf",
        pdf("stamped"),
    )
    .await
    .assert_redirect(&path);
    c.get(&path).await.assert_ok();
    c.act(&format!("{path}/submit"), &[])
        .await
        .assert_redirect(&format!("{path}?ok=group_submitted"));
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("【审核通过】");
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups?ok=approved");
    assert_eq!(group_state(app, id).await, "pending_city");
    let file_id: i64 =
        sqlx::query_scalar("SELECT passport_file_id FROM group_visitors WHERE id = $1")
            .bind(visitor)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    SampleGroup {
        file_id,
        file_bytes,
        ..draft
    }
}

/// A group of three visitors of the signed-in unit of 天宁区, dispatched: the first cancelled and
/// submitted with its statement, the second not registered, the third entered China today (the
/// day of dispatch) with its entry stamp.
async fn sample_visits(app: &TestApp, c: &Client) -> SampleVisits {
    let group_id = dispatched_group(app, c, 3, "tianning").await;
    let v = visitor_ids(app, group_id).await;
    let (submitted, unregistered, entered) = (v[0], v[1], v[2]);

    let path = format!("/visits/{submitted}");
    c.get(&path).await.assert_ok();
    c.post(
        &path,
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&path);
    let statement = pdf("statement of the cancelled visit");
    c.upload(
        &format!("{path}/upload/statement"),
        "说明.pdf",
        statement.clone(),
    )
    .await
    .assert_redirect(&path);
    c.get(&path).await.assert_ok();
    c.act(&format!("{path}/submit"), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");

    let port: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = $1")
        .bind("上海浦东国际机场")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let path = format!("/visits/{entered}");
    c.get(&path).await.assert_ok();
    c.post(
        &path,
        &[
            ("kind", "travelled"),
            ("entry_date", &date_in(app, 0)),
            ("entry_port", &port.to_string()),
            ("exit_date", ""),
            ("exit_port", ""),
        ],
    )
    .await
    .assert_redirect(&path);
    let entry_stamp = pdf("entry stamp");
    c.upload(
        &format!("{path}/upload/entry_stamp"),
        "入境章.pdf",
        entry_stamp.clone(),
    )
    .await
    .assert_redirect(&path);

    assert_eq!(visit_state(app, submitted).await, "pending_county");
    assert_eq!(visit_state(app, entered).await, "entered");
    SampleVisits {
        group_id,
        submitted,
        submitted_record: app
            .scalar(&format!(
                "SELECT id FROM visit_records WHERE visitor_id = {submitted}"
            ))
            .await,
        statement: SampleFile {
            id: visit_file(app, submitted, "statement").await,
            bytes: statement,
        },
        unregistered,
        entered,
        entry_stamp: SampleFile {
            id: visit_file(app, entered, "entry_stamp").await,
            bytes: entry_stamp,
        },
    }
}

async fn visit_state(app: &TestApp, visitor: i64) -> String {
    sqlx::query_scalar("SELECT state FROM visit_records WHERE visitor_id = $1")
        .bind(visitor)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// The file of a kind of a visitor's registration.
async fn visit_file(app: &TestApp, visitor: i64, kind: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT f.file_id FROM visit_files f JOIN visit_records r ON r.id = f.record_id
         WHERE r.visitor_id = $1 AND f.kind = $2",
    )
    .bind(visitor)
    .bind(kind)
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

async fn group_state(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn build_fixture(app: &TestApp) -> Fixture {
    let (unit, unit_client) = approved_unit(app, 1, "天宁区", "tianning").await;
    let (other, _) = approved_unit(app, 2, "武进区", "wujin").await;
    let pending_client = app.client();
    let pending = create_account(app, &pending_client, 3, "天宁区").await;
    upload_and_submit(app, &pending_client).await;

    // The approved unit edits its registration and submits the change request.
    unit_client
        .get("/registration/edit")
        .await
        .assert_ok()
        .assert_has("审核通过前原注册信息继续有效");
    let district = app.district_id("天宁区").await;
    let mut fields = org_fields(&unit.name, &unit.code, district);
    for (k, v) in &mut fields {
        if *k == "address" {
            *v = "常州市天宁区变更路2号".into();
        }
    }
    unit_client
        .post("/registration/edit", &as_refs(&fields))
        .await
        .assert_redirect("/registration/attachments?ok=saved");
    unit_client
        .get("/registration/attachments")
        .await
        .assert_ok();
    unit_client
        .act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=change_submitted");

    // Its invitation groups: one passed by the county, one a draft.
    let group = passed_group(app, &unit_client).await;
    let draft = draft_group(app, &unit_client, "德国客户考察团", "E2000002").await;
    // Its dispatched group, whose visitors it registers.
    let visits = sample_visits(app, &unit_client).await;

    let pool = app.state.pool();
    let change_id: i64 = sqlx::query_scalar("SELECT id FROM unit_changes WHERE unit_id = $1")
        .bind(unit.unit_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let (attachment_type, file_id): (i64, i64) = sqlx::query_as(
        "SELECT type_id, file_id FROM unit_attachments WHERE unit_id = $1 ORDER BY type_id",
    )
    .bind(unit.unit_id)
    .fetch_one(pool)
    .await
    .unwrap();
    let messages: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE unit_id = $1 ORDER BY id")
            .bind(unit.unit_id)
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(messages.len() >= 2, "the unit has messages: {messages:?}");
    let type_id = unit_types(app).await[0].0;
    Fixture {
        unit,
        other,
        pending,
        file_id,
        // What upload_and_submit uploaded for this type.
        file_bytes: pdf(&format!("type {attachment_type}")),
        message_id: messages[0],
        doomed_message_id: messages[messages.len() - 1],
        change_id,
        type_id,
        group,
        draft,
        visits,
        admin_id: app
            .scalar("SELECT id FROM users WHERE login_key = 'admin'")
            .await,
        spare_unit_id: create_account(app, &app.client(), 990, "天宁区")
            .await
            .unit_id,
        district_id: app.district_id("天宁区").await,
    }
}

/// (a) The (path, method) pairs that routes() serves, found over HTTP: a method a route does not
/// serve answers 405. Probed as a persona the route's guard admits (the guard wraps the 405 too),
/// with 0 for every path parameter so that no probe touches a fixture object.
async fn served(
    app: &TestApp,
    fx: &Fixture,
    clients: &[(Persona, Client)],
) -> BTreeSet<(String, Method)> {
    let anonymous = client_for(app, fx, Anonymous).await;
    let client_of = |p: Persona| &clients.iter().find(|(q, _)| *q == p).unwrap().1;
    let mut out = BTreeSet::new();
    for (pattern, access, _) in routes() {
        let c = match access {
            Access::Public => &anonymous,
            Access::Signed | Access::Unit => client_of(Unit),
            Access::Staff | Access::Oversight => client_of(County),
            Access::City => client_of(City),
            Access::Admin => client_of(Admin),
        };
        let path = fill(pattern, |_| "0".to_string());
        for method in [Method::Get, Method::Post] {
            let page = send(c, method, &path, Input::Nothing, "").await;
            if page.status != 405 {
                out.insert((pattern.to_string(), method));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_for_every_persona() {
    let app = TestApp::spawn().await;
    let fx = build_fixture(&app).await;
    let table = table();
    let mut problems: Vec<String> = Vec::new();

    // One signed-in client per persona for the cells that change nothing.
    let mut clients = Vec::new();
    for p in SIGNED_IN {
        clients.push((*p, client_for(&app, &fx, *p).await));
    }

    // (a) The table has exactly one row per (path, method) that routes() serves.
    let declared = served(&app, &fx, &clients).await;
    let mut rows = BTreeSet::new();
    for row in &table {
        if !rows.insert((row.path.to_string(), row.method)) {
            problems.push(format!("duplicate row {} {}", row.method, row.path));
        }
    }
    for (path, method) in declared.difference(&rows) {
        problems.push(format!(
            "route {method} {path} is served but has no row in the table"
        ));
    }
    for (path, method) in rows.difference(&declared) {
        problems.push(format!(
            "row {method} {path} is in the table but no route serves it"
        ));
    }
    // The table agrees with each route's declared access: anonymous visitors are sent to sign
    // in, and a role the access does not admit is refused, on every non-public route.
    let policies: Vec<(&str, Access)> = routes().into_iter().map(|(p, a, _)| (p, a)).collect();
    for row in &table {
        let Some((_, access)) = policies.iter().find(|(p, _)| *p == row.path) else {
            continue;
        };
        for (p, expected) in PERSONAS.iter().zip(row.expect) {
            let required = match (*access, *p) {
                (Access::Public, _) => None,
                (_, Anonymous) => Some(Outcome::LoginRedirect),
                (a, p) if !p.admitted(a) => Some(Outcome::Forbidden),
                _ => None,
            };
            if required.is_some_and(|r| r != expected)
                || (required.is_none() && expected == Outcome::LoginRedirect)
            {
                problems.push(format!(
                    "row {} {} expects {expected} for {} against its access {access:?}",
                    row.method,
                    row.path,
                    p.label()
                ));
            }
        }
    }

    // The table: first every cell that leaves the fixtures as they are, then the deferred ones.
    let mut cells = Vec::new();
    for deferred_pass in [false, true] {
        for row in &table {
            for (persona, expected) in PERSONAS.iter().zip(row.expect) {
                if row.deferred.contains(persona) != deferred_pass {
                    continue;
                }
                let cell = if deferred_pass || *persona == Anonymous {
                    let c = client_for(&app, &fx, *persona).await;
                    run_cell(&c, &fx, row, *persona, expected).await
                } else {
                    let c = &clients.iter().find(|(q, _)| q == persona).unwrap().1;
                    run_cell(c, &fx, row, *persona, expected).await
                };
                cells.push(cell);
            }
        }
    }
    let failed = cells.iter().filter(|c| !c.passed).count();
    if failed > 0 || !problems.is_empty() {
        let failures: Vec<Cell> = cells
            .iter()
            .filter(|c| !c.passed)
            .map(Cell::clone)
            .collect();
        panic!(
            "{failed} of {} cells failed\n\nThe whole table:\n{}\nThe failed cells:\n{}\n{}",
            cells.len(),
            render(&cells),
            render(&failures),
            problems.join("\n")
        );
    }
    assert_eq!(cells.len(), table.len() * PERSONAS.len());
    println!("{} cells asserted", cells.len());

    // (b) A POST without its CSRF token is refused, and changes nothing.
    let anonymous = client_for(&app, &fx, Anonymous).await;
    let refused = anonymous
        .post_raw(
            "/login",
            &[
                ("login_id", "city".into()),
                ("password", DEMO_PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.location.is_empty());
    assert!(Outcome::LoginRedirect.matches(Method::Get, "/home", &anonymous.get("/home").await));
    let unit = client_for(&app, &fx, PendingUnit).await;
    for token in [None, Some("0123456789abcdef")] {
        let mut fields = vec![
            ("old_password", UNIT_PASSWORD.to_string()),
            ("password", "Fresh#2026pass".to_string()),
            ("password2", "Fresh#2026pass".to_string()),
        ];
        if let Some(t) = token {
            fields.push(("csrf", t.to_string()));
        }
        let refused = unit.post_raw("/account/password", &fields).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        refused.assert_has("表单已失效");
    }
    client_for(&app, &fx, PendingUnit).await; // the old password still signs in

    // (c) Another unit opening the unit's attachment by its URL: 404 and none of the file.
    let url = fx.path("/units/{unit_id}/files/{file_id}");
    let (status, _, bytes) = client_for(&app, &fx, Unit).await.get_bytes(&url).await;
    assert_eq!(
        (status, &bytes),
        (200, &fx.file_bytes),
        "the unit's own file"
    );
    for p in [OtherUnit, PendingUnit, OtherCounty] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&url).await;
        assert_eq!(status, 404, "{}", p.label());
        assert!(
            !bytes
                .windows(fx.file_bytes.len())
                .any(|w| w == fx.file_bytes),
            "{} got the file's bytes",
            p.label()
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("%PDF"));
    }

    // (d) County staff opening another district's registration: 404, nothing of it shown.
    let wujin = client_for(&app, &fx, OtherCounty).await;
    for path in [
        format!("/review/units/{}", fx.unit.unit_id),
        format!("/review/changes/{}", fx.change_id),
    ] {
        let page = wujin.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        page.assert_lacks(&fx.unit.code).assert_lacks(&fx.unit.name);
    }
    let tianning = client_for(&app, &fx, County).await;
    let page = tianning
        .get(&format!("/review/units/{}", fx.other.unit_id))
        .await;
    assert_eq!(page.status, 404);
    page.assert_lacks(&fx.other.code)
        .assert_lacks(&fx.other.name);
    // The other unit's change request (submitted in the deferred pass) is 武进区's too.
    let other_change: i64 = sqlx::query_scalar("SELECT id FROM unit_changes WHERE unit_id = $1")
        .bind(fx.other.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let page = tianning
        .get(&format!("/review/changes/{other_change}"))
        .await;
    assert_eq!(page.status, 404);
    page.assert_lacks(&fx.other.code);
    assert_eq!(
        wujin
            .get(&format!("/review/changes/{other_change}"))
            .await
            .status,
        200
    );

    // A return without a reason on an item the reviewer may act on (the unit's change request,
    // passed by the county in the deferred pass): the detail page again, with the error.
    let city = client_for(&app, &fx, City).await;
    let path = format!("/review/changes/{}", fx.change_id);
    city.get(&path).await.assert_ok().assert_has("【退回】");
    city.act(&format!("{path}/return"), &[("reason", "  ")])
        .await
        .assert_ok()
        .assert_has("请填写退回原因");
    let state: String = sqlx::query_scalar("SELECT state FROM unit_changes WHERE id = $1")
        .bind(fx.change_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "pending_city");

    // (e) Invitation groups. A draft is its unit's alone: no county, city or other unit sees it,
    // prints it or opens its file (the administrator opens its file: may_view_group admits
    // administrators to every group).
    let draft = &fx.draft;
    let draft_file = format!("/groups/{}/files/{}", draft.id, draft.file_id);
    for (p, c) in [(County, &tianning), (OtherCounty, &wujin), (City, &city)] {
        let page = c.get(&format!("/review/groups/{}", draft.id)).await;
        assert_eq!(page.status, 404, "{}", p.label());
        page.assert_lacks(&draft.number);
        let page = c
            .post(&format!("/review/groups/{}/print", draft.id), &[])
            .await;
        assert_eq!(page.status, 404, "{}", p.label());
        c.get("/review/groups").await.assert_lacks(&draft.number);
    }
    // A draft's files are the unit's own until it submits (administrators included).
    for p in [PendingUnit, OtherUnit, County, OtherCounty, City, Admin] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&draft_file).await;
        assert_eq!(status, 404, "{}", p.label());
        assert!(!contains(&bytes, &draft.file_bytes), "{}", p.label());
    }
    for p in [Unit] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&draft_file).await;
        assert_eq!((status, &bytes), (200, &draft.file_bytes), "{}", p.label());
    }
    // A file asked for under another group, or under the unit, than its own: 404, also to those
    // who may see both.
    let group = &fx.group;
    for (p, path) in [
        (
            Unit,
            format!("/groups/{}/files/{}", group.id, draft.file_id),
        ),
        (
            Admin,
            format!("/groups/{}/files/{}", group.id, draft.file_id),
        ),
        (City, format!("/groups/{}/files/{}", group.id, fx.file_id)),
        (
            City,
            format!("/units/{}/files/{}", fx.unit.unit_id, group.file_id),
        ),
    ] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&path).await;
        assert_eq!(status, 404, "{} {path}", p.label());
        assert!(!String::from_utf8_lossy(&bytes).contains("%PDF"));
    }
    // Lists: the other county and the other unit see none of the unit's groups; the county's
    // queue holds only what waits for it; the city's holds the group it accepted in the deferred
    // pass.
    assert_eq!(group_state(&app, group.id).await, "accepted");
    wujin
        .get("/review/groups")
        .await
        .assert_ok()
        .assert_lacks(&group.number);
    tianning
        .get("/review/groups")
        .await
        .assert_ok()
        .assert_lacks(&group.number);
    city.get("/review/groups")
        .await
        .assert_ok()
        .assert_has(&group.number);
    let other = client_for(&app, &fx, OtherUnit).await;
    for path in ["/groups", "/history", "/history?q=E1000001"] {
        let page = other.get(path).await;
        page.assert_ok()
            .assert_lacks(&group.number)
            .assert_lacks(&draft.number);
    }
    let unit = client_for(&app, &fx, Unit).await;
    unit.get("/history")
        .await
        .assert_ok()
        .assert_has(&group.number)
        .assert_has(&draft.number);

    // The table's 【保存】 cells saved no group (the unit has three: passed, draft, dispatched).
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        3
    );

    // The submitted group is read-only to its unit: refused by its state, whatever is sent.
    let path = format!("/groups/{}", group.id);
    unit.get(&path)
        .await
        .assert_ok()
        .assert_has(&group.number)
        .assert_lacks("【保存】");
    let fields = group_form(&app, "改过的团组名称", "E1000001").await;
    assert_eq!(unit.post(&path, &as_refs(&fields)).await.status, 409);
    let upload = unit
        .upload(&format!("{path}/upload/clerk_id"), "clerk.pdf", pdf("late"))
        .await;
    assert_eq!(upload.status, 409);
    assert_eq!(unit.act(&format!("{path}/submit"), &[]).await.status, 409);
    let (name, uploads): (String, i64) = sqlx::query_as(
        "SELECT name, (SELECT COUNT(*) FROM group_attachments WHERE group_id = $1)
         FROM invitation_groups WHERE id = $1",
    )
    .bind(group.id)
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    assert_eq!((name.as_str(), uploads), ("美国客户技术交流团", 1));

    // Accepted now: the city's 核实单号 is checked (the form again with the error, nothing
    // changed), and 【发件】 is still refused by the state, even with a real PDF.
    let record = format!("/review/groups/{}", group.id);
    city.get(&record)
        .await
        .assert_ok()
        .assert_has("【上报外交部】");
    city.act(
        &format!("{record}/report"),
        &[("verification_no", "HW 3255-0202")],
    )
    .await
    .assert_ok()
    .assert_has("只能由字母和数字组成");
    let dispatch = city
        .upload_confirmed(&format!("{record}/dispatch"), "letter.pdf", pdf("letter"))
        .await;
    assert_eq!(dispatch.status, 409);
    assert_eq!(group_state(&app, group.id).await, "accepted");

    // (f) 销签登记. The table changed nothing but the county's 【审核通过】 of the submitted
    // registration (deferred pass): no record for the unregistered visitor, the entered one still
    // entered with its entry stamp alone.
    let visits = &fx.visits;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_records").await, 2);
    assert_eq!(visit_state(&app, visits.submitted).await, "pending_city");
    assert_eq!(visit_state(&app, visits.entered).await, "entered");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_files").await, 2);

    // Lists: the unit's holds its three visitors; a unit that is not theirs sees none.
    unit.get("/visits")
        .await
        .assert_ok()
        .assert_has("LISA MOHAMODE")
        .assert_has("JOHN1")
        .assert_has("JOHN2")
        .assert_has(&format!("/visits/{}", visits.unregistered));
    let pending = client_for(&app, &fx, PendingUnit).await;
    let page = pending.get("/visits").await;
    assert_eq!(page.status, 409);
    page.assert_lacks("LISA MOHAMODE");
    for c in [&other] {
        c.get("/visits")
            .await
            .assert_ok()
            .assert_has("暂无已发件团组的到访人员")
            .assert_lacks("LISA MOHAMODE")
            .assert_lacks(&format!("/visits/{}", visits.submitted));
    }
    // Queues, now that the county passed it: the city's holds it, neither county's does.
    city.get("/review/visits")
        .await
        .assert_ok()
        .assert_has("LISA MOHAMODE");
    for c in [&tianning, &wujin] {
        c.get("/review/visits")
            .await
            .assert_ok()
            .assert_lacks("LISA MOHAMODE");
    }

    // The city sees the registration and its statement now; the county still sees it but may no
    // longer act on it; the other county sees none of it.
    let record = format!("/review/visits/{}", visits.submitted);
    city.get(&record)
        .await
        .assert_ok()
        .assert_has("签证未获批准")
        .assert_has("【审核通过】");
    city.act(&format!("{record}/return"), &[("reason", " ")])
        .await
        .assert_ok()
        .assert_has("请填写退回原因");
    tianning
        .get(&record)
        .await
        .assert_ok()
        .assert_lacks("【审核通过】");
    assert_eq!(
        tianning.act(&format!("{record}/approve"), &[]).await.status,
        409
    );
    assert_eq!(
        tianning
            .act(&format!("{record}/return"), &[("reason", "请补充")])
            .await
            .status,
        409
    );
    let page = wujin.get(&record).await;
    assert_eq!(page.status, 404);
    page.assert_lacks("LISA MOHAMODE")
        .assert_lacks("签证未获批准");
    assert_eq!(visit_state(&app, visits.submitted).await, "pending_city");
    let statement = format!("/visits/{}/files/{}", visits.submitted, visits.statement.id);
    for p in [Unit, County, City, Admin] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&statement).await;
        assert_eq!(
            (status, &bytes),
            (200, &visits.statement.bytes),
            "{}",
            p.label()
        );
    }
    for p in [PendingUnit, OtherUnit, OtherCounty] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&statement).await;
        assert_eq!(status, 404, "{}", p.label());
        assert!(!contains(&bytes, &visits.statement.bytes), "{}", p.label());
    }

    // A registration not submitted is its unit's alone: no office, administrator or other unit
    // sees it or its scan; a visitor not registered has nothing to review.
    let stamp = format!("/visits/{}/files/{}", visits.entered, visits.entry_stamp.id);
    for p in [PendingUnit, OtherUnit, County, OtherCounty, City, Admin] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&stamp).await;
        assert_eq!(status, 404, "{}", p.label());
        assert!(
            !contains(&bytes, &visits.entry_stamp.bytes),
            "{}",
            p.label()
        );
    }
    let (status, _, bytes) = unit.get_bytes(&stamp).await;
    assert_eq!((status, &bytes), (200, &visits.entry_stamp.bytes));
    for (p, c) in [(County, &tianning), (City, &city)] {
        for visitor in [visits.entered, visits.unregistered] {
            let path = format!("/review/visits/{visitor}");
            assert_eq!(c.get(&path).await.status, 404, "{} {path}", p.label());
            assert_eq!(
                c.act(&format!("{path}/approve"), &[]).await.status,
                404,
                "{} {path}",
                p.label()
            );
        }
    }
    // A file asked for under another visitor, or another route, than its own: 404, also to those
    // who may see both.
    for (p, path) in [
        (
            Unit,
            format!(
                "/visits/{}/files/{}",
                visits.submitted, visits.entry_stamp.id
            ),
        ),
        (
            Unit,
            format!("/visits/{}/files/{}", visits.submitted, group.file_id),
        ),
        (
            City,
            format!("/visits/{}/files/{}", visits.submitted, fx.file_id),
        ),
        (
            City,
            format!("/groups/{}/files/{}", visits.group_id, visits.statement.id),
        ),
        (
            City,
            format!("/units/{}/files/{}", fx.unit.unit_id, visits.statement.id),
        ),
    ] {
        let (status, _, bytes) = client_for(&app, &fx, p).await.get_bytes(&path).await;
        assert_eq!(status, 404, "{} {path}", p.label());
        assert!(!String::from_utf8_lossy(&bytes).contains("%PDF"));
    }

    // Another unit reaches none of the unit's visitors, even with a complete form or a real scan;
    // the unit's own visitor of a group not dispatched is refused by its state.
    let cancel = [("kind", "cancelled"), ("cancel_reason", "行程取消")];
    for visitor in [visits.unregistered, visits.entered] {
        let path = format!("/visits/{visitor}");
        assert_eq!(other.post(&path, &cancel).await.status, 404);
        let page = other
            .upload(&format!("{path}/upload/exit_stamp"), "stamp.pdf", pdf("x"))
            .await;
        assert_eq!(page.status, 404);
        assert_eq!(other.act(&format!("{path}/submit"), &[]).await.status, 404);
    }
    let not_dispatched = visitor_ids(&app, group.id).await[0];
    assert_eq!(
        unit.get(&format!("/visits/{not_dispatched}")).await.status,
        409
    );
    assert_eq!(
        other.get(&format!("/visits/{not_dispatched}")).await.status,
        404
    );

    // The submitted registration is read-only to its unit, whatever is sent.
    let path = format!("/visits/{}", visits.submitted);
    unit.get(&path)
        .await
        .assert_ok()
        .assert_has("审核期间不能修改")
        .assert_lacks("【保存】");
    assert_eq!(unit.post(&path, &cancel).await.status, 409);
    let page = unit
        .upload(&format!("{path}/upload/statement"), "说明.pdf", pdf("late"))
        .await;
    assert_eq!(page.status, 409);
    assert_eq!(unit.act(&format!("{path}/submit"), &[]).await.status, 409);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_records").await, 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_files").await, 2);
    assert_eq!(visit_state(&app, visits.submitted).await, "pending_city");
    assert_eq!(visit_state(&app, visits.entered).await, "entered");
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
