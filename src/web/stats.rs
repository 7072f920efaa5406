//! 统计分析: the figures of `workflow::oversight::statistics` for a chosen period, as tables
//! with server-rendered SVG bar charts. County staff see their own district only.
//!
//! The page is a list of [`StatTable`]s so that every table can also be exported as it is.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{self as xlsx, respond, wants_xlsx, Sheet};
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::period::Period;
use crate::state::AppState;
use crate::workflow::oversight::{self, Cell, StatTable};

/// The chart of a table as inline SVG (the page's template calls it); its texts are escaped by
/// [`super::svg`].
pub(super) trait ChartSvg {
    fn chart_svg(&self) -> String;
}

impl ChartSvg for StatTable {
    fn chart_svg(&self) -> String {
        self.chart
            .as_ref()
            .map(super::svg::render)
            .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    l: Layout,
    from: String,
    to: String,
    errors: FieldErrors,
    /// 全市, or the county's district.
    scope: String,
    tables: Vec<StatTable>,
    /// The period of the figures shown, for the export link.
    query: String,
}

/// One table of the page as a worksheet: its header, rows and 合计 row; numbers stay numbers.
pub(super) fn sheet_of(t: &StatTable) -> Sheet {
    let cell = |c: &Cell| match c {
        Cell::Text(s) => xlsx::Cell::Text(s.clone()),
        Cell::Int(n) => xlsx::Cell::Num(*n as f64),
        Cell::Num(x) => xlsx::Cell::Num(*x),
    };
    Sheet {
        title: t.title.clone(),
        headers: t.headers.clone(),
        rows: t
            .rows
            .iter()
            .chain(t.footer.iter())
            .map(|r| r.iter().map(cell).collect())
            .collect(),
    }
}

/// 统计分析 for county staff (their district), city staff and administrators (the whole city).
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let scope = oversight::scope_name(&state, p).await?;
    let l = layout(&state, &ctx, "统计分析").await?;
    let (from, to, errors, tables) = match Period::parse(&q.from, &q.to, state.today()) {
        Ok(period) => {
            let tables = oversight::statistics(&state, p, &period).await?;
            (
                period.from.to_string(),
                period.to.to_string(),
                FieldErrors::new(),
                tables,
            )
        }
        // Bad dates: the fields as typed with their messages, and no figures.
        Err(errors) => (
            q.from.trim().to_string(),
            q.to.trim().to_string(),
            errors,
            Vec::new(),
        ),
    };
    if wants_xlsx(&q.format) && errors.is_empty() {
        let sheets = tables.iter().map(sheet_of).collect();
        let filters = format!("{scope}，{from}至{to}");
        return respond(&state, &ctx, "stats", "统计分析", &filters, sheets).await;
    }
    render(StatsPage {
        l,
        query: format!("from={from}&to={to}"),
        from,
        to,
        errors,
        scope,
        tables,
    })
}
