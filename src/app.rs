//! Start-up: configuration, database, migrations, seeding, listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, SmsProvider};
use crate::db::Db;
use crate::files::FileStore;
use crate::sms::{aliyun, OutboxSender, SmsSender};
use crate::state::{AppState, Inner};

/// Opens the database, migrates and seeds. Returns the state and lines to print at start-up.
pub async fn prepare(config: Config, clock: Clock) -> anyhow::Result<(AppState, Vec<String>)> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let db = Db::connect_for(&config.database_url, config.bulk)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("running migrations")?;
    let files =
        FileStore::open(&config.files, &config.data_dir).context("opening the file store")?;
    match files.sweep_temp().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} temporary files left by a stopped upload"),
        Err(e) => tracing::warn!("sweeping temporary files in {}: {e}", files.describe()),
    }
    let sms = match config.serve.sms_provider {
        SmsProvider::Outbox => SmsSender::Outbox(OutboxSender::new(
            config.data_dir.join("sms-outbox.jsonl"),
            clock.clone(),
        )),
        SmsProvider::Aliyun => {
            let s = &config.serve;
            if s.aliyun_access_key_id.is_empty()
                || s.aliyun_access_key_secret.is_empty()
                || s.aliyun_sign_name.is_empty()
                || s.aliyun_template_code.is_empty()
            {
                anyhow::bail!("the aliyun SMS provider needs LAIHUA_ALIYUN_ACCESS_KEY_ID, _ACCESS_KEY_SECRET, _SIGN_NAME and _TEMPLATE_CODE");
            }
            SmsSender::Aliyun(aliyun::AliyunSender::new(aliyun::AliyunConfig {
                access_key_id: s.aliyun_access_key_id.clone(),
                access_key_secret: s.aliyun_access_key_secret.clone(),
                sign_name: s.aliyun_sign_name.clone(),
                template_code: s.aliyun_template_code.clone(),
                region_id: s.aliyun_region.clone(),
                endpoint: s.aliyun_endpoint.clone(),
            }))
        }
    };
    let seeded = crate::seed::seed(&db, &files, clock.ts(), config.serve.demo).await?;
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
    }));
    Ok((state, notes))
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

    pub async fn run(self) -> anyhow::Result<()> {
        let serve = &self.state.config.serve;
        let limits = crate::web::limits::Limits::new(serve.body_timeout_secs, serve.max_uploads);
        let header_timeout =
            (serve.header_timeout_secs > 0).then(|| Duration::from_secs(serve.header_timeout_secs));
        let router = crate::web::router::router(self.state.clone()).layer(
            axum::middleware::from_fn_with_state(limits, crate::web::limits::limit),
        );
        crate::jobs::spawn_all(&self.state);
        serve_http1(self.listener, router, header_timeout, shutdown_signal()).await;
        Ok(())
    }
}

/// Serves HTTP/1.1 (the reverse proxy speaks it to us) like `axum::serve`, with what that does
/// not offer: a client must send a request's headers within `header_timeout`, and start its next
/// request on a kept-alive connection within it too, or the connection is closed. (The body's
/// deadline and the upload cap are `web::limits`.) Each request carries the client's address
/// as `ConnectInfo`. On `shutdown`, stops accepting and lets open requests finish.
async fn serve_http1(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Option<Duration>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    // Connections hold a receiver each: all dropped once every connection has ended.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
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
                    let _ = conn.as_mut().await;
                }
            }
            drop(stop);
        });
    }
    drop(stop_rx);
    // Tell every connection to finish its request and close, then wait for them.
    let _ = stop_tx.send(());
    stop_tx.closed().await;
}

async fn shutdown_signal() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        // Without the signal handler the server runs until it is killed.
        tracing::error!("cannot listen for Ctrl-C: {e}");
        std::future::pending::<()>().await;
    }
}
