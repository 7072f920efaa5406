//! Background jobs: each runs a workflow function on a timer, logs what it did, and goes on
//! after a failure (the next run tries again).

use std::time::{Duration, Instant};

use crate::state::AppState;
use crate::workflow::{accounts, visits};

/// Starts every job of a serving instance.
pub fn spawn_all(state: &AppState) {
    spawn_housekeeping(state.clone());
    crate::workflow::files::spawn_orphan_sweep(state);
    spawn_overdue_job(state.clone(), state.config.serve.overdue_job_seconds);
}

/// Hourly clean-up of expired sessions and flows.
fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = accounts::housekeeping(&state).await {
                tracing::warn!("housekeeping: {e:#}");
            }
        }
    });
}

/// Reminds units of overdue post-visit registrations every `every` seconds.
fn spawn_overdue_job(state: AppState, every: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every.max(1)));
        loop {
            tick.tick().await;
            let started = Instant::now();
            match visits::run_overdue(&state).await {
                Ok(n) => tracing::info!(
                    reminded = n,
                    ms = started.elapsed().as_millis() as u64,
                    "overdue reminders run"
                ),
                Err(e) => tracing::warn!("overdue reminders: {e:#}"),
            }
        }
    });
}
