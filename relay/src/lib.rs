//! The relay: the one place that holds the Adapty secret key.
//!
//! It forwards one read, `GET /api/profile`, to Adapty's profile endpoint
//! with the key added, and, only when the operator turns them on and only
//! for one role, two writes: granting and revoking an access level. It
//! serves the panel's static files.
//! Reading order: `config` (what the operator sets), `routes` (the HTTP
//! surface and the order of checks, under `base_path`), then what each check is: `host` (only
//! the host names the operator expects), `csrf` (only the panel may call), `identity` (who is asking, in
//! which roles), `lookup` (what may be asked), `change` (what may be
//! changed), `limits` (how often); `upstream` (how Adapty is asked), `budget` (how
//! much of its answers is held at once), `error`
//! (every failure as one JSON shape), `audit`, `metrics`, `panel` (static
//! files and security headers), `session` (what the panel is told at
//! start), `server` (connections and shutdown), `connection` (a write
//! deadline, and headers on hyper's own answers), and `demo` (a stand-in
//! Adapty).

pub mod apps;
pub mod audit;
pub mod base_path;
pub mod budget;
pub mod change;
pub mod config;
pub mod connection;
pub mod csrf;
pub mod demo;
pub mod error;
pub mod host;
pub mod identity;
pub mod limits;
pub mod lookup;
pub mod metrics;
pub mod panel;
pub mod routes;
pub mod server;
pub mod session;
pub mod upstream;

pub use config::{Config, ConfigError};
pub use routes::app;
