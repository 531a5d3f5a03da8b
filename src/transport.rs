//! Talks to the relay. The relay lives beside the panel, so the path is
//! relative and one build works under any host and path prefix.

use crate::error::LookupError;
use crate::lookup::Lookup;
use crate::model::{Envelope, Profile};
use serde::Deserialize;

/// Turns the relay's answer into a profile or an error the admin can act on.
pub fn read_response(
    lookup: &Lookup,
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> Result<Profile, LookupError> {
    if status == 200 {
        Envelope::parse(body).map_err(|error| {
            LookupError::Unexpected(format!(
                "the profile did not have the expected shape: {error}"
            ))
        })
    } else {
        Err(LookupError::from_relay(status, body, lookup, retry_after))
    }
}

/// What the relay tells the panel at start (`GET api/session`); the panel
/// uses only the dashboard link.
#[derive(Deserialize)]
struct Session {
    #[serde(default)]
    dashboard_profile_url: Option<String>,
}

/// The dashboard link template from the session's body, if the operator set one.
pub fn read_session(body: &str) -> Option<String> {
    serde_json::from_str::<Session>(body)
        .ok()?
        .dashboard_profile_url
        .filter(|url| url.contains("{profile_id}"))
}

/// The session, asked once at start. Any failure means no link, never an
/// error on screen: the lookup will say what is wrong, if anything is.
#[cfg(target_arch = "wasm32")]
pub async fn fetch_dashboard_link() -> Option<String> {
    let response = gloo_net::http::Request::get(protocol::path::SESSION)
        .header(protocol::CSRF_HEADER, protocol::CSRF_VALUE)
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    read_session(&response.text().await.ok()?)
}

/// A found profile with the exact body it came in, for the raw view and download.
pub struct Fetched {
    pub profile: Profile,
    pub body: String,
}

#[cfg(target_arch = "wasm32")]
pub async fn fetch_profile(lookup: &Lookup) -> Result<Fetched, LookupError> {
    use gloo_net::http::Request;

    let network = |error: gloo_net::Error| {
        let online = web_sys::window().is_none_or(|window| window.navigator().on_line());
        if online {
            LookupError::Network(error.to_string())
        } else {
            LookupError::Offline
        }
    };
    let response = Request::get(protocol::path::PROFILE)
        .query([(lookup.kind.param(), lookup.id.as_str())])
        // Proves to the relay that this is the panel's own script, not a
        // cross-site form or link.
        .header(protocol::CSRF_HEADER, protocol::CSRF_VALUE)
        .send()
        .await
        .map_err(network)?;
    let retry_after = response.headers().get("retry-after");
    let body = response.text().await.map_err(network)?;
    crate::browser::mark("lookup:response");
    let profile = read_response(lookup, response.status(), &body, retry_after.as_deref())?;
    Ok(Fetched { profile, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::IdKind;

    fn lookup() -> Lookup {
        Lookup {
            kind: IdKind::CustomerUserId,
            id: "u".into(),
        }
    }

    #[test]
    fn a_200_is_parsed_into_the_profile() {
        let profile =
            read_response(&lookup(), 200, include_str!("../fixtures/seed.json"), None).unwrap();
        assert_eq!(profile.subscriptions.len(), 2);
    }

    #[test]
    fn the_session_gives_the_dashboard_link_or_nothing() {
        let body = r#"{"actor":"a@b.c","dashboard_profile_url":"https://x.test/{profile_id}"}"#;
        assert_eq!(
            read_session(body).as_deref(),
            Some("https://x.test/{profile_id}")
        );
        for nothing in [
            r#"{"actor":"a","dashboard_profile_url":null}"#,
            r#"{"actor":"a"}"#,
            r#"{"dashboard_profile_url":"https://x.test/no-place-for-the-id"}"#,
            "<html>",
            "",
        ] {
            assert_eq!(read_session(nothing), None, "{nothing}");
        }
    }

    #[test]
    fn a_200_that_is_not_a_profile_says_so() {
        let error = read_response(&lookup(), 200, "<html></html>", None).unwrap_err();
        assert!(matches!(error, LookupError::Unexpected(ref m) if m.contains("expected shape")));
    }
}
