//! Talks to the relay. The relay lives beside the panel, so the path is
//! relative and one build works under any host and path prefix.

#[cfg(target_arch = "wasm32")]
use crate::change::{self, Failure, Plan};
use crate::error::{is_sign_in_page, LookupError};
use crate::lookup::Lookup;
use crate::model::{Envelope, Profile};
use protocol::session::SessionApp;

/// Turns the relay's answer into a profile or an error the admin can act on.
pub fn read_response(
    lookup: &Lookup,
    status: u16,
    content_type: Option<&str>,
    body: &str,
    retry_after: Option<&str>,
) -> Result<Profile, LookupError> {
    if is_sign_in_page(status, content_type) {
        return Err(LookupError::SignInExpired);
    }
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

/// Every call to the relay: the header that proves it is the panel's own
/// script, JSON asked for, and redirects not followed. Behind an SSO proxy a
/// redirect means the sign-in expired; followed, it would be blocked by the
/// page's `connect-src 'self'` and read as a network failure.
#[cfg(target_arch = "wasm32")]
fn api_get(path: &str) -> gloo_net::http::RequestBuilder {
    gloo_net::http::Request::get(path)
        .header(protocol::CSRF_HEADER, protocol::CSRF_VALUE)
        .header("accept", "application/json")
        .redirect(web_sys::RequestRedirect::Manual)
}

/// A redirect the browser did not follow: the proxy sent the call to sign in.
#[cfg(target_arch = "wasm32")]
fn is_redirect(response: &gloo_net::http::Response) -> bool {
    response.type_() == web_sys::ResponseType::Opaqueredirect
}

/// The session, asked once at start. Any failure means no link and no
/// changes, never an error on screen: the lookup will say what is wrong.
#[cfg(target_arch = "wasm32")]
pub async fn fetch_session() -> protocol::session::Session {
    let Ok(response) = api_get(protocol::path::SESSION).send().await else {
        return Default::default();
    };
    if !response.ok() || is_redirect(&response) {
        return Default::default();
    }
    crate::session::read(&response.text().await.unwrap_or_default())
}

/// Sends a change; the profile after it, with its body, or the failure.
/// Once sent, an answer that does not arrive is an unknown outcome.
#[cfg(target_arch = "wasm32")]
pub async fn send_change(plan: &Plan) -> Result<Fetched, Failure> {
    // The browser's own JSON writer: every value is a string.
    let body = js_sys::Object::new();
    for (name, value) in &plan.fields {
        let _ = js_sys::Reflect::set(&body, &(*name).into(), &value.as_str().into());
    }
    let body = js_sys::JSON::stringify(&body).map_err(|_| Failure::OutcomeUnknown)?;
    let request = gloo_net::http::Request::post(plan.path)
        .header(protocol::CSRF_HEADER, protocol::CSRF_VALUE)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .redirect(web_sys::RequestRedirect::Manual)
        .body(body)
        .map_err(|_| Failure::OutcomeUnknown)?;
    let response = request.send().await.map_err(|_| Failure::OutcomeUnknown)?;
    if is_redirect(&response) {
        return Err(Failure::SignInExpired);
    }
    let content_type = response.headers().get("content-type");
    let body = response.text().await.map_err(|_| Failure::OutcomeUnknown)?;
    let profile = change::read_answer(response.status(), content_type.as_deref(), &body)?;
    Ok(Fetched {
        profile,
        body,
        app: SessionApp::default(),
        received: crate::browser::clock(false).now,
    })
}

/// A found profile with the exact body it came in, for the raw view and
/// download, the app it is a customer of, and when it arrived (the page
/// stays open while its answer ages).
pub struct Fetched {
    pub profile: Profile,
    pub body: String,
    pub app: SessionApp,
    pub received: chrono::DateTime<chrono::Utc>,
}

#[cfg(target_arch = "wasm32")]
pub async fn fetch_profile(lookup: &Lookup) -> Result<Fetched, LookupError> {
    let network = |error: gloo_net::Error| {
        let online = web_sys::window().is_none_or(|window| window.navigator().on_line());
        if online {
            LookupError::Network(error.to_string())
        } else {
            LookupError::Offline
        }
    };
    let mut request = api_get(protocol::path::PROFILE);
    if !lookup.app.is_empty() {
        request = request.query([(protocol::param::APP, lookup.app.as_str())]);
    }
    let response = request
        .query([(lookup.kind.param(), lookup.id.as_str())])
        .send()
        .await
        .map_err(network)?;
    if is_redirect(&response) {
        return Err(LookupError::SignInExpired);
    }
    let headers = response.headers();
    let body = response.text().await.map_err(network)?;
    crate::browser::mark("lookup:response");
    let profile = read_response(
        lookup,
        response.status(),
        headers.get("content-type").as_deref(),
        &body,
        headers.get("retry-after").as_deref(),
    )?;
    Ok(Fetched {
        profile,
        body,
        app: SessionApp::default(),
        received: crate::browser::clock(false).now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::IdKind;

    const JSON: Option<&str> = Some("application/json");

    fn lookup() -> Lookup {
        Lookup {
            kind: IdKind::CustomerUserId,
            id: "u".into(),
            app: String::new(),
        }
    }

    #[test]
    fn a_200_is_parsed_into_the_profile() {
        let profile = read_response(
            &lookup(),
            200,
            JSON,
            include_str!("../fixtures/seed.json"),
            None,
        )
        .unwrap();
        assert_eq!(profile.subscriptions.len(), 2);
    }

    #[test]
    fn a_200_that_is_not_a_profile_says_so() {
        let error = read_response(&lookup(), 200, JSON, "<html></html>", None).unwrap_err();
        assert!(matches!(error, LookupError::Unexpected(ref m) if m.contains("expected shape")));
    }

    #[test]
    fn the_proxys_sign_in_page_means_the_sign_in_expired() {
        let html = Some("text/html; charset=utf-8");
        for status in [200, 401, 403] {
            let error = read_response(&lookup(), status, html, "<html>Sign in</html>", None);
            assert_eq!(error.unwrap_err(), LookupError::SignInExpired, "{status}");
        }
        // A bare 401 from the proxy, without a body the panel can read.
        let bare = read_response(&lookup(), 401, None, "", None).unwrap_err();
        assert_eq!(bare, LookupError::SignInExpired);
        // A gateway's error page is the relay being down, not the sign-in.
        let gateway = read_response(&lookup(), 502, html, "<html>Bad Gateway</html>", None);
        assert!(matches!(gateway.unwrap_err(), LookupError::Network(_)));
    }
}
