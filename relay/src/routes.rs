//! The relay's HTTP surface: the profile read, health and metrics, and the
//! panel, with the layers every response passes through.

use crate::audit::{self, AuditLog};
use crate::base_path;
use crate::budget::{Budget, HeldBody};
use crate::config::{Config, PanelConfig};
use crate::csrf;
use crate::error::RelayError;
use crate::host::{self, AllowedHosts};
use crate::identity::{Actor, Identity};
use crate::limits::RateLimits;
use crate::lookup::Lookup;
use crate::metrics::Metrics;
use crate::panel::{self, Panel};
use crate::server;
use crate::upstream::{Profile, Upstream};
use axum::extract::{ConnectInfo, MatchedPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Router};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use url::Url;

/// A GET carries no body; anything larger than this is refused outright.
const MAX_BODY_BYTES: usize = 1024;
/// About one initial TCP congestion window (10 segments). A smaller answer
/// arrives in the same round trip compressed or not, so compressing it saves
/// the admin nothing, and costs the relay about 0.1 ms a lookup (measured:
/// the encoder's set-up, not the bytes, is most of it).
const COMPRESS_ABOVE_BYTES: u16 = 14 * 1024;
const REQUEST_ID: &str = "x-request-id";

#[derive(Clone)]
pub struct AppState {
    upstream: Arc<Upstream>,
    pub(crate) identity: Arc<Identity>,
    limits: Arc<RateLimits>,
    audit: Arc<AuditLog>,
    metrics: Arc<Metrics>,
    pub(crate) public_origins: Arc<[Url]>,
    pub(crate) panel: Arc<PanelConfig>,
}

/// The whole relay as a router; `main` and the tests serve it on a socket,
/// `config.listen` being the address actually bound (its port names the
/// loopback hosts allowed). Fails only when the audit log cannot be opened.
pub fn app(config: Config) -> std::io::Result<Router> {
    app_with(config, Router::new())
}

/// The relay with `extra` routes beside its own, under exactly the same
/// layers: the tests use it to see what those layers make of a handler
/// that fails in ways the relay's own never should.
pub fn app_with(config: Config, extra: Router) -> std::io::Result<Router> {
    let metrics = Arc::new(Metrics::default());
    let identity = Identity::new(&config.access);
    if !identity.is_configured() {
        tracing::warn!(
            "no identity configured (RELAY_IDENTITY_HEADER or RELAY_JWT_HEADER): every caller is \
             'anonymous'; only run it like this where nothing but the SSO proxy can reach it"
        );
    }
    let audit = Arc::new(AuditLog::open(&config.audit, &config.upstream.key)?);
    tokio::spawn(audit::count_left_out_every_minute(Arc::downgrade(&audit)));
    let state = AppState {
        audit,
        upstream: Arc::new(Upstream::new(
            config.upstream,
            metrics.clone(),
            Budget::new(config.limits.response_memory_bytes),
        )),
        identity: Arc::new(identity),
        limits: Arc::new(RateLimits::new(&config.limits)),
        metrics: metrics.clone(),
        public_origins: config.access.public_origins.clone().into(),
        panel: Arc::new(config.panel),
    };
    let hosts = Arc::new(AllowedHosts::new(
        &config.access.public_origins,
        &config.access.allowed_hosts,
        config.listen,
    ));

    let panel = Panel::new(&config.static_dir);

    let profile_path = format!("/{}", protocol::path::PROFILE);
    let router = Router::new()
        // HEAD explicitly: axum would otherwise answer it with the GET
        // handler, asking Adapty for a body it then throws away.
        .route(
            &profile_path,
            get(profile)
                .head(method_not_allowed)
                .fallback(method_not_allowed),
        )
        .route(
            &format!("/{}", protocol::path::SESSION),
            get(crate::session::session)
                .head(method_not_allowed)
                .fallback(method_not_allowed),
        )
        .route("/api/{*rest}", any(api_not_found))
        .route("/metrics", get(render_metrics))
        .with_state(state)
        .fallback(panel::serve)
        .with_state(panel)
        .merge(extra)
        .layer(middleware::from_fn_with_state(hosts, host::check))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(GlobalConcurrencyLimitLayer::new(
            config.limits.max_concurrent_requests.get(),
        ))
        // Added after the host check and the concurrency limit, so outside
        // both: health checkers often use an IP, the answer carries nothing,
        // and it must come at once when every request slot is taken.
        .route("/healthz", get(|| async { "ok" }))
        // Outside the concurrency limit: a connection beyond the cap never waits.
        .layer(middleware::from_fn(server::refuse_over_capacity))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The fastest level: a big profile is compressed on every lookup, and
        // the default brotli level costs more time than it saves on a LAN or VPN.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE_BYTES))),
        )
        .layer(middleware::from_fn_with_state(metrics, count_requests));
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
        // Outside every layer that answers by itself (the body limit's 413,
        // the cap's 503, the base path's redirect), so every answer has them.
        .layer(middleware::from_fn(panel::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_request(drop_unusable_request_id));
    Ok(router)
}

/// The span of a request in the relay's own log: method and path, never
/// the query (it names the customer), and for the API only the route.
fn request_span(request: &Request) -> tracing::Span {
    let path = request.uri().path();
    // Under a base path too: whatever follows /api/ is the route or hidden.
    let path = match path.find("/api/") {
        Some(at) if &path[at + 1..] == protocol::path::PROFILE => path.to_owned(),
        Some(at) => format!("{}/api/…", &path[..at]),
        None => path.to_owned(),
    };
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::debug_span!("request", method = %request.method(), path, request_id)
}

/// A client's (or its proxy's) request ID is kept for the log and the
/// answer only when it is 1–64 characters of `[A-Za-z0-9._-]`; otherwise
/// it is dropped, and `SetRequestIdLayer` makes one.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = |id: &[u8]| {
        (1..=64).contains(&id.len())
            && id
                .iter()
                .all(|&byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
    };
    let headers = request.headers_mut();
    let mut ids = headers.get_all(REQUEST_ID).iter();
    let keep = ids.next().is_some_and(|id| usable(id.as_bytes())) && ids.next().is_none();
    if !keep {
        headers.remove(REQUEST_ID);
    }
    request
}

/// What one lookup came to, for the answer, the audit log and the metrics.
struct Done {
    actor: Option<Actor>,
    lookup: Option<Lookup>,
    /// Whether Adapty was asked: such a call is always audited.
    asked_adapty: bool,
    upstream_status: Option<u16>,
    result: Result<Profile, RelayError>,
}

async fn profile(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let started = Instant::now();
    let done = run_lookup(&state, &headers, query.as_deref()).await;
    let outcome = done
        .result
        .as_ref()
        .map_or_else(|error| error.code().as_str(), |_| "ok");
    let response = match done.result {
        Ok(profile) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                // Personal data: no browser or proxy may keep a copy.
                (header::CACHE_CONTROL, "no-store"),
            ],
            HeldBody::body(profile.bytes, profile.reservation),
        )
            .into_response(),
        Err(error) => error.into_response(),
    };
    state.metrics.lookup(outcome);
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let entry = audit::Entry {
        time: audit::now(),
        request_id,
        actor: done.actor.as_ref().map(|actor| actor.0.as_str()),
        kind: done.lookup.as_ref().map(Lookup::kind),
        id: done
            .lookup
            .as_ref()
            .map(|lookup| state.audit.id(&lookup.id())),
        outcome,
        status: response.status().as_u16(),
        upstream_status: done.upstream_status,
        latency_ms: started.elapsed().as_millis() as u64,
        truncated: false,
    };
    if done.asked_adapty {
        state.audit.record(&entry);
    } else {
        let client = client.map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0 .0.ip());
        state.audit.record_refused(&entry, client);
    }
    response
}

/// The checks in the order that fails cheapest, then Adapty.
async fn run_lookup(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Done {
    let mut done = Done {
        actor: None,
        lookup: None,
        asked_adapty: false,
        upstream_status: None,
        result: Err(RelayError::NotFound),
    };
    if let Err(error) = csrf::check(headers, &state.public_origins) {
        done.result = Err(error);
        return done;
    }
    let actor = match state.identity.actor(headers).await {
        Ok(actor) => done.actor.insert(actor).clone(),
        Err(error) => {
            done.result = Err(error);
            return done;
        }
    };
    let lookup = match Lookup::from_query(query) {
        Ok(lookup) => done.lookup.insert(lookup).clone(),
        Err(error) => {
            done.result = Err(error);
            return done;
        }
    };
    if let Err(error) = state.limits.check(&actor) {
        done.result = Err(error);
        return done;
    }
    done.asked_adapty = true;
    let fetched = state.upstream.fetch_profile(&lookup).await;
    done.upstream_status = fetched.upstream_status;
    done.result = fetched.result;
    done
}

async fn render_metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts every request by route template (never the raw path: IDs are
/// personal data and would explode the label set) and status.
async fn count_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = match request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().trim_start_matches('/'))
    {
        Some(protocol::path::PROFILE) => "/api/profile",
        Some("healthz") => "/healthz",
        Some("metrics") => "/metrics",
        Some(_) => "/api/other",
        None => "static",
    };
    let response = next.run(request).await;
    metrics.request(route, response.status().as_u16());
    response
}

/// A panic fails its own request only: logged for the operator, answered
/// as a plain 500; the panic's text may hold anything and is not shown.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = text, "a request handler panicked");
    RelayError::Internal.into_response()
}

async fn method_not_allowed() -> RelayError {
    RelayError::MethodNotAllowed
}

async fn api_not_found() -> RelayError {
    RelayError::NotFound
}
