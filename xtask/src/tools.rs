//! What the commands need beyond the Rust toolchain, installed only when
//! missing: a second run installs nothing.
//!
//! Nothing comes from GitHub (Trunk's default): trunk and wasm-bindgen-cli
//! build from crates.io, wasm-opt comes from the npm package `binaryen`
//! (Debian's binaryen 108 produces wasm that crashes in Chromium), Chromium
//! and its driver, Firefox ESR and WebKitGTK's driver from Debian,
//! geckodriver from crates.io.

use crate::run::{self, output, root, status, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// trunk 0.22 needs a newer rustc than this project's 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Must match `wasm_opt` in Trunk.toml; the exact version is pinned by
/// xtask/package-lock.json with terser's and axe-core's.
const BINARYEN_MAJOR: &str = "132";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const OHA_VERSION: &str = "1.16.0";
const GECKODRIVER_VERSION: &str = "0.37.1";

/// A PATH on which Trunk finds exactly the tools installed here, and the
/// binaryen and JavaScript minifier run after it.
pub struct PanelTools {
    pub path: OsString,
    pub terser: PathBuf,
    /// npm's `.bin`: `wasm-opt` and `wasm-metadce` of binaryen.
    pub binaryen: PathBuf,
}

pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

pub fn panel_tools() -> Result<PanelTools> {
    run::step("Tools for the panel build");
    rust_target(WASM_TARGET)?;
    let cargo_bin = cargo_bin_dir();
    let installs: Vec<Command> = [trunk(&cargo_bin), wasm_bindgen(&cargo_bin)?]
        .into_iter()
        .flatten()
        .collect();
    // Side by side: each build's serial stretches (its last crates, the
    // link) leave a core the other one uses.
    run::all(installs)?;
    let npm_bin = wasm_opt()?;
    let terser = terser()?;
    let path = std::env::join_paths([npm_bin.clone(), cargo_bin].into_iter().chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|error| format!("cannot build PATH: {error}"))?;
    Ok(PanelTools {
        path,
        terser,
        binaryen: npm_bin,
    })
}

pub fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

fn cargo_bin_dir() -> PathBuf {
    cargo_home().join("bin")
}

/// The toolchain's target, added when missing.
fn rust_target(target: &str) -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("cannot ask rustup for installed targets: is rustup on PATH?")?;
    if installed.lines().any(|line| line.trim() == target) {
        println!("ok  rust target {target}");
        return Ok(());
    }
    status(Command::new("rustup").args(["target", "add", target]))
}

/// `<dir>/<tool> --version` if it runs, else the same from PATH.
fn version_of(dir: &Path, tool: &str) -> Option<String> {
    output(Command::new(dir.join(tool)).arg("--version"))
        .or_else(|| output(Command::new(tool).arg("--version")))
}

/// `cargo install` of a tool: without the link-time optimisation, the
/// single codegen unit and the full optimisation of the tools' own release
/// profiles, which took most of a first run (trunk alone 7 min 21 s here);
/// the panel build does not wait on their speed (wasm-bindgen and trunk
/// take seconds at most either way).
fn install(args: &[&str]) -> Command {
    let mut command = run::cargo();
    command
        .arg("install")
        .args(args)
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
    command
}

/// The install of trunk, when it is missing.
fn trunk(cargo_bin: &Path) -> Option<Command> {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if version_of(cargo_bin, "trunk").is_some_and(|version| version.trim() == wanted) {
        println!("ok  {wanted}");
        return None;
    }
    println!("installing {wanted} from crates.io (a few minutes on 2 cores, once)");
    // Without its default features: no TLS stack and no check for a newer
    // version. It runs offline here (Trunk.toml), and `cargo xtask dev`
    // proxies to a relay over plain HTTP on this machine.
    Some(install(&[
        "trunk",
        "--version",
        TRUNK_VERSION,
        "--locked",
        "--no-default-features",
    ]))
}

/// The install of wasm-bindgen-cli, when it is missing: the CLI must equal
/// the `wasm-bindgen` crate in Cargo.lock exactly.
fn wasm_bindgen(cargo_bin: &Path) -> Result<Option<Command>> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let version = locked_version(&lock, "wasm-bindgen")
        .ok_or("Cargo.lock has no wasm-bindgen: run `cargo fetch`")?;
    let wanted = format!("wasm-bindgen {version}");
    if version_of(cargo_bin, "wasm-bindgen").is_some_and(|found| found.trim() == wanted) {
        println!("ok  {wanted}");
        return Ok(None);
    }
    println!("installing {wanted} from crates.io (about a minute, once)");
    // Without --locked: the CLI's own lock file names a version crates.io lacks.
    Ok(Some(install(&["wasm-bindgen-cli", "--version", &version])))
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

/// binaryen (wasm-opt), terser and axe-core, exactly as `xtask/package-lock.json`
/// pins them: `npm ci` into `target/tools` whenever the installed lock file
/// differs from the committed one, so a changed version is always picked up.
fn npm_tools() -> Result<PathBuf> {
    let prefix = npm_prefix();
    let modules = prefix.join("node_modules");
    let wanted = std::fs::read(root().join("xtask").join("package-lock.json"))
        .map_err(|error| format!("cannot read xtask/package-lock.json: {error}"))?;
    // npm writes its own record of what it installed inside node_modules.
    let installed = std::fs::read(prefix.join("package-lock.json")).ok();
    if installed.as_deref() == Some(wanted.as_slice())
        && modules.join(".package-lock.json").is_file()
    {
        return Ok(modules);
    }
    if output(Command::new("npm").arg("--version")).is_none() {
        return Err(
            "npm is needed for binaryen, terser and axe-core: install Node.js and npm, \
             e.g. `apt-get install nodejs npm`"
                .into(),
        );
    }
    std::fs::create_dir_all(&prefix)
        .map_err(|error| format!("cannot create {}: {error}", prefix.display()))?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(root().join("xtask").join(file), prefix.join(file))
            .map_err(|error| format!("cannot copy xtask/{file}: {error}"))?;
    }
    status(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&prefix),
    )?;
    Ok(modules)
}

/// wasm-opt from npm's binaryen; returns its `.bin` folder for Trunk's PATH.
fn wasm_opt() -> Result<PathBuf> {
    let bin = npm_tools()?.join(".bin");
    let wanted = format!("wasm-opt version {BINARYEN_MAJOR}");
    match output(Command::new(bin.join("wasm-opt")).arg("--version")) {
        Some(version) if version.starts_with(&wanted) => {
            println!("ok  {wanted} (npm binaryen)");
            Ok(bin)
        }
        found => Err(format!(
            "xtask/package-lock.json must pin binaryen {BINARYEN_MAJOR} (Trunk.toml's wasm_opt); \
             found {found:?}"
        )),
    }
}

/// terser from npm: Trunk's own JavaScript minifier cannot read the ES
/// module wasm-bindgen writes, and the panel has a weight budget.
fn terser() -> Result<PathBuf> {
    let bin = npm_tools()?.join(".bin").join("terser");
    let version =
        output(Command::new(&bin).arg("--version")).ok_or("terser is missing after npm ci")?;
    println!("ok  {} (npm)", version.trim());
    Ok(bin)
}

/// axe-core from npm, for the accessibility checks in the browser tests.
pub fn axe() -> Result<PathBuf> {
    let script = npm_tools()?.join("axe-core").join("axe.min.js");
    if !script.is_file() {
        return Err("axe-core is missing after npm ci".into());
    }
    println!("ok  axe-core (npm)");
    Ok(script)
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

/// Firefox ESR and its WebDriver server.
pub struct Firefox {
    pub firefox: PathBuf,
    pub geckodriver: PathBuf,
}

/// Firefox ESR from Debian (installed when missing and root), and
/// geckodriver built from crates.io (its releases are on GitHub): about
/// 3 minutes on 2 cores, once.
pub fn firefox() -> Result<Firefox> {
    run::step("Firefox ESR and geckodriver for the end-to-end tests");
    let firefox = PathBuf::from("/usr/bin/firefox-esr");
    debian_packages(&[(firefox.as_path(), "firefox-esr")], "the Firefox tests")?;
    let cargo_bin = cargo_bin_dir();
    let wanted = format!("geckodriver {GECKODRIVER_VERSION}");
    let installed = output(Command::new(cargo_bin.join("geckodriver")).arg("--version"));
    if installed.is_some_and(|version| version.lines().next() == Some(wanted.as_str())) {
        println!("ok  {wanted}");
    } else {
        println!("installing {wanted} from crates.io (about 3 minutes on 2 cores, once)");
        status(&mut install(&[
            "geckodriver",
            "--version",
            GECKODRIVER_VERSION,
            "--locked",
        ]))?;
    }
    println!("ok  {} (Debian)", firefox.display());
    Ok(Firefox {
        firefox,
        geckodriver: cargo_bin.join("geckodriver"),
    })
}

/// WebKitGTK's WebDriver server, the browser it drives, and the virtual
/// X display it needs (WebKitGTK has no headless mode).
pub struct WebKit {
    pub driver: PathBuf,
    pub minibrowser: PathBuf,
    pub xvfb_run: PathBuf,
}

/// Debian's webkit2gtk-driver (`WebKitWebDriver`; it brings WebKitGTK and
/// its MiniBrowser), xvfb and xauth (for `xvfb-run`), installed when
/// missing and root.
pub fn webkit() -> Result<WebKit> {
    run::step("WebKitGTK's driver and a virtual display for the end-to-end tests");
    let driver = PathBuf::from("/usr/bin/WebKitWebDriver");
    let xvfb_run = PathBuf::from("/usr/bin/xvfb-run");
    debian_packages(
        &[
            (driver.as_path(), "webkit2gtk-driver"),
            (xvfb_run.as_path(), "xvfb"),
            (Path::new("/usr/bin/xauth"), "xauth"),
        ],
        "the WebKit tests",
    )?;
    // Under the multiarch folder of WebKitGTK's library.
    let minibrowser = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|dir| dir.path().join("webkit2gtk-4.1").join("MiniBrowser"))
        .find(|path| path.is_file())
        .ok_or("WebKitGTK's MiniBrowser is missing: apt-get install libwebkit2gtk-4.1-0")?;
    println!(
        "ok  {}, {} and {} (Debian)",
        driver.display(),
        minibrowser.display(),
        xvfb_run.display()
    );
    Ok(WebKit {
        driver,
        minibrowser,
        xvfb_run,
    })
}

/// Debian's packages that provide these files, installed when one is
/// missing and root (without their recommendations).
fn debian_packages(wanted: &[(&Path, &str)], what: &str) -> Result {
    let missing = || -> Vec<&str> {
        wanted
            .iter()
            .filter(|(path, _)| !path.is_file())
            .map(|&(_, package)| package)
            .collect()
    };
    if missing().is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "{what} need Debian's {}: apt-get install {}",
            missing().join(", "),
            missing().join(" ")
        ));
    }
    status(Command::new("apt-get").arg("update"))?;
    status(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(missing()),
    )?;
    match missing().is_empty() {
        true => Ok(()),
        false => Err(format!(
            "{} still missing after apt-get install",
            missing().join(", ")
        )),
    }
}

/// Debian's PostgreSQL server, for the store's tests and bench: each test
/// that needs one, and the bench, starts a throwaway cluster of its own
/// (`testkit::postgres`), as the unprivileged `postgres` user, and removes
/// it after. Installed when missing and root.
pub fn postgres() -> Result {
    run::step("PostgreSQL for the store's tests and bench");
    let present = || {
        std::fs::read_dir("/usr/lib/postgresql")
            .map(|versions| {
                versions
                    .flatten()
                    .any(|version| version.path().join("bin").join("initdb").is_file())
            })
            .unwrap_or(false)
    };
    if !present() {
        if !is_root() {
            return Err(
                "the store's tests and bench need Debian's postgresql: apt-get install postgresql"
                    .into(),
            );
        }
        status(Command::new("apt-get").arg("update"))?;
        status(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "--no-install-recommends", "postgresql"]),
        )?;
        if !present() {
            return Err("PostgreSQL is still missing after apt-get install".into());
        }
    }
    println!("ok  PostgreSQL server (Debian)");
    Ok(())
}

/// What the sign-in tests run: a real SSO proxy and a real OpenID Connect provider.
pub struct SignIn {
    pub apache: PathBuf,
    pub apache_modules: PathBuf,
    /// The venv's Python, which has oidc-provider-mock.
    pub python: PathBuf,
}

/// Apache httpd with mod_auth_openidc from Debian (installed when missing and
/// root), and PyPI's oidc-provider-mock in a Python 3.12 venv under
/// `target/tools`, exactly as `e2e/sso/requirements.txt` pins it.
pub fn sign_in() -> Result<SignIn> {
    run::step("SSO proxy and OpenID Connect provider for the sign-in tests");
    let apache = PathBuf::from("/usr/sbin/apache2");
    let apache_modules = PathBuf::from("/usr/lib/apache2/modules");
    debian_packages(
        &[
            (apache.as_path(), "apache2"),
            (
                apache_modules.join("mod_auth_openidc.so").as_path(),
                "libapache2-mod-auth-openidc",
            ),
        ],
        "the sign-in tests",
    )?;
    println!("ok  {} with mod_auth_openidc", apache.display());
    let python = oidc_provider_venv()?;
    Ok(SignIn {
        apache,
        apache_modules,
        python,
    })
}

/// A venv with exactly `e2e/sso/requirements.txt`, remade when that file changes.
fn oidc_provider_venv() -> Result<PathBuf> {
    let venv = npm_prefix().join("oidc-venv");
    let python = venv.join("bin").join("python");
    let wanted = std::fs::read(root().join("e2e").join("sso").join("requirements.txt"))
        .map_err(|error| format!("cannot read e2e/sso/requirements.txt: {error}"))?;
    let installed = venv.join("requirements.txt");
    if python.is_file() && std::fs::read(&installed).ok().as_deref() == Some(wanted.as_slice()) {
        println!("ok  oidc-provider-mock (venv {})", venv.display());
        return Ok(python);
    }
    let base = python312().ok_or(
        "oidc-provider-mock needs Python 3.12 or newer: install it (pyenv install 3.12) \
         or put python3.12 on PATH",
    )?;
    let _ = std::fs::remove_dir_all(&venv);
    status(Command::new(&base).args(["-m", "venv"]).arg(&venv))?;
    status(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(root().join("e2e").join("sso").join("requirements.txt")),
    )?;
    std::fs::write(&installed, wanted).map_err(|error| error.to_string())?;
    Ok(python)
}

/// A Python of at least 3.12: on PATH, or one of pyenv's versions.
fn python312() -> Option<PathBuf> {
    let recent_enough = |python: &Path| {
        output(Command::new(python).args([
            "-c",
            "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)",
        ]))
        .is_some()
    };
    let on_path = ["python3.13", "python3.12", "python3"]
        .into_iter()
        .map(PathBuf::from);
    let mut pyenv: Vec<PathBuf> = output(Command::new("pyenv").arg("root"))
        .map(|root| PathBuf::from(root.trim()).join("versions"))
        .and_then(|versions| std::fs::read_dir(versions).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin").join("python3"))
        .collect();
    pyenv.sort();
    on_path.chain(pyenv).find(|python| recent_enough(python))
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
    debian_packages(
        &[(wrk.as_path(), "wrk"), (nginx.as_path(), "nginx-light")],
        "the benchmark's tools",
    )?;
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

/// The Rust target of the image's static relay.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// What `cargo xtask image` builds and checks with: Debian's buildah (no
/// daemon), umoci (unpacks the image), musl-tools (`musl-gcc`, for the C
/// in SQLite and mimalloc), curl and strip, installed when missing and
/// root; and the toolchain's musl target.
pub fn image_tools() -> Result {
    run::step("Tools for the image");
    let wanted = [
        (Path::new("/usr/bin/buildah"), "buildah"),
        (Path::new("/usr/bin/umoci"), "umoci"),
        (Path::new("/usr/bin/musl-gcc"), "musl-tools"),
        (Path::new("/usr/bin/curl"), "curl"),
        (Path::new("/usr/bin/strip"), "binutils"),
    ];
    debian_packages(&wanted, "the image's tools")?;
    println!("ok  buildah, umoci, musl-gcc, curl and strip (Debian)");
    rust_target(MUSL_TARGET)
}

pub fn is_root() -> bool {
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
