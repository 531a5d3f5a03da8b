//! `cargo xtask image`: the relay as an OCI image, built by buildah from
//! `Containerfile` (no daemon), with the panel built in; `--check` then
//! runs it as a container runtime would, but without one (podman cannot
//! start containers on these machines): its root filesystem unpacked by
//! umoci, its entry point started in that root alone (`unshare` and
//! `chroot`, as the image's user, with the image's environment), and asked
//! what an operator and an admin would ask.

use crate::run::{self, root, status, Result};
use crate::{build, tools};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The image's name in buildah's store and in the archive.
const NAME: &str = "localhost/adapty-lookup:latest";
/// What the image may weigh, unpacked.
const BUDGET_BYTES: u64 = 20_000_000;

/// Where everything of the image goes.
fn folder() -> PathBuf {
    root().join("target").join("image")
}

pub fn run(check: bool) -> Result {
    let panel_tools = tools::panel_tools()?;
    let dist = build::panel(&panel_tools)?;
    from_panel(&dist, check)
}

/// The image of the panel built in `dist`, and its check when asked, each
/// timed; `cargo xtask test` runs both once it has built the panel.
pub fn from_panel(dist: &Path, check: bool) -> Result {
    let started = Instant::now();
    tools::image_tools()?;
    let relay = build::static_relay()?;
    let layout = image(&relay)?;
    println!(
        "built the image in {:.0} s (the static relay included)",
        started.elapsed().as_secs_f64()
    );
    if check {
        let checking = Instant::now();
        check_image(&layout, dist)?;
        println!(
            "checked the image in {:.0} s",
            checking.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Builds the image from a fresh context (the stripped relay, `/tmp`, the
/// state folder) and writes it as an OCI layout (for the check) and an
/// OCI archive (to ship: `podman load -i`, `skopeo copy oci-archive:…`).
fn image(relay: &Path) -> Result<PathBuf> {
    run::step("Image: buildah, FROM scratch, the static relay alone");
    let folder = folder();
    // buildah's own store lives here too, and is made anew: no image of an
    // earlier run piles up.
    for part in ["context", "storage", "run", "oci", "bundle"] {
        remove(&folder.join(part))?;
    }
    let context = folder.join("context");
    let made = |path: &Path| {
        std::fs::create_dir_all(path)
            .map_err(|error| format!("cannot make {}: {error}", path.display()))
    };
    made(&context.join("rootfs").join("tmp"))?;
    made(&context.join("rootfs").join("var").join("lib"))?;
    made(&context.join("state"))?;
    set_mode(&context.join("rootfs").join("tmp"), 0o1777)?;
    // Symbols are half the binary; a panic's message and location stay.
    status(
        Command::new("strip")
            .arg("-o")
            .arg(context.join("relay"))
            .arg(relay),
    )?;
    let buildah = || {
        let mut command = Command::new("buildah");
        command
            .arg("--root")
            .arg(folder.join("storage"))
            .arg("--runroot")
            .arg(folder.join("run"))
            .args(["--storage-driver", "vfs"]);
        command
    };
    status(
        buildah()
            .args(["bud", "--quiet", "--format", "oci", "--timestamp", "0"])
            .arg("--file")
            .arg(root().join("Containerfile"))
            .args(["--tag", NAME])
            .arg(&context),
    )?;
    let layout = folder.join("oci");
    let archive = folder.join("adapty-lookup.oci.tar");
    remove(&archive)?;
    for destination in [
        format!("oci:{}:latest", layout.display()),
        format!("oci-archive:{}:latest", archive.display()),
    ] {
        status(buildah().args(["push", "--quiet", NAME]).arg(destination))?;
    }
    let shipped = std::fs::metadata(&archive)
        .map_err(|error| format!("cannot read {}: {error}", archive.display()))?
        .len();
    println!(
        "image: {} ({:.1} MB, compressed)",
        archive.display(),
        shipped as f64 / 1e6
    );
    Ok(layout)
}

/// The image's root filesystem and its entry point, run and asked.
fn check_image(layout: &Path, dist: &Path) -> Result {
    run::step("Image check: its root filesystem alone, its entry point as its user");
    if !tools::is_root() {
        return Err(
            "the image check unpacks the image as its owner and chroots into it: run it as root"
                .into(),
        );
    }
    let bundle = folder().join("bundle");
    status(
        Command::new("umoci")
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:latest", layout.display()))
            .arg(&bundle),
    )?;
    let rootfs = bundle.join("rootfs");
    let size = tree_bytes(&rootfs)?;
    println!(
        "image: {:.1} MB unpacked (budget {:.0} MB)",
        size as f64 / 1e6,
        BUDGET_BYTES as f64 / 1e6
    );
    if size > BUDGET_BYTES {
        return Err(format!("the image is {size} bytes, over {BUDGET_BYTES}"));
    }
    let config = read_json(&bundle.join("config.json"))?;
    let process = &config["process"];
    let (uid, gid) = (&process["user"]["uid"], &process["user"]["gid"]);
    if uid == 0 || gid == 0 {
        return Err(format!("the image runs as root ({uid}:{gid})"));
    }
    let version = output_of(chrooted(&rootfs, process)?.arg("--version"))?;
    let Some(build) = version
        .split("panel ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" built in)\n"))
    else {
        return Err(format!("the image's relay carries no panel: {version}"));
    };
    println!("the image's relay: {}", version.trim());

    let port = free_port()?;
    let relay = chrooted(&rootfs, process)?
        .args(["--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start the image's entry point: {error}"))?;
    let mut running = Running(relay);
    let base = format!("http://127.0.0.1:{port}");
    let checked = ask(&base, &running.0, uid, dist, build);
    let stopped = running.stop();
    checked?;
    stopped?;
    println!("ok  the image serves /healthz, its panel (build {build}) and a demo lookup, as user {uid}, and stops on SIGTERM");
    Ok(())
}

/// What the image is asked: health, the panel and a lookup, as the user
/// the image names.
fn ask(base: &str, relay: &Child, uid: &Value, dist: &Path, build: &str) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    while fetch(&format!("{base}/healthz"), &[]).is_err() {
        if Instant::now() > deadline {
            return Err("the image's relay did not answer /healthz within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let health = fetch(&format!("{base}/healthz"), &[])?;
    expect(health.status == 200, "/healthz answers 200", &health)?;

    let page = fetch(&format!("{base}/"), &[])?;
    let built = std::fs::read(dist.join("index.html")).map_err(|error| error.to_string())?;
    expect(
        page.status == 200
            && page.body == built
            && page.header("content-security-policy").contains("'sha256-"),
        "/ is the built index.html with its script's hash in the policy",
        &page,
    )?;
    for file in build::built_files(dist)? {
        let name = file
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if name == "index.html" {
            continue;
        }
        let answer = fetch(&format!("{base}/{name}"), &["accept-encoding: br"])?;
        let built =
            std::fs::read(dist.join(format!("{name}.br"))).map_err(|error| error.to_string())?;
        expect(
            answer.status == 200
                && answer.body == built
                && answer.header("content-encoding") == "br"
                && answer.header("cache-control").contains("immutable"),
            &format!("/{name} is the built file, brotli, kept for a year"),
            &answer,
        )?;
    }
    let lookup = fetch(
        &format!("{base}/api/profile?app=main&customer_user_id=demo-lifetime"),
        &["x-csrf: 1"],
    )?;
    expect(
        lookup.status == 200 && String::from_utf8_lossy(&lookup.body).contains("demo-lifetime"),
        "a demo lookup answers the demo customer",
        &lookup,
    )?;
    let owner = std::fs::read_to_string(format!("/proc/{}/status", relay.id()))
        .map_err(|error| format!("cannot read the relay's status: {error}"))?;
    let runs_as = owner
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .unwrap_or_default();
    if runs_as.parse::<u64>().ok() != uid.as_u64() {
        return Err(format!(
            "the relay runs as uid {runs_as}, not the image's {uid}"
        ));
    }
    println!("ok  panel build {build} served from the image");
    Ok(())
}

/// The image's entry point in its root filesystem alone: in mount, IPC
/// and host-name namespaces of its own, chrooted, as the image's user,
/// with the image's environment and nothing of ours.
fn chrooted(rootfs: &Path, process: &Value) -> Result<Command> {
    let args: Vec<&str> = process["args"]
        .as_array()
        .ok_or("the image has no entry point")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let env = process["env"].as_array().cloned().unwrap_or_default();
    let user = format!("{}:{}", process["user"]["uid"], process["user"]["gid"]);
    let mut command = Command::new("/usr/bin/unshare");
    command
        .args(["--mount", "--ipc", "--uts", "--", "/usr/sbin/chroot"])
        .arg(format!("--userspec={user}"))
        .arg(rootfs)
        .args(args)
        .env_clear();
    for pair in env.iter().filter_map(Value::as_str) {
        if let Some((name, value)) = pair.split_once('=') {
            command.env(name, value);
        }
    }
    Ok(command)
}

/// The relay started from the image, stopped (SIGTERM, as a runtime
/// stops a container) however the check ends.
struct Running(Child);

impl Running {
    fn stop(&mut self) -> Result {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.0.try_wait() {
                Ok(Some(exit)) if exit.success() => return Ok(()),
                Ok(Some(exit)) => return Err(format!("the image's relay ended with {exit}")),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.0.kill();
                    return Err("the image's relay did not stop within 10 s of SIGTERM".into());
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One answer: status, head and body as sent (nothing decompressed).
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default()
    }
}

/// A GET with curl, the real client an operator would try first.
fn fetch(url: &str, headers: &[&str]) -> Result<Answer> {
    let mut command = Command::new("curl");
    command.args(["--silent", "--show-error", "--include", "--max-time", "10"]);
    for header in headers {
        command.args(["--header", header]);
    }
    let output = command
        .arg(url)
        .output()
        .map_err(|error| format!("cannot run curl: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "GET {url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let split = output
        .stdout
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {url}: no end of head"))?;
    let head = String::from_utf8_lossy(&output.stdout[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(Answer {
        status,
        head,
        body: output.stdout[split + 4..].to_vec(),
    })
}

fn expect(holds: bool, what: &str, answer: &Answer) -> Result {
    if holds {
        println!("ok  {what}");
        return Ok(());
    }
    Err(format!(
        "the image should answer: {what}; it answered {}\n{}",
        answer.status, answer.head
    ))
}

fn output_of(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .map_err(|error| format!("cannot run the image's entry point: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "the image's entry point failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

/// Bytes of the regular files under `dir`.
fn tree_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))? {
        let entry = entry.map_err(|error| error.to_string())?;
        let kind = entry.file_type().map_err(|error| error.to_string())?;
        if kind.is_dir() {
            total += tree_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata().map_err(|error| error.to_string())?.len();
        }
    }
    Ok(total)
}

fn set_mode(path: &Path, mode: u32) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|error| format!("cannot set the mode of {}: {error}", path.display()))
}

fn remove(path: &Path) -> Result {
    let removed = match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    removed.map_err(|error| format!("cannot remove {}: {error}", path.display()))
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("cannot find a free port: {error}"))
}
