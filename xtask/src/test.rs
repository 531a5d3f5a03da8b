//! `cargo xtask test`: every check, in the order that fails fastest.

use crate::run::{self, root, status, Result};
use crate::{bench, build, image, layering, tools};
use std::path::Path;

pub fn run() -> Result {
    // First, so the wasm clippy below has its target and tools.
    let panel_tools = tools::panel_tools()?;

    run::step("Formatting");
    status(run::cargo().args(["fmt", "--all", "--", "--check"]))?;

    layering::run()?;

    run::step("Clippy, warnings as errors (native and the panel's wasm)");
    status(run::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    status(run::cargo().args([
        "clippy",
        "--package",
        "adapty-lookup",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;

    tools::postgres()?;
    run::step("Unit and relay tests (the store's on SQLite and a real PostgreSQL)");
    status(run::cargo().args(["test", "--workspace", "--exclude", "e2e"]))?;

    let dist = build::panel(&panel_tools)?;
    bench::check_weight(&dist)?;
    run::step("The panel built into the relay: clippy, and its page, files, encodings and caching");
    status(run::cargo().args([
        "clippy",
        "--package",
        "relay",
        "--features",
        "embed-panel",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    status(run::cargo().args([
        "test",
        "--package",
        "relay",
        "--features",
        "embed-panel",
        "--test",
        "built_panel",
    ]))?;
    let relay = build::relay()?;
    run::step(
        "End-to-end tests in headless Chromium, against the relay and behind a real SSO proxy",
    );
    browser_tests(
        &relay,
        &dist,
        &root().join("target").join("screenshots"),
        &[],
    )?;

    // What `cargo xtask image --check` does: the static relay's own build
    // (4 min 14 s for all of it on a fresh clone here), then a second's check.
    image::from_panel(&dist, true)?;

    println!("\nAll checks passed.");
    Ok(())
}

/// Runs the `e2e` package's tests (those matching `filter`, or all) and
/// keeps the screenshots they take in `screenshots`.
pub fn browser_tests(relay: &Path, dist: &Path, screenshots: &Path, filter: &[&str]) -> Result {
    let browser = tools::browser()?;
    let axe = tools::axe()?;
    let sign_in = tools::sign_in()?;
    status(
        run::cargo()
            .args(["test", "--package", "e2e", "--"])
            .args(filter)
            .arg("--test-threads=1")
            .env("E2E_RELAY", relay)
            .env("E2E_DIST", dist)
            .env("E2E_CHROMIUM", browser.chromium)
            .env("E2E_CHROMEDRIVER", browser.chromedriver)
            .env("E2E_AXE", axe)
            .env("E2E_SCREENSHOT_DIR", screenshots)
            .env("E2E_APACHE", sign_in.apache)
            .env("E2E_APACHE_MODULES", sign_in.apache_modules)
            .env("E2E_OIDC_PYTHON", sign_in.python)
            .env(
                "E2E_OIDC_PROVIDER",
                root().join("e2e").join("sso").join("provider.py"),
            ),
    )
}

/// The browser tests alone, for working on the panel: `cargo xtask e2e NAME…`.
pub fn e2e(filter: &[String]) -> Result {
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    let relay = build::relay()?;
    let filter: Vec<&str> = filter.iter().map(String::as_str).collect();
    browser_tests(
        &relay,
        &dist,
        &root().join("target").join("screenshots"),
        &filter,
    )
}

/// README's picture of the panel, taken by the same browser test that checks
/// the page for accessibility, so it always shows what the tests saw.
pub fn screenshot() -> Result {
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    let relay = build::relay()?;
    let docs = root().join("docs");
    browser_tests(
        &relay,
        &dist,
        &docs,
        &["the_profile_page_has_no_serious_accessibility_violations"],
    )?;
    std::fs::rename(docs.join("grace-period.png"), docs.join("panel.png"))
        .map_err(|error| format!("cannot move the screenshot into place: {error}"))?;
    println!("wrote docs/panel.png");
    Ok(())
}
