//! Issue 19: machine entry of visitors on the group form: the passport's machine-readable zone
//! (with the button, without script; and the JSON the page's script asks), and the visitors'
//! spreadsheet (template and import).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

/// The ICAO check digit (weights 7, 3, 1; letters A=10…Z=35; `<` = 0), written here again so
/// that the test does not lean on the code it tests.
fn digit(field: &str) -> char {
    let sum: u32 = field
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => 0,
            };
            v * [7, 3, 1][i % 3]
        })
        .sum();
    char::from_digit(sum % 10, 10).unwrap()
}

/// A TD3 zone (two lines of 44) with its check digits.
pub fn zone(state: &str, name: &str, number: &str, birth: &str, sex: char, expiry: &str) -> String {
    let l1 = format!("P<{state:<<3}{name:<<39}");
    let num = format!("{number:<<9}");
    let mut l2 = format!("{num}{}", digit(&num));
    l2.push_str(&format!("{state:<<3}{birth}{}", digit(birth)));
    l2.push(sex);
    l2.push_str(&format!("{expiry}{}", digit(expiry)));
    l2.push_str("<<<<<<<<<<<<<<<");
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push(digit(&composite));
    assert_eq!((l1.len(), l2.len()), (44, 44));
    format!("{l1}\n{l2}")
}

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
