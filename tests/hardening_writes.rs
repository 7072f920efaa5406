//! Issue 14, holes 2 and 8: writes whose right depends on a record's state check that state
//! when they write (an upload held open while the record moves on replaces nothing); the
//! server cuts off requests whose headers or body arrive too slowly and refuses uploads beyond
//! its cap; the duplicate-passport warning names other units' groups to no unit, and to
//! reviewers only within their scope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDARY: &str = "laihuaTestBoundary7MA4YWxkTrZu0gW";

/// A valid PDF of about `size` bytes whose content is `label`'s.
fn big_pdf(label: &str, size: usize) -> Vec<u8> {
    let mut b = format!("%PDF-1.4\n% {label}\n%").into_bytes();
    b.resize(size.max(b.len()), b'x');
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

/// The multipart body of an upload form with `bytes` as its `file`.
fn multipart_body(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn addr(c: &Client) -> String {
    c.base.trim_start_matches("http://").to_string()
}

/// The head of a POST written by hand, with the browser's cookies and (in the query, as the
/// upload forms carry it) its CSRF token.
fn head(c: &Client, path: &str, content_type: &str, len: usize) -> String {
    format!(
        "POST {path}?csrf={} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        c.csrf(),
        addr(c),
        c.cookie_header()
    )
}

/// Reads the answer until the server closes the connection (or `limit` passes): (status,
/// whole text, whether the connection was closed).
async fn read_answer(stream: &mut TcpStream, limit: Duration) -> (u16, String, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = tokio::time::Instant::now() + limit;
    let closed = loop {
        match tokio::time::timeout_at(end, stream.read(&mut chunk)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text, closed)
}

/// An upload sent by hand: its headers and the first half of its body at once, the rest when
/// [`finish`](HeldUpload::finish) is called (the file's content then being read by the server).
struct HeldUpload {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HeldUpload {
    async fn start(c: &Client, path: &str, bytes: &[u8]) -> HeldUpload {
        let body = multipart_body("replacement.pdf", bytes);
        let mut stream = TcpStream::connect(addr(c)).await.unwrap();
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        stream
            .write_all(head(c, path, &content_type, body.len()).as_bytes())
            .await
            .unwrap();
        let half = body.len() / 2;
        stream.write_all(&body[..half]).await.unwrap();
        stream.flush().await.unwrap();
        // The server has the headers and is reading the file by now.
        tokio::time::sleep(Duration::from_millis(500)).await;
        HeldUpload {
            stream,
            rest: body[half..].to_vec(),
        }
    }

    /// Sends the rest of the body; the server's answer: (status, text).
    async fn finish(mut self) -> (u16, String) {
        self.stream.write_all(&self.rest).await.unwrap();
        let (status, text, _) = read_answer(&mut self.stream, Duration::from_secs(30)).await;
        (status, text)
    }
}

/// Whether the file store holds these bytes (files are stored under their SHA-256).
fn stored(app: &TestApp, bytes: &[u8]) -> bool {
    let sha = hex::encode(Sha256::digest(bytes));
    app.data_dir
        .join("files")
        .join(&sha[..2])
        .join(&sha[2..])
        .exists()
}

async fn passport_file(app: &TestApp, visitor: i64) -> i64 {
    sqlx::query_scalar("SELECT passport_file_id FROM group_visitors WHERE id = $1")
        .bind(visitor)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

/// A group saved with its files, printed and scanned: ready for 【提交】. Returns its id.
async fn ready_group(app: &TestApp, c: &Client) -> i64 {
    let id = saved_group(app, c, 1).await;
    upload_required(app, c, id).await;
    print_and_scan(c, id).await;
    c.get(&format!("/groups/{id}")).await.assert_ok();
    id
}

/// Hole 2: a passport scan sent slowly while its group is submitted, passed by the county and
/// accepted by the city is refused when it arrives: the accepted group keeps its scan, and the
/// refused file is not even written to the file store.
#[tokio::test]
async fn a_slow_upload_does_not_replace_a_scan_of_a_group_accepted_meanwhile() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 201, "天宁区", "tianning").await;
    let id = ready_group(&app, &c).await;
    let v = visitor_ids(&app, id).await[0];
    let before = passport_file(&app, v).await;
    let files_before = app.scalar("SELECT COUNT(*) FROM files").await;
    let replacement = big_pdf("replacement passport", 64 * 1024);

    let held = HeldUpload::start(
        &c,
        &format!("/groups/{id}/upload/passport-{v}"),
        &replacement,
    )
    .await;
    // Meanwhile the unit submits, the county passes it and the city accepts it.
    c.act(&format!("/groups/{id}/submit"), &[])
        .await
        .assert_redirect(&format!("/groups/{id}"));
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{id}")).await;
    city.act(&format!("/review/groups/{id}/accept"), &[])
        .await
        .assert_redirect(&format!("/review/groups/{id}"));
    assert_eq!(state_of(&app, id).await, "accepted");

    let (status, text) = held.finish().await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("团组已提交，不能修改附件"), "{text}");
    assert_eq!(passport_file(&app, v).await, before);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM files").await, files_before);
    assert!(
        !stored(&app, &replacement),
        "a refused upload leaves no file"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND detail LIKE '%replacement%'"
        ))
        .await,
        0
    );
}

/// Hole 2 for registrations: an attachment sent slowly while the registration is submitted and
/// approved is refused when it arrives (neither the approved licence replaced nor a change
/// request made of it), and the upload is refused before its body is read once the
/// registration is under review.
#[tokio::test]
async fn a_slow_upload_does_not_replace_a_licence_of_a_unit_approved_meanwhile() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = create_account(&app, &c, 202, "天宁区").await;
    c.get("/registration/attachments").await.assert_ok();
    let types = unit_types(&app).await;
    for (id, required) in &types {
        if *required {
            c.upload(
                &format!("/registration/attachments/{id}"),
                "licence.pdf",
                pdf(&format!("type {id}")),
            )
            .await
            .assert_redirect("/registration/attachments");
        }
    }
    let licence = types.iter().find(|t| t.1).unwrap().0;
    let current = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT file_id FROM unit_attachments WHERE unit_id = $1 AND type_id = $2",
        )
        .bind(r.unit_id)
        .bind(licence)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
    };
    let before = current().await;
    c.get("/registration/attachments").await.assert_ok();
    let replacement = big_pdf("replacement licence", 64 * 1024);
    let path = format!("/registration/attachments/{licence}");
    let held = HeldUpload::start(&c, &path, &replacement).await;

    c.act("/registration/submit", &[])
        .await
        .assert_redirect("/registration?ok=submitted");
    // Under review: refused before the body is read.
    let early = c.upload(&path, "x.pdf", pdf("while pending")).await;
    assert_eq!(early.status, 409, "{}", early.body);
    for login in ["tianning", "city"] {
        let staff = app.client();
        staff.login(login, DEMO_PASSWORD).await;
        staff.get(&format!("/review/units/{}", r.unit_id)).await;
        staff
            .act(
                &format!("/review/units/{}/approve", r.unit_id),
                &[("comment", "")],
            )
            .await
            .assert_redirect("/review");
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM units WHERE id = {} AND state = 'approved'",
            r.unit_id
        ))
        .await,
        1
    );

    let (status, text) = held.finish().await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("暂不能修改附件"), "{text}");
    assert_eq!(current().await, before);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_changes").await, 0);
    assert!(!stored(&app, &replacement));
}

/// Hole 2 for post-visit registrations: a scan sent slowly while the registration is submitted
/// and passed by the county is refused when it arrives.
#[tokio::test]
async fn a_slow_upload_does_not_replace_a_scan_of_a_post_visit_registration_submitted_meanwhile() {
    let app = TestApp::spawn().await;
    let (_r, c) = approved_unit(&app, 203, "天宁区", "tianning").await;
    let id = dispatched_group(&app, &c, 1, "tianning").await;
    let v = visitor_ids(&app, id).await[0];
    c.get(&format!("/visits/{v}")).await.assert_ok();
    c.post(
        &format!("/visits/{v}"),
        &[("kind", "cancelled"), ("cancel_reason", "签证未获批准")],
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    c.get(&format!("/visits/{v}")).await;
    c.upload(
        &format!("/visits/{v}/upload/statement"),
        "statement.pdf",
        pdf("statement"),
    )
    .await
    .assert_redirect(&format!("/visits/{v}"));
    let statement = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT f.file_id FROM visit_files f JOIN visit_records r ON r.id = f.record_id
             WHERE r.visitor_id = $1 AND f.kind = 'statement'",
        )
        .bind(v)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
    };
    let before = statement().await;
    c.get(&format!("/visits/{v}")).await;
    let replacement = big_pdf("replacement statement", 64 * 1024);
    let held = HeldUpload::start(&c, &format!("/visits/{v}/upload/statement"), &replacement).await;
    c.act(&format!("/visits/{v}/submit"), &[])
        .await
        .assert_redirect("/visits");
    let county = app.client();
    county.login("tianning", DEMO_PASSWORD).await;
    county.get(&format!("/review/visits/{v}")).await;
    county
        .act(&format!("/review/visits/{v}/approve"), &[])
        .await;
    let (status, text) = held.finish().await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("不能修改"), "{text}");
    assert_eq!(statement().await, before);
    assert!(!stored(&app, &replacement));
}

/// Hole 2 for templates: a template sent slowly while its attachment type is retired does not
/// become the retired type's template.
#[tokio::test]
async fn a_slow_template_upload_does_not_land_on_a_type_retired_meanwhile() {
    let app = TestApp::spawn().await;
    let a = app.client();
    a.login("demoadmin", DEMO_PASSWORD)
        .await
        .assert_redirect("/home");
    let type_id = unit_types(&app).await[0].0;
    let template = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT template_file_id FROM attachment_types WHERE id = $1",
        )
        .bind(type_id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
    };
    let before = template().await;
    a.get("/admin/templates").await.assert_ok();
    let replacement = big_pdf("replacement template", 64 * 1024);
    let held = HeldUpload::start(&a, &format!("/admin/templates/{type_id}"), &replacement).await;
    let path = format!("/admin/refdata/attachment_types/{type_id}");
    a.get(&path).await.assert_ok();
    a.post(&format!("{path}/retire"), &[])
        .await
        .assert_redirect(&format!("{path}?ok=retired"));
    let (status, text) = held.finish().await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("已停用"), "{text}");
    assert_eq!(template().await, before);
    assert!(!stored(&app, &replacement));
    // Refused at once (before the body) while retired.
    a.get("/admin/templates").await;
    let again = a
        .upload(
            &format!("/admin/templates/{type_id}"),
            "t.pdf",
            pdf("again"),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
}

/// The body deadline: an upload (or a form) whose body is still coming when the configured time
/// is up is cut off with a 408 page and the connection closed, even while bytes keep trickling
/// in; nothing of it is stored.
#[tokio::test]
async fn a_body_sent_too_slowly_is_cut_off() {
    let app = TestApp::spawn_with(|s| s.body_timeout_secs = 2).await;
    let (_r, c) = approved_unit(&app, 204, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 1).await;
    upload_required(&app, &c, id).await;
    let v = visitor_ids(&app, id).await[0];
    let before = passport_file(&app, v).await;
    c.get(&format!("/groups/{id}")).await;

    let replacement = big_pdf("dripped passport", 4 * 1024);
    let body = multipart_body("slow.pdf", &replacement);
    let mut stream = TcpStream::connect(addr(&c)).await.unwrap();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let path = format!("/groups/{id}/upload/passport-{v}");
    stream
        .write_all(head(&c, &path, &content_type, body.len()).as_bytes())
        .await
        .unwrap();
    // A byte every 200 ms: never idle for long, but far too slow in all.
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let drip = tokio::spawn(async move {
        for b in body {
            if writer.write_all(&[b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut buf)).await;
    let took = started.elapsed();
    drip.abort();
    let text = String::from_utf8_lossy(&buf).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("提交超时"), "{text}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "cut off after {took:?}"
    );
    assert_eq!(passport_file(&app, v).await, before);
    assert!(!stored(&app, &replacement));

    // An ordinary form whose body stops halfway: cut off as well.
    let form = "name=x&action=save&csrf=".to_string() + &c.csrf();
    let mut stream = TcpStream::connect(addr(&c)).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            head(
                &c,
                &format!("/groups/{id}"),
                "application/x-www-form-urlencoded",
                form.len() + 100,
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    stream.write_all(form.as_bytes()).await.unwrap();
    let (status, text, closed) = read_answer(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{text}");
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(6));

    // A body that arrives in time is unaffected.
    c.get(&format!("/groups/{id}")).await;
    c.upload(&path, "passport.pdf", pdf("in time"))
        .await
        .assert_redirect(&format!("/groups/{id}"));
    assert_ne!(passport_file(&app, v).await, before);
}

/// The header deadline: a client that sends part of its headers and then waits has its
/// connection closed once the configured time is up.
#[tokio::test]
async fn headers_sent_too_slowly_close_the_connection() {
    let app = TestApp::spawn_with(|s| s.header_timeout_secs = 1).await;
    let c = app.client();
    c.get("/login").await.assert_ok();
    let mut stream = TcpStream::connect(addr(&c)).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(format!("GET /login HTTP/1.1\r\nHost: {}\r\nX-Slow: ", addr(&c)).as_bytes())
        .await
        .unwrap();
    let (_, _, closed) = read_answer(&mut stream, Duration::from_secs(8)).await;
    assert!(closed, "the connection is still open after 8 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "closed after {took:?}"
    );
    // Headers sent in time are served.
    let mut stream = TcpStream::connect(addr(&c)).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /login HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                addr(&c)
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (status, _, _) = read_answer(&mut stream, Duration::from_secs(8)).await;
    assert_eq!(status, 200);
}

/// The upload cap: with two uploads being received, a third is refused at once with a page
/// that says why (not queued); once they are done, uploads are taken again.
#[tokio::test]
async fn uploads_beyond_the_cap_are_refused_at_once() {
    let app = TestApp::spawn_with(|s| s.max_uploads = 2).await;
    let (_r, c) = approved_unit(&app, 205, "天宁区", "tianning").await;
    let id = saved_group(&app, &c, 2).await;
    let vs = visitor_ids(&app, id).await;
    c.get(&format!("/groups/{id}")).await;
    let first = HeldUpload::start(
        &c,
        &format!("/groups/{id}/upload/passport-{}", vs[0]),
        &big_pdf("first", 64 * 1024),
    )
    .await;
    let second = HeldUpload::start(
        &c,
        &format!("/groups/{id}/upload/passport-{}", vs[1]),
        &big_pdf("second", 64 * 1024),
    )
    .await;
    let started = Instant::now();
    let third = c
        .upload(
            &format!("/groups/{id}/upload/clerk_id"),
            "clerk.pdf",
            pdf("third"),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(third.status, 503, "{}", third.body);
    third.assert_has("同时上传文件的用户较多");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM group_attachments WHERE group_id = {id}"
        ))
        .await,
        0
    );
    // Ordinary pages are not affected.
    c.get(&format!("/groups/{id}")).await.assert_ok();

    let (s1, t1) = first.finish().await;
    let (s2, t2) = second.finish().await;
    assert_eq!(s1, 303, "{t1}");
    assert_eq!(s2, 303, "{t2}");
    c.upload(
        &format!("/groups/{id}/upload/clerk_id"),
        "clerk.pdf",
        pdf("fourth"),
    )
    .await
    .assert_redirect(&format!("/groups/{id}"));
}

async fn number_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.pool())
        .await
        .unwrap()
}

async fn county_pass(app: &TestApp, id: i64, login: &str) {
    let county = app.client();
    county.login(login, DEMO_PASSWORD).await;
    county.get(&format!("/review/groups/{id}")).await;
    county
        .act(&format!("/review/groups/{id}/approve"), &[])
        .await
        .assert_redirect("/review/groups");
}

/// Hole 8: the same passport in groups of three units (two in 天宁区, one in 武进区) for the
/// same period. A unit is told only that the passport appears in another application (its own
/// other groups by number, no other unit's number or name); the 天宁 county sees the linked
/// 天宁 group, not the 武进 one; the 武进 county sees neither; the city sees those it reviews.
#[tokio::test]
async fn the_duplicate_passport_warning_names_other_groups_only_within_the_viewers_scope() {
    let app = TestApp::spawn().await;
    let (ra, ca) = approved_unit(&app, 206, "天宁区", "tianning").await;
    let (rb, cb) = approved_unit(&app, 207, "天宁区", "tianning").await;
    let (rc, cc) = approved_unit(&app, 208, "武进区", "wujin").await;
    // Every group of the standard form has the passport E0001000 in the same period.
    let ga = submitted_group(&app, &ca, 1, &[]).await;
    let gc = submitted_group(&app, &cc, 1, &[]).await;
    let gb = submitted_group(&app, &cb, 1, &[]).await;
    let gb2 = saved_group(&app, &cb, 1).await;
    let (na, nb, nc) = (
        number_of(&app, ga).await,
        number_of(&app, gb).await,
        number_of(&app, gc).await,
    );

    // Unit B's draft: its own other group by number, the others unnamed.
    let form = cb.get(&format!("/groups/{gb2}")).await;
    form.assert_ok()
        .assert_lacks(&na)
        .assert_lacks(&nc)
        .assert_lacks(&ra.name)
        .assert_lacks(&rc.name)
        .assert_has("已出现在同期的其他申请中")
        .assert_has(&format!("已在同期的其他团组中申报：{nb}"));

    // The 天宁 county: A's record links B's group, not C's (another district).
    let tianning = app.client();
    tianning.login("tianning", DEMO_PASSWORD).await;
    tianning
        .get(&format!("/review/groups/{ga}"))
        .await
        .assert_ok()
        .assert_has("同期重复申报")
        .assert_has(&format!("/review/groups/{gb}"))
        .assert_has(&nb)
        .assert_has(&rb.name)
        .assert_lacks(&nc)
        .assert_lacks(&format!("/review/groups/{gc}\""));
    // The 武进 county: C's record links nothing it may not see.
    let wujin = app.client();
    wujin.login("wujin", DEMO_PASSWORD).await;
    wujin
        .get(&format!("/review/groups/{gc}"))
        .await
        .assert_ok()
        .assert_lacks("同期重复申报")
        .assert_lacks(&na)
        .assert_lacks(&nb)
        .assert_lacks(&ra.name)
        .assert_lacks(&rb.name);

    // The city sees the groups it reviews: A and C once the counties passed them, B not yet.
    county_pass(&app, ga, "tianning").await;
    county_pass(&app, gc, "wujin").await;
    let city = app.client();
    city.login("city", DEMO_PASSWORD).await;
    city.get(&format!("/review/groups/{ga}"))
        .await
        .assert_ok()
        .assert_has("同期重复申报")
        .assert_has(&format!("/review/groups/{gc}"))
        .assert_has(&nc)
        .assert_lacks(&nb);
    // A unit's own record page shows no other group.
    ca.get(&format!("/groups/{ga}"))
        .await
        .assert_ok()
        .assert_lacks("同期重复申报")
        .assert_lacks(&nc)
        .assert_lacks(&nb);
}
