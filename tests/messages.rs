//! Message centre (manual 1.5.6, 2.2): list, detail, the pop-up reminder and its four buttons,
//! staff messages, template downloads and help.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

async fn returned_unit(app: &TestApp, n: u32) -> (Registered, Client) {
    let c = app.client();
    let r = create_account(app, &c, n, "天宁区").await;
    upload_and_submit(app, &c).await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/units/{}", r.unit_id)).await;
    county
        .act(
            &format!("/review/units/{}/return", r.unit_id),
            &[("reason", "请补充<b>盖章</b>的备案表")],
        )
        .await
        .assert_redirect("/review");
    (r, c)
}

async fn newest_message_id(app: &TestApp, unit_id: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM messages WHERE unit_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn returned_registration_pops_up_and_know_button_stops_it() {
    let app = TestApp::spawn().await;
    let (r, c) = returned_unit(&app, 40).await;
    // The submission was the unit's own act (kept as read); the return is new and pops up.
    let page = c.get("/registration").await;
    page.assert_ok()
        .assert_has("新消息1")
        .assert_has("id=\"popup\"")
        .assert_has("注册申请被退回补充");
    for label in ["[关闭]", "[我知道了]", "[查看详细]", "[删除]"] {
        page.assert_has(label);
    }
    // Script in a reason is shown as text.
    page.assert_has("&#60;b&#62;盖章&#60;/b&#62;")
        .assert_lacks("<b>盖章</b>");
    // It was claimed: the next page within ten minutes does not show it again.
    c.get("/registration").await.assert_lacks("id=\"popup\"");
    app.clock().advance(9 * 60);
    c.get("/registration").await.assert_lacks("id=\"popup\"");
    // [关闭] changes nothing: ten minutes later it is back.
    app.clock().advance(61);
    c.get("/registration").await.assert_has("id=\"popup\"");
    // [我知道了] (as the page script sends it) marks it read; it never comes back.
    let id = newest_message_id(&app, r.unit_id).await;
    c.get("/registration").await;
    let p = c
        .post(
            &format!("/messages/{id}/read"),
            &[("back", "/registration")],
        )
        .await;
    p.assert_redirect("/registration");
    app.clock().advance(11 * 60);
    let page = c.get("/registration").await;
    page.assert_has("新消息0").assert_lacks("id=\"popup\"");
    c.get("/messages")
        .await
        .assert_has("注册申请已提交")
        .assert_has("注册申请被退回补充");
    let read: Option<i64> = sqlx::query_scalar("SELECT read_at FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert!(read.is_some());
}

#[tokio::test]
async fn delete_and_view_buttons_and_the_reminder_endpoint() {
    let app = TestApp::spawn().await;
    let (r, c) = returned_unit(&app, 41).await;
    let returned_id = newest_message_id(&app, r.unit_id).await;
    // A second unread message, from the county.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/units/{}", r.unit_id)).await;
    app.clock().advance(1);
    county
        .post(
            &format!("/review/units/{}/message", r.unit_id),
            &[("title", "补充材料提醒"), ("body", "请尽快补充")],
        )
        .await
        .assert_redirect(&format!("/review/units/{}", r.unit_id));
    let id = newest_message_id(&app, r.unit_id).await;
    // The script's endpoint: JSON with the due message, then nothing until it is due again.
    let (status, ct, body) = c.get_bytes("/messages/popup").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["id"].as_i64().unwrap(), id);
    assert_eq!(v["unread"].as_i64().unwrap(), 2);
    assert_eq!(c.get_bytes("/messages/popup").await.0, 204);
    // Another tab of the same unit agrees (the claim is on the server).
    let tab = app.client();
    tab.login(&r.login, UNIT_PASSWORD).await;
    assert_eq!(tab.get_bytes("/messages/popup").await.0, 204);
    // Without a session: nothing, and no error page.
    let anon = app.client();
    let (status, _, body) = anon.get_bytes("/messages/popup").await;
    assert_eq!((status, body.len()), (204, 0));
    // [删除], confirmed: gone from the list, never pops up again.
    c.get("/messages").await;
    let p = c.act(&format!("/messages/{id}/delete"), &[]).await;
    p.assert_redirect("/messages?ok=deleted");
    app.clock().advance(20 * 60);
    // What pops up now is the other unread message, not the deleted one.
    let v: serde_json::Value =
        serde_json::from_slice(&c.get_bytes("/messages/popup").await.2).unwrap();
    assert_ne!(v["id"].as_i64().unwrap(), id);
    c.get("/messages").await.assert_lacks("补充材料提醒");
    // [查看详细] opens the detail and marks it read.
    let other = v["id"].as_i64().unwrap();
    assert_eq!(other, returned_id);
    c.get(&format!("/messages/{other}"))
        .await
        .assert_ok()
        .assert_has("注册申请被退回补充");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM messages WHERE id = {other} AND read_at IS NOT NULL"
        ))
        .await,
        1
    );
    c.get("/messages").await.assert_has("新消息0");
}

#[tokio::test]
async fn script_requests_get_no_content_and_another_units_message_is_refused() {
    let app = TestApp::spawn().await;
    let (a, ca) = returned_unit(&app, 42).await;
    let (_b, cb) = returned_unit(&app, 43).await;
    let id = newest_message_id(&app, a.unit_id).await;
    cb.get("/messages").await;
    assert_eq!(
        cb.post(&format!("/messages/{id}/read"), &[]).await.status,
        404
    );
    assert_eq!(
        cb.act(&format!("/messages/{id}/delete"), &[]).await.status,
        404
    );
    assert_eq!(cb.get(&format!("/messages/{id}")).await.status, 404);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND read_at IS NULL AND deleted_at IS NULL")).await, 1);
    // The page script's request (X-Requested-With: fetch) gets 204 rather than a redirect.
    ca.get("/messages").await;
    let p = ca.post_fetch(&format!("/messages/{id}/read")).await;
    assert_eq!(p.status, 204);
}

#[tokio::test]
async fn staff_write_messages_and_city_broadcasts_by_district() {
    let app = TestApp::spawn().await;
    let (a, ca) = approved_unit(&app, 44, "天宁区", "tianning").await;
    let (_b, cb) = approved_unit(&app, 45, "武进区", "wujin").await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get(&format!("/review/units/{}", a.unit_id))
        .await
        .assert_has("发送站内信");
    // An empty message is refused beside the field, the title kept.
    let p = county
        .post(
            &format!("/review/units/{}/message", a.unit_id),
            &[("title", "年检提醒"), ("body", "  ")],
        )
        .await;
    p.assert_ok().assert_has("请填写消息内容");
    assert_eq!(p.input_value("title").unwrap(), "年检提醒");
    county
        .post(
            &format!("/review/units/{}/message", a.unit_id),
            &[
                ("title", "年检提醒"),
                (
                    "body",
                    "<script>alert(1)</script>请于月底前更新信用公示证明。",
                ),
            ],
        )
        .await
        .assert_redirect(&format!("/review/units/{}?ok=sent", a.unit_id));
    let page = ca.visit("/messages").await;
    page.assert_has("年检提醒").assert_has("天宁区外办");
    let id = newest_message_id(&app, a.unit_id).await;
    let detail = ca.get(&format!("/messages/{id}")).await;
    detail
        .assert_has("&#60;script&#62;alert(1)&#60;/script&#62;")
        .assert_lacks("<script>alert(1)");
    // A county cannot write to another district's unit, nor broadcast.
    let b_id: i64 = sqlx::query_scalar("SELECT id FROM units WHERE id <> $1")
        .bind(a.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(
        county
            .post(
                &format!("/review/units/{b_id}/message"),
                &[("title", "x"), ("body", "y")]
            )
            .await
            .status,
        404
    );
    assert_eq!(county.get("/notices/new").await.status, 403);
    // City to all units of 武进区.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/notices/new").await.assert_ok();
    let wujin = app.district_id("武进区").await.to_string();
    city.post(
        "/notices",
        &[
            ("target", &wujin),
            ("title", "武进区通知"),
            ("body", "请参加培训"),
        ],
    )
    .await
    .assert_redirect("/notices/new?ok=sent");
    cb.get("/messages").await.assert_has("武进区通知");
    ca.get("/messages").await.assert_lacks("武进区通知");
    city.post(
        "/notices",
        &[
            ("target", "all"),
            ("title", "全市通知"),
            ("body", "系统维护"),
        ],
    )
    .await
    .assert_redirect("/notices/new?ok=sent");
    cb.get("/messages").await.assert_has("全市通知");
    ca.get("/messages").await.assert_has("全市通知");
    city.post(
        "/notices",
        &[("target", "all"), ("title", ""), ("body", "")],
    )
    .await
    .assert_ok()
    .assert_has("请填写标题");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'message.broadcast'")
            .await,
        2
    );
}

#[tokio::test]
async fn message_list_is_paginated_newest_first() {
    let app = TestApp::spawn().await;
    let (a, ca) = approved_unit(&app, 46, "天宁区", "tianning").await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    for i in 1..=25 {
        county.get(&format!("/review/units/{}", a.unit_id)).await;
        county
            .post(
                &format!("/review/units/{}/message", a.unit_id),
                &[("title", &format!("第{i:02}号通知")), ("body", "内容")],
            )
            .await;
        app.clock().advance(1);
    }
    let p1 = ca.get("/messages").await;
    p1.assert_has("第25号通知")
        .assert_lacks("第05号通知")
        .assert_has("下一页");
    assert!(p1.body.find("第25号通知").unwrap() < p1.body.find("第24号通知").unwrap());
    ca.get("/messages?page=2")
        .await
        .assert_has("第05号通知")
        .assert_has("上一页");
}

#[tokio::test]
async fn templates_are_listed_downloaded_and_replaced_by_admin() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let page = c.get("/templates").await;
    page.assert_ok()
        .assert_has("《邀请函》申办单位备案表")
        .assert_has("【样式模板】");
    let t = unit_types(&app).await[0].0;
    let (status, _, bytes) = c.get_bytes(&format!("/templates/{t}")).await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"{\\rtf1"));
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin.get("/admin/templates").await.assert_ok();
    admin
        .upload(
            &format!("/admin/templates/{t}"),
            "note.txt",
            b"plain text".to_vec(),
        )
        .await
        .assert_ok()
        .assert_has("模板须为PDF、Word、Excel或RTF文件");
    admin.get("/admin/templates").await;
    admin
        .upload(
            &format!("/admin/templates/{t}"),
            "备案表2026.pdf",
            pdf("new template"),
        )
        .await
        .assert_redirect("/admin/templates");
    let (status, ct, bytes) = c.get_bytes(&format!("/templates/{t}")).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF"));
    // Only admins replace templates.
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(county.get("/admin/templates").await.status, 403);
}

#[tokio::test]
async fn help_page_covers_the_manual_and_shows_the_office_phone() {
    let app = TestApp::spawn().await;
    sqlx::query("UPDATE settings SET value = '0519-12345678' WHERE key = 'office_phone'")
        .execute(app.state.pool())
        .await
        .unwrap();
    let c = app.client();
    let p = c.get("/help").await;
    p.assert_ok().assert_has("0519-12345678");
    for topic in [
        "【用户注册】",
        "[获取验证码]",
        "忘记密码",
        "[修改密码]",
        "[绑定]",
        "[我知道了]",
        "来华申报",
        "【打印】",
        "受理编号",
        "核实单号",
        "销签登记",
        "模板下载",
    ] {
        p.assert_has(topic);
    }
}

#[tokio::test]
async fn approved_unit_sees_the_function_menu_and_a_pending_one_its_registration_help_and_templates(
) {
    let app = TestApp::spawn().await;
    let (_a, ca) = approved_unit(&app, 47, "天宁区", "tianning").await;
    let home = ca.get("/home").await;
    for item in ["模板下载", "系统帮助", "新消息", "注销"] {
        home.assert_has(item);
    }
    let c = app.client();
    create_account(&app, &c, 48, "天宁区").await;
    let p = c.get("/registration").await;
    // Issue 17: a unit waiting for approval also finds help and the templates; not the
    // functions it may not use yet.
    p.assert_has("用户注册信息")
        .assert_has(">模板下载<")
        .assert_has(">系统帮助<")
        .assert_lacks(">来华申报<");
    // The login page links help and shows the office phone once it is set.
    app.client()
        .get("/login")
        .await
        .assert_has("href=\"/help\"");
}

#[tokio::test]
async fn two_server_instances_do_not_double_the_reminder() {
    let app = TestApp::spawn().await;
    let peer = app.spawn_peer().await;
    let (_r, c) = returned_unit(&app, 49).await;
    let on_peer = c.at(&peer.base);
    let (a, b) = tokio::join!(
        c.get_bytes("/messages/popup"),
        on_peer.get_bytes("/messages/popup")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 204]);
    // Ten minutes later exactly one of them shows it again.
    app.clock().advance(10 * 60);
    let (a, b) = tokio::join!(on_peer.get("/registration"), c.get("/registration"));
    assert_eq!(
        [a.has("id=\"popup\""), b.has("id=\"popup\"")]
            .iter()
            .filter(|x| **x)
            .count(),
        1
    );
}

/// Issue 17: [删除] asks first. Posted without `confirm=1` nothing is deleted, and the page
/// says so and leads back to the page the reminder was on (or to the message); the reminder's
/// script asks in its own dialog and sends the confirmation, and gets 204.
#[tokio::test]
async fn deleting_a_message_asks_first() {
    let app = TestApp::spawn().await;
    let (a, c) = returned_unit(&app, 46).await;
    let id = newest_message_id(&app, a.unit_id).await;
    let kept = format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND deleted_at IS NULL");
    // The reminder's form, without script: it carries the page it was on.
    c.get("/registration").await;
    c.post(
        &format!("/messages/{id}/delete"),
        &[("back", "/registration")],
    )
    .await
    .assert_ok()
    .assert_has("请确认：【删除】消息")
    .assert_has("不能恢复，也不再弹出提醒")
    .assert_has("【确认删除】")
    .assert_has("name=\"back\" value=\"/registration\"")
    .assert_has("href=\"/registration\"");
    assert_eq!(app.scalar(&kept).await, 1);
    // The message page's form: back to the message.
    c.get(&format!("/messages/{id}")).await;
    c.post(&format!("/messages/{id}/delete"), &[])
        .await
        .assert_ok()
        .assert_has("【确认删除】")
        .assert_has(&format!("href=\"/messages/{id}\""));
    assert_eq!(app.scalar(&kept).await, 1);
    c.get("/messages").await.assert_has("注册申请被退回");
    // The reminder's script, once the user said yes.
    assert_eq!(
        c.act_fetch(&format!("/messages/{id}/delete")).await.status,
        204
    );
    assert_eq!(app.scalar(&kept).await, 0);
    c.get("/messages")
        .await
        .assert_lacks(&format!("/messages/{id}\""));
}
