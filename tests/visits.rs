//! 销签登记 (manual 2.3.8): registration of each visitor of a dispatched group, its review, and
//! the overdue reminders.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use laihua::workflow::visits::run_overdue;

async fn port(app: &TestApp, name: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = $1")
        .bind(name)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    id.to_string()
}

/// Days from the app's today (Beijing) to a date `YYYY-MM-DD`.
fn days_until(app: &TestApp, date: &str) -> i64 {
    (laihua::domain::group::parse_date(date).unwrap()
        - app
            .state
            .clock
            .now()
            .with_timezone(&laihua::clock::beijing())
            .date_naive())
    .num_days()
}

async fn visit_state(app: &TestApp, visitor: i64) -> String {
    sqlx::query_scalar("SELECT state FROM visit_records WHERE visitor_id = $1")
        .bind(visitor)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn travelled_and_cancelled_visitors_are_registered_reviewed_returned_and_fixed() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 70, "天宁区", "tianning").await;
    // A group that is not dispatched refuses the form.
    let draft = saved_group(&app, &c, 1).await;
    let draft_visitor = visitor_ids(&app, draft).await[0];
    assert_eq!(c.get(&format!("/visits/{draft_visitor}")).await.status, 409);
    let id = dispatched_group(&app, &c, 2, "tianning").await;
    let v = visitor_ids(&app, id).await;
    let list = c.get("/visits").await;
    list.assert_ok()
        .assert_has("[未登记]")
        .assert_has("LISA MOHAMODE")
        .assert_has("HW3255020200727800043");
    assert!(
        !list.has(&format!("/visits/{draft_visitor}")),
        "only dispatched groups are listed"
    );

    // Ten days later the visitors have come and gone.
    app.clock().advance(10 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let pvg = port(&app, "上海浦东国际机场").await;
    let nkg = port(&app, "南京禄口国际机场").await;
    let (d_entry, d_exit) = (date_in(&app, -8), date_in(&app, -2));
    c.get(&format!("/visits/{}", v[0]))
        .await
        .assert_ok()
        .assert_has("实际成行")
        .assert_has("取消行程");
    // Bad input: each refused beside its field, nothing saved.
    for (entry, exit, entry_port, msg) in [
        (
            d_entry.clone(),
            date_in(&app, -9),
            pvg.clone(),
            "实际出境日期不能早于实际入境日期",
        ),
        (
            date_in(&app, -12),
            d_exit.clone(),
            pvg.clone(),
            "实际入境日期不能早于邀请函发件日期",
        ),
        (
            d_entry.clone(),
            date_in(&app, 1),
            pvg.clone(),
            "实际出境日期不能晚于今天",
        ),
        (
            d_entry.clone(),
            d_exit.clone(),
            "999999".to_string(),
            "请选择入境口岸",
        ),
    ] {
        let p = c
            .post(
                &format!("/visits/{}", v[0]),
                &[
                    ("kind", "travelled"),
                    ("entry_date", &entry),
                    ("entry_port", &entry_port),
                    ("exit_date", &exit),
                    ("exit_port", &nkg),
                ],
            )
            .await;
        p.assert_ok().assert_has(msg);
        assert_eq!(p.input_value("entry_date").unwrap(), entry);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_records").await, 0);
    }
    // Entry first (still in China), exit later.
    c.post(
        &format!("/visits/{}", v[0]),
        &[
            ("kind", "travelled"),
            ("entry_date", &d_entry),
            ("entry_port", &pvg),
            ("exit_date", ""),
            ("exit_port", ""),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[0]));
    assert_eq!(visit_state(&app, v[0]).await, "entered");
    c.get("/visits").await.assert_has("已入境");
    c.get(&format!("/visits/{}", v[0])).await;
    c.act(&format!("/visits/{}/submit", v[0]), &[])
        .await
        .assert_ok()
        .assert_has("实际出境日期和口岸");
    c.post(
        &format!("/visits/{}", v[0]),
        &[
            ("kind", "travelled"),
            ("entry_date", &d_entry),
            ("entry_port", &pvg),
            ("exit_date", &d_exit),
            ("exit_port", &nkg),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[0]));
    // Missing scans.
    c.get(&format!("/visits/{}", v[0])).await;
    c.act(&format!("/visits/{}/submit", v[0]), &[])
        .await
        .assert_ok()
        .assert_has("入境章扫描件");
    for kind in ["entry_stamp", "exit_stamp", "visa_page"] {
        c.upload(
            &format!("/visits/{}/upload/{kind}", v[0]),
            "stamp.pdf",
            pdf(kind),
        )
        .await
        .assert_redirect(&format!("/visits/{}", v[0]));
    }
    c.get(&format!("/visits/{}", v[0])).await;
    c.act(&format!("/visits/{}/submit", v[0]), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");
    assert_eq!(visit_state(&app, v[0]).await, "pending_county");
    // Submitted: read-only.
    assert_eq!(
        c.post(
            &format!("/visits/{}", v[0]),
            &[("kind", "cancelled"), ("cancel_reason", "x")]
        )
        .await
        .status,
        409
    );

    // The second visitor cancelled: a reason and a PDF statement.
    c.get(&format!("/visits/{}", v[1])).await;
    c.post(
        &format!("/visits/{}", v[1]),
        &[("kind", "cancelled"), ("cancel_reason", "")],
    )
    .await
    .assert_ok()
    .assert_has("请填写取消行程的原因");
    c.post(
        &format!("/visits/{}", v[1]),
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[1]));
    c.get(&format!("/visits/{}", v[1])).await;
    c.act(&format!("/visits/{}/submit", v[1]), &[])
        .await
        .assert_ok()
        .assert_has("情况说明");
    c.upload(
        &format!("/visits/{}/upload/statement", v[1]),
        "说明.png",
        vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0],
    )
    .await
    .assert_ok()
    .assert_has("不是有效的PDF");
    c.upload(
        &format!("/visits/{}/upload/statement", v[1]),
        "说明.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[1]));
    c.get(&format!("/visits/{}", v[1])).await;
    c.act(&format!("/visits/{}/submit", v[1]), &[])
        .await
        .assert_redirect("/visits");

    // County passes one and returns the other; city completes the first.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/visits")
        .await
        .assert_ok()
        .assert_has("LISA MOHAMODE")
        .assert_has("JOHN1");
    county
        .get(&format!("/review/visits/{}", v[0]))
        .await
        .assert_ok()
        .assert_has("上海浦东国际机场");
    county
        .act(&format!("/review/visits/{}/approve", v[0]), &[])
        .await
        .assert_redirect("/review/visits");
    county.get(&format!("/review/visits/{}", v[1])).await;
    county
        .act(
            &format!("/review/visits/{}/return", v[1]),
            &[("reason", "")],
        )
        .await
        .assert_ok()
        .assert_has("请填写退回原因");
    county
        .act(
            &format!("/review/visits/{}/return", v[1]),
            &[("reason", "情况说明须加盖单位公章")],
        )
        .await
        .assert_redirect("/review/visits");
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    assert_eq!(
        wujin.get(&format!("/review/visits/{}", v[0])).await.status,
        404
    );
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/visits/{}", v[0]))
        .await
        .assert_ok();
    city.act(&format!("/review/visits/{}/approve", v[0]), &[])
        .await
        .assert_redirect("/review/visits");
    assert_eq!(visit_state(&app, v[0]).await, "completed");
    assert_eq!(
        city.act(&format!("/review/visits/{}/approve", v[0]), &[])
            .await
            .status,
        409
    );
    // Resubmitting a completed registration is refused.
    c.get("/visits")
        .await
        .assert_has("已销签")
        .assert_has("退回");
    assert_eq!(
        c.act(&format!("/visits/{}/submit", v[0]), &[]).await.status,
        409
    );

    // The unit fixes the returned one and resubmits; it goes back to the county.
    c.get(&format!("/visits/{}", v[1]))
        .await
        .assert_has("情况说明须加盖单位公章");
    c.upload(
        &format!("/visits/{}/upload/statement", v[1]),
        "说明-盖章.pdf",
        pdf("stamped statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[1]));
    c.get(&format!("/visits/{}", v[1])).await;
    c.act(&format!("/visits/{}/submit", v[1]), &[])
        .await
        .assert_redirect("/visits");
    assert_eq!(visit_state(&app, v[1]).await, "pending_county");
    assert!(app
        .sms()
        .iter()
        .any(|(to, t)| *to == r.mobile && t.contains("销签登记被县区外办退回")));

    // Another unit reaches none of it.
    let (_b, cb) = approved_unit(&app, 71, "天宁区", "tianning").await;
    assert_eq!(cb.get(&format!("/visits/{}", v[1])).await.status, 404);
    assert_eq!(
        cb.act(&format!("/visits/{}/submit", v[1]), &[])
            .await
            .status,
        404
    );
    let file: i64 = sqlx::query_scalar("SELECT file_id FROM visit_files LIMIT 1")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(
        cb.get_bytes(&format!("/visits/{}/files/{file}", v[0]))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn overdue_visitors_are_reminded_once_then_weekly_by_one_of_two_instances() {
    let app = TestApp::spawn().await;
    let peer = app.spawn_peer().await;
    let (r, c) = approved_unit(&app, 72, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 2, "tianning").await;
    let departure: String =
        sqlx::query_scalar("SELECT departure FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    let sms_to_unit = || {
        app.sms()
            .iter()
            .filter(|(to, t)| *to == r.mobile && t.contains("逾期"))
            .count()
    };
    // Not overdue yet: 30 days after the planned departure.
    assert_eq!(run_overdue(&app.state).await.unwrap(), 0);
    let days_to_departure = days_until(&app, &departure);
    app.clock().advance((days_to_departure + 30) * 86_400);
    assert_eq!(
        run_overdue(&app.state).await.unwrap(),
        0,
        "exactly 30 days is not yet overdue"
    );
    app.clock().advance(86_400);
    // Both instances run the job at once: each visitor is reminded once, in one message.
    let (a, b) = tokio::join!(run_overdue(&app.state), run_overdue(&peer.state));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    assert_eq!(sms_to_unit(), 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM messages WHERE title = '销签登记逾期提醒'")
            .await,
        1
    );
    // Again the same day: nothing.
    assert_eq!(
        run_overdue(&app.state).await.unwrap() + run_overdue(&peer.state).await.unwrap(),
        0
    );
    app.clock().advance(6 * 86_400);
    assert_eq!(run_overdue(&app.state).await.unwrap(), 0);
    // A week after the first: the weekly reminder, once.
    app.clock().advance(86_400);
    let (a, b) = tokio::join!(run_overdue(&app.state), run_overdue(&peer.state));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    assert_eq!(sms_to_unit(), 2);

    // The unit sees the overdue rows in red at the top and a warning at 团组申报.
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get("/visits")
        .await
        .assert_has("class=\"overdue\"")
        .assert_has("逾期");
    c.get("/groups").await.assert_has("销签登记已逾期");
    c.get("/groups/form").await.assert_ok();
    // The office may make it block new applications.
    sqlx::query("UPDATE settings SET value = '1' WHERE key = 'overdue_blocks_applications'")
        .execute(app.state.pool())
        .await
        .unwrap();
    let p = c.get("/groups/form").await;
    assert_eq!(p.status, 409);
    assert!(p.has("请先办理销签登记"));
    // The form posted by hand is refused the same way, and creates nothing.
    let groups_before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let f = group_fields(&app, 1).await;
    let p = c.post("/groups", &refs(&f)).await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.has("请先办理销签登记"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups_before
    );
    // Reviewers see the overdue list with counts per district; another district does not.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/visits")
        .await
        .assert_has("逾期未销签")
        .assert_has("LISA MOHAMODE");
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin
        .get("/review/visits")
        .await
        .assert_lacks("LISA MOHAMODE");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/visits")
        .await
        .assert_has("天宁区")
        .assert_has("LISA MOHAMODE");
    // Registered (submitted) visitors are no longer overdue.
    let v = visitor_ids(&app, id).await;
    let pvg = port(&app, "上海浦东国际机场").await;
    let exit = departure.clone();
    let arrival: String = sqlx::query_scalar("SELECT arrival FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    c.get(&format!("/visits/{}", v[0])).await;
    c.post(
        &format!("/visits/{}", v[0]),
        &[
            ("kind", "travelled"),
            ("entry_date", &arrival),
            ("entry_port", &pvg),
            ("exit_date", &exit),
            ("exit_port", &pvg),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{}", v[0]));
    for kind in ["entry_stamp", "exit_stamp", "visa_page"] {
        c.upload(
            &format!("/visits/{}/upload/{kind}", v[0]),
            "s.pdf",
            pdf(kind),
        )
        .await;
    }
    c.get(&format!("/visits/{}", v[0])).await;
    c.act(&format!("/visits/{}/submit", v[0]), &[])
        .await
        .assert_redirect("/visits");
    app.clock().advance(7 * 86_400);
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(run_overdue(&app.state).await.unwrap(), 1);
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review/visits")
        .await
        .assert_has("<td data-label=\"县区\">天宁区</td><td data-label=\"逾期人数\">1</td>");

    // Returned by the county, the registration is due again: overdue with the other visitor.
    county.get(&format!("/review/visits/{}", v[0])).await;
    county
        .act(
            &format!("/review/visits/{}/return", v[0]),
            &[("reason", "出境章不清晰")],
        )
        .await
        .assert_redirect("/review/visits");
    city.get("/review/visits")
        .await
        .assert_has("<td data-label=\"县区\">天宁区</td><td data-label=\"逾期人数\">2</td>");
    app.clock().advance(7 * 86_400);
    assert_eq!(run_overdue(&app.state).await.unwrap(), 2);
}

#[tokio::test]
async fn scans_of_the_other_registration_type_are_refused() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 73, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    c.get(&format!("/visits/{v}")).await;
    c.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "行程取消")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    c.get(&format!("/visits/{v}")).await;
    c.upload(
        &format!("/visits/{v}/upload/entry_stamp"),
        "x.pdf",
        pdf("x"),
    )
    .await
    .assert_ok()
    .assert_has("该材料与登记类型不符");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_files").await, 0);
    // A unit not yet approved has no 销签登记.
    let pending = app.client();
    create_account(&app, &pending, 74, "天宁区").await;
    assert_eq!(pending.get("/visits").await.status, 409);
}

#[tokio::test]
async fn the_registration_queue_and_overdue_list_are_paged_with_their_totals() {
    let app = TestApp::spawn().await;
    let (_, c) = approved_unit(&app, 73, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 2, "tianning").await;
    let first = visitor_ids(&app, id).await[0];
    // 53 more unregistered visitors and 51 whose registration waits for the county, copied
    // from the first visitor of the group.
    for i in 0..104i64 {
        sqlx::query(
            "INSERT INTO group_visitors (group_id, seq, surname, given_name, sex, birth_date,
                nationality, passport_no, passport_expiry, employer, position,
                unregistered_departure)
             SELECT group_id, $1, surname, given_name, sex, birth_date, nationality, $2,
                passport_expiry, employer, position, unregistered_departure
             FROM group_visitors WHERE id = $3",
        )
        .bind(100 + i)
        .bind(format!("PGN{i:03}"))
        .bind(first)
        .execute(app.state.pool())
        .await
        .unwrap();
        if i >= 53 {
            sqlx::query(
                "INSERT INTO visit_records (visitor_id, group_id, unit_id, district_id, state,
                    kind, submitted_at, created_at, updated_at)
                 SELECT v.id, g.id, g.unit_id, g.district_id, 'pending_county', 'travelled',
                    $2, $2, $2
                 FROM group_visitors v JOIN invitation_groups g ON g.id = v.group_id
                 WHERE v.passport_no = $1",
            )
            .bind(format!("PGN{i:03}"))
            .bind(1_700_000_000 + i)
            .execute(app.state.pool())
            .await
            .unwrap();
            sqlx::query(
                "UPDATE group_visitors SET unregistered_departure = NULL WHERE passport_no = $1",
            )
            .bind(format!("PGN{i:03}"))
            .execute(app.state.pool())
            .await
            .unwrap();
        }
    }
    let departure: String =
        sqlx::query_scalar("SELECT departure FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    let days_to_departure = days_until(&app, &departure);
    app.clock().advance((days_to_departure + 31) * 86_400);

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    // Page 1 of each list: 50 rows, the true totals, the district's count of 55 overdue.
    county
        .get("/review/visits")
        .await
        .assert_ok()
        .assert_has("待审核（51）")
        .assert_has("PGN053")
        .assert_has("PGN102")
        .assert_lacks("PGN103")
        .assert_has("section=pending&page=2")
        .assert_has("（55）")
        .assert_has("<td data-label=\"县区\">天宁区</td><td data-label=\"逾期人数\">55</td>")
        .assert_has("PGN047")
        .assert_lacks("PGN048")
        .assert_has("section=overdue&page=2");
    // The second page of one list; the other stays on its first page.
    county
        .get("/review/visits?section=overdue&page=2")
        .await
        .assert_ok()
        .assert_has("PGN048")
        .assert_has("PGN052")
        .assert_lacks("PGN047")
        .assert_has("第2/2页")
        .assert_has("PGN053");
    county
        .get("/review/visits?section=pending&page=2")
        .await
        .assert_ok()
        .assert_has("PGN103")
        .assert_lacks("PGN102")
        .assert_has("PGN047");
    // Another district sees none of it.
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin
        .get("/review/visits")
        .await
        .assert_has("待审核（0）")
        .assert_lacks("PGN0");
    // The export holds every row of both lists.
    let sheets = export(&county, "/review/visits?format=xlsx").await;
    assert_eq!(sheets[0].1.len(), 1 + 51);
    assert_eq!(sheets[1].1.len(), 1 + 55);
}

/// Issue 17: [提交] of a registration that lacks something (not saved yet, or without its
/// statement) says at once what to complete, without asking first; a complete one asks, and
/// only the confirmation submits it.
#[tokio::test]
async fn submit_says_what_is_missing_before_asking_to_confirm() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 75, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    let records = || app.scalar("SELECT COUNT(*) FROM visit_records");
    // Not saved yet.
    c.get(&format!("/visits/{v}")).await;
    c.post(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("请先填写登记信息并【保存】")
        .assert_lacks("请确认：");
    assert_eq!(records().await, 0);
    c.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "行程取消")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    let saved = visit_state(&app, v).await;
    // Without the statement.
    c.get(&format!("/visits/{v}")).await;
    c.post(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("提交前请补齐：情况说明")
        .assert_has("【保存】")
        .assert_lacks("请确认：")
        .assert_lacks("【确认提交】");
    assert_eq!(visit_state(&app, v).await, saved);
    c.upload(
        &format!("/visits/{v}/upload/statement"),
        "说明.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    // Complete: the confirmation page, and nothing submitted yet.
    c.get(&format!("/visits/{v}")).await;
    c.post(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_ok()
        .assert_has("请确认：【提交】销签登记")
        .assert_has("【确认提交】")
        .assert_has(&format!("href=\"/visits/{v}\""))
        .assert_lacks("提交前请补齐");
    assert_eq!(visit_state(&app, v).await, saved);
    c.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");
    assert_eq!(visit_state(&app, v).await, "pending_county");
}
