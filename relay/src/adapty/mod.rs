//! Adapty's server-side API, as the relay asks it: one client per app
//! (`client`: retries for reads, never for changes), the endpoints
//! (`paths`), what an answer means (`answer`), the secret key (`key`), and
//! how much of Adapty's answers the relay holds at once (`budget`).

pub mod answer;
pub mod budget;
mod client;
pub mod identifiers;
pub mod key;
pub mod paths;

pub use client::{Fetched, Profile, Upstream, UpstreamConfig, UpstreamSettings};
pub use key::ApiKey;
