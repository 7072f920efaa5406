//! Issue 17, lists: countries and regions, nationalities, missions and ports are offered in
//! pinyin order (汉语拼音) wherever they appear — the group form, the 销签登记 form, the
//! administration — also in a database whose sort numbers say otherwise, and each option
//! carries the keys of type-to-find (`static/find.js`): pinyin initials, full pinyin, codes.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use laihua::collate;

/// The `<select id="{id}" …>` element of a page, up to its `</select>`.
fn select<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<select id=\"{id}\""))
        .unwrap_or_else(|| panic!("no select {id}"));
    let rest = &body[start..];
    &rest[..rest.find("</select>").unwrap()]
}

/// The options of a select: (value, data-keys, text), the empty first option left out.
fn options(body: &str, id: &str) -> Vec<(String, String, String)> {
    select(body, id)
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let value = &o[..o.find('"').unwrap()];
            let tag = &o[..o.find('>').unwrap()];
            let keys = tag
                .split_once("data-keys=\"")
                .map(|(_, k)| &k[..k.find('"').unwrap()])
                .unwrap_or("");
            let text = &o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()];
            (value.to_string(), keys.to_string(), text.to_string())
        })
        .filter(|(v, _, _)| !v.is_empty())
        .collect()
}

/// The names (text before a full-width parenthesis of a code or province) of the options.
fn names(opts: &[(String, String, String)]) -> Vec<String> {
    opts.iter()
        .map(|(_, _, t)| {
            // "美国（USA）" → "美国"; "刚果（金）（COD）" → "刚果（金）".
            match t.rfind('（') {
                Some(i) if t[i..].chars().nth(1).is_some_and(|c| c.is_ascii()) => t[..i].into(),
                Some(i) if t.ends_with("省）") || t.ends_with("市）") || t.ends_with("区）") => {
                    t[..i].into()
                }
                _ => t.clone(),
            }
        })
        .collect()
}

fn assert_pinyin_order(names: &[String], what: &str) {
    assert!(names.len() > 1, "{what}: nothing offered");
    for w in names.windows(2) {
        assert!(
            collate::key(&w[0]) <= collate::key(&w[1]),
            "{what}: {} before {}",
            w[0],
            w[1]
        );
    }
}

fn position(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name} not offered"))
}

#[tokio::test]
async fn the_group_form_offers_countries_nationalities_and_missions_in_pinyin_order() {
    let app = TestApp::spawn().await;
    let pool = app.state.pool();
    // A database whose sort numbers are in another order (as one seeded in ISO-code order
    // and edited since): the offered order comes from the names.
    sqlx::query("UPDATE countries SET sort = 1000 - sort")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE missions SET sort = 1000 - sort")
        .execute(pool)
        .await
        .unwrap();
    laihua::store::refs::bump_version(&mut pool.acquire().await.unwrap())
        .await
        .unwrap();

    let (_r, c) = approved_unit(&app, 170, "天宁区", "tianning").await;
    let form = c.get("/groups/form").await;
    form.assert_ok()
        .assert_has("<script src=\"/static/find.js\" defer></script>");
    // Served from the binary (no CDN), as JavaScript that the CSP allows (same origin).
    let (status, ct, js) = c.get_bytes("/static/find.js").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/javascript"), "{ct}");
    assert!(String::from_utf8(js).unwrap().contains("select[data-find]"));

    // 签证申办国家（地区）: 阿… first, 中国香港 / 中国澳门 under Z, labels unchanged.
    let hosts = options(&form.body, "country");
    let host_names = names(&hosts);
    assert_pinyin_order(&host_names, "签证申办国家（地区）");
    assert!(host_names[0].starts_with('阿'), "{}", host_names[0]);
    assert!(position(&host_names, "美国") < position(&host_names, "日本"));
    assert!(position(&host_names, "日本") < position(&host_names, "中国香港"));
    assert!(select(&form.body, "country").contains(" data-find>"));
    let usa = hosts.iter().find(|(v, _, _)| v == "USA").unwrap();
    assert_eq!(usa.2, "美国");
    for key in ["mg", "meiguo", "usa", "unitedstates"] {
        assert!(
            usa.1.split(' ').any(|k| k == key),
            "美国 found by {key}: {}",
            usa.1
        );
    }

    // 国籍 and 工作单位所在国家（地区） of each visitor: the same order, labels "美国（USA）".
    for id in ["v0_nationality", "v0_employer_country"] {
        let opts = options(&form.body, id);
        assert!(select(&form.body, id).contains(" data-find>"), "{id}");
        let n = names(&opts);
        assert_pinyin_order(&n, id);
        assert!(opts
            .iter()
            .any(|(v, k, t)| v == "USA" && t == "美国（USA）" && k.contains("mg")));
        assert!(position(&n, "阿富汗") < position(&n, "德国"));
        assert!(position(&n, "德国") < position(&n, "英国"));
    }
    // 刚果（布） and 刚果（金） together, under G.
    let n = names(&options(&form.body, "v0_nationality"));
    assert_eq!(position(&n, "刚果（布）") + 1, position(&n, "刚果（金）"));

    // 签证申办使领馆: by host country as the countries are offered, the embassy first, then
    // the consulates in pinyin order of their names; found by the city or the host country.
    let missions = options(&form.body, "mission");
    assert!(select(&form.body, "mission").contains(" data-find data-find-by=\"country\">"));
    let us: Vec<&str> = missions
        .iter()
        .filter(|(_, k, _)| k.split(' ').any(|k| k == "usa"))
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert_eq!(
        us,
        [
            "中国驻美国大使馆",
            "中国驻旧金山总领事馆",
            "中国驻洛杉矶总领事馆",
            "中国驻纽约总领事馆",
            "中国驻芝加哥总领事馆",
        ]
    );
    let ny = missions
        .iter()
        .find(|(_, _, t)| t == "中国驻纽约总领事馆")
        .unwrap();
    assert!(ny
        .1
        .split(' ')
        .any(|k| k == "ny" || k.starts_with("niuyue")));
    let first_of = |name: &str| {
        missions
            .iter()
            .position(|(_, _, t)| t.starts_with(name))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(first_of("中国驻阿富汗") < first_of("中国驻美国"));
    assert!(first_of("中国驻美国") < first_of("中国驻日本"));
    assert!(first_of("中国驻日本") < first_of("外交部驻香港"));
}

#[tokio::test]
async fn the_registration_form_offers_ports_by_kind_in_pinyin_order() {
    let app = TestApp::spawn().await;
    sqlx::query("UPDATE ports SET sort = 1000 - sort")
        .execute(app.state.pool())
        .await
        .unwrap();
    let (r, c) = approved_unit(&app, 171, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    app.clock().advance(10 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let page = c.get(&format!("/visits/{v}")).await;
    page.assert_ok();
    for id in ["entry_port", "exit_port"] {
        let sel = select(&page.body, id);
        assert!(sel.contains(" data-find>"), "{id}");
        // Each group (航空, 水运, 铁路, 公路) in pinyin order of the port names.
        let groups: Vec<&str> = sel.split("<optgroup label=\"").skip(1).collect();
        assert_eq!(groups.len(), 4, "{id}");
        for (g, label) in groups
            .iter()
            .zip(["航空口岸", "水运口岸", "铁路口岸", "公路口岸"])
        {
            assert!(g.starts_with(label), "{id}: {label}");
            let body = format!("<select id=\"x\">{g}</select>");
            let n: Vec<String> = options(&body, "x")
                .into_iter()
                .map(|(_, _, t)| t[..t.rfind('（').unwrap()].to_string())
                .collect();
            assert_pinyin_order(&n, label);
        }
    }
    let opts = options(&page.body, "entry_port");
    let pvg = opts
        .iter()
        .find(|(_, _, t)| t == "上海浦东国际机场（上海市）")
        .unwrap();
    for key in ["shpdgjjc", "shanghaipudongguojijichang", "shs"] {
        assert!(pvg.1.split(' ').any(|k| k == key), "{key}: {}", pvg.1);
    }
    let n: Vec<&str> = opts.iter().map(|(_, _, t)| t.as_str()).collect();
    let at = |name: &str| n.iter().position(|t| t.starts_with(name)).unwrap();
    // 北京大兴 (daxing) before 北京首都 (shoudu); 重庆 under C, 厦门 under X, 长沙 under C.
    assert!(at("北京大兴国际机场") < at("北京首都国际机场"));
    assert!(at("长沙黄花国际机场") < at("重庆江北国际机场"));
    assert!(at("重庆江北国际机场") < at("大连周水子国际机场"));
    assert!(at("乌鲁木齐") < at("厦门高崎国际机场"));
    assert!(at("西安咸阳国际机场") < at("厦门高崎国际机场"));
}

#[tokio::test]
async fn the_administration_lists_in_pinyin_order_and_places_added_entries() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 172, "天宁区", "tianning").await;
    let a = app.client();
    a.login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");

    // The add form of a country has no 排序号: the order is the pinyin of the name.
    let list = a.get("/admin/refdata/countries").await;
    list.assert_ok()
        .assert_has("汉语拼音")
        .assert_lacks("排序号");
    a.post(
        "/admin/refdata/countries",
        &[
            ("alpha3", "QZA"),
            ("alpha2", "QZ"),
            ("name_zh", "测试共和国"),
            ("name_en", "Republic of Test"),
        ],
    )
    .await
    .assert_redirect("/admin/refdata/countries/QZA?ok=added");

    // The list shows it among the C…; so do the forms.
    let list = a.get("/admin/refdata/countries").await;
    let at = |body: &str, name: &str| {
        body.find(&format!(">{name}<"))
            .unwrap_or_else(|| panic!("{name} not listed"))
    };
    assert!(at(&list.body, "阿富汗") < at(&list.body, "测试共和国"));
    assert!(at(&list.body, "测试共和国") < at(&list.body, "美国"));
    assert!(at(&list.body, "美国") < at(&list.body, "中国"));

    // The mission form's 所在国家（地区） gets type-to-find and the same order.
    let new_mission = a.get("/admin/refdata/missions").await;
    new_mission.assert_ok().assert_lacks("排序号");
    let hosts = options(&new_mission.body, "host_alpha3");
    assert!(select(&new_mission.body, "host_alpha3").contains(" data-find>"));
    assert_pinyin_order(&names(&hosts), "所在国家（地区）");
    assert!(hosts
        .iter()
        .any(|(v, k, t)| v == "QZA" && t == "测试共和国（QZA）" && k.contains("csghg")));
    a.post(
        "/admin/refdata/missions",
        &[
            ("host_alpha3", "QZA"),
            ("kind", "embassy"),
            ("name_zh", "中国驻测试共和国大使馆"),
            ("city_zh", "测试城"),
        ],
    )
    .await
    .assert_redirect("/admin/refdata/missions/");
    a.get("/admin/refdata/ports")
        .await
        .assert_ok()
        .assert_lacks("排序号");

    let form = c.get("/groups/form").await;
    let n = names(&options(&form.body, "v0_nationality"));
    assert_pinyin_order(&n, "国籍");
    assert!(position(&n, "测试共和国") < position(&n, "美国"));
}
