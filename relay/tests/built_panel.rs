//! The panel built into the relay (feature `embed-panel`), as an admin's
//! browser and an operator see it: the same page policy, files, encodings
//! and caching as from a folder, `--static-dir` still winning, and
//! `relay --version` naming the build. `cargo xtask test` runs these once
//! it has built `dist/`; without the feature this file is empty.
#![cfg(feature = "embed-panel")]

mod common;

use base64::Engine;
use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist")
}

/// The files the panel build wrote, without their precompressed copies.
fn built_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dist())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.ends_with(".br") && !name.ends_with(".gz"))
        .collect();
    names.sort();
    names
}

/// A relay without `--static-dir`: it serves what is built in.
async fn built_in_relay() -> String {
    let (upstream, _) = recording_upstream().await;
    let mut config = config(&upstream, KEY);
    config.static_dir = None;
    start(config).await.url
}

#[tokio::test]
async fn the_page_allows_exactly_the_start_up_script_of_the_built_index_html() {
    let relay = built_in_relay().await;
    let html = std::fs::read_to_string(dist().join("index.html")).unwrap();
    let script = html
        .split("<script type=module>")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("Trunk's inline start-up script");
    let hash = format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    );
    for path in ["/", "/index.html", "/customers/42"] {
        let response = reqwest::get(format!("{relay}{path}")).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains(&hash), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(response.text().await.unwrap(), html, "{path}");
    }
}

#[tokio::test]
async fn every_built_file_is_served_as_built_in_the_encoding_the_browser_takes() {
    let relay = built_in_relay().await;
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    // The page is read as text, for its policy, and goes as it is (1 KB).
    for name in built_files()
        .into_iter()
        .filter(|name| name != "index.html")
    {
        for (accepted, suffix, encoding) in [
            ("gzip, deflate, br, zstd", ".br", Some("br")),
            ("gzip", ".gz", Some("gzip")),
            ("br;q=0, gzip", ".gz", Some("gzip")),
            ("identity", "", None),
        ] {
            let response = client
                .get(format!("{relay}/{name}"))
                .header("accept-encoding", accepted)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{name} ({accepted})");
            let headers = response.headers().clone();
            assert_eq!(
                headers.get("content-encoding").map(|v| v.to_str().unwrap()),
                encoding,
                "{name} ({accepted})"
            );
            let body = response.bytes().await.unwrap();
            let built = std::fs::read(dist().join(format!("{name}{suffix}"))).unwrap();
            assert!(body == built, "{name}{suffix}: not the built bytes");
            let kind = headers["content-type"].to_str().unwrap();
            let expected = match name.rsplit('.').next().unwrap() {
                "wasm" => "application/wasm",
                "js" => "text/javascript",
                "css" => "text/css",
                other => panic!("an unexpected file in the panel: {other}"),
            };
            assert!(kind.starts_with(expected), "{name}: {kind}");
            assert_eq!(
                headers["cache-control"], "public, max-age=31536000, immutable",
                "{name}: Trunk's hashed names never change"
            );
            assert_eq!(headers["vary"], "accept-encoding", "{name}");
            assert!(
                !headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("sha256-"),
                "{name}: no script runs from a file"
            );
        }
    }
}

#[tokio::test]
async fn a_file_the_browser_has_is_not_sent_again() {
    let relay = built_in_relay().await;
    let css = built_files()
        .into_iter()
        .find(|name| name.ends_with(".css"))
        .unwrap();
    let url = format!("{relay}/{css}");
    let first = reqwest::get(&url).await.unwrap();
    let tag = first.headers()["etag"].clone();
    let again = client()
        .get(&url)
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_file_or_a_dotfile_is_a_404_kept_nowhere() {
    let relay = built_in_relay().await;
    for path in [
        "/missing-0123456789abcdef.js",
        "/favicon.ico",
        "/.env",
        "/%2eenv",
        "/index.html.gz/x.js",
    ] {
        let response = reqwest::get(format!("{relay}{path}")).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn a_static_dir_is_served_instead_of_the_panel_built_in() {
    let (upstream, _) = recording_upstream().await;
    let relay = start(config(&upstream, KEY)).await.url;
    let page = reqwest::get(format!("{relay}/")).await.unwrap();
    assert!(page.text().await.unwrap().contains("<title>panel</title>"));
    let built = built_files()
        .into_iter()
        .find(|name| name.ends_with(".css"));
    let response = reqwest::get(format!("{relay}/{}", built.unwrap()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "only the folder's files");
}

#[test]
fn the_version_names_the_panel_build_it_carries() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(output.stdout).unwrap();
    let build = relay::built_panel::build().expect("a panel is built in");
    assert_eq!(
        version.trim(),
        format!(
            "relay {} (panel {build} built in)",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(build.len(), 16);
}
