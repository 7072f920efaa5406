//! Several instances behind nginx (issue 15, item 6): two `laihua` processes serve one database
//! and one file store behind an nginx upstream, as README "多实例部署" describes:
//! - on PostgreSQL (LAIHUA_TEST_POSTGRES_URL set): one PostgreSQL database and one S3 bucket
//!   (a `moto_server` the test starts);
//! - on SQLite: one data folder on this host (the SQLite file and the files folder shared).
//!
//! A file uploaded through one instance is served by the other; then units submit groups and
//! save new ones through nginx while one instance is killed with SIGKILL: every save the system
//! confirmed is in the database, and the survivor takes the rest.
//!
//! Needs `nginx` (and `moto_server` for PostgreSQL) on PATH: `.ci/run` installs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// The tool's path (on PATH, or in /usr/sbin where Debian puts nginx).
fn require(tool: &str, install: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.into_iter()
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("this test needs `{tool}` ({install}); .ci/run installs it"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "{what} did not start on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A local S3-compatible server with one bucket; returns (process, endpoint).
async fn moto(bucket: &str) -> (Proc, String) {
    let moto_server = require("moto_server", "pip install 'moto[server]'");
    let port = free_port();
    let child = Command::new(moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    wait_for_port(port, "moto_server").await;
    let endpoint = format!("http://127.0.0.1:{port}");
    // moto accepts an unsigned bucket creation.
    let resp = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "creating the bucket: {resp:?}");
    (proc, endpoint)
}

/// How the instances are wired: the database, the data folder of each instance, the files URL.
struct Wiring {
    database_url: String,
    /// The key file every instance is given (a copy of it on every host).
    key_file: PathBuf,
    files_url: Option<String>,
    s3_endpoint: Option<String>,
}

/// Starts `laihua serve` on a free port and waits until it answers.
async fn instance(w: &Wiring, data_dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_laihua"));
    cmd.arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", &w.database_url])
        .arg("--data-key-file")
        .arg(&w.key_file)
        .arg("--trust-proxy")
        .args(["--overdue-job-seconds", "86400"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = &w.files_url {
        cmd.args(["--files-url", url]);
    }
    if let Some(endpoint) = &w.s3_endpoint {
        cmd.env("LAIHUA_S3_ENDPOINT", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
    }
    let mut child = cmd.spawn().unwrap();
    // Keep the instance's log for the failure message; drain it so the pipe never fills.
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[laihua:{port}] {line}");
        }
    });
    let proc = Proc(child);
    wait_for_port(port, "laihua").await;
    (proc, port)
}

/// nginx on a free port in front of the given instances, with the settings of deploy/nginx.conf.
async fn nginx(dir: &Path, upstreams: &[u16]) -> (Proc, u16) {
    let nginx = require("nginx", "apt-get install nginx");
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("server 127.0.0.1:{p} max_fails=1 fail_timeout=60s;\n"))
        .collect();
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\ndaemon off;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         upstream laihua {{\n{servers} keepalive 16;\n }}\n\
         server {{\n  listen 127.0.0.1:{port};\n  client_max_body_size 16m;\n\
           location / {{\n   proxy_pass http://laihua;\n   proxy_http_version 1.1;\n\
           proxy_set_header Connection \"\";\n   proxy_set_header Host $host;\n\
           proxy_set_header X-Real-IP $remote_addr;\n   proxy_next_upstream error timeout;\n\
           proxy_connect_timeout 2s;\n  }}\n }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    wait_for_port(port, "nginx").await;
    (proc, port)
}

/// What one worker's request came to.
#[derive(Default)]
struct Tally {
    submitted: BTreeSet<i64>,
    created: BTreeSet<i64>,
    failed: usize,
    after_kill_ok: usize,
}

/// Posts a form with the client's cookies and token; None when the request did not get an
/// answer (the instance died under it) or nginx answered 502/504.
async fn try_post(c: &Client, path: &str, fields: &[(&str, String)]) -> Option<(u16, String)> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut all = fields.to_vec();
    all.push(("csrf", c.csrf()));
    let resp = http
        .post(format!("{}{path}", c.base))
        .header("cookie", c.cookie_header())
        .form(&all)
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    matches!(status, 200..=499).then_some((status, location))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_nginx_share_files_and_lose_nothing_when_one_is_killed() {
    let postgres = std::env::var("LAIHUA_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    let bucket = "laihua-instances";
    let s3 = if postgres {
        Some(moto(bucket).await)
    } else {
        None
    };
    let files_url = s3.as_ref().map(|_| format!("s3://{bucket}/test"));
    let s3_endpoint = s3.as_ref().map(|(_, e)| e.clone());
    let files = laihua::config::FilesArgs {
        files_url: files_url.clone(),
        s3_endpoint: s3_endpoint.clone(),
        s3_access_key_id: s3_endpoint.as_ref().map(|_| "test".into()),
        s3_secret_access_key: s3_endpoint.as_ref().map(|_| "test".into()),
        s3_region: s3_endpoint.as_ref().map(|_| "us-east-1".into()),
        ..Default::default()
    };
    let app = TestApp::spawn_with_files(files, |_| {}).await;
    let wiring = Wiring {
        database_url: app.database_url.clone(),
        key_file: app.state.config.data_key_file.clone(),
        files_url,
        s3_endpoint,
    };

    // Data made through the in-process instance: an approved unit with groups ready to submit.
    let (_, c) = approved_unit(&app, 1, "天宁区", "tianning").await;
    let mut ready = Vec::new();
    for _ in 0..12 {
        let id = saved_group(&app, &c, 1).await;
        upload_required(&app, &c, id).await;
        print_and_scan(&c, id).await;
        ready.push(id);
    }

    // Two instances: on SQLite they share the data folder; on PostgreSQL each has its own (the
    // files are in the bucket, nothing shared on disk).
    let tmp = tempdir::TempDir::new();
    let dir_of = |name: &str| -> PathBuf {
        if postgres {
            let d = tmp.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            d
        } else {
            app.data_dir.clone()
        }
    };
    let (a, port_a) = instance(&wiring, &dir_of("a")).await;
    let (_b, port_b) = instance(&wiring, &dir_of("b")).await;
    let nginx_dir = tmp.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let (_nginx, port_n) = nginx(&nginx_dir, &[port_a, port_b]).await;
    let base_a = format!("http://127.0.0.1:{port_a}");
    let base_b = format!("http://127.0.0.1:{port_b}");
    let base_n = format!("http://127.0.0.1:{port_n}");

    // A file uploaded through A is served by B, byte for byte.
    let first = ready[0];
    let via_a = c.at(&base_a);
    via_a.get(&format!("/groups/{first}")).await.assert_ok();
    let passport = pdf("uploaded through instance A");
    let v = visitor_ids(&app, first).await[0];
    via_a
        .upload(
            &format!("/groups/{first}/upload/passport-{v}"),
            "passport-a.pdf",
            passport.clone(),
        )
        .await
        .assert_redirect(&format!("/groups/{first}"));
    let file_id: i64 = app
        .scalar(&format!(
            "SELECT passport_file_id FROM group_visitors WHERE id = {v}"
        ))
        .await;
    let via_b = c.at(&base_b);
    let (status, _, bytes) = via_b
        .get_bytes(&format!("/groups/{first}/files/{file_id}"))
        .await;
    assert_eq!(status, 200, "instance B serves the file uploaded through A");
    assert_eq!(bytes, passport);
    if postgres {
        // Nothing of it on either instance's disk: the bucket holds it.
        for name in ["a", "b"] {
            let files = tmp.path().join(name).join("files");
            let count = walk(&files)
                .iter()
                .filter(|p| std::fs::read(p).ok().as_deref() == Some(&passport[..]))
                .count();
            assert_eq!(
                count, 0,
                "the file is in the bucket, not in {name}'s folder"
            );
        }
    }
    // The upload changed the group: print and scan again (through nginx) before submitting.
    let via_n = c.at(&base_n);
    print_and_scan(&via_n, first).await;

    // Load through nginx: four workers submit the ready groups and save new ones; A is killed
    // with SIGKILL after the first confirmations.
    via_n.get("/groups/form").await.assert_ok();
    let form: Vec<(&'static str, String)> = group_fields(&app, 2)
        .await
        .into_iter()
        .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
        .collect();
    let queue = Arc::new(Mutex::new(ready.clone()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (c, queue, tally, killed, form) = (
            via_n.clone(),
            queue.clone(),
            tally.clone(),
            killed.clone(),
            form.clone(),
        );
        workers.push(tokio::spawn(async move {
            for round in 0..10 {
                let after_kill = killed.load(std::sync::atomic::Ordering::SeqCst);
                let next = queue.lock().unwrap().pop();
                let (path, fields) = match next {
                    Some(id) if (round + w) % 2 == 0 => (format!("/groups/{id}/submit"), vec![]),
                    other => {
                        if let Some(id) = other {
                            queue.lock().unwrap().push(id);
                        }
                        ("/groups".to_string(), form.clone())
                    }
                };
                let answer = try_post(&c, &path, &fields).await;
                let mut t = tally.lock().unwrap();
                match answer {
                    Some((303, location)) => {
                        if after_kill {
                            t.after_kill_ok += 1;
                        }
                        if let Some(id) = path
                            .strip_prefix("/groups/")
                            .and_then(|p| p.strip_suffix("/submit"))
                        {
                            t.submitted.insert(id.parse().unwrap());
                        } else if let Some(id) = location
                            .strip_prefix("/groups/")
                            .and_then(|l| l.split('?').next())
                            .and_then(|n| n.parse().ok())
                        {
                            t.created.insert(id);
                        }
                    }
                    // The user would press again: a submission goes back to the queue.
                    _ => {
                        t.failed += 1;
                        if let Some(id) = path
                            .strip_prefix("/groups/")
                            .and_then(|p| p.strip_suffix("/submit"))
                        {
                            queue.lock().unwrap().push(id.parse().unwrap());
                        }
                    }
                }
            }
        }));
    }
    // Kill A once some saves were confirmed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let confirmed = {
            let t = tally.lock().unwrap();
            t.submitted.len() + t.created.len()
        };
        if confirmed >= 4 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut a = a;
    let pid = a.0.id();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let _ = a.0.wait();
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    let t = std::mem::take(&mut *tally.lock().unwrap());
    eprintln!(
        "confirmed: {} submissions, {} new groups; {} requests failed; {} confirmed after the kill",
        t.submitted.len(),
        t.created.len(),
        t.failed,
        t.after_kill_ok
    );
    assert!(
        t.after_kill_ok >= 8,
        "the survivor went on serving after the kill"
    );
    // Every confirmed submission is in the database, in the county's queue.
    for id in &t.submitted {
        assert_eq!(
            state_of(&app, *id).await,
            "pending_county",
            "confirmed submission of group {id} was lost"
        );
    }
    // Every confirmed new group is there with its two visitors.
    for id in &t.created {
        assert_eq!(
            visitor_ids(&app, *id).await.len(),
            2,
            "confirmed save of group {id} was lost"
        );
    }
    // Nothing was stored twice: a group number is unique, each save made one group.
    let groups = app.scalar("SELECT COUNT(*) FROM invitation_groups").await;
    let distinct = app
        .scalar("SELECT COUNT(DISTINCT number) FROM invitation_groups")
        .await;
    assert_eq!(groups, distinct);
    // The survivor serves every stored file, including the one uploaded through A.
    let (status, _, bytes) = via_b
        .get_bytes(&format!("/groups/{first}/files/{file_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bytes, passport);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
