//! Serving the built panel.
//!
//! A path whose last segment has an extension names a file: it is served
//! only if it is a regular file inside the static folder (no symlink
//! leading out, no dotfile), else it is a 404 nobody keeps. Any other path
//! is one of the panel's pages: index.html, read for each request (it is
//! about a kilobyte), with a policy allowing exactly its inline start-up
//! script, so a panel deployed under a running relay runs at once.

use crate::security_headers::policy;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The built panel: its folder, and its files.
#[derive(Clone)]
pub struct Panel {
    dir: PathBuf,
    files: ServeDir,
}

impl Panel {
    pub fn new(static_dir: &Path) -> Panel {
        // `cargo xtask` writes .br and .gz beside each built file, compressed
        // once at the highest level; everything else is compressed per response.
        Panel {
            files: ServeDir::new(static_dir)
                .precompressed_br()
                .precompressed_gzip(),
            dir: static_dir.to_owned(),
        }
    }

    /// Whether `path` (decoded, relative) and its precompressed siblings
    /// are regular files inside the folder, symlinks resolved (the folder's
    /// own too, each time: a deploy may swap a symlink to it).
    async fn holds(&self, path: &str) -> bool {
        let Ok(dir) = tokio::fs::canonicalize(&self.dir).await else {
            return false;
        };
        let dir = &dir;
        let file = self.dir.join(path);
        let inside = |candidate: PathBuf| async move {
            match tokio::fs::canonicalize(&candidate).await {
                Ok(real) => {
                    real.starts_with(dir)
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
    if !names_a_file || segments == ["index.html"] {
        return page(&panel.dir).await;
    }
    if !panel.holds(&segments.join("/")).await {
        return not_found();
    }
    let hashed = is_hashed_asset(&path);
    let Ok(mut response) = panel.files.oneshot(request).await;
    // Decided here, where it is known that a file (not the page) is the answer:
    // Trunk's hashed assets never change; anything else is revalidated.
    let cache = if response.status().is_success() && hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response.map(Body::new)
}

/// index.html as it is now, with the policy that lets its scripts run.
async fn page(dir: &Path) -> Response {
    let Ok(html) = tokio::fs::read_to_string(dir.join("index.html")).await else {
        tracing::warn!(dir = %dir.display(), "no built panel here; build it with `cargo xtask demo`");
        return not_found();
    };
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
