//! Invitation groups (manual 2.3): apply, print, upload, submit, county and city review,
//! acceptance, report, dispatch, history — and the bad input that must save nothing.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

#[tokio::test]
async fn group_goes_from_application_through_return_to_dispatch() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 60, "天宁区", "tianning").await;
    c.get("/groups").await.assert_ok().assert_has("团组申报");
    c.get("/groups/new")
        .await
        .assert_ok()
        .assert_has("纽约总领事馆");
    let form = c.get("/groups/form").await;
    form.assert_ok()
        .assert_has("【保存】")
        .assert_lacks("【提交】</button>");
    assert_eq!(form.input_value("contact_name").unwrap(), "李四");
    let id = saved_group(&app, &c, 2).await;
    let page = c.get(&format!("/groups/{id}?ok=saved")).await;
    page.assert_ok()
        .assert_has("【提交】")
        .assert_has("【打印】");
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(number.len(), 8);
    assert!(number.starts_with(&date_in(&app, 0)[..4]));

    // 【提交】 without print and scans names what is missing; nothing changes.
    c.get(&format!("/groups/{id}")).await;
    let p = c.act(&format!("/groups/{id}/submit"), &[]).await;
    p.assert_ok()
        .assert_has("提交前请补齐")
        .assert_has("护照扫描件")
        .assert_has("【打印】");
    assert_eq!(state_of(&app, id).await, "draft");
    upload_required(&app, &c, id).await;
    // A scan before printing is refused.
    c.get(&format!("/groups/{id}")).await;
    c.upload(
        &format!("/groups/{id}/upload/scan"),
        "stamped.pdf",
        pdf("early"),
    )
    .await
    .assert_ok()
    .assert_has("请先【打印】");
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}?ok=group_submitted"));
    assert_eq!(state_of(&app, id).await, "pending_county");
    // Read-only now.
    c.get(&format!("/groups/{id}"))
        .await
        .assert_ok()
        .assert_lacks("【保存】");
    let f = group_fields(&app, 2).await;
    assert_eq!(
        c.post(&format!("/groups/{id}"), &refs(&f)).await.status,
        409
    );
    assert_eq!(
        c.act(&format!("/groups/{id}/submit"), &[]).await.status,
        409
    );

    // County of another district sees nothing; the unit's county approves.
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin.get("/review/groups").await.assert_lacks(&number);
    assert_eq!(wujin.get(&format!("/review/groups/{id}")).await.status, 404);
    assert_eq!(
        wujin
            .act(&format!("/review/groups/{id}/approve"), &[])
            .await
            .status,
        404
    );
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/groups")
        .await
        .assert_ok()
        .assert_has(&number)
        .assert_has("剩余工作日");
    county
        .get(&format!("/review/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("LISA MOHAMODE")
        .assert_has("【审核通过】");
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    assert_eq!(state_of(&app, id).await, "pending_city");

    // City returns it: 退件 with the reason, told by SMS.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("【受理】")
        .assert_has("【退件】");
    city.act(&format!("/review/groups/{id}/return"), &[("reason", "")])
        .await
        .assert_ok()
        .assert_has("请填写退件原因");
    city.act(
        &format!("/review/groups/{id}/return"),
        &[("reason", "访问地点请写明具体单位地址")],
    )
    .await
    .assert_redirect("/review/groups");
    assert!(app
        .sms()
        .iter()
        .any(|(to, t)| *to == r.mobile && t.contains("退件")));
    let hist = c.get("/history").await;
    hist.assert_ok()
        .assert_has(&number)
        .assert_has("退件")
        .assert_has("访问地点请写明具体单位地址");
    // Back with the unit: the offices no longer see the work in progress.
    assert_eq!(city.get(&format!("/review/groups/{id}")).await.status, 404);
    assert_eq!(
        county.get(&format!("/review/groups/{id}")).await.status,
        404
    );

    // The unit edits: the print and the scan go stale; a new print and scan are needed.
    let mut f = group_fields(&app, 2).await;
    let vids = visitor_ids(&app, id).await;
    f.push(("v0_id".into(), vids[0].to_string()));
    f.push(("v1_id".into(), vids[1].to_string()));
    set(&mut f, "places", "常州市天宁区某路1号（ACME常州工厂）");
    c.get(&format!("/groups/{id}")).await;
    c.post(&format!("/groups/{id}"), &refs(&f))
        .await
        .assert_redirect(&format!("/groups/{id}"));
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_has("原打印件已作废");
    // The visitors kept their passport scans.
    assert_eq!(visitor_ids(&app, id).await, vids);
    let p = c.act(&format!("/groups/{id}/submit"), &[]).await;
    p.assert_ok().assert_has("重新打印");
    print_and_scan(&c, id).await;
    let before: i64 =
        sqlx::query_scalar("SELECT submitted_at FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    app.clock().advance(3 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    let after: i64 = sqlx::query_scalar("SELECT submitted_at FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert!(after > before, "the clock restarts at resubmission");
    assert_eq!(state_of(&app, id).await, "pending_county");
    // The city sees the new version only after the county passed it.
    city.login("city", DEMO_PASSWORD).await;
    assert_eq!(city.get(&format!("/review/groups/{id}")).await.status, 404);

    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}")).await;
    city.act(&format!("/review/groups/{id}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{id}"));
    let acc: String =
        sqlx::query_scalar("SELECT acceptance_no FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert!(acc.starts_with("SL"));
    // A 核实单号 with spaces or symbols is refused, typed value kept.
    city.get(&format!("/review/groups/{id}")).await;
    let p = city
        .act(
            &format!("/review/groups/{id}/report"),
            &[("verification_no", "HW 3255-0202")],
        )
        .await;
    p.assert_ok().assert_has("只能由字母和数字组成");
    assert_eq!(p.input_value("verification_no").unwrap(), "HW 3255-0202");
    city.act(
        &format!("/review/groups/{id}/report"),
        &[("verification_no", "HW3255020200727800043")],
    )
    .await
    .assert_redirect(&format!("/review/groups/{id}"));
    // 【发件】 needs a real PDF.
    city.get(&format!("/review/groups/{id}")).await;
    city.upload_confirmed(
        &format!("/review/groups/{id}/dispatch"),
        "letter.pdf",
        b"not a pdf".to_vec(),
    )
    .await
    .assert_ok()
    .assert_has("不是有效的PDF");
    assert_eq!(state_of(&app, id).await, "reported");
    city.upload_confirmed(
        &format!("/review/groups/{id}/dispatch"),
        "邀请函.pdf",
        pdf("letter"),
    )
    .await
    .assert_redirect(&format!("/review/groups/{id}"));
    assert_eq!(state_of(&app, id).await, "dispatched");
    // Each step's time is recorded with its transition.
    let stamped = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM invitation_groups WHERE id = {id} AND county_passed_at IS NOT NULL
               AND accepted_at IS NOT NULL AND reported_at IS NOT NULL AND dispatched_at IS NOT NULL"
        ))
        .await;
    assert_eq!(stamped, 1);
    assert!(app
        .sms()
        .iter()
        .any(|(to, t)| *to == r.mobile && t.contains("已发件")));

    // The unit's history: 受理编号, 核实单号, the letter, 销签登记.
    let hist = c.get("/history").await;
    hist.assert_has(&acc)
        .assert_has("HW3255020200727800043")
        .assert_has("下载邀请函")
        .assert_has("销签登记");
    let letter: i64 =
        sqlx::query_scalar("SELECT letter_file_id FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    let (status, ct, bytes) = c.get_bytes(&format!("/groups/{id}/files/{letter}")).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF"));
    // Timeline of every step.
    for action in [
        "group.create",
        "group.print",
        "group.submit",
        "group.county_approve",
        "group.city_return",
        "group.accept",
        "group.report",
        "group.dispatch",
    ] {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_id = $2",
        )
        .bind(action)
        .bind(id.to_string())
        .fetch_one(app.state.pool())
        .await
        .unwrap();
        assert!(n >= 1, "{action}");
    }
}

#[tokio::test]
async fn bad_group_input_is_refused_and_nothing_saved() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 61, "天宁区", "tianning").await;
    c.get("/groups/form").await;
    let check = |key: &'static str, value: String, msg: &'static str| (key, value, msg);
    let embassy_jp = mission(&app, "中国驻日本大使馆").await.to_string();
    let cases = vec![
        check(
            "departure",
            date_in(&app, 50),
            "计划出境日期不能早于计划入境日期",
        ),
        check("arrival", date_in(&app, -1), "计划入境日期不能早于今天"),
        check(
            "v0_passport_expiry",
            date_in(&app, 65),
            "护照在计划出境日期前到期",
        ),
        check(
            "v0_nationality",
            "XYZ".into(),
            "国籍必须在定义好的国籍中选择",
        ),
        check(
            "v0_nationality",
            "CHN".into(),
            "国籍必须在定义好的国籍中选择",
        ),
        check("mission", "999999".into(), "请选择外宾办理签证的使领馆"),
        check("mission", embassy_jp, "请选择外宾办理签证的使领馆"),
        check("entry_type", "half_year".into(), "申请多次入境须选择依据"),
    ];
    for (key, value, msg) in cases {
        let mut f = group_fields(&app, 1).await;
        set(&mut f, key, &value);
        let p = c.post("/groups", &refs(&f)).await;
        p.assert_ok().assert_has(msg).assert_has("未保存");
        if !key.starts_with("v0_nationality") && key != "mission" && key != "entry_type" {
            assert_eq!(p.input_value(key).unwrap(), value, "{key} kept");
        }
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
            0,
            "{key}"
        );
    }
    // A sixth visitor: by the button and by hand.
    let f = group_fields(&app, 5).await;
    let mut add: Vec<(String, String)> = f.iter().filter(|(k, _)| k != "action").cloned().collect();
    add.push(("action".into(), "add_visitor".into()));
    c.post("/groups", &refs(&add))
        .await
        .assert_ok()
        .assert_has("邀请函人员不能超过5人，如邀请人数超过5人，请另建团组邀请");
    let mut six = group_fields(&app, 6).await;
    set(&mut six, "action", "save");
    c.post("/groups", &refs(&six))
        .await
        .assert_ok()
        .assert_has("邀请函人员不能超过5人");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        0
    );
    // Adding a block below five works and saves nothing.
    let mut two: Vec<(String, String)> = group_fields(&app, 1)
        .await
        .into_iter()
        .filter(|(k, _)| k != "action")
        .collect();
    two.push(("action".into(), "add_visitor".into()));
    c.post("/groups", &refs(&two))
        .await
        .assert_ok()
        .assert_has("到访人员2");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        0
    );

    // Multiple entry with a ground still needs the proof before 【提交】.
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "entry_type", "one_year");
    set(&mut f, "ground", "entries_10");
    let id = group_id_in(&c.post("/groups", &refs(&f)).await.location);
    upload_required(&app, &c, id).await;
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("多次入境证明材料");
    // A text file disguised as a PDF.
    c.get(&format!("/groups/{id}")).await;
    c.upload(
        &format!("/groups/{id}/upload/multi_entry_proof"),
        "proof.pdf",
        b"plain text".to_vec(),
    )
    .await
    .assert_ok()
    .assert_has("不是有效的PDF、JPEG或PNG");
    assert_eq!(state_of(&app, id).await, "draft");
}

#[tokio::test]
async fn warnings_show_but_do_not_block() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 62, "天宁区", "tianning").await;
    c.get("/groups/form").await;
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "arrival", &date_in(&app, 10));
    set(&mut f, "departure", &date_in(&app, 20));
    set(&mut f, "t0_date", &date_in(&app, 11));
    set(&mut f, "v0_passport_expiry", &date_in(&app, 100));
    let p = c.post("/groups", &refs(&f)).await;
    let id: i64 = group_id_in(&p.location);
    // The same passport in a second group of an overlapping period.
    c.get("/groups/form").await;
    c.post("/groups", &refs(&f))
        .await
        .assert_redirect("/groups/");
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_has("距今不足30天")
        .assert_has("不足计划出境日期后6个月")
        .assert_has("已在同期的其他团组中申报");
}

#[tokio::test]
async fn units_and_counties_reach_only_their_own_groups() {
    let app = TestApp::spawn().await;
    let (_a, ca) = approved_unit(&app, 63, "天宁区", "tianning").await;
    let (_b, cb) = approved_unit(&app, 64, "武进区", "wujin").await;
    let id = saved_group(&app, &ca, 1).await;
    upload_required(&app, &ca, id).await;
    let vid = visitor_ids(&app, id).await[0];
    let file: i64 = sqlx::query_scalar("SELECT passport_file_id FROM group_visitors WHERE id = $1")
        .bind(vid)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    cb.get("/groups").await;
    assert_eq!(cb.get(&format!("/groups/{id}")).await.status, 404);
    assert_eq!(
        cb.get_bytes(&format!("/groups/{id}/files/{file}")).await.0,
        404
    );
    let f = group_fields(&app, 1).await;
    assert_eq!(
        cb.post(&format!("/groups/{id}"), &refs(&f)).await.status,
        404
    );
    assert_eq!(
        cb.post(&format!("/groups/{id}/print"), &[]).await.status,
        404
    );
    assert_eq!(
        cb.act(&format!("/groups/{id}/submit"), &[]).await.status,
        404
    );
    assert_eq!(
        cb.upload(&format!("/groups/{id}/upload/clerk_id"), "x.pdf", pdf("x"))
            .await
            .status,
        404
    );
    // A draft is not visible to its county either.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(
        county.get(&format!("/review/groups/{id}")).await.status,
        404
    );
    // A unit not yet approved has no 来华申报.
    let pending = app.client();
    create_account(&app, &pending, 65, "天宁区").await;
    let p = pending.get("/groups").await;
    assert_eq!(p.status, 409);
    assert!(p.has("审核通过前无数据申报功能"));
    assert_eq!(pending.get("/groups/form").await.status, 409);
}

#[tokio::test]
async fn two_city_users_accepting_at_once_get_exactly_one_number() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 66, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    upload_required(&app, &c, id).await;
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[]).await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await;
    laihua::seed::create_staff(
        &app.state.db,
        laihua::store::users::Role::City,
        "city2",
        None,
        "市外办二",
        DEMO_PASSWORD,
        false,
        app.state.now(),
    )
    .await
    .unwrap();
    let a = app.client();
    a.login("city", DEMO_PASSWORD).await;
    a.get(&format!("/review/groups/{id}")).await;
    let b = app.client();
    b.login("city2", DEMO_PASSWORD).await;
    b.get(&format!("/review/groups/{id}")).await;
    let path = format!("/review/groups/{id}/accept");
    let (pa, pb) = tokio::join!(a.act(&path, &[]), b.act(&path, &[]));
    let mut s = [pa.status, pb.status];
    s.sort();
    assert_eq!(s, [303, 409]);
    assert_eq!(
        app.scalar("SELECT value FROM counters WHERE name = 'acceptance'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups WHERE acceptance_no IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn history_filters_by_state_text_and_date_and_pages() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 67, "天宁区", "tianning").await;
    for i in 0..23 {
        c.get("/groups/form").await;
        let mut f = group_fields(&app, 1).await;
        set(&mut f, "name", &format!("交流团{i:02}"));
        set(&mut f, "v0_passport_no", &format!("P{i:06}"));
        c.post("/groups", &refs(&f))
            .await
            .assert_redirect("/groups/");
    }
    // The list below the filters (办理进度 above them lists every draft).
    let list = |p: &Page| p.body[p.body.find("个团组。").unwrap()..].to_string();
    let p1 = c.get("/history").await;
    p1.assert_has("共23个团组").assert_has("下一页");
    assert!(list(&p1).contains("交流团22"));
    assert!(!list(&p1).contains("交流团02"));
    assert!(list(&c.get("/history?page=2").await).contains("交流团02"));
    c.get("/history?q=%E4%BA%A4%E6%B5%81%E5%9B%A215")
        .await
        .assert_has("共1个团组")
        .assert_has("交流团15");
    c.get("/history?q=P000007")
        .await
        .assert_has("共1个团组")
        .assert_has("交流团07");
    c.get("/history?state=dispatched")
        .await
        .assert_has("共0个团组");
    c.get("/history?state=draft").await.assert_has("共23个团组");
    let tomorrow = date_in(&app, 1);
    c.get(&format!("/history?from={tomorrow}"))
        .await
        .assert_has("共0个团组");
    c.get("/history?from=2026-13-01")
        .await
        .assert_has("日期格式应为");
}

#[tokio::test]
async fn print_gives_the_pdf_or_without_a_font_the_html_form() {
    for no_font in [false, true] {
        let app = TestApp::spawn_with(|s| {
            if no_font {
                s.font = Some("none".into());
            }
        })
        .await;
        let (_r, c) = approved_unit(&app, 68, "天宁区", "tianning").await;
        let id = saved_group(&app, &c, 1).await;
        c.get(&format!("/groups/{id}")).await;
        let page = c.post(&format!("/groups/{id}/print"), &[]).await;
        assert_eq!(page.status, 200);
        let number: String =
            sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
                .bind(id)
                .fetch_one(app.state.pool())
                .await
                .unwrap();
        if no_font || app.state.printer.font_path().is_none() {
            page.assert_has("邀请外国人来华申请表")
                .assert_has(&number)
                .assert_has("<svg")
                .assert_has("LISA MOHAMODE");
        } else {
            assert!(
                page.body.starts_with("%PDF-"),
                "a PDF when a CJK font exists"
            );
        }
        // Either way the print of this version is recorded.
        let printed: Option<String> =
            sqlx::query_scalar("SELECT printed_hash FROM invitation_groups WHERE id = $1")
                .bind(id)
                .fetch_one(app.state.pool())
                .await
                .unwrap();
        assert!(printed.is_some());
        if no_font {
            let admin = app.client();
            admin.login("demoadmin", DEMO_PASSWORD).await;
            admin
                .get("/admin")
                .await
                .assert_has("未找到中文字体")
                .assert_has("fonts-noto-cjk");
        }
    }
}

/// Issue 17: an irreversible action posted without `confirm=1` does nothing and says what will
/// happen, with a 【确认…】 button that posts the same fields again; with the confirmation it acts.
#[tokio::test]
async fn irreversible_actions_ask_first_and_act_only_when_confirmed() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 70, "天宁区", "tianning").await;
    let id = submitted_group(&app, &c, 1, &[]).await;
    // Orientation: 来华申报 names the step, the working days left and what comes next.
    c.get("/groups")
        .await
        .assert_ok()
        .assert_has("办理进度")
        .assert_has("剩余<strong>")
        .assert_has("下一步：等待县区外办初审");
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    let p = county
        .post(&format!("/review/groups/{id}/approve"), &[])
        .await;
    p.assert_ok()
        .assert_has("请确认：【审核通过】")
        .assert_has("提交市外办审核受理")
        .assert_has("name=\"confirm\" value=\"1\"")
        .assert_has("【确认审核通过】")
        .assert_has(&format!("href=\"/review/groups/{id}\""));
    assert_eq!(state_of(&app, id).await, "pending_county");
    // A reason typed for 【退件】 is shown and carried by the confirmation form.
    let p = county
        .post(
            &format!("/review/groups/{id}/return"),
            &[("reason", "请补充行程")],
        )
        .await;
    p.assert_ok()
        .assert_has("【确认退件】")
        .assert_has("name=\"reason\" value=\"请补充行程\"");
    assert_eq!(state_of(&app, id).await, "pending_county");
    // A blank required reason goes straight to the handler's message beside the field.
    county
        .post(&format!("/review/groups/{id}/return"), &[("reason", " ")])
        .await
        .assert_ok()
        .assert_lacks("【确认退件】");
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    assert_eq!(state_of(&app, id).await, "pending_city");
    // 【发件】 carries a file: its form has the confirmation checkbox; a post without it
    // does nothing.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}")).await;
    city.act(&format!("/review/groups/{id}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{id}"));
    city.act(
        &format!("/review/groups/{id}/report"),
        &[("verification_no", "HW3255020200727800043")],
    )
    .await
    .assert_redirect(&format!("/review/groups/{id}"));
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_has("name=\"confirm\" value=\"1\" required");
    city.upload(
        &format!("/review/groups/{id}/dispatch"),
        "letter.pdf",
        pdf("letter"),
    )
    .await
    .assert_ok()
    .assert_has("请确认：【发件】")
    .assert_lacks("【确认发件】");
    assert_eq!(state_of(&app, id).await, "reported");
}

/// Issue 17: 【提交】 of a group that lacks something says at once what to complete, beside the
/// button, without asking first; a complete group asks, and only the confirmation submits it.
#[tokio::test]
async fn submit_says_what_is_missing_before_asking_to_confirm() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 72, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    upload_required(&app, &c, id).await;
    c.get(&format!("/groups/{id}")).await;
    assert_eq!(
        c.post(&format!("/groups/{id}/print"), &[]).await.status,
        200
    );
    // Printed, but the stamped scan is missing.
    c.get(&format!("/groups/{id}")).await;
    c.post(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("提交前请补齐：盖章签字的申请表扫描件")
        .assert_has("【保存】")
        .assert_lacks("请确认：")
        .assert_lacks("【确认提交】");
    assert_eq!(state_of(&app, id).await, "draft");
    upload_scan(&c, id).await;
    // Complete: the confirmation page, and nothing submitted yet.
    c.get(&format!("/groups/{id}")).await;
    c.post(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("请确认：【提交】团组")
        .assert_has("提交属地县区外办初审")
        .assert_has("【确认提交】")
        .assert_lacks("提交前请补齐");
    assert_eq!(state_of(&app, id).await, "draft");
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    assert_eq!(state_of(&app, id).await, "pending_county");
    // Another unit's group, or one already submitted: the handler answers as it always did.
    assert_eq!(
        c.post(&format!("/groups/{id}/submit"), &[]).await.status,
        409
    );
}

/// The entries of the 办理进度 list of a page.
fn progress_entries(page: &Page) -> Vec<String> {
    let Some(start) = page.body.find("<ul class=\"progress-list\">") else {
        return Vec::new();
    };
    let list = &page.body[start..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<li>").skip(1).map(str::to_string).collect()
}

/// Issue 17: 办理进度 lists every group of the unit in progress (not only the latest five), on
/// 来华申报 and on 申报历史查询, each with its step and what comes next.
#[tokio::test]
async fn progress_lists_every_group_in_progress_on_both_pages() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 73, "天宁区", "tianning").await;
    let submitted = submitted_group(&app, &c, 1, &[]).await;
    let mut ids = vec![submitted];
    for _ in 0..6 {
        ids.push(saved_group(&app, &c, 1).await);
    }
    for path in ["/groups", "/history"] {
        let p = c.get(path).await;
        p.assert_ok().assert_has("办理进度");
        let entries = progress_entries(&p);
        assert_eq!(entries.len(), 7, "{path}: {entries:#?}");
        for id in &ids {
            assert!(
                entries
                    .iter()
                    .any(|e| e.starts_with(&format!("<a href=\"/groups/{id}\">"))),
                "{path}: group {id} in 办理进度"
            );
        }
        let timed: Vec<&String> = entries
            .iter()
            .filter(|e| e.contains("剩余<strong>"))
            .collect();
        assert_eq!(timed.len(), 1, "{path}: the submitted group's days left");
        assert!(timed[0].contains(&format!("/groups/{submitted}\"")));
        assert!(timed[0].contains("下一步：等待县区外办初审"));
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.contains("下一步：补齐资料和附件"))
                .count(),
            6,
            "{path}"
        );
    }
    // 最近的团组 still shows the latest five; 申报历史查询 its page of twenty.
    let home = c.get("/groups").await;
    let recent = &home.body[home.body.find("最近的团组").unwrap()..];
    assert_eq!(recent.matches("data-label=\"团组编号\"").count(), 5);
    c.get("/history").await.assert_has("共7个团组");
}
