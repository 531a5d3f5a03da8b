//! What the panel and the relay both speak, written once: the API's paths,
//! its parameter and header names, its error codes, the session's shape
//! ([`session`]) and the rule a change's reason follows ([`reason`]).
//!
//! The relay answers every failure with one of [`ErrorCode`]; the panel
//! matches on it exhaustively, so a code added here that the panel does not
//! handle is a compile error rather than a silent "unexpected answer".
//! One dependency, serde's derive, which both sides already use (the
//! panel reads the session through its own lenient reader, lighter in its
//! wasm than the derive): the panel's wasm carries the strings and a short
//! table of characters.

pub mod bulk;
pub mod correction;
pub mod feed;
pub mod notes;
pub mod reason;
pub mod session;

/// The relay's API paths, relative: the panel calls them relative to its
/// own URL, so one build works under any host and path prefix; the relay
/// mounts them under its base path.
pub mod path {
    pub const PROFILE: &str = "api/profile";
    /// Who is signed in and what this deployment offers, fetched once at
    /// start: a [`crate::session::Session`].
    pub const SESSION: &str = "api/session";
    /// `POST`, JSON: give a customer an access level, or move its end.
    pub const GRANT: &str = "api/access-level/grant";
    /// `POST`, JSON: take an access level away, now or at a date.
    pub const REVOKE: &str = "api/access-level/revoke";
    /// `GET`: customers whose email, transaction ID or ID equals `q`, from
    /// the relay's store: a [`crate::feed::SearchAnswer`].
    pub const SEARCH: &str = "api/search";
    /// `GET`: one customer's events, Adapty's and support's, newest first:
    /// a [`crate::feed::EventsPage`].
    pub const EVENTS: &str = "api/events";
    /// `POST`, JSON: correct a customer's contact details and custom
    /// attributes ([`crate::correction`]); answers the profile after it.
    pub const PROFILE_UPDATE: &str = "api/profile/update";
    /// `POST`, JSON: erase a customer from Adapty for good, and from the
    /// relay's store; answers a [`crate::correction::Erased`].
    pub const PROFILE_ERASE: &str = "api/profile/erase";
    /// `GET`: a customer's notes ([`crate::notes::NotesPage`]); `POST`,
    /// JSON: add one. Deleting is `POST` on [`crate::notes::delete_path`].
    pub const NOTES: &str = "api/notes";
    /// `POST`, JSON: check many customers at once; answered as NDJSON
    /// ([`crate::bulk`]).
    pub const BULK: &str = "api/bulk";
}

/// The two ways of naming a customer, as query parameters of a lookup (and
/// of the panel's own URL).
pub mod param {
    pub const CUSTOMER_USER_ID: &str = "customer_user_id";
    pub const PROFILE_ID: &str = "profile_id";
    /// Which of the relay's apps (Adapty keys) to ask: a lookup's query
    /// parameter and a change's body field; required when the relay serves
    /// several apps.
    pub const APP: &str = "app";
    /// A search's text: an email address, a transaction ID, or an ID.
    pub const QUERY: &str = "q";
    /// An events page's cursor: the previous page's `next`.
    pub const BEFORE: &str = "before";
}

/// The fields of a grant or revoke body, beside one of the two IDs above.
/// Dates are RFC 3339 with an offset; `expires_at: null` means lifetime.
pub mod field {
    pub const ACCESS_LEVEL_ID: &str = "access_level_id";
    pub const STARTS_AT: &str = "starts_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const REVOKE_AT: &str = "revoke_at";
    /// Why, for the audit log: see [`crate::reason`].
    pub const REASON: &str = "reason";
}

/// The header the panel adds to every API call, with its one value. A
/// cross-site page cannot add it without a CORS preflight the relay never
/// grants, so it proves the call comes from the panel's own script.
pub const CSRF_HEADER: &str = "x-csrf";
pub const CSRF_VALUE: &str = "1";

/// The stable `code` of the relay's error body
/// `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed; the message says how.
    InvalidRequest,
    /// No valid SSO identity came with the request.
    Unauthenticated,
    /// Not the panel's own call: cross-site, foreign origin, no CSRF header.
    Forbidden,
    /// No such API path.
    NotFound,
    MethodNotAllowed,
    /// Adapty has no profile with this ID.
    ProfileNotFound,
    /// Adapty rejected the relay's key: the operator's problem.
    RelayMisconfigured,
    RateLimited,
    /// Adapty failed, or answered something that is not a profile.
    UpstreamError,
    UpstreamTooLarge,
    UpstreamTimeout,
    /// A bug in the relay failed this one request; it is logged.
    InternalError,
    /// The request names a host the relay does not serve (421).
    HostNotAllowed,
    /// The relay is at a limit of its own (connections, memory); with
    /// `Retry-After` (503).
    Busy,
    /// Access changes are off in this relay (403).
    ChangesDisabled,
    /// The caller is not in the role that may change access (403).
    ChangesNotAllowed,
    /// A change may or may not have reached Adapty: look the customer up
    /// again before trying anything else (504).
    OutcomeUnknown,
    /// The app has no (paid) access level of this ID.
    AccessLevelUnknown,
    /// The customer has no such access level to revoke.
    AccessLevelNotHeld,
    /// The revoke date is later than the access level's current end.
    RevokeAfterExpiry,
    /// The revoke date is in the past.
    RevokeInPast,
    /// The request names an app this relay does not serve (400).
    UnknownApp,
    /// The relay cannot write its audit log, so it neither looks up nor
    /// changes anything until it can (503).
    AuditUnavailable,
    /// The relay keeps no store: search and events are not set up (404).
    StoreNotConfigured,
    /// The relay's store cannot be read or written just now (503).
    StoreUnavailable,
}

impl ErrorCode {
    /// Every code, for tests that must cover them all.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::ProfileNotFound,
        ErrorCode::RelayMisconfigured,
        ErrorCode::RateLimited,
        ErrorCode::UpstreamError,
        ErrorCode::UpstreamTooLarge,
        ErrorCode::UpstreamTimeout,
        ErrorCode::InternalError,
        ErrorCode::HostNotAllowed,
        ErrorCode::Busy,
        ErrorCode::ChangesDisabled,
        ErrorCode::ChangesNotAllowed,
        ErrorCode::OutcomeUnknown,
        ErrorCode::AccessLevelUnknown,
        ErrorCode::AccessLevelNotHeld,
        ErrorCode::RevokeAfterExpiry,
        ErrorCode::RevokeInPast,
        ErrorCode::UnknownApp,
        ErrorCode::AuditUnavailable,
        ErrorCode::StoreNotConfigured,
        ErrorCode::StoreUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::ProfileNotFound => "profile_not_found",
            ErrorCode::RelayMisconfigured => "relay_misconfigured",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::UpstreamError => "upstream_error",
            ErrorCode::UpstreamTooLarge => "upstream_too_large",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::Busy => "busy",
            ErrorCode::ChangesDisabled => "changes_disabled",
            ErrorCode::ChangesNotAllowed => "changes_not_allowed",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
            ErrorCode::AccessLevelUnknown => "access_level_unknown",
            ErrorCode::AccessLevelNotHeld => "access_level_not_held",
            ErrorCode::RevokeAfterExpiry => "revoke_after_expiry",
            ErrorCode::RevokeInPast => "revoke_in_past",
            ErrorCode::UnknownApp => "unknown_app",
            ErrorCode::AuditUnavailable => "audit_unavailable",
            ErrorCode::StoreNotConfigured => "store_not_configured",
            ErrorCode::StoreUnavailable => "store_unavailable",
        }
    }

    /// The code of this name; `None` for one this build does not know (a
    /// newer relay), which the panel reports as an unexpected answer.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself_and_names_are_unique() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
