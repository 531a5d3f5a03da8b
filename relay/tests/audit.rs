//! The audit log as an operator meets it: rotated by logrotate (SIGHUP),
//! failing closed when it cannot be written, and verified by
//! `relay audit verify` after someone may have edited it.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The real binary on a free loopback port, with `flags`; killed when dropped.
struct Spawned {
    child: Child,
    base: String,
}

impl Spawned {
    async fn start(upstream: &str, flags: &[&str]) -> Spawned {
        Spawned::start_with(upstream, flags, Stdio::null()).await
    }

    async fn start_with(upstream: &str, flags: &[&str], stdout: Stdio) -> Spawned {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_relay"))
            .env("ADAPTY_API_KEY", KEY)
            .args(["--api-base", upstream])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--rate-limit-per-minute", "1000000"])
            .args(["--global-rate-limit-per-minute", "1000000"])
            .arg("--static-dir")
            .arg(static_dir())
            .args(flags)
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if client().get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Spawned { child, base }
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    async fn health(&self) -> u16 {
        let answer = client()
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .unwrap();
        answer.status().as_u16()
    }

    async fn lookup(&self, request_id: &str) -> (u16, Value) {
        let (status, _, body) = get_json_with(
            &format!("{}/api/profile?customer_user_id={SEED_USER}", self.base),
            &[("x-request-id", request_id)],
        )
        .await;
        (status, body)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// logrotate moves the file while lookups keep coming, then sends SIGHUP:
/// every lookup's line is in one of the two files, exactly once, and the
/// two files verify as one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotating_under_load_loses_no_line_and_the_two_files_verify_together() {
    let (upstream, _) = recording_upstream().await;
    let dir = static_dir();
    let log = dir.join("audit.log");
    let rotated = dir.join("audit.log.1");
    let relay = Spawned::start(&upstream, &["--audit-log", log.to_str().unwrap()]).await;
    let base = relay.base.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..8 {
        let (base, stop) = (base.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let id = format!("w{worker}-{n}");
                let (status, _, _) = get_json_with(
                    &format!("{base}/api/profile?customer_user_id={SEED_USER}"),
                    &[("x-request-id", &id)],
                )
                .await;
                assert_eq!(status, 200);
                sent.push(id);
                n += 1;
            }
            sent
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::rename(&log, &rotated).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    relay.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for worker in workers {
        sent.extend(worker.await.unwrap());
    }
    let (old, new) = (lines_of(&rotated), lines_of(&log));
    assert!(
        new.iter().any(|line| line["outcome"] == "ok"),
        "lookups after the signal go to the new file"
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in old.iter().chain(&new) {
        if let Some(id) = line["request_id"].as_str() {
            *seen.entry(id.to_owned()).or_default() += 1;
        }
    }
    assert!(sent.len() > 100, "under load: {} lookups", sent.len());
    for id in &sent {
        assert_eq!(seen.get(id), Some(&1), "{id}");
    }
    assert_eq!(seen.len(), sent.len());
    assert_eq!(new[0]["outcome"], "log_opened");
    assert_eq!(new[0]["cause"], "reload");
    assert_eq!(new[0]["previous_chain"], old.last().unwrap()["chain"]);
    let (ok, said) = verify_cli(&[&rotated, &log]);
    assert!(ok, "{said}");
    assert!(said.starts_with("OK"), "{said}");
    let (ok, said) = verify_cli(&[&log, &rotated]);
    assert!(!ok && said.contains("does not continue"), "{said}");
}

/// Disk full: lookups are refused with `audit_unavailable` and Adapty is
/// never asked; the health check says so.
#[tokio::test]
async fn lookups_are_refused_without_asking_adapty_while_the_audit_log_cannot_be_written() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(&upstream, KEY, &["--audit-log", "/dev/full"])).await;
    for _ in 0..3 {
        let (status, _, body) = get_json(&format!(
            "{}/api/profile?customer_user_id={SEED_USER}",
            relay.url
        ))
        .await;
        assert_eq!((status, error_code(&body)), (503, "audit_unavailable"));
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was looked up"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "Adapty was never asked");
    let health = client()
        .get(format!("{}/healthz", relay.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
    assert!(health.text().await.unwrap().contains("audit log"));
}

/// The file's folder is gone and SIGHUP cannot reopen it: unhealthy, and
/// lookups refused; once it can be created again, the next attempt
/// writes, and lookups are answered again.
#[tokio::test]
async fn the_relay_recovers_once_the_audit_log_can_be_written_again() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let dir = static_dir().join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.log");
    let relay = Spawned::start(&upstream, &["--audit-log", log.to_str().unwrap()]).await;
    assert_eq!(relay.lookup("before").await.0, 200);
    std::fs::remove_dir_all(&dir).unwrap();
    relay.signal("HUP");
    let mut refused = 0;
    for attempt in 0..100 {
        let (status, body) = relay.lookup(&format!("gone-{attempt}")).await;
        if status == 503 {
            assert_eq!(error_code(&body), "audit_unavailable");
            refused += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(refused, 1, "the reopen failed and lookups are refused");
    assert_eq!(relay.health().await, 503);
    let asked = calls.load(Ordering::SeqCst);
    assert_eq!(relay.lookup("still-gone").await.0, 503);
    assert_eq!(calls.load(Ordering::SeqCst), asked, "Adapty not asked");

    std::fs::create_dir_all(&dir).unwrap();
    // This refusal's own line is the attempt that finds the file writable.
    assert_eq!(relay.lookup("back").await.0, 503);
    assert_eq!(relay.health().await, 200);
    assert_eq!(relay.lookup("answered").await.0, 200);
    let lines = lines_of(&log);
    assert_eq!(lines[0]["outcome"], "log_opened");
    assert_eq!(lines[1]["request_id"], "back");
    assert_eq!(lines[1]["outcome"], "audit_unavailable");
    assert_eq!(lines[2]["request_id"], "answered");
    assert_eq!(lines[2]["outcome"], "ok");
}

/// A log of a few lookups, written by the relay.
async fn written_log() -> PathBuf {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    for n in 0..6 {
        get_json_with(
            &format!("{}/api/profile?customer_user_id={SEED_USER}", relay.url),
            &[("x-request-id", &format!("lookup-{n}"))],
        )
        .await;
    }
    relay.audit_log.unwrap()
}

/// The file's lines changed by `change`, in a file of their own.
fn tampered(log: &Path, name: &str, change: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let mut lines: Vec<String> = std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    change(&mut lines);
    let path = log.with_file_name(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[tokio::test]
async fn verify_accepts_an_untouched_log_and_names_each_tampering_at_its_line() {
    let log = written_log().await;
    let (ok, said) = verify_cli(&[&log]);
    assert!(ok, "{said}");
    assert!(said.starts_with("OK: 7 lines in 1 file"), "{said}");

    // Lines 1–7: the opening line, then lookup-0 … lookup-5.
    type Tampering = fn(&mut Vec<String>);
    let cases: [(&str, Tampering, &str); 5] = [
        (
            "removed",
            |lines| drop(lines.remove(3)),
            ":4: 1 line(s) removed",
        ),
        (
            "edited",
            |lines| lines[4] = lines[4].replace("lookup-3", "lookup-9"),
            ":5: edited",
        ),
        ("swapped", |lines| lines.swap(2, 3), ":3: out of order"),
        (
            "inserted",
            |lines| {
                let forged = lines[2].replace("lookup-1", "someone-else");
                lines.insert(3, forged);
            },
            ":4: inserted",
        ),
        (
            "first-removed",
            |lines| drop(lines.remove(0)),
            ":1: the file does not begin",
        ),
    ];
    for (name, change, expected) in cases {
        let file = tampered(&log, name, change);
        let (ok, said) = verify_cli(&[&file]);
        assert!(!ok, "{name}: {said}");
        assert!(
            said.contains(&format!("{}{expected}", file.display())),
            "{name}: {said}"
        );
    }

    // Another key (another relay's log, or a forger's): nothing verifies.
    let other = Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("ADAPTY_API_KEY", "secret_live_another")
        .args(["audit", "verify"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(!other.status.success());
}

/// The audit log on standard output, and nobody reading it: once the pipe
/// is full, lookups wait for their lines, but `/healthz` (and everything
/// else the runtime does) goes on; reading the pipe lets them finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_audit_log_holds_up_only_the_lookups_waiting_for_their_lines() {
    let (upstream, _) = recording_upstream().await;
    let mut relay = Spawned::start_with(&upstream, &[], Stdio::piped()).await;
    let mut stdout = relay.child.stdout.take().unwrap();
    // A pipe holds 64 KiB, a few hundred lines: these fill it, then wait.
    let mut lookups = Vec::new();
    for n in 0..600 {
        let url = format!("{}/api/profile?customer_user_id={SEED_USER}", relay.base);
        lookups.push(tokio::spawn(async move {
            let answer = client()
                .get(url)
                .header("X-CSRF", "1")
                .header("x-request-id", format!("stalled-{n}"))
                .send()
                .await
                .unwrap();
            answer.status().as_u16()
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        lookups.iter().any(|lookup| !lookup.is_finished()),
        "the pipe is full: some lookups wait for their lines"
    );
    let health = tokio::time::timeout(Duration::from_secs(3), relay.health())
        .await
        .expect("/healthz answers while the audit log is stalled");
    assert_eq!(health, 200);

    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut all).unwrap();
        all
    });
    for lookup in lookups {
        assert_eq!(lookup.await.unwrap(), 200);
    }
    drop(relay);
    let written = reader.join().unwrap();
    for n in 0..600 {
        assert!(written.contains(&format!("\"stalled-{n}\"")), "stalled-{n}");
    }
}

/// A refused lookup from `address` (any 127.x is this machine).
async fn refused_from(base: &str, address: [u8; 4], headers: &[(&str, &str)]) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .unwrap();
    let mut request = client
        .get(format!("{base}/api/profile?customer_user_id=%0A"))
        .header("X-CSRF", "1");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Stops the relay (its counts reach the file as it stops) and reads its log.
fn stopped(mut relay: Spawned, log: &Path) -> Vec<Value> {
    relay.signal("TERM");
    assert!(relay.child.wait().unwrap().success());
    lines_of(log)
}

/// Many addresses, each within its share, still meet one ceiling for all;
/// the rest is counted, those beyond it in one line.
#[tokio::test]
async fn refused_lines_from_many_addresses_stop_at_one_ceiling_and_the_rest_is_counted() {
    let (upstream, _) = recording_upstream().await;
    let log = static_dir().join("audit.log");
    let relay = Spawned::start(
        &upstream,
        &[
            "--audit-log",
            log.to_str().unwrap(),
            "--audit-refused-per-minute",
            "2",
            "--audit-refused-total-per-minute",
            "10",
        ],
    )
    .await;
    for host in 2..32 {
        for _ in 0..3 {
            assert_eq!(refused_from(&relay.base, [127, 0, 0, host], &[]).await, 400);
        }
    }
    let lines = stopped(relay, &log);
    let written = lines
        .iter()
        .filter(|line| line["outcome"] == "invalid_request")
        .count();
    assert_eq!(written, 10, "the ceiling");
    let counts: Vec<&Value> = lines
        .iter()
        .filter(|line| line["outcome"] == "audit_suppressed")
        .collect();
    let total: u64 = counts
        .iter()
        .map(|line| line["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 90 - 10, "every refused call is written or counted");
    let beyond: Vec<&&Value> = counts
        .iter()
        .filter(|line| line["client"].is_null() && line["actor"].is_null())
        .collect();
    assert_eq!(beyond.len(), 1, "one line for all beyond the ceiling");
    // 127.0.0.2–5 spent their shares (one left out each) before the
    // ceiling; from 127.0.0.6's third call on, everything is beyond it.
    assert_eq!(beyond[0]["count"], 1 + 25 * 3);
    assert_eq!(counts.len(), 1 + 4);
}

/// Behind the SSO proxy every request comes from its address: once the
/// identity check named the person, the share is theirs, so one person's
/// refused calls cannot push another's out of the log.
#[tokio::test]
async fn behind_the_proxy_each_person_has_a_share_of_refused_lines() {
    let (upstream, _) = recording_upstream().await;
    let log = static_dir().join("audit.log");
    let relay = Spawned::start(
        &upstream,
        &[
            "--audit-log",
            log.to_str().unwrap(),
            "--identity-header",
            "X-Email",
            "--audit-refused-per-minute",
            "3",
        ],
    )
    .await;
    for _ in 0..20 {
        let status = refused_from(
            &relay.base,
            [127, 0, 0, 1],
            &[("x-email", "flood@example.com")],
        )
        .await;
        assert_eq!(status, 400);
    }
    for _ in 0..2 {
        let status = refused_from(
            &relay.base,
            [127, 0, 0, 1],
            &[("x-email", "ann@example.com")],
        )
        .await;
        assert_eq!(status, 400);
    }
    let lines = stopped(relay, &log);
    let written = |actor: &str| {
        lines
            .iter()
            .filter(|line| line["outcome"] == "invalid_request" && line["actor"] == actor)
            .count()
    };
    assert_eq!(written("flood@example.com"), 3);
    assert_eq!(written("ann@example.com"), 2, "not pushed out by the flood");
    let counted = lines
        .iter()
        .find(|line| line["outcome"] == "audit_suppressed")
        .unwrap();
    assert_eq!(counted["actor"], "flood@example.com");
    assert_eq!(counted["count"], 17);
}
