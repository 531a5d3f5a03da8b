//! The store's lines of the bench's summary. Apart from the bench itself
//! (`store`), which needs xtask's feature `store-bench`: a run without it
//! reads the figures back from the run with it and prints them too.

use serde_json::Value;

/// One post at a time: what one event costs the store. Then 16 at once:
/// Adapty sends a few events at once, and a burst after an outage.
pub const INGEST_CONNECTIONS: [u32; 2] = [1, 16];

/// The store's lines of the bench's summary, each store beside the other.
pub fn print_summary(store: &Value) {
    let figure =
        |kind: &str, part: &str, what: &str| store[kind][part][what].as_f64().unwrap_or(f64::NAN);
    let both = |label: &str, show: &dyn Fn(&str) -> String, goal: &str| {
        println!(
            "{label:<30} SQLite {:<26} PostgreSQL {:<26} {goal}",
            show("sqlite"),
            show("postgres")
        );
    };
    println!(
        "store: {} customers, one of them with {} events",
        store["customers"], store["busy_customer_events"]
    );
    both(
        "store preload",
        &|kind| format!("{:.0} s", figure(kind, "preload", "seconds")),
        "",
    );
    for (place, connections) in INGEST_CONNECTIONS.iter().enumerate() {
        both(
            &format!("webhook ingest, {connections:>2} at once"),
            &|kind| {
                let run = &store[kind]["ingest"][place];
                format!(
                    "{:.0}/s ({:.1}% of URL check)",
                    run["events_per_s"].as_f64().unwrap_or(f64::NAN),
                    run["vs_url_check"].as_f64().unwrap_or(f64::NAN) * 100.0
                )
            },
            "(goal >= 2,000/s on SQLite)",
        );
    }
    for (label, name, ratio, goal) in [
        (
            "search by email p99",
            "search_email",
            "search_email_p99_vs_lookup",
            "(goal <= 10 ms)",
        ),
        (
            "search by transaction ID p99",
            "search_transaction_id",
            "search_transaction_id_p99_vs_lookup",
            "(goal <= 10 ms)",
        ),
        (
            "events page (5,000) p99",
            "events_page",
            "events_page_p99_vs_lookup",
            "(goal <= 20 ms)",
        ),
    ] {
        both(
            label,
            &|kind| {
                let failed = match store[kind][name]["errors"].as_u64() {
                    Some(0) | None => String::new(),
                    Some(count) => format!(", {count} failed"),
                };
                format!(
                    "{:.2} ms ({:.2}x lookup{failed})",
                    figure(kind, name, "p99_ms"),
                    figure(kind, "ratios", ratio)
                )
            },
            goal,
        );
    }
    both(
        "lookup p99 (same relay)",
        &|kind| format!("{:.2} ms", figure(kind, "lookup", "p99_ms")),
        "(for scale)",
    );
}
