//! Background jobs: each runs a workflow function on a timer, logs what it did, counts the run in
//! the metrics, and goes on after a failure (the next run tries again). At shutdown
//! ([`Jobs::stop`]) a job waits for no further tick; a run in progress finishes (each run is its
//! own transactions), or, past the deadline, is dropped, which rolls back a transaction not yet
//! committed.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::state::AppState;
use crate::workflow::{access, accounts, files, retention, sealing, sms, visits};

/// The running jobs of a serving instance.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Starts every job of a serving instance.
pub fn spawn_all(state: &AppState) -> Jobs {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tasks.spawn(every(
        state.clone(),
        Job::Housekeeping,
        Duration::from_secs(3600),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::OrphanFiles,
        Duration::from_secs(3600),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::OverdueReminders,
        Duration::from_secs(state.config.serve.overdue_job_seconds.max(1)),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::AccessLogRetention,
        Duration::from_secs(3600),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::PersonalDataRetention,
        Duration::from_secs(3600),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::Sealing,
        Duration::from_secs(3600),
        stopped.clone(),
    ));
    tasks.spawn(every(
        state.clone(),
        Job::Sms,
        Duration::from_secs(state.config.serve.sms_job_seconds.max(1)),
        stopped.clone(),
    ));
    tasks.spawn(metrics_upkeep(state.clone(), stopped));
    Jobs { stop, tasks }
}

/// The latency histograms keep each sample until they are folded into their buckets, which a
/// scrape of /metrics does; without scrapes they would grow by every request. Folds them every
/// few seconds (not a job of its own in the metrics: it would count itself).
async fn metrics_upkeep(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            _ = tick.tick() => state.metrics.upkeep(),
        }
    }
}

impl Jobs {
    /// Stops the jobs: no new run starts; a run in progress has `grace` to finish, then is
    /// dropped.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_done).await.is_err() {
            tracing::warn!(
                "a background job run did not finish within {} s: dropped (not committed)",
                grace.as_secs()
            );
            self.tasks.shutdown().await;
        }
        tracing::info!("background jobs stopped");
    }
}

#[derive(Clone, Copy, Debug)]
enum Job {
    /// Hourly clean-up of expired sessions and flows.
    Housekeeping,
    /// Reminds units of overdue post-visit registrations.
    OverdueReminders,
    /// Removes stored files that no row references (at start-up, then hourly).
    OrphanFiles,
    /// Deletes access log entries past the retention setting (never younger than 180 days;
    /// the audit log is never purged).
    AccessLogRetention,
    /// Seals personal data and files not sealed under the current data key (at start-up, then
    /// hourly; see `workflow::sealing`).
    Sealing,
    /// Erases visitors' personal data past the retention setting (at start-up, then hourly).
    PersonalDataRetention,
    /// Sends the queued SMS that are due (not sent yet, or retried after a failure).
    Sms,
}

impl Job {
    /// The `job` label of the metrics.
    fn name(self) -> &'static str {
        match self {
            Job::Housekeeping => "housekeeping",
            Job::OverdueReminders => "overdue_reminders",
            Job::OrphanFiles => "orphan_files",
            Job::AccessLogRetention => "access_log_retention",
            Job::Sealing => "sealing",
            Job::PersonalDataRetention => "personal_data_retention",
            Job::Sms => "sms",
        }
    }
}

/// Runs `job` every `period` (the first run at once) until told to stop.
async fn every(state: AppState, job: Job, period: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        let started = Instant::now();
        let ok = run(&state, job).await;
        state
            .metrics
            .job_run(job.name(), ok, started.elapsed(), state.now());
    }
}

/// One run; whether it succeeded.
async fn run(state: &AppState, job: Job) -> bool {
    let started = Instant::now();
    match job {
        Job::Housekeeping => match accounts::housekeeping(state).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!("housekeeping: {e:#}");
                false
            }
        },
        Job::OrphanFiles => {
            match files::sweep_orphans(&state.db, &state.files, files::orphan_min_age(state)).await
            {
                Ok(0) => true,
                Ok(n) => {
                    tracing::info!(removed = n, "orphan files removed");
                    true
                }
                Err(e) => {
                    tracing::warn!("orphan file sweep: {e:#}");
                    false
                }
            }
        }
        Job::AccessLogRetention => match access::purge(state).await {
            Ok(0) => true,
            Ok(n) => {
                tracing::info!(
                    removed = n,
                    "access log entries past their retention removed"
                );
                true
            }
            Err(e) => {
                tracing::warn!("access log retention: {e:#}");
                false
            }
        },
        Job::PersonalDataRetention => match retention::run(state).await {
            Ok(e) if e == retention::Erased::default() => true,
            Ok(e) => {
                tracing::info!(
                    groups = e.groups,
                    files = e.files,
                    "personal data past its retention erased"
                );
                true
            }
            Err(e) => {
                tracing::warn!("personal data retention: {e:#}");
                false
            }
        },
        Job::Sealing => {
            // A `laihua keys rotate` run elsewhere may have added a key: seal under it.
            if let Err(e) = state.keys.reload() {
                tracing::warn!("reading the key file again: {e}");
            }
            match sealing::run(&state.db, &state.files, &state.keys).await {
                Ok(s) if s == sealing::Sealed::default() => true,
                Ok(s) => {
                    tracing::info!(
                        visitors = s.visitors,
                        files = s.files,
                        failed = s.failed,
                        "personal data sealed under the current key"
                    );
                    s.failed == 0
                }
                Err(e) => {
                    tracing::warn!("sealing: {e:#}");
                    false
                }
            }
        }
        Job::Sms => match sms::run(state).await {
            Ok(r) if r == sms::Ran::default() => true,
            Ok(r) => {
                tracing::info!(
                    sent = r.sent,
                    failed = r.failed,
                    unknown = r.unknown,
                    "queued SMS sent"
                );
                true
            }
            Err(e) => {
                tracing::warn!("SMS queue: {e:#}");
                false
            }
        },
        Job::OverdueReminders => match visits::run_overdue(state).await {
            Ok(n) => {
                tracing::info!(
                    reminded = n,
                    ms = started.elapsed().as_millis() as u64,
                    "overdue reminders run"
                );
                true
            }
            Err(e) => {
                tracing::warn!("overdue reminders: {e:#}");
                false
            }
        },
    }
}
