//! The panel built into the binary, so a release relay is one file to
//! deploy: `cargo xtask` builds the panel into `dist/`, then the relay with
//! the feature `embed-panel`, which takes in every file there. Without the
//! feature nothing is built in and the relay serves a folder
//! (`--static-dir`, by default `dist`), as it always may.

/// The folder served when `--static-dir` names none and nothing is built in.
pub const DEFAULT_DIR: &str = "dist";

#[cfg(feature = "embed-panel")]
#[derive(rust_embed::Embed)]
#[folder = "../dist"]
struct Dist;

/// One built-in file: its bytes and the sha256 of them.
pub struct File {
    pub bytes: &'static [u8],
    pub sha256: [u8; 32],
}

/// The built-in file at `path` (relative, `/`-separated), if there is one.
pub fn file(path: &str) -> Option<File> {
    #[cfg(feature = "embed-panel")]
    {
        let file = Dist::get(path)?;
        // Always embedded (`debug-embed`), so always borrowed from the binary.
        let std::borrow::Cow::Borrowed(bytes) = file.data else {
            return None;
        };
        Some(File {
            bytes,
            sha256: file.metadata.sha256_hash(),
        })
    }
    #[cfg(not(feature = "embed-panel"))]
    {
        let _ = path;
        None
    }
}

/// Whether a panel is built in: its page is.
pub fn present() -> bool {
    file("index.html").is_some()
}

/// Names the build this binary carries: the first 16 hex digits of a
/// sha256 over its files' names and contents, in name order. The same
/// `dist/` gives the same name; `relay --version` prints it.
pub fn build() -> Option<String> {
    #[cfg(feature = "embed-panel")]
    {
        use sha2::{Digest, Sha256};
        let mut names: Vec<_> = Dist::iter().collect();
        names.sort();
        let mut digest = Sha256::new();
        for name in &names {
            let file = file(name)?;
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(file.sha256);
        }
        present().then(|| {
            digest.finalize()[..8]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        })
    }
    #[cfg(not(feature = "embed-panel"))]
    None
}

/// What `relay --version` says after the version number.
pub fn version() -> String {
    let panel = match build() {
        Some(build) => format!("panel {build} built in"),
        None => format!("no panel built in; serves --static-dir (default {DEFAULT_DIR})"),
    };
    format!("{} ({panel})", env!("CARGO_PKG_VERSION"))
}
