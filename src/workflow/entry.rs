//! Machine entry of visitors (issue 19): the passport's machine-readable zone read into a
//! visitor's fields, and the visitors' spreadsheet (template and import). Nothing here saves:
//! what is read fills the group form, which is saved by [`super::groups::save`] with all its
//! rules; the API calls the same functions.

use super::error::Outcome;
use super::groups::TypedVisitor;
use crate::domain::fields::FieldErrors;
use crate::domain::group::VisitorForm;
use crate::domain::mrz;
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
