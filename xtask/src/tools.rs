//! What the commands need beyond the Rust toolchain, installed only when
//! missing: a second run installs nothing.
//!
//! Nothing comes from GitHub (Trunk's default): trunk and wasm-bindgen-cli
//! build from crates.io, wasm-opt comes from the npm package `binaryen`
//! (Debian's binaryen 108 produces wasm that crashes in Chromium), Chromium
//! and its driver from Debian.

use crate::run::{self, output, root, status, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// trunk 0.22 needs a newer rustc than this project's 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Must match `wasm_opt` in Trunk.toml.
const BINARYEN_VERSION: &str = "132.0.0";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const AXE_VERSION: &str = "4.14.1";
const TERSER_VERSION: &str = "5.51.4";
const OHA_VERSION: &str = "1.16.0";

/// A PATH on which Trunk finds exactly the tools installed here, and the
/// JavaScript minifier run after it.
pub struct PanelTools {
    pub path: OsString,
    pub terser: PathBuf,
}

pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

pub fn panel_tools() -> Result<PanelTools> {
    run::step("Tools for the panel build");
    wasm_target()?;
    let cargo_bin = cargo_bin_dir();
    trunk(&cargo_bin)?;
    wasm_bindgen(&cargo_bin)?;
    let npm_bin = wasm_opt()?;
    let terser = terser()?;
    let path = std::env::join_paths(
        [npm_bin, cargo_bin]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .map_err(|error| format!("cannot build PATH: {error}"))?;
    Ok(PanelTools { path, terser })
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn wasm_target() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("cannot ask rustup for installed targets: is rustup on PATH?")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!("ok  rust target {WASM_TARGET}");
        return Ok(());
    }
    status(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// `<dir>/<tool> --version` if it runs, else the same from PATH.
fn version_of(dir: &Path, tool: &str) -> Option<String> {
    output(Command::new(dir.join(tool)).arg("--version"))
        .or_else(|| output(Command::new(tool).arg("--version")))
}

fn trunk(cargo_bin: &Path) -> Result {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if version_of(cargo_bin, "trunk").is_some_and(|version| version.trim() == wanted) {
        println!("ok  {wanted}");
        return Ok(());
    }
    println!("installing {wanted} from crates.io (about 11 minutes on 2 cores, once)");
    status(run::cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

/// The CLI must equal the `wasm-bindgen` crate in Cargo.lock exactly.
fn wasm_bindgen(cargo_bin: &Path) -> Result {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let version = locked_version(&lock, "wasm-bindgen")
        .ok_or("Cargo.lock has no wasm-bindgen: run `cargo fetch`")?;
    let wanted = format!("wasm-bindgen {version}");
    if version_of(cargo_bin, "wasm-bindgen").is_some_and(|found| found.trim() == wanted) {
        println!("ok  {wanted}");
        return Ok(());
    }
    // Without --locked: the CLI's own lock file names a version crates.io lacks.
    status(run::cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))
}

fn locked_version(lock: &str, package: &str) -> Option<String> {
    let header = format!("name = \"{package}\"\n");
    let after = &lock[lock.find(&header)? + header.len()..];
    let line = after.lines().next()?;
    Some(
        line.strip_prefix("version = \"")?
            .strip_suffix('"')?
            .to_owned(),
    )
}

/// Where the npm packages the commands need are installed.
fn npm_prefix() -> PathBuf {
    root().join("target").join("tools")
}

/// Installs binaryen from npm into `target/tools`; returns its `.bin` folder.
fn wasm_opt() -> Result<PathBuf> {
    let prefix = npm_prefix();
    let bin = prefix.join("node_modules").join(".bin");
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    let wanted = format!("wasm-opt version {major}");
    let found = output(Command::new(bin.join("wasm-opt")).arg("--version"));
    if found.is_some_and(|version| version.starts_with(&wanted)) {
        println!("ok  {wanted} (npm binaryen)");
        return Ok(bin);
    }
    npm_install(&prefix, &format!("binaryen@{BINARYEN_VERSION}"))?;
    Ok(bin)
}

/// terser from npm: Trunk's own JavaScript minifier cannot read the ES
/// module wasm-bindgen writes, and the panel has a weight budget.
fn terser() -> Result<PathBuf> {
    let prefix = npm_prefix();
    let bin = prefix.join("node_modules").join(".bin").join("terser");
    let found = output(Command::new(&bin).arg("--version"));
    if found.is_some_and(|version| version.trim() == format!("terser {TERSER_VERSION}")) {
        println!("ok  terser {TERSER_VERSION} (npm)");
        return Ok(bin);
    }
    npm_install(&prefix, &format!("terser@{TERSER_VERSION}"))?;
    Ok(bin)
}

/// axe-core from npm, for the accessibility checks in the browser tests.
pub fn axe() -> Result<PathBuf> {
    let prefix = npm_prefix();
    let script = prefix
        .join("node_modules")
        .join("axe-core")
        .join("axe.min.js");
    if script.is_file() {
        println!("ok  axe-core (npm)");
        return Ok(script);
    }
    npm_install(&prefix, &format!("axe-core@{AXE_VERSION}"))?;
    Ok(script)
}

fn npm_install(prefix: &Path, package: &str) -> Result {
    if output(Command::new("npm").arg("--version")).is_none() {
        return Err(format!(
            "npm is needed to install {package}: install Node.js and npm, e.g. `apt-get install nodejs npm`"
        ));
    }
    std::fs::create_dir_all(prefix)
        .map_err(|error| format!("cannot create {}: {error}", prefix.display()))?;
    status(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(prefix)
            .arg(package),
    )
}

/// Chromium and ChromeDriver from Debian, installed when missing and root.
pub fn browser() -> Result<Browser> {
    run::step("Browser for the end-to-end tests");
    let find = |env: &str, path: &str| {
        std::env::var_os(env)
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from(path)))
            .filter(|path| path.is_file())
    };
    let present = || {
        Some((
            find("CHROMIUM", "/usr/bin/chromium")?,
            find("CHROMEDRIVER", "/usr/bin/chromedriver")?,
        ))
    };
    if present().is_none() {
        if !is_root() {
            return Err("Chromium and ChromeDriver are missing: install Debian's packages \
                        `chromium` and `chromium-driver` (as root: apt-get install chromium chromium-driver), \
                        or set CHROMIUM and CHROMEDRIVER to their paths"
                .into());
        }
        status(Command::new("apt-get").arg("update"))?;
        status(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "chromium", "chromium-driver"]),
        )?;
    }
    let (chromium, chromedriver) =
        present().ok_or("Chromium is still missing after apt-get install")?;
    println!("ok  {} and {}", chromium.display(), chromedriver.display());
    Ok(Browser {
        chromium,
        chromedriver,
    })
}

/// The load generators and the proxy the benchmark compares against.
pub struct LoadTools {
    pub wrk: PathBuf,
    pub nginx: PathBuf,
    pub oha: PathBuf,
}

/// wrk and nginx from Debian (installed when missing and root), oha from
/// crates.io for open-loop load without coordinated omission.
pub fn load_tools() -> Result<LoadTools> {
    run::step("Tools for the benchmark");
    let wrk = PathBuf::from("/usr/bin/wrk");
    let nginx = PathBuf::from("/usr/sbin/nginx");
    if !wrk.is_file() || !nginx.is_file() {
        if !is_root() {
            return Err(
                "the benchmark needs Debian's wrk and nginx: apt-get install wrk nginx-light"
                    .into(),
            );
        }
        status(Command::new("apt-get").arg("update"))?;
        status(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args([
                    "install",
                    "-y",
                    "--no-install-recommends",
                    "wrk",
                    "nginx-light",
                ]),
        )?;
    }
    println!("ok  {} and {}", wrk.display(), nginx.display());
    let oha = cargo_bin_dir().join("oha");
    let wanted = format!("oha {OHA_VERSION}");
    if output(Command::new(&oha).arg("--version")).is_some_and(|v| v.trim() == wanted) {
        println!("ok  {wanted}");
    } else {
        println!("installing {wanted} from crates.io (a few minutes, once)");
        status(run::cargo().args(["install", "oha", "--version", OHA_VERSION, "--locked"]))?;
    }
    Ok(LoadTools { wrk, nginx, oha })
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .as_deref()
        .map(str::trim)
        == Some("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_package_version_from_the_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\n\
                    [[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "trunk"), None);
    }
}
