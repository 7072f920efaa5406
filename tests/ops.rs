//! Operating the server: graceful shutdown of the real binary on SIGTERM and SIGINT, the
//! /healthz, /readyz and /metrics endpoints, request IDs on pages and in JSON log lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---- the real binary ----

/// A `laihua` process serving on a free port, its log lines (JSON, standard error) collected.
struct Server {
    child: Child,
    base: String,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary and waits for its address without blocking the runtime: an
    /// in-process server on the same SQLite database may be inside a job's transaction,
    /// which must be able to finish while the binary runs its migrations.
    async fn start(data_dir: &Path, database_url: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_laihua"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", database_url])
            .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
            .args(extra)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("http://").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let waited = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)));
        let addr = match waited.await.unwrap() {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {:?}", log.lock().unwrap());
            }
        };
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
            log,
        }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits for the process to end, at most `limit`; its exit status and the time it took.
    async fn exit_within(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(
                started.elapsed() < limit,
                "still running {limit:?} after the signal; log: {:#?}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The log lines, parsed (every line must be JSON).
    fn json_log(&self) -> Vec<serde_json::Value> {
        self.log()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    fn logged(&self, text: &str) -> bool {
        self.log().iter().any(|l| l.contains(text))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A multipart body with one PDF file of about `size` bytes, and its boundary.
fn multipart_pdf(name: &str, size: usize) -> (String, Vec<u8>) {
    let boundary = "----laihua-test-boundary-7f3a".to_string();
    let mut pdf = b"%PDF-1.4\n% slow upload\n".to_vec();
    pdf.resize(size, b' ');
    pdf.extend_from_slice(b"\n%%EOF\n");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// Reads an HTTP response to its end (the server closes the connection at shutdown); returns
/// the head.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
        .await
        .expect("the response came")
        .unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    text.split("\r\n\r\n").next().unwrap_or("").to_string()
}

// Shutdown runs the same code whatever the database (it closes the pool at the end); these
// tests run on the database the suite runs on, the in-process server preparing the data.

#[tokio::test]
async fn sigterm_lets_an_upload_in_progress_finish_and_refuses_new_connections() {
    let app = TestApp::spawn().await;
    let c = app.client();
    create_account(&app, &c, 1, "天宁区").await;
    let (type_id, _) = unit_types(&app).await[0];

    let mut server = Server::start(
        &app.data_dir,
        &app.database_url,
        &["--shutdown-timeout-secs", "20"],
    )
    .await;
    // The same browser (session and token are in the database) talks to the binary.
    let b = c.at(&server.base);
    b.get("/registration/attachments").await.assert_ok();
    let (boundary, body) = multipart_pdf("slow-upload.pdf", 300_000);
    let head = format!(
        "POST /registration/attachments/{type_id}?csrf={} HTTP/1.1\r\nHost: {}\r\n\
         Cookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        b.csrf(),
        server.addr,
        c.cookie_header(),
        body.len()
    );
    let mut upload = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    upload.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    upload.write_all(&body[..half]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No new connection once the signal is received.
    assert!(
        tokio::net::TcpStream::connect(&server.addr).await.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    // The upload goes on, slowly, and is answered.
    for chunk in body[half..].chunks(50_000) {
        upload.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answer = read_response(&mut upload).await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(
        answer.contains("location: /registration/attachments"),
        "{answer}"
    );
    let (status, took) = server.exit_within(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "log: {:#?}", server.log());
    assert!(took < Duration::from_secs(20));
    assert!(server.logged("SIGTERM received"), "{:#?}", server.log());
    assert!(server.logged("every request in progress finished"));
    assert!(server.logged("database pool closed"));

    // After a restart the file is there, and can be downloaded whole.
    let mut again = Server::start(
        &app.data_dir,
        &app.database_url,
        &["--shutdown-timeout-secs", "20"],
    )
    .await;
    let b = c.at(&again.base);
    let page = b.get("/registration/attachments").await;
    page.assert_ok().assert_has("slow-upload.pdf");
    let start = page.body.find("/units/").unwrap();
    let link = &page.body[start..start + page.body[start..].find('"').unwrap()];
    let (code, _, bytes) = b.get_bytes(link).await;
    assert_eq!(code, 200);
    assert_eq!(bytes.len(), 300_000 + "\n%%EOF\n".len());
    // An idle server (the browser keeps its connection open) stops at once on SIGTERM.
    again.signal("TERM");
    let (status, took) = again.exit_within(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// SQLite only: the database plays no part in closing connections, and the check that the
/// WAL is folded into the database file at exit is SQLite's.
#[tokio::test]
async fn stalled_clients_do_not_hold_the_shutdown_past_its_timeout() {
    for signal in ["INT", "TERM"] {
        let tmp = tempdir::TempDir::new();
        let dir = tmp.path();
        let url = format!("sqlite://{}?mode=rwc", dir.join("laihua.db").display());
        let mut server = Server::start(
            dir,
            &url,
            &["--shutdown-timeout-secs", "2", "--header-timeout-secs", "0"],
        )
        .await;
        let c = Client::new(&server.base);
        c.get("/login").await.assert_ok();
        // One client sent half of a request's headers; another its headers and part of a body.
        let mut half_head = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
        half_head
            .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nUser-Agent: st")
            .await
            .unwrap();
        let mut half_body = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
        half_body
            .write_all(
                format!(
                    "POST /login HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\n\
                     Content-Length: 1000\r\n\r\nlogin_id=abc",
                    c.cookie_header()
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;

        server.signal(signal);
        let (status, took) = server.exit_within(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(0), "SIG{signal}: {:#?}", server.log());
        // It waited for the request in progress, then closed it.
        assert!(took >= Duration::from_millis(1500), "SIG{signal}: {took:?}");
        assert!(took < Duration::from_secs(6), "SIG{signal}: {took:?}");
        assert!(
            server.logged("connection(s) still open after 2 s closed"),
            "{:#?}",
            server.log()
        );
        assert!(server.logged("background jobs stopped"));
        // The stalled request was not answered; its connection was closed.
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(2), half_body.read_to_end(&mut rest))
            .await
            .unwrap()
            .unwrap_or(0);
        assert!(!String::from_utf8_lossy(&rest[..n]).contains("HTTP/1.1 200"));
        drop(half_head);
        // The last connection closed checkpointed the WAL into the database file.
        let wal = dir.join("laihua.db-wal");
        assert!(
            !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
            "the WAL was left behind"
        );
    }
}

#[tokio::test]
async fn request_id_is_on_the_error_page_the_header_and_the_log_line() {
    let app = TestApp::spawn().await;
    let server = Server::start(&app.data_dir, &app.database_url, &[]).await;
    // A form posted without its token: refused with the error page, and a warning logged.
    let resp = reqwest::Client::new()
        .post(format!("{}/login", server.base))
        .form(&[("login_id", "x"), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() >= 16, "{id}");
    let body = resp.text().await.unwrap();
    assert!(body.contains(&format!("请求编号：{id}")), "{body}");
    // The log line of that request carries the same id (give the writer a moment).
    let mut line = None;
    for _ in 0..50 {
        line = server.json_log().into_iter().find(|v| {
            v["fields"]["message"] == "CSRF check failed" && v["span"]["request_id"] == id.as_str()
        });
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no log line with {id}: {:#?}", server.log()));
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["span"]["name"], "request");
    // Another request has another id.
    let other = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}

#[tokio::test]
async fn the_proxy_request_id_is_taken_only_when_trusted_and_plain() {
    let send = |base: String, id: &'static str| async move {
        let resp = reqwest::Client::new()
            .get(format!("{base}/no-such-page"))
            .header("x-request-id", id)
            .send()
            .await
            .unwrap();
        let header = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        let body = resp.text().await.unwrap();
        assert!(body.contains(&format!("请求编号：{header}")), "{body}");
        header
    };
    let untrusting = TestApp::spawn().await;
    let made = send(untrusting.base.clone(), "from-proxy-1").await;
    assert_ne!(made, "from-proxy-1");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");

    let trusting = TestApp::spawn_with(|a| a.trust_proxy = true).await;
    assert_eq!(
        send(trusting.base.clone(), "from-proxy-1.a_b").await,
        "from-proxy-1.a_b"
    );
    let replaced = send(trusting.base.clone(), "bad id <script>").await;
    assert_ne!(replaced, "bad id <script>");
    assert!(
        replaced.bytes().all(|b| b.is_ascii_hexdigit()),
        "{replaced}"
    );
}

// ---- health, readiness, metrics (in process, both databases) ----

async fn get_text(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn healthz_and_readyz_answer_without_a_session_and_readyz_sees_a_broken_file_store() {
    let app = TestApp::spawn().await;
    let audit = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let (status, body) = get_text(&format!("{}/healthz", app.base), &[]).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, body) = get_text(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    // Not a page: no session cookie, no audit entry.
    let resp = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert!(resp.headers().get("set-cookie").is_none());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, audit);

    // The file store's folder is replaced by a plain file: not ready, at once.
    let files = app.data_dir.join("files");
    std::fs::remove_dir_all(&files).ok();
    std::fs::write(&files, b"not a folder").unwrap();
    let started = Instant::now();
    let (status, body) = get_text(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("files"), "{body}");
    assert!(!body.contains("database"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let (status, _) = get_text(&format!("{}/healthz", app.base), &[]).await;
    assert_eq!(status, 200);
    // Repaired: ready again.
    std::fs::remove_file(&files).unwrap();
    let (status, body) = get_text(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!(status, 200, "{body}");
}

/// PostgreSQL only: the database is a server that can go away (SQLite is a file of the
/// process, whose faults the file store's check covers).
#[tokio::test]
async fn readyz_is_503_within_seconds_when_the_postgresql_database_is_gone() {
    let Ok(base) = std::env::var("LAIHUA_TEST_POSTGRES_URL") else {
        return;
    };
    if base.is_empty() {
        return;
    }
    let app = TestApp::spawn().await;
    let (status, _) = get_text(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!(status, 200);
    let name = app.database_url.rsplit('/').next().unwrap().to_string();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap();
    sqlx::Executor::execute(
        &mut admin,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (status, body) = get_text(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let (status, _) = get_text(&format!("{}/healthz", app.base), &[]).await;
    assert_eq!(status, 200);
}

/// The value of the series `name{labels}` in a Prometheus text.
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_queues_prints_jobs_and_the_pool() {
    let app = TestApp::spawn().await;
    let (_, c) = approved_unit(&app, 1, "天宁区", "tianning").await;
    submitted_group(&app, &c, 1, &[]).await;
    let stranger = app.client();
    stranger.get("/groups/123").await;
    stranger.get("/groups/456").await;
    stranger.get("/no/such/page").await;

    let (status, text) = get_text(&format!("{}/metrics", app.base), &[]).await;
    assert_eq!(status, 200, "{text}");
    // The registration's code and its two notifications: sent, none failed.
    assert_eq!(
        series(&text, r#"laihua_sms_messages{state="sent"}"#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(&text, r#"laihua_sms_messages{state="failed"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            r#"laihua_sms_total{kind="registration_approved",outcome="sent"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // By route pattern, never the path asked for.
    assert_eq!(
        series(
            &text,
            r#"laihua_http_requests_total{method="GET",route="/groups/{id}",status="3xx"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert!(
        !text.contains("/groups/123") && !text.contains("/no/such"),
        "{text}"
    );
    assert!(
        series(
            &text,
            r#"laihua_http_requests_total{method="GET",route="unmatched",status="4xx"}"#
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        text.contains(
            r#"laihua_http_request_duration_seconds_bucket{method="POST",route="/groups/{id}/submit",status="3xx",le="0.5"}"#
        ),
        "{text}"
    );
    // The submitted group waits for the county; the approved registration waits nowhere.
    assert_eq!(
        series(
            &text,
            r#"laihua_queue_waiting{queue="groups",state="pending_county"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            r#"laihua_queue_waiting{queue="registrations",state="pending_county"}"#
        ),
        Some(0.0)
    );
    // One form printed.
    let printed: f64 = text
        .lines()
        .filter(|l| l.starts_with(r#"laihua_prints_total{route="/groups/{id}/print""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(printed, 1.0, "{text}");
    // The pool.
    assert!(series(&text, r#"laihua_db_pool_connections{state="idle"}"#).is_some());
    assert!(series(&text, "laihua_db_pool_max_connections") >= Some(1.0));
    assert!(series(&text, "laihua_db_acquire_seconds").is_some());
    // Housekeeping runs at start-up.
    let mut text = text;
    for _ in 0..50 {
        if series(
            &text,
            r#"laihua_job_runs_total{job="housekeeping",outcome="ok"}"#,
        )
        .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        text = get_text(&format!("{}/metrics", app.base), &[]).await.1;
    }
    assert_eq!(
        series(
            &text,
            r#"laihua_job_runs_total{job="housekeeping",outcome="ok"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(series(
        &text,
        r#"laihua_job_last_duration_seconds{job="housekeeping"}"#
    )
    .is_some());
}

#[tokio::test]
async fn metrics_are_refused_to_other_addresses_behind_the_proxy_unless_the_token_is_sent() {
    let app = TestApp::spawn_with(|a| {
        a.trust_proxy = true;
        a.metrics_token = "metrics-secret-42".into();
    })
    .await;
    let url = format!("{}/metrics", app.base);
    // Every peer is the proxy on loopback; the forwarded address decides.
    let outside = [("x-real-ip", "203.0.113.9")];
    let (status, body) = get_text(&url, &outside).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("laihua_"));
    let (status, _) = get_text(
        &url,
        &[
            ("x-real-ip", "203.0.113.9"),
            ("authorization", "Bearer wrong-token"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = get_text(
        &url,
        &[
            ("x-real-ip", "203.0.113.9"),
            ("authorization", "Bearer metrics-secret-42"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("laihua_db_pool_connections"), "{body}");
    let (status, _) = get_text(&url, &[("x-real-ip", "127.0.0.1")]).await;
    assert_eq!(status, 200);
    // Health and readiness stay open to the outside (the proxy decides what it publishes).
    let (status, _) = get_text(&format!("{}/healthz", app.base), &outside).await;
    assert_eq!(status, 200);
    let (status, _) = get_text(&format!("{}/readyz", app.base), &outside).await;
    assert_eq!(status, 200);

    // Without a token configured, an outside address is refused whatever it sends.
    let plain = TestApp::spawn_with(|a| a.trust_proxy = true).await;
    let (status, _) = get_text(
        &format!("{}/metrics", plain.base),
        &[("x-real-ip", "203.0.113.9"), ("authorization", "Bearer ")],
    )
    .await;
    assert_eq!(status, 403);
}
