//! The end-to-end harness: the relay (its dev-profile build) serving the built panel, in
//! front of either its demo stand-in or a fault-injecting upstream, with a
//! browser driven over WebDriver: headless Chromium (ChromeDriver), headless
//! Firefox ESR (geckodriver) or WebKitGTK's MiniBrowser (WebKitWebDriver, on
//! the X display `xvfb-run` gives it), as `E2E_BROWSER` says ([`Engine`]).
//!
//! `cargo xtask test` builds everything and passes the paths in `E2E_*`
//! variables; run alone, a test says what is missing.

pub mod fault;
pub mod sso;

pub use testkit::Raw;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Once;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub use fantoccini;

pub const SEED_CUSTOMER_USER_ID: &str = "77B14FB4-FD2A-4D38-AA3A-4C433F79863C";
pub const SEED_PROFILE_ID: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";
pub const ANONYMOUS_PROFILE_ID: &str = "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
/// The browser runs in this zone, so that local times are visibly not UTC.
/// Tokyo has no daylight saving: the expected times never shift.
pub const BROWSER_TIME_ZONE: &str = "Asia/Tokyo";

/// How long the page may take to show an answer before a test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// The browser engine the tests run in, named by `E2E_BROWSER`
/// (`chromium`, the default, `firefox` or `webkit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

impl Engine {
    pub fn current() -> Engine {
        match std::env::var("E2E_BROWSER").as_deref() {
            Err(_) | Ok("chromium") => Engine::Chromium,
            Ok("firefox") => Engine::Firefox,
            Ok("webkit") => Engine::WebKit,
            Ok(other) => panic!("E2E_BROWSER is {other:?}: say chromium, firefox or webkit"),
        }
    }

    /// As a failing test names it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox ESR",
            Engine::WebKit => "WebKit (WebKitGTK MiniBrowser)",
        }
    }
}

/// Every failing test says which engine it failed in: its panic message
/// starts with the engine's name (the tests run one at a time, in one
/// engine per process).
fn name_the_engine_in_failures() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let engine = Engine::current();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            eprint!("[in {}] ", engine.name());
            default(info);
        }));
    });
}

pub struct Panel {
    pub base_url: String,
    pub browser: Client,
    pub engine: Engine,
    // Killed when the test ends, pass or fail.
    relay: Child,
    driver: Driver,
    /// The relay's temporary folder (the demo's store), removed with it:
    /// a killed relay cannot remove its own.
    _relay_temp: TempFolder,
}

/// The WebDriver server and the browser it started, in a process group of
/// their own: all of it is killed when the test ends, pass or fail (a
/// killed driver would leave its browser running), then their temporary
/// folder (profile, caches) is removed.
struct Driver {
    url: String,
    process: Child,
    /// What the driver and its browser print, where the engines without
    /// ChromeDriver's log endpoint write the page's console.
    output: PathBuf,
    temp: TempFolder,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(group) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
        // Then `temp`, dropped after this, removes the folder.
    }
}

struct TempFolder(PathBuf);

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn required(variable: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{variable} is not set: run the browser tests with `cargo xtask test`")
        })
}

/// A free loopback port for a server started later, taken below the
/// kernel's ephemeral range: a port the kernel hands out for port 0 (the
/// demo's stand-ins, every client socket) could be handed out again before
/// that server binds it, as Apache found once in CI ("Address already in use").
pub(crate) fn free_port() -> u16 {
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let below = ephemeral_from.saturating_sub(10_000).max(1024);
    let span = u32::from(ephemeral_from.saturating_sub(below).max(1));
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
    (0..span)
        .map(|step| below + ((seed.wrapping_add(step) % span) as u16))
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free loopback port below the ephemeral range")
}

pub(crate) async fn wait_until_up(url: &str, what: &str) {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if reqwest::get(url)
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not come up at {url}");
}

/// The demo posts each sample's webhook events as it starts, beside the
/// tests' first lookups: waits until both apps' are in (none accepted for
/// a second), so that a history does not depend on how far they got.
async fn wait_for_demo_events(base_url: &str) {
    let started = Instant::now();
    let (mut last, mut since) = (0, Instant::now());
    // The big sample alone has over a thousand events.
    while started.elapsed() < 4 * PATIENCE {
        let metrics = reqwest::get(format!("{base_url}/metrics"))
            .await
            .expect("the relay's metrics")
            .text()
            .await
            .expect("the metrics' text");
        let accepted: Vec<u64> = metrics
            .lines()
            .filter(|line| {
                line.starts_with("relay_webhook_events_total{")
                    && line.contains("outcome=\"accepted\"")
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
            .collect();
        let total: u64 = accepted.iter().sum();
        if total != last {
            (last, since) = (total, Instant::now());
        } else if accepted.len() == 2 && since.elapsed() >= Duration::from_secs(1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo's webhook events did not all arrive at {base_url}");
}

impl Panel {
    /// The relay in demo mode, exactly as `cargo xtask demo` runs it, once
    /// its samples' webhook events are in its store.
    pub async fn demo() -> Panel {
        Panel::launch(&["--demo"], &[], true).await
    }

    /// The relay in production mode, in front of an upstream that misbehaves.
    pub async fn in_front_of(fault: Raw) -> Panel {
        let (upstream, _) = testkit::raw_upstream(vec![fault]).await;
        Panel::start(
            &["--api-base", &upstream, "--upstream-timeout-secs", "1"],
            &[("ADAPTY_API_KEY", "secret_live_e2e")],
        )
        .await
    }

    /// The relay with these arguments and environment (say `--demo` for the
    /// stand-in), and a fresh browser on it.
    pub async fn start(relay_args: &[&str], relay_env: &[(&str, &str)]) -> Panel {
        Panel::launch(relay_args, relay_env, false).await
    }

    /// The relay and the browser start side by side: a browser takes
    /// seconds to start (Firefox most), as the demo's events do to arrive.
    async fn launch(relay_args: &[&str], relay_env: &[(&str, &str)], demo_events: bool) -> Panel {
        let relay_port = free_port();
        let base_url = format!("http://127.0.0.1:{relay_port}");
        let relay_temp = TempFolder(std::env::temp_dir().join(format!("e2e-relay-{relay_port}")));
        let _ = std::fs::remove_dir_all(&relay_temp.0);
        std::fs::create_dir_all(&relay_temp.0).expect("make the relay's temporary folder");
        let relay = Command::new(required("E2E_RELAY"))
            .args(relay_args)
            .envs(relay_env.iter().copied())
            .env("TMPDIR", &relay_temp.0)
            .env_remove("ADAPTY_API_KEY_FILE")
            .arg("--static-dir")
            .arg(required("E2E_DIST"))
            .args(["--listen", &format!("127.0.0.1:{relay_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the relay");
        let relay_ready = async {
            wait_until_up(&format!("{base_url}/healthz"), "the relay").await;
            if demo_events {
                wait_for_demo_events(&base_url).await;
            }
        };

        let engine = Engine::current();
        name_the_engine_in_failures();
        let browser_ready = async {
            let driver = Driver::start(engine).await;
            // A browser that cannot start (say, no X display) leaves its
            // driver waiting for it for ever: the test fails instead.
            let mut builder = ClientBuilder::new(HttpConnector::new());
            let session = builder
                .capabilities(capabilities(engine, &driver.temp.0))
                .connect(&driver.url);
            let browser = tokio::time::timeout(4 * PATIENCE, session)
                .await
                .unwrap_or_else(|_| {
                    let output = std::fs::read_to_string(&driver.output).unwrap_or_default();
                    panic!("{} did not start within a minute:\n{output}", engine.name())
                })
                .unwrap_or_else(|error| panic!("open a {} session: {error}", engine.name()));
            if engine != Engine::Chromium {
                // Neither has an option that works for it (Firefox starts at
                // its headless screen's 1366 × 768).
                browser
                    .set_window_size(1280, 900)
                    .await
                    .expect("size the window");
            }
            (driver, browser)
        };
        let ((), (driver, browser)) = tokio::join!(relay_ready, browser_ready);
        Panel {
            base_url,
            browser,
            engine,
            relay,
            driver,
            _relay_temp: relay_temp,
        }
    }

    pub async fn open(&self, path_and_query: &str) {
        self.browser
            .goto(&format!("{}{path_and_query}", self.base_url))
            .await
            .expect("navigate");
        self.watch_the_console().await;
    }

    /// Reloads the page, as the browser's button does.
    pub async fn reload(&self) {
        self.browser.refresh().await.expect("reload");
        self.watch_the_console().await;
    }

    /// WebKit's driver gives no console, and MiniBrowser writes none for
    /// a page the driver opened: in WebKit the page's errors are caught by
    /// listeners added once it has loaded (uncaught errors, rejections,
    /// `console.error`, which the panel's panics go through, and CSP
    /// violations); an error while it loads is not seen there.
    async fn watch_the_console(&self) {
        if self.engine != Engine::WebKit {
            return;
        }
        let script = r#"
            if (!window.e2eSevere) {
                const seen = (window.e2eSevere = []);
                const error = console.error.bind(console);
                console.error = (...args) => { seen.push('console.error: ' + args.join(' ')); error(...args); };
                addEventListener('error', (event) => seen.push('uncaught: ' + event.message));
                addEventListener('unhandledrejection', (event) => seen.push('unhandled rejection: ' + event.reason));
                addEventListener('securitypolicyviolation', (event) =>
                    seen.push('CSP refused ' + event.blockedURI + ' (' + event.violatedDirective + ')'));
            }
        "#;
        self.browser
            .execute(script, vec![])
            .await
            .expect("watch the page's console");
    }

    pub async fn wait_for(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} never appeared: {error}"))
    }

    /// The page updates asynchronously: polls until `css` contains `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < PATIENCE {
            if let Ok(element) = self.browser.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never contained {expected:?}; last text:\n{last}");
    }

    /// Polls until nothing matches `css`.
    pub async fn wait_for_gone(&self, css: &str) {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            match self.browser.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => return,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("{css} never went away");
    }

    /// Whether the element is on screen (present, and not `hidden`).
    pub async fn is_shown(&self, css: &str) -> bool {
        self.wait_for(css)
            .await
            .is_displayed()
            .await
            .unwrap_or_else(|error| panic!("is {css} displayed: {error}"))
    }

    /// Each name and its value in the description lists under `css`, as
    /// "name\nvalue": read cell by cell, as WebKit's driver reads a list
    /// laid out as a grid without the line between a name and its value.
    pub async fn name_value_pairs(&self, css: &str) -> Vec<String> {
        let names = self.texts(&format!("{css} dt")).await;
        let values = self.texts(&format!("{css} dd")).await;
        assert_eq!(names.len(), values.len(), "{css}: a name without its value");
        names
            .into_iter()
            .zip(values)
            .map(|(name, value)| format!("{name}\n{value}"))
            .collect()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self
            .browser
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
        {
            texts.push(element.text().await.expect("element text"));
        }
        texts
    }

    /// Clicks the first element matching `css`. A table row is clicked on
    /// one of its cells: WebKit's driver cannot click a row itself, and
    /// geckodriver looks for its first cell at the row's centre. The panel
    /// writes some parts again as it fills them (the access level cards):
    /// an element gone between finding and clicking it is found again, as
    /// a person would click what is on screen now.
    pub async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            let clicked = self.wait_for(css).await.click().await;
            match clicked {
                Ok(_) => return,
                Err(error)
                    if (error.is_stale_element_reference()
                        || error.is_no_such_element()
                        // WebKit's words for an element written again.
                        || error.to_string().contains("was not found"))
                        && started.elapsed() < PATIENCE =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("click {css}: {error}"),
            }
        }
    }

    /// Types into the form and submits it, as an admin would.
    pub async fn look_up(&self, kind_value: &str, id: &str) {
        self.click(&format!("input[name=id-kind][value={kind_value}]"))
            .await;
        let input = self.wait_for("#lookup-id").await;
        input.clear().await.expect("clear the ID field");
        input.send_keys(id).await.expect("type the ID");
        self.click("form.lookup button[type=submit]").await;
    }

    /// The id of the element that has keyboard focus.
    pub async fn focused_id(&self) -> String {
        let element = self
            .browser
            .active_element()
            .await
            .expect("the focused element");
        element.attr("id").await.ok().flatten().unwrap_or_default()
    }

    /// Focus moves in the page's next frame: polls until the element with
    /// this id has it.
    pub async fn wait_for_focus(&self, id: &str) {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < PATIENCE {
            last = self.focused_id().await;
            if last == id {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("#{id} never took focus; #{last} has it");
    }

    /// What scrolls sideways: the page itself, or a table inside its wrapper,
    /// each as "what: scroll width > visible width".
    pub async fn sideways_overflow(&self) -> Vec<String> {
        let script = r#"
            const out = [];
            const check = (element, name) => {
                if (element.scrollWidth > element.clientWidth) {
                    out.push(name + ': ' + element.scrollWidth + ' > ' + element.clientWidth);
                }
            };
            check(document.documentElement, 'page');
            document.querySelectorAll('.table-wrap').forEach((wrap, index) => check(wrap, 'table ' + index));
            return out;
        "#;
        let result = self
            .browser
            .execute(script, vec![])
            .await
            .expect("measure the page");
        serde_json::from_value(result).expect("a list of overflows")
    }

    /// Scrolls the first element matching `css` to the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        self.wait_for(css).await;
        self.browser
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView();",
                vec![json!(css)],
            )
            .await
            .expect("scroll");
    }

    /// Resizes the browser window, e.g. to a phone's width.
    pub async fn set_window_width(&self, width: u32) {
        self.browser
            .set_window_size(width, 900)
            .await
            .expect("resize the window");
    }

    /// A CSS property of the first element matching `css`, as computed.
    pub async fn computed_style(&self, css: &str, property: &str) -> String {
        self.wait_for(css).await;
        let script = "return getComputedStyle(document.querySelector(arguments[0])).getPropertyValue(arguments[1]);";
        let value = self
            .browser
            .execute(script, vec![json!(css), json!(property)])
            .await
            .expect("read a computed style");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Runs axe-core in the page; returns the serious and critical violations.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(required("E2E_AXE")).expect("read axe-core");
        self.browser
            .execute(&axe, vec![])
            .await
            .expect("inject axe-core");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document).then(
                (result) => done(result.violations
                    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                    .map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                        + v.nodes.map((n) => n.target.join(' ')).join(', '))),
                (error) => done(['axe failed: ' + error]));
        "#;
        let result = self
            .browser
            .execute_async(script, vec![])
            .await
            .expect("run axe-core");
        serde_json::from_value(result).expect("a list of violations")
    }

    /// Messages the page logged at SEVERE level (uncaught errors, panics,
    /// CSP violations). Chromium: ChromeDriver's log endpoint. Firefox:
    /// geckodriver has none; Firefox writes the page's console to the
    /// driver's output, read here. WebKit: what the listeners added when
    /// the page was opened caught ([`Panel::open`]; an error while it
    /// loads is not seen).
    pub async fn severe_console_messages(&self) -> Vec<String> {
        match self.engine {
            Engine::Chromium => {}
            Engine::Firefox => {
                let output = std::fs::read_to_string(&self.driver.output).unwrap_or_default();
                return firefox_page_errors(&output);
            }
            Engine::WebKit => {
                let seen = self
                    .browser
                    .execute("return window.e2eSevere || ['not watched: the page was not loaded by Panel::open or Panel::reload'];", vec![])
                    .await
                    .expect("read what the page's console caught");
                return serde_json::from_value(seen).expect("a list of messages");
            }
        }
        let logs = self
            .browser
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or(Value::Null);
        logs.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Saves a PNG of the page when `E2E_SCREENSHOT_DIR` is set.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("E2E_SCREENSHOT_DIR").map(PathBuf::from) else {
            return;
        };
        let png = self.browser.screenshot().await.expect("take a screenshot");
        std::fs::create_dir_all(&dir).expect("create the screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }

    /// How many lookups reached the relay, from its own metrics.
    pub async fn lookups_at_the_relay(&self) -> u64 {
        let metrics = reqwest::get(format!("{}/metrics", self.base_url))
            .await
            .expect("the relay's metrics")
            .text()
            .await
            .expect("the metrics' text");
        metrics
            .lines()
            .filter(|line| line.starts_with("relay_lookups_total{"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// Lets the open page's origin read the clipboard, as a person allowing
    /// it would: Chromium's permission; Firefox lets a page read it without
    /// asking (its testing preference, set at start). WebKit's driver has
    /// no way to: there the page's `navigator.clipboard.writeText` is
    /// caught instead, and [`Panel::clipboard`] says what the panel gave it,
    /// not what the system's clipboard holds.
    pub async fn allow_clipboard_reading(&self) {
        match self.engine {
            Engine::Chromium => {
                self.browser
                    .issue_cmd(SetPermission("clipboard-read"))
                    .await
                    .expect("grant clipboard-read");
            }
            Engine::Firefox => {}
            Engine::WebKit => {
                let script = r#"
                    window.e2eCopied = 'nothing copied';
                    navigator.clipboard.writeText = (text) => {
                        window.e2eCopied = text;
                        return Promise.resolve();
                    };
                "#;
                self.browser
                    .execute(script, vec![])
                    .await
                    .expect("catch what the page copies");
            }
        }
    }

    /// What the clipboard holds, read by the page itself (in WebKit, what
    /// the page copied: see [`Panel::allow_clipboard_reading`]).
    pub async fn clipboard(&self) -> String {
        let script = match self.engine {
            Engine::WebKit => "arguments[arguments.length - 1](window.e2eCopied);",
            _ => {
                r#"
                const done = arguments[arguments.length - 1];
                navigator.clipboard.readText().then(done, (error) => done('cannot read: ' + error));
                "#
            }
        };
        let text = self
            .browser
            .execute_async(script, vec![])
            .await
            .expect("read the clipboard");
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Takes the relay away, as a crashed or redeployed service would.
    pub async fn stop_relay(&mut self) {
        self.relay.kill().await.expect("stop the relay");
    }

    /// Cuts the browser's network, as Chromium's own offline emulation
    /// does; geckodriver and WebKitWebDriver have no such command.
    pub async fn go_offline(&self) {
        assert_eq!(
            self.engine,
            Engine::Chromium,
            "only ChromeDriver can take the browser offline"
        );
        self.browser
            .issue_cmd(Offline)
            .await
            .expect("emulate offline");
    }

    /// The file the browser downloaded (Chromium only), once it is whole:
    /// its name and text.
    pub async fn downloaded(&self) -> (String, String) {
        let folder = self.driver.temp.0.join(DOWNLOADS);
        let started = Instant::now();
        // What was read last time: the file is whole once a read finds it
        // the same (Chromium may give it its name before its last bytes).
        let mut last: Option<(String, String)> = None;
        while started.elapsed() < PATIENCE {
            let done = std::fs::read_dir(&folder)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                // Chromium writes under a hidden or `.crdownload` name, then renames.
                .find(|path| {
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    !name.starts_with('.') && !name.ends_with(".crdownload")
                });
            if let Some(path) = done {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let read = (name, text);
                if last.as_ref() == Some(&read) && !read.1.is_empty() {
                    return read;
                }
                last = Some(read);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("nothing was downloaded to {}", folder.display());
    }

    pub async fn close(self) {
        let _ = self.browser.close().await;
    }
}

/// The folder in the browser's temporary folder where downloads go.
const DOWNLOADS: &str = "downloads";

/// The page's errors in what Firefox wrote: each message from its
/// `console.error:` or `JavaScript error:` line to the next message or
/// blank line, less Firefox's own (whose code is at `resource://` or
/// `chrome://`, such as its experiments' loader failing offline).
fn firefox_page_errors(output: &str) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        let starts = line.starts_with("console.") || line.starts_with("JavaScript ");
        if starts || line.trim().is_empty() {
            messages.extend(current.take());
        }
        if line.starts_with("console.error:") || line.starts_with("JavaScript error:") {
            current = Some(line.to_owned());
        } else if let Some(message) = current.as_mut().filter(|_| !starts) {
            message.push('\n');
            message.push_str(line);
        }
    }
    messages.extend(current);
    messages.retain(|message| !message.contains("resource://") && !message.contains("chrome://"));
    messages
}

impl Driver {
    async fn start(engine: Engine) -> Driver {
        let port = free_port();
        let temp = TempFolder(std::env::temp_dir().join(format!("e2e-browser-{port}")));
        let _ = std::fs::remove_dir_all(&temp.0);
        std::fs::create_dir_all(&temp.0).expect("make the browser's temporary folder");
        let output = temp.0.join("driver-output.txt");
        let mut command = match engine {
            Engine::Chromium => {
                let mut command = Command::new(required("E2E_CHROMEDRIVER"));
                command.arg(format!("--port={port}"));
                command
            }
            Engine::Firefox => {
                let mut command = Command::new(required("E2E_GECKODRIVER"));
                command.args(["--port", &port.to_string(), "--log", "error"]);
                command
            }
            Engine::WebKit => {
                if std::env::var_os("DISPLAY").is_none() {
                    panic!("WebKit needs an X display: run the tests under xvfb-run");
                }
                let mut command = Command::new(required("E2E_WEBKIT_DRIVER"));
                command.arg(format!("--port={port}"));
                // MiniBrowser's toolbar keeps its window at least 447 px
                // wide; without its padding and minimum widths (GTK's CSS,
                // read from here) the page can be a phone's 320 px.
                let config = temp.0.join("config");
                let gtk = config.join("gtk-3.0");
                std::fs::create_dir_all(&gtk).expect("make MiniBrowser's GTK folder");
                std::fs::write(
                    gtk.join("gtk.css"),
                    "* { min-width: 0; padding: 0; margin: 0; }",
                )
                .expect("write MiniBrowser's GTK style");
                command.env("XDG_CONFIG_HOME", config);
                command
            }
        };
        let log = std::fs::File::create(&output).expect("create the driver's output file");
        let process = command
            .env("TZ", BROWSER_TIME_ZONE)
            // The browser's own temporary files, removed with the folder.
            .env("TMPDIR", &temp.0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("share the driver's output file"))
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("start {}'s WebDriver server: {error}", engine.name()));
        let driver = Driver {
            url: format!("http://127.0.0.1:{port}"),
            process,
            output,
            temp,
        };
        wait_until_up(&format!("{}/status", driver.url), "the WebDriver server").await;
        driver
    }
}

/// The new session's capabilities: each engine at 1280 × 900, in British
/// English, headless (WebKitGTK has no headless mode: its window is on the
/// X server `xvfb-run` started), with the page's console written where
/// [`Panel::severe_console_messages`] reads it.
fn capabilities(engine: Engine, temp: &Path) -> serde_json::Map<String, Value> {
    let capabilities = match engine {
        Engine::Chromium => json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": required("E2E_CHROMIUM"),
                // This machine has no network but loopback: background
                // services of Chromium would only fail noisily.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    "--lang=en-GB",
                    format!("--user-data-dir={}", temp.join("profile").display()),
                ],
                // Downloads (a bulk check's CSV) saved without asking, where
                // `Panel::downloaded` reads them.
                "prefs": {
                    "download.default_directory": temp.join(DOWNLOADS).display().to_string(),
                    "download.prompt_for_download": false,
                },
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }),
        Engine::Firefox => {
            // Firefox's toolbars keep its window at least 500 px wide;
            // without their minimum widths (the profile's userChrome.css)
            // the page can be a phone's 320 px.
            let profile = temp.join("firefox-profile");
            let chrome = profile.join("chrome");
            std::fs::create_dir_all(&chrome).expect("make Firefox's profile");
            std::fs::write(
                chrome.join("userChrome.css"),
                "* { min-width: 0 !important; }",
            )
            .expect("write Firefox's userChrome.css");
            json!({
            "browserName": "firefox",
            "moz:firefoxOptions": {
                "binary": required("E2E_FIREFOX"),
                "args": ["-headless", "-profile", profile],
                "prefs": {
                    "intl.accept_languages": "en-GB",
                    "intl.locale.requested": "en-GB",
                    // The page's console (errors, panics) on the driver's output.
                    "devtools.console.stdout.content": true,
                    "devtools.console.stdout.chrome": false,
                    // Lets a test read what the page put on the clipboard,
                    // without the paste prompt a person would answer.
                    "dom.events.testing.asyncClipboard": true,
                    // No network but loopback: nothing to update or report.
                    "app.update.disabledForTesting": true,
                    "datareporting.policy.dataSubmissionEnabled": false,
                    "browser.safebrowsing.update.enabled": false,
                    "toolkit.legacyUserProfileCustomizations.stylesheets": true,
                    // Firefox's own errors would read as the page's: no
                    // experiments to load, no site icons to sniff.
                    "nimbus.rollouts.enabled": false,
                    "app.shield.optoutstudies.enabled": false,
                    "datareporting.healthreport.uploadEnabled": false,
                    "browser.chrome.site_icons": false,
                },
            },
            })
        }
        Engine::WebKit => json!({
            "browserName": "MiniBrowser",
            "webkitgtk:browserOptions": {
                "binary": required("E2E_MINIBROWSER"),
                "args": [
                    "--automation",
                    // The page's console (errors, panics) on the driver's output.
                    "--enable-write-console-messages-to-stdout=true",
                ],
            },
        }),
    };
    capabilities.as_object().unwrap().clone()
}

/// ChromeDriver's log endpoint, which W3C WebDriver lacks and fantoccini
/// therefore has no method for.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// ChromeDriver's network emulation, switched to offline.
#[derive(Debug)]
struct Offline;

impl fantoccini::wd::WebDriverCompatibleCommand for Offline {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/chromium/network_conditions",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let conditions = json!({"network_conditions": {
            "offline": true, "latency": 0, "download_throughput": -1, "upload_throughput": -1
        }});
        (http::Method::POST, Some(conditions.to_string()))
    }
}

/// WebDriver's Permissions extension (`POST /session/{id}/permissions`),
/// which ChromeDriver implements and fantoccini has no method for.
#[derive(Debug)]
struct SetPermission(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for SetPermission {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/permissions",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"descriptor": {"name": self.0}, "state": "granted"});
        (http::Method::POST, Some(body.to_string()))
    }
}
