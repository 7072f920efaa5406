//! Start-up: configuration, database, migrations, seeding, listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, SmsProvider};
use crate::db::Db;
use crate::files::FileStore;
use crate::sms::{aliyun, templates, tencent, OutboxSender, SmsSender};
use crate::state::{AppState, Inner};
use crate::workflow::error::Unavailable;

/// Opens the database, migrates and seeds. Returns the state and lines to print at start-up.
pub async fn prepare(config: Config, clock: Clock) -> anyhow::Result<(AppState, Vec<String>)> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let db = Db::connect_with(
        &config.database_url,
        config.bulk,
        Duration::from_secs(config.serve.db_timeout_secs),
    )
    .await
    .map_err(|e| on_start_up(e, "connecting to the database", &config))?;
    db.migrate()
        .await
        .map_err(|e| on_start_up(e, "running migrations", &config))?;
    let keys = Arc::new(crate::keys::KeyRing::open(&db, &config.data_key_file, clock.ts()).await?);
    let files = FileStore::open(&config.files, &config.data_dir)
        .context("opening the file store")?
        .sealed_with(keys.clone());
    match files.sweep_temp().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} temporary files left by a stopped upload"),
        Err(e) => tracing::warn!("sweeping temporary files in {}: {e}", files.describe()),
    }
    let sms = sms_sender(&config, &clock)?;
    let seeded = match crate::seed::seed(&db, &files, clock.ts(), config.serve.demo).await {
        Ok(seeded) => seeded,
        // A full disk: serve what is stored (reads work, writes get the "cannot store" page)
        // if the database was set up before.
        Err(e) if crate::workflow::error::unavailable(&e) == Some(Unavailable::StorageFull) => {
            let seeded = crate::seed::existing(&db)
                .await
                .map_err(|_| on_start_up(e, "setting up the database", &config))?;
            let note = format!(
                "磁盘已满，系统只能查看、不能保存 / the disk is full: serving reads only, every save fails until space is freed ({})",
                config.data_dir.display()
            );
            tracing::error!("{note}");
            let mut seeded = seeded;
            seeded.notes.push(note);
            seeded
        }
        Err(e) => return Err(e),
    };
    // `--font none` prints the HTML form the browser prints, even where a CJK font exists.
    let printer = match config.serve.font.as_deref() {
        Some(p) if p.as_os_str() == "none" => crate::pdf::Printer::without_font(),
        configured => crate::pdf::Printer::discover(configured, &config.data_dir),
    };
    let mut notes = seeded.notes;
    match printer.missing_font_help(&config.data_dir) {
        Some(help) => {
            tracing::warn!("{help}");
            notes.push(help);
        }
        None => {
            if let Some(p) = printer.font_path() {
                tracing::info!("CJK font for printing: {}", p.display());
            }
        }
    }
    let state = AppState(Arc::new(Inner {
        config,
        db,
        files,
        sms,
        clock,
        secret: seeded.secret,
        printer,
        ref_cache: std::sync::Mutex::new(None),
        metrics: crate::metrics::Metrics::new(),
        keys,
    }));
    Ok((state, notes))
}

/// The configured SMS provider. A real provider needs its credentials and a template for every
/// kind of message: without them the server does not start (and says what is missing).
pub fn sms_sender(config: &Config, clock: &Clock) -> anyhow::Result<SmsSender> {
    let s = &config.serve;
    if std::env::var_os("LAIHUA_ALIYUN_TEMPLATE_CODE").is_some() {
        anyhow::bail!("LAIHUA_ALIYUN_TEMPLATE_CODE is no longer used: every kind of message has its own approved template, listed in the --sms-templates file (`laihua sms templates` prints the texts to submit)");
    }
    let templates = |provider: &str| -> anyhow::Result<templates::Templates> {
        match &s.sms_templates {
            Some(path) => templates::for_provider(path, provider),
            None => anyhow::bail!("the {provider} SMS provider needs --sms-templates (LAIHUA_SMS_TEMPLATES): a TOML file with the approved template of every kind of message (`laihua sms templates` prints them)"),
        }
    };
    let missing = |pairs: &[(&str, &str)]| -> anyhow::Result<()> {
        let names: Vec<&str> = pairs
            .iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(n, _)| *n)
            .collect();
        match names.is_empty() {
            true => Ok(()),
            false => anyhow::bail!("the SMS provider needs {}", names.join(", ")),
        }
    };
    Ok(match s.sms_provider {
        SmsProvider::Outbox => {
            if let Some(path) = &s.sms_templates {
                templates::check_file(path)?;
            }
            SmsSender::Outbox(OutboxSender::new(
                config.data_dir.join("sms-outbox.jsonl"),
                clock.clone(),
            ))
        }
        SmsProvider::Aliyun => {
            missing(&[
                ("LAIHUA_ALIYUN_ACCESS_KEY_ID", &s.aliyun_access_key_id),
                (
                    "LAIHUA_ALIYUN_ACCESS_KEY_SECRET",
                    &s.aliyun_access_key_secret,
                ),
                ("LAIHUA_ALIYUN_SIGN_NAME", &s.aliyun_sign_name),
            ])?;
            let signature = match s.aliyun_signature_version {
                3 => aliyun::SignatureVersion::V3,
                1 => aliyun::SignatureVersion::V1,
                v => anyhow::bail!("LAIHUA_ALIYUN_SIGNATURE_VERSION {v}: 3 or 1"),
            };
            SmsSender::Aliyun(aliyun::AliyunSender::new(aliyun::AliyunConfig {
                access_key_id: s.aliyun_access_key_id.clone(),
                access_key_secret: s.aliyun_access_key_secret.clone(),
                sign_name: s.aliyun_sign_name.clone(),
                code_sign_name: s.aliyun_code_sign_name.clone(),
                templates: templates("aliyun")?,
                region_id: s.aliyun_region.clone(),
                endpoint: s.aliyun_endpoint.clone(),
                signature,
            }))
        }
        SmsProvider::Tencent => {
            missing(&[
                ("LAIHUA_TENCENT_SECRET_ID", &s.tencent_secret_id),
                ("LAIHUA_TENCENT_SECRET_KEY", &s.tencent_secret_key),
                ("LAIHUA_TENCENT_SDK_APP_ID", &s.tencent_sdk_app_id),
                ("LAIHUA_TENCENT_SIGN_NAME", &s.tencent_sign_name),
            ])?;
            SmsSender::Tencent(tencent::TencentSender::new(tencent::TencentConfig {
                secret_id: s.tencent_secret_id.clone(),
                secret_key: s.tencent_secret_key.clone(),
                sdk_app_id: s.tencent_sdk_app_id.clone(),
                sign_name: s.tencent_sign_name.clone(),
                code_sign_name: s.tencent_code_sign_name.clone(),
                templates: templates("tencent")?,
                region: s.tencent_region.clone(),
                endpoint: s.tencent_endpoint.clone(),
                param_max: usize::from(s.tencent_param_max),
            }))
        }
    })
}

/// A start-up error, with what to do when the cause is a full disk or an unreachable database.
fn on_start_up(e: anyhow::Error, doing: &str, config: &Config) -> anyhow::Error {
    match crate::workflow::error::unavailable(&e) {
        Some(Unavailable::StorageFull) => e.context(format!(
            "{doing}: 磁盘已满，数据库无法打开 / the disk holding the database is full ({}): free some space and start again",
            config.data_dir.display()
        )),
        Some(Unavailable::Database) => e.context(format!(
            "{doing}: 数据库无法连接 / the database did not answer within {} s: check that it runs and is reachable",
            config.serve.db_timeout_secs
        )),
        None => e.context(doing.to_string()),
    }
}

/// A bound server, ready to run (tests bind port 0 and read the port).
pub struct Application {
    pub listener: TcpListener,
    pub port: u16,
    pub state: AppState,
    pub notes: Vec<String>,
}

impl Application {
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&config.serve.bind)
            .await
            .with_context(|| format!("binding {}", config.serve.bind))?;
        let port = listener.local_addr()?.port();
        let (state, notes) = prepare(config, clock).await?;
        Ok(Application {
            listener,
            port,
            state,
            notes,
        })
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully (see [`Application::run_until`]).
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then: refuses new connections at once, gives the
    /// requests in progress `--shutdown-timeout-secs` to finish and closes the connections still
    /// open after that; stops the background jobs within the same time (a run in progress
    /// finishes or is dropped before its commit); closes the database pool (SQLite checkpoints
    /// its WAL into the database file when its last connection closes).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let serve = &self.state.config.serve;
        let limits = crate::web::limits::Limits::new(serve.body_timeout_secs, serve.max_uploads);
        let header_timeout =
            (serve.header_timeout_secs > 0).then(|| Duration::from_secs(serve.header_timeout_secs));
        let grace = Duration::from_secs(serve.shutdown_timeout_secs);
        let router = crate::web::router::router(self.state.clone())
            .layer(axum::middleware::from_fn_with_state(
                limits,
                crate::web::limits::limit,
            ))
            .layer(axum::middleware::from_fn_with_state(
                serve.trust_proxy,
                crate::web::request_id::request_id,
            ));
        let jobs = crate::jobs::spawn_all(&self.state);
        let (began, shutting_down) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = began.send(());
        };
        let serving = serve_http1(self.listener, router, header_timeout, shutdown, grace);
        // The jobs stop when the server stops accepting, with the same deadline.
        let stopping_jobs = async move {
            let _ = shutting_down.await;
            jobs.stop(grace).await;
        };
        let (closed, ()) = tokio::join!(serving, stopping_jobs);
        if closed > 0 {
            tracing::warn!(
                "{closed} connection(s) still open after {} s closed: their requests were not completed",
                grace.as_secs()
            );
        } else {
            tracing::info!("every request in progress finished");
        }
        let pool = &self.state.db.pool;
        if tokio::time::timeout(POOL_CLOSE_TIMEOUT, pool.close())
            .await
            .is_err()
        {
            tracing::warn!("the database pool did not close within {POOL_CLOSE_TIMEOUT:?}");
        } else {
            tracing::info!("database pool closed");
        }
        tracing::info!("laihua stopped");
        Ok(())
    }
}

/// How long closing the database pool may take at shutdown (every request and job has ended
/// by then: only the connections' own closing remains).
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves HTTP/1.1 (the reverse proxy speaks it to us) like `axum::serve`, with what that does
/// not offer: a client must send a request's headers within `header_timeout`, and start its next
/// request on a kept-alive connection within it too, or the connection is closed. (The body's
/// deadline and the upload cap are `web::limits`.) Each request carries the client's address
/// as `ConnectInfo`.
///
/// On `shutdown`: closes the listening socket (new connections are refused), lets each open
/// request finish (idle kept-alive connections close at once) for up to `grace`, then closes
/// the connections still open, which drops their requests' handling (a transaction not yet
/// committed rolls back). Returns how many connections it closed so.
async fn serve_http1(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Option<Duration>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    // Connections hold a receiver each: all dropped once every connection has ended.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    // Sent when the grace period is over: the connections still open close.
    let (kill_tx, kill_rx) = tokio::sync::watch::channel(());
    let killed = Arc::new(AtomicUsize::new(0));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::error!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop_rx.clone();
        let mut kill = kill_rx.clone();
        let killed = killed.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(ConnectInfo(remote));
                    router.clone().oneshot(req)
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection from {remote}: {e}");
                    }
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = kill.changed() => {
                            // Dropping the connection closes it and drops its request.
                            killed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            drop(stop);
        });
    }
    // Refuse new connections at once.
    drop(listener);
    drop(stop_rx);
    drop(kill_rx);
    tracing::info!(
        open_connections = stop_tx.receiver_count(),
        "shutting down: no new connections; requests in progress have {} s to finish",
        grace.as_secs()
    );
    // Tell every connection to finish its request and close, then wait for them.
    let _ = stop_tx.send(());
    if tokio::time::timeout(grace, stop_tx.closed()).await.is_err() {
        let _ = kill_tx.send(());
        // Each connection's task ends as soon as it sees the signal.
        let _ = tokio::time::timeout(Duration::from_secs(2), stop_tx.closed()).await;
    }
    killed.load(Ordering::Relaxed)
}

/// Completes on SIGTERM (systemd, docker stop) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!("{name} received");
        }
        (Err(e), _) | (_, Err(e)) => {
            // Without the signal handlers the server runs until it is killed.
            tracing::error!("cannot listen for SIGTERM and SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    }
}
