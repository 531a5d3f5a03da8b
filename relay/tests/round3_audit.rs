//! Round three of the review: a full disk must not hide later tampering.
//! A write cut short leaves a fragment; the relay ends it with a newline
//! and starts a new segment that names the last line written and the
//! lines cut short, and `relay audit verify` notes that interruption and
//! goes on checking every line after it, reporting every break.
//!
//! The disk is real: a small tmpfs, filled up (these tests mount it, so
//! they run as root, as CI does).

mod common;

use common::*;
use relay::adapty::ApiKey;
use relay::audit::verify::verify;
use relay::audit::{AuditConfig, ChainSecret};
use relay::audit::{AuditLog, ChainKey, Entry};
use serde_json::Value;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A tmpfs of `size` mounted on a fresh folder; unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "round3-disk-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = Command::new("umount").arg(&dir).output();
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            mounted.status.success(),
            "this test fills a small tmpfs, which takes root to mount: {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        Tmpfs { dir }
    }

    /// A file that takes every byte left; removing it frees them.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![b'x'; 4096];
        while matches!(file.write(&chunk), Ok(written) if written > 0) {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The file's lines, changed by `change`, in a file of their own.
fn tampered(log: &Path, name: &str, change: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let text = std::fs::read(log).unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&text)
        .lines()
        .map(str::to_owned)
        .collect();
    change(&mut lines);
    let path = std::env::temp_dir().join(format!("round3-{}-{name}", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The (1-based) number of the line holding `needle`.
fn line_of(lines: &[String], needle: &str) -> usize {
    1 + lines
        .iter()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle}"))
}

fn json(line: &str) -> Option<Value> {
    serde_json::from_str(line).ok()
}

/// A lookup's status through the relay, with this request ID.
async fn lookup(relay: &Relay, id: &str) -> u16 {
    let url = format!("{}/api/profile?customer_user_id={SEED_USER}", relay.url);
    get_json_with(&url, &[("x-request-id", id)]).await.0
}

async fn health(relay: &Relay) -> u16 {
    client()
        .get(format!("{}/healthz", relay.url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The disk fills in the middle of the log and is freed again: the file
/// verifies, the interruption noted; the same file with a later line edited
/// or removed (or an earlier one too) reports each of those breaks, and
/// the fragment is none of them.
#[tokio::test]
async fn a_full_disk_mid_file_is_noted_and_later_tampering_is_still_found() {
    let disk = Tmpfs::mount("128k");
    let log = disk.dir.join("audit.log");
    let (upstream, _) = recording_upstream().await;
    let config = config_with(&upstream, KEY, &["--audit-log", log.to_str().unwrap()]);
    let key = ChainKey::new(&config.audit.chain_key.0);
    let relay = start(config).await;
    for n in 0..3 {
        assert_eq!(lookup(&relay, &format!("before-{n}")).await, 200);
    }
    // Full: lines fill what is left of the file's last page, and the one
    // that does not fit is cut short there (unless one ends exactly at
    // the page's end: then the disk is filled again, a little later).
    let mut cut = false;
    for round in 0..5 {
        let filler = disk.fill();
        let mut refused = false;
        for n in 0..100 {
            match lookup(&relay, &format!("full-{round}-{n}")).await {
                200 => {}
                503 => {
                    refused = true;
                    break;
                }
                other => panic!("{other}"),
            }
        }
        assert!(refused, "the disk filled up");
        assert_eq!(lookup(&relay, &format!("still-full-{round}")).await, 503);
        assert_eq!(health(&relay).await, 503);
        cut = !std::fs::read(&log).unwrap().ends_with(b"\n");
        std::fs::remove_file(filler).unwrap();
        // This refusal's own line finds room: written, and healthy again.
        assert_eq!(lookup(&relay, &format!("back-{round}")).await, 503);
        assert_eq!(health(&relay).await, 200);
        assert_eq!(lookup(&relay, &format!("after-{round}")).await, 200);
        if cut {
            break;
        }
    }
    assert!(cut, "a line was cut short by the full disk");
    for n in 0..4 {
        assert_eq!(lookup(&relay, &format!("later-{n}")).await, 200);
    }

    // The fragment, ended by a newline, then the segment that declares it.
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let fragment = lines
        .iter()
        .position(|line| json(line).is_none())
        .expect("a line cut short");
    assert_eq!(
        lines.iter().filter(|line| json(line).is_none()).count(),
        1,
        "one fragment, nothing glued to it"
    );
    let before = json(&lines[fragment - 1]).unwrap();
    let segment = json(&lines[fragment + 1]).unwrap();
    assert_eq!(segment["outcome"], "log_opened");
    assert_eq!(segment["cause"], "write_failed");
    assert_eq!(segment["cut_lines"], 1);
    assert_eq!(segment["previous_seq"], before["seq"]);
    assert_eq!(segment["previous_chain"], before["chain"]);
    assert_eq!(segment["seq"], before["seq"].as_u64().unwrap() + 1);

    let verified = verify(&key, std::slice::from_ref(&log)).unwrap();
    let noted: Vec<usize> = verified.notes.iter().map(|note| note.line).collect();
    assert!(noted.contains(&(fragment + 1)), "{verified}");
    assert!(verified.to_string().contains("cut short"), "{verified}");
    let (ok, said) = verify_cli(&[&log]);
    assert!(ok && said.starts_with("OK"), "{said}");

    // A later line edited: that break is reported, the fragment is not one.
    let edited_at = line_of(&lines, "\"later-2\"");
    let edited = tampered(&log, "edited", |lines| {
        lines[edited_at - 1] = lines[edited_at - 1].replace("later-2", "later-9");
    });
    let broken = verify(&key, std::slice::from_ref(&edited)).unwrap_err();
    let at: Vec<usize> = broken.breaks.iter().map(|found| found.line).collect();
    assert_eq!(at, [edited_at], "{broken}");
    assert!(broken.what.starts_with("edited"), "{broken}");
    let (ok, said) = verify_cli(&[&edited]);
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!("{}:{edited_at}: edited", edited.display())),
        "{said}"
    );

    // A later line removed.
    let removed_at = line_of(&lines, "\"later-1\"");
    let removed = tampered(&log, "removed", |lines| drop(lines.remove(removed_at - 1)));
    let broken = verify(&key, std::slice::from_ref(&removed)).unwrap_err();
    assert_eq!(broken.breaks.len(), 1, "{broken}");
    assert_eq!(broken.line, removed_at, "{broken}");
    assert!(broken.what.contains("1 line(s) removed"), "{broken}");
    let (ok, said) = verify_cli(&[&removed]);
    assert!(!ok && said.contains("1 line(s) removed"), "{said}");

    // One edit before the interruption and one removal after it: both.
    let early_at = line_of(&lines, "\"before-1\"");
    let both = tampered(&log, "both", |lines| {
        lines[early_at - 1] = lines[early_at - 1].replace("before-1", "before-7");
        lines.remove(removed_at - 1);
    });
    let broken = verify(&key, std::slice::from_ref(&both)).unwrap_err();
    let at: Vec<usize> = broken.breaks.iter().map(|found| found.line).collect();
    assert_eq!(at, [early_at, removed_at], "{broken}");
    let (ok, said) = verify_cli(&[&both]);
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!(
            "{}:{removed_at}: 1 line(s) removed",
            both.display()
        )),
        "every break, not only the first: {said}"
    );

    // The fragment removed by hand, or a line forged beside it: a break.
    let gone = tampered(&log, "gone", |lines| drop(lines.remove(fragment)));
    let broken = verify(&key, std::slice::from_ref(&gone)).unwrap_err();
    assert!(
        broken.what.contains("declares 1 line(s) cut short"),
        "{broken}"
    );
    for path in [edited, removed, both, gone] {
        let _ = std::fs::remove_file(path);
    }
}

fn audit_config(path: PathBuf) -> AuditConfig {
    AuditConfig {
        path: Some(path),
        dir: None,
        chain_key: ChainSecret([3; 32]),
        hash_ids: false,
        refused_per_minute: NonZeroU32::new(60).unwrap(),
        refused_total_per_minute: NonZeroU32::new(600).unwrap(),
    }
}

fn entry(request_id: &str) -> Entry<'_> {
    Entry {
        time: relay::audit::now(),
        request_id,
        actor: Some("ann@example.com"),
        app: Some("main"),
        kind: Some("customer_user_id"),
        id: Some("user-1".into()),
        outcome: "ok",
        status: 200,
        upstream_status: Some(200),
        latency_ms: 1,
        truncated: false,
    }
}

/// The relay stopped (or died) with its file ending in a line cut short:
/// the next start ends that line and its first line declares it.
#[tokio::test]
async fn a_restart_after_a_line_cut_short_ends_it_and_declares_it() {
    let dir = std::env::temp_dir().join(format!("round3-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.log");
    let config = audit_config(path.clone());
    let api_key = ApiKey::new("k").unwrap();
    {
        let log = AuditLog::open(&config, &api_key).unwrap();
        log.record(&entry("a")).await.unwrap();
        log.record(&entry("b")).await.unwrap();
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"time":"2026-11-28T10:30:08.123Z","request_id":"c","actor":"ann@"#)
        .unwrap();
    drop(file);
    {
        let log = AuditLog::open(&config, &api_key).unwrap();
        log.record(&entry("d")).await.unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(json(lines[3]).is_none(), "the fragment, alone on its line");
    let (before, segment) = (json(lines[2]).unwrap(), json(lines[4]).unwrap());
    assert_eq!(segment["cause"], "relay_started");
    assert_eq!(segment["cut_lines"], 1);
    assert_eq!(segment["previous_chain"], before["chain"]);
    assert_eq!(json(lines[5]).unwrap()["request_id"], "d");
    let key = ChainKey::new(&config.chain_key.0);
    let verified = verify(&key, &[path]).unwrap();
    assert_eq!(verified.lines, 5);
    assert_eq!(verified.notes.len(), 1, "{verified}");
    assert_eq!(verified.notes[0].line, 4);
}

/// Many lines at once on a disk that fills: whoever hears that its line
/// was written finds it whole in the file, whoever hears it failed does
/// not; once there is room again, the whole file verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lines_written_whole_before_a_failure_are_kept_and_the_rest_refused() {
    let disk = Tmpfs::mount("64k");
    let path = disk.dir.join("audit.log");
    let config = audit_config(path.clone());
    let log = Arc::new(AuditLog::open(&config, &ApiKey::new("k").unwrap()).unwrap());
    let filler = disk.fill();
    let mut writes = Vec::new();
    for n in 0..200 {
        let log = log.clone();
        writes.push(tokio::spawn(async move {
            let id = format!("line-{n:03}");
            let written = log.record(&entry(&id)).await.is_ok();
            (id, written)
        }));
    }
    let mut results = Vec::new();
    for write in writes {
        results.push(write.await.unwrap());
    }
    assert!(
        results.iter().any(|(_, written)| !written),
        "the disk filled"
    );
    std::fs::remove_file(filler).unwrap();
    log.record(&entry("after")).await.unwrap();
    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    let whole: Vec<String> = text
        .lines()
        .filter_map(json)
        .filter_map(|line| line["request_id"].as_str().map(str::to_owned))
        .collect();
    for (id, written) in &results {
        assert_eq!(whole.contains(id), *written, "{id}");
    }
    let key = ChainKey::new(&config.chain_key.0);
    let verified = verify(&key, std::slice::from_ref(&path));
    assert!(verified.is_ok(), "{}", verified.unwrap_err());
}
