//! Release builds of the panel (Trunk, offline) and the relay.

use crate::compress;
use crate::run::{self, root, status, Result};
use crate::tools::PanelTools;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn panel(tools: &PanelTools) -> Result<PathBuf> {
    run::step("Panel: release build with Trunk");
    // Trunk runs cargo with --offline, so every crate must be here first.
    status(run::cargo().arg("fetch"))?;
    status(
        Command::new("trunk")
            .args(["build", "--release"])
            .current_dir(root())
            .env("PATH", &tools.path)
            // Trunk's cargo must not inherit the outer cargo's view of the xtask package.
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_PKG_NAME"),
    )?;
    let dist = root().join("dist");
    minify_js(&dist, &tools.terser)?;
    precompress(&dist)?;
    Ok(dist)
}

/// Minifies wasm-bindgen's JavaScript with terser (Trunk's minifier cannot
/// parse it), and updates its subresource-integrity hash in `index.html`,
/// which Trunk computed for the file as it was.
fn minify_js(dist: &Path, terser: &Path) -> Result {
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)
        .map_err(|error| format!("cannot read {}: {error}", index_path.display()))?;
    for path in built_files(dist)? {
        if path.extension().is_none_or(|ext| ext != "js") {
            continue;
        }
        let before = std::fs::read(&path).map_err(|error| error.to_string())?;
        status(
            Command::new(terser)
                .arg(&path)
                .args(["--module", "--compress", "--mangle", "--output"])
                .arg(&path),
        )?;
        let after = std::fs::read(&path).map_err(|error| error.to_string())?;
        let (old, new) = (integrity(&before), integrity(&after));
        if !index.contains(&old) {
            return Err(format!(
                "index.html has no integrity {old} for {}",
                path.display()
            ));
        }
        index = index.replace(&old, &new);
    }
    std::fs::write(&index_path, index).map_err(|error| error.to_string())
}

/// A subresource-integrity value as Trunk writes it: `sha384-<base64>`.
fn integrity(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Writes `name.br` and `name.gz` beside each built file, at the highest
/// levels, so the relay serves them without compressing on every request.
fn precompress(dist: &Path) -> Result {
    for path in built_files(dist)? {
        let bytes = std::fs::read(&path).map_err(|error| error.to_string())?;
        let mut name = path.clone().into_os_string();
        name.push(".br");
        std::fs::write(&name, compress::brotli(&bytes)).map_err(|error| error.to_string())?;
        let mut name = path.into_os_string();
        name.push(".gz");
        std::fs::write(&name, compress::gzip(&bytes)).map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// The files of `dist/`, in name order, without the precompressed copies:
/// those are the same files, not more of them.
pub fn built_files(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist)
        .map_err(|error| format!("cannot read {}: {error}", dist.display()))?
    {
        let path = entry.map_err(|error| error.to_string())?.path();
        let compressed = path
            .extension()
            .is_some_and(|ext| ext == "br" || ext == "gz");
        if path.is_file() && !compressed {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

pub fn relay() -> Result<PathBuf> {
    run::step("Relay: release build");
    status(run::cargo().args(["build", "--release", "--package", "relay"]))?;
    Ok(root().join("target").join("release").join("relay"))
}
