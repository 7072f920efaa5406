//! The server's metrics, in Prometheus text format (`GET /metrics`, see `web::ops`).
//!
//! Each server instance has its own recorder (none is installed globally: tests run several
//! servers in one process). What happens is counted where it happens (requests by
//! `web::ops::track`, job runs by `jobs`); what is a state (work queues, the database pool) is
//! read when the metrics are scraped (`workflow::ops::scrape`).
//!
//! Names (all `laihua_`):
//! - `laihua_http_requests_total{method,route,status}` and
//!   `laihua_http_request_duration_seconds{method,route,status}` (histogram): `route` is the
//!   route's pattern (`/groups/{id}`), never the path asked for; `status` is the class (`2xx`).
//! - `laihua_prints_total{route,format}`: forms printed (`format` is `pdf` or `html`).
//! - `laihua_job_runs_total{job,outcome}`, `laihua_job_last_duration_seconds{job}`,
//!   `laihua_job_last_run_timestamp_seconds{job}`.
//! - `laihua_queue_waiting{queue,state}`: items waiting for a reviewer.
//! - `laihua_sms_total{kind,outcome}`: SMS attempts (`sent`, `pending` again, `failed`,
//!   `unknown`); `laihua_sms_messages{state}`: the SMS queue by state (alert on `failed`).
//! - `laihua_db_pool_connections{state}` (`idle`, `in_use`), `laihua_db_pool_max_connections`,
//!   `laihua_db_acquire_seconds` (how long the scrape waited for a connection).

use std::time::Duration;

use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const METADATA: Metadata<'static> = Metadata::new("laihua", Level::INFO, Some(module_path!()));

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect()
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = match PrometheusBuilder::new().set_buckets(&LATENCY_BUCKETS) {
            Ok(b) => b,
            // Only an empty list is refused.
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics { recorder, handle };
        m.describe();
        m
    }

    fn describe(&self) {
        let r = &self.recorder;
        let d = |s: &'static str| SharedString::const_str(s);
        let n = KeyName::from_const_str;
        r.describe_counter(
            n("laihua_sms_total"),
            None,
            d("SMS attempts, by kind of message and outcome."),
        );
        r.describe_gauge(
            n("laihua_sms_messages"),
            None,
            d("Messages of the SMS queue, by state."),
        );
        r.describe_counter(
            n("laihua_http_requests_total"),
            None,
            d("HTTP requests answered, by route pattern and status class."),
        );
        r.describe_histogram(
            n("laihua_http_request_duration_seconds"),
            Some(Unit::Seconds),
            d("Time to answer an HTTP request (until the response's head), by route pattern."),
        );
        r.describe_counter(
            n("laihua_prints_total"),
            None,
            d("Forms printed (PDF, or the HTML page when no CJK font is configured)."),
        );
        r.describe_counter(
            n("laihua_job_runs_total"),
            None,
            d("Runs of the background jobs, by outcome (ok, error)."),
        );
        r.describe_gauge(
            n("laihua_job_last_duration_seconds"),
            Some(Unit::Seconds),
            d("Duration of each background job's last run."),
        );
        r.describe_gauge(
            n("laihua_job_last_run_timestamp_seconds"),
            Some(Unit::Seconds),
            d("When each background job last ran (Unix time)."),
        );
        r.describe_gauge(
            n("laihua_queue_waiting"),
            None,
            d("Items waiting in the review queues, by kind and state."),
        );
        r.describe_gauge(
            n("laihua_db_pool_connections"),
            None,
            d("Database pool connections, idle or in use."),
        );
        r.describe_gauge(
            n("laihua_db_pool_max_connections"),
            None,
            d("The database pool's maximum size."),
        );
        r.describe_gauge(
            n("laihua_db_acquire_seconds"),
            Some(Unit::Seconds),
            d("How long the last scrape waited for a database connection."),
        );
    }

    pub fn counter(&self, name: &'static str, pairs: &[(&'static str, &str)], by: u64) {
        let key = Key::from_parts(name, labels(pairs));
        self.recorder
            .register_counter(&key, &METADATA)
            .increment(by);
    }

    pub fn gauge(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        let key = Key::from_parts(name, labels(pairs));
        self.recorder.register_gauge(&key, &METADATA).set(value);
    }

    pub fn histogram(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        let key = Key::from_parts(name, labels(pairs));
        self.recorder
            .register_histogram(&key, &METADATA)
            .record(value);
    }

    /// One answered HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let pairs = [("method", method), ("route", route), ("status", class)];
        self.counter("laihua_http_requests_total", &pairs, 1);
        self.histogram(
            "laihua_http_request_duration_seconds",
            &pairs,
            took.as_secs_f64(),
        );
    }

    /// One run of a background job.
    pub fn job_run(&self, job: &str, ok: bool, took: Duration, at_unix: i64) {
        let outcome = if ok { "ok" } else { "error" };
        self.counter(
            "laihua_job_runs_total",
            &[("job", job), ("outcome", outcome)],
            1,
        );
        self.gauge(
            "laihua_job_last_duration_seconds",
            &[("job", job)],
            took.as_secs_f64(),
        );
        self.gauge(
            "laihua_job_last_run_timestamp_seconds",
            &[("job", job)],
            at_unix as f64,
        );
    }

    /// Folds the samples recorded since the last call into the histograms' buckets (see
    /// `jobs::metrics_upkeep`).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The text of every series, in Prometheus exposition format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}
