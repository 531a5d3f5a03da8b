//! `GET /metrics` in Prometheus text: requests by route and status, lookup
//! and change outcomes, Adapty's latency, retries, and rate-limited lookups.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    status: u16,
}

/// `app` is an ID of the apps file (bounded by it), or empty when the
/// request was refused before its app was known.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    app: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    app: String,
    action: &'static str,
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    lookups: Family<OutcomeLabels, Counter>,
    changes: Family<ChangeLabels, Counter>,
    webhook_events: Family<OutcomeLabels, Counter>,
    store_reads: Family<OutcomeLabels, Counter>,
    bulk_runs: Family<OutcomeLabels, Counter>,
    bulk_checks: Family<OutcomeLabels, Counter>,
    upstream_seconds: Histogram,
    retries: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("relay");
        let requests = Family::<RouteLabels, Counter>::default();
        let lookups = Family::<OutcomeLabels, Counter>::default();
        let changes = Family::<ChangeLabels, Counter>::default();
        let webhook_events = Family::<OutcomeLabels, Counter>::default();
        let store_reads = Family::<OutcomeLabels, Counter>::default();
        let bulk_runs = Family::<OutcomeLabels, Counter>::default();
        let bulk_checks = Family::<OutcomeLabels, Counter>::default();
        // 5 ms to about 10 s: Adapty's answers and the relay's deadline.
        let upstream_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        let retries = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "lookups",
            "Profile lookups by app and outcome code (rate_limited among them)",
            lookups.clone(),
        );
        registry.register(
            "access_changes",
            "Access changes by app, action (grant, revoke) and outcome code",
            changes.clone(),
        );
        registry.register(
            "webhook_events",
            "Adapty webhook requests by app and outcome (accepted, duplicate, verification, \
             or why refused)",
            webhook_events.clone(),
        );
        registry.register(
            "store_reads",
            "Searches and event pages by app and outcome code",
            store_reads.clone(),
        );
        registry.register(
            "bulk_runs",
            "Bulk runs by app and outcome (started, completed, cancelled, or why refused)",
            bulk_runs.clone(),
        );
        registry.register(
            "bulk_customers_checked",
            "Customers checked by bulk runs, by app and result (found, not_found, invalid, \
             ambiguous, failed)",
            bulk_checks.clone(),
        );
        registry.register(
            "upstream_request_seconds",
            "Time of each request to Adapty",
            upstream_seconds.clone(),
        );
        registry.register(
            "upstream_retries",
            "Requests to Adapty repeated after a transient failure",
            retries.clone(),
        );
        Metrics {
            registry,
            requests,
            lookups,
            changes,
            webhook_events,
            store_reads,
            bulk_runs,
            bulk_checks,
            upstream_seconds,
            retries,
        }
    }
}

impl Metrics {
    pub fn request(&self, route: &'static str, status: u16) {
        self.requests
            .get_or_create(&RouteLabels { route, status })
            .inc();
    }

    pub fn lookup(&self, app: &str, outcome: &'static str) {
        self.lookups
            .get_or_create(&OutcomeLabels {
                app: app.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn change(&self, app: &str, action: &'static str, outcome: &'static str) {
        self.changes
            .get_or_create(&ChangeLabels {
                app: app.to_owned(),
                action,
                outcome,
            })
            .inc();
    }

    /// `app` is empty when the path names no app of this relay.
    pub fn webhook(&self, app: &str, outcome: &'static str) {
        self.webhook_events
            .get_or_create(&OutcomeLabels {
                app: app.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn store_read(&self, app: &str, outcome: &'static str) {
        self.store_reads
            .get_or_create(&OutcomeLabels {
                app: app.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn bulk_run(&self, app: &str, outcome: &'static str) {
        self.bulk_runs
            .get_or_create(&OutcomeLabels {
                app: app.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn bulk_check(&self, app: &str, outcome: &'static str) {
        self.bulk_checks
            .get_or_create(&OutcomeLabels {
                app: app.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn upstream_request(&self, took: Duration) {
        self.upstream_seconds.observe(took.as_secs_f64());
    }

    pub fn retry(&self) {
        self.retries.inc();
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String");
        text
    }
}
