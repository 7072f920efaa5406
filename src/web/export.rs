//! Excel (.xlsx) export of the lists staff see: every list page answers `?format=xlsx` with the
//! same rows it shows (all pages of them, up to `MAX_ROWS`), and each export is an audit event
//! naming the list, its filters and the number of rows.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use crate::state::AppState;
use crate::workflow::oversight;
pub use crate::workflow::oversight::MAX_ROWS;

/// The query of a queue page: the flash code after an action, and `format=xlsx` for the file.
#[derive(serde::Deserialize, Default, Debug, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub ok: String,
    #[serde(default)]
    pub format: String,
}

/// Whether a request asks for the Excel file rather than the page.
pub fn wants_xlsx(format: &str) -> bool {
    format.trim().eq_ignore_ascii_case("xlsx")
}

/// A cell: text, or a number that Excel can add up.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Num(f64),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<&String> for Cell {
    fn from(s: &String) -> Self {
        Cell::Text(s.clone())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Num(n as f64)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Self {
        Cell::Num(n as f64)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        Cell::Text(s.unwrap_or_default())
    }
}

/// One worksheet: a title (the sheet's name), a header row and the rows.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    pub fn new(title: impl Into<String>, headers: &[&'static str]) -> Self {
        Sheet {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique in the book.
fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let clean = if clean.trim().is_empty() {
        "Sheet".to_string()
    } else {
        clean
    };
    let mut name = clean.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        name = format!("{clean}{n}");
        n += 1;
    }
    name
}

/// The workbook's bytes.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let mut taken = Vec::new();
    for s in sheets {
        let ws = book.add_worksheet();
        let name = sheet_name(&s.title, &taken);
        ws.set_name(&name)?;
        taken.push(name);
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        let mut widths: Vec<usize> = s.headers.iter().map(|h| display_width(h)).collect();
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(r, c as u16, t)?;
                        if let Some(w) = widths.get_mut(c) {
                            *w = (*w).max(display_width(t));
                        }
                    }
                    Cell::Num(n) => {
                        ws.write_number(r, c as u16, *n)?;
                    }
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).clamp(8.0, 60.0))?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

/// Width in Excel character units: CJK characters count double.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Builds the file, records the export in the audit log and answers with the download.
/// `list` is a short code of the list (`review.units`, `audit`…), `label` its Chinese name and
/// `filters` a description of the conditions, kept in the audit entry.
pub async fn respond(
    state: &AppState,
    ctx: &Ctx,
    list: &str,
    label: &str,
    filters: &str,
    sheets: Vec<Sheet>,
) -> AppResult<Response> {
    let rows: usize = sheets.iter().map(|s| s.rows.len()).sum();
    let bytes = tokio::task::spawn_blocking(move || workbook(&sheets))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("export task: {e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let now = oversight::record_export(state, ctx.principal()?, list, label, filters, rows).await?;
    let date: String = crate::clock::fmt_ts(now).chars().take(10).collect();
    let ascii = format!("laihua-{}-{}.xlsx", list.replace('.', "-"), date);
    let utf8 = format!("{label}-{date}.xlsx");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                    super::ctx::urlencode(&utf8)
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// "名称=值" pairs of the non-empty filters, for the audit entry.
pub fn describe(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", v.trim()))
        .collect::<Vec<_>>()
        .join("，")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let taken = vec!["统计".to_string()];
        assert_eq!(sheet_name("统计", &taken), "统计2");
        assert_eq!(sheet_name("a/b[c]", &[]), "a_b_c_");
        assert_eq!(sheet_name("  ", &[]), "Sheet");
        assert!(sheet_name(&"长".repeat(40), &[]).chars().count() <= 31);
    }

    #[test]
    fn workbook_is_a_zip_with_the_sheets() {
        let mut s = Sheet::new("团组", &["编号", "人数"]);
        s.push(vec!["G1".into(), 3i64.into()]);
        let bytes = workbook(&[s.clone(), s]).expect("workbook");
        assert_eq!(&bytes[..2], b"PK");
        assert!(bytes.len() > 1000);
    }

    #[test]
    fn describe_keeps_non_empty_filters() {
        assert_eq!(
            describe(&[("关键字", " 常州 "), ("县区", ""), ("状态", "approved")]),
            "关键字=常州，状态=approved"
        );
    }
}
