//! 销签登记 through the API (issue 19): the unit's visitors of dispatched groups, a visitor's
//! registration (with the ports to choose from), saving it, its scans, and 【提交】, through the
//! workflow functions the pages call.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api_common::{parse, ApiError, ApiResult, ApiUser, FileQuery};
use crate::domain::visit::{Scan, VisitForm};
use crate::state::AppState;
use crate::workflow::error::Error;
use crate::workflow::visits;

/// A visitor of a dispatched group, to register after the visit.
#[derive(Serialize, ToSchema)]
pub struct VisitSummary {
    visitor_id: i64,
    group_id: i64,
    group_number: String,
    name: String,
    passport_no: String,
    /// The registration's state (`unregistered`, `in_china`, `pending_county`…).
    state: String,
    state_label: String,
    /// Past the time limit without a submitted registration.
    overdue: bool,
    /// The invitation was cancelled: nothing to register.
    cancelled: bool,
}

/// A port to choose as the entry or exit port.
#[derive(Serialize, ToSchema)]
pub struct PortOut {
    id: i64,
    name: String,
}

/// A visitor's registration as saved, and what may be chosen.
#[derive(Serialize, ToSchema)]
pub struct VisitOut {
    visitor_id: i64,
    name: String,
    state: String,
    state_label: String,
    /// `travelled` or `cancelled` once saved.
    kind: Option<String>,
    entry_date: Option<String>,
    entry_port: Option<i64>,
    exit_date: Option<String>,
    exit_port: Option<i64>,
    cancel_reason: Option<String>,
    return_reason: Option<String>,
    editable: bool,
    /// The scans uploaded, by kind (`statement`, `entry_stamp`, `exit_stamp`, `visa`…).
    files: Vec<String>,
    ports: Vec<PortOut>,
}

/// A registration as sent: the page's fields.
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct VisitIn {
    /// `travelled` (实际成行) or `cancelled` (取消行程).
    kind: String,
    entry_date: String,
    /// A port's id (see `ports`).
    entry_port: String,
    exit_date: String,
    exit_port: String,
    cancel_reason: String,
}

/// The unit's visitors of dispatched groups, overdue first.
#[utoipa::path(get, path = "/api/v1/visits", tag = "销签登记",
    responses((status = 200, body = Vec<VisitSummary>), (status = 409, body = super::api_common::Problem)),
    security(("token" = [])))]
pub async fn list_visits(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
) -> ApiResult<Json<Vec<VisitSummary>>> {
    let list = visits::list(&state, &u.principal, None).await?;
    Ok(Json(
        list.rows
            .into_iter()
            .map(|r| {
                let st = r
                    .state
                    .unwrap_or(crate::domain::visit_flow::VisitState::Unregistered);
                VisitSummary {
                    visitor_id: r.visitor_id,
                    group_id: r.group_id,
                    group_number: r.group_number,
                    name: r.name,
                    passport_no: r.passport_no,
                    state: st.as_str().into(),
                    state_label: st.label().into(),
                    overdue: r.overdue,
                    cancelled: r.cancelled,
                }
            })
            .collect(),
    ))
}

/// A visitor's registration.
#[utoipa::path(get, path = "/api/v1/visits/{visitor_id}", tag = "销签登记",
    params(("visitor_id" = i64, Path)),
    responses((status = 200, body = VisitOut), (status = 404, body = super::api_common::Problem),
        (status = 409, body = super::api_common::Problem)),
    security(("token" = [])))]
pub async fn get_visit(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(visitor_id): Path<i64>,
) -> ApiResult<Json<VisitOut>> {
    let p = &u.principal;
    let s = visits::subject(&state, p, visitor_id).await?;
    let r = visits::registration(&state, p, s).await?;
    let st = r
        .record
        .as_ref()
        .map_or(crate::domain::visit_flow::VisitState::Unregistered, |x| {
            x.state
        });
    let rec = r.record.as_ref();
    Ok(Json(VisitOut {
        visitor_id: r.subject.visitor_id,
        name: r.subject.name.clone(),
        state: st.as_str().into(),
        state_label: st.label().into(),
        kind: rec.map(|x| x.kind.as_str().to_string()),
        entry_date: rec.and_then(|x| x.entry_date.clone()),
        entry_port: rec.and_then(|x| x.entry_port_id),
        exit_date: rec.and_then(|x| x.exit_date.clone()),
        exit_port: rec.and_then(|x| x.exit_port_id),
        cancel_reason: rec.and_then(|x| x.cancel_reason.clone()),
        return_reason: rec.and_then(|x| x.return_reason.clone()),
        editable: r.editable,
        files: r.files.keys().map(|k| k.as_str().to_string()).collect(),
        ports: r
            .ports
            .iter()
            .map(|p| PortOut {
                id: p.id,
                name: p.name_zh.clone(),
            })
            .collect(),
    }))
}

/// 【保存】 of a registration: the entry alone while the visitor is in China, or all of it.
#[utoipa::path(put, path = "/api/v1/visits/{visitor_id}", tag = "销签登记",
    params(("visitor_id" = i64, Path)), request_body = VisitIn,
    responses((status = 204), (status = 422, body = super::api_common::Problem),
        (status = 409, body = super::api_common::Problem), (status = 404, body = super::api_common::Problem)),
    security(("token" = [])))]
pub async fn save_visit(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(visitor_id): Path<i64>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: VisitIn = match parse(&body) {
        Ok(b) => b,
        Err(resp) => return Ok(*resp),
    };
    let p = &u.principal;
    let s = visits::subject(&state, p, visitor_id).await?;
    let form = VisitForm {
        kind: body.kind,
        entry_date: body.entry_date,
        entry_port: body.entry_port,
        exit_date: body.exit_date,
        exit_port: body.exit_port,
        cancel_reason: body.cancel_reason,
    };
    visits::save(&state, p, &s, &form).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Uploads a scan of a saved registration (`statement`, `entry_stamp`, `exit_stamp`, `visa`…,
/// as its kind needs).
#[utoipa::path(put, path = "/api/v1/visits/{visitor_id}/files/{kind}", tag = "销签登记",
    params(("visitor_id" = i64, Path), ("kind" = String, Path), ("name" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 422, body = super::api_common::Problem),
        (status = 409, body = super::api_common::Problem), (status = 404, body = super::api_common::Problem)),
    security(("token" = [])))]
pub async fn upload_visit_file(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path((visitor_id, kind)): Path<(i64, String)>,
    Query(q): Query<FileQuery>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let p = &u.principal;
    let s = visits::subject(&state, p, visitor_id).await?;
    let scan = Scan::parse(&kind).ok_or(Error::NotFound)?;
    let record = visits::upload_target(&state, p, &s, scan).await?;
    let file = q.upload(format!("{kind}.pdf"), &body);
    visits::upload(&state, p, &s, &record, scan, &file).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 【提交】 of a registration to the county office.
#[utoipa::path(post, path = "/api/v1/visits/{visitor_id}/submit", tag = "销签登记",
    params(("visitor_id" = i64, Path)),
    responses((status = 204), (status = 422, body = super::api_common::Problem),
        (status = 409, body = super::api_common::Problem), (status = 404, body = super::api_common::Problem)),
    security(("token" = [])))]
pub async fn submit_visit(
    State(state): State<AppState>,
    Extension(u): Extension<ApiUser>,
    Path(visitor_id): Path<i64>,
) -> ApiResult<StatusCode> {
    let p = &u.principal;
    let s = visits::subject(&state, p, visitor_id).await?;
    visits::submit(&state, p, &s)
        .await
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(list_visits))
        .route("/visits/{visitor_id}", get(get_visit).put(save_visit))
        .route(
            "/visits/{visitor_id}/files/{kind}",
            put(upload_visit_file).layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/visits/{visitor_id}/submit", post(submit_visit))
}
