//! Talks to the relay. The relay lives beside the panel, so the path is
//! relative and one build works under any host and path prefix.

#[cfg(target_arch = "wasm32")]
use crate::change::Failure;
use crate::error::{is_sign_in_page, LookupError};
use crate::feed::Feed;
use crate::lookup::{IdKind, Lookup};
use crate::model::{Envelope, Loose, Profile};
#[cfg(target_arch = "wasm32")]
use protocol::feed::{EventsPage, SearchAnswer};
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

/// The relay's answer from its store (a search, a page of events): its
/// JSON object, which `search::read_answer` and `feed::read_page` read in
/// protocol's shapes, or an error the admin can act on. `asked` is what
/// was searched, or the profile ID. One copy in the wasm for both.
pub fn read_store(
    asked: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
    retry_after: Option<&str>,
) -> Result<Loose, LookupError> {
    if is_sign_in_page(status, content_type) {
        return Err(LookupError::SignInExpired);
    }
    if status == 200 {
        return match serde_json::from_str::<Loose>(body) {
            Ok(json @ Loose::Object(_)) => Ok(json),
            _ => Err(LookupError::Unexpected(
                "the answer did not have the expected shape".into(),
            )),
        };
    }
    let asked = Lookup {
        kind: IdKind::CustomerUserId,
        id: asked.into(),
        app: String::new(),
    };
    Err(LookupError::from_relay(status, body, &asked, retry_after))
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

/// Sends a call that changes something (an access change, a correction,
/// an erasure), its JSON `body` written by `Loose::to_json`: the answer's
/// status, content type and body, which `change::read_answer` and
/// `erasure::read_answer` read, or the failure. Once sent, an answer that
/// does not arrive is an unknown outcome.
#[cfg(target_arch = "wasm32")]
pub async fn post(path: &str, body: String) -> Result<(u16, Option<String>, String), Failure> {
    read_whole(send_post(path, body).await?).await
}

/// Sends a `POST` of JSON `body` (a change, or a bulk run): the response,
/// unless it is the proxy's redirect to its sign-in.
#[cfg(target_arch = "wasm32")]
async fn send_post(path: &str, body: String) -> Result<gloo_net::http::Response, Failure> {
    let request = gloo_net::http::Request::post(path)
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
    Ok(response)
}

/// The answer's status, content type and whole body.
#[cfg(target_arch = "wasm32")]
async fn read_whole(
    response: gloo_net::http::Response,
) -> Result<(u16, Option<String>, String), Failure> {
    let content_type = response.headers().get("content-type");
    let body = response.text().await.map_err(|_| Failure::OutcomeUnknown)?;
    Ok((response.status(), content_type, body))
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// The reader of the bulk run's answer on its way: cancelling it ends
    /// the request, and the relay stops the run.
    static BULK_READER: std::cell::RefCell<Option<wasm_bindgen::JsValue>> =
        const { std::cell::RefCell::new(None) };
}

/// A bulk run (`protocol::bulk`): posts `body`, and hands each chunk of
/// whole NDJSON lines of the answer to `on_lines` as it comes, until the
/// answer ends, breaks off, `stop_bulk` ends it, or it is no longer
/// `wanted` (paused or cancelled, perhaps before the relay answered).
/// `Err`: the relay refused the run (nothing was checked), or it could
/// not be sent.
#[cfg(target_arch = "wasm32")]
pub async fn bulk(
    body: String,
    wanted: impl Fn() -> bool,
    mut on_lines: impl FnMut(&str),
) -> Result<(), Failure> {
    use crate::browser::{call, settled};
    let response = send_post(protocol::path::BULK, body).await?;
    let html = response
        .headers()
        .get("content-type")
        .is_some_and(|kind| kind.starts_with("text/html"));
    if response.status() != 200 || html {
        let (status, content_type, text) = read_whole(response).await?;
        return Err(crate::change::refusal(
            status,
            content_type.as_deref(),
            &text,
        ));
    }
    let Some(reader) = response
        .body()
        .and_then(|stream| call(&stream, "getReader"))
    else {
        return Ok(());
    };
    BULK_READER.set(Some(reader.clone()));
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if !wanted() {
            // Pause or Cancel pressed before the relay answered found no
            // reader to cancel: the request ends here, and so the run.
            let _ = call(&reader, "cancel");
            break;
        }
        let Some(chunk) = settled(call(&reader, "read")).await else {
            break;
        };
        let field = |name: &str| js_sys::Reflect::get(&chunk, &name.into()).unwrap_or_default();
        if field("done").is_truthy() {
            break;
        }
        pending.extend(js_sys::Uint8Array::new(&field("value")).to_vec());
        if let Some(end) = pending.iter().rposition(|&byte| byte == b'\n') {
            let rest = pending.split_off(end + 1);
            // Cut after a line break, so never inside a character.
            on_lines(std::str::from_utf8(&pending).unwrap_or_default());
            pending = rest;
        }
    }
    Ok(())
}

/// Ends the bulk run's request, if one is on its way.
#[cfg(target_arch = "wasm32")]
pub fn stop_bulk() {
    if let Some(reader) = BULK_READER.take() {
        let _ = crate::browser::call(&reader, "cancel");
    }
}

/// A found profile with the exact body it came in, for the raw view and
/// download, the app it is a customer of, when it arrived (the page stays
/// open while its answer ages), and its events in the relay's store (what
/// support did is marked on its access levels: `add_feed`).
pub struct Fetched {
    pub profile: Profile,
    pub body: String,
    pub app: SessionApp,
    pub received: chrono::DateTime<chrono::Utc>,
    pub feed: Feed,
}

/// A call that did not reach the relay: offline, or the network failed.
#[cfg(target_arch = "wasm32")]
fn network(error: gloo_net::Error) -> LookupError {
    let online = web_sys::window().is_none_or(|window| window.navigator().on_line());
    if online {
        LookupError::Network(error.to_string())
    } else {
        LookupError::Offline
    }
}

/// A `GET` of the relay's store: its JSON, or the failure. An empty
/// parameter is left out (the app, with one app).
#[cfg(target_arch = "wasm32")]
async fn get_store(path: &str, params: &[(&str, &str)], asked: &str) -> Result<Loose, LookupError> {
    let mut request = api_get(path);
    for &(name, value) in params.iter().filter(|(_, value)| !value.is_empty()) {
        request = request.query([(name, value)]);
    }
    let response = request.send().await.map_err(network)?;
    if is_redirect(&response) {
        return Err(LookupError::SignInExpired);
    }
    let headers = response.headers();
    let body = response.text().await.map_err(network)?;
    read_store(
        asked,
        response.status(),
        headers.get("content-type").as_deref(),
        &body,
        headers.get("retry-after").as_deref(),
    )
}

/// Customers whose email, transaction ID or ID is `text`.
#[cfg(target_arch = "wasm32")]
pub async fn search(app: &str, text: &str) -> Result<SearchAnswer, LookupError> {
    let params = [(protocol::param::APP, app), (protocol::param::QUERY, text)];
    let json = get_store(protocol::path::SEARCH, &params, text).await?;
    Ok(crate::search::read_answer(&json))
}

/// A page of a customer's events: the newest, or the one `before` names.
#[cfg(target_arch = "wasm32")]
pub async fn events(app: &str, profile_id: &str, before: &str) -> Result<EventsPage, LookupError> {
    let params = [
        (protocol::param::APP, app),
        (protocol::param::PROFILE_ID, profile_id),
        (protocol::param::BEFORE, before),
    ];
    let json = get_store(protocol::path::EVENTS, &params, profile_id).await?;
    Ok(crate::feed::read_page(&json))
}

/// A customer's notes: the page's JSON, its notes newest first
/// (`notes::of_page`).
#[cfg(target_arch = "wasm32")]
pub async fn notes(app: &str, profile_id: &str) -> Result<Loose, LookupError> {
    let params = [
        (protocol::param::APP, app),
        (protocol::param::PROFILE_ID, profile_id),
    ];
    get_store(protocol::path::NOTES, &params, profile_id).await
}

/// The customer's newest events, when the relay keeps a store, and what
/// support did marked on the access levels it still explains.
#[cfg(target_arch = "wasm32")]
pub async fn add_feed(fetched: &mut Fetched, store: bool) {
    if !store {
        return;
    }
    fetched.feed = match events(&fetched.app.id, &fetched.profile.profile_id, "").await {
        Ok(page) => {
            crate::support::attribute(&mut fetched.profile, &page.events);
            Feed::Page(page)
        }
        Err(error) => Feed::Failed(error),
    };
}

#[cfg(target_arch = "wasm32")]
pub async fn fetch_profile(lookup: &Lookup) -> Result<Fetched, LookupError> {
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
        feed: Feed::NotConnected,
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

    #[test]
    fn the_stores_answers_are_read_in_protocols_shapes_and_its_codes_understood() {
        use crate::{feed::read_page, search::read_answer};
        let answered = |status, content_type, body: &str, retry_after| {
            read_store("x", status, content_type, body, retry_after)
        };
        let answer = read_answer(&answered(200, JSON, r#"{"matches":[{"profile_id":"p","matched":"email","last_seen_at":"2026-11-28T00:00:00Z"}],"indexed_since":null}"#, None).unwrap());
        assert_eq!(answer.matches[0].profile_id, "p");
        let page = read_page(&answered(200, JSON, r#"{"events":[{"id":"e","source":"adapty","type":"x_new","at":"2026-11-28T00:00:00Z","other":{"k":"1"}}],"next":"c"}"#, None).unwrap());
        assert_eq!(
            (page.events[0].kind.as_str(), page.next.as_deref()),
            ("x_new", Some("c"))
        );
        let off = answered(
            404,
            JSON,
            r#"{"error":{"code":"store_not_configured","message":"no store"}}"#,
            None,
        );
        assert_eq!(off.unwrap_err(), LookupError::SearchNotSetUp);
        let down = answered(
            503,
            JSON,
            r#"{"error":{"code":"store_unavailable","message":"store down"}}"#,
            Some("5"),
        );
        assert_eq!(down.unwrap_err(), LookupError::StoreUnavailable);
        let html = Some("text/html");
        assert_eq!(
            answered(200, html, "<html>", None).unwrap_err(),
            LookupError::SignInExpired
        );
        for odd in ["[]", "null", "{"] {
            assert!(
                matches!(
                    answered(200, JSON, odd, None).unwrap_err(),
                    LookupError::Unexpected(_)
                ),
                "{odd}"
            );
        }
    }
}
