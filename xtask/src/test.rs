//! `cargo xtask test`: every check, in the order that fails fastest.

use crate::run::{self, status, Result};
use crate::{build, tools};

pub fn run() -> Result {
    // First, so the wasm clippy below has its target and tools.
    let panel_tools = tools::panel_tools()?;

    run::step("Formatting");
    status(run::cargo().args(["fmt", "--all", "--", "--check"]))?;

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

    run::step("Unit and relay tests");
    status(run::cargo().args(["test", "--workspace", "--exclude", "e2e"]))?;

    let dist = build::panel(&panel_tools)?;
    let relay = build::relay()?;
    let browser = tools::browser()?;

    run::step("End-to-end tests in headless Chromium against the demo");
    status(
        run::cargo()
            .args(["test", "--package", "e2e", "--", "--test-threads=1"])
            .env("E2E_RELAY", relay)
            .env("E2E_DIST", dist)
            .env("E2E_CHROMIUM", browser.chromium)
            .env("E2E_CHROMEDRIVER", browser.chromedriver),
    )?;

    println!("\nAll checks passed.");
    Ok(())
}
