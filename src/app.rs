//! Application state and start-up: configuration, database, migrations, seeding, listener.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::files::FileStore;
use crate::sms::{aliyun, OutboxSender, SmsSender};

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub files: FileStore,
    pub sms: SmsSender,
    pub clock: Clock,
    /// Server secret for CSRF tokens and SMS code hashes (kept in the database so that every
    /// instance agrees).
    pub secret: Vec<u8>,
    /// The PDF printer with the CJK font found at start-up (read once).
    pub printer: crate::pdf::Printer,
    /// The reference lists of the forms with the version they were read at (see `ref_lists`).
    pub ref_cache: std::sync::Mutex<Option<(String, Arc<crate::store::refs::Lists>)>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.db.pool
    }
    pub fn now(&self) -> i64 {
        self.clock.ts()
    }
    /// City, office and system names and the office phone, as the settings say now (read per
    /// use, so that every instance shows an administrator's change at once).
    pub async fn site(&self) -> Result<crate::seed::Site, sqlx::Error> {
        crate::seed::load_site(self.pool()).await
    }
    /// Countries, missions and code lists, read again only when an administrator has changed
    /// reference data (on any instance): one lookup of the version instead of six queries.
    pub async fn ref_lists(&self) -> Result<crate::store::refs::Lists, sqlx::Error> {
        use crate::store::refs;
        let version = refs::version(self.pool()).await?;
        if let Ok(cache) = self.ref_cache.lock() {
            if let Some((v, lists)) = cache.as_ref() {
                if *v == version {
                    return Ok(lists.as_ref().clone());
                }
            }
        }
        let lists = refs::lists(self.pool()).await?;
        if let Ok(mut cache) = self.ref_cache.lock() {
            *cache = Some((version, Arc::new(lists.clone())));
        }
        Ok(lists)
    }
}

/// Opens the database, migrates and seeds. Returns the state and lines to print at start-up.
pub async fn prepare(config: Config, clock: Clock) -> anyhow::Result<(AppState, Vec<String>)> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let db = Db::connect_for(&config.database_url, config.bulk)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("running migrations")?;
    let files = FileStore::new(config.data_dir.join("files"));
    let sms = match config.serve.sms_provider.as_str() {
        "outbox" => SmsSender::Outbox(OutboxSender::new(
            config.data_dir.join("sms-outbox.jsonl"),
            clock.clone(),
        )),
        "aliyun" => {
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
        other => anyhow::bail!("unknown SMS provider {other:?} (use outbox or aliyun)"),
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
        let router = crate::web::router::router(self.state.clone());
        crate::web::spawn_housekeeping(self.state.clone());
        crate::web::visits::spawn_overdue_job(
            self.state.clone(),
            self.state.config.serve.overdue_job_seconds,
        );
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        Ok(())
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
