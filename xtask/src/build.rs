//! Release builds of the panel (Trunk, offline) and the relay.

use crate::compress;
use crate::run::{self, root, status, Result};
use crate::tools::PanelTools;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn panel(tools: &PanelTools) -> Result<PathBuf> {
    run::step("Panel: release build with Trunk");
    // Trunk runs cargo with --offline, so every crate must be here first.
    status(run::cargo().arg("fetch"))?;
    status(
        Command::new("trunk")
            .args(["build", "--release"])
            .current_dir(root())
            .env("PATH", &tools.path)
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                wasm_rustflags(),
            )
            // Trunk's cargo must not inherit the outer cargo's view of the xtask package.
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_PKG_NAME"),
    )?;
    let dist = root().join("dist");
    let finished = finish(&dist, tools);
    if finished.is_err() {
        // A half-rewritten panel (a renamed wasm beside the old script)
        // would not start: without its page, no relay builds it in
        // (`panel_feature`) and nothing serves it.
        let _ = std::fs::remove_file(dist.join("index.html"));
    }
    finished.map(|()| dist)
}

/// What follows Trunk, in `dist/`: the wasm optimised, the JavaScript
/// trimmed and minified, both files' names of imports and exports
/// shortened, the files named after what they hold, then precompressed.
fn finish(dist: &Path, tools: &PanelTools) -> Result {
    rewrite(dist, "wasm", |wasm| optimize_wasm(wasm, &tools.binaryen))?;
    let imported = wasm_imports(dist)?;
    rewrite(dist, "js", |js| {
        drop_unused_classes(js)?;
        drop_unused_imports(js, &imported)?;
        // Trunk's minifier cannot parse wasm-bindgen's JavaScript.
        status(
            Command::new(&tools.terser)
                .arg(js)
                .args(["--module", "--compress", "--mangle", "--output"])
                .arg(js),
        )
    })?;
    let renamed = std::cell::RefCell::new(Renamed::default());
    rewrite(dist, "wasm", |wasm| {
        *renamed.borrow_mut() = shorten_names(wasm)?;
        Ok(())
    })?;
    rewrite(dist, "js", |js| rename_in_js(js, &renamed.borrow()))?;
    name_by_content(dist)?;
    precompress(dist)
}

/// Trunk names the script and the wasm after a hash of cargo's wasm, taken
/// before `finish` rewrote them, and the relay keeps hashed names for a
/// year. So they are named again after a hash of what both hold now: a
/// browser never keeps an old script beside a new wasm whose imports are
/// named otherwise, when only this build changed.
fn name_by_content(dist: &Path) -> Result {
    use sha2::Digest;
    let index_path = dist.join("index.html");
    let wasm = built_files(dist)?
        .into_iter()
        .find(|path| path.to_string_lossy().ends_with("_bg.wasm"))
        .ok_or_else(|| format!("{}: no wasm", dist.display()))?;
    let name = wasm.file_name().unwrap_or_default().to_string_lossy();
    let old = name.trim_end_matches("_bg.wasm").to_owned();
    let stem = old
        .rsplit_once('-')
        .map(|(stem, _)| stem)
        .ok_or_else(|| format!("{}: not a hashed name", wasm.display()))?;
    let js = dist.join(format!("{old}.js"));
    let mut digest = sha2::Sha256::new();
    for file in [&js, &wasm] {
        digest.update(std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?);
    }
    let hash: String = digest.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let new = format!("{stem}-{hash}");
    let index = std::fs::read_to_string(&index_path).map_err(|error| error.to_string())?;
    if !index.contains(&old) {
        return Err(format!("index.html does not name {old}"));
    }
    for (from, to) in [
        (js, dist.join(format!("{new}.js"))),
        (wasm.clone(), dist.join(format!("{new}_bg.wasm"))),
    ] {
        std::fs::rename(&from, &to).map_err(|error| format!("{}: {error}", from.display()))?;
    }
    std::fs::write(&index_path, index.replace(&old, &new)).map_err(|error| error.to_string())
}

/// The names `shorten_names` gave, old and new.
#[derive(Default)]
struct Renamed {
    imports: Vec<(String, String)>,
    exports: Vec<(String, String)>,
}

/// wasm-bindgen names each function the wasm imports from its JavaScript
/// after a hash too (`__wbg_createElement_de4a31ed2fb252be`), and both
/// files carry every name: about 130 times 16 hex digits in each, which
/// brotli cannot shorten (3.1 KB together). Its exports carry long names
/// of closures' types too (0.3 KB). Both become `a`, `b`, … in the wasm
/// (the import and export sections written again by wasm-encoder) and
/// then in the JavaScript (`rename_in_js`). The memory keeps its name,
/// and the custom sections go (`target_features`, a splitting marker):
/// no browser reads them.
fn shorten_names(wasm: &Path) -> Result<Renamed> {
    use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
    use wasmparser::{Imports, Parser, Payload};
    let bytes = std::fs::read(wasm).map_err(|error| error.to_string())?;
    let invalid = |error: wasmparser::BinaryReaderError| format!("{}: {error}", wasm.display());
    let mut renamed = Renamed::default();
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload.map_err(invalid)?;
        match &payload {
            Payload::ImportSection(section) => {
                let mut imports = wasm_encoder::ImportSection::new();
                for group in section.clone() {
                    let Imports::Single(_, import) = group.map_err(invalid)? else {
                        return Err(format!(
                            "{}: compact imports are not expected",
                            wasm.display()
                        ));
                    };
                    let short = short_name(renamed.imports.len());
                    let ty = RoundtripReencoder
                        .entity_type(import.ty)
                        .map_err(|error| format!("{}: {error}", wasm.display()))?;
                    imports.import(import.module, &short, ty);
                    renamed.imports.push((import.name.to_owned(), short));
                }
                module.section(&imports);
            }
            Payload::ExportSection(section) => {
                let mut exports = wasm_encoder::ExportSection::new();
                for export in section.clone() {
                    let export = export.map_err(invalid)?;
                    let kind = RoundtripReencoder
                        .export_kind(export.kind)
                        .map_err(|error| format!("{}: {error}", wasm.display()))?;
                    let name = match export.name {
                        "memory" => export.name.to_owned(),
                        _ => short_name(renamed.exports.len()),
                    };
                    exports.export(&name, kind, export.index);
                    renamed.exports.push((export.name.to_owned(), name));
                }
                module.section(&exports);
            }
            Payload::CustomSection(_) => {}
            _ => {
                if let Some((id, range)) = payload.as_section() {
                    module.section(&wasm_encoder::RawSection {
                        id,
                        data: &bytes[range],
                    });
                }
            }
        }
    }
    std::fs::write(wasm, module.finish()).map_err(|error| error.to_string())?;
    Ok(renamed)
}

/// `a` … `z`, `A` … `Z`, then `aa`, `ba`, …: names no import object has
/// otherwise (its one other key is `__proto__`).
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = String::new();
    loop {
        name.push(LETTERS[index % LETTERS.len()] as char);
        index /= LETTERS.len();
        if index == 0 {
            return name;
        }
        index -= 1;
    }
}

/// Renames in the JavaScript what `shorten_names` renamed in the wasm:
/// each import is a key of the import object (`name:`), exactly once; each
/// export is read as a property of the instance's exports (`.name`), and
/// never otherwise. Anything else means wasm-bindgen's JavaScript changed
/// shape, and the build stops rather than ship a panel that cannot start.
fn rename_in_js(js: &Path, renamed: &Renamed) -> Result {
    let text = std::fs::read_to_string(js).map_err(|error| error.to_string())?;
    let mut text = rename_identifiers(&text, &renamed.imports, "", ":", |count| count == 1)
        .map_err(|old| format!("{}: the import {old} is not once a key", js.display()))?;
    text = rename_identifiers(&text, &renamed.exports, ".", "", |_| true)
        .map_err(|old| format!("{}: the export {old} is read otherwise", js.display()))?;
    std::fs::write(js, text).map_err(|error| error.to_string())
}

/// Replaces each old name, as a whole identifier, where `before` precedes
/// it and `after` follows; the old name must occur nowhere else, and
/// `count_ok` must accept how often it occurs. Returns the name that failed.
fn rename_identifiers(
    text: &str,
    names: &[(String, String)],
    before: &str,
    after: &str,
    count_ok: impl Fn(usize) -> bool,
) -> std::result::Result<String, String> {
    let identifier = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut text = text.to_owned();
    for (old, new) in names.iter().filter(|(old, new)| old != new) {
        let (mut kept, mut copied, mut count) = (String::new(), 0, 0);
        for (at, _) in text.match_indices(old.as_str()) {
            let (head, tail) = (&text[..at], &text[at + old.len()..]);
            if head.ends_with(identifier) || tail.starts_with(identifier) {
                continue;
            }
            if !head.ends_with(before) || !tail.starts_with(after) {
                return Err(old.clone());
            }
            kept.push_str(&text[copied..at]);
            kept.push_str(new);
            copied = at + old.len();
            count += 1;
        }
        kept.push_str(&text[copied..]);
        if !count_ok(count) {
            return Err(old.clone());
        }
        text = kept;
    }
    Ok(text)
}

/// The crates' sources named without this machine's registry directory:
/// the panic locations the wasm carries get shorter (the same bytes on
/// every machine, too); the functions named with their generic types; and
/// LLVM inlining only what costs nothing. Cargo adds these to
/// `.cargo/config.toml`'s flags for the wasm target.
fn wasm_rustflags() -> String {
    let registry = crate::tools::cargo_home().join("registry").join("src");
    let indexes = std::fs::read_dir(&registry).into_iter().flatten().flatten();
    let remaps = indexes.map(|index| format!("--remap-path-prefix={}=", index.path().display()));
    let flags = [
        // For `blank_dead_code`.
        "-C symbol-mangling-version=v0",
        // `opt-level = "z"` still lets LLVM inline what it deems small, and
        // each copy of a generic view function pulls more in; `wasm-opt`
        // inlines again after, by the size it can see. Threshold 0:
        // −1.0 KB brotli; 10: +2.3 KB; −10: −0.7 KB; 100: +27 KB
        // (docs/performance.md). Below 0, wasm-streams' dead code gets
        // called from live code, which `blank_dead_code` refuses.
        "-C llvm-args=-inline-threshold=0",
    ];
    remaps
        .chain(flags.map(str::to_owned))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Exports no code of the panel calls: wasm-streams' adapters between Rust
/// streams and the browser's, which Leptos links for server functions (the
/// panel has none). As exports they would stay, with all they reach:
/// 1.3 KB brotli. wasm-bindgen's JavaScript keeps classes for them that
/// nothing constructs; they only touch the wasm when used.
const UNUSED_EXPORTS: &str = "intounderlying";

/// Drops wasm-bindgen's JavaScript classes for the exports dropped from the
/// wasm, each from its `export class` line to the `Symbol.dispose` line
/// that ends it; terser then drops what only they used.
fn drop_unused_classes(js: &Path) -> Result {
    let text = std::fs::read_to_string(js).map_err(|error| error.to_string())?;
    let mut kept = String::with_capacity(text.len());
    let mut dropping = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("export class") && line.to_ascii_lowercase().contains(UNUSED_EXPORTS) {
            dropping = true;
        }
        if !dropping {
            kept.push_str(line);
        }
        if dropping && line.starts_with("if (Symbol.dispose)") {
            dropping = false;
        }
    }
    if dropping {
        return Err(format!("{}: a dropped class has no end", js.display()));
    }
    std::fs::write(js, kept).map_err(|error| error.to_string())
}

/// What the optimized wasm imports from its JavaScript, by name.
fn wasm_imports(dist: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for path in built_files(dist)? {
        if path.extension().is_none_or(|ext| ext != "wasm") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|error| error.to_string())?;
        let invalid = |error: wasmparser::BinaryReaderError| format!("{}: {error}", path.display());
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let wasmparser::Payload::ImportSection(imports) = payload.map_err(invalid)? {
                for import in imports.into_imports() {
                    names.push(import.map_err(invalid)?.name.to_owned());
                }
            }
        }
    }
    Ok(names)
}

/// Drops the functions of wasm-bindgen's import object that the optimized
/// wasm no longer imports (those only dead code called: wasm-streams'),
/// each from its `name: function` line to the `},` that ends it, at the
/// object's indentation; terser then drops what only they used (0.4 KB
/// brotli).
fn drop_unused_imports(js: &Path, imported: &[String]) -> Result {
    let text = std::fs::read_to_string(js).map_err(|error| error.to_string())?;
    let mut kept = String::with_capacity(text.len());
    let mut dropping = false;
    for line in text.split_inclusive('\n') {
        if let Some((name, _)) = line
            .strip_prefix("        __wbg")
            .and_then(|rest| rest.split_once(": function"))
        {
            let name = format!("__wbg{name}");
            dropping = !imported.contains(&name);
        }
        if !dropping {
            kept.push_str(line);
        }
        if dropping && line.trim_end() == "        }," {
            dropping = false;
        }
    }
    if dropping {
        return Err(format!("{}: a dropped import has no end", js.display()));
    }
    std::fs::write(js, kept).map_err(|error| error.to_string())
}

/// Drops the unused exports (binaryen's `wasm-metadce`, with every other
/// export a root), then optimizes the wasm with `wasm-opt` (index.html
/// turns Trunk's own run off, so this is the one place for its options).
/// `-O2` came out smaller after brotli than `-Oz` or `-Os` (docs/performance.md).
fn optimize_wasm(wasm: &Path, binaryen: &Path) -> Result {
    let bytes = std::fs::read(wasm).map_err(|error| error.to_string())?;
    let mut roots = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Ok(wasmparser::Payload::ExportSection(exports)) = payload {
            for export in exports {
                let name = export.map_err(|error| error.to_string())?.name;
                if !name.contains(UNUSED_EXPORTS) {
                    roots.push(serde_json::json!({"name": name, "root": true, "export": name}));
                }
            }
        }
    }
    let graph = root().join("target").join("wasm-metadce-graph.json");
    std::fs::write(&graph, serde_json::Value::Array(roots).to_string())
        .map_err(|error| error.to_string())?;
    // It lists what it removed on standard output: not worth reading. The
    // functions keep their names (`-g`) for `blank_dead_code`.
    let removed = Command::new(binaryen.join("wasm-metadce"))
        .arg(wasm)
        .arg("--graph-file")
        .arg(&graph)
        .args(["--enable-reference-types", "-g", "--output"])
        .arg(wasm)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|error| format!("cannot run wasm-metadce: {error}"))?;
    if !removed.success() {
        return Err(format!("wasm-metadce failed ({removed})"));
    }
    blank_dead_code(wasm)?;
    // Without `-g`: the names go, once used for the order.
    status(
        Command::new(binaryen.join("wasm-opt"))
            .arg(wasm)
            .args(["-O2", "--enable-reference-types", "--strip-producers"])
            // Rust places the stack first in memory: its lowest kilobyte is
            // reached only by a stack about to overflow (−0.2 KB brotli).
            .arg("--low-memory-unused")
            // Functions in the order of their names: the copies of one
            // generic function side by side, which brotli takes in far
            // fewer bytes (−1 KB).
            .arg("--reorder-functions-by-name")
            .arg("--output")
            .arg(wasm),
    )
}

/// What is left of wasm-streams once its exports are dropped: its futures'
/// closures, which nothing creates any more, still in the function table
/// (their vtables are data, which no optimizer reads), with all they call.
/// They are found by name: the build names every function with its
/// generic types (`-C symbol-mangling-version=v0`, `wasm_rustflags`), so
/// each one made for wasm-streams' types says so (3.1 KB brotli).
const DEAD_CODE: &str = "wasm_streams";

/// Replaces the body of every function named with `DEAD_CODE` by
/// `unreachable`; `wasm-opt` then drops what only they called. Refuses
/// when a function that stays calls one of them: that one is not dead.
fn blank_dead_code(wasm: &Path) -> Result {
    use wasmparser::{KnownCustom, Name, Operator, Parser, Payload, TypeRef};
    let bytes = std::fs::read(wasm).map_err(|error| error.to_string())?;
    let invalid = |error: wasmparser::BinaryReaderError| format!("{}: {error}", wasm.display());
    let (mut imported, mut bodies, mut dead) = (0u32, Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.map_err(invalid)? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    imported += u32::from(matches!(import.map_err(invalid)?.ty, TypeRef::Func(_)));
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(names) = section.as_known() {
                    for name in names {
                        if let Name::Function(functions) = name.map_err(invalid)? {
                            for function in functions {
                                let function = function.map_err(invalid)?;
                                if function.name.contains(DEAD_CODE) {
                                    dead.push(function.index);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Indices count the imported functions first.
    let dead: Vec<usize> = dead
        .into_iter()
        .filter_map(|index| index.checked_sub(imported))
        .map(|index| index as usize)
        .collect();
    for (index, body) in bodies.iter().enumerate() {
        if dead.contains(&index) {
            continue;
        }
        for operator in body.get_operators_reader().map_err(invalid)? {
            if let Operator::Call { function_index } | Operator::ReturnCall { function_index } =
                operator.map_err(invalid)?
            {
                let called = function_index
                    .checked_sub(imported)
                    .map(|index| index as usize);
                if called.is_some_and(|called| dead.contains(&called)) {
                    return Err(format!(
                        "{}: function {} calls {function_index}, named for {DEAD_CODE} but not dead",
                        wasm.display(),
                        index as u32 + imported
                    ));
                }
            }
        }
    }
    // The module again, section by section (wasm-encoder writes the sizes),
    // the dead bodies `unreachable`: no locals, `unreachable`, `end`.
    let mut code = wasm_encoder::CodeSection::new();
    for (index, body) in bodies.iter().enumerate() {
        code.raw(match dead.contains(&index) {
            true => &[0x00, 0x00, 0x0b][..],
            false => &bytes[body.range()],
        });
    }
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload.map_err(invalid)?;
        match payload.as_section() {
            Some((id, _)) if id == wasm_encoder::SectionId::Code as u8 => {
                module.section(&code);
            }
            Some((id, range)) => {
                module.section(&wasm_encoder::RawSection {
                    id,
                    data: &bytes[range],
                });
            }
            None => {}
        }
    }
    println!("blanked {} functions of {DEAD_CODE}", dead.len());
    std::fs::write(wasm, module.finish()).map_err(|error| error.to_string())
}

/// Rewrites each built file with this extension in place, and updates its
/// subresource-integrity hash in `index.html`, which Trunk computed for the
/// file as it was.
fn rewrite(dist: &Path, extension: &str, rewrite_file: impl Fn(&Path) -> Result) -> Result {
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)
        .map_err(|error| format!("cannot read {}: {error}", index_path.display()))?;
    for path in built_files(dist)? {
        if path.extension().is_none_or(|ext| ext != extension) {
            continue;
        }
        let before = std::fs::read(&path).map_err(|error| error.to_string())?;
        rewrite_file(&path)?;
        let after = std::fs::read(&path).map_err(|error| error.to_string())?;
        let (old, new) = (integrity(&before), integrity(&after));
        if !index.contains(&old) {
            return Err(format!(
                "index.html has no integrity {old} for {}",
                path.display()
            ));
        }
        index = index.replace(&old, &new);
    }
    std::fs::write(&index_path, index).map_err(|error| error.to_string())
}

/// A subresource-integrity value as Trunk writes it: `sha384-<base64>`.
fn integrity(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Writes `name.br` and `name.gz` beside each built file, at the highest
/// levels, so the relay serves them without compressing on every request.
fn precompress(dist: &Path) -> Result {
    for path in built_files(dist)? {
        let bytes = std::fs::read(&path).map_err(|error| error.to_string())?;
        let mut name = path.clone().into_os_string();
        name.push(".br");
        std::fs::write(&name, compress::brotli(&bytes)).map_err(|error| error.to_string())?;
        let mut name = path.into_os_string();
        name.push(".gz");
        std::fs::write(&name, compress::gzip(&bytes)).map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// The files of `dist/`, in name order, without the precompressed copies:
/// those are the same files, not more of them.
pub fn built_files(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist)
        .map_err(|error| format!("cannot read {}: {error}", dist.display()))?
    {
        let path = entry.map_err(|error| error.to_string())?.path();
        let compressed = path
            .extension()
            .is_some_and(|ext| ext == "br" || ext == "gz");
        if path.is_file() && !compressed {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The relay of the demo and of the browser tests, with the panel in
/// `dist/` built in when there is one (`cargo xtask` builds the panel
/// first): Cargo's dev profile, which the test command's own tests have
/// mostly built already, where an optimised build took a newcomer's first
/// demo 2 min 55 s more. The relay does little per request; the bench
/// measures the release build (`release_relay`).
pub fn relay() -> Result<PathBuf> {
    relay_in("dev", "debug")
}

/// `cargo xtask release`: what operators deploy, the panel built into the
/// optimised relay.
pub fn release() -> Result {
    let tools = crate::tools::panel_tools()?;
    panel(&tools)?;
    let relay = release_relay()?;
    println!(
        "\nThe relay to deploy, the panel inside: {}",
        relay.display()
    );
    Ok(())
}

/// The release relay, as operators build it: one file to deploy.
pub fn release_relay() -> Result<PathBuf> {
    relay_in("release", "release")
}

/// The relay built in Cargo's `profile`, whose output is in `target/dir`,
/// with the panel in `dist/` built in when there is one.
fn relay_in(profile: &str, dir: &str) -> Result<PathBuf> {
    run::step(&format!("Relay: {profile} build"));
    status(
        run::cargo()
            .args(["build", "--package", "relay", "--profile", profile])
            .args(panel_feature()),
    )?;
    Ok(root().join("target").join(dir).join("relay"))
}

/// The relay's feature that builds in the panel, when `dist/` has one.
pub fn panel_feature() -> Vec<&'static str> {
    match root().join("dist").join("index.html").is_file() {
        true => vec!["--features", "embed-panel"],
        false => Vec::new(),
    }
}

/// The relay as one static binary (musl), the panel in `dist/` built in,
/// for the image; `musl-gcc` compiles the C in SQLite and mimalloc.
pub fn static_relay() -> Result<PathBuf> {
    let target = crate::tools::MUSL_TARGET;
    run::step("Relay: static release build (musl) with the panel built in");
    status(
        run::cargo()
            .args([
                "build",
                "--release",
                "--package",
                "relay",
                "--target",
                target,
            ])
            .args(["--features", "embed-panel"])
            .env(format!("CC_{}", target.replace('-', "_")), "musl-gcc"),
    )?;
    Ok(root()
        .join("target")
        .join(target)
        .join("release")
        .join("relay"))
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_are_letters_and_never_repeat() {
        assert_eq!(
            [0, 25, 26, 51, 52, 53].map(short_name),
            ["a", "z", "A", "Z", "aa", "ba"].map(String::from)
        );
        let names: std::collections::HashSet<String> = (0..10_000).map(short_name).collect();
        assert_eq!(names.len(), 10_000);
        assert!(names
            .iter()
            .all(|name| name.bytes().all(|b| b.is_ascii_alphabetic())));
    }

    fn renamed(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|&(old, new)| (old.into(), new.into()))
            .collect()
    }

    #[test]
    fn whole_names_are_renamed_where_they_are_read_and_nowhere_else() {
        use super::rename_identifiers;
        // One export's name begins another's: each is renamed whole.
        let names = renamed(&[("run_true_", "a"), ("run_true__13", "b")]);
        let js = "E.run_true_(1);E.run_true__13(2);E.run_true_(3)";
        let got = rename_identifiers(js, &names, ".", "", |_| true);
        assert_eq!(got.as_deref(), Ok("E.a(1);E.b(2);E.a(3)"));
        // Read any other way: refused, naming it.
        let got = rename_identifiers("x[\"run_true_\"]", &names, ".", "", |_| true);
        assert_eq!(got, Err("run_true_".into()));
        let key = renamed(&[("__wbg_f_1a", "a")]);
        let got = rename_identifiers("{__wbg_f_1a:function(){}}", &key, "", ":", |n| n == 1);
        assert_eq!(got.as_deref(), Ok("{a:function(){}}"));
        // A key that is missing, or there twice, is refused too.
        let got = rename_identifiers("{}", &key, "", ":", |n| n == 1);
        assert_eq!(got, Err("__wbg_f_1a".into()));
        // Inside a longer identifier is not the name, even right after it.
        let within = "{__wbg_f_1a__wbg_f_1a:1}";
        let got = rename_identifiers(within, &key, "", ":", |n| n == 1);
        assert_eq!(got, Err("__wbg_f_1a".into()));
        let twice = "{__wbg_f_1a:1,__wbg_f_1a:2}";
        let got = rename_identifiers(twice, &key, "", ":", |n| n == 1);
        assert_eq!(got, Err("__wbg_f_1a".into()));
    }
}
