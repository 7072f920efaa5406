//! The paths of a group beside its review (issue 16): 撤回, 删除草稿, 退件 from 已受理,
//! 外交部不予核实 (the 受理编号 kept), 取消邀请 with the visitors' cancellation records, and
//! 再次邀请 — with the refusals for other units, other counties and actions that came too late,
//! and two requests at once.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

async fn audits(app: &TestApp, action: &str, id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_type = 'group' AND object_id = $2",
    )
    .bind(action)
    .bind(id.to_string())
    .fetch_one(app.state.pool())
    .await
    .unwrap()
}

async fn text_of(app: &TestApp, sql: &str, id: i64) -> Option<String> {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn number_of(app: &TestApp, id: i64) -> String {
    text_of(
        app,
        "SELECT number FROM invitation_groups WHERE id = $1",
        id,
    )
    .await
    .unwrap()
}

async fn signed_in(app: &TestApp, login: &str) -> Client {
    let c = app.client();
    c.login(login, DEMO_PASSWORD).await;
    c
}

#[tokio::test]
async fn unit_withdraws_before_the_county_acts_edits_and_resubmits_but_not_after() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 61, "天宁区", "tianning").await;
    let (_r2, other) = approved_unit(&app, 62, "天宁区", "tianning").await;
    let id = submitted_group(&app, &c, 1, &[]).await;
    let number = number_of(&app, id).await;
    let county = signed_in(&app, "tianning").await;
    county.get("/review/groups").await.assert_has(&number);

    // Another unit can neither see nor withdraw it.
    other.get("/groups").await;
    assert_eq!(
        other
            .post(&format!("/groups/{id}/withdraw"), &[])
            .await
            .status,
        404
    );
    assert_eq!(state_of(&app, id).await, "pending_county");

    c.get(&format!("/groups/{id}")).await.assert_has("【撤回】");
    c.post(&format!("/groups/{id}/withdraw"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}?ok=withdrawn"));
    assert_eq!(state_of(&app, id).await, "withdrawn");
    assert_eq!(audits(&app, "group.withdraw", id).await, 1);
    c.get(&format!("/groups/{id}?ok=withdrawn"))
        .await
        .assert_ok()
        .assert_has("已撤回，可修改后重新提交。")
        .assert_has("已撤回")
        .assert_has("【保存】")
        .assert_has("【提交】");
    // It left the county's queue and the county may no longer open it.
    county.get("/review/groups").await.assert_lacks(&number);
    assert_eq!(
        county.get(&format!("/review/groups/{id}")).await.status,
        404
    );

    // Edited and submitted again (a change voids the print: print and scan again).
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "name", "美国客户技术交流团（修改）");
    let vid = visitor_ids(&app, id).await[0].to_string();
    f.push(("v0_id".into(), vid));
    c.get(&format!("/groups/{id}")).await;
    c.post(&format!("/groups/{id}"), &refs(&f))
        .await
        .assert_redirect(&format!("/groups/{id}?ok=saved"));
    print_and_scan(&c, id).await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}?ok=group_submitted"));
    assert_eq!(state_of(&app, id).await, "pending_county");
    county.get("/review/groups").await.assert_has(&number);

    // Once the county passed it, 【撤回】 is gone and refused with a clear message.
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    c.get(&format!("/groups/{id}"))
        .await
        .assert_lacks("【撤回】");
    let p = c.post(&format!("/groups/{id}/withdraw"), &[]).await;
    assert_eq!(p.status, 409);
    p.assert_has("不能撤回");
    assert_eq!(state_of(&app, id).await, "pending_city");
    assert_eq!(audits(&app, "group.withdraw", id).await, 1);
}

#[tokio::test]
async fn withdrawal_and_county_approval_at_once_only_one_wins() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 63, "天宁区", "tianning").await;
    for _ in 0..3 {
        let id = submitted_group(&app, &c, 1, &[]).await;
        let county = signed_in(&app, "tianning").await;
        county.get(&format!("/review/groups/{id}")).await;
        c.get(&format!("/groups/{id}")).await;
        let (wp, ap) = (
            format!("/groups/{id}/withdraw"),
            format!("/review/groups/{id}/approve"),
        );
        let (w, a) = tokio::join!(c.post(&wp, &[]), county.act(&ap, &[]));
        let withdrew = w.status == 303;
        let approved = a.status == 303;
        assert!(
            withdrew != approved,
            "exactly one of the two: {} {}",
            w.status,
            a.status
        );
        let state = state_of(&app, id).await;
        assert_eq!(
            state,
            if withdrew {
                "withdrawn"
            } else {
                "pending_city"
            }
        );
        assert_eq!(
            audits(&app, "group.withdraw", id).await
                + audits(&app, "group.county_approve", id).await,
            1
        );
    }
}

#[tokio::test]
async fn unit_deletes_a_draft_never_submitted_with_its_visitors_and_files() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 64, "天宁区", "tianning").await;
    let (_r2, other) = approved_unit(&app, 65, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 2).await;
    upload_required(&app, &c, id).await;
    let shas: Vec<String> = sqlx::query_scalar(
        "SELECT f.sha256 FROM files f JOIN group_visitors v ON v.passport_file_id = f.id WHERE v.group_id = $1
         UNION SELECT f.sha256 FROM files f JOIN group_attachments a ON a.file_id = f.id WHERE a.group_id = $1",
    )
    .bind(id)
    .fetch_all(app.state.pool())
    .await
    .unwrap();
    assert!(!shas.is_empty());
    let files_before = app.scalar("SELECT COUNT(*) FROM files").await;
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_has("【删除草稿】");
    // Unconfirmed, 【删除草稿】 says what will happen and deletes nothing.
    c.post(&format!("/groups/{id}/delete"), &[])
        .await
        .assert_ok()
        .assert_has("将一并删除，且不能恢复")
        .assert_has("【确认删除】");
    assert_eq!(state_of(&app, id).await, "draft");

    // Another unit: not found, nothing removed.
    other.get("/groups").await;
    assert_eq!(
        other.act(&format!("/groups/{id}/delete"), &[]).await.status,
        404
    );
    assert_eq!(state_of(&app, id).await, "draft");

    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/delete"), &[])
        .await
        .assert_redirect("/groups?ok=draft_deleted");
    c.get("/groups?ok=draft_deleted")
        .await
        .assert_ok()
        .assert_has("草稿已删除。");
    let gone = |sql: &'static str| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(id)
                .fetch_one(app.state.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(
        gone("SELECT COUNT(*) FROM invitation_groups WHERE id = $1").await,
        0
    );
    assert_eq!(
        gone("SELECT COUNT(*) FROM group_visitors WHERE group_id = $1").await,
        0
    );
    assert_eq!(
        gone("SELECT COUNT(*) FROM group_attachments WHERE group_id = $1").await,
        0
    );
    assert!(app.scalar("SELECT COUNT(*) FROM files").await < files_before);
    for sha in &shas {
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE sha256 = $1")
            .bind(sha)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
        assert_eq!(
            app.state.files.exists(sha).await.unwrap(),
            rows > 0,
            "{sha}"
        );
    }
    assert_eq!(audits(&app, "group.delete", id).await, 1);
    assert_eq!(c.get(&format!("/groups/{id}")).await.status, 404);

    // A submitted group is no draft: refused, kept.
    let sub = submitted_group(&app, &c, 1, &[]).await;
    c.get(&format!("/groups/{sub}"))
        .await
        .assert_lacks("【删除草稿】");
    assert_eq!(
        c.act(&format!("/groups/{sub}/delete"), &[]).await.status,
        409
    );
    assert_eq!(state_of(&app, sub).await, "pending_county");
}

#[tokio::test]
async fn city_returns_an_accepted_group_and_the_ministry_refusal_keeps_the_acceptance_number() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 66, "天宁区", "tianning").await;
    let id = submitted_group(&app, &c, 1, &[]).await;
    let county = signed_in(&app, "tianning").await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    let city = signed_in(&app, "city").await;
    city.get(&format!("/review/groups/{id}")).await;
    city.act(&format!("/review/groups/{id}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{id}"));
    let acc = text_of(
        &app,
        "SELECT acceptance_no FROM invitation_groups WHERE id = $1",
        id,
    )
    .await
    .unwrap();

    // 已受理: the city's 【退件】 with its reason.
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_has("【退件】")
        .assert_has("【上报外交部】");
    city.act(&format!("/review/groups/{id}/return"), &[("reason", "")])
        .await
        .assert_ok()
        .assert_has("请填写退件原因");
    assert_eq!(state_of(&app, id).await, "accepted");
    city.act(
        &format!("/review/groups/{id}/return"),
        &[("reason", "邀请事由与日程不符，请补充")],
    )
    .await
    .assert_redirect("/review/groups?ok=group_returned");
    city.get("/review/groups?ok=group_returned")
        .await
        .assert_has("已退件，并已通知申请单位。");
    assert_eq!(state_of(&app, id).await, "returned");
    c.get(&format!("/groups/{id}"))
        .await
        .assert_has("邀请事由与日程不符")
        .assert_has("受理编号保留")
        .assert_has(&acc);

    // Submitted again and accepted again: the same 受理编号, none drawn.
    let drawn = app
        .scalar("SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'acceptance'")
        .await;
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}?ok=group_submitted"));
    review_to_reported(&app, id, "tianning").await;
    assert_eq!(
        text_of(
            &app,
            "SELECT acceptance_no FROM invitation_groups WHERE id = $1",
            id
        )
        .await,
        Some(acc.clone())
    );
    assert_eq!(
        app.scalar("SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'acceptance'")
            .await,
        drawn
    );

    // 已上报外交部: 【外交部不予核实】 needs the Ministry's reason.
    let page = city.get(&format!("/review/groups/{id}")).await;
    page.assert_has("【外交部不予核实】")
        .assert_has("外交部不予核实原因");
    // The county cannot take it (a city route), nor can the unit see the button.
    county.get("/review/groups").await;
    let refused = county
        .act(
            &format!("/review/groups/{id}/ministry_refuse"),
            &[("ministry_reason", "x")],
        )
        .await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    c.get(&format!("/groups/{id}"))
        .await
        .assert_lacks("【外交部不予核实】");
    city.get(&format!("/review/groups/{id}")).await;
    let p = city
        .act(
            &format!("/review/groups/{id}/ministry_refuse"),
            &[("ministry_reason", "  ")],
        )
        .await;
    p.assert_ok().assert_has("请填写外交部不予核实原因");
    assert_eq!(state_of(&app, id).await, "reported");
    let sms_before = app.sms().len();
    city.act(
        &format!("/review/groups/{id}/ministry_refuse"),
        &[("ministry_reason", "邀请单位与被邀请人业务关联不明")],
    )
    .await
    .assert_redirect("/review/groups?ok=group_returned");
    assert_eq!(state_of(&app, id).await, "returned");
    assert_eq!(
        text_of(
            &app,
            "SELECT verification_no FROM invitation_groups WHERE id = $1",
            id
        )
        .await,
        None
    );
    assert_eq!(audits(&app, "group.ministry_refuse", id).await, 1);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'group.ministry_refuse' AND object_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(app.state.pool())
    .await
    .unwrap();
    assert!(detail.contains("HW3255020200727800043"), "{detail}");
    assert_eq!(app.sms().len(), sms_before + 1);
    let unit_page = c.get(&format!("/groups/{id}")).await;
    unit_page
        .assert_has("外交部不予核实：邀请单位与被邀请人业务关联不明")
        .assert_has("受理编号保留")
        .assert_has(&acc);
    // Back with the unit, the city no longer sees it.
    assert_eq!(city.get(&format!("/review/groups/{id}")).await.status, 404);
}

#[tokio::test]
async fn unit_cancels_a_dispatched_invitation_and_its_visitors_need_no_registration() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 67, "天宁区", "tianning").await;
    let (_r2, other) = approved_unit(&app, 68, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 2, "tianning").await;
    let number = number_of(&app, id).await;

    // Other unit, county: refused; no reason: the message beside the field.
    other.get("/groups").await;
    assert_eq!(
        other
            .act(&format!("/groups/{id}/cancel"), &[("cancel_reason", "x")])
            .await
            .status,
        404
    );
    let county = signed_in(&app, "tianning").await;
    county
        .get(&format!("/review/groups/{id}"))
        .await
        .assert_lacks("【取消邀请】");
    let p = county
        .act(
            &format!("/review/groups/{id}/cancel"),
            &[("cancel_reason", "x")],
        )
        .await;
    assert!(matches!(p.status, 403 | 404), "{}", p.status);
    c.get(&format!("/groups/{id}"))
        .await
        .assert_has("【取消邀请】")
        .assert_has("取消原因")
        .assert_has("再次邀请");
    let p = c
        .act(&format!("/groups/{id}/cancel"), &[("cancel_reason", "")])
        .await;
    p.assert_ok().assert_has("请填写取消原因");
    assert_eq!(state_of(&app, id).await, "dispatched");

    c.act(
        &format!("/groups/{id}/cancel"),
        &[("cancel_reason", "外方因故取消来访")],
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=invitation_cancelled"));
    assert_eq!(state_of(&app, id).await, "cancelled");
    c.get(&format!("/groups/{id}?ok=invitation_cancelled"))
        .await
        .assert_has("邀请已取消。")
        .assert_has("已取消")
        .assert_has("外方因故取消来访")
        .assert_lacks("【取消邀请】");
    assert_eq!(audits(&app, "group.cancel", id).await, 1);
    let records: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM visitor_cancellations WHERE group_id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert_eq!(records, 2);
    // The offices are told in 团组待办 (the county of the district, not another) and on the
    // record; the unit's list shows the visitors as cancelled.
    let city = signed_in(&app, "city").await;
    city.get("/review/groups")
        .await
        .assert_has("近30天取消的邀请")
        .assert_has(&number)
        .assert_has("外方因故取消来访");
    county
        .get("/review/groups")
        .await
        .assert_has("近30天取消的邀请")
        .assert_has(&number);
    signed_in(&app, "wujin")
        .await
        .get("/review/groups")
        .await
        .assert_lacks(&number);
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_has("已取消")
        .assert_has("外方因故取消来访");
    let list = c.get("/visits").await;
    list.assert_has("邀请已取消")
        .assert_has(&number)
        .assert_lacks("[未登记]");
    let v = visitor_ids(&app, id).await;
    let p = c.get(&format!("/visits/{}", v[0])).await;
    assert_eq!(p.status, 409);
    p.assert_has("无需办理销签登记");

    // Long past the planned departure: in no overdue list, no reminder.
    app.clock().advance(200 * 86_400);
    assert_eq!(
        laihua::workflow::visits::run_overdue(&app.state)
            .await
            .unwrap(),
        0
    );
    let city = signed_in(&app, "city").await;
    city.get("/review/visits")
        .await
        .assert_lacks("LISA MOHAMODE");
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get("/visits")
        .await
        .assert_has("邀请已取消")
        .assert_lacks("class=\"overdue\"");
    c.get("/groups").await.assert_lacks("已逾期");
}

#[tokio::test]
async fn city_cancels_but_not_once_an_entry_is_registered_and_two_cancels_at_once_make_one() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 69, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let city = signed_in(&app, "city").await;

    // Both sides at once: one cancellation, the other refused.
    city.get(&format!("/review/groups/{id}"))
        .await
        .assert_has("【取消邀请】");
    c.get(&format!("/groups/{id}")).await;
    let sms_before = app.sms().len();
    let (up, kp) = (
        format!("/groups/{id}/cancel"),
        format!("/review/groups/{id}/cancel"),
    );
    let (u, k) = tokio::join!(
        c.act(&up, &[("cancel_reason", "单位取消")]),
        city.act(&kp, &[("cancel_reason", "市外办取消")])
    );
    assert!(
        (u.status == 303) != (k.status == 303),
        "{} {}",
        u.status,
        k.status
    );
    assert_eq!(state_of(&app, id).await, "cancelled");
    assert_eq!(audits(&app, "group.cancel", id).await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM group_cancellations").await,
        1
    );
    // The city's cancellation is sent to the unit by SMS; the unit's own is not.
    assert_eq!(app.sms().len(), sms_before + usize::from(k.status == 303));

    // A visitor whose entry is registered: the cancellation is refused.
    let id2 = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id2).await[0];
    let port: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    app.clock().advance(2 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    c.get(&format!("/visits/{v}")).await;
    c.post(
        &format!("/visits/{v}"),
        &[
            ("kind", "travelled"),
            ("entry_date", &date_in(&app, -1)),
            ("entry_port", &port.to_string()),
            ("exit_date", ""),
            ("exit_port", ""),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    let city = signed_in(&app, "city").await;
    city.get(&format!("/review/groups/{id2}")).await;
    let p = city
        .act(
            &format!("/review/groups/{id2}/cancel"),
            &[("cancel_reason", "市外办取消")],
        )
        .await;
    assert_eq!(p.status, 409);
    p.assert_has("登记了实际入境");
    assert_eq!(state_of(&app, id2).await, "dispatched");
    assert_eq!(audits(&app, "group.cancel", id2).await, 0);
}

#[tokio::test]
async fn invite_again_copies_a_past_group_into_a_new_draft_without_files() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 71, "天宁区", "tianning").await;
    let (_r2, other) = approved_unit(&app, 72, "天宁区", "tianning").await;
    let src = submitted_group(&app, &c, 2, &[]).await;
    let src_number = number_of(&app, src).await;
    let src_updated = app
        .scalar(&format!(
            "SELECT updated_at FROM invitation_groups WHERE id = {src}"
        ))
        .await;

    other.get("/groups").await;
    assert_eq!(other.get(&format!("/groups/{src}/copy")).await.status, 404);
    let draft = saved_group(&app, &c, 1).await;
    assert_eq!(c.get(&format!("/groups/{draft}/copy")).await.status, 409);

    c.get(&format!("/groups/{src}"))
        .await
        .assert_has("再次邀请");
    let form = c.get(&format!("/groups/{src}/copy")).await;
    form.assert_ok()
        .assert_has("再次邀请")
        .assert_has(&src_number)
        .assert_lacks("【提交】</button>");
    assert_eq!(form.input_value("name").unwrap(), "美国客户技术交流团");
    assert_eq!(form.input_value("v1_passport_no").unwrap(), "E0001001");
    assert_eq!(form.input_value("arrival").unwrap(), "");
    assert!(form.input_value("v0_id").is_none());

    // Saved without dates: the form again, still 再次邀请, nothing created.
    let groups_before = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let mut f = group_fields(&app, 2).await;
    set(&mut f, "arrival", "");
    set(&mut f, "departure", "");
    let p = c.post(&format!("/groups/{src}/copy"), &refs(&f)).await;
    p.assert_ok().assert_has("再次邀请");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups_before
    );
    // A passport that now expires before the visit is refused again.
    let mut f = group_fields(&app, 2).await;
    set(&mut f, "v1_passport_expiry", &date_in(&app, 65));
    c.get(&format!("/groups/{src}/copy")).await;
    let p = c.post(&format!("/groups/{src}/copy"), &refs(&f)).await;
    p.assert_ok()
        .assert_has("护照在计划出境日期前到期")
        .assert_has("再次邀请");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups_before
    );

    let f = group_fields(&app, 2).await;
    c.get(&format!("/groups/{src}/copy")).await;
    let p = c.post(&format!("/groups/{src}/copy"), &refs(&f)).await;
    p.assert_redirect("/groups/");
    let new = group_id_in(&p.location);
    assert_ne!(new, src);
    assert_eq!(state_of(&app, new).await, "draft");
    assert_ne!(number_of(&app, new).await, src_number);
    assert_eq!(visitor_ids(&app, new).await.len(), 2);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM group_visitors WHERE group_id = {new} AND passport_file_id IS NOT NULL"
        ))
        .await,
        0
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM group_attachments WHERE group_id = {new}"
        ))
        .await,
        0
    );
    assert_eq!(audits(&app, "group.copy", new).await, 1);
    // The old group is untouched.
    assert_eq!(state_of(&app, src).await, "pending_county");
    assert_eq!(
        app.scalar(&format!(
            "SELECT updated_at FROM invitation_groups WHERE id = {src}"
        ))
        .await,
        src_updated
    );
    assert_eq!(visitor_ids(&app, src).await.len(), 2);
}

#[tokio::test]
async fn a_cancellation_and_an_entry_registered_at_once_never_both_stand() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 73, "天宁区", "tianning").await;
    let port: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(dispatched_group(&app, &c, 1, "tianning").await);
    }
    app.clock().advance(2 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let city = signed_in(&app, "city").await;
    let entry = date_in(&app, -1);
    for id in ids {
        let v = visitor_ids(&app, id).await[0];
        c.get(&format!("/visits/{v}")).await;
        city.get(&format!("/review/groups/{id}")).await;
        let (vp, kp) = (
            format!("/visits/{v}"),
            format!("/review/groups/{id}/cancel"),
        );
        let port = port.to_string();
        let fields = [
            ("kind", "travelled"),
            ("entry_date", entry.as_str()),
            ("entry_port", port.as_str()),
            ("exit_date", ""),
            ("exit_port", ""),
        ];
        let reason = [("cancel_reason", "市外办取消")];
        let (reg, can) = tokio::join!(c.post(&vp, &fields), city.act(&kp, &reason));
        let registered = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM visit_records WHERE visitor_id = {v} AND entry_date IS NOT NULL"
            ))
            .await;
        let state = state_of(&app, id).await;
        assert!(
            (reg.status == 303) != (can.status == 303),
            "{} {}",
            reg.status,
            can.status
        );
        if can.status == 303 {
            assert_eq!((state.as_str(), registered), ("cancelled", 0));
        } else {
            assert_eq!((state.as_str(), registered), ("dispatched", 1));
            can.assert_has("登记了实际入境");
        }
    }
}
