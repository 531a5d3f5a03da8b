//! The Bulk check page with 5,000 rows in headless Chromium (issue 24):
//! how long sorting and filtering them takes, from the press or the
//! keystroke to the next frame with the table drawn again (goal: under
//! 100 ms). The e2e package's `bulk-page-bench` measures; this reports.

use super::browser_bench;
use crate::run::{step, Result};
use serde_json::Value;
use std::path::Path;

pub fn run(relay: &Path, dist: &Path) -> Result<Value> {
    step("The Bulk check page with 5,000 rows in the browser");
    let json = browser_bench(relay, dist, "bulk-page-bench")?;
    serde_json::from_str(json.trim())
        .map_err(|error| format!("unreadable bulk page timings ({error}): {json}"))
}

pub fn print_summary(page: &Value) {
    let number = |key: &str| page[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "bulk page, 5,000 rows: sort      {:.0} ms median, {:.0} ms at most (goal < 100 ms)",
        number("sort_ms_median"),
        number("sort_ms_max")
    );
    println!(
        "bulk page, 5,000 rows: filter    {:.0} ms median, {:.0} ms at most (goal < 100 ms)",
        number("filter_ms_median"),
        number("filter_ms_max")
    );
    println!(
        "bulk page: quick filter         {:.0} ms; the run of 5,000 took {:.1} s",
        number("quick_filter_ms"),
        number("run_seconds")
    );
}
