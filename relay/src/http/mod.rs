//! The relay's HTTP surface: the profile read, the access changes, the
//! session, health and metrics, and the panel, with the layers every
//! response passes through (outermost last, as tower-http reads).
//!
//! Every API handler takes a `Call` (`call`): the checks of who is asking
//! and whether they may, in one place, which also writes the audit line of
//! a refusal. The handlers are `profile`, `change`, `correction`, `erasure`
//! (the last two sharing their steps in `writes`), `store_reads`, `notes`
//! and `session`; `staff` keeps support's doings in the store; `panel`
//! serves the built panel, `observe` the request IDs, logs and metrics,
//! `answers` the relay's own answers (errors, panics, methods), and
//! `bodies` reads a change's body before it may hold a request slot.

mod answers;
mod bodies;
mod bulk;
mod call;
mod change;
mod correction;
mod erasure;
mod notes;
mod observe;
mod panel;
mod profile;
mod replays;
mod session;
mod staff;
mod store_reads;
mod writes;

use crate::adapty::budget::Budget;
use crate::apps::Apps;
use crate::audit::{self, AuditLog};
use crate::guard::base_path;
use crate::guard::host::{self, AllowedHosts};
use crate::guard::identity::Identity;
use crate::metrics::Metrics;
use crate::security_headers;
use crate::server;
use crate::settings::Config;
use crate::store::Store;
use axum::middleware;
use axum::routing::{any, get, post};
use axum::Router;
use call::Calls;
use panel::Panel;
use replays::Replays;
use std::sync::Arc;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use url::Url;

/// About one initial TCP congestion window (10 segments). A smaller answer
/// arrives in the same round trip compressed or not, so compressing it saves
/// the admin nothing, and costs the relay about 0.1 ms a lookup (measured:
/// the encoder's set-up, not the bytes, is most of it).
const COMPRESS_ABOVE_BYTES: u16 = 14 * 1024;

/// What every API handler uses (axum's state).
#[derive(Clone)]
pub struct Services {
    /// The Adapty apps, each with its key, limits and changes role.
    apps: Arc<Apps>,
    identity: Arc<Identity>,
    audit: Arc<AuditLog>,
    metrics: Arc<Metrics>,
    public_origins: Arc<[Url]>,
    dashboard_profile_url: Option<Arc<str>>,
    /// The request IDs of changes sent in the last minutes.
    replays: Arc<Replays>,
    /// The calls to Adapty under way.
    calls: Calls,
    /// `None`: no search, no events, nothing indexed.
    store: Option<Arc<Store>>,
}

/// What `main` keeps of the running relay: what `SIGHUP` reads again, and
/// the calls to Adapty that shutdown lets finish.
#[derive(Clone)]
pub struct Running {
    pub apps: Arc<Apps>,
    pub audit: Arc<AuditLog>,
    pub calls: Calls,
    /// For the webhook's listener, which shares them.
    pub metrics: Arc<Metrics>,
}

/// The whole relay as a router, with `extra` routes beside its own under
/// exactly the same layers (the tests use them to see what those layers
/// make of a handler that fails in ways the relay's own never should); and
/// the parts of it `SIGHUP` reloads. `config.listen` is the address actually
/// bound (its port names the loopback hosts allowed); `store` is the one
/// `config.store` names, opened. Fails only when the audit log cannot be
/// opened.
pub fn router(
    config: Config,
    store: Option<Arc<Store>>,
    extra: Router,
) -> std::io::Result<(Router, Running)> {
    let metrics = Arc::new(Metrics::default());
    let identity = Identity::new(&config.access);
    if !identity.is_configured() {
        tracing::warn!(
            "no identity configured (RELAY_IDENTITY_HEADER or RELAY_JWT_HEADER): every caller is \
             'anonymous'; only run it like this where nothing but the SSO proxy can reach it"
        );
    }
    // The ID hashes' secret comes from the first app's key at start: stable
    // across reloads, so that lines of one customer keep matching.
    let audit = Arc::new(AuditLog::open(&config.audit, &config.apps.apps[0].key)?);
    tokio::spawn(audit::count_left_out_every_minute(Arc::downgrade(&audit)));
    let apps = Arc::new(Apps::new(
        config.apps,
        metrics.clone(),
        Budget::new(config.response_memory_bytes),
    ));
    let services = Services {
        audit: audit.clone(),
        apps: apps.clone(),
        identity: Arc::new(identity),
        metrics: metrics.clone(),
        store,
        public_origins: config.access.public_origins.clone().into(),
        dashboard_profile_url: config.dashboard_profile_url.map(Arc::from),
        replays: Arc::new(Replays::default()),
        calls: Calls::new(config.server.max_concurrent_requests.get()),
    };
    let hosts = Arc::new(AllowedHosts::new(
        &config.access.public_origins,
        &config.access.allowed_hosts,
        config.listen,
    ));
    let inner = routes(services.clone(), config.static_dir.as_deref()).merge(extra);
    let router = layered(inner, &services, hosts, &config.server);
    let router = match config.base_path {
        None => router,
        Some(base) => {
            let base: Arc<str> = base.into();
            // A service of its own, so that the prefix is taken off before routing.
            Router::new().fallback_service(tower::Layer::layer(
                &middleware::from_fn_with_state(base, base_path::strip),
                router,
            ))
        }
    };
    let router = router
        // Outside every layer that answers by itself (the body's 413 and
        // 408, the cap's 503, the base path's redirect), so every answer has them.
        .layer(middleware::from_fn(security_headers::add))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(observe::request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_request(observe::drop_unusable_request_id));
    let running = Running {
        apps,
        audit,
        calls: services.calls,
        metrics,
    };
    Ok((router, running))
}

/// The API's routes, `/metrics`, and the panel for every other path.
fn routes(services: Services, static_dir: Option<&std::path::Path>) -> Router {
    let route = |path: &str| format!("/{path}");
    Router::new()
        // HEAD explicitly: axum would otherwise answer it with the GET
        // handler, asking Adapty for a body it then throws away.
        .route(
            &route(protocol::path::PROFILE),
            get(profile::profile)
                .head(answers::get_only)
                .fallback(answers::get_only),
        )
        .route(
            &route(protocol::path::SESSION),
            get(session::session)
                .head(answers::get_only)
                .fallback(answers::get_only),
        )
        .route(
            &route(protocol::path::GRANT),
            post(change::grant).fallback(answers::post_only),
        )
        .route(
            &route(protocol::path::REVOKE),
            post(change::revoke).fallback(answers::post_only),
        )
        .route(
            &route(protocol::path::PROFILE_UPDATE),
            post(correction::correct).fallback(answers::post_only),
        )
        .route(
            &route(protocol::path::PROFILE_ERASE),
            post(erasure::erase).fallback(answers::post_only),
        )
        .route(
            &route(protocol::path::SEARCH),
            get(store_reads::search)
                .head(answers::get_only)
                .fallback(answers::get_only),
        )
        .route(
            &route(protocol::path::EVENTS),
            get(store_reads::events)
                .head(answers::get_only)
                .fallback(answers::get_only),
        )
        .route(
            &route(protocol::path::NOTES),
            get(store_reads::notes)
                .post(notes::add)
                .head(answers::get_or_post)
                .fallback(answers::get_or_post),
        )
        .route(
            &route(&protocol::notes::delete_path("{id}")),
            post(notes::delete).fallback(answers::post_only),
        )
        .route(
            &route(protocol::path::BULK),
            post(bulk::run).fallback(answers::post_only),
        )
        .route("/api/{*rest}", any(answers::api_not_found))
        .route("/metrics", get(observe::render_metrics))
        .with_state(services)
        .fallback(panel::serve)
        .with_state(Panel::new(static_dir))
}

/// The layers between the connection and the routes, inside out.
fn layered(
    routes: Router,
    services: &Services,
    hosts: Arc<AllowedHosts>,
    limits: &server::Limits,
) -> Router {
    let health = services.audit.clone();
    routes
        .layer(CatchPanicLayer::custom(answers::panic))
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests.get(),
        ))
        // Outside the concurrency limit: a body that is slow to come holds
        // a connection, never one of the slots lookups need.
        .layer(middleware::from_fn_with_state(
            limits.header_read_timeout,
            bodies::read_whole,
        ))
        // Outside the body's reading: a request for another host is refused
        // before a byte of its body is asked for.
        .layer(middleware::from_fn_with_state(hosts, host::check))
        // Added after the host check and the concurrency limit, so outside
        // both: health checkers often use an IP, the answer carries nothing,
        // and it must come at once when every request slot is taken.
        .route("/healthz", get(move || observe::healthz(health.clone())))
        // Outside the concurrency limit: a connection beyond the cap never waits.
        .layer(middleware::from_fn(server::refuse_over_capacity))
        // The fastest level: a big profile is compressed on every lookup, and
        // the default brotli level costs more time than it saves on a LAN or VPN.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE_BYTES))),
        )
        .layer(middleware::from_fn_with_state(
            services.metrics.clone(),
            observe::count_requests,
        ))
}
