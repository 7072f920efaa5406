//! The fields of issue 16: 团组人数, 在华日程 (with 添加日程), and per visitor 拟申请签证种类
//! (defaulted from the purpose), 停留期限（天） and the employer's country, city and address —
//! on the form with their messages, on the record pages, the printed form (PDF and HTML with
//! one declaration), the exports, and for groups saved before they existed.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

/// The form without its button, with `changes` applied (keys missing from the standard form
/// are added).
async fn form_with(app: &TestApp, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = group_fields(app, 2)
        .await
        .into_iter()
        .filter(|(k, _)| k != "action")
        .collect();
    for (k, v) in changes {
        if f.iter().any(|(x, _)| x == k) {
            set(&mut f, k, v);
        } else {
            f.push((k.to_string(), v.to_string()));
        }
    }
    f
}

fn with_action(mut f: Vec<(String, String)>, action: &str) -> Vec<(String, String)> {
    f.push(("action".into(), action.into()));
    f
}

async fn groups_count(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM invitation_groups").await
}

async fn itinerary_of(app: &TestApp, id: i64) -> Vec<(i64, String, String)> {
    sqlx::query_as("SELECT seq, day, city FROM group_itinerary WHERE group_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(app.state.pool())
        .await
        .unwrap()
}

/// The bytes the print button returns and their content type.
async fn print_bytes(c: &Client, path: &str) -> (String, Vec<u8>) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", c.base))
        .header("cookie", c.cookie_header())
        .form(&[("csrf", c.csrf())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (ctype, resp.bytes().await.unwrap().to_vec())
}

/// The text of a PDF as pdftotext reads it (None without poppler).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("laihua-fields-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("form.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", file.to_str().unwrap(), "-"])
        .output()
        .ok();
    std::fs::remove_dir_all(&dir).ok();
    let out = out.filter(|o| o.status.success())?;
    Some(String::from_utf8(out.stdout).unwrap())
}

#[tokio::test]
async fn the_form_offers_the_new_fields_adds_itinerary_rows_and_saves_them_sorted() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 81, "天宁区", "tianning").await;
    let form = c.get("/groups/form").await;
    form.assert_ok()
        .assert_has("团组人数")
        .assert_has("在华日程")
        .assert_has("aria-label=\"日程1 日期\"")
        .assert_has("aria-label=\"日程1 城市\"")
        .assert_has("aria-label=\"日程1 活动内容\"")
        .assert_has("aria-label=\"日程1 接待单位\"")
        .assert_has(">添加日程</button>")
        .assert_has("拟申请签证种类")
        .assert_has("M（商贸）")
        .assert_has("F（交流、访问、考察）")
        .assert_has("停留期限（天）")
        .assert_has("一次入境不超过180天，多次入境每次不超过90天")
        .assert_has("工作单位所在国家（地区）")
        .assert_has("工作单位所在城市")
        .assert_has("工作单位地址")
        .assert_has(">工作单位 <em>*</em></label>")
        .assert_has("data-visa=\"M\"");

    // 添加日程: one more blank row, what was typed kept, nothing saved.
    let f = form_with(&app, &[("t0_city", "无锡")]).await;
    let added = c
        .post("/groups", &refs(&with_action(f, "add_itinerary")))
        .await;
    added
        .assert_ok()
        .assert_has("aria-label=\"日程2 日期\"")
        .assert_lacks("aria-label=\"日程3 日期\"")
        .assert_lacks("未保存");
    assert_eq!(added.input_value("t0_city").unwrap(), "无锡");
    assert_eq!(added.input_value("t1_city").unwrap(), "");
    assert_eq!(added.input_value("v1_employer_city").unwrap(), "New York");
    assert_eq!(groups_count(&app).await, 0);

    // Saved: rows sorted by date, blank rows ignored, the visa type defaulted from the
    // purpose (商务洽谈 → M) when the clerk left it empty.
    let f = form_with(
        &app,
        &[
            ("t0_date", &date_in(&app, 66)),
            ("t0_city", "苏州"),
            ("t1_date", ""),
            ("t1_city", ""),
            ("t1_activity", ""),
            ("t1_host", ""),
            ("t2_date", &date_in(&app, 60)),
            ("t2_city", "上海"),
            ("t2_activity", "抵达"),
            ("t2_host", "常州某公司"),
            ("size", "12"),
            ("v0_visa_type", ""),
            ("v1_visa_type", "F"),
            ("v0_employer_country", "HKG"),
        ],
    )
    .await;
    let saved = c.post("/groups", &refs(&with_action(f, "save"))).await;
    saved.assert_redirect("/groups/");
    let id = group_id_in(&saved.location);
    let rows = itinerary_of(&app, id).await;
    assert_eq!(
        rows,
        vec![
            (1, date_in(&app, 60), "上海".to_string()),
            (2, date_in(&app, 66), "苏州".to_string()),
        ]
    );
    let visas: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT visa_type, stay_days, employer_country, employer_city FROM group_visitors
         WHERE group_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(app.state.pool())
    .await
    .unwrap();
    assert_eq!(visas[0], ("M".into(), 30, "HKG".into(), "New York".into()));
    assert_eq!(visas[1].0, "F");
    assert_eq!(
        app.scalar(&format!(
            "SELECT group_size FROM invitation_groups WHERE id = {id}"
        ))
        .await,
        12
    );
    // The form shows them again, the visa types selected.
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_ok()
        .assert_has("<option value=\"M\" selected>M（商贸）</option>")
        .assert_has("<option value=\"F\" selected>F（交流、访问、考察）</option>")
        // (with its type-to-find keys: pinyin initials, full pinyin, ISO code, English name)
        .assert_has("<option value=\"HKG\" data-keys=\"zgxg zhongguoxianggang hkg hongkong,china\" selected>");
    assert_eq!(page.input_value("size").unwrap(), "12");
    assert_eq!(page.input_value("t0_city").unwrap(), "上海");
    assert_eq!(page.input_value("t1_city").unwrap(), "苏州");

    // An audit entry of the save, as before.
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'group.create'")
            .await
            >= 1
    );
}

/// Changes to the form, the field whose message is expected, and the message.
type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[tokio::test]
async fn bad_field_input_is_refused_beside_the_field_and_nothing_saved() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 82, "天宁区", "tianning").await;
    c.get("/groups/form").await;
    let before = date_in(&app, 59);
    let after = date_in(&app, 71);
    let cases: Vec<Case> = vec![
        (
            vec![("size", "1")],
            "size",
            "团组人数不能少于本表填写的到访人员人数（2人）",
        ),
        (
            vec![("size", "1000")],
            "size",
            "团组人数应为1至999之间的整数",
        ),
        (vec![("size", "")], "size", "请填写团组人数"),
        (
            vec![("size", "abc")],
            "size",
            "团组人数应为1至999之间的整数",
        ),
        (
            vec![
                ("t0_date", ""),
                ("t0_city", ""),
                ("t0_activity", ""),
                ("t0_host", ""),
            ],
            "itinerary",
            "请至少填写一行在华日程",
        ),
        (
            vec![("t0_date", &before)],
            "t0_date",
            "日程1的日期早于计划入境日期",
        ),
        (
            vec![("t0_date", &after)],
            "t0_date",
            "日程1的日期晚于计划出境日期",
        ),
        (
            vec![("t0_date", "2027-13-01")],
            "t0_date",
            "请填写日程1的日期",
        ),
        (vec![("t0_city", " ")], "t0_city", "请填写日程1的城市"),
        (
            vec![("t0_activity", "")],
            "t0_activity",
            "请填写日程1的活动内容",
        ),
        (vec![("t0_host", "")], "t0_host", "请填写日程1的接待单位"),
        (
            vec![("v0_stay_days", "181")],
            "v0_stay_days",
            "一次入境停留不能超过180天",
        ),
        (
            vec![("v0_stay_days", "0")],
            "v0_stay_days",
            "停留期限至少为1天",
        ),
        (
            vec![("v0_stay_days", "")],
            "v0_stay_days",
            "请填写停留期限（天）",
        ),
        (
            vec![("v1_stay_days", "5")],
            "v1_stay_days",
            "停留期限短于计划在华天数（11天",
        ),
        (
            vec![
                ("entry_type", "half_year"),
                ("ground", "entries_5"),
                ("v0_stay_days", "91"),
            ],
            "v0_stay_days",
            "多次入境每次停留不能超过90天",
        ),
        (
            vec![("v0_visa_type", "Q9")],
            "v0_visa_type",
            "请选择拟申请签证种类",
        ),
        // No default for 其他: the clerk must choose.
        (
            vec![("purpose", "other"), ("v1_visa_type", "")],
            "v1_visa_type",
            "请选择拟申请签证种类",
        ),
        (
            vec![("v0_employer_country", "XYZ")],
            "v0_employer_country",
            "请选择工作单位所在国家（地区）",
        ),
        (
            vec![("v1_employer_city", "")],
            "v1_employer_city",
            "请填写工作单位所在城市",
        ),
        (
            vec![("v0_employer_address", "")],
            "v0_employer_address",
            "请填写工作单位地址",
        ),
    ];
    for (changes, field, msg) in cases {
        let f = form_with(&app, &changes).await;
        let p = c.post("/groups", &refs(&with_action(f, "save"))).await;
        p.assert_ok().assert_has("未保存");
        // The message is beside its field (in the same field block or row).
        let at = p.body.find(msg).unwrap_or_else(|| {
            panic!("{field}: {msg:?} not in the page:\n{}", p.body);
        });
        if field != "itinerary" {
            let name = format!("name=\"{field}\"");
            let input = p.body.find(&name).unwrap_or_else(|| panic!("{name}"));
            let rest = &p.body[input..];
            let next = ["<div class=\"field", "<td class=\"field"]
                .iter()
                .filter_map(|m| rest.find(m))
                .min()
                .unwrap_or(rest.len());
            assert!(
                input < at && at < input + next,
                "{field}: message not beside the field"
            );
        }
        // Typed values are kept.
        if let Some((k, v)) = changes.iter().find(|(k, _)| !k.contains("visa_type")) {
            if !["entry_type", "ground", "purpose", "v0_employer_country"].contains(k) {
                assert_eq!(p.input_value(k).unwrap(), *v, "{k} kept");
            }
        }
        assert_eq!(groups_count(&app).await, 0, "{field}");
        assert_eq!(app.scalar("SELECT COUNT(*) FROM group_itinerary").await, 0);
    }
    // A row posted by hand far beyond the limit is not read.
    let f = form_with(
        &app,
        &[
            ("t9999_date", &date_in(&app, 61)),
            ("t9999_city", "x"),
            ("t9999_activity", "x"),
            ("t9999_host", "x"),
        ],
    )
    .await;
    let p = c.post("/groups", &refs(&with_action(f, "save"))).await;
    p.assert_redirect("/groups/");
    assert_eq!(itinerary_of(&app, group_id_in(&p.location)).await.len(), 1);
}

#[tokio::test]
async fn record_pages_print_and_exports_carry_the_new_fields() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 83, "天宁区", "tianning").await;
    let arrival = date_in(&app, 60);
    let id = submitted_group(
        &app,
        &c,
        2,
        &[
            ("size", "7"),
            ("t0_date", &arrival),
            ("t0_city", "常州武进"),
            ("t0_activity", "参观智能装备生产线"),
            ("t0_host", "常州某某科技有限公司"),
            ("v1_employer_address", "500 Fifth Avenue, Suite 12"),
            ("v1_stay_days", "45"),
        ],
    )
    .await;
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();

    // The unit's record and the county's.
    let record = c.get(&format!("/groups/{id}")).await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let review = county.get(&format!("/review/groups/{id}")).await;
    for page in [&record, &review] {
        page.assert_ok()
            .assert_has("团组人数")
            .assert_has("7人")
            .assert_has("在华日程")
            .assert_has("常州武进")
            .assert_has("参观智能装备生产线")
            .assert_has("常州某某科技有限公司")
            .assert_has("拟申请签证种类")
            .assert_has("M（商贸）")
            .assert_has("停留期限（天）")
            .assert_has("<td data-label=\"停留期限（天）\">45</td>")
            .assert_has("工作单位所在国家（地区）")
            .assert_has("500 Fifth Avenue, Suite 12");
    }

    // The printed form: a PDF with these fields and the declaration, or (without a Chinese
    // font) the same form as HTML.
    let (ctype, bytes) = print_bytes(&c, &format!("/groups/{id}/print")).await;
    let wanted = [
        "团组人数",
        "在华日程",
        "常州武进",
        "拟申请签证种类",
        "M（商贸）",
        "停留期限（天）",
        "工作单位所在国家（地区）",
        "申请单位声明",
    ];
    let declaration = laihua::pdf::DECLARATION;
    if ctype.starts_with("application/pdf") {
        if let Some(text) = pdf_text(&bytes) {
            let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            for w in wanted {
                assert!(flat.contains(w), "{w:?} not in the PDF:\n{text}");
            }
            let start: String = declaration.chars().take(20).collect();
            assert!(flat.contains(&start), "declaration not in the PDF:\n{text}");
            assert!(flat.contains(&number));
        }
    } else {
        let html = String::from_utf8(bytes).unwrap();
        for w in wanted {
            assert!(html.contains(w), "{w:?} not in the HTML print");
        }
        assert!(html.contains(declaration));
    }

    // The county's export: the visitors' and the itinerary's sheets.
    let sheets = export(&county, "/review/groups?format=xlsx").await;
    let groups = &sheets.iter().find(|s| s.0 == "团组待办").unwrap().1;
    let col = groups[0].iter().position(|h| h == "团组人数").unwrap();
    assert_eq!(groups[1][col], "7");
    let visitors = &sheets.iter().find(|s| s.0 == "到访人员").unwrap().1;
    assert_eq!(visitors.len(), 3, "{visitors:?}");
    let head = &visitors[0];
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    assert_eq!(visitors[1][at("团组编号")], number);
    assert_eq!(visitors[1][at("拟申请签证种类")], "M（商贸）");
    assert_eq!(visitors[2][at("停留期限（天）")], "45");
    assert_eq!(
        visitors[2][at("工作单位地址")],
        "500 Fifth Avenue, Suite 12"
    );
    assert_eq!(visitors[2][at("工作单位所在国家（地区）")], "美国");
    let plan = &sheets.iter().find(|s| s.0 == "在华日程").unwrap().1;
    assert_eq!(plan.len(), 2);
    assert_eq!(plan[1][0], number);
    assert_eq!(plan[1][2], arrival);
    assert_eq!(plan[1][3], "常州武进");
}

#[tokio::test]
async fn a_group_saved_before_the_fields_existed_shows_prints_and_asks_for_them_on_edit() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 84, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    // As migration 0017 leaves a group saved before it.
    for sql in [
        format!("UPDATE invitation_groups SET group_size = NULL WHERE id = {id}"),
        format!("DELETE FROM group_itinerary WHERE group_id = {id}"),
        format!(
            "UPDATE group_visitors SET visa_type = '', stay_days = NULL, employer_country = '',
                employer_city = '', employer_address = '' WHERE group_id = {id}"
        ),
    ] {
        sqlx::query(&sql).execute(app.state.pool()).await.unwrap();
    }
    // Its form opens with one blank itinerary row and the visa type defaulted.
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_ok()
        .assert_has("aria-label=\"日程1 日期\"")
        .assert_has("<option value=\"M\" selected>");
    assert_eq!(page.input_value("size").unwrap(), "");
    // It prints (blank cells).
    let (_ctype, bytes) = print_bytes(&c, &format!("/groups/{id}/print")).await;
    assert!(!bytes.is_empty());
    // Saving it as it is asks for what is missing.
    let mut f: Vec<(String, String)> = group_fields(&app, 1)
        .await
        .into_iter()
        .filter(|(k, _)| {
            !(k == "size"
                || k.starts_with("t0_")
                || k.ends_with("stay_days")
                || k.contains("employer_"))
        })
        .collect();
    f.push(("v0_id".into(), visitor_ids(&app, id).await[0].to_string()));
    let p = c.post(&format!("/groups/{id}"), &refs(&f)).await;
    p.assert_ok()
        .assert_has("未保存")
        .assert_has("请填写团组人数")
        .assert_has("请至少填写一行在华日程")
        .assert_has("请填写停留期限（天）")
        .assert_has("请填写工作单位所在城市");

    // The record of an old submitted group says what was not asked.
    let old = submitted_group(&app, &c, 1, &[]).await;
    for sql in [
        format!("UPDATE invitation_groups SET group_size = NULL WHERE id = {old}"),
        format!("DELETE FROM group_itinerary WHERE group_id = {old}"),
        format!(
            "UPDATE group_visitors SET visa_type = '', stay_days = NULL WHERE group_id = {old}"
        ),
    ] {
        sqlx::query(&sql).execute(app.state.pool()).await.unwrap();
    }
    c.get(&format!("/groups/{old}"))
        .await
        .assert_ok()
        .assert_has("未填写（本团组申报时尚无此项）")
        .assert_has("未填写");
    let (_ctype, bytes) = print_bytes(&c, &format!("/groups/{old}/print")).await;
    assert!(!bytes.is_empty());
}

#[tokio::test]
async fn two_saves_at_once_leave_the_itinerary_of_one_of_them() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 85, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    c.get(&format!("/groups/{id}")).await;
    let vid = visitor_ids(&app, id).await[0].to_string();
    let mut a = group_fields(&app, 1).await;
    a.push(("v0_id".into(), vid.clone()));
    set(&mut a, "t0_city", "甲城");
    let mut b = group_fields(&app, 1).await;
    b.push(("v0_id".into(), vid));
    set(&mut b, "t0_city", "乙城");
    for (i, day) in [62, 63, 64].iter().enumerate() {
        let n = i + 1;
        b.push((format!("t{n}_date"), date_in(&app, *day)));
        b.push((format!("t{n}_city"), "乙城".into()));
        b.push((format!("t{n}_activity"), "交流".into()));
        b.push((format!("t{n}_host"), "常州某公司".into()));
    }
    let path = format!("/groups/{id}");
    let (ra, rb) = (refs(&a), refs(&b));
    let (pa, pb) = tokio::join!(c.post(&path, &ra), c.post(&path, &rb));
    pa.assert_redirect(&path);
    pb.assert_redirect(&path);
    let rows = itinerary_of(&app, id).await;
    let cities: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(
        cities == vec!["甲城"] || cities == vec!["乙城"; 4],
        "a mix of both saves: {cities:?}"
    );
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn visa_types_are_reference_data_the_administrator_edits() {
    let app = TestApp::spawn().await;
    let a = app.client();
    a.login("demoadmin", DEMO_PASSWORD).await;
    a.get("/admin/refdata")
        .await
        .assert_ok()
        .assert_has("拟申请签证种类");
    a.get("/admin/refdata/visa_types")
        .await
        .assert_ok()
        .assert_has("商贸")
        .assert_has("交流、访问、考察");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM codes WHERE kind = 'visa_type'")
            .await,
        6
    );
}
