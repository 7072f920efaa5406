//! Issue 18: the rules on personal information (个人信息处理规则): public, accepted at
//! registration (recorded with the unit), and confirmed for each group before it is saved (the
//! confirmation recorded with the group).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[tokio::test]
async fn the_rules_are_accepted_at_registration_and_confirmed_for_each_group() {
    let app = TestApp::spawn().await;
    // Public, and on the registration notice.
    app.client()
        .get("/rules")
        .await
        .assert_ok()
        .assert_has("个人信息处理规则")
        .assert_has("SM4");
    app.client()
        .get("/register")
        .await
        .assert_ok()
        .assert_has("个人信息处理规则")
        .assert_has("护照号码、出生日期和证件扫描件属于敏感个人信息");

    let (r, unit) = approved_unit(&app, 1951, "天宁区", "tianning").await;
    let accepted: Option<i64> =
        sqlx::query_scalar("SELECT rules_accepted_at FROM units WHERE id = $1")
            .bind(r.unit_id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert!(
        accepted.is_some(),
        "the acceptance is recorded with the unit"
    );

    // The form asks; without the confirmation nothing is saved and what was typed is kept.
    let form = unit.get("/groups/form").await;
    form.assert_ok()
        .assert_has("告知全部来访人员")
        .assert_has("/rules");
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "informed", "");
    let groups = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let p = unit.post("/groups", &refs(&f)).await;
    p.assert_ok()
        .assert_has("请确认已将《个人信息处理规则》告知全部来访人员并取得其同意");
    assert_eq!(p.input_value("v0_passport_no").as_deref(), Some("E0001000"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups
    );
    // Confirmed: saved with the time of the confirmation; the form shows it ticked.
    set(&mut f, "informed", "1");
    let p = unit.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id = group_id_in(&p.location);
    let informed: Option<i64> =
        sqlx::query_scalar("SELECT informed_at FROM invitation_groups WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .unwrap();
    assert_eq!(informed, Some(app.state.now()));
    let page = unit.get(&format!("/groups/{id}")).await;
    assert!(
        page.body.contains(r#"name="informed" value="1" checked"#),
        "ticked on the saved group's form"
    );
}
