//! What the operator's endpoints check and count: readiness (the database and the file store
//! answer, each within a short bound) and the metrics read at scrape time (work queues and the
//! database pool; see `crate::metrics` for every name).

use std::time::{Duration, Instant};

use crate::state::AppState;
use crate::store;

/// How long each readiness check, and the scrape's database work, may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One readiness check and why it failed (`None`: it passed).
#[derive(Debug)]
pub struct Check {
    pub name: &'static str,
    pub failure: Option<String>,
}

async fn bounded<E: std::fmt::Display>(
    name: &'static str,
    check: impl std::future::Future<Output = Result<(), E>>,
) -> Check {
    let failure = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "no answer within {} s",
            CHECK_TIMEOUT.as_secs_f32()
        )),
    };
    Check { name, failure }
}

/// The database and the file store, checked at the same time.
pub async fn readiness(state: &AppState) -> Vec<Check> {
    let (db, files) = tokio::join!(
        bounded("database", store::ops::ping(state.pool())),
        bounded("files", state.files.ready()),
    );
    vec![db, files]
}

/// Reads the states (queues, pool) into the metrics and renders every series.
pub async fn scrape(state: &AppState) -> String {
    let m = &state.metrics;
    let pool = state.pool();
    let started = Instant::now();
    match tokio::time::timeout(CHECK_TIMEOUT, pool.acquire()).await {
        Ok(Ok(mut conn)) => {
            m.gauge(
                "laihua_db_acquire_seconds",
                &[],
                started.elapsed().as_secs_f64(),
            );
            match tokio::time::timeout(CHECK_TIMEOUT, store::ops::waiting(&mut conn)).await {
                Ok(Ok(rows)) => {
                    for (queue, _, states) in store::ops::WAITING {
                        for s in *states {
                            let n = rows
                                .iter()
                                .find(|(q, st, _)| q == queue && st == s)
                                .map_or(0, |r| r.2);
                            m.gauge(
                                "laihua_queue_waiting",
                                &[("queue", queue), ("state", s)],
                                n as f64,
                            );
                        }
                    }
                }
                Ok(Err(e)) => tracing::warn!("metrics: counting the queues: {e}"),
                Err(_) => tracing::warn!("metrics: counting the queues timed out"),
            }
        }
        Ok(Err(e)) => tracing::warn!("metrics: no database connection: {e}"),
        Err(_) => tracing::warn!("metrics: no database connection within the bound"),
    }
    match tokio::time::timeout(CHECK_TIMEOUT, store::sms_queue::counts(pool)).await {
        Ok(Ok(counts)) => {
            for s in store::sms_queue::STATES {
                m.gauge("laihua_sms_messages", &[("state", s)], counts.of(s) as f64);
            }
        }
        Ok(Err(e)) => tracing::warn!("metrics: counting the SMS queue: {e}"),
        Err(_) => tracing::warn!("metrics: counting the SMS queue timed out"),
    }
    let idle = pool.num_idle() as f64;
    let size = f64::from(pool.size());
    m.gauge("laihua_db_pool_connections", &[("state", "idle")], idle);
    m.gauge(
        "laihua_db_pool_connections",
        &[("state", "in_use")],
        (size - idle).max(0.0),
    );
    m.gauge(
        "laihua_db_pool_max_connections",
        &[],
        f64::from(pool.options().get_max_connections()),
    );
    m.render()
}
