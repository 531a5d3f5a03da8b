//! The relay: the one place that holds the Adapty secret keys.
//!
//! It forwards one read, `GET /api/profile`, to Adapty's profile endpoint
//! with an app's key added, and, only when the operator turns them on and
//! only for one role, two writes: granting and revoking an access level.
//! With a store, it keeps Adapty's webhook events and answers a search and
//! a customer's event feed from them. It serves the panel's static files. Its parts, each a folder, from the
//! outside in:
//!
//! - `settings`: what the operator sets, checked at start;
//! - `server`: connections, their limits and shutdown;
//! - `http`: the routes, the layers, and one `Call` for the checks of every
//!   API handler;
//! - `guard`: who may ask (Host, base path, CSRF, identity);
//! - `rules`: what may be asked (a lookup, a change);
//! - `apps`: the Adapty apps, their keys and limits, reloaded on SIGHUP;
//! - `adapty`: how Adapty is asked, and what its answers mean;
//! - `audit`: the tamper-evident log of every call;
//! - `webhook`: Adapty's events, on a listener of their own;
//! - `store`: what Adapty's API cannot give back (its events, the relay's
//!   own changes, an index of customers), in SQLite or PostgreSQL;
//! - `demo`: a stand-in Adapty for trying it without a key.
//!
//! Below them all: `error` (every failure as one JSON shape), `metrics`,
//! `security_headers`, `remote_url` and `built_panel` (the panel built
//! in). Dependencies point one way: `cargo xtask layering` checks that
//! no module imports its importer.

pub mod adapty;
pub mod apps;
pub mod audit;
pub mod built_panel;
pub mod demo;
pub mod error;
pub mod guard;
pub mod http;
pub mod metrics;
pub mod remote_url;
pub mod rules;
pub mod security_headers;
pub mod server;
pub mod settings;
pub mod store;
pub mod webhook;

pub use settings::{Config, ConfigError};
