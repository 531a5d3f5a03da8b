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
    precompress(&dist)?;
    Ok(dist)
}

/// Writes `name.br` and `name.gz` beside each built file, at the highest
/// levels, so the relay serves them without compressing on every request.
fn precompress(dist: &Path) -> Result {
    for entry in std::fs::read_dir(dist)
        .map_err(|error| format!("cannot read {}: {error}", dist.display()))?
    {
        let path = entry.map_err(|error| error.to_string())?.path();
        let compressed = path
            .extension()
            .is_some_and(|ext| ext == "br" || ext == "gz");
        if !path.is_file() || compressed {
            continue;
        }
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

pub fn relay() -> Result<PathBuf> {
    run::step("Relay: release build");
    status(run::cargo().args(["build", "--release", "--package", "relay"]))?;
    Ok(root().join("target").join("release").join("relay"))
}
