//! The registration journey of manual 1.3 and its reviews, driven over HTTP.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

#[tokio::test]
async fn unit_registers_and_is_approved_by_county_then_city() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 1, "天宁区").await;

    // Before approval the unit sees only its registration.
    c.visit("/home").await.assert_ok().assert_has("未提交");
    upload_and_submit(&app, &c).await;
    c.get("/registration").await.assert_ok().assert_has("待县区外办初审");

    // County of the unit's district sees it in its queue; another district's does not.
    let other = app.client();
    other.login("wujin", DEMO_PASSWORD).await;
    other.get("/review").await.assert_ok().assert_lacks(&r.name);
    assert_eq!(other.get(&format!("/review/units/{}", r.unit_id)).await.status, 404);

    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await.assert_redirect("/home");
    county.get("/review").await.assert_ok().assert_has(&r.name);
    let detail = county.get(&format!("/review/units/{}", r.unit_id)).await;
    detail.assert_ok().assert_has(&r.code).assert_has("【审核通过】").assert_has("【退回】");
    // City does not see it before county passed it.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review").await.assert_ok().assert_lacks(&r.name);
    assert_eq!(city.get(&format!("/review/units/{}", r.unit_id)).await.status, 404);

    county
        .post(&format!("/review/units/{}/approve", r.unit_id), &[("comment", "材料齐全")])
        .await
        .assert_redirect("/review");
    city.get("/review").await.assert_ok().assert_has(&r.name);
    city.get(&format!("/review/units/{}", r.unit_id)).await.assert_ok();
    city.post(&format!("/review/units/{}/approve", r.unit_id), &[("comment", "")])
        .await
        .assert_redirect("/review");

    // The unit is told by SMS and site message, and signs in to an approved home.
    let texts: Vec<String> = app.sms().into_iter().filter(|(to, _)| *to == r.mobile).map(|(_, t)| t).collect();
    assert!(texts.iter().any(|t| t.contains("已审核通过")), "{texts:?}");
    let fresh = app.client();
    fresh.login(&r.login, UNIT_PASSWORD).await.assert_redirect("/home");
    fresh.get("/home").await.assert_ok().assert_has("您的单位已审核通过");
    let msgs = fresh.get("/messages").await;
    msgs.assert_ok().assert_has("注册申请审核通过").assert_has("注册申请初审通过");
    let state: String = sqlx::query_scalar("SELECT state FROM units WHERE id = $1")
        .bind(r.unit_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(state, "approved");
    // Every step is in the audit log.
    for action in ["unit.create", "unit.submit", "unit.county_approve", "unit.city_approve"] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_id = $2")
            .bind(action)
            .bind(r.unit_id.to_string())
            .fetch_one(app.state.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "{action}");
    }
}
