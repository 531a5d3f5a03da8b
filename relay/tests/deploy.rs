//! What an operator installs from `deploy/`: the systemd unit is as
//! hardened as `systemd-analyze security` can tell (1.5 or lower), passes
//! `systemd-analyze verify`, and its configuration, with the example apps
//! file as its credential, starts the relay, which answers a lookup and
//! keeps its store and audit log in the state directory.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const UNIT: &str = "adapty-lookup-relay.service";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn systemd_analyze(args: &[&str]) -> (bool, String) {
    let output = Command::new("systemd-analyze")
        .args(args)
        .output()
        .expect("systemd-analyze (Debian's systemd) must be installed for this test");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn the_unit_is_rated_exposure_1_5_or_lower() {
    let unit = deploy().join(UNIT);
    let (_, text) = systemd_analyze(&["security", "--offline=true", unit.to_str().unwrap()]);
    let rating: f32 = text
        .lines()
        .find_map(|line| {
            line.split_once("Overall exposure level for ")?
                .1
                .split_once(": ")
        })
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no overall rating in:\n{text}"));
    assert!(rating <= 1.5, "exposure {rating}, above 1.5:\n{text}");
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    // With the relay where this test has it built: verify checks that the
    // program exists; everything else is the unit as shipped.
    let unit = std::fs::read_to_string(deploy().join(UNIT)).unwrap();
    let relay = env!("CARGO_BIN_EXE_relay");
    let unit = unit.replace("/usr/local/bin/adapty-lookup-relay", relay);
    let dir = static_dir();
    let path = dir.join(UNIT);
    std::fs::write(&path, unit).unwrap();
    let (ok, text) = systemd_analyze(&["verify", path.to_str().unwrap()]);
    assert!(ok && text.trim().is_empty(), "{text}");
}

/// The unit's `Environment=` lines, with the credentials and state
/// directories where systemd would put them.
fn unit_environment(credentials: &Path, state: &Path) -> Vec<(String, String)> {
    let unit = std::fs::read_to_string(deploy().join(UNIT)).unwrap();
    unit.lines()
        .filter_map(|line| line.strip_prefix("Environment="))
        .map(|setting| {
            let (name, value) = setting.split_once('=').unwrap();
            let value = value
                .replace("%d", credentials.to_str().unwrap())
                .replace("%S", state.to_str().unwrap());
            (name.to_owned(), value)
        })
        .collect()
}

#[tokio::test]
async fn the_units_configuration_with_the_example_apps_file_serves_lookups() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let dir = static_dir();
    let (credentials, state) = (dir.join("credentials"), dir.join("state"));
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::create_dir_all(state.join("adapty-lookup/audit")).unwrap();
    std::fs::copy(deploy().join("apps.toml"), credentials.join("apps.toml")).unwrap();
    for (name, value) in [
        ("adapty-main", KEY),
        ("adapty-kids", "secret_live_KIDS_0123456789"),
        (
            "audit-chain-key",
            "an audit chain key of enough length 0123456789",
        ),
    ] {
        std::fs::write(credentials.join(name), value).unwrap();
    }
    let port = free_port();
    let mut relay = Command::new(env!("CARGO_BIN_EXE_relay"))
        .env_clear()
        .envs(unit_environment(&credentials, &state))
        .env("RELAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("ADAPTY_API_BASE", &upstream)
        .env("RELAY_STATIC_DIR", &dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;
    let response = client()
        .get(format!("{base}/api/profile?app=main&customer_user_id=u"))
        .header("host", "lookup.example.com")
        .header("x-forwarded-email", "support@example.com")
        .header("x-csrf", "1")
        .send()
        .await;
    let _ = relay.kill();
    let _ = relay.wait();
    let response = response.expect("the relay started with the unit's settings");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(state.join("adapty-lookup/store.db").is_file());
    let audit: Vec<_> = std::fs::read_dir(state.join("adapty-lookup/audit"))
        .unwrap()
        .collect();
    assert_eq!(audit.len(), 1, "one day's audit file");
}
