//! `cargo xtask demo`: the panel and the relay against the demo stand-in.

use crate::run::{self, status, Result};
use crate::{build, tools};
use std::process::Command;

pub fn run(listen: &str) -> Result {
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    let relay = build::relay()?;
    run::step("Demo: relay with a stand-in for Adapty (Ctrl-C stops it)");
    status(
        Command::new(relay)
            .arg("--demo")
            .arg("--static-dir")
            .arg(dist)
            .args(["--listen", listen]),
    )
}
