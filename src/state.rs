//! Application state: what every request and job shares (configuration, database, file store,
//! SMS sender, clock, printer, cached reference lists). Built by `app::prepare`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::files::FileStore;
use crate::sms::SmsSender;

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
    /// This instance's metrics (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The keys of the personal data and of the audit chain (see `keys`).
    pub keys: std::sync::Arc<crate::keys::KeyRing>,
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
    /// Today's date in Beijing, where the office works.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock
            .now()
            .with_timezone(&crate::clock::beijing())
            .date_naive()
    }
}
