//! Running commands, with what ran shown and a failure said in one line.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root: xtask lives one level below it.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// The cargo that runs us, so the same toolchain builds everything.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

pub fn step(title: &str) {
    println!("\n==> {title}");
}

/// Runs to completion with output shown; a failure names the command.
pub fn status(command: &mut Command) -> Result {
    let shown = describe(command);
    println!("$ {shown}");
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{shown}` failed ({status})")),
        Err(error) => Err(format!("cannot run `{shown}`: {error}")),
    }
}

/// Runs side by side, each to completion, output shown; a failure names
/// its command.
pub fn all(commands: Vec<Command>) -> Result {
    let mut running = Vec::new();
    for mut command in commands {
        let shown = describe(&command);
        println!("$ {shown}");
        let child = command
            .spawn()
            .map_err(|error| format!("cannot run `{shown}`: {error}"))?;
        running.push((shown, child));
    }
    let mut failed = Vec::new();
    for (shown, mut child) in running {
        match child.wait() {
            Ok(status) if status.success() => {}
            Ok(status) => failed.push(format!("`{shown}` failed ({status})")),
            Err(error) => failed.push(format!("cannot wait for `{shown}`: {error}")),
        }
    }
    match failed.is_empty() {
        true => Ok(()),
        false => Err(failed.join("; ")),
    }
}

/// Standard output of a command that succeeded, or `None`: for probing versions.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
