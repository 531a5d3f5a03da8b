//! Release builds of the panel (Trunk, offline) and the relay.

use crate::run::{self, root, status, Result};
use crate::tools::PanelTools;
use std::path::PathBuf;
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
    Ok(root().join("dist"))
}

pub fn relay() -> Result<PathBuf> {
    run::step("Relay: release build");
    status(run::cargo().args(["build", "--release", "--package", "relay"]))?;
    Ok(root().join("target").join("release").join("relay"))
}
