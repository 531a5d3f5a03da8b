//! adapty-lookup panel: support staff look up one customer's Adapty profile.
//!
//! `model`, `lookup`, `format` and `transport::read_response` are plain Rust,
//! tested natively; `views` and the fetch itself only exist in the browser.

pub mod bulk;
pub mod cells;
pub mod change;
pub mod correction;
pub mod elsewhere;
pub mod environment;
pub mod erasure;
pub mod error;
pub mod events;
pub mod explain;
pub mod feed;
pub mod format;
pub mod freshness;
pub mod handoff;
pub mod listing;
pub mod lookup;
pub mod model;
pub mod notes;
pub mod search;
pub mod session;
pub mod status;
pub mod support;
pub mod transport;

#[cfg(test)]
mod examples;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod views;
