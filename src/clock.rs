//! Time source. Tests move it forward; production reads the system clock.
//! Everything shown to people is Beijing time (UTC+8) whatever the server's zone.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
    /// Browser tests move the clock of a running server by writing seconds into this file.
    offset_file: Option<Arc<std::path::PathBuf>>,
}

impl Clock {
    /// A clock that adds the number of seconds found in `path` (a test aid; absent file = 0).
    pub fn with_offset_file(path: std::path::PathBuf) -> Clock {
        Clock {
            offset_secs: Arc::default(),
            offset_file: Some(Arc::new(path)),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let mut offset = self.offset_secs.load(Ordering::Relaxed);
        if let Some(path) = &self.offset_file {
            offset += std::fs::read_to_string(path.as_ref())
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(0);
        }
        Utc::now() + chrono::Duration::seconds(offset)
    }
    /// Unix seconds.
    pub fn ts(&self) -> i64 {
        self.now().timestamp()
    }
    /// Moves this clock forward (tests only; there is no route for it).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

pub fn beijing() -> FixedOffset {
    // 8 hours is always a valid offset.
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// Formats unix seconds as Beijing time `YYYY-MM-DD HH:MM`.
pub fn fmt_ts(ts: i64) -> String {
    match beijing().timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => String::new(),
    }
}

pub fn fmt_opt_ts(ts: Option<i64>) -> String {
    ts.map(fmt_ts).unwrap_or_default()
}
