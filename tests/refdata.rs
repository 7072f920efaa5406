//! Reference data of issue 16: the ports of entry by kind (航空, 水运, 铁路, 公路), the MFA
//! commissioner's offices in Hong Kong and Macao as places where visas are applied for (not
//! nationalities), the Sihanoukville consular office, the label 签证申办国家（地区）, and a
//! database seeded by an older version receiving the additions once.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

const SIHANOUKVILLE: &str = "中国驻柬埔寨大使馆驻西哈努克省领事办公室";
const HK_OFFICE: &str = "外交部驻香港特别行政区特派员公署";
const MO_OFFICE: &str = "外交部驻澳门特别行政区特派员公署";

async fn ports_by_kind(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT kind, COUNT(*) FROM ports GROUP BY kind ORDER BY kind")
        .fetch_all(app.state.pool())
        .await
        .unwrap()
}

/// The names of the ports in force, in the order the 销签登记 form offers them.
async fn offered_ports(app: &TestApp) -> Vec<(String, String)> {
    laihua::store::refs::ports(app.state.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.kind, p.name_zh))
        .collect()
}

/// The options (value, text) of the `<select id="{id}">` on a page.
fn options(body: &str, id: &str) -> Vec<(String, String)> {
    let start = body
        .find(&format!("<select id=\"{id}\""))
        .unwrap_or_else(|| panic!("no select {id}"));
    let rest = &body[start..];
    let select = &rest[..rest.find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let value = &o[..o.find('"').unwrap()];
            let text = &o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()];
            (value.to_string(), text.to_string())
        })
        .collect()
}

async fn system_additions(app: &TestApp) -> i64 {
    app.scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refdata.add' AND actor_user_id IS NULL",
    )
    .await
}

async fn seed_again(app: &TestApp) {
    let mut tx = app.state.db.begin().await.unwrap();
    laihua::store::refs::seed(tx.conn(), app.state.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn ports_by_kind_missions_and_regions_that_are_not_nationalities() {
    let app = TestApp::spawn().await;

    // The ports of the files, by kind; the file of the binary says the same.
    assert_eq!(
        ports_by_kind(&app).await,
        [
            ("air".to_string(), 89),
            ("land".to_string(), 80),
            ("rail".to_string(), 18),
            ("sea".to_string(), 119),
        ]
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports").await,
        laihua::refdata::ports().len() as i64
    );
    for (name, kind, province) in [
        ("凭祥铁路口岸", "rail", "广西壮族自治区"),
        ("满洲里铁路口岸", "rail", "内蒙古自治区"),
        ("满洲里口岸", "land", "内蒙古自治区"),
        ("黑河公路口岸", "land", "黑龙江省"),
        ("深圳福永港", "sea", "广东省"),
        ("上海浦东国际机场", "air", "上海市"),
    ] {
        let row: (String, String) =
            sqlx::query_as("SELECT kind, province_zh FROM ports WHERE name_zh = $1")
                .bind(name)
                .fetch_one(app.state.pool())
                .await
                .unwrap();
        assert_eq!(row, (kind.to_string(), province.to_string()), "{name}");
    }
    // Offered by kind: 航空, 水运, 铁路, 公路.
    let offered = offered_ports(&app).await;
    let mut kinds: Vec<&str> = offered.iter().map(|(k, _)| k.as_str()).collect();
    kinds.dedup();
    assert_eq!(kinds, ["air", "sea", "rail", "land"]);

    // The missions: Sihanoukville beside Siem Reap, the commissioner's offices in HK and Macao.
    let khm: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, name_zh FROM missions WHERE host_alpha3 = 'KHM' ORDER BY sort, id",
    )
    .fetch_all(app.state.pool())
    .await
    .unwrap();
    assert_eq!(
        khm.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        [
            "中国驻柬埔寨大使馆",
            "中国驻柬埔寨大使馆驻暹粒领事办公室",
            SIHANOUKVILLE
        ]
    );
    assert_eq!(khm[2].0, "office");
    let sihanoukville = mission(&app, SIHANOUKVILLE).await;
    let hk = mission(&app, HK_OFFICE).await;
    let mo = mission(&app, MO_OFFICE).await;

    // The group form: 签证申办国家（地区） offers 中国香港 and 中国澳门 with their offices;
    // the nationality offers neither (nor 中国, 中国台湾).
    let (_r, c) = approved_unit(&app, 160, "天宁区", "tianning").await;
    let form = c.get("/groups/form").await;
    form.assert_ok()
        .assert_has("签证申办国家（地区）")
        .assert_has("在香港、澳门申办的，选“中国香港”“中国澳门”及外交部特派员公署");
    let hosts = options(&form.body, "country");
    for (alpha3, name) in [("HKG", "中国香港"), ("MAC", "中国澳门"), ("KHM", "柬埔寨")] {
        assert!(
            hosts.contains(&(alpha3.to_string(), name.to_string())),
            "{alpha3} offered as a place of visa application"
        );
    }
    for (id, name) in [
        (hk, HK_OFFICE),
        (mo, MO_OFFICE),
        (sihanoukville, SIHANOUKVILLE),
    ] {
        assert!(
            form.has(&format!(
                "<option value=\"{id}\" data-country=\"{}\"",
                match name {
                    HK_OFFICE => "HKG",
                    MO_OFFICE => "MAC",
                    _ => "KHM",
                }
            )),
            "{name} offered"
        );
    }
    let nationalities = options(&form.body, "v0_nationality");
    assert!(nationalities.iter().any(|(v, _)| v == "USA"));
    assert!(nationalities.iter().any(|(v, _)| v == "KHM"));
    for not_foreign in ["HKG", "MAC", "TWN", "CHN"] {
        assert!(
            !nationalities.iter().any(|(v, _)| v == not_foreign),
            "{not_foreign} is no nationality"
        );
    }

    // A group whose visas are applied for in Hong Kong is saved and shown so.
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "country", "HKG");
    set(&mut f, "mission", &hk.to_string());
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    let id = group_id_in(&p.location);
    c.get(&format!("/groups/{id}"))
        .await
        .assert_ok()
        .assert_has("签证申办国家（地区）")
        .assert_has("中国香港")
        .assert_has(HK_OFFICE);
    // Printed: the HTML form when the server has no Chinese font (the PDF is checked in
    // tests/pdf_form.rs).
    let print = c.post(&format!("/groups/{id}/print"), &[]).await;
    assert_eq!(print.status, 200);
    if print.body.contains("<html") {
        print
            .assert_has("签证申办国家（地区）")
            .assert_has("中国香港");
    }

    // Refusals: Macao's office with Hong Kong; Sihanoukville's with Hong Kong; a visitor of
    // nationality 中国香港. Nothing saved.
    let groups = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    c.get("/groups/form").await;
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "country", "HKG");
    set(&mut f, "mission", &mo.to_string());
    c.post("/groups", &refs(&f))
        .await
        .assert_ok()
        .assert_has("并与所选国家（地区）一致");
    set(&mut f, "mission", &sihanoukville.to_string());
    c.post("/groups", &refs(&f))
        .await
        .assert_ok()
        .assert_has("并与所选国家（地区）一致");
    set(&mut f, "country", "");
    c.post("/groups", &refs(&f))
        .await
        .assert_ok()
        .assert_has("请从列表中选择签证申办国家（地区）");
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "v0_nationality", "HKG");
    c.post("/groups", &refs(&f))
        .await
        .assert_ok()
        .assert_has("国籍必须在定义好的国籍中选择");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups").await,
        groups
    );

    // In Cambodia, visas applied for at the Sihanoukville office.
    let mut f = group_fields(&app, 1).await;
    set(&mut f, "country", "KHM");
    set(&mut f, "mission", &sihanoukville.to_string());
    set(&mut f, "v0_nationality", "KHM");
    let p = c.post("/groups", &refs(&f)).await;
    p.assert_redirect("/groups/");
    c.get(&p.location.clone())
        .await
        .assert_has("柬埔寨")
        .assert_has(SIHANOUKVILLE);

    // The administrator's lists show the new kind and the offices.
    let a = app.client();
    a.login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    a.get("/admin/refdata/ports")
        .await
        .assert_ok()
        .assert_has("满洲里铁路口岸")
        .assert_has("铁路");
    a.get("/admin/refdata/missions")
        .await
        .assert_ok()
        .assert_has(SIHANOUKVILLE)
        .assert_has(HK_OFFICE);
    a.get("/admin/refdata/countries")
        .await
        .assert_ok()
        .assert_has("签证申办国家（地区）");

    // A fresh database is at the current level: seeding again adds and audits nothing.
    let before = system_additions(&app).await;
    seed_again(&app).await;
    assert_eq!(system_additions(&app).await, before);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports").await,
        laihua::refdata::ports().len() as i64
    );
}

/// Makes the database look like one seeded by the previous version: the added entries absent,
/// every other one at its old sort number, 凭祥 a land port, no level recorded.
async fn make_old(app: &TestApp) {
    let pool = app.state.pool();
    for a in laihua::refdata::additions() {
        sqlx::query(&format!("DELETE FROM {} WHERE name_zh = $1", a.list))
            .bind(a.name_zh)
            .execute(pool)
            .await
            .unwrap();
    }
    for (table, names) in [
        (
            "ports",
            laihua::refdata::ports()
                .iter()
                .map(|p| p.name_zh)
                .collect::<Vec<_>>(),
        ),
        (
            "missions",
            laihua::refdata::missions()
                .iter()
                .map(|m| m.name_zh)
                .collect(),
        ),
    ] {
        for (name, old) in laihua::refdata::sort_at(table, names, 0) {
            if let Some(old) = old {
                sqlx::query(&format!("UPDATE {table} SET sort = $1 WHERE name_zh = $2"))
                    .bind(old)
                    .bind(name)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }
    sqlx::query("UPDATE ports SET kind = 'land' WHERE name_zh = '凭祥铁路口岸'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM settings WHERE key = 'refdata_level'")
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_database_seeded_before_receives_the_additions_once() {
    let app = TestApp::spawn().await;
    let fresh_order = offered_ports(&app).await;
    let pool = app.state.pool();

    make_old(&app).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ports").await, 216);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM missions").await, 277);
    // What the administrator did before the upgrade stays: a port renamed, one retired, one
    // re-sorted, and a port of their own.
    let pvg: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE ports SET name_zh = '乌鲁木齐天山国际机场' WHERE name_zh = '乌鲁木齐地窝堡国际机场'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE ports SET retired = 1 WHERE name_zh = '樟木口岸'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE ports SET sort = 999 WHERE name_zh = '天津港'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ports (name_zh, kind, province_zh, sort, retired) VALUES ('测试口岸', 'land', '江苏省', 5, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    let audits = system_additions(&app).await;

    // Started again (the seed runs at every start): the additions arrive, audited once each.
    seed_again(&app).await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports").await,
        laihua::refdata::ports().len() as i64 + 1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM missions").await, 278);
    assert_eq!(
        system_additions(&app).await - audits,
        laihua::refdata::additions().len() as i64
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'refdata.add' AND object_type = 'mission' AND detail LIKE '%西哈努克%'"
        )
        .await,
        1
    );
    let kind: String = sqlx::query_scalar("SELECT kind FROM ports WHERE name_zh = '凭祥铁路口岸'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(kind, "rail");
    // Existing rows keep their ids (records refer to them); the administrator's edits stay.
    let pvg_now: i64 =
        sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(pvg_now, pvg);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports WHERE name_zh = '乌鲁木齐地窝堡国际机场'")
            .await,
        0,
        "a renamed port is not added again"
    );
    assert_eq!(
        app.scalar("SELECT retired FROM ports WHERE name_zh = '樟木口岸'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT sort FROM ports WHERE name_zh = '天津港'")
            .await,
        999
    );
    // The order offered is the order of a fresh database, apart from the administrator's edits.
    let edited = [
        "乌鲁木齐地窝堡国际机场",
        "乌鲁木齐天山国际机场",
        "樟木口岸",
        "天津港",
        "测试口岸",
    ];
    let strip = |v: Vec<(String, String)>| {
        v.into_iter()
            .filter(|(_, n)| !edited.contains(&n.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(offered_ports(&app).await), strip(fresh_order));
    let khm: Vec<String> = sqlx::query_scalar(
        "SELECT name_zh FROM missions WHERE host_alpha3 = 'KHM' ORDER BY sort, id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(khm.last().unwrap(), SIHANOUKVILLE);

    // Once: an added port the administrator then retires or deletes is not brought back.
    sqlx::query("UPDATE ports SET retired = 1 WHERE name_zh = '饶河港'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM ports WHERE name_zh = '漠河港'")
        .execute(pool)
        .await
        .unwrap();
    let audits = system_additions(&app).await;
    seed_again(&app).await;
    assert_eq!(system_additions(&app).await, audits);
    assert_eq!(
        app.scalar("SELECT retired FROM ports WHERE name_zh = '饶河港'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports WHERE name_zh = '漠河港'")
            .await,
        0
    );

    // The unit's 销签登记 form offers them grouped by kind (checked on the page).
    let (r, c) = approved_unit(&app, 161, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    app.clock().advance(10 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let page = c.get(&format!("/visits/{v}")).await;
    page.assert_ok()
        .assert_has("<optgroup label=\"航空口岸\">")
        .assert_has("<optgroup label=\"水运口岸\">")
        .assert_has("<optgroup label=\"铁路口岸\">")
        .assert_has("<optgroup label=\"公路口岸\">")
        .assert_has("满洲里铁路口岸（内蒙古自治区）")
        .assert_lacks("饶河港");
}

#[tokio::test]
async fn two_instances_starting_together_add_each_entry_once() {
    let app = TestApp::spawn().await;
    make_old(&app).await;
    let audits = system_additions(&app).await;
    tokio::join!(seed_again(&app), seed_again(&app), seed_again(&app));
    assert_eq!(
        system_additions(&app).await - audits,
        laihua::refdata::additions().len() as i64
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM ports").await,
        laihua::refdata::ports().len() as i64
    );
    assert_eq!(
        app.scalar("SELECT COUNT(DISTINCT sort) FROM ports").await,
        laihua::refdata::ports().len() as i64
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM missions").await, 278);
}

/// A database already at level 1 (the 302 ports of issue 16) receives only the ports of
/// level 2, each once, at their places; nothing of level 1 comes back or moves.
#[tokio::test]
async fn a_database_at_level_1_receives_only_level_2() {
    let app = TestApp::spawn().await;
    let fresh_order = offered_ports(&app).await;
    let pool = app.state.pool();
    let names: Vec<&str> = laihua::refdata::ports().iter().map(|p| p.name_zh).collect();
    let level2: Vec<&str> = laihua::refdata::additions()
        .iter()
        .filter(|a| a.level == 2)
        .map(|a| a.name_zh)
        .collect();
    assert_eq!(
        level2,
        ["恩施许家坪机场", "遵义新舟机场", "铜仁凤凰机场", "滨州港"]
    );
    for name in &level2 {
        sqlx::query("DELETE FROM ports WHERE name_zh = $1")
            .bind(*name)
            .execute(pool)
            .await
            .unwrap();
    }
    for (name, old) in laihua::refdata::sort_at("ports", names.iter().copied(), 1) {
        if let Some(old) = old {
            sqlx::query("UPDATE ports SET sort = $1 WHERE name_zh = $2")
                .bind(old)
                .bind(name)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    sqlx::query("UPDATE settings SET value = '1' WHERE key = 'refdata_level'")
        .execute(pool)
        .await
        .unwrap();
    // A level-1 port the administrator retired stays retired.
    sqlx::query("UPDATE ports SET retired = 1 WHERE name_zh = '饶河港'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ports").await, 302);
    let audits = system_additions(&app).await;

    seed_again(&app).await;
    assert_eq!(system_additions(&app).await - audits, 4);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ports").await, 306);
    assert_eq!(
        app.scalar("SELECT retired FROM ports WHERE name_zh = '饶河港'")
            .await,
        1
    );
    let strip = |v: Vec<(String, String)>| {
        v.into_iter()
            .filter(|(_, n)| n != "饶河港")
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(offered_ports(&app).await), strip(fresh_order));
    let row: (String, String) =
        sqlx::query_as("SELECT kind, province_zh FROM ports WHERE name_zh = '铜仁凤凰机场'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(row, ("air".to_string(), "贵州省".to_string()));

    // Started again: nothing more.
    let audits = system_additions(&app).await;
    seed_again(&app).await;
    assert_eq!(system_additions(&app).await, audits);
}
