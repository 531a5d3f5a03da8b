//! Talks to the relay. The relay lives beside the panel, so the path is
//! relative and one build works under any host and path prefix.

use crate::error::LookupError;
use crate::lookup::Lookup;
use crate::model::{Envelope, Profile};

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
    fn a_200_that_is_not_a_profile_says_so() {
        let error = read_response(&lookup(), 200, "<html></html>", None).unwrap_err();
        assert!(matches!(error, LookupError::Unexpected(ref m) if m.contains("expected shape")));
    }
}
