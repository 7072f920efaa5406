//! Administration: staff accounts (issue 6, first part).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

fn shown_password(page: &Page) -> String {
    let marker = "class=\"secret\">";
    let start = page.body.find(marker).unwrap() + marker.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_string()
}

#[tokio::test]
async fn admin_creates_a_county_account_that_sees_only_its_district() {
    let app = TestApp::spawn().await;
    // A submitted registration in each of two districts.
    let a = app.client();
    let ra = create_account(&app, &a, 80, "天宁区").await;
    upload_and_submit(&app, &a).await;
    let b = app.client();
    let rb = create_account(&app, &b, 81, "武进区").await;
    upload_and_submit(&app, &b).await;

    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin
        .get("/admin/staff")
        .await
        .assert_ok()
        .assert_has("新增工作人员帐号");
    let wujin = app.district_id("武进区").await.to_string();
    // Bad input: no district for a county account; a login ID that exists (any case); no name.
    admin
        .post(
            "/admin/staff",
            &[
                ("login_id", "wujin2"),
                ("name", "武进二"),
                ("role", "county"),
                ("district_id", ""),
            ],
        )
        .await
        .assert_ok()
        .assert_has("须选择所属县区");
    admin
        .post(
            "/admin/staff",
            &[
                ("login_id", "CITY"),
                ("name", "x"),
                ("role", "city"),
                ("district_id", ""),
            ],
        )
        .await
        .assert_ok()
        .assert_has("该登录ID已被使用");
    let p = admin
        .post(
            "/admin/staff",
            &[
                ("login_id", "wujin2"),
                ("name", ""),
                ("role", "county"),
                ("district_id", &wujin),
            ],
        )
        .await;
    p.assert_ok().assert_has("请填写姓名");
    assert_eq!(p.input_value("login_id").unwrap(), "wujin2");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE login_key = 'wujin2'")
            .await,
        0
    );
    let p = admin
        .post(
            "/admin/staff",
            &[
                ("login_id", "wujin2"),
                ("name", "武进二"),
                ("role", "county"),
                ("district_id", &wujin),
            ],
        )
        .await;
    p.assert_ok().assert_has("只显示这一次");
    let password = shown_password(&p);
    // The shown password works once, and must be changed first.
    let county = app.client();
    county
        .login("wujin2", &password)
        .await
        .assert_redirect("/home");
    county
        .get("/review")
        .await
        .assert_redirect("/account/password");
    county.get("/account/password").await;
    county
        .post(
            "/account/password",
            &[
                ("old_password", &password),
                ("password", "Wujin#2026ok"),
                ("password2", "Wujin#2026ok"),
            ],
        )
        .await
        .assert_redirect("/home");
    let q = county.get("/review").await;
    q.assert_ok().assert_has(&rb.name).assert_lacks(&ra.name);
    assert_eq!(
        county
            .get(&format!("/review/units/{}", ra.unit_id))
            .await
            .status,
        404
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.create' AND detail = 'county wujin2'").await, 1);
}

#[tokio::test]
async fn only_admins_manage_staff_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let city_id = app
        .scalar("SELECT id FROM users WHERE login_key = 'city'")
        .await;
    // A city user posting the admin forms by hand is refused and changes nothing.
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get("/review").await;
    assert_eq!(city.get("/admin/staff").await.status, 403);
    assert_eq!(
        city.post(
            &format!("/admin/staff/{city_id}"),
            &[("name", "市外办"), ("role", "admin"), ("district_id", "")]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        city.post(
            "/admin/staff",
            &[("login_id", "sneaky"), ("name", "x"), ("role", "admin")]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .await,
        2
    );
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(county.get("/admin").await.status, 403);

    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    // Disabling the first administrator is fine while another one is active.
    let first = app
        .scalar("SELECT id FROM users WHERE login_key = 'admin'")
        .await;
    admin
        .get(&format!("/admin/staff/{first}"))
        .await
        .assert_ok();
    admin
        .post(
            &format!("/admin/staff/{first}"),
            &[
                ("name", "系统管理员"),
                ("role", "admin"),
                ("district_id", ""),
                ("disabled", "1"),
            ],
        )
        .await
        .assert_redirect("/admin/staff");
    // The last active one can neither be disabled nor given another role.
    let me = app
        .scalar("SELECT id FROM users WHERE login_key = 'demoadmin'")
        .await;
    admin.get(&format!("/admin/staff/{me}")).await;
    admin
        .post(
            &format!("/admin/staff/{me}"),
            &[
                ("name", "演示管理员"),
                ("role", "admin"),
                ("district_id", ""),
                ("disabled", "1"),
            ],
        )
        .await
        .assert_ok()
        .assert_has("最后一个启用的管理员");
    admin
        .post(
            &format!("/admin/staff/{me}"),
            &[
                ("name", "演示管理员"),
                ("role", "city"),
                ("district_id", ""),
            ],
        )
        .await
        .assert_ok()
        .assert_has("最后一个启用的管理员");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .await,
        1
    );
    // Disabling a staff account ends its sessions and sign-ins.
    admin.get(&format!("/admin/staff/{city_id}")).await;
    admin
        .post(
            &format!("/admin/staff/{city_id}"),
            &[
                ("name", "市外办"),
                ("role", "city"),
                ("district_id", ""),
                ("disabled", "1"),
            ],
        )
        .await
        .assert_redirect("/admin/staff");
    city.get("/review").await.assert_redirect("/login");
    app.client()
        .login("city", DEMO_PASSWORD)
        .await
        .assert_has("登录ID或密码错误");
}

#[tokio::test]
async fn reset_password_is_shown_once_and_must_be_changed() {
    let app = TestApp::spawn().await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let id = app
        .scalar("SELECT id FROM users WHERE login_key = 'tianning'")
        .await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    admin.get(&format!("/admin/staff/{id}")).await;
    let p = admin.act(&format!("/admin/staff/{id}/reset"), &[]).await;
    p.assert_ok().assert_has("密码已重置");
    let password = shown_password(&p);
    // The old session and password are gone; the new one must be changed first.
    county.get("/review").await.assert_redirect("/login");
    app.client()
        .login("tianning", DEMO_PASSWORD)
        .await
        .assert_has("登录ID或密码错误");
    let c = app.client();
    c.login("tianning", &password)
        .await
        .assert_redirect("/home");
    c.get("/review").await.assert_redirect("/account/password");
    // The password is not shown again.
    admin
        .get(&format!("/admin/staff/{id}"))
        .await
        .assert_lacks(&password);
}

#[tokio::test]
async fn dishonesty_list_rebinding_and_password_reset_of_a_unit() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 82, "天宁区", "tianning").await;
    let (_o, _) = approved_unit(&app, 83, "武进区", "wujin").await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    // Search by credit code, by login ID in another case, by district.
    admin
        .get(&format!("/admin/units?q={}", r.code))
        .await
        .assert_has("共1个单位")
        .assert_has(&r.name);
    admin
        .get(&format!("/admin/units?q={}", r.login.to_uppercase()))
        .await
        .assert_has("共1个单位");
    let wujin = app.district_id("武进区").await;
    admin
        .get(&format!("/admin/units?district={wujin}"))
        .await
        .assert_has("共1个单位")
        .assert_lacks(&r.name);
    admin
        .get("/admin/units?state=approved")
        .await
        .assert_has("共2个单位");

    // The dishonesty list: a reason is required; the unit's session ends and sign-in is refused.
    admin
        .get(&format!("/admin/units/{}", r.unit_id))
        .await
        .assert_ok()
        .assert_has(&r.name);
    admin
        .post(
            &format!("/admin/units/{}/blacklist", r.unit_id),
            &[("reason", " ")],
        )
        .await
        .assert_ok()
        .assert_has("请填写列入失信企业名单的原因");
    admin
        .act(
            &format!("/admin/units/{}/blacklist", r.unit_id),
            &[("reason", "提供虚假材料")],
        )
        .await
        .assert_redirect(&format!("/admin/units/{}", r.unit_id));
    c.get("/home").await.assert_redirect("/login");
    app.client()
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_has("帐号状态异常");
    admin
        .get(&format!("/admin/units/{}", r.unit_id))
        .await
        .assert_has("提供虚假材料")
        .assert_has("移出失信企业名单");
    admin
        .post(&format!("/admin/units/{}/unblacklist", r.unit_id), &[])
        .await
        .assert_redirect(&format!("/admin/units/{}", r.unit_id));
    app.client()
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");

    // A unit that lost its phone: staff rebind it, the next code goes to the new number.
    admin.get(&format!("/admin/units/{}", r.unit_id)).await;
    admin
        .act(
            &format!("/admin/units/{}/mobile", r.unit_id),
            &[("mobile", "12345")],
        )
        .await
        .assert_ok()
        .assert_has("请输入正确的11位手机号码");
    admin
        .act(
            &format!("/admin/units/{}/mobile", r.unit_id),
            &[("mobile", "15900000082")],
        )
        .await
        .assert_redirect(&format!("/admin/units/{}", r.unit_id));
    let f = app.client();
    f.get("/forgot").await;
    f.post("/forgot", &[("credit_code", &r.code), ("name", &r.name)])
        .await
        .assert_redirect("/forgot/sms");
    f.get("/forgot/sms").await.assert_has("159****0082");
    f.post("/forgot/sms", &[("action", "send")])
        .await
        .assert_has("验证码已发送");
    assert_eq!(app.sms().last().unwrap().0, "15900000082");

    // Password reset by staff: shown once, to be changed at the next sign-in.
    admin.get(&format!("/admin/units/{}", r.unit_id)).await;
    let p = admin
        .act(&format!("/admin/units/{}/reset", r.unit_id), &[])
        .await;
    p.assert_ok().assert_has("密码已重置");
    let password = shown_password(&p);
    app.client()
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_has("登录ID或密码错误");
    let u = app.client();
    u.login(&r.login, &password).await.assert_redirect("/home");
    u.get("/home").await.assert_redirect("/account/password");
    for action in [
        "unit.blacklist",
        "unit.unblacklist",
        "unit.mobile_by_staff",
        "unit.reset_password",
    ] {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await,
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn settings_and_texts_are_edited_and_rendered_safely() {
    let app = TestApp::spawn().await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let page = admin.get("/admin/settings").await;
    page.assert_ok();
    assert_eq!(
        page.input_value("office_name").unwrap(),
        "常州市人民政府外事办公室"
    );
    let fields = |phone: &str, days: &str, holidays: &str| {
        vec![
            ("city_name", "常州市".to_string()),
            ("office_name", "常州市人民政府外事办公室".to_string()),
            ("system_name", "常州市邀请外国人来华信息系统".to_string()),
            ("office_phone", phone.to_string()),
            ("processing_days", days.to_string()),
            ("overdue_days", "30".to_string()),
            ("overdue_warn_days", "0".to_string()),
            ("holidays", holidays.to_string()),
        ]
    };
    // Bad values are refused beside their fields; nothing is saved.
    let bad = fields("abc", "0", "2026-10-01\n2026-13-01");
    let p = admin.post("/admin/settings", &as_refs(&bad)).await;
    p.assert_ok()
        .assert_has("请输入正确的电话号码")
        .assert_has("办理时限应为1至60之间的整数")
        .assert_has("2026-13-01");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM settings WHERE key = 'processing_days' AND value = '5'")
            .await,
        1
    );
    let good = fields("0519-85681234", "7", "2026-10-02\n2026-10-01");
    admin
        .post("/admin/settings", &as_refs(&good))
        .await
        .assert_redirect("/admin/settings?ok=saved");
    let holidays: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'holidays'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert_eq!(holidays, "2026-10-01,2026-10-02");
    // Every instance shows the change at once: the help page has the new phone.
    app.client().get("/help").await.assert_has("0519-85681234");
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county
        .get("/review/groups")
        .await
        .assert_has("提交后7个工作日");

    // Texts in Markdown: script shows as text, a javascript: link loses its target.
    admin
        .get("/admin/content/help")
        .await
        .assert_ok()
        .assert_has("预览");
    admin
        .post("/admin/content/help", &[("body", "## 新帮助\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(1)) [登录](/login)")])
        .await
        .assert_redirect("/admin/content/help?ok=saved");
    let help = app.client().get("/help").await;
    help.assert_has("<h2>新帮助</h2>")
        .assert_lacks("<script>alert(1)")
        .assert_lacks("javascript:")
        .assert_has("href=\"/login\"");
    admin
        .post("/admin/content/help", &[("body", "  ")])
        .await
        .assert_ok()
        .assert_has("内容不能为空");
    assert_eq!(admin.get("/admin/content/nonsense").await.status, 404);
    // The registration notice edited here is what the wizard shows.
    admin
        .post(
            "/admin/content/registration_notice",
            &[("body", "第一条：新的注册须知。")],
        )
        .await
        .assert_redirect("/admin/content/registration_notice");
    app.client()
        .get("/register")
        .await
        .assert_has("第一条：新的注册须知。");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('settings.update', 'content.update')"
        )
        .await,
        3
    );
    // Only administrators.
    assert_eq!(county.get("/admin/settings").await.status, 403);
    assert_eq!(
        county
            .post("/admin/content/help", &[("body", "x")])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn audit_log_viewer_filters_and_links_to_objects() {
    let app = TestApp::spawn().await;
    let (r, _c) = approved_unit(&app, 84, "天宁区", "tianning").await;
    app.client().login("city", "Wrong#pass1").await;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let all = admin.get("/admin/audit").await;
    all.assert_ok()
        .assert_has("laihua audit verify")
        .assert_has("unit.city_approve");
    let failed = admin.get("/admin/audit?action=login.failed").await;
    failed
        .assert_has("共1条记录")
        .assert_has("登录失败")
        .assert_lacks("unit.city_approve");
    let unit = admin
        .get(&format!(
            "/admin/audit?object_type=unit&object_id={}",
            r.unit_id
        ))
        .await;
    unit.assert_has(&format!("href=\"/admin/units/{}\"", r.unit_id))
        .assert_has("市外办审核通过")
        .assert_lacks("login.failed");
    admin
        .get("/admin/audit?actor=%E5%A4%A9%E5%AE%81")
        .await
        .assert_has("县区外办初审通过")
        .assert_lacks("市外办审核通过</td>");
    let tomorrow = date_in(&app, 1);
    admin
        .get(&format!("/admin/audit?from={tomorrow}"))
        .await
        .assert_has("共0条记录");
    admin
        .get("/admin/audit?from=2026-02-30")
        .await
        .assert_has("日期格式应为");
    // No route changes the log.
    assert_eq!(admin.post("/admin/audit", &[]).await.status, 405);
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    assert_eq!(county.get("/admin/audit").await.status, 403);
}

/// Issue 17: the administrator's irreversible actions ask first. Posted without `confirm=1`,
/// each changes nothing and its page says what will happen, carries what was typed and leads
/// back to the account or unit; confirmed, it acts.
#[tokio::test]
async fn administrators_irreversible_actions_ask_first_and_act_when_confirmed() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 84, "天宁区", "tianning").await;
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    let staff = app
        .scalar("SELECT id FROM users WHERE login_key = 'tianning'")
        .await;
    let unit = r.unit_id;
    let admin = app.client();
    admin.login("demoadmin", DEMO_PASSWORD).await;
    let app = &app;
    let audited = |action: &'static str| async move {
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
        ))
        .await
    };

    // 重置密码 of a staff account.
    admin.get(&format!("/admin/staff/{staff}")).await;
    admin
        .post(&format!("/admin/staff/{staff}/reset"), &[])
        .await
        .assert_ok()
        .assert_has("请确认：【重置密码】")
        .assert_has("原密码立即失效")
        .assert_has("【确认重置密码】")
        .assert_has(&format!("href=\"/admin/staff/{staff}\""))
        .assert_lacks("密码已重置");
    county.get("/review").await.assert_ok();
    assert_eq!(audited("staff.reset_password").await, 0);
    admin
        .act(&format!("/admin/staff/{staff}/reset"), &[])
        .await
        .assert_ok()
        .assert_has("密码已重置");
    county.get("/review").await.assert_redirect("/login");

    // 列入失信企业名单: the reason is shown and carried.
    admin.get(&format!("/admin/units/{unit}")).await;
    admin
        .post(
            &format!("/admin/units/{unit}/blacklist"),
            &[("reason", "提供虚假材料")],
        )
        .await
        .assert_ok()
        .assert_has("请确认：【列入失信企业名单】")
        .assert_has("不能登录系统")
        .assert_has("<dd class=\"pre\">提供虚假材料</dd>")
        .assert_has("name=\"reason\" value=\"提供虚假材料\"")
        .assert_has("【确认列入失信企业名单】")
        .assert_has(&format!("href=\"/admin/units/{unit}\""));
    let listed =
        format!("SELECT COUNT(*) FROM units WHERE id = {unit} AND blacklist_reason IS NOT NULL");
    assert_eq!(app.scalar(&listed).await, 0);
    c.get("/home").await.assert_ok();
    admin
        .act(
            &format!("/admin/units/{unit}/blacklist"),
            &[("reason", "提供虚假材料")],
        )
        .await
        .assert_redirect(&format!("/admin/units/{unit}"));
    assert_eq!(app.scalar(&listed).await, 1);
    c.get("/home").await.assert_redirect("/login");
    admin
        .post(&format!("/admin/units/{unit}/unblacklist"), &[])
        .await
        .assert_redirect(&format!("/admin/units/{unit}"));

    // 更换绑定手机: the new number is shown and carried.
    admin.get(&format!("/admin/units/{unit}")).await;
    admin
        .post(
            &format!("/admin/units/{unit}/mobile"),
            &[("mobile", "15900000084")],
        )
        .await
        .assert_ok()
        .assert_has("请确认：【更换绑定手机】")
        .assert_has("原号码不再接收")
        .assert_has("<dt>新手机号码</dt><dd class=\"pre\">15900000084</dd>")
        .assert_has("【确认更换绑定手机】")
        .assert_has(&format!("href=\"/admin/units/{unit}\""));
    let bound = |mobile: String| async move {
        app.scalar(&format!(
            "SELECT COUNT(*) FROM units WHERE id = {unit} AND mobile = '{mobile}'"
        ))
        .await
    };
    assert_eq!(bound(r.mobile.clone()).await, 1);
    // A blank number is refused beside the field without asking.
    admin
        .post(&format!("/admin/units/{unit}/mobile"), &[("mobile", "")])
        .await
        .assert_ok()
        .assert_has("请填写手机号码")
        .assert_lacks("请确认：");
    admin
        .act(
            &format!("/admin/units/{unit}/mobile"),
            &[("mobile", "15900000084")],
        )
        .await
        .assert_redirect(&format!("/admin/units/{unit}"));
    assert_eq!(bound("15900000084".into()).await, 1);

    // 重置单位密码.
    admin.get(&format!("/admin/units/{unit}")).await;
    admin
        .post(&format!("/admin/units/{unit}/reset"), &[])
        .await
        .assert_ok()
        .assert_has("请确认：【重置单位密码】")
        .assert_has("原密码立即失效")
        .assert_has("【确认重置单位密码】")
        .assert_has(&format!("href=\"/admin/units/{unit}\""))
        .assert_lacks("密码已重置");
    assert_eq!(audited("unit.reset_password").await, 0);
    app.client()
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_redirect("/home");
    admin
        .act(&format!("/admin/units/{unit}/reset"), &[])
        .await
        .assert_ok()
        .assert_has("密码已重置");
    app.client()
        .login(&r.login, UNIT_PASSWORD)
        .await
        .assert_has("登录ID或密码错误");
}
