//! `cargo xtask dev`: the development loop. `trunk serve` builds the panel
//! (a debug build, into `target/dev-dist`, so the release `dist/` stays as
//! it is), rebuilds it on every edit in `src/`, `style/`, `protocol/` or
//! `index.html` and reloads the browser; its proxy sends `/api/` to a
//! demo relay on the next port. Ctrl-C stops both.

use crate::run::{self, root, status, Result};
use crate::tools;
use std::process::{Child, Command};

pub fn run(port: u16) -> Result {
    let tools = tools::panel_tools()?;
    run::step("Relay: debug build, for the demo behind Trunk's proxy");
    status(run::cargo().args(["build", "--package", "relay"]))?;
    let relay_port = port
        .checked_add(1)
        .ok_or("--port must leave the next port for the relay")?;
    let panel = format!("http://127.0.0.1:{port}");
    let relay = Command::new(root().join("target").join("debug").join("relay"))
        .arg("--demo")
        .args(["--listen", &format!("127.0.0.1:{relay_port}")])
        // The browser's Origin is Trunk's address, not the relay's; Trunk's
        // proxy names the relay's host without its port.
        .args(["--public-origin", &panel])
        .args(["--allowed-host", "127.0.0.1"])
        .spawn()
        .map_err(|error| format!("cannot start the demo relay: {error}"))?;
    let _relay = Stopped(relay);
    run::step(&format!(
        "Panel: trunk serve on {panel} (the demo's links above name the relay's own port, \
         {relay_port}: open {panel}); an edit in src/ or style/ reloads the page"
    ));
    let watched = ["src", "style", "protocol/src", "index.html"];
    status(
        Command::new("trunk")
            .arg("serve")
            .args(["--address", "127.0.0.1", "--port", &port.to_string()])
            .args(["--dist", "target/dev-dist"])
            .args([
                "--proxy-backend",
                &format!("http://127.0.0.1:{relay_port}/api/"),
            ])
            .args(watched.iter().flat_map(|path| ["--watch", path]))
            .current_dir(root())
            .env("PATH", &tools.path)
            // Trunk's cargo must not inherit the outer cargo's view of the xtask package.
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_PKG_NAME"),
    )
}

/// The demo relay, stopped when the loop ends however it ends.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
