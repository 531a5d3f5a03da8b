//! `cargo xtask test`: every check, in the order that fails fastest.

use crate::run::{self, root, status, Result};
use crate::{bench, build, image, layering, tools};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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
    // The store's bench builds only with its feature, which no other
    // member turns on.
    status(run::cargo().args([
        "clippy",
        "--package",
        "xtask",
        "--features",
        "store-bench",
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
        Engine::Chromium,
        &relay,
        &dist,
        &screenshots(Engine::Chromium),
        &[],
    )?;
    run::step(
        "End-to-end tests in Firefox ESR and WebKit, side by side: what differs between engines \
         (the same relay)",
    );
    side_by_side(
        &[Engine::Firefox, Engine::Webkit],
        &relay,
        &dist,
        IN_EVERY_ENGINE,
    )?;

    // What `cargo xtask image --check` does: the static relay's own build
    // (4 min 14 s for all of it on a fresh clone here), then a second's check.
    image::from_panel(&dist, true)?;

    println!("\nAll checks passed.");
    Ok(())
}

/// A browser engine the end-to-end tests run in.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Headless Chromium (Debian's), through ChromeDriver.
    Chromium,
    /// Headless Firefox ESR (Debian's), through geckodriver.
    Firefox,
    /// WebKitGTK's MiniBrowser, Safari's engine, through WebKitWebDriver
    /// on a virtual X display.
    Webkit,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox ESR",
            Engine::Webkit => "WebKit",
        }
    }

    /// `E2E_BROWSER` for the e2e harness.
    fn variable(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::Webkit => "webkit",
        }
    }
}

/// The browser tests that run in Firefox and WebKit too (the whole suite
/// runs in Chromium): a lookup by each kind of ID (customer user ID typed,
/// profile ID by link, email searched), not found (in the app asked, and
/// found in the other), the sign-in expired (the proxy's redirect, which
/// the panel's `fetch` must not follow, and its 401), a grant and its
/// dialog (the keyboard kept inside it), the history, the app picker (as
/// plain as the ID field), a phone's width, the keyboard alone, and axe on
/// the page and the dialog.
pub const IN_EVERY_ENGINE: &[&str] = &[
    "typing_the_seed_id_shows_the_profile_with_local_times",
    "an_anonymous_profile_is_found_by_a_deep_link",
    "searching_a_demo_email_opens_the_customer",
    "not_found_and_bad_input_explain_the_next_step",
    "an_expired_session_redirected_by_the_proxy_asks_to_sign_in_again",
    "an_expired_session_answered_401_by_the_proxy_asks_to_sign_in_again",
    "granting_30_days_in_the_demo_shows_the_new_expiry_as_supports_doing",
    "the_open_dialog_keeps_focus_and_has_no_serious_accessibility_violations",
    "the_seeds_history_by_day_in_tokyo_follows_utc_and_hide_sandbox",
    "the_second_app_is_picked_looked_up_and_kept_on_reload",
    "a_not_found_names_its_app_and_links_to_the_app_that_has_the_customer",
    "revoke_looks_destructive_and_a_sandbox_costs_nothing",
    "a_phone_shows_each_row_as_a_card",
    "the_keyboard_is_enough",
    "the_profile_page_has_no_serious_accessibility_violations",
];

/// Where an engine's screenshots go: Chromium's where they always went.
fn screenshots(engine: Engine) -> PathBuf {
    let dir = root().join("target").join("screenshots");
    match engine {
        Engine::Chromium => dir,
        other => dir.join(other.variable()),
    }
}

/// Runs the `e2e` package's tests (those matching `filter`, or all) in
/// `engine` and keeps the screenshots they take in `screenshots`; a
/// failure names the engine, as each failing test's message does.
pub fn browser_tests(
    engine: Engine,
    relay: &Path,
    dist: &Path,
    screenshots: &Path,
    filter: &[&str],
) -> Result {
    let mut command = browser_test_command(engine, relay, dist, screenshots, filter)?;
    let started = Instant::now();
    status(&mut command)
        .map_err(|error| format!("the browser tests failed in {}: {error}", engine.name()))?;
    println!(
        "browser tests in {}: {} s",
        engine.name(),
        started.elapsed().as_secs()
    );
    Ok(())
}

/// The tests matching `filter` in each of `engines` at once, each engine's output
/// in `target/e2e-logs/ENGINE.log`, shown when all are done: the browsers
/// mostly wait (on the relay, the page, the next frame), so two take
/// little more than the slower one (96 s against 157 s one after the
/// other here, the machine busy with another build).
fn side_by_side(engines: &[Engine], relay: &Path, dist: &Path, filter: &[&str]) -> Result {
    let logs = root().join("target").join("e2e-logs");
    std::fs::create_dir_all(&logs)
        .map_err(|error| format!("cannot create {}: {error}", logs.display()))?;
    let started = Instant::now();
    let mut running = Vec::new();
    for &engine in engines {
        let mut command = browser_test_command(engine, relay, dist, &screenshots(engine), filter)?;
        let log = logs.join(format!("{}.log", engine.variable()));
        let file = std::fs::File::create(&log)
            .map_err(|error| format!("cannot create {}: {error}", log.display()))?;
        let child = command
            .stdout(file.try_clone().map_err(|error| error.to_string())?)
            .stderr(file)
            .spawn()
            .map_err(|error| {
                format!("cannot run the browser tests in {}: {error}", engine.name())
            })?;
        println!("{} started, output in {}", engine.name(), log.display());
        running.push((engine, log, child, None));
    }
    // Each one's time, as it ends.
    while running.iter().any(|(_, _, _, done)| done.is_none()) {
        for (_, _, child, done) in running.iter_mut().filter(|(.., done)| done.is_none()) {
            if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
                *done = Some((status, started.elapsed().as_secs()));
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let mut failed = Vec::new();
    for (engine, log, _, done) in running {
        let (status, seconds) = done.expect("every engine has ended");
        println!("\n--- {} ({}) ---", engine.name(), log.display());
        print!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        println!("browser tests in {}: {seconds} s", engine.name());
        if !status.success() {
            failed.push(format!(
                "the browser tests failed in {} ({status}; {})",
                engine.name(),
                log.display()
            ));
        }
    }
    println!(
        "browser tests in {}, side by side: {} s",
        engines
            .iter()
            .map(|engine| engine.name())
            .collect::<Vec<_>>()
            .join(" and "),
        started.elapsed().as_secs()
    );
    match failed.is_empty() {
        true => Ok(()),
        false => Err(failed.join("; ")),
    }
}

/// The `cargo test` of the `e2e` package in `engine`, with every path the
/// harness reads; the engine's tools installed first when missing.
fn browser_test_command(
    engine: Engine,
    relay: &Path,
    dist: &Path,
    screenshots: &Path,
    filter: &[&str],
) -> Result<Command> {
    let axe = tools::axe()?;
    let sign_in = tools::sign_in()?;
    let mut command = match engine {
        Engine::Webkit => {
            let webkit = tools::webkit()?;
            // WebKitGTK has no headless mode: a virtual X display, as
            // large as the tests' biggest window.
            let mut command = Command::new(&webkit.xvfb_run);
            command
                .args(["--auto-servernum", "--server-args=-screen 0 1920x1080x24"])
                .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(root())
                // xvfb-run would wait on a terminal's input.
                .stdin(std::process::Stdio::null())
                .env("E2E_WEBKIT_DRIVER", webkit.driver)
                .env("E2E_MINIBROWSER", webkit.minibrowser);
            command
        }
        Engine::Firefox => {
            let firefox = tools::firefox()?;
            let mut command = run::cargo();
            command
                .env("E2E_FIREFOX", firefox.firefox)
                .env("E2E_GECKODRIVER", firefox.geckodriver);
            command
        }
        Engine::Chromium => {
            let browser = tools::browser()?;
            let mut command = run::cargo();
            command
                .env("E2E_CHROMIUM", browser.chromium)
                .env("E2E_CHROMEDRIVER", browser.chromedriver);
            command
        }
    };
    command
        // Every test binary runs, so a failure in one does not hide another's.
        .args(["test", "--no-fail-fast", "--package", "e2e", "--"])
        .args(filter)
        .arg("--test-threads=1")
        .env("E2E_BROWSER", engine.variable())
        .env("E2E_RELAY", relay)
        .env("E2E_DIST", dist)
        .env("E2E_AXE", axe)
        .env("E2E_SCREENSHOT_DIR", screenshots)
        .env("E2E_APACHE", sign_in.apache)
        .env("E2E_APACHE_MODULES", sign_in.apache_modules)
        .env("E2E_OIDC_PYTHON", sign_in.python)
        .env(
            "E2E_OIDC_PROVIDER",
            root().join("e2e").join("sso").join("provider.py"),
        );
    Ok(command)
}

/// The browser tests alone, for working on the panel: `cargo xtask e2e
/// [--browser ENGINE]… NAME…`, in several engines side by side.
pub fn e2e(engines: &[Engine], filter: &[String]) -> Result {
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    let relay = build::relay()?;
    let filter: Vec<&str> = filter.iter().map(String::as_str).collect();
    match engines {
        [engine] => browser_tests(*engine, &relay, &dist, &screenshots(*engine), &filter),
        _ => side_by_side(engines, &relay, &dist, &filter),
    }
}

/// README's picture of the panel, taken by the same browser test that checks
/// the page for accessibility, so it always shows what the tests saw; in
/// any of the engines.
pub fn screenshot(engine: Engine) -> Result {
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    let relay = build::relay()?;
    let docs = root().join("docs");
    browser_tests(
        engine,
        &relay,
        &dist,
        &docs,
        &["the_profile_page_has_no_serious_accessibility_violations"],
    )?;
    std::fs::rename(docs.join("grace-period.png"), docs.join("panel.png"))
        .map_err(|error| format!("cannot move the screenshot into place: {error}"))?;
    println!("wrote docs/panel.png, taken in {}", engine.name());
    Ok(())
}
