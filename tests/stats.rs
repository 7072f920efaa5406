//! 统计分析: groups and visitors by month, district, nationality, purpose and entry type,
//! processing times against the limit and overdue post-visit registrations, for a period; county
//! staff see their own district only.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

const DAY: i64 = 86_400;

/// The rows (body and footer) of the statistics table `key`, each cell's text.
fn table(page: &Page, key: &str) -> Vec<Vec<String>> {
    let start = page
        .body
        .find(&format!("<section class=\"stat\" id=\"{key}\">"))
        .unwrap_or_else(|| panic!("no table {key} in:\n{}", page.body));
    let rest = &page.body[start..];
    let tbody = rest.find("<tbody>").unwrap();
    let end = rest.find("</table>").unwrap();
    rest[tbody..end]
        .split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with('h'))
                .map(|c| {
                    let text = &c[c.find('>').unwrap() + 1..];
                    text[..text.find('<').unwrap_or(text.len())].to_string()
                })
                .collect()
        })
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row {first} in {rows:?}"))
}

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn figures_by_category_period_and_district_scope() {
    let app = TestApp::spawn().await;
    let (a, ca) = approved_unit(&app, 81, "天宁区", "tianning").await;
    let (b, cb) = approved_unit(&app, 82, "武进区", "wujin").await;

    // Fifty days before "today": a group of 武进区 that the period filter will leave out.
    submitted_group(
        &app,
        &cb,
        1,
        &[("purpose", "conference"), ("v0_nationality", "FRA")],
    )
    .await;
    app.clock().advance(40 * DAY);

    // Ten days before "today": 武进区's group of two Germans and an American, passed and
    // reported at once, dispatched only ten days later (over the 5-working-day limit).
    cb.login(&b.login, UNIT_PASSWORD).await;
    let g4 = submitted_group(
        &app,
        &cb,
        3,
        &[("v0_nationality", "DEU"), ("v1_nationality", "DEU")],
    )
    .await;
    let g4_submitted = date_in(&app, 0);
    review_to_reported(&app, g4, "wujin").await;
    app.clock().advance(10 * DAY);
    let today = date_in(&app, 0);

    // Today: 天宁区 has a dispatched group of two Americans (business, single entry), a group of
    // one Japanese waiting for the county (trade, half-year multiple) and a draft.
    ca.login(&a.login, UNIT_PASSWORD).await;
    let g1 = dispatched_group(&app, &ca, 2, "tianning").await;
    submitted_group(
        &app,
        &ca,
        1,
        &[
            ("purpose", "trade"),
            ("entry_type", "half_year"),
            ("ground", "entries_5"),
            ("v0_nationality", "JPN"),
        ],
    )
    .await;
    saved_group(&app, &ca, 4).await;
    dispatch(&app, g4).await;

    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    let from = date_in(&app, -15);
    let p = city.get(&format!("/stats?from={from}&to={today}")).await;
    p.assert_ok()
        .assert_has("统计范围：全市")
        .assert_has("<svg")
        .assert_has("role=\"img\"");
    assert_eq!(p.input_value("from").unwrap(), from);
    assert_eq!(p.input_value("to").unwrap(), today);

    // Three groups of six visitors in the period: not the early group, not the draft.
    let months = table(&p, "by_month");
    assert_eq!(months.last().unwrap(), &cells(&["合计", "3", "6"]));
    let districts = table(&p, "by_district");
    assert_eq!(row(&districts, "天宁区"), cells(&["天宁区", "2", "3"]));
    assert_eq!(row(&districts, "武进区"), cells(&["武进区", "1", "3"]));
    assert_eq!(row(&districts, "钟楼区"), cells(&["钟楼区", "0", "0"]));
    assert_eq!(districts.last().unwrap(), &cells(&["合计", "3", "6"]));
    let nat = table(&p, "by_nationality");
    assert_eq!(nat[0], cells(&["美国", "2", "3"]), "most visitors first");
    assert_eq!(row(&nat, "德国"), cells(&["德国", "1", "2"]));
    assert_eq!(row(&nat, "日本"), cells(&["日本", "1", "1"]));
    assert!(!p.has("法国"), "the early group is outside the period");
    let purposes = table(&p, "by_purpose");
    assert_eq!(purposes[0], cells(&["商务洽谈", "2", "5"]));
    assert_eq!(row(&purposes, "经贸交流"), cells(&["经贸交流", "1", "1"]));
    assert!(!p.has("参加会议"));
    let entry = table(&p, "by_entry_type");
    assert_eq!(
        entry,
        vec![
            cells(&["一次（3个月有效）", "2", "5"]),
            cells(&["半年多次", "1", "1"]),
            cells(&["一年多次", "0", "0"]),
            cells(&["合计", "3", "6"]),
        ]
    );
    // Processing: 天宁区's group the same day, 武进区's after ten calendar days.
    let late_days = laihua::domain::group::working_days_between(
        laihua::domain::group::parse_date(&g4_submitted).unwrap(),
        laihua::domain::group::parse_date(&today).unwrap(),
        &[],
    );
    assert!(late_days > 5);
    let late = late_days.to_string();
    let processing = table(&p, "processing");
    assert_eq!(
        row(&processing, "天宁区"),
        cells(&["天宁区", "1", "1", "0", "0", "0"])
    );
    assert_eq!(
        row(&processing, "武进区"),
        cells(&["武进区", "1", "0", "1", &late, &late])
    );
    assert_eq!(
        processing.last().unwrap()[..4],
        cells(&["合计", "2", "1", "1"])[..]
    );
    p.assert_has("时限内（≤5个工作日）");
    // Nobody is overdue yet: the planned departures are weeks away.
    let overdue = table(&p, "overdue_visits");
    assert_eq!(
        row(&overdue, "天宁区"),
        cells(&["天宁区", "2", "0", "0", "2", "0"])
    );
    assert_eq!(
        row(&overdue, "武进区"),
        cells(&["武进区", "3", "0", "0", "3", "0"])
    );

    // The default period (the last twelve months) includes the early group.
    let p = city.get("/stats").await;
    p.assert_ok();
    assert_eq!(
        table(&p, "by_month").last().unwrap(),
        &cells(&["合计", "4", "7"])
    );
    assert_eq!(row(&table(&p, "by_nationality"), "法国")[2], "1");
    assert_eq!(p.input_value("to").unwrap(), today);
    // The administrator sees the same figures.
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let p = admin.get("/stats").await;
    p.assert_ok();
    assert_eq!(
        table(&p, "by_month").last().unwrap(),
        &cells(&["合计", "4", "7"])
    );

    // The county of 天宁区 sees its own district only.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let p = county.get(&format!("/stats?from={from}&to={today}")).await;
    p.assert_ok().assert_has("统计范围：天宁区");
    let districts = table(&p, "by_district");
    assert_eq!(
        districts,
        vec![cells(&["天宁区", "2", "3"]), cells(&["合计", "2", "3"])]
    );
    assert_eq!(
        table(&p, "by_month").last().unwrap(),
        &cells(&["合计", "2", "3"])
    );
    let nat = table(&p, "by_nationality");
    assert_eq!(row(&nat, "美国"), cells(&["美国", "1", "2"]));
    assert!(!p.has("德国") && !p.has("武进区"));
    assert_eq!(table(&p, "processing").len(), 2);
    // Its export: one sheet per table, the same rows (合计 included), nothing of 武进区.
    let sheets = export(
        &county,
        &format!("/stats?from={from}&to={today}&format=xlsx"),
    )
    .await;
    let by_district = &sheets.iter().find(|s| s.0 == "按县区统计").unwrap().1;
    assert_eq!(
        by_district[1..],
        vec![cells(&["天宁区", "2", "3"]), cells(&["合计", "2", "3"])][..]
    );
    let by_month = &sheets[0].1;
    assert_eq!(by_month.last().unwrap(), &cells(&["合计", "2", "3"]));
    assert!(!sheets
        .iter()
        .flat_map(|s| s.1.iter().flatten())
        .any(|c| c.contains("武进区") || c == "德国"));
    let logged: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'export' AND object_id = 'stats'",
    )
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    assert!(
        logged.contains(&format!("天宁区，{from}至{today}")),
        "{logged}"
    );

    // Long after the planned departures: every visitor is overdue except the one whose
    // cancellation the unit submitted.
    app.clock().advance(102 * DAY);
    ca.login(&a.login, UNIT_PASSWORD).await;
    let v = visitor_ids(&app, g1).await[1];
    ca.get(&format!("/visits/{v}")).await;
    ca.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    ca.upload(
        &format!("/visits/{v}/upload/statement"),
        "说明.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    ca.get(&format!("/visits/{v}")).await;
    ca.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits");
    city.login("city", DEMO_PASSWORD).await;
    let p = city.get(&format!("/stats?from={from}&to={today}")).await;
    let overdue = table(&p, "overdue_visits");
    assert_eq!(
        row(&overdue, "天宁区"),
        cells(&["天宁区", "2", "1", "0", "0", "1"])
    );
    assert_eq!(
        row(&overdue, "武进区"),
        cells(&["武进区", "3", "0", "0", "0", "3"])
    );
    assert_eq!(
        overdue.last().unwrap(),
        &cells(&["合计", "5", "1", "0", "0", "4"])
    );
    county.login("tianning", DEMO_PASSWORD).await;
    let p = county.get(&format!("/stats?from={from}&to={today}")).await;
    assert_eq!(
        table(&p, "overdue_visits").last().unwrap(),
        &cells(&["合计", "2", "1", "0", "0", "1"])
    );
}

#[tokio::test]
async fn invalid_dates_are_refused_beside_the_fields_and_nothing_is_computed() {
    let app = TestApp::spawn().await;
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    let p = city.get("/stats?from=2026-13-01&to=abc%3Cb%3E").await;
    p.assert_ok()
        .assert_has("日期格式应为2026-01-31")
        .assert_has("请按提示修改统计期间")
        .assert_lacks("<svg")
        .assert_lacks("按县区统计")
        .assert_lacks("abc<b>");
    assert_eq!(p.input_value("from").unwrap(), "2026-13-01");
    assert!(
        p.input_value("to").unwrap().starts_with("abc&"),
        "kept, escaped"
    );
    let p = city.get("/stats?from=2026-05-02&to=2026-05-01").await;
    p.assert_ok()
        .assert_has("结束日期不能早于开始日期")
        .assert_lacks("<svg");
    assert_eq!(p.input_value("from").unwrap(), "2026-05-02");
    // An empty database: every table is there, with zeros or 暂无数据.
    let p = city.get("/stats?from=2026-01-01&to=2026-03-31").await;
    p.assert_ok().assert_has("暂无数据");
    assert_eq!(
        table(&p, "by_month"),
        vec![
            cells(&["2026-01", "0", "0"]),
            cells(&["2026-02", "0", "0"]),
            cells(&["2026-03", "0", "0"]),
            cells(&["合计", "0", "0"]),
        ]
    );
    assert_eq!(
        table(&p, "processing").last().unwrap(),
        &cells(&["合计", "0", "0", "0", "—", "—"])
    );
}
