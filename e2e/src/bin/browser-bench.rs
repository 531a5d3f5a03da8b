//! Browser timings for `cargo xtask bench`, printed as one JSON object:
//! start-up of the panel, and for the seed and the 8,000-purchase customer
//! the time from the response arriving to the page being ready for input,
//! read from the panel's own performance marks. Medians of several runs.

use e2e::{Panel, SEED_CUSTOMER_USER_ID};
use serde_json::{json, Value};
use std::time::Duration;

const RUNS: usize = 7;

async fn mark(panel: &Panel, name: &str) -> Option<f64> {
    let script = format!("const m = performance.getEntriesByName('{name}'); return m.length ? m[0].startTime : null;");
    panel.browser.execute(&script, vec![]).await.ok()?.as_f64()
}

async fn wait_for_mark(panel: &Panel, name: &str) -> f64 {
    for _ in 0..600 {
        if let Some(at) = mark(panel, name).await {
            return at;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the page never set the mark {name}");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Response arriving → page ready, and navigation → page ready, for one customer.
async fn lookup(panel: &Panel, customer: &str) -> (f64, f64) {
    let (mut render, mut total) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        panel.open(&format!("/?customer_user_id={customer}")).await;
        let ready = wait_for_mark(panel, "lookup:ready").await;
        let response = wait_for_mark(panel, "lookup:response").await;
        render.push(ready - response);
        total.push(ready);
    }
    (median(render), median(total))
}

#[tokio::main]
async fn main() {
    let panel = Panel::demo().await;

    let mut startup = Vec::new();
    let mut static_page = Vec::new();
    for _ in 0..RUNS {
        panel.open("/").await;
        startup.push(wait_for_mark(&panel, "panel:ready").await);
        panel.open("/healthz").await;
        let script = "return performance.getEntriesByType('navigation')[0].loadEventEnd;";
        tokio::time::sleep(Duration::from_millis(50)).await;
        let value: Value = panel.browser.execute(script, vec![]).await.unwrap();
        static_page.push(value.as_f64().unwrap_or_default());
    }
    let (seed_render, seed_total) = lookup(&panel, SEED_CUSTOMER_USER_ID).await;
    let (big_render, big_total) = lookup(&panel, "demo-big").await;
    panel.close().await;

    let report = json!({
        "runs": RUNS,
        "startup_ms": median(startup),
        "static_page_load_ms": median(static_page),
        "seed_response_to_ready_ms": seed_render,
        "seed_navigation_to_ready_ms": seed_total,
        "big_response_to_ready_ms": big_render,
        "big_navigation_to_ready_ms": big_total,
    });
    println!("{report}");
}
