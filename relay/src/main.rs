use clap::Parser;
use relay::adapty::ApiKey;
use relay::apps::config::AppConfig;
use relay::apps::webhook_secret::{WebhookSecret, WebhookSecrets};
use relay::demo::webhooks::WebhookTarget;
use relay::demo::{profiles, StandIn};
use relay::http::Running;
use relay::settings::{Args, AuditCommand, Command, LogFormat, StoreCommand, StoreConfig};
use relay::store::{Store, StoreAddress};
use relay::{Config, ConfigError};
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Every lookup allocates many small buffers across two worker threads,
/// where glibc's allocator spent about a tenth of the relay's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // At least two runtime threads, also on one core: a write of the audit
    // log may hold one while the disk is slow (see `audit::writer`), and
    // the other still answers /healthz and every request that does not wait
    // for that write.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => fail(&format!("cannot start the runtime: {error}")),
    }
}

async fn run() -> ExitCode {
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
    match &args.command {
        Some(Command::Audit(AuditCommand::Verify { files })) => return verify_audit(&args, files),
        Some(Command::Store(StoreCommand::Purge { app, profile_id })) => {
            return purge(&args, app, profile_id).await
        }
        None => {}
    }
    let demo = args.demo;

    let mut stand_ins = None;
    let mut demo_store = None;
    let config = if demo {
        // Same relay, another upstream: two apps, each a stand-in on
        // loopback with its own key and its own customers.
        let (main, kids) = match tokio::try_join!(
            StandIn::start_samples(),
            StandIn::start_sample_set(profiles::KIDS_SAMPLES)
        ) {
            Ok(stand_ins) => stand_ins,
            Err(error) => return fail(&format!("cannot start the demo stand-in: {error}")),
        };
        let given_store = args.store.is_some();
        let config = demo_config(args, &main, &kids);
        if let (Ok(config), false) = (&config, given_store) {
            if let Some(StoreConfig {
                address: StoreAddress::Sqlite(path),
                ..
            }) = &config.store
            {
                demo_store = Some(path.clone());
            }
        }
        stand_ins = Some([main, kids]);
        config
    } else {
        args.into_config()
    };
    let mut config = match config {
        Ok(config) => config,
        Err(error) => return fail(&error.to_string()),
    };
    if let Err(error) = relay::server::ensure_open_files(&config.server) {
        return fail(&error);
    }
    say_which_panel(config.static_dir.as_deref());

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
        print_demo_samples(&config, &url);
    }
    let limits = config.server.clone();
    let store = match &config.store {
        None => None,
        // Started whether or not the store answers: lookups and changes
        // never wait for it; search, the feed and the webhook do.
        Some(store_config) => match Store::lazy(&store_config.address) {
            Ok(store) => {
                let store = Arc::new(store);
                // Ready before the first request when it answers now;
                // tried again in the background when it does not.
                if let Err(error) = store.migrate().await {
                    tracing::error!(%error, "the store is not ready at start; trying again");
                }
                let retention_days = store_config.retention_days;
                let migrating = store.clone();
                tokio::spawn(async move {
                    migrating.migrate_until_ready().await;
                    let store = Arc::downgrade(&migrating);
                    drop(migrating);
                    relay::store::retention::prune_daily(store, retention_days).await;
                });
                Some(store)
            }
            Err(error) => return fail(&error.to_string()),
        },
    };
    let webhook_listen = config.webhook_listen;
    let mut webhook_bound = None;
    let (router, running) = match relay::http::router(config, store.clone(), axum::Router::new()) {
        Ok(built) => built,
        Err(error) => return fail(&format!("cannot open the audit log: {error}")),
    };
    let webhook = match (webhook_listen, &store) {
        (Some(address), Some(store)) => match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => {
                webhook_bound = listener.local_addr().ok();
                let router = relay::webhook::router(
                    running.apps.clone(),
                    store.clone(),
                    running.metrics.clone(),
                );
                tracing::info!(%address, "webhook listening: POST /webhook/{{app}}");
                let limits = limits.clone();
                Some(tokio::spawn(async move {
                    relay::server::serve(listener, router, &limits, shutdown_signal()).await
                }))
            }
            Err(error) => return fail(&format!("cannot listen on {address}: {error}")),
        },
        _ => None,
    };
    if let (Some(stand_ins), Some(address)) = (stand_ins, webhook_bound) {
        // Each sample's story, sent as Adapty would, through the receiver,
        // before the panel is served: the first search finds every sample.
        let apps = running.apps.current();
        let mut sending = tokio::task::JoinSet::new();
        for (stand_in, (app, secret)) in stand_ins
            .into_iter()
            .zip(apps.iter().zip(DEMO_WEBHOOK_SECRETS))
        {
            let target = WebhookTarget {
                url: format!("http://{address}/webhook/{}", app.id),
                authorization: secret.to_owned(),
            };
            sending.spawn(async move { stand_in.send_webhooks_to(target).await });
        }
        let sent = tokio::time::timeout(DEMO_STORIES_WITHIN, sending.join_all()).await;
        if sent.is_err() {
            tracing::warn!(
                "the demo's webhook stories are still being sent; the panel serves meanwhile"
            );
        }
    }
    // Listening for SIGHUP before saying the relay listens: a hang-up sent
    // as soon as it is up reloads rather than ends it.
    let reloadable = running.clone();
    reload_on_hangup(move || reload(&reloadable));
    tracing::info!(%url, "relay listening");
    relay::server::serve(listener, router, &limits, shutdown_signal()).await;
    // A call whose client left is not a connection the server waited for.
    running.calls.finish(relay::server::DRAIN_TIMEOUT).await;
    if let Some(webhook) = webhook {
        let _ = webhook.await;
    }
    if let Some(store) = store {
        store.close().await;
        // The demo's own store (not one --store named) goes with it.
        if let (Some(path), StoreAddress::Sqlite(open)) = (&demo_store, store.address()) {
            if let (true, Some(folder)) = (path == open, path.parent()) {
                let _ = std::fs::remove_dir_all(folder);
            }
        }
    }
    ExitCode::SUCCESS
}

/// Which panel is served: a folder's (`--static-dir`), the one built in,
/// or `dist`'s; a warning when that has none.
fn say_which_panel(static_dir: Option<&std::path::Path>) {
    let dir = match (static_dir, relay::built_panel::build()) {
        (Some(dir), _) => dir,
        (None, Some(build)) => return tracing::info!(%build, "serving the panel built in"),
        (None, None) => std::path::Path::new(relay::built_panel::DEFAULT_DIR),
    };
    if dir.join("index.html").is_file() {
        tracing::info!(dir = %dir.display(), "serving the panel from a folder");
    } else {
        tracing::warn!(dir = %dir.display(), "no built panel here, and none built in; build it with `cargo xtask demo`");
    }
}

/// Where the demo is, and its sample customers, on standard error
/// (standard output is the audit log's by default).
fn print_demo_samples(config: &Config, url: &str) {
    if config.access.demo_caller.is_some() && !config.listen.ip().is_loopback() {
        tracing::warn!(
            "demo mode beyond loopback: everyone who reaches it is the demo user, who may \
             change access; it is meant for trying the panel on this machine"
        );
    }
    // To standard error: standard output is the audit log's by default.
    eprintln!("adapty-lookup demo: open {url}");
    eprintln!("Sample customers (Adapty stand-ins, no key needed; dates relative to each lookup):");
    for (app, samples) in [
        (&config.apps.apps[0], profiles::SAMPLES),
        (&config.apps.apps[1], profiles::KIDS_SAMPLES),
    ] {
        eprintln!("  {} ({}):", app.name, app.id);
        for sample in samples {
            // README's table wants Markdown; a terminal does not.
            let about = sample.about.replace('`', "");
            eprintln!(
                "    {url}/?app={}&{}={}  — {about}; search: {}",
                app.id,
                sample.param,
                sample.id,
                sample.email()
            );
        }
    }
}

/// How long the demo waits for its samples' stories before it serves.
const DEMO_STORIES_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// The demo webhook's `Authorization` values, main app and kids app: public,
/// like the demo's key, and only ever on loopback.
const DEMO_WEBHOOK_SECRETS: [&str; 2] = ["demo-webhook-main-0001", "demo-webhook-kids-0001"];

/// The demo's two apps, "Main app" and "Kids app", each on its stand-in,
/// with a store (a fresh SQLite file unless --store names one) and a
/// webhook on loopback that the stand-ins post their events to.
fn demo_config(args: Args, main: &StandIn, kids: &StandIn) -> Result<Config, ConfigError> {
    let mut config = args.into_config_with(&main.base_url, ApiKey::new(&main.key)?)?;
    if config.store.is_none() {
        let path = private_folder()?.join("store.db");
        config.store = Some(StoreConfig {
            address: StoreAddress::Sqlite(path),
            // The longest: the demo's stories go back to Adapty's 2022
            // example, which the prune at start would otherwise race the
            // stories for (and sometimes win).
            retention_days: 36_500,
        });
    }
    config
        .webhook_listen
        .get_or_insert(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let secret =
        |value: &str| Some(WebhookSecret::new(value).expect("the demo's secrets are valid"));
    let kids_base = relay::remote_url::checked("ADAPTY_API_BASE", &kids.base_url)?;
    let defaults = &config.apps.defaults;
    config.apps.apps = vec![
        AppConfig {
            webhook: WebhookSecrets {
                production: secret(DEMO_WEBHOOK_SECRETS[0]),
                sandbox: None,
            },
            ..defaults.app("main", "Main app", ApiKey::new(&main.key)?)
        },
        AppConfig {
            api_base: kids_base,
            webhook: WebhookSecrets {
                production: secret(DEMO_WEBHOOK_SECRETS[1]),
                sandbox: None,
            },
            ..defaults.app("kids", "Kids app", ApiKey::new(&kids.key)?)
        },
    ];
    Ok(config)
}

/// `relay audit verify FILE…`: OK with the count, or the first break.
fn verify_audit(args: &Args, files: &[std::path::PathBuf]) -> ExitCode {
    let secret = match args.audit_chain_secret(None) {
        Ok(secret) => secret,
        Err(error) => return fail(&error.to_string()),
    };
    let key = relay::audit::ChainKey::new(&secret.0);
    match relay::audit::verify::verify(&key, files) {
        // The count, then a line for each interruption noted (a write cut
        // short by a full disk, declared by the segment after it).
        Ok(verified) => {
            println!("{verified}");
            ExitCode::SUCCESS
        }
        Err(broken) => {
            println!("BROKEN: {broken}");
            ExitCode::FAILURE
        }
    }
}

/// A new folder only this user may enter, for the demo's store: made
/// fresh (never one that exists, nor a link another user placed), so no
/// one else can read or swap the file.
fn private_folder() -> Result<std::path::PathBuf, ConfigError> {
    let path = std::env::temp_dir().join(format!(
        "adapty-lookup-demo-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&path).map_err(|error| {
        ConfigError::Store(format!("cannot make the demo's store folder: {error}"))
    })?;
    Ok(path)
}

/// `relay store purge --app APP --profile-id ID`: one customer's rows gone.
async fn purge(args: &Args, app: &str, profile_id: &str) -> ExitCode {
    let Some(text) = &args.store else {
        return fail("relay store purge needs the store, in RELAY_STORE as the relay runs with");
    };
    let address = match StoreAddress::parse(&text.0) {
        Ok(address) => address,
        Err(error) => return fail(&error),
    };
    let store = match Store::open(&address).await {
        Ok(store) => store,
        Err(error) => return fail(&error.to_string()),
    };
    // As the store keeps it: a UUID in its hyphenated lower case.
    let profile_id = uuid::Uuid::parse_str(profile_id)
        .map_or(profile_id.to_owned(), |uuid| uuid.hyphenated().to_string());
    match store.purge(app, &profile_id).await {
        // A mistyped app or ID must not pass for a done erasure.
        Ok(removed) if removed == Default::default() => fail(&format!(
            "the store holds nothing of profile {profile_id} in app {app:?}: check both \
             (app IDs as in the apps file, `default` with one key)"
        )),
        Ok(removed) => {
            println!(
                "purged profile {profile_id} of app {app}: {} events, {} identifiers, {} customer \
                 rows, {} notes (Adapty still has the profile: a later event or lookup indexes \
                 it again)",
                removed.events, removed.identifiers, removed.profiles, removed.notes
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("nothing purged: {error}")),
    }
}

/// SIGHUP: reload what the operator may have moved or changed (the audit
/// log after logrotate); `reload` is everything that reloads, in turn.
/// It listens before the relay serves: SIGHUP's default ends the process.
fn reload_on_hangup(reload: impl Fn() + Send + 'static) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                tokio::spawn(async move {
                    while hangups.recv().await.is_some() {
                        tracing::info!("SIGHUP: reloading");
                        reload();
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP: nothing can be reloaded")
            }
        }
    }
    #[cfg(not(unix))]
    drop(reload);
}

/// What `SIGHUP` reloads: the audit log (reopened after logrotate moved
/// it) and the apps file with its key files.
fn reload(reloadable: &Running) {
    reloadable.audit.reload();
    reloadable.apps.reload();
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
