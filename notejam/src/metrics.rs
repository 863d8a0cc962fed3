//! Request metrics as CloudWatch embedded metric format (EMF) lines on stdout, in
//! namespace `Notejam/App` with the `Environment` dimension.
//!
//! Requests are aggregated per interval: one document carries the counts, and the
//! latencies follow as arrays of at most 100 values (the EMF limit per array), so a
//! busy node writes a few lines a minute instead of one per request.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngExt;
use serde_json::{Value, json};

pub const NAMESPACE: &str = "Notejam/App";
const VALUES_PER_DOCUMENT: usize = 100;
/// Latency samples kept per interval; beyond it a uniform sample is kept (reservoir).
const MAX_SAMPLES: usize = 20_000;

#[derive(Default)]
struct Window {
    latencies_ms: Vec<f64>,
    requests: u64,
    server_errors: u64,
    client_errors: u64,
}

pub struct Metrics {
    environment: String,
    window: Mutex<Window>,
}

impl Metrics {
    pub fn new(environment: &str) -> Metrics {
        Metrics {
            environment: environment.to_owned(),
            window: Mutex::new(Window::default()),
        }
    }

    pub fn record(&self, latency: Duration, status: u16) {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        window.requests += 1;
        match status {
            500..=599 => window.server_errors += 1,
            400..=499 => window.client_errors += 1,
            _ => {}
        }
        // Two decimals of a millisecond are plenty and keep the lines short.
        let ms = (latency.as_secs_f64() * 100_000.0).round() / 100.0;
        if window.latencies_ms.len() < MAX_SAMPLES {
            window.latencies_ms.push(ms);
        } else {
            let slot = rand::rng().random_range(0..window.requests) as usize;
            if slot < MAX_SAMPLES {
                window.latencies_ms[slot] = ms;
            }
        }
    }

    /// The EMF documents for the interval that ends now, which starts a new one.
    /// The counts are written even when zero, so alarms see "no errors" as data.
    pub fn take_documents(&self, timestamp_ms: i64) -> Vec<String> {
        let window = std::mem::take(&mut *self.window.lock().unwrap_or_else(|p| p.into_inner()));
        let metadata = |names: &[(&str, &str)]| {
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Environment"]],
                    "Metrics": names.iter()
                        .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
                        .collect::<Vec<Value>>(),
                }],
            })
        };
        let mut documents = vec![json!({
            "_aws": metadata(&[
                ("Requests", "Count"),
                ("Errors", "Count"),
                ("ClientErrors", "Count"),
            ]),
            "Environment": self.environment,
            "Requests": window.requests,
            "Errors": window.server_errors,
            "ClientErrors": window.client_errors,
        })];
        for chunk in window.latencies_ms.chunks(VALUES_PER_DOCUMENT) {
            documents.push(json!({
                "_aws": metadata(&[("RequestLatency", "Milliseconds")]),
                "Environment": self.environment,
                "RequestLatency": chunk,
            }));
        }
        documents.iter().map(Value::to_string).collect()
    }

    /// Writes the interval's documents to stdout, one line each, in one write.
    pub fn flush_to_stdout(&self) {
        let mut text = String::new();
        for document in self.take_documents(crate::db::now_millis()) {
            text.push_str(&document);
            text.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            tracing::warn!(%error, "cannot write metrics to stdout");
        }
    }
}

/// Flushes every `interval` until the process ends.
pub fn spawn_flusher(metrics: Arc<Metrics>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            metrics.flush_to_stdout();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn an_interval_becomes_valid_emf_documents() {
        let metrics = Metrics::new("staging");
        for i in 0..250u64 {
            let status = match i % 50 {
                0 => 500,
                1 => 404,
                _ => 200,
            };
            metrics.record(Duration::from_micros(1500 + i), status);
        }
        let docs: Vec<Value> = metrics
            .take_documents(1_700_000_000_000)
            .iter()
            .map(|d| parse(d))
            .collect();
        assert_eq!(docs.len(), 1 + 3);
        let counts = &docs[0];
        assert_eq!(counts["Requests"], 250);
        assert_eq!(counts["Errors"], 5);
        assert_eq!(counts["ClientErrors"], 5);
        assert_eq!(counts["Environment"], "staging");
        let directive = &counts["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Notejam/App");
        assert_eq!(directive["Dimensions"], json!([["Environment"]]));
        let latencies: Vec<f64> = docs[1..]
            .iter()
            .flat_map(|d| d["RequestLatency"].as_array().unwrap().clone())
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(latencies.len(), 250);
        assert_eq!(latencies[0], 1.5);
        assert!(
            docs[1..]
                .iter()
                .all(|d| d["RequestLatency"].as_array().unwrap().len() <= 100)
        );
    }

    #[test]
    fn an_idle_interval_still_reports_zero_counts() {
        let metrics = Metrics::new("prod");
        metrics.record(Duration::from_millis(3), 200);
        assert_eq!(metrics.take_documents(0).len(), 2);
        let docs = metrics.take_documents(0);
        assert_eq!(docs.len(), 1);
        assert_eq!(parse(&docs[0])["Requests"], 0);
    }

    #[test]
    fn samples_are_bounded_under_heavy_load() {
        let metrics = Metrics::new("prod");
        for _ in 0..(MAX_SAMPLES + 5000) {
            metrics.record(Duration::from_millis(1), 200);
        }
        let docs = metrics.take_documents(0);
        assert_eq!(parse(&docs[0])["Requests"], (MAX_SAMPLES + 5000) as u64);
        assert_eq!(docs.len(), 1 + MAX_SAMPLES / VALUES_PER_DOCUMENT);
    }
}
