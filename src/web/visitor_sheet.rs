//! The visitors' spreadsheet on the group form (issue 19): the .xlsx template (drop-downs for
//! sex, nationality, country and visa type; date and text columns formatted), and its import:
//! the rows checked by [`crate::workflow::entry::import`], then filled into the form (at most
//! five) or offered as several groups. Nothing is saved until the clerk presses 【保存】.

use std::io::Cursor;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Form;
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Formula, Workbook, XlsxError};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::groups::{form_page, Shown};
use super::page::{layout, render, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::group::{VisitorForm, MAX_VISITORS};
use crate::domain::group_flow::GroupAction;
use crate::domain::visitor_sheet::{Row, COLUMNS, MAX_ROWS};
use crate::state::AppState;
use crate::store::refs::Lists;
use crate::workflow::entry::{self, SHEET};
use crate::workflow::error::Error;
use crate::workflow::groups as flow;

/// The largest sheet accepted (a hundred rows take a few tens of kilobytes).
pub const SHEET_BODY: usize = 2 * 1024 * 1024;

/// The name of the sheet the rows are read from (else the first sheet).
const ROWS_SHEET: &str = "到访人员";

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("xlsx template: {e}"))
}

/// The template's bytes: the header row, the columns' formats and drop-downs, the lists on a
/// hidden sheet, and a sheet of instructions.
fn template_bytes(lists: &Lists) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let last = u32::try_from(MAX_ROWS).unwrap_or(100);
    let bold = Format::new().set_bold().set_background_color("#FCE4D6");
    let plain_head = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");
    let nationalities: Vec<String> = lists
        .nationalities()
        .iter()
        .map(|c| format!("{}（{}）", c.name_zh, c.alpha3))
        .collect();
    let countries: Vec<String> = lists
        .countries
        .iter()
        .map(|c| format!("{}（{}）", c.name_zh, c.alpha3))
        .collect();
    let visas: Vec<String> = lists
        .visa_types
        .iter()
        .map(|c| format!("{}（{}）", c.name_zh, c.code))
        .collect();
    {
        let ws = book.add_worksheet();
        ws.set_name(ROWS_SHEET)?;
        for (i, c) in COLUMNS.iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(0);
            let f = if c.required { &bold } else { &plain_head };
            ws.write_string_with_format(0, col, c.header, f)?;
            let width = match c.field {
                "mrz" => 48.0,
                "employer_address" | "nationality" | "employer_country" => 24.0,
                _ => 14.0,
            };
            ws.set_column_width(col, width)?;
            match c.field {
                "birth_date" | "passport_expiry" => {
                    ws.set_column_format(col, &date)?;
                }
                "passport_no" | "mrz" | "surname" | "given_name" => {
                    ws.set_column_format(col, &text)?;
                }
                _ => {}
            }
            let list = |range: &str| {
                DataValidation::new()
                    .allow_list_formula(Formula::new(range))
                    .set_error_title("请从列表中选择")
            };
            let rule = match c.field {
                "sex" => Some(DataValidation::new().allow_list_strings(&["男", "女"])?),
                "nationality" => Some(list(&format!("=列表!$A$2:$A${}", nationalities.len() + 1))?),
                "employer_country" => {
                    Some(list(&format!("=列表!$B$2:$B${}", countries.len() + 1))?)
                }
                "visa_type" => Some(list(&format!("=列表!$C$2:$C${}", visas.len() + 1))?),
                "stay_days" => Some(
                    DataValidation::new()
                        .allow_whole_number(DataValidationRule::Between(1, 3650))
                        .set_error_title("停留期限为天数")?,
                ),
                _ => None,
            };
            if let Some(rule) = rule {
                ws.add_data_validation(1, col, last, col, &rule)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    {
        let ws = book.add_worksheet();
        ws.set_name("列表")?;
        for (col, (head, items)) in [
            ("国籍", &nationalities),
            ("工作单位所在国家（地区）", &countries),
            ("拟申请签证种类", &visas),
        ]
        .into_iter()
        .enumerate()
        {
            let col = u16::try_from(col).unwrap_or(0);
            ws.write_string_with_format(0, col, head, &plain_head)?;
            for (r, item) in items.iter().enumerate() {
                ws.write_string(u32::try_from(r).unwrap_or(0) + 1, col, item)?;
            }
        }
        ws.set_hidden(true);
    }
    {
        let ws = book.add_worksheet();
        ws.set_name("填写说明")?;
        let lines = [
            "每行填写一名到访人员，第1行的列名不要修改；带颜色的列为必填项。".to_string(),
            "性别、国籍、工作单位所在国家（地区）和拟申请签证种类请从下拉列表中选择。".into(),
            "日期格式为 2030-01-31；护照号码按护照填写，不含空格。".into(),
            "拟申请签证种类可不填，保存团组时按来华事由默认（商务类为M，交流访问类为F）。"
                .into(),
            "“护照机读区”可选：粘贴护照首页底部以“P<”开头的两行，系统核对校验位后填写姓名、性别、出生日期、国籍、护照号码和有效期。".into(),
            format!(
                "一个团组最多{MAX_VISITORS}人；超过{MAX_VISITORS}人时，导入后按每{MAX_VISITORS}人分为几个团组填写。一次最多导入{MAX_ROWS}人。"
            ),
            "导入只填写表单，不会保存；请核对后点【保存】。任何一格有误时整表不导入，并列出每个有误的单元格。".into(),
        ];
        ws.set_column_width(0, 110.0)?;
        for (r, l) in lines.iter().enumerate() {
            ws.write_string(u32::try_from(r).unwrap_or(0), 0, l)?;
        }
    }
    book.save_to_buffer()
}

/// 【下载模板】: the visitors' spreadsheet template, with the reference lists in force.
pub async fn template(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let a = super::groups::applicant(&state, &ctx).await?;
    let _ = a;
    let lists = crate::workflow::reference::lists(&state).await?;
    let bytes = tokio::task::spawn_blocking(move || template_bytes(&lists))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template task: {e}")))?
        .map_err(xlsx_error)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                super::files::disposition("attachment", "到访人员导入模板.xlsx"),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// A cell as text: dates as `YYYY-MM-DD`, whole numbers without a decimal point.
fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02}")
        }
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
    }
}

/// The cells of the rows' sheet of an uploaded workbook; the reason in Chinese when it is not
/// one.
fn read_cells(bytes: Vec<u8>) -> Result<Vec<Vec<String>>, String> {
    const NOT_XLSX: &str = "文件不是有效的Excel工作簿（.xlsx），请下载本系统提供的模板填写后上传";
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(NOT_XLSX.into());
    }
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| NOT_XLSX)?;
    let names = book.sheet_names().to_owned();
    let name = names
        .iter()
        .find(|n| n.as_str() == ROWS_SHEET)
        .or(names.first())
        .cloned()
        .ok_or(NOT_XLSX)?;
    let range = book.worksheet_range(&name).map_err(|_| NOT_XLSX)?;
    // Rows as the sheet numbers them: a sheet whose used range starts below row 1 is padded.
    let start = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut out: Vec<Vec<String>> = vec![Vec::new(); start];
    for r in range.rows() {
        let mut line = vec![String::new(); first_col];
        line.extend(r.iter().map(cell_text));
        out.push(line);
    }
    Ok(out)
}

/// The page offering the rows of a sheet of more than five visitors as several groups.
#[derive(Template)]
#[template(path = "group_import.html")]
struct ImportPage {
    l: Layout,
    /// The group imported into (its id and number), or none for new groups.
    group: Option<(i64, String)>,
    parts: Vec<Vec<Row>>,
    total: usize,
}

impl ImportPage {
    /// The hidden fields of a part: its visitors as the group form posts them.
    pub fn fields(&self, part: &[Row]) -> Vec<(String, String)> {
        blocks_fields(part.iter().map(|r| &r.form))
    }
}

fn blocks_fields<'a>(forms: impl Iterator<Item = &'a VisitorForm>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, v) in forms.enumerate() {
        for (k, val) in [
            ("surname", &v.surname),
            ("given_name", &v.given_name),
            ("sex", &v.sex),
            ("birth_date", &v.birth_date),
            ("nationality", &v.nationality),
            ("passport_no", &v.passport_no),
            ("passport_expiry", &v.passport_expiry),
            ("employer", &v.employer),
            ("position", &v.position),
            ("visa_type", &v.visa_type),
            ("stay_days", &v.stay_days),
            ("employer_country", &v.employer_country),
            ("employer_city", &v.employer_city),
            ("employer_address", &v.employer_address),
        ] {
            out.push((format!("v{i}_{k}"), val.clone()));
        }
    }
    out
}

/// 【导入】 on a new group's form.
pub async fn import_new(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Multipart,
) -> AppResult<Response> {
    import(&state, &ctx, None, multipart).await
}

/// 【导入】 on a saved group's form.
pub async fn import_into(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    import(&state, &ctx, Some(id), multipart).await
}

async fn import(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let a = super::groups::applicant(state, ctx).await?;
    let t = match id {
        Some(id) => Some(flow::own(state, &a, id, GroupAction::Save).await?),
        None => None,
    };
    // The form the rows go into: the saved group's, or a blank one.
    let view = match &t {
        Some(t) => flow::form_again(state, &a, Some(t), None).await?,
        None => flow::blank(state, &a).await?,
    };
    let upload = super::files::read_file(multipart, "file").await?;
    let refused = |errors: FieldErrors| Shown::import_refused(errors);
    if upload.bytes.is_empty() {
        let mut e = FieldErrors::new();
        e.add(SHEET, "请选择要导入的Excel文件（.xlsx）");
        return form_page(state, ctx, view, refused(e)).await;
    }
    let cells = match tokio::task::spawn_blocking(move || read_cells(upload.bytes)).await {
        Ok(Ok(cells)) => cells,
        Ok(Err(message)) => {
            let mut e = FieldErrors::new();
            e.add(SHEET, message);
            return form_page(state, ctx, view, refused(e)).await;
        }
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!("sheet task: {e}"))),
    };
    let rows = match entry::import(state, &view.form, &cells).await {
        Ok(rows) => rows,
        Err(Error::Invalid(e)) => return form_page(state, ctx, view, refused(e)).await,
        Err(e) => return Err(e.into()),
    };
    let total = rows.len();
    if total <= MAX_VISITORS {
        let forms: Vec<VisitorForm> = rows.into_iter().map(|r| r.form).collect();
        return fill(state, ctx, &a, t.as_ref(), &forms, total).await;
    }
    let l = layout(state, ctx, "从电子表格导入到访人员").await?;
    render(ImportPage {
        l,
        group: t.map(|t| (t.group().id, t.group().number.clone())),
        parts: entry::in_groups(rows),
        total,
    })
}

/// The form of group `t` (or a new one) with its visitors from `forms`, not saved.
async fn fill(
    state: &AppState,
    ctx: &Ctx,
    a: &flow::Applicant,
    t: Option<&flow::Allowed>,
    forms: &[VisitorForm],
    total: usize,
) -> AppResult<Response> {
    let view = match t {
        Some(t) => flow::form_again(state, a, Some(t), None).await?,
        None => flow::blank(state, a).await?,
    };
    if forms.is_empty() {
        return form_page(state, ctx, view, Shown::default()).await;
    }
    let saved: Vec<flow::TypedVisitor> = view
        .visitors
        .iter()
        .map(|v| (v.id, v.form.clone()))
        .collect();
    let blocks = entry::fill_blocks(&saved, forms);
    let view = flow::form_again(state, a, t, Some((view.form, blocks))).await?;
    let shown = Shown::flash(format!(
        "已从电子表格读入{total}名到访人员，尚未保存：请核对后点【保存】。"
    ));
    form_page(state, ctx, view, shown).await
}

/// 【填入本团组】/【填入新团组】 of the import page: the part's visitors into the form.
pub async fn fill_new(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let a = super::groups::applicant(&state, &ctx).await?;
    let forms = posted_blocks(&pairs)?;
    fill(&state, &ctx, &a, None, &forms, forms.len()).await
}

/// [`fill_new`] into the saved group `id`.
pub async fn fill_into(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let a = super::groups::applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Save).await?;
    let forms = posted_blocks(&pairs)?;
    fill(&state, &ctx, &a, Some(&t), &forms, forms.len()).await
}

/// The visitor blocks a fill posts (checked again on 【保存】 like anything typed).
fn posted_blocks(pairs: &[(String, String)]) -> AppResult<Vec<VisitorForm>> {
    let visitors =
        super::groups::posted_visitors(pairs).map_err(|m| AppError::BadRequest(m.to_string()))?;
    Ok(visitors.into_iter().map(|(_, v)| v).collect())
}
