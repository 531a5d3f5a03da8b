use clap::Parser;
use relay::config::{ApiKey, Args, LogFormat};
use relay::demo::{profiles, StandIn};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Every lookup allocates many small buffers across two worker threads,
/// where glibc's allocator spent about a tenth of the relay's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Logs go to standard error; standard output carries the audit log by default.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let demo = args.demo;

    let config = if demo {
        // Same relay, another upstream: a stand-in on loopback with its own key.
        let stand_in = match StandIn::start_samples().await {
            Ok(stand_in) => stand_in,
            Err(error) => return fail(&format!("cannot start the demo stand-in: {error}")),
        };
        let base = stand_in.base_url.clone();
        ApiKey::new(&stand_in.key).and_then(|key| args.into_config_with(&base, key))
    } else {
        args.into_config()
    };
    let mut config = match config {
        Ok(config) => config,
        Err(error) => return fail(&error.to_string()),
    };
    if let Err(error) = relay::server::ensure_open_files(&config.limits) {
        return fail(&error);
    }
    if !config.static_dir.join("index.html").is_file() {
        tracing::warn!(dir = %config.static_dir.display(), "no built panel here; build it with `cargo xtask demo`");
    }

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("cannot listen on {}: {error}", config.listen)),
    };
    // The port actually bound (when asked for port 0) names the loopback hosts allowed.
    if let Ok(bound) = listener.local_addr() {
        config.listen = bound;
    }
    let base_path = config.base_path.as_deref().unwrap_or_default();
    let url = format!("http://{}{base_path}", config.listen);
    if demo {
        if config.access.demo_caller.is_some() && !config.listen.ip().is_loopback() {
            tracing::warn!(
                "demo mode beyond loopback: everyone who reaches it is the demo user, who may \
                 change access; it is meant for trying the panel on this machine"
            );
        }
        // To standard error: standard output is the audit log's by default.
        eprintln!("adapty-lookup demo: open {url}");
        eprintln!(
            "Sample customers (Adapty stand-in, no key needed; dates relative to each lookup):"
        );
        for sample in profiles::SAMPLES {
            // README's table wants Markdown; a terminal does not.
            let about = sample.about.replace('`', "");
            eprintln!("  {url}/?{}={}  — {about}", sample.param, sample.id);
        }
    }
    tracing::info!(%url, "relay listening");

    let limits = config.limits.clone();
    let app = match relay::app(config) {
        Ok(app) => app,
        Err(error) => return fail(&format!("cannot open the audit log: {error}")),
    };
    relay::server::serve(listener, app, &limits, shutdown_signal()).await;
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("relay: {message}");
    ExitCode::from(2)
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down after requests in flight");
}
