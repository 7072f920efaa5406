//! The visitors' spreadsheet (issue 19): one row per visitor under a header row whose column
//! names are the group form's labels. Columns are found by their header, so a unit may reorder
//! them or add its own; the cells are read as text (dates as `YYYY-MM-DD`).

use super::group::VisitorForm;

/// A column: the form's field and its header (the form's label).
pub struct Column {
    pub field: &'static str,
    pub header: &'static str,
    pub required: bool,
}

const fn col(field: &'static str, header: &'static str, required: bool) -> Column {
    Column {
        field,
        header,
        required,
    }
}

/// The template's columns, in its order.
pub const COLUMNS: [Column; 15] = [
    col("surname", "姓", false),
    col("given_name", "名", true),
    col("sex", "性别", true),
    col("birth_date", "出生日期", true),
    col("nationality", "国籍", true),
    col("passport_no", "护照号码", true),
    col("passport_expiry", "护照有效期至", true),
    col("employer", "工作单位", true),
    col("position", "职务", true),
    col("employer_country", "工作单位所在国家（地区）", true),
    col("employer_city", "工作单位所在城市", true),
    col("employer_address", "工作单位地址", true),
    col("visa_type", "拟申请签证种类", false),
    col("stay_days", "停留期限（天）", true),
    col("mrz", "护照机读区", false),
];

/// The most rows one upload may carry (a unit splits a larger list).
pub const MAX_ROWS: usize = 100;

/// The header of the column of `field`.
pub fn header(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

/// The letter of a zero-based column (A, B, …, Z, AA, …).
pub fn letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(char::from(b'A' + r as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// A header cell as a unit may have typed it: without spaces, the required mark or a hint in
/// brackets after the label.
fn header_key(cell: &str) -> String {
    let cell: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .collect();
    cell.replace('(', "（").replace(')', "）")
}

/// A row read from the sheet: its number as the spreadsheet shows it (from 1), and the form.
#[derive(Clone, Debug)]
pub struct Row {
    pub number: usize,
    pub form: VisitorForm,
}

/// Why a sheet was refused before its rows were checked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("表格中没有到访人员（第1行为列名，从第2行起每行一人）")]
    Empty,
    #[error("表格缺少“{0}”列，请下载本系统提供的模板填写")]
    MissingColumn(&'static str),
    #[error("表格最多{max}行到访人员（本表有{0}行），请分成几个表格导入", max = MAX_ROWS)]
    TooManyRows(usize),
}

/// Where each field is in a sheet: (field, zero-based column).
pub type Layout = Vec<(&'static str, usize)>;

/// The rows of a sheet (cells as text, the header first): blank rows skipped, each cell put in
/// its field by its column's header.
pub fn rows(cells: &[Vec<String>]) -> Result<(Vec<Row>, Layout), SheetError> {
    let Some((head, body)) = cells.split_first() else {
        return Err(SheetError::Empty);
    };
    let keys: Vec<String> = head.iter().map(|h| header_key(h)).collect();
    let mut at = Vec::new();
    for c in &COLUMNS {
        match keys.iter().position(|k| *k == c.header) {
            Some(i) => at.push((c.field, i)),
            None if c.required => return Err(SheetError::MissingColumn(c.header)),
            None => {}
        }
    }
    let mut out = Vec::new();
    for (i, line) in body.iter().enumerate() {
        if line.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |field: &str| {
            at.iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, i)| line.get(*i))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        out.push(Row {
            number: i + 2,
            form: VisitorForm {
                surname: cell("surname"),
                given_name: cell("given_name"),
                sex: cell("sex"),
                birth_date: cell("birth_date"),
                nationality: cell("nationality"),
                passport_no: cell("passport_no"),
                passport_expiry: cell("passport_expiry"),
                employer: cell("employer"),
                position: cell("position"),
                visa_type: cell("visa_type"),
                stay_days: cell("stay_days"),
                employer_country: cell("employer_country"),
                employer_city: cell("employer_city"),
                employer_address: cell("employer_address"),
                mrz: cell("mrz"),
            },
        });
    }
    if out.is_empty() {
        return Err(SheetError::Empty);
    }
    if out.len() > MAX_ROWS {
        return Err(SheetError::TooManyRows(out.len()));
    }
    Ok((out, at))
}

/// A sex as typed in a sheet (男/女, M/F) as the form's code; other text as it was.
pub fn sex_code(cell: &str) -> String {
    match cell.trim() {
        "男" | "M" | "m" => "M".into(),
        "女" | "F" | "f" => "F".into(),
        other => other.into(),
    }
}

/// The code of a choice as a sheet may give it: the code itself, `名称（CODE）` as the
/// template's drop-down offers it, `CODE（名称）`, or the name; `choices` are (code, name).
/// Text that is none of these is returned as it was (the form's check names it).
pub fn choice(cell: &str, choices: &[(&str, &str)]) -> String {
    let cell = cell.trim();
    let find = |t: &str| {
        let t = t.trim();
        choices
            .iter()
            .find(|(code, name)| code.eq_ignore_ascii_case(t) || *name == t)
            .map(|(code, _)| code.to_string())
    };
    let (outside, inside) = match cell.find(['（', '(']) {
        Some(open) => {
            let inner = cell[open..]
                .trim_start_matches(['（', '('])
                .trim_end_matches(['）', ')']);
            (&cell[..open], inner)
        }
        None => (cell, ""),
    };
    find(cell)
        .or_else(|| find(inside))
        .or_else(|| find(outside))
        .unwrap_or_else(|| cell.to_string())
}

/// A date typed as text in one of the shapes clerks use (2030-01-31, 2030/1/31, 2030.1.31,
/// 20300131) as `YYYY-MM-DD`; other text as it was (the form's check names it).
pub fn date_text(cell: &str) -> String {
    let cell = cell.trim();
    let parts: Vec<&str> = cell
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let parsed = match parts.as_slice() {
        [y, m, d] => (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()),
        [one] if one.len() == 8 => (
            one[0..4].parse::<i32>(),
            one[4..6].parse::<u32>(),
            one[6..8].parse::<u32>(),
        ),
        _ => return cell.to_string(),
    };
    match parsed {
        (Ok(y), Ok(m), Ok(d)) => chrono::NaiveDate::from_ymd_opt(y, m, d)
            .map(|d| d.to_string())
            .unwrap_or_else(|| cell.to_string()),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn columns_are_found_by_their_header_in_any_order() {
        let mut head: Vec<&str> = COLUMNS.iter().map(|c| c.header).collect();
        head.reverse();
        head[0] = "护照机读区（可选）";
        let mut cells = vec![s(&head)];
        let mut row = vec![""; head.len()];
        let at = |h: &str| head.iter().position(|x| *x == h).unwrap();
        row[at("名")] = "ANNA";
        row[at("护照号码")] = "C01X00T47";
        cells.push(s(&row));
        cells.push(s(&vec![""; head.len()]));
        cells.push(s(&row));
        let (rows, _) = rows(&cells).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, 2);
        assert_eq!(rows[1].number, 4, "blank rows are skipped, numbers kept");
        assert_eq!(rows[0].form.given_name, "ANNA");
        assert_eq!(rows[0].form.passport_no, "C01X00T47");
    }

    #[test]
    fn a_missing_column_or_an_empty_sheet_is_named() {
        assert_eq!(rows(&[]).unwrap_err(), SheetError::Empty);
        assert_eq!(
            rows(&[s(&["姓", "名"])]).unwrap_err(),
            SheetError::MissingColumn("性别")
        );
        let head: Vec<&str> = COLUMNS.iter().map(|c| c.header).collect();
        assert_eq!(rows(&[s(&head)]).unwrap_err(), SheetError::Empty);
    }

    #[test]
    fn cells_as_clerks_type_them() {
        assert_eq!(sex_code("女"), "F");
        let countries = [("DEU", "德国"), ("USA", "美国")];
        assert_eq!(choice("德国（DEU）", &countries), "DEU");
        assert_eq!(choice("deu", &countries), "DEU");
        assert_eq!(choice("美国", &countries), "USA");
        assert_eq!(choice("M(商务)", &[("M", "商务")]), "M");
        assert_eq!(choice("火星", &countries), "火星");
        assert_eq!(date_text("1985/3/12"), "1985-03-12");
        assert_eq!(date_text("19850312"), "1985-03-12");
        assert_eq!(date_text("1985年3月12日"), "1985-03-12");
        assert_eq!(date_text("next week"), "next week");
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
    }
}
