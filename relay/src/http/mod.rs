//! The relay's HTTP surface: the profile read, the access changes, health
//! and metrics, and the panel, with the layers every response passes through.

use crate::apps::{App, Apps};
use crate::audit::{self, AuditLog};
use crate::base_path;
use crate::budget::{Budget, HeldBody};
use crate::change::{self, Action, Change};
use crate::config::{Config, PanelConfig};
use crate::csrf;
use crate::error::RelayError;
use crate::host::{self, AllowedHosts};
use crate::identity::{Actor, Caller, Identity};
use crate::lookup::Lookup;
use crate::metrics::Metrics;
use crate::panel::{self, Panel};
use crate::server;
use crate::upstream::{Fetched, Profile};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use protocol::ErrorCode;
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

/// Only a change carries a body; anything larger than a change's is
/// refused outright.
const MAX_BODY_BYTES: usize = change::MAX_BODY_BYTES;
/// About one initial TCP congestion window (10 segments). A smaller answer
/// arrives in the same round trip compressed or not, so compressing it saves
/// the admin nothing, and costs the relay about 0.1 ms a lookup (measured:
/// the encoder's set-up, not the bytes, is most of it).
const COMPRESS_ABOVE_BYTES: u16 = 14 * 1024;
const REQUEST_ID: &str = "x-request-id";

#[derive(Clone)]
pub struct AppState {
    /// The Adapty apps, each with its key, limits and changes role.
    pub(crate) apps: Arc<Apps>,
    pub(crate) identity: Arc<Identity>,
    audit: Arc<AuditLog>,
    metrics: Arc<Metrics>,
    pub(crate) public_origins: Arc<[Url]>,
    pub(crate) panel: Arc<PanelConfig>,
}

/// What `SIGHUP` makes the running relay read again.
#[derive(Clone)]
pub struct Reloadable {
    pub apps: Arc<Apps>,
    pub audit: Arc<AuditLog>,
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
    app_reloadable(config, extra).map(|(router, _)| router)
}

/// The relay, and the parts of it `SIGHUP` reloads.
pub fn app_reloadable(config: Config, extra: Router) -> std::io::Result<(Router, Reloadable)> {
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
    let audit = Arc::new(AuditLog::open(&config.audit, &config.apps[0].key)?);
    tokio::spawn(audit::count_left_out_every_minute(Arc::downgrade(&audit)));
    let apps = Arc::new(Apps::new(
        &config,
        metrics.clone(),
        Budget::new(config.limits.response_memory_bytes),
    ));
    let state = AppState {
        audit: audit.clone(),
        apps: apps.clone(),
        identity: Arc::new(identity),
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
    let health = audit.clone();

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
        .route(
            &format!("/{}", protocol::path::GRANT),
            post(grant).fallback(post_only),
        )
        .route(
            &format!("/{}", protocol::path::REVOKE),
            post(revoke).fallback(post_only),
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
        .route("/healthz", get(move || healthz(health.clone())))
        // Outside the concurrency limit: a connection beyond the cap never waits.
        .layer(middleware::from_fn(server::refuse_over_capacity))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::map_response(too_large_as_json))
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
    Ok((router, Reloadable { apps, audit }))
}

/// Healthy unless the audit log cannot be written (plain text, as before;
/// 503 tells a load balancer to send lookups elsewhere).
async fn healthz(audit: Arc<AuditLog>) -> Response {
    if audit.is_healthy() {
        "ok".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the audit log cannot be written; lookups and changes are refused",
        )
            .into_response()
    }
}

/// The span of a request in the relay's own log: method and path, never
/// the query (it names the customer), and for the API only the route.
fn request_span(request: &Request) -> tracing::Span {
    let path = request.uri().path();
    // Under a base path too: whatever follows /api/ is the route or hidden.
    let path = match path.find("/api/") {
        Some(at)
            if [
                protocol::path::PROFILE,
                protocol::path::GRANT,
                protocol::path::REVOKE,
            ]
            .contains(&&path[at + 1..]) =>
        {
            path.to_owned()
        }
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
    app: Option<Arc<App>>,
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
    let mut done = run_lookup(&state, &headers, query.as_deref()).await;
    let app = done.app.as_ref().map(|app| app.id.as_str());
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let entry = audit::Entry {
        time: audit::now(),
        request_id,
        actor: done.actor.as_ref().map(|actor| actor.0.as_str()),
        app,
        kind: done.lookup.as_ref().map(Lookup::kind),
        id: done
            .lookup
            .as_ref()
            .map(|lookup| state.audit.id(&lookup.id())),
        outcome: done
            .result
            .as_ref()
            .map_or_else(|error| error.code().as_str(), |_| "ok"),
        status: done
            .result
            .as_ref()
            .map_or_else(|error| error.status().as_u16(), |_| 200),
        upstream_status: done.upstream_status,
        latency_ms: started.elapsed().as_millis() as u64,
        truncated: false,
    };
    // What reached Adapty, and every refusal for want of the audit log (the
    // attempt that may find it writable again), is written whatever the
    // share; and written before the answer leaves, or the answer is refused.
    let unaudited = matches!(done.result, Err(RelayError::AuditUnavailable));
    if done.asked_adapty || unaudited {
        if let Err(error) = state.audit.record(&entry).await {
            tracing::error!(%error, "a lookup's answer was withheld: its audit line cannot be written");
            done.result = Err(RelayError::AuditUnavailable);
        }
    } else {
        let client = client.map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0 .0.ip());
        let actor = entry.actor.filter(|_| state.identity.is_configured());
        state.audit.record_refused(&entry, client, actor);
    }
    let outcome = done
        .result
        .as_ref()
        .map_or_else(|error| error.code().as_str(), |_| "ok");
    state.metrics.lookup(app.unwrap_or_default(), outcome);
    answer(done.result)
}

/// The checks in the order that fails cheapest, then Adapty.
async fn run_lookup(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Done {
    let mut done = Done {
        actor: None,
        app: None,
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
    let (lookup, app) = match Lookup::from_query(query) {
        Ok((lookup, app)) => (done.lookup.insert(lookup).clone(), app),
        Err(error) => {
            done.result = Err(error);
            return done;
        }
    };
    // Kept to the end of the lookup, whatever a reload swaps in meanwhile.
    let app = match state.apps.current().pick(app.as_deref()) {
        Ok(app) => done.app.insert(app).clone(),
        Err(error) => {
            done.result = Err(error);
            return done;
        }
    };
    if let Err(error) = app.limits.check(&actor) {
        done.result = Err(error);
        return done;
    }
    // Adapty is not asked while the audit log is known to fail: the line
    // could not be written after its answer anyway.
    if !state.audit.is_healthy() {
        done.result = Err(RelayError::AuditUnavailable);
        return done;
    }
    done.asked_adapty = true;
    let fetched = app.upstream.fetch_profile(&lookup).await;
    done.upstream_status = fetched.upstream_status;
    done.result = fetched.result;
    done
}

async fn grant(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    change_access(state, Action::Grant, client, headers, body).await
}

async fn revoke(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    change_access(state, Action::Revoke, client, headers, body).await
}

/// A change: the checks, the line saying what is asked (or nothing is
/// sent), Adapty, and the line saying what came of it.
async fn change_access(
    state: AppState,
    action: Action,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let mut caller = None;
    let mut change = None;
    let mut app = None;
    let mut checked = checked_change(
        &state,
        action,
        &headers,
        body,
        (&mut caller, &mut app, &mut change),
    )
    .await;
    // The line of what is asked, written before Adapty hears of it.
    let entry = |phase| audit::ChangeEntry {
        time: audit::now(),
        request_id,
        actor: caller
            .as_ref()
            .map(|caller: &Caller| caller.actor.0.as_str()),
        app: app.as_ref().map(|app: &Arc<App>| app.id.as_str()),
        action: action.name(),
        phase,
        kind: change
            .as_ref()
            .map(|change: &Change| change.customer.kind()),
        id: change
            .as_ref()
            .map(|change| state.audit.id(&change.customer.id())),
        access_level_id: change
            .as_ref()
            .map(|change| change.access_level_id.as_str()),
        dates: change.as_ref().map(Change::audit_dates),
        reason: change.as_ref().map(|change| change.reason.as_str()),
        outcome: None,
        status: None,
        upstream_status: None,
        latency_ms: None,
    };
    if checked.is_ok() {
        if let Err(error) = state.audit.record(&entry("asked")).await {
            tracing::error!(%error, "a change was refused: its audit line cannot be written");
            checked = Err(RelayError::AuditUnavailable);
        }
    }
    let (fetched, asked_adapty) = match checked {
        Ok((change, app)) => (app.upstream.change_access(&change).await, true),
        Err(error) => (
            Fetched {
                result: Err(error),
                upstream_status: None,
            },
            false,
        ),
    };
    let fetched_code = fetched.result.as_ref().err().map(RelayError::code);
    let outcome = fetched_code.map_or("ok", ErrorCode::as_str);
    let response = answer(fetched.result);
    let app_id = app.as_ref().map_or("", |app| app.id.as_str());
    state.metrics.change(app_id, action.name(), outcome);
    let done = audit::ChangeEntry {
        outcome: Some(outcome),
        status: Some(response.status().as_u16()),
        upstream_status: fetched.upstream_status,
        latency_ms: Some(started.elapsed().as_millis() as u64),
        ..entry(if asked_adapty { "done" } else { "refused" })
    };
    let unaudited = matches!(fetched_code, Some(ErrorCode::AuditUnavailable));
    if asked_adapty || unaudited {
        let _ = state.audit.record(&done).await;
    } else {
        let client = client.map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0 .0.ip());
        let actor = done.actor.filter(|_| state.identity.is_configured());
        state.audit.record_refused(&done, client, actor);
    }
    response
}

/// The lookup's checks in the lookup's order (cross-site, identity), then
/// a change's own: changes on, the role (in some app before the body is
/// read, in the body's app after), JSON, the body's rules, the person's
/// allowance in that app. `learnt` keeps the caller, the app and the
/// change, for the audit line of a refusal.
async fn checked_change(
    state: &AppState,
    action: Action,
    headers: &HeaderMap,
    body: Body,
    learnt: (
        &mut Option<Caller>,
        &mut Option<Arc<App>>,
        &mut Option<Change>,
    ),
) -> Result<(Change, Arc<App>), RelayError> {
    let (caller, app, change) = learnt;
    csrf::check(headers, &state.public_origins)?;
    let caller = caller.insert(state.identity.caller(headers).await?);
    let apps = state.apps.current();
    let roles: Vec<&str> = apps
        .iter()
        .filter_map(|app| app.changes.as_ref().map(|changes| changes.role.as_str()))
        .collect();
    if roles.is_empty() {
        return Err(RelayError::ChangesDisabled);
    }
    if !roles.iter().any(|role| caller.has_role(role)) {
        return Err(RelayError::ChangesNotAllowed(roles[0].to_owned()));
    }
    change::check_content_type(headers)?;
    let body = read_body(body).await?;
    let (read, asked_app) = Change::read(action, &body, chrono::Utc::now())?;
    let checked = change.insert(read);
    let app = app.insert(apps.pick(asked_app.as_deref())?);
    let Some(changes) = &app.changes else {
        return Err(RelayError::ChangesDisabled);
    };
    if !caller.has_role(&changes.role) {
        return Err(RelayError::ChangesNotAllowed(changes.role.clone()));
    }
    app.limits.check_change(&caller.actor)?;
    Ok((checked.clone(), app.clone()))
}

/// The body, up to a change's limit.
async fn read_body(body: Body) -> Result<bytes::Bytes, RelayError> {
    axum::body::to_bytes(body, change::MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            while let Some(cause) = source {
                if cause.is::<http_body_util::LengthLimitError>() {
                    return RelayError::BodyTooLarge;
                }
                source = cause.source();
            }
            RelayError::InvalidRequest("the request body could not be read whole".into())
        })
}

/// A profile as Adapty sent it, or the error.
fn answer(result: Result<Profile, RelayError>) -> Response {
    match result {
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
    }
}

/// tower-http answers a body announced too large with plain text; every
/// answer of the API is the relay's JSON.
async fn too_large_as_json(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        RelayError::BodyTooLarge.into_response()
    } else {
        response
    }
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
        Some(protocol::path::GRANT) => "/api/access-level/grant",
        Some(protocol::path::REVOKE) => "/api/access-level/revoke",
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
    RelayError::MethodNotAllowed("GET")
}

async fn post_only() -> RelayError {
    RelayError::MethodNotAllowed("POST")
}

async fn api_not_found() -> RelayError {
    RelayError::NotFound
}
