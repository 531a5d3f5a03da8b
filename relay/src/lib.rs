//! The relay: the one place that holds the Adapty secret key.
//!
//! It forwards exactly one read, `GET /api/profile`, to Adapty's profile
//! endpoint with the key added, and serves the panel's static files.
//! Reading order: `config` (what the operator sets), `lookup` (what the admin
//! may ask), `upstream` (how Adapty is asked), `error` (every failure as one
//! JSON shape), `routes` (the HTTP surface), `demo` (a stand-in Adapty).

pub mod config;
pub mod demo;
pub mod error;
pub mod lookup;
pub mod routes;
pub mod upstream;

pub use config::{Config, ConfigError};
pub use routes::app;
