//! `cargo xtask demo` and `cargo xtask test`: everything, on a fresh machine
//! that has only the Rust toolchain. Each installs what is missing
//! (`tools`), builds (`build`), then runs the demo or every check.

mod bench;
mod build;
mod compress;
mod demo;
mod dev;
mod image;
mod layering;
mod run;
mod test;
mod tools;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "adapty-lookup's project commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what is missing, build, and run the panel with the relay's demo
    /// stand-in for Adapty on http://127.0.0.1:8080.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// The relay to deploy: the panel built, then the optimised relay with
    /// it inside, at target/release/relay.
    Release,
    /// The development loop: `trunk serve` on PORT, rebuilding the panel and
    /// reloading the browser on every edit in src/ or style/, its /api/
    /// proxied to a demo relay on PORT + 1.
    Dev {
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Every check: formatting, layering, clippy, unit and relay tests, the panel's
    /// release build, and end-to-end tests: all in headless Chromium, those of
    /// what engines do differently in Firefox ESR and WebKit too.
    Test,
    /// Measure the panel's weight, the relay against direct and nginx, the
    /// relay's memory, big profiles in the browser, the store (SQLite and
    /// PostgreSQL) and bulk runs; report in target/bench/.
    Bench {
        /// Only check the panel's weight against its budget (fails when over).
        #[arg(long, conflicts_with_all = ["store_only", "bulk_only", "bulk_page_only"])]
        check: bool,
        /// Only the store: a million customers preloaded, then webhook
        /// ingest, search and an events page through the relay.
        #[arg(long, conflicts_with_all = ["bulk_only", "bulk_page_only"])]
        store_only: bool,
        /// Only bulk runs: 1,000 IDs within the app's budget, and a lookup's
        /// latency beside them.
        #[arg(long, conflicts_with = "bulk_page_only")]
        bulk_only: bool,
        /// Only the Bulk check page with 5,000 rows in the browser: how
        /// long sorting and filtering take.
        #[arg(long)]
        bulk_page_only: bool,
    },
    /// Check that no module imports a module that imports it back (in
    /// every crate), and that the relay's `error` imports nothing from it.
    Layering,
    /// Build the panel and the relay, then run only the browser tests whose
    /// names contain one of FILTER (all when none is given).
    E2e {
        /// The engine to run them in; given twice or more, in each, side by side.
        #[arg(long, value_enum, default_value = "chromium")]
        browser: Vec<test::Engine>,
        filter: Vec<String>,
    },
    /// Retake README's screenshot (docs/panel.png) with the browser tests.
    Screenshot {
        /// The engine to take it in.
        #[arg(long, value_enum, default_value = "chromium")]
        browser: test::Engine,
    },
    /// Build the relay's OCI image (buildah, `Containerfile`): a static relay
    /// with the panel built in; target/image/adapty-lookup.oci.tar.
    Image {
        /// Then run its entry point in its root filesystem alone and check
        /// /healthz, the panel and a demo lookup.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Demo { listen } => demo::run(&listen),
        Command::Release => build::release(),
        Command::Dev { port } => dev::run(port),
        Command::Test => test::run(),
        Command::Layering => layering::run(),
        Command::E2e { browser, filter } => test::e2e(&browser, &filter),
        Command::Screenshot { browser } => test::screenshot(browser),
        Command::Image { check } => image::run(check),
        Command::Bench {
            check,
            store_only,
            bulk_only,
            bulk_page_only,
        } => bench::run(check, store_only, bulk_only, bulk_page_only),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}
