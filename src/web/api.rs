//! The JSON API for units (issue 19) under `/api/v1/`: a personal access token (created on the
//! account page) in `Authorization: Bearer …` acts as its clerk, through the same workflow
//! functions and rules as the pages. Errors are `application/problem+json` (RFC 9457) with the
//! pages' Chinese messages; each token may make [`PER_MINUTE`] requests a minute; every use is
//! an audit entry. The OpenAPI 3.1 document is generated from the annotations below and served
//! at `/api/openapi.json`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::api_common::{parse, problem, ApiError, ApiResult, ApiUser, FileQuery, Problem};
use crate::domain::group::{GroupForm, VisitorForm};
use crate::domain::group_fields::ItineraryForm;
use crate::domain::group_flow::GroupAction;
use crate::state::AppState;
use crate::workflow::api_tokens::{self, Refused};
use crate::workflow::entry;
use crate::workflow::error::Error;
use crate::workflow::groups::{self as flow, Applicant};

/// Requests a token may make in a minute by default (each instance counts its own).
pub const PER_MINUTE: u32 = 120;
/// Refused tokens an address may present in a minute before it is made to wait.
const REFUSED_PER_MINUTE: u32 = 30;
/// The largest upload (as the pages').
const UPLOAD_BODY: usize = 16 * 1024 * 1024;

/// A token bucket per key: `limit` requests at once, refilled at `limit` a minute.
#[derive(Default)]
struct Buckets {
    /// (tokens left, when they were counted).
    by_key: HashMap<String, (f64, Instant)>,
}

/// Whether `key` may make one more request now (at most `limit` a minute, as a burst or spread).
fn admit(key: &str, limit: u32) -> bool {
    static BUCKETS: OnceLock<Mutex<Buckets>> = OnceLock::new();
    let Ok(mut b) = BUCKETS.get_or_init(Default::default).lock() else {
        return true;
    };
    let now = Instant::now();
    let cap = f64::from(limit.max(1));
    let rate = cap / 60.0;
    // Forget the keys whose buckets have refilled (they would start full anyway).
    if b.by_key.len() > 10_000 {
        b.by_key
            .retain(|_, (left, at)| *left + now.duration_since(*at).as_secs_f64() * rate < cap);
    }
    let (left, at) = b.by_key.entry(key.to_string()).or_insert((cap, now));
    let refilled = (*left + now.duration_since(*at).as_secs_f64() * rate).min(cap);
    *at = now;
    if refilled >= 1.0 {
        *left = refilled - 1.0;
        true
    } else {
        *left = refilled;
        false
    }
}

fn too_many(limit: u32) -> Response {
    let mut resp = problem(
        StatusCode::TOO_MANY_REQUESTS,
        format!("每个令牌每分钟最多{limit}次请求，请稍后重试"),
    );
    let wait = (60 / limit.max(1)).max(1);
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Authenticates the bearer token, counts the request against its limit, and records the use
/// (method, path and answer) in the audit log.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = super::ctx::client_ip(&state, &req);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let refused = |r: Refused| {
        let mut resp = problem(StatusCode::UNAUTHORIZED, r.message());
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"laihua\""),
        );
        resp
    };
    let Some(secret) = bearer else {
        return refused(Refused::Unknown);
    };
    let (principal, token_id) = match api_tokens::authenticate(&state, &secret, &ip).await {
        Ok(Ok(found)) => found,
        Ok(Err(r)) => {
            if !admit(&format!("refused:{ip}"), REFUSED_PER_MINUTE) {
                return too_many(REFUSED_PER_MINUTE);
            }
            tracing::warn!(ip, "API token refused: {r:?}");
            return refused(r);
        }
        Err(e) => return ApiError(e).into_response(),
    };
    // Keyed by the token itself (its first characters), not its row id: ids repeat across
    // databases, and tests run several in one process.
    let key: String = secret.chars().take(24).collect();
    let limit = match state.config.serve.api_per_minute {
        0 => PER_MINUTE,
        n => n,
    };
    if !admit(&format!("token:{key}"), limit) {
        return too_many(limit);
    }
    let what = format!("{} {}", req.method(), req.uri().path());
    req.extensions_mut().insert(ApiUser {
        principal: principal.clone(),
    });
    let resp = as_problem(next.run(req).await).await;
    let what = format!("{what} → {}", resp.status().as_u16());
    if let Err(e) = api_tokens::record_use(&state, &principal, token_id, &what).await {
        tracing::error!("recording an API use ({what}): {e}");
    }
    resp
}

/// A refusal the framework wrote itself (a path parameter that is not a number, a wrong
/// method, a body too large or of the wrong type) as a problem, with its text as the detail.
async fn as_problem(resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if status.as_u16() < 400 || is_problem {
        return resp;
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => "该接口不支持此请求方式，请查阅 /api/openapi.json".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "提交的内容过大".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "请以 Content-Type: application/json 发送".into(),
        _ => {
            let body = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .unwrap_or_default();
            format!("请求有误：{}", String::from_utf8_lossy(&body))
        }
    };
    problem(status, detail)
}

async fn applicant(state: &AppState, u: &ApiUser) -> ApiResult<Applicant> {
    let unit_id = u.principal.own_unit().ok_or(Error::Forbidden)?;
    let unit = crate::workflow::registration::own_unit(state, unit_id).await?;
    Ok(flow::applicant(&u.principal, unit)?)
}

// ---- the bodies ----

/// A visitor as sent (the group form's fields; dates `YYYY-MM-DD`).
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
#[serde(default)]
pub struct VisitorIn {
    /// The visitor's row, to keep it (and its scans) when updating a group.
    id: Option<i64>,
    surname: String,
    given_name: String,
    /// `M` or `F`.
    sex: String,
    birth_date: String,
    /// ISO 3166-1 alpha-3, from the reference list (e.g. `DEU`).
    nationality: String,
    passport_no: String,
    passport_expiry: String,
    employer: String,
    position: String,
    /// 拟申请签证种类 (`M`, `F`…); blank takes the purpose's default.
    visa_type: String,
    stay_days: String,
    employer_country: String,
    employer_city: String,
    employer_address: String,
    /// The passport's machine-readable zone: when given, it fills the passport's fields.
    mrz: String,
}

/// A row of 在华日程.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
#[serde(default)]
pub struct ItineraryIn {
    date: String,
    city: String,
    activity: String,
    host: String,
}

/// A group as sent: the form's fields.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
#[serde(default)]
pub struct GroupIn {
    name: String,
    /// 来华事由 code (e.g. `business`).
    purpose: String,
    arrival: String,
    departure: String,
    places: String,
    cost_bearer: String,
    /// The visa country (alpha-3).
    country: String,
    /// The mission's id.
    mission: String,
    /// `single` or `multiple`.
    entry_type: String,
    ground: String,
    contact_name: String,
    contact_phone: String,
    remarks: String,
    /// 团组人数.
    size: String,
    itinerary: Vec<ItineraryIn>,
    /// The unit confirms it told the visitors the rules on personal information.
    informed: bool,
    visitors: Vec<VisitorIn>,
}

impl GroupIn {
    fn form(&self) -> GroupForm {
        GroupForm {
            name: self.name.clone(),
            purpose: self.purpose.clone(),
            arrival: self.arrival.clone(),
            departure: self.departure.clone(),
            places: self.places.clone(),
            cost_bearer: self.cost_bearer.clone(),
            country: self.country.clone(),
            mission: self.mission.clone(),
            entry_type: self.entry_type.clone(),
            ground: self.ground.clone(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            remarks: self.remarks.clone(),
            size: self.size.clone(),
            itinerary: self
                .itinerary
                .iter()
                .map(|r| ItineraryForm {
                    date: r.date.clone(),
                    city: r.city.clone(),
                    activity: r.activity.clone(),
                    host: r.host.clone(),
                })
                .collect(),
            informed: if self.informed { "1" } else { "" }.into(),
        }
    }
    fn visitors(&self) -> Vec<flow::TypedVisitor> {
        self.visitors
            .iter()
            .map(|v| {
                (
                    v.id,
                    VisitorForm {
                        surname: v.surname.clone(),
                        given_name: v.given_name.clone(),
                        sex: v.sex.clone(),
                        birth_date: v.birth_date.clone(),
                        nationality: v.nationality.clone(),
                        passport_no: v.passport_no.clone(),
                        passport_expiry: v.passport_expiry.clone(),
                        employer: v.employer.clone(),
                        position: v.position.clone(),
                        visa_type: v.visa_type.clone(),
                        stay_days: v.stay_days.clone(),
                        employer_country: v.employer_country.clone(),
                        employer_city: v.employer_city.clone(),
                        employer_address: v.employer_address.clone(),
                        mrz: v.mrz.clone(),
                    },
                )
            })
            .collect()
    }
}

/// A group in a list.
#[derive(Serialize, ToSchema)]
pub struct GroupSummary {
    id: i64,
    /// 团组编号.
    number: String,
    name: String,
    /// The state's code (`draft`, `submitted`, `dispatched`…).
    state: String,
    /// The state as the pages name it.
    state_label: String,
    arrival: String,
    departure: String,
    visitors: i64,
}

/// A saved group.
#[derive(Serialize, ToSchema)]
pub struct Saved {
    id: i64,
    number: String,
}

/// A step of the group's history.
#[derive(Serialize, ToSchema)]
pub struct Step {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

/// A visitor as saved.
#[derive(Serialize, ToSchema)]
pub struct VisitorOut {
    /// The row's id: the upload slots of its scans are `passport-{id}` and `visa-{id}`.
    id: i64,
    surname: String,
    given_name: String,
    sex: String,
    birth_date: String,
    nationality: String,
    passport_no: String,
    passport_expiry: String,
    employer: String,
    position: String,
    visa_type: String,
    stay_days: Option<i64>,
    passport_scan: bool,
    visa_scan: bool,
}

/// A group, whole.
#[derive(Serialize, ToSchema)]
pub struct GroupOut {
    id: i64,
    number: String,
    state: String,
    state_label: String,
    name: String,
    arrival: String,
    departure: String,
    /// 受理编号, 核实单号 and the reason of a return, once given.
    acceptance_no: Option<String>,
    verification_no: Option<String>,
    return_reason: Option<String>,
    visitors: Vec<VisitorOut>,
    /// The attachments' slots (`clerk_id`, `multi_entry_proof`, `other`, `scan`…) and whether
    /// each is required and uploaded.
    files: Vec<FileOut>,
    /// What the unit may do now (`save`, `upload`, `submit`…).
    actions: Vec<String>,
    history: Vec<Step>,
}

#[derive(Serialize, ToSchema)]
pub struct FileOut {
    slot: String,
    name: String,
    required: bool,
    uploaded: bool,
}

/// A message to the unit.
#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    id: i64,
    at: String,
    sender: String,
    title: String,
    body: String,
    read: bool,
}

/// A passport's machine-readable zone.
#[derive(Deserialize, ToSchema)]
pub struct ZoneIn {
    mrz: String,
}

/// The passport fields a zone gave.
#[derive(Serialize, ToSchema)]
pub struct ZoneOut {
    surname: String,
    given_name: String,
    sex: String,
    birth_date: String,
    /// Blank when the zone's code is not in the reference list (see `warning`).
    nationality: String,
    passport_no: String,
    passport_expiry: String,
    warning: Option<String>,
}

// ---- the routes ----

/// The unit's groups, newest first.
#[utoipa::path(get, path = "/api/v1/groups", tag = "团组",
    responses((status = 200, body = Vec<GroupSummary>), (status = 401, body = Problem)),
    security(("token" = [])))]
async fn list_groups(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
) -> ApiResult<Json<Vec<GroupSummary>>> {
    let a = applicant(&state, &u).await?;
    let (rows, _, _) = flow::home(&state, &a).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| GroupSummary {
                id: r.id,
                number: r.number,
                name: r.name,
                state: r.state.as_str().into(),
                state_label: r.state.label().into(),
                arrival: r.arrival,
                departure: r.departure,
                visitors: r.visitors,
            })
            .collect(),
    ))
}

/// Reads the zones sent with the visitors, then saves (a new group when `t` is none).
async fn save(
    state: &AppState,
    a: &Applicant,
    t: Option<&flow::Allowed>,
    body: &GroupIn,
) -> ApiResult<i64> {
    let mut visitors = body.visitors();
    let errors = entry::read_zones(state, &mut visitors, None).await?;
    if !errors.is_empty() {
        return Err(Error::Invalid(errors).into());
    }
    Ok(flow::save(state, a, t, &body.form(), &visitors).await?)
}

/// 【保存】 of a new group: created as a draft with its number.
#[utoipa::path(post, path = "/api/v1/groups", tag = "团组", request_body = GroupIn,
    responses((status = 201, body = Saved), (status = 422, body = Problem),
        (status = 409, body = Problem), (status = 401, body = Problem)),
    security(("token" = [])))]
async fn create_group(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: GroupIn = match parse(&body) {
        Ok(b) => b,
        Err(resp) => return Ok(*resp),
    };
    let a = applicant(&state, &u).await?;
    let id = save(&state, &a, None, &body).await?;
    let t = flow::own(&state, &a, id, GroupAction::Save).await?;
    let number = t.group().number.clone();
    Ok((StatusCode::CREATED, Json(Saved { id, number })).into_response())
}

/// 【保存】 of a group the unit may still change (the whole form: visitors left out are
/// removed; send a visitor's `id` to keep its row and scans).
#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = "团组", request_body = GroupIn,
    params(("id" = i64, Path)),
    responses((status = 200, body = Saved), (status = 422, body = Problem),
        (status = 409, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn update_group(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: GroupIn = match parse(&body) {
        Ok(b) => b,
        Err(resp) => return Ok(*resp),
    };
    let a = applicant(&state, &u).await?;
    let t = flow::own(&state, &a, id, GroupAction::Save).await?;
    save(&state, &a, Some(&t), &body).await?;
    Ok(Json(Saved {
        id,
        number: t.group().number.clone(),
    })
    .into_response())
}

/// A group: its state, data, visitors, attachments, what may be done now, and its history.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "团组", params(("id" = i64, Path)),
    responses((status = 200, body = GroupOut), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn get_group(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(id): Path<i64>,
) -> ApiResult<Json<GroupOut>> {
    let a = applicant(&state, &u).await?;
    let r = flow::record(&state, a.principal(), id).await?;
    let g = &r.group;
    Ok(Json(GroupOut {
        id: g.id,
        number: g.number.clone(),
        state: g.state.as_str().into(),
        state_label: g.state.label().into(),
        name: g.data.name.clone(),
        arrival: g.data.arrival.to_string(),
        departure: g.data.departure.to_string(),
        acceptance_no: g.acceptance_no.clone(),
        verification_no: g.verification_no.clone(),
        return_reason: g.return_reason.clone(),
        visitors: r
            .visitors
            .iter()
            .map(|v| {
                let d = &v.v.data;
                VisitorOut {
                    id: v.v.id,
                    surname: d.surname.clone(),
                    given_name: d.given_name.clone(),
                    sex: d.sex.clone(),
                    birth_date: d.birth_date.to_string(),
                    nationality: d.nationality.clone(),
                    passport_no: d.passport_no.clone(),
                    passport_expiry: d.passport_expiry.to_string(),
                    employer: d.employer.clone(),
                    position: d.position.clone(),
                    visa_type: d.visa_type.clone(),
                    stay_days: d.stay_days,
                    passport_scan: v.passport.is_some(),
                    visa_scan: v.visa.is_some(),
                }
            })
            .collect(),
        files: r
            .files
            .iter()
            .map(|f| FileOut {
                slot: f.code.to_string(),
                name: f.name.to_string(),
                required: f.required,
                uploaded: f.file.is_some(),
            })
            .chain(std::iter::once(FileOut {
                slot: "scan".into(),
                name: "盖章的申请表扫描件".into(),
                required: true,
                uploaded: r.scan.is_some(),
            }))
            .collect(),
        actions: r
            .actions
            .iter()
            .map(|a| match a.audit_name().trim_start_matches("group.") {
                "file" => "upload".to_string(),
                other => other.to_string(),
            })
            .collect(),
        history: r
            .timeline
            .iter()
            .map(|e| Step {
                at: e.at_text(),
                actor: e.actor.clone(),
                action: crate::domain::audit::action_label(&e.action).to_string(),
                detail: e.detail.clone(),
            })
            .collect(),
    }))
}

/// 【打印】: the application form of the current version (PDF), recorded as printed.
#[utoipa::path(post, path = "/api/v1/groups/{id}/print", tag = "团组", params(("id" = i64, Path)),
    responses((status = 200, description = "邀请外国人来华申请表（PDF）", content_type = "application/pdf"),
        (status = 409, body = Problem), (status = 404, body = Problem)),
    security(("token" = [])))]
async fn print_group(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let a = applicant(&state, &u).await?;
    let printed = flow::print(&state, a.principal(), id).await?;
    super::group_view::printed(printed)
        .map_err(|e| ApiError(Error::Fault(anyhow::anyhow!("{e:?}"))))
}

/// Uploads a file into a slot: `clerk_id`, `multi_entry_proof`, `other`, `scan` (the stamped
/// form, after 【打印】), `passport-{visitor id}`, `visa-{visitor id}`. The body is the file
/// (PDF, JPEG or PNG as the slot takes, checked by content).
#[utoipa::path(put, path = "/api/v1/groups/{id}/files/{slot}", tag = "团组",
    params(("id" = i64, Path), ("slot" = String, Path), ("name" = Option<String>, Query, description = "文件名")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 422, body = Problem), (status = 409, body = Problem)),
    security(("token" = [])))]
async fn upload_file(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path((id, slot)): Path<(i64, String)>,
    Query(q): Query<FileQuery>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let a = applicant(&state, &u).await?;
    let t = flow::own(&state, &a, id, GroupAction::Upload).await?;
    let slot = flow::upload_slot(&state, &t, &slot).await?;
    let file = q.upload(format!("{}.pdf", slot.code()), &body);
    flow::upload(&state, &a, &t, &slot, &file).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 【提交】: to the county office; read-only from now on.
#[utoipa::path(post, path = "/api/v1/groups/{id}/submit", tag = "团组", params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = [])))]
async fn submit_group(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let a = applicant(&state, &u).await?;
    let t = flow::own(&state, &a, id, GroupAction::Submit).await?;
    flow::submit(&state, &a, &t).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The unit's messages, newest first (the latest 100).
#[utoipa::path(get, path = "/api/v1/messages", tag = "消息",
    responses((status = 200, body = Vec<MessageOut>)), security(("token" = [])))]
async fn list_messages(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
) -> ApiResult<Json<Vec<MessageOut>>> {
    let (messages, _) = crate::workflow::messages::list(&state, &u.principal, 100, 0).await?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| MessageOut {
                id: m.id,
                at: m.created_text(),
                read: !m.unread(),
                sender: m.sender_label,
                title: m.title,
                body: m.body,
            })
            .collect(),
    ))
}

/// Reads a passport's machine-readable zone (ICAO 9303 TD3), every check digit checked.
#[utoipa::path(post, path = "/api/v1/mrz", tag = "到访人员", request_body = ZoneIn,
    responses((status = 200, body = ZoneOut), (status = 422, body = Problem)),
    security(("token" = [])))]
async fn read_zone(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ZoneIn = match parse(&body) {
        Ok(b) => b,
        Err(resp) => return Ok(*resp),
    };
    applicant(&state, &u).await?;
    let lists = crate::workflow::reference::lists(&state).await?;
    let read = entry::read_zone(&lists, &VisitorForm::default(), &body.mrz, &state)
        .map_err(|m| Error::invalid("mrz", m))?;
    let v = read.form;
    Ok(Json(ZoneOut {
        surname: v.surname,
        given_name: v.given_name,
        sex: v.sex,
        birth_date: v.birth_date,
        nationality: v.nationality,
        passport_no: v.passport_no,
        passport_expiry: v.passport_expiry,
        warning: read.warning.map(|(_, m)| m),
    })
    .into_response())
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("个人访问令牌（在“帐号信息”页面创建）"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "来华邀请系统 API", version = "1",
        description = "邀请单位的团组申报接口：与页面相同的规则和提示。错误为 application/problem+json。"),
    paths(list_groups, create_group, get_group, update_group, print_group, upload_file,
        submit_group, list_messages, read_zone, super::api_visits::list_visits,
        super::api_visits::get_visit, super::api_visits::save_visit,
        super::api_visits::upload_visit_file, super::api_visits::submit_visit),
    modifiers(&Security)
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Response {
    match openapi().to_json() {
        Ok(text) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(e) => ApiError(Error::Fault(e.into())).into_response(),
    }
}

/// An unknown path under /api: a problem, not the site's page.
async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "接口不存在，请查阅 /api/openapi.json",
    )
}

/// The API's routes: `/api/v1/…` behind the token, `/api/openapi.json` open.
pub fn router(state: AppState) -> Router<AppState> {
    let v1 = Router::new()
        .route("/groups", get(list_groups).post(create_group))
        .route("/groups/{id}", get(get_group).put(update_group))
        .route("/groups/{id}/print", post(print_group))
        .route(
            "/groups/{id}/files/{slot}",
            put(upload_file).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        )
        .route("/groups/{id}/submit", post(submit_group))
        .route("/messages", get(list_messages))
        .route("/mrz", post(read_zone))
        .merge(super::api_visits::routes())
        .fallback(not_found)
        .layer(from_fn_with_state(state, authenticate));
    Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(openapi_json))
}

/// The paths and methods of the API, as the OpenAPI document lists them (tests walk them).
pub fn operations() -> Vec<(String, String)> {
    let doc = openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}
