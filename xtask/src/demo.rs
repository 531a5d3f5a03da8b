//! `cargo xtask demo`: the panel and the relay against the demo stand-in.

use crate::run::{self, status, Result};
use crate::{build, tools};
use std::process::Command;

pub fn run(listen: &str) -> Result {
    let tools = tools::panel_tools()?;
    build::panel(&tools)?;
    // As deployed: the panel built into the relay, no folder beside it
    // (the dev profile: the fastest to a first demo).
    let relay = build::relay()?;
    run::step("Demo: relay with a stand-in for Adapty (Ctrl-C stops it)");
    status(Command::new(relay).arg("--demo").args(["--listen", listen]))
}
