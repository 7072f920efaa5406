//! Files in fewer steps (issue 17): several file inputs in one form, each file checked on its
//! own with its refusal beside its slot and what succeeded kept; the upload script's JSON
//! answer; the materials a group needs listed before anything is saved.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

fn png() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]
}

#[tokio::test]
async fn the_materials_of_a_group_are_listed_on_the_notice_and_the_new_form() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 81, "天宁区", "tianning").await;
    for path in ["/groups/new", "/groups/form"] {
        c.get(path)
            .await
            .assert_ok()
            .assert_has("需准备的材料")
            .assert_has("每位到访人员的护照首页")
            .assert_has("经办人身份证复印件（加盖单位公章）")
            .assert_has("盖章签字的申请表扫描件");
    }
}

#[tokio::test]
async fn several_group_files_go_in_one_form_and_a_bad_one_is_refused_beside_its_slot() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 82, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 2).await;
    let v = visitor_ids(&app, id).await;
    let page = c.get(&format!("/groups/{id}")).await;
    page.assert_ok()
        .assert_has(&format!("action=\"/groups/{id}/files?csrf="))
        .assert_has(&format!("name=\"passport-{}\"", v[0]))
        .assert_has("【上传所选文件】");
    let (p0, p1) = (format!("passport-{}", v[0]), format!("passport-{}", v[1]));
    let (visa0, visa1) = (format!("visa-{}", v[0]), format!("visa-{}", v[1]));
    let p = c
        .upload_files(
            &format!("/groups/{id}/files"),
            &[
                (&p0, "lisa.pdf", pdf("passport 1")),
                (&visa0, "", Vec::new()),
                (&p1, "john.png", png()),
                (&visa1, "", Vec::new()),
                ("clerk_id", "clerk.pdf", pdf("clerk")),
                ("other", "notes.txt", b"just text".to_vec()),
            ],
            false,
        )
        .await;
    // The form again: the bad file refused beside its slot, the others stored.
    p.assert_ok()
        .assert_has("已上传3个文件")
        .assert_has("lisa.pdf")
        .assert_has("john.png")
        .assert_has("clerk.pdf")
        .assert_has("class=\"invalid\"><td>其他证明材料");
    let stored: i64 = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM group_visitors WHERE group_id = {id} AND passport_file_id IS NOT NULL"
        ))
        .await;
    assert_eq!(stored, 2);

    // All fine: back to the page's files.
    c.upload_files(
        &format!("/groups/{id}/files"),
        &[("other", "other.pdf", pdf("other"))],
        false,
    )
    .await
    .assert_redirect(&format!("/groups/{id}?ok=uploaded#files"));
    // Nothing chosen: said so, nothing stored.
    c.get(&format!("/groups/{id}")).await;
    c.upload_files(
        &format!("/groups/{id}/files"),
        &[(&visa0, "", Vec::new())],
        false,
    )
    .await
    .assert_ok()
    .assert_has("未选择文件");
    // 【提交】 now lacks only the print and the stamped scan.
    c.get(&format!("/groups/{id}")).await;
    let p = c.act(&format!("/groups/{id}/submit"), &[]).await;
    let start = p.body.find("提交前请补齐").unwrap();
    let missing = &p.body[start..start + p.body[start..].find("</p>").unwrap()];
    assert!(!missing.contains("护照扫描件"), "{missing}");
    assert!(!missing.contains("经办人身份证复印件"), "{missing}");
    // The stamped scan through the same route, after 【打印】.
    c.post(&format!("/groups/{id}/print"), &[]).await;
    c.get(&format!("/groups/{id}")).await;
    c.upload_files(
        &format!("/groups/{id}/files"),
        &[("scan", "stamped.pdf", pdf("stamped"))],
        false,
    )
    .await
    .assert_redirect(&format!("/groups/{id}"));
    c.get(&format!("/groups/{id}")).await;
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}?ok=group_submitted"));
}

#[tokio::test]
async fn the_upload_script_gets_json_for_each_file() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 83, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    let v = visitor_ids(&app, id).await;
    c.get(&format!("/groups/{id}")).await;
    let slot = format!("passport-{}", v[0]);
    let ok = c
        .upload_files(
            &format!("/groups/{id}/files"),
            &[(&slot, "lisa.pdf", pdf("passport"))],
            true,
        )
        .await;
    assert_eq!(ok.status, 200);
    let answer: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(answer["stored"][&slot], "lisa.pdf");
    let bad = c
        .upload_files(
            &format!("/groups/{id}/files"),
            &[("clerk_id", "clerk.txt", b"not a scan".to_vec())],
            true,
        )
        .await;
    let answer: serde_json::Value = serde_json::from_str(&bad.body).unwrap();
    assert!(answer["refused"]["clerk_id"]
        .as_str()
        .unwrap()
        .contains("PDF"));
    // A slot of another group's visitor: an error for the script, nothing stored.
    let other = c
        .upload_files(
            &format!("/groups/{id}/files"),
            &[("passport-999999", "x.pdf", pdf("x"))],
            true,
        )
        .await;
    let answer: serde_json::Value = serde_json::from_str(&other.body).unwrap();
    assert!(answer["error"].is_string());
    assert_eq!(answer["status"], 404);
}

#[tokio::test]
async fn registration_attachments_go_in_one_form() {
    let app = TestApp::spawn().await;
    let c = app.client();
    create_account(&app, &c, 84, "天宁区").await;
    let page = c.get("/registration/attachments").await;
    page.assert_ok()
        .assert_has("action=\"/registration/attachments?csrf=")
        .assert_has("【上传所选文件】");
    let types = unit_types(&app).await;
    let (good, bad): (Vec<_>, Vec<_>) = types.iter().partition(|(_, required)| *required);
    let names: Vec<String> = types.iter().map(|(id, _)| id.to_string()).collect();
    let mut files: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    for (i, (id, _)) in types.iter().enumerate() {
        let is_good = good.iter().any(|(g, _)| g == id);
        files.push(match is_good {
            true => (names[i].as_str(), "scan.pdf", pdf(&format!("type {id}"))),
            false => (names[i].as_str(), "scan.txt", b"text".to_vec()),
        });
    }
    let p = c
        .upload_files("/registration/attachments", &files, false)
        .await;
    if bad.is_empty() {
        p.assert_redirect("/registration/attachments?ok=uploaded");
    } else {
        p.assert_ok().assert_has("class=\"invalid\"");
    }
    // The required ones were stored: [提交注册] goes through.
    c.get("/registration/attachments").await;
    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
}

#[tokio::test]
async fn visit_scans_go_in_one_form() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 85, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    app.clock().advance(10 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let port: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let port = port.to_string();
    c.get(&format!("/visits/{v}")).await;
    c.post(
        &format!("/visits/{v}"),
        &[
            ("kind", "travelled"),
            ("entry_date", &date_in(&app, -8)),
            ("entry_port", &port),
            ("exit_date", &date_in(&app, -2)),
            ("exit_port", &port),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    c.get(&format!("/visits/{v}"))
        .await
        .assert_has(&format!("action=\"/visits/{v}/files?csrf="));
    c.upload_files(
        &format!("/visits/{v}/files"),
        &[
            ("entry_stamp", "in.pdf", pdf("in")),
            ("exit_stamp", "out.png", png()),
            ("visa_page", "visa.txt", b"text".to_vec()),
        ],
        false,
    )
    .await
    .assert_ok()
    .assert_has("已上传2个扫描件")
    .assert_has("in.pdf")
    .assert_has("out.png");
    c.upload_files(
        &format!("/visits/{v}/files"),
        &[("visa_page", "visa.pdf", pdf("visa"))],
        false,
    )
    .await
    .assert_redirect(&format!("/visits/{v}?ok=uploaded"));
    c.get(&format!("/visits/{v}")).await;
    c.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");
}

#[tokio::test]
async fn visit_scans_can_be_chosen_with_the_first_save() {
    let app = TestApp::spawn().await;
    let (r, c) = approved_unit(&app, 86, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    app.clock().advance(10 * 86_400);
    c.login(&r.login, UNIT_PASSWORD).await;
    let port: i64 = sqlx::query_scalar("SELECT id FROM ports WHERE name_zh = '上海浦东国际机场'")
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    let port = port.to_string();
    let (entry, exit) = (date_in(&app, -8), date_in(&app, -2));
    let fields = [
        ("kind", "travelled"),
        ("entry_date", entry.as_str()),
        ("entry_port", port.as_str()),
        ("exit_date", exit.as_str()),
        ("exit_port", port.as_str()),
    ];
    let form = c.get(&format!("/visits/{v}")).await;
    form.assert_ok()
        .assert_has("enctype=\"multipart/form-data\"")
        .assert_has("name=\"entry_stamp\"");
    // Bad input: nothing saved, and the chosen scans are said not to be stored.
    let bad = [("kind", "travelled"), ("entry_date", "2020-13-40")];
    c.post_multipart(
        &format!("/visits/{v}"),
        &bad,
        &[("entry_stamp", "in.pdf", pdf("in"))],
    )
    .await
    .assert_ok()
    .assert_has("所选扫描件也未上传");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit_records").await, 0);
    // Saved with its three scans (and a statement of the other kind ignored): [提交] at once.
    c.get(&format!("/visits/{v}")).await;
    c.post_multipart(
        &format!("/visits/{v}"),
        &fields,
        &[
            ("entry_stamp", "in.pdf", pdf("in")),
            ("exit_stamp", "out.png", png()),
            ("visa_page", "visa.pdf", pdf("visa")),
            ("statement", "why.pdf", pdf("why")),
        ],
    )
    .await
    .assert_redirect(&format!("/visits/{v}?ok=saved"));
    c.get(&format!("/visits/{v}"))
        .await
        .assert_has("in.pdf")
        .assert_has("out.png")
        .assert_lacks("why.pdf");
    c.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits?ok=visit_submitted");
}
