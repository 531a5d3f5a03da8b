//! The end-to-end harness: the release relay in demo mode serving the built
//! panel, ChromeDriver, and a headless Chromium session driven over WebDriver.
//!
//! `cargo xtask test` builds everything and passes the paths in `E2E_*`
//! variables; run alone, a test says what is missing.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub use fantoccini;

pub const SEED_CUSTOMER_USER_ID: &str = "77B14FB4-FD2A-4D38-AA3A-4C433F79863C";
pub const SEED_PROFILE_ID: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";
pub const ANONYMOUS_PROFILE_ID: &str = "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/// How long the page may take to show an answer before a test fails.
const PATIENCE: Duration = Duration::from_secs(15);

pub struct Demo {
    pub base_url: String,
    pub browser: Client,
    // Killed when the test ends, pass or fail.
    _relay: Child,
    _driver: Child,
}

fn required(variable: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{variable} is not set: run the browser tests with `cargo xtask test`")
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

async fn wait_until_up(url: &str, what: &str) {
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

impl Demo {
    pub async fn start() -> Demo {
        let relay_port = free_port();
        let base_url = format!("http://127.0.0.1:{relay_port}");
        let relay = Command::new(required("E2E_RELAY"))
            .arg("--demo")
            .arg("--static-dir")
            .arg(required("E2E_DIST"))
            .args(["--listen", &format!("127.0.0.1:{relay_port}")])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the relay");
        wait_until_up(&format!("{base_url}/healthz"), "the relay").await;

        let driver_port = free_port();
        let driver = Command::new(required("E2E_CHROMEDRIVER"))
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let driver_url = format!("http://127.0.0.1:{driver_port}");
        wait_until_up(&format!("{driver_url}/status"), "chromedriver").await;

        let profile_dir = std::env::temp_dir().join(format!("e2e-chromium-{driver_port}"));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": required("E2E_CHROMIUM"),
                // This machine has no network but loopback: background
                // services of Chromium would only fail noisily.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&driver_url)
            .await
            .expect("open a Chromium session");
        Demo {
            base_url,
            browser,
            _relay: relay,
            _driver: driver,
        }
    }

    pub async fn open(&self, path_and_query: &str) {
        self.browser
            .goto(&format!("{}{path_and_query}", self.base_url))
            .await
            .expect("navigate");
    }

    pub async fn wait_for(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} never appeared: {error}"))
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.expect("element text")
    }

    /// Types into the form and submits it, as an admin would.
    pub async fn look_up(&self, kind_value: &str, id: &str) {
        self.wait_for(&format!("input[name=id-kind][value={kind_value}]"))
            .await
            .click()
            .await
            .expect("choose the kind of ID");
        let input = self.wait_for("#lookup-id").await;
        input.clear().await.expect("clear the ID field");
        input.send_keys(id).await.expect("type the ID");
        self.browser
            .find(Locator::Css("form.lookup button[type=submit]"))
            .await
            .expect("the submit button")
            .click()
            .await
            .expect("submit");
    }

    /// Messages the page logged at SEVERE level (uncaught errors, panics, CSP violations).
    pub async fn severe_console_messages(&self) -> Vec<String> {
        let logs = self.browser.issue_cmd(BrowserLog).await;
        logs.ok()
            .and_then(|value| value.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub async fn close(self) {
        let _ = self.browser.close().await;
    }
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
