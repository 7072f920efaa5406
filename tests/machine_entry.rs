//! Issue 19: machine entry of visitors on the group form: the passport's machine-readable zone
//! (with the button, without script; and the JSON the page's script asks), and the visitors'
//! spreadsheet (template and import).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// The group form with visitor 0's passport fields blank and `mrz` pasted, and `action`.
async fn form_with_zone(app: &TestApp, mrz: &str, action: &str) -> Vec<(String, String)> {
    let mut f = group_fields(app, 1).await;
    for k in [
        "surname",
        "given_name",
        "sex",
        "birth_date",
        "nationality",
        "passport_no",
        "passport_expiry",
    ] {
        set(&mut f, &format!("v0_{k}"), "");
    }
    f.push(("v0_mrz".into(), mrz.into()));
    set(&mut f, "action", action);
    f
}

fn selected(page: &Page, select: &str) -> Option<String> {
    let at = page.body.find(&format!("name=\"{select}\""))?;
    let rest = &page.body[at..];
    let end = rest.find("</select>")?;
    let options = &rest[..end];
    let sel = options.find(" selected")?;
    let before = &options[..sel];
    let v = before.rfind("value=\"")?;
    Some(before[v + 7..].split('"').next()?.to_string())
}

#[tokio::test]
async fn a_pasted_zone_fills_the_visitor_and_a_wrong_digit_is_named() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1961, "天宁区", "tianning").await;
    unit.get("/groups/form").await.assert_ok();
    let groups_before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;

    // A German passport (ICAO code D), pasted with the reader's line break; 【读取机读区】.
    let de = zone(
        "D",
        "MUELLER<<ANNA<LENA",
        "C01X00T47",
        "850312",
        'F',
        "340601",
    );
    let page = unit
        .post("/groups", &refs(&form_with_zone(&app, &de, "mrz_0").await))
        .await;
    page.assert_ok();
    assert_eq!(page.input_value("v0_surname").as_deref(), Some("MUELLER"));
    assert_eq!(
        page.input_value("v0_given_name").as_deref(),
        Some("ANNA LENA")
    );
    assert_eq!(
        page.input_value("v0_passport_no").as_deref(),
        Some("C01X00T47")
    );
    assert_eq!(
        page.input_value("v0_birth_date").as_deref(),
        Some("1985-03-12")
    );
    assert_eq!(
        page.input_value("v0_passport_expiry").as_deref(),
        Some("2034-06-01")
    );
    assert_eq!(selected(&page, "v0_nationality").as_deref(), Some("DEU"));
    assert_eq!(selected(&page, "v0_sex").as_deref(), Some("F"));
    // The other typed fields are kept; nothing was saved by reading.
    assert_eq!(
        page.input_value("v0_employer").as_deref(),
        Some("ACME Corp.")
    );
    assert_eq!(
        page.input_value("name").as_deref(),
        Some("美国客户技术交流团")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups_before
    );

    // One digit of the passport number changed: the check digit is named, the zone kept, the
    // fields untouched.
    let wrong = de.replacen("C01X00T47", "C01X00T48", 1);
    let page = unit
        .post(
            "/groups",
            &refs(&form_with_zone(&app, &wrong, "mrz_0").await),
        )
        .await;
    page.assert_ok().assert_has("护照号码校验位不符");
    assert!(page.body.contains("C01X00T48"), "the zone as typed is kept");
    assert_eq!(page.input_value("v0_passport_no").as_deref(), Some(""));
    // The birth date's digit, and the composite.
    let l2_birth = de.replacen("850312", "850313", 1);
    let page = unit
        .post(
            "/groups",
            &refs(&form_with_zone(&app, &l2_birth, "mrz_0").await),
        )
        .await;
    page.assert_has("出生日期校验位不符");
    let composite = format!(
        "{}{}",
        &de[..de.len() - 1],
        if de.ends_with('0') { '1' } else { '0' }
    );
    let page = unit
        .post(
            "/groups",
            &refs(&form_with_zone(&app, &composite, "mrz_0").await),
        )
        .await;
    page.assert_has("机读区总校验位不符");

    // Pasted and saved at once: read before the save, and the group saved with it.
    let gb = zone("GBD", "O<BRIEN<<SEAN", "925076473", "790115", 'M', "300228");
    let saved = unit
        .post("/groups", &refs(&form_with_zone(&app, &gb, "save").await))
        .await;
    saved.assert_redirect("/groups/");
    let id = group_id_in(&saved.location);
    let page = unit.get(&format!("/groups/{id}")).await;
    assert_eq!(
        page.input_value("v0_passport_no").as_deref(),
        Some("925076473")
    );
    assert_eq!(page.input_value("v0_surname").as_deref(), Some("O BRIEN"));
    // A British dependent territories citizen's code maps to the reference list's GBR.
    assert_eq!(selected(&page, "v0_nationality").as_deref(), Some("GBR"));

    // A wrong zone on save: nothing saved, the reason beside it.
    let before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let page = unit
        .post(
            "/groups",
            &refs(&form_with_zone(&app, &wrong, "save").await),
        )
        .await;
    page.assert_ok().assert_has("护照号码校验位不符");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        before
    );
}

#[tokio::test]
async fn the_pages_script_reads_a_zone_as_json_and_other_roles_may_not() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1962, "天宁区", "tianning").await;
    unit.get("/groups/form").await.assert_ok();
    let jp = zone(
        "JPN",
        "TANAKA<<HANAKO",
        "TR1234567",
        "920704",
        'F',
        "310915",
    );
    let page = unit.post("/groups/mrz", &[("mrz", jp.as_str())]).await;
    page.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(v["ok"], true);
    let fields: std::collections::BTreeMap<String, String> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    assert_eq!(fields["passport_no"], "TR1234567");
    assert_eq!(fields["nationality"], "JPN");
    assert_eq!(fields["birth_date"], "1992-07-04");
    // A code not in the reference list (Utopia): read, the nationality left to the clerk.
    let utopia = zone(
        "UTO",
        "ERIKSSON<<ANNA<MARIA",
        "L898902C3",
        "740812",
        'F',
        "320415",
    );
    let v: serde_json::Value = serde_json::from_str(
        &unit
            .post("/groups/mrz", &[("mrz", utopia.as_str())])
            .await
            .body,
    )
    .unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["warning"][1].as_str().unwrap().contains("UTO"), "{v}");
    // Refused, with the reason.
    let v: serde_json::Value = serde_json::from_str(
        &unit
            .post(
                "/groups/mrz",
                &[("mrz", &jp.replacen("TR1234567", "TR1234568", 1))],
            )
            .await
            .body,
    )
    .unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("护照号码校验位不符"));
    // A county clerk is not an applicant.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get("/home").await;
    let resp = county.post("/groups/mrz", &[("mrz", jp.as_str())]).await;
    assert_eq!(resp.status, 403);
}

// ---- the visitors' spreadsheet ----

const HEADERS: [&str; 15] = [
    "姓",
    "名",
    "性别",
    "出生日期",
    "国籍",
    "护照号码",
    "护照有效期至",
    "工作单位",
    "职务",
    "工作单位所在国家（地区）",
    "工作单位所在城市",
    "工作单位地址",
    "拟申请签证种类",
    "停留期限（天）",
    "护照机读区",
];

/// A visitor's row as a clerk fills the template (text cells; dates as typed).
fn row(n: usize, nationality: &str) -> Vec<String> {
    [
        "SMITH",
        &format!("JOHN{n}"),
        "男",
        "1980-05-05",
        nationality,
        &format!("E{:07}", 5000 + n),
        "2035-01-31",
        "ACME Corp.",
        "Engineer",
        "美国（USA）",
        "New York",
        "1 Main Street",
        "",
        "30",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// An .xlsx of `rows` under `headers`, on a sheet named `到访人员`; the birth date of the
/// first row written as a real Excel date (as Excel stores a typed date).
fn workbook(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("到访人员").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, cells) in rows.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            let (row, col) = (r as u32 + 1, c as u16);
            if r == 0 && headers[c] == "出生日期" && v.len() == 10 {
                let d = ExcelDateTime::parse_from_str(v).unwrap();
                ws.write_datetime_with_format(row, col, &d, &date).unwrap();
            } else if headers[c] == "停留期限（天）" && !v.is_empty() {
                ws.write_number(row, col, v.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                ws.write_string(row, col, v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn the_template_offers_the_lists_and_a_good_sheet_fills_the_form() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1963, "天宁区", "tianning").await;
    let form = unit.get("/groups/form").await;
    form.assert_ok()
        .assert_has("/groups/visitors.xlsx")
        .assert_has("导入到访人员");

    // The template: the form's labels as its header row, the lists behind its drop-downs.
    let sheets = export(&unit, "/groups/visitors.xlsx").await;
    let (name, rows) = &sheets[0];
    assert_eq!(name, "到访人员");
    assert_eq!(
        rows[0],
        HEADERS.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    let lists = sheets.iter().find(|(n, _)| n == "列表").unwrap();
    assert!(
        lists.1.iter().any(|r| r[0] == "德国（DEU）"),
        "nationalities listed"
    );
    assert!(lists
        .1
        .iter()
        .any(|r| r.get(2).is_some_and(|v| v.ends_with("（M）"))));
    assert!(sheets.iter().any(|(n, _)| n == "填写说明"));

    // Two visitors, columns in another order (the unit's own copy), nationality as a name.
    let mut headers = HEADERS.to_vec();
    headers.swap(0, 5);
    let mut a = row(1, "德国（DEU）");
    a.swap(0, 5);
    let mut b = row(2, "日本");
    b.swap(0, 5);
    let before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let page = unit
        .upload("/groups/import", "名单.xlsx", workbook(&headers, &[a, b]))
        .await;
    page.assert_ok().assert_has("已从电子表格读入2名到访人员");
    assert_eq!(
        page.input_value("v0_passport_no").as_deref(),
        Some("E0005001")
    );
    assert_eq!(
        page.input_value("v0_birth_date").as_deref(),
        Some("1980-05-05")
    );
    assert_eq!(page.input_value("v1_given_name").as_deref(), Some("JOHN2"));
    assert_eq!(page.input_value("v1_stay_days").as_deref(), Some("30"));
    assert_eq!(selected(&page, "v0_nationality").as_deref(), Some("DEU"));
    assert_eq!(selected(&page, "v1_nationality").as_deref(), Some("JPN"));
    assert_eq!(selected(&page, "v0_sex").as_deref(), Some("M"));
    assert_eq!(
        selected(&page, "v0_employer_country").as_deref(),
        Some("USA")
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        before,
        "an import saves nothing"
    );

    // Into a saved group: a visitor it has already (same passport) keeps its row.
    let id = saved_group(&app, &unit, 1).await;
    let kept = visitor_ids(&app, id).await[0];
    let page = unit.get(&format!("/groups/{id}")).await;
    let own = page.input_value("v0_passport_no").unwrap();
    let mut again = row(1, "USA");
    again[5] = own.clone();
    let page = unit
        .upload(
            &format!("/groups/{id}/import"),
            "名单.xlsx",
            workbook(&HEADERS, &[again, row(3, "USA")]),
        )
        .await;
    page.assert_ok().assert_has("已从电子表格读入2名到访人员");
    assert_eq!(
        page.input_value("v0_id").as_deref(),
        Some(kept.to_string().as_str())
    );
    assert_eq!(page.input_value("v1_id"), None);
    // Saved as typed, by the form's own 【保存】.
    let mut f = group_fields(&app, 0).await;
    f.retain(|(k, _)| !k.starts_with('v'));
    for i in 0..2 {
        for k in [
            "id",
            "surname",
            "given_name",
            "birth_date",
            "passport_no",
            "passport_expiry",
            "employer",
            "position",
            "stay_days",
            "employer_city",
            "employer_address",
        ] {
            if let Some(v) = page.input_value(&format!("v{i}_{k}")) {
                f.push((format!("v{i}_{k}"), v));
            }
        }
        for k in ["sex", "nationality", "employer_country", "visa_type"] {
            f.push((
                format!("v{i}_{k}"),
                selected(&page, &format!("v{i}_{k}")).unwrap_or_default(),
            ));
        }
    }
    set(&mut f, "size", "2");
    let saved = unit.post(&format!("/groups/{id}"), &refs(&f)).await;
    saved.assert_redirect(&format!("/groups/{id}"));
    let ids = visitor_ids(&app, id).await;
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&kept));
}

#[tokio::test]
async fn a_wrong_sheet_names_every_wrong_cell_and_fills_nothing() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1964, "天宁区", "tianning").await;
    unit.get("/groups/form").await.assert_ok();
    let mut bad_sex = row(1, "USA");
    bad_sex[2] = "未知".into();
    let mut bad_date = row(2, "USA");
    bad_date[3] = "1980-13-45".into();
    let mut bad_nat = row(3, "火星");
    bad_nat[13] = "".into();
    let dup = row(1, "USA");
    let de = zone("D", "MUELLER<<ANNA", "C01X00T47", "850312", 'F', "340601");
    let mut bad_zone = row(5, "");
    bad_zone[14] = de.replacen("C01X00T47", "C01X00T48", 1);
    let page = unit
        .upload(
            "/groups/import",
            "名单.xlsx",
            workbook(
                &HEADERS,
                &[row(9, "USA"), bad_sex, bad_date, bad_nat, dup, bad_zone],
            ),
        )
        .await;
    page.assert_ok().assert_has("电子表格未导入");
    page.assert_has("第3行C列“性别”：请选择性别");
    page.assert_has("第4行D列“出生日期”");
    page.assert_has("第5行E列“国籍”：国籍必须在定义好的国籍中选择");
    page.assert_has("第5行N列“停留期限（天）”");
    page.assert_has("第6行F列“护照号码”：与第3行的护照号码重复");
    page.assert_has("第7行O列“护照机读区”：护照号码校验位不符");
    // Nothing filled from it: the blank form's visitor.
    assert_eq!(page.input_value("v0_passport_no").as_deref(), Some(""));
    assert!(!page.has("已从电子表格读入"));

    // Not a workbook, a sheet without a required column, an empty sheet.
    let page = unit.upload("/groups/import", "名单.xlsx", pdf("x")).await;
    page.assert_ok().assert_has("文件不是有效的Excel工作簿");
    let page = unit
        .upload("/groups/import", "名单.xlsx", workbook(&HEADERS[..4], &[]))
        .await;
    page.assert_has("表格缺少“国籍”列");
    let page = unit
        .upload("/groups/import", "名单.xlsx", workbook(&HEADERS, &[]))
        .await;
    page.assert_has("表格中没有到访人员");
    let page = unit.upload("/groups/import", "", Vec::new()).await;
    page.assert_has("请选择要导入的Excel文件");
}

#[tokio::test]
async fn more_than_five_rows_are_offered_as_several_groups() {
    let app = TestApp::spawn().await;
    let (_, unit) = approved_unit(&app, 1965, "天宁区", "tianning").await;
    unit.get("/groups/form").await.assert_ok();
    let rows: Vec<Vec<String>> = (1..=12).map(|n| row(n, "USA")).collect();
    let page = unit
        .upload("/groups/import", "名单.xlsx", workbook(&HEADERS, &rows))
        .await;
    page.assert_ok()
        .assert_has("表格中的12名到访人员均已核对无误")
        .assert_has("第1组（5人）")
        .assert_has("第3组（2人）")
        .assert_has("E0005012");
    // The third part's button: a new group's form with its two visitors.
    let part: Vec<(String, String)> = page
        .body
        .split("<form")
        .filter(|f| f.contains("（第3组）"))
        .flat_map(|f| {
            f.split("<input type=\"hidden\" name=\"")
                .skip(1)
                .filter_map(|s| {
                    let (name, rest) = s.split_once('"')?;
                    let value = rest.split("value=\"").nth(1)?.split('"').next()?;
                    Some((name.to_string(), value.to_string()))
                })
                .collect::<Vec<_>>()
        })
        .filter(|(k, _)| k != "csrf")
        .collect();
    assert!(!part.is_empty());
    let page = unit.post("/groups/fill", &refs(&part)).await;
    page.assert_ok().assert_has("已从电子表格读入2名到访人员");
    assert_eq!(page.input_value("v0_given_name").as_deref(), Some("JOHN11"));
    assert_eq!(page.input_value("v1_given_name").as_deref(), Some("JOHN12"));
    assert_eq!(page.input_value("v2_given_name"), None);
    // Another unit's group is not a place to fill.
    let (_, other) = approved_unit(&app, 1966, "天宁区", "tianning").await;
    let theirs = saved_group(&app, &other, 1).await;
    let resp = unit
        .post(&format!("/groups/{theirs}/fill"), &refs(&part))
        .await;
    assert_eq!(resp.status, 404);
    let resp = unit
        .upload(
            &format!("/groups/{theirs}/import"),
            "名单.xlsx",
            workbook(&HEADERS, &rows[..1]),
        )
        .await;
    assert_eq!(resp.status, 404);
}
