//! Machine entry of visitors (issue 19): the passport's machine-readable zone read into a
//! visitor's fields, and the visitors' spreadsheet (template and import). Nothing here saves:
//! what is read fills the group form, which is saved by [`super::groups::save`] with all its
//! rules; the API calls the same functions.

use super::error::{Error, Outcome};
use super::groups::TypedVisitor;
use crate::domain::fields::FieldErrors;
use crate::domain::group::{GroupForm, Trip, VisitorForm, MAX_VISITORS};
use crate::domain::mrz;
use crate::domain::visitor_sheet::{self as sheet, Row};
use crate::state::AppState;
use crate::store::refs::Lists;

/// The message beside the nationality when the zone's code is not in the reference list.
fn unknown_nationality(code: &str) -> String {
    format!("机读区的国籍代码“{code}”不在国籍列表中，请从列表中选择国籍")
}

/// What a zone gave: the fields it filled, and a message for a field it could not fill.
pub struct Read {
    pub form: VisitorForm,
    /// (field, message): the nationality when its code is not in the reference list.
    pub warning: Option<(&'static str, String)>,
}

/// Reads `text` (a pasted zone) into a copy of `v`; the reason in Chinese when it is refused.
pub fn read_zone(
    lists: &Lists,
    v: &VisitorForm,
    text: &str,
    state: &AppState,
) -> Result<Read, String> {
    let m = mrz::parse(text, state.today()).map_err(|e| e.to_string())?;
    let known = lists
        .nationalities()
        .iter()
        .any(|c| c.alpha3 == m.nationality);
    let mut form = v.clone();
    m.fill(&mut form, known);
    let warning = (!known).then(|| ("nationality", unknown_nationality(&m.nationality)));
    Ok(Read { form, warning })
}

/// Reads the pasted zones of the visitor blocks (only block `only` when given; every block
/// with a zone otherwise, as before a save): each read zone fills its block and is emptied; a
/// refused one stays as typed, its reason beside it.
pub async fn read_zones(
    state: &AppState,
    visitors: &mut [TypedVisitor],
    only: Option<usize>,
) -> Outcome<FieldErrors> {
    let mut errors = FieldErrors::new();
    if visitors.iter().all(|(_, v)| v.mrz.trim().is_empty()) && only.is_none() {
        return Ok(errors);
    }
    let lists = super::reference::lists(state).await?;
    for (i, (_, v)) in visitors.iter_mut().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let text = v.mrz.clone();
        if text.trim().is_empty() {
            if only.is_some() {
                errors.add(
                    &format!("v{i}_mrz"),
                    "请先粘贴护照机读区（护照首页底部以“P<”开头的两行）",
                );
            }
            continue;
        }
        match read_zone(&lists, v, &text, state) {
            Ok(read) => {
                *v = read.form;
                if let Some((field, message)) = read.warning {
                    errors.add(&format!("v{i}_{field}"), message);
                }
            }
            Err(message) => errors.add(&format!("v{i}_mrz"), message),
        }
    }
    Ok(errors)
}

/// The key of a sheet-level message (before any row).
pub const SHEET: &str = "sheet";

/// The visitors of an uploaded sheet (its cells as text, the header row first), each row
/// checked as the form checks a visitor (against `trip`'s dates when importing into a saved
/// group): the rows, or every wrong cell named by row and column (keys sort by row, then
/// column; [`SHEET`] for the sheet as a whole). Nothing is saved either way.
pub async fn import(
    state: &AppState,
    trip: &GroupForm,
    cells: &[Vec<String>],
) -> Outcome<Vec<Row>> {
    let refused = |message: String| {
        let mut e = FieldErrors::new();
        e.add(SHEET, message);
        Error::Invalid(e)
    };
    let (mut rows, at) = sheet::rows(cells).map_err(|e| refused(e.to_string()))?;
    let lists = super::reference::lists(state).await?;
    let nationalities: Vec<(&str, &str)> = lists
        .nationalities()
        .iter()
        .map(|c| (c.alpha3.as_str(), c.name_zh.as_str()))
        .collect();
    let countries: Vec<(&str, &str)> = lists
        .countries
        .iter()
        .map(|c| (c.alpha3.as_str(), c.name_zh.as_str()))
        .collect();
    let visas: Vec<(&str, &str)> = lists
        .visa_types
        .iter()
        .map(|c| (c.code.as_str(), c.name_zh.as_str()))
        .collect();
    let today = state.today();
    let trip_dates = Trip::of(trip);
    let mut errors = FieldErrors::new();
    // Where a message about `field` of row `number` goes: its cell, named.
    let cell = |number: usize, field: &str| {
        let column = at.iter().find(|(f, _)| *f == field).map(|(_, i)| *i);
        let key = format!("r{number:05}_{:03}", column.unwrap_or(999));
        let name = match column {
            Some(i) => format!(
                "第{number}行{}列“{}”",
                sheet::letter(i),
                sheet::header(field)
            ),
            None => format!("第{number}行“{}”", sheet::header(field)),
        };
        (key, name)
    };
    super::groups::with_choices(&lists, |choices| {
        for (i, row) in rows.iter_mut().enumerate() {
            let v = &mut row.form;
            v.sex = sheet::sex_code(&v.sex);
            v.birth_date = sheet::date_text(&v.birth_date);
            v.passport_expiry = sheet::date_text(&v.passport_expiry);
            v.nationality = sheet::choice(&v.nationality, &nationalities);
            v.employer_country = sheet::choice(&v.employer_country, &countries);
            v.visa_type = sheet::choice(&v.visa_type, &visas);
            if !v.mrz.trim().is_empty() {
                let text = v.mrz.clone();
                match read_zone(&lists, v, &text, state) {
                    Ok(read) => {
                        *v = read.form;
                        if let Some((field, message)) = read.warning {
                            let (key, name) = cell(row.number, field);
                            errors.add(&key, format!("{name}：{message}"));
                        }
                    }
                    Err(message) => {
                        let (key, name) = cell(row.number, "mrz");
                        errors.add(&key, format!("{name}：{message}"));
                        continue;
                    }
                }
            }
            let mut e = FieldErrors::new();
            v.validate(i, choices, &trip_dates, today, &mut e);
            let prefix = format!("v{i}_");
            for (k, message) in e.iter() {
                let field = k.strip_prefix(&prefix).unwrap_or(k);
                // A visa type left blank takes the purpose's default on the form.
                if field == "visa_type" && v.visa_type.trim().is_empty() {
                    continue;
                }
                let (key, name) = cell(row.number, field);
                errors.add(&key, format!("{name}：{message}"));
            }
        }
    });
    // The same passport twice in the sheet.
    for (i, r) in rows.iter().enumerate() {
        let no = r.form.passport_no.trim().to_uppercase();
        if no.is_empty() {
            continue;
        }
        if let Some(first) = rows[..i]
            .iter()
            .find(|o| o.form.passport_no.trim().to_uppercase() == no)
        {
            let (key, name) = cell(r.number, "passport_no");
            errors.add(
                &key,
                format!("{name}：与第{}行的护照号码重复", first.number),
            );
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(rows)
}

/// The rows of a sheet in groups of at most five (an invitation names five visitors at most).
pub fn in_groups(rows: Vec<Row>) -> Vec<Vec<Row>> {
    let mut out: Vec<Vec<Row>> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last.len() < MAX_VISITORS => last.push(r),
            _ => out.push(vec![r]),
        }
    }
    out
}

/// The visitor blocks of a group filled from `rows`: a visitor the group has already (the
/// same passport number) keeps its row, and with it its scans.
pub fn fill_blocks(saved: &[TypedVisitor], rows: &[VisitorForm]) -> Vec<TypedVisitor> {
    rows.iter()
        .map(|form| {
            let id = saved
                .iter()
                .find(|(_, s)| {
                    !s.passport_no.trim().is_empty()
                        && s.passport_no
                            .trim()
                            .eq_ignore_ascii_case(form.passport_no.trim())
                })
                .and_then(|(id, _)| *id);
            (id, form.clone())
        })
        .collect()
}
