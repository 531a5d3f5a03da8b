//! Serving the built panel: the one built into the binary, or a folder's.
//!
//! A path whose last segment has an extension names a file: it is served
//! only if it is one of the panel's files (in a folder: a regular file
//! inside it, no symlink leading out; never a dotfile), else it is a 404
//! nobody keeps. Any other path is one of the panel's pages: index.html
//! (from a folder, read for each request: it is about a kilobyte), with a
//! policy allowing exactly its inline start-up script, so a panel deployed
//! under a running relay runs at once.

use crate::built_panel;
use crate::security_headers::policy;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The built panel: where its files come from.
#[derive(Clone)]
pub enum Panel {
    /// Built into the binary (`built_panel`).
    BuiltIn,
    /// A folder, and its files.
    Folder { dir: PathBuf, files: ServeDir },
}

impl Panel {
    /// `--static-dir` when given; else the panel built in; else `dist`.
    pub fn new(static_dir: Option<&Path>) -> Panel {
        match static_dir {
            None if built_panel::present() => Panel::BuiltIn,
            given => {
                let dir = given.unwrap_or(Path::new(built_panel::DEFAULT_DIR));
                // `cargo xtask` writes .br and .gz beside each built file, compressed
                // once at the highest level; everything else is compressed per response.
                Panel::Folder {
                    files: ServeDir::new(dir).precompressed_br().precompressed_gzip(),
                    dir: dir.to_owned(),
                }
            }
        }
    }
}

/// Whether `path` (decoded, relative) and its precompressed siblings
/// are regular files inside `dir`, symlinks resolved (the folder's own
/// too, each time: a deploy may swap a symlink to it).
async fn holds(dir: &Path, path: &str) -> bool {
    let Ok(real_dir) = tokio::fs::canonicalize(dir).await else {
        return false;
    };
    let real_dir = &real_dir;
    let file = dir.join(path);
    let inside = |candidate: PathBuf| async move {
        match tokio::fs::canonicalize(&candidate).await {
            Ok(real) => {
                real.starts_with(real_dir)
                    && tokio::fs::metadata(&real)
                        .await
                        .is_ok_and(|meta| meta.is_file())
            }
            Err(_) => false,
        }
    };
    if !inside(file.clone()).await {
        return false;
    }
    for suffix in ["br", "gz"] {
        let sibling = PathBuf::from(format!("{}.{suffix}", file.display()));
        if tokio::fs::symlink_metadata(&sibling).await.is_ok() && !inside(sibling).await {
            return false;
        }
    }
    true
}

/// Everything that is not the API: a file of the panel, or its page.
pub async fn serve(State(panel): State<Panel>, request: Request) -> Response {
    let Ok(path) = percent_encoding::percent_decode_str(request.uri().path()).decode_utf8() else {
        return not_found();
    };
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    if segments.iter().any(|segment| segment.starts_with('.')) {
        return not_found();
    }
    let names_a_file = segments.last().is_some_and(|last| last.contains('.'));
    let path = segments.join("/");
    if !names_a_file || path == "index.html" {
        return match &panel {
            Panel::BuiltIn => built_in_page(),
            Panel::Folder { dir, .. } => page(dir).await,
        };
    }
    let response = match panel {
        Panel::BuiltIn => match built_in_file(&path, request.method(), request.headers()) {
            Some(response) => response,
            None => return not_found(),
        },
        Panel::Folder { dir, files } => {
            if !holds(&dir, &path).await {
                return not_found();
            }
            let Ok(response) = files.oneshot(request).await;
            response.map(Body::new)
        }
    };
    cached(response, &path)
}

/// A file's caching, decided here, where it is known that a file (not the
/// page) is the answer: Trunk's hashed assets never change; anything else
/// is revalidated.
fn cached(mut response: Response, path: &str) -> Response {
    let cache = if response.status().is_success() && is_hashed_asset(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The built-in page, with its policy.
fn built_in_page() -> Response {
    match built_panel::file("index.html") {
        Some(file) => page_of(String::from_utf8_lossy(file.bytes).into_owned()),
        None => not_found(),
    }
}

/// A built-in file, if there is one at `path`, in the best encoding the
/// client takes that the build has (`cargo xtask` writes `.br` and `.gz`
/// beside each file), as a folder's would be: its type, `Vary`, and an
/// `ETag` for revalidation.
fn built_in_file(path: &str, method: &Method, request: &HeaderMap) -> Option<Response> {
    let identity = built_panel::file(path)?;
    if method != Method::GET && method != Method::HEAD {
        let allow = [(header::ALLOW, "GET, HEAD")];
        return Some((StatusCode::METHOD_NOT_ALLOWED, allow).into_response());
    }
    let accepted = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let (file, encoding) = ["br", "gzip"]
        .into_iter()
        .filter(|encoding| accepts(accepted, encoding))
        .find_map(|encoding| {
            let suffix = if encoding == "gzip" { "gz" } else { encoding };
            built_panel::file(&format!("{path}.{suffix}")).map(|file| (file, Some(encoding)))
        })
        .unwrap_or((identity, None));
    let tag = format!(
        "\"{}\"",
        file.sha256[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    let kind = media_type(path);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, kind);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    let tag = HeaderValue::try_from(tag).expect("hex digits are ASCII");
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|one| one.trim() == tag));
    headers.insert(header::ETAG, tag);
    if unchanged {
        return Some((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let body = Body::from(bytes::Bytes::from_static(file.bytes));
    Some((headers, body).into_response())
}

/// Whether an `Accept-Encoding` value takes `encoding`: named without
/// `q=0`, or else `*` without it.
fn accepts(accepted: &str, encoding: &str) -> bool {
    let mut any = false;
    for item in accepted.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let taken = !parts.any(|parameter| {
            parameter
                .strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case(encoding) {
            return taken;
        }
        if name == "*" {
            any = taken;
        }
    }
    any
}

/// The type a folder's file would be served with (tower-http guesses with
/// the same crate).
fn media_type(path: &str) -> HeaderValue {
    let guess = mime_guess::from_path(path).first_or_octet_stream();
    HeaderValue::try_from(guess.as_ref()).expect("a media type is ASCII")
}

/// A folder's index.html as it is now, with its policy.
async fn page(dir: &Path) -> Response {
    let Ok(html) = tokio::fs::read_to_string(dir.join("index.html")).await else {
        tracing::warn!(dir = %dir.display(), "no built panel here; build it with `cargo xtask demo`");
        return not_found();
    };
    page_of(html)
}

/// index.html with the policy that lets its scripts run.
fn page_of(html: String) -> Response {
    let hashes: String = inline_scripts(&html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    let policy = HeaderValue::try_from(policy(&hashes)).expect("the policy is ASCII");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, policy),
            // Revalidated, so a deploy shows at once.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        html,
    )
        .into_response()
}

/// A missing file: not the page (a CDN would keep a page served for a
/// missing hashed asset for a year), and kept by no one.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        "not found\n",
    )
        .into_response()
}

/// The bodies of `<script>` elements without `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

/// Trunk names assets `name-<16 hex digits>.ext`.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _extension)) = file.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 12 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let html = r#"<head><script src="/x.js"></script><script type="module">
import init from './a.js';
</script></head>"#;
        let scripts: Vec<_> = inline_scripts(html).collect();
        assert_eq!(scripts, ["\nimport init from './a.js';\n"]);
    }

    #[test]
    fn an_encoding_is_taken_when_named_or_by_star_and_never_with_q_0() {
        for (accepted, br) in [
            ("gzip, deflate, br, zstd", true),
            ("BR", true),
            ("br;q=0.5", true),
            ("gzip", false),
            ("", false),
            ("br;q=0, gzip", false),
            ("br; q=0.0", false),
            ("*", true),
            ("br;q=0, *", false),
            ("*;q=0, br", true),
        ] {
            assert_eq!(accepts(accepted, "br"), br, "{accepted:?}");
        }
    }

    #[test]
    fn hashed_assets_are_recognised() {
        assert!(is_hashed_asset("/adapty-lookup-2c0145a320fb4362_bg.wasm"));
        assert!(is_hashed_asset("/adapty-lookup-2c0145a320fb4362.js"));
        assert!(is_hashed_asset("/main-fe655277b84a9998.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/customer-42"));
        assert!(
            !is_hashed_asset("/x-0123456789abcdef"),
            "no extension: no file"
        );
    }
}
