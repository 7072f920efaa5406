//! 好差评 (issue 16): a unit rates the 发件 and each 退件 of its groups; a 差评 is a follow-up
//! item (差评整改) of the city office, closed with a reply the unit reads and may rate again;
//! satisfaction statistics by month and district with their chart and export.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

async fn ratings(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM ratings").await
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// The step of the form on the unit's group page.
async fn form_step(c: &Client, id: i64) -> String {
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_ok()
        .assert_has("好差评")
        .assert_has("【提交评价】");
    page.input_value("step").unwrap()
}

#[tokio::test]
async fn a_bad_rating_of_a_dispatch_is_followed_up_replied_and_rated_again() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 160, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();

    let page = c.get(&format!("/groups/{id}")).await;
    for level in [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
        "评价内容",
    ] {
        page.assert_has(level);
    }
    page.assert_has("发件");
    let step = form_step(&c, id).await;
    let path = format!("/groups/{id}/rating");

    // 不满意 without a comment: the form again with the message, the choice kept, nothing saved.
    let p = c
        .post(
            &path,
            &[("step", &step), ("level", "dissatisfied"), ("comment", " ")],
        )
        .await;
    p.assert_ok()
        .assert_has("请在评价内容中说明不满意的原因")
        .assert_has("value=\"dissatisfied\" checked");
    // No level at all.
    c.post(&path, &[("step", &step), ("comment", "x")])
        .await
        .assert_ok()
        .assert_has("请选择满意程度");
    assert_eq!(ratings(&app).await, 0);

    c.post(
        &path,
        &[
            ("step", &step),
            ("level", "dissatisfied"),
            ("comment", "等待时间太长，电话无人接听"),
        ],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=rated"));
    let page = c.get(&format!("/groups/{id}?ok=rated")).await;
    page.assert_ok()
        .assert_has("感谢您的评价。")
        .assert_has("等待时间太长，电话无人接听")
        .assert_has("整改中")
        .assert_lacks("【提交评价】");
    assert_eq!(audit_count(&app, "rating.submit").await, 1);
    // The same step again while the office has not answered: refused, nothing saved.
    let again = c
        .post(
            &path,
            &[("step", &step), ("level", "satisfied"), ("comment", "")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.has("整改中"), "{}", again.body);
    assert_eq!(ratings(&app).await, 1);

    // The city office's 差评整改: counted in the navigation, listed with the days left.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/groups")
        .await
        .assert_has("差评整改<span class=\"count\">1</span>");
    let list = city.get("/review/followups").await;
    list.assert_ok()
        .assert_has(&number)
        .assert_has("剩余工作日")
        .assert_has("15个工作日");
    let item_id = app.scalar("SELECT id FROM ratings").await;
    let item = format!("/review/followups/{item_id}");
    city.get(&item)
        .await
        .assert_ok()
        .assert_has("等待时间太长，电话无人接听")
        .assert_has("不满意")
        .assert_has("整改情况")
        .assert_has("【办结】");
    // County staff and units have no follow-up items.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(county.get("/review/followups").await.status, 403);
    assert_eq!(county.get(&item).await.status, 403);
    county
        .get("/review/groups")
        .await
        .assert_lacks("/review/followups");
    assert_eq!(c.get(&item).await.status, 403);

    // An empty reply: the item again with the message; still open.
    city.post(&item, &[("reply", "  ")])
        .await
        .assert_ok()
        .assert_has("请填写整改情况");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ratings WHERE followup = 'open'")
            .await,
        1
    );

    // Two city users close it at once: one reply stands, the other is told it was closed.
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
    let city2 = app.client();
    city2.login("city2", DEMO_PASSWORD).await;
    city2.get(&item).await.assert_ok();
    city.get(&item).await.assert_ok();
    let (a, b) = tokio::join!(
        city.post(&item, &[("reply", "已约谈经办人员，增设咨询电话。")]),
        city2.post(&item, &[("reply", "另一份答复")])
    );
    let mut s = [a.status, b.status];
    s.sort();
    assert_eq!(s, [303, 409]);
    let winner = if a.status == 303 { &a } else { &b };
    assert!(winner
        .location
        .starts_with("/review/followups?ok=followup_done"));
    let reply: String = sqlx::query_scalar("SELECT reply FROM ratings WHERE id = $1")
        .bind(item_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(audit_count(&app, "rating.reply").await, 1);
    city.get("/review/followups?ok=followup_done")
        .await
        .assert_has("已办结，并已通知申请单位。")
        .assert_has("差评整改<span class=\"count\">0</span>");
    // The list's export, audited.
    let sheets = export(&city, "/review/followups?format=xlsx").await;
    let (name, rows) = &sheets[0];
    assert_eq!(name, "差评整改");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "已办结");
    assert_eq!(rows[1][1], number);
    assert_eq!(rows[1][11], reply);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object_id = 'followups'"
        )
        .await,
        1
    );
    // The reply is told to the unit by SMS and site message.
    assert!(
        app.sms()
            .iter()
            .any(|(to, t)| to == &r.mobile && t.contains(&number) && t.contains("整改答复")),
        "{:?}",
        app.sms()
    );
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM messages WHERE unit_id = $1 AND title LIKE '%差评整改已办结%'"
        )
        .bind(r.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap(),
        1
    );

    // The unit reads the reply and rates the step again.
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_has("整改回复")
        .assert_has(&reply)
        .assert_has("再次评价");
    assert_eq!(form_step(&c, id).await, step);
    c.post(
        &path,
        &[("step", &step), ("level", "satisfied"), ("comment", "")],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=rated"));
    assert_eq!(
        app.scalar("SELECT MAX(round) FROM ratings").await,
        2,
        "the second rating is the step's second round"
    );
    c.get(&format!("/groups/{id}"))
        .await
        .assert_has("第2次评价")
        .assert_lacks("【提交评价】");
    // A satisfied rating closes the step for good.
    let p = c
        .post(
            &path,
            &[("step", &step), ("level", "basic"), ("comment", "")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(p.has("该环节已评价"));
    assert_eq!(ratings(&app).await, 2);
    // The office sees the ratings on the group's record.
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_has("好差评")
        .assert_has("等待时间太长，电话无人接听")
        .assert_lacks("【提交评价】");
}

#[tokio::test]
async fn only_the_unit_rates_only_its_decided_steps() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 161, "天宁区", "tianning").await;
    let (_r2, other) = approved_unit(&app, 162, "武进区", "wujin").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let step = form_step(&c, id).await;
    let path = format!("/groups/{id}/rating");
    let ok = [
        ("step", step.as_str()),
        ("level", "satisfied"),
        ("comment", ""),
    ];

    // Another unit: not found, whatever it posts.
    other.get("/groups").await;
    assert_eq!(other.get(&format!("/groups/{id}")).await.status, 404);
    assert_eq!(other.post(&path, &ok).await.status, 404);
    assert_eq!(
        other
            .get(&format!("/groups/{id}/rating?step={step}"))
            .await
            .status,
        404
    );
    // Staff do not rate.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/groups").await;
    assert_eq!(city.post(&path, &ok).await.status, 403);
    // A step that does not exist, or is not a decided step of this group (its submission).
    let submit_step: i64 = sqlx::query_scalar(
        "SELECT id FROM audit_log WHERE object_type = 'group' AND object_id = $1 AND action = 'group.submit'",
    )
    .bind(id.to_string())
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    for bad in ["999999", "abc", &submit_step.to_string()] {
        let p = c
            .post(
                &path,
                &[("step", bad), ("level", "satisfied"), ("comment", "")],
            )
            .await;
        assert_eq!(p.status, 404, "step {bad}");
    }
    // A group not yet dispatched nor returned has nothing to rate.
    let pending = submitted_group(&app, &c, 1, &[]).await;
    c.get(&format!("/groups/{pending}"))
        .await
        .assert_ok()
        .assert_lacks("好差评");
    let p = c
        .post(
            &format!("/groups/{pending}/rating"),
            &[("step", &step), ("level", "satisfied"), ("comment", "")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(p.has("团组发件或退件后才能评价"));
    assert_eq!(ratings(&app).await, 0);

    // Two ratings of the same step at once (two tabs): exactly one is saved.
    let c2 = c.at(&app.base);
    c.get(&format!("/groups/{id}")).await;
    let best = [
        ("step", step.as_str()),
        ("level", "very_satisfied"),
        ("comment", ""),
    ];
    let (a, b) = tokio::join!(c.post(&path, &ok), c2.post(&path, &best));
    let mut s = [a.status, b.status];
    s.sort();
    assert_eq!(s, [303, 409]);
    assert_eq!(ratings(&app).await, 1);
    assert_eq!(audit_count(&app, "rating.submit").await, 1);
    // No follow-up for a satisfied rating.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ratings WHERE followup = 'none'")
            .await,
        1
    );
}

#[tokio::test]
async fn each_return_is_a_step_of_its_own() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 163, "天宁区", "tianning").await;
    let id = submitted_group(&app, &c, 1, &[]).await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(
            &format!("/review/groups/{id}/return"),
            &[("reason", "护照扫描件不清晰")],
        )
        .await
        .assert_redirect("/review/groups");
    // The returned group opens as its form, with the 好差评 of the return below it.
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_ok()
        .assert_has("【保存】")
        .assert_has("好差评")
        .assert_has("县区外办退件");
    let first = form_step(&c, id).await;
    c.post(
        &format!("/groups/{id}/rating"),
        &[
            ("step", &first),
            ("level", "very_dissatisfied"),
            ("comment", "退件理由不明确"),
        ],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=rated"));
    // Resubmitted and returned again: a second step to rate, the first keeps its rating.
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(
            &format!("/review/groups/{id}/return"),
            &[("reason", "请补充日程")],
        )
        .await
        .assert_redirect("/review/groups");
    let second = form_step(&c, id).await;
    assert_ne!(first, second);
    c.get(&format!("/groups/{id}"))
        .await
        .assert_has("退件理由不明确");
    c.post(
        &format!("/groups/{id}/rating"),
        &[("step", &second), ("level", "satisfied"), ("comment", "")],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=rated"));
    assert_eq!(ratings(&app).await, 2);
}

#[tokio::test]
async fn satisfaction_statistics_by_month_and_district_with_chart_and_export() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 164, "天宁区", "tianning").await;
    let a = dispatched_group(&app, &c, 1, "tianning").await;
    let b = dispatched_group(&app, &c, 1, "tianning").await;
    for (id, level, comment) in [(a, "very_satisfied", ""), (b, "dissatisfied", "太慢")] {
        let step = form_step(&c, id).await;
        c.post(
            &format!("/groups/{id}/rating"),
            &[("step", &step), ("level", level), ("comment", comment)],
        )
        .await
        .assert_redirect(&format!("/groups/{id}?ok=rated"));
    }
    let month = &date_in(&app, 0)[..7];

    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/stats").await.assert_has("/stats/satisfaction");
    let page = city.get("/stats/satisfaction").await;
    page.assert_ok()
        .assert_has("满意度统计")
        .assert_has("满意度（按月）")
        .assert_has("满意度（按县区）")
        .assert_has("满意率")
        .assert_has("<svg")
        .assert_has(month)
        .assert_has("天宁区");
    // One of two satisfied: 50%.
    assert!(
        page.has("<td class=\"num\" data-label=\"满意率（%）\">50</td>"),
        "{}",
        page.body
    );

    let sheets = export(&city, "/stats/satisfaction?format=xlsx").await;
    let (name, rows) = &sheets[0];
    assert_eq!(name, "满意度（按月）");
    assert_eq!(rows[0][0], "月份");
    assert_eq!(rows[0][1], "非常满意");
    let row = rows.iter().find(|r| r[0] == month).unwrap();
    assert_eq!(row[1], "1");
    assert_eq!(row[4], "1");
    assert_eq!(row[6], "2");
    let (_, rows) = &sheets[1];
    let tianning = rows.iter().find(|r| r[0] == "天宁区").unwrap();
    assert_eq!(tianning[6], "2");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND detail LIKE '%满意度统计%'"
        )
        .await,
        1
    );

    // A county sees its own district only; units not at all.
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    let page = wujin.get("/stats/satisfaction").await;
    page.assert_ok().assert_has("武进区").assert_lacks("天宁区");
    assert_eq!(c.get("/stats/satisfaction").await.status, 403);
    // Bad dates: the messages, no figures.
    city.get("/stats/satisfaction?from=2026-13-01&to=x")
        .await
        .assert_ok()
        .assert_has("请按提示修改统计期间")
        .assert_lacks("<svg");
}

#[tokio::test]
async fn a_follow_up_left_unanswered_past_fifteen_working_days_is_overdue() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 165, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let step = form_step(&c, id).await;
    c.post(
        &format!("/groups/{id}/rating"),
        &[
            ("step", &step),
            ("level", "very_dissatisfied"),
            ("comment", "邀请函有错字"),
        ],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=rated"));
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/followups")
        .await
        .assert_has("剩余工作日")
        .assert_lacks("已超期");

    // Forty days later (at least 15 working days whatever the holidays): overdue.
    app.clock().advance(40 * 86400);
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/followups")
        .await
        .assert_ok()
        .assert_has("已超期");
    let item_id = app.scalar("SELECT id FROM ratings").await;
    city.get(&format!("/review/followups/{item_id}"))
        .await
        .assert_has("已超期");
    city.post(
        &format!("/review/followups/{item_id}"),
        &[("reply", "已更正并重新出具邀请函。")],
    )
    .await
    .assert_redirect("/review/followups?ok=followup_done");
    // Closed late: counted so in the statistics of the period.
    let sheets = export(&city, "/stats/satisfaction?format=xlsx").await;
    let (name, rows) = &sheets[2];
    assert_eq!(name, "差评整改");
    assert_eq!(rows[0][..3], ["差评数", "已办结", "其中超期办结"]);
    assert_eq!(rows[1][..5], ["1", "1", "1", "0", "0"]);
}
