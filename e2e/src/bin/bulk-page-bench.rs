//! The Bulk check page with 5,000 rows, for `cargo xtask bench`: a run of
//! 5,000 IDs against the demo with its Adapty budget out of the way, then
//! how long the page takes to sort and to filter them, from the press or
//! the keystroke to the next frame after the table is drawn again (the
//! page ready for input), read in the page with `performance.now()`.
//! Medians of several; printed as one JSON object. No goal is held here:
//! `cargo xtask bench` reports the figures against the 100 ms.

use e2e::{Panel, ANONYMOUS_PROFILE_ID, SEED_CUSTOMER_USER_ID, SEED_PROFILE_ID};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROWS: usize = 5_000;
const RUNS: usize = 7;

/// The demo's customers (found), then unknown IDs, a few malformed.
fn ids() -> Vec<String> {
    let mut ids: Vec<String> = [
        "demo-expired",
        "demo-play-store",
        "demo-lifetime",
        "demo-sandbox",
        "demo-grace-period",
        "demo-billing-issue",
        "demo-scheduled",
        "demo-refunded",
        "demo-custom-store",
        "demo-many-purchases",
        SEED_CUSTOMER_USER_ID,
        SEED_PROFILE_ID,
        ANONYMOUS_PROFILE_ID,
    ]
    .map(String::from)
    .to_vec();
    let mut n = 0;
    while ids.len() < ROWS {
        n += 1;
        ids.push(if n % 100 == 0 {
            format!("ünknown-{n}")
        } else {
            format!("bench-customer-{n}")
        });
    }
    ids
}

/// Milliseconds from a click on `css` (or, with `value`, typing it into the
/// field `css`) to the frame after the page has drawn it.
async fn time(panel: &Panel, css: &str, value: Option<&str>) -> f64 {
    let script = "const [css, value, done] = arguments; \
        const element = document.querySelector(css); const start = performance.now(); \
        if (value === null) { element.click(); } \
        else { element.value = value; element.dispatchEvent(new Event('input', {bubbles: true})); } \
        requestAnimationFrame(() => setTimeout(() => done(performance.now() - start), 0));";
    let answer = panel
        .browser
        .execute_async(
            script,
            vec![css.into(), value.map_or(Value::Null, Value::from)],
        )
        .await
        .unwrap_or_else(|error| panic!("time {css}: {error}"));
    answer.as_f64().expect("a time in milliseconds")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let panel = Panel::start(
        &["--demo", "--global-rate-limit-per-minute", "1000000000"],
        &[],
    )
    .await;
    panel.open("/bulk").await;
    panel.wait_for_text("#bulk-app", "Main app").await;
    panel
        .browser
        .execute(
            "const box = document.getElementById('bulk-ids'); box.value = arguments[0]; \
             box.dispatchEvent(new Event('input', {bubbles: true})); \
             document.getElementById('bulk-reason').value = 'bench of the page';",
            vec![ids().join("\n").into()],
        )
        .await
        .expect("paste the list");
    panel
        .wait_for_text("#bulk-count", "IDs to check: 5,000.")
        .await;
    let started = Instant::now();
    panel.click("#bulk-start").await;
    loop {
        let text = panel.texts("#bulk-progress").await.join("");
        if text.contains("Done.") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the run did not end: {text}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let run_seconds = started.elapsed().as_secs_f64();
    panel
        .wait_for_text("#results .pager-summary", "of 5,000 results")
        .await;

    // Each header twice (both orders), and the filter typed then cleared.
    let (mut sort, mut filter) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        for column in [2, 4, 6] {
            let header = format!("#results th:nth-child({column}) button");
            sort.push(time(&panel, &header, None).await);
            sort.push(time(&panel, &header, None).await);
        }
        filter.push(time(&panel, "#bulk-filter", Some("not found")).await);
        filter.push(time(&panel, "#bulk-filter", Some("premium")).await);
        filter.push(time(&panel, "#bulk-filter", Some("")).await);
    }
    let quick = time(&panel, "#results .quick .chip", None).await;
    let shown = panel.texts("#results .pager-summary").await.join("");
    panel.close().await;

    let report = json!({
        "rows": ROWS,
        "runs": RUNS,
        "run_seconds": run_seconds,
        "sort_ms_median": median(sort.clone()),
        "sort_ms_max": sort.iter().copied().fold(0.0, f64::max),
        "filter_ms_median": median(filter.clone()),
        "filter_ms_max": filter.iter().copied().fold(0.0, f64::max),
        "quick_filter_ms": quick,
        "after_quick_filter": shown,
    });
    println!("{report}");
}
