//! `cargo xtask layering`: no module imports a module that imports it back.
//!
//! The rule, in each crate of the workspace: among the crate's top-level
//! modules, and among the modules inside one folder, "uses" has no cycle.
//! A folder's `mod.rs` and its own children are aside (the parent declares
//! its children and often re-exports them; a child may use its parent), and
//! so are the crate root (`lib.rs`, `main.rs`) and its children. And
//! relay's `error` imports nothing from its crate: every module may answer
//! with it, so it must stand below all of them.
//!
//! How it reads: every `.rs` file under a crate's `src/` (except `src/bin/`,
//! whose files are crates of their own) is split into Rust tokens, comments
//! and literals dropped. Each path that starts with `crate::`, `super::` or
//! `self::` is a use of the module it names, whether in a `use` (grouped
//! forms too, over several lines) or inline in code. `super::` counts from
//! the module the path is written in (an inline `mod tests { … }` is one
//! level). A path through a name that a module's own `use` brings in (a
//! re-export such as `pub use config::Config` in `lib.rs`) counts as a use
//! of where that name comes from. A module is a file: `a.rs` and
//! `a/mod.rs` are `a`, `a/b.rs` is `a::b`; a file in `a/b` that uses
//! `crate::c` makes `a` use `c`, and one that uses `crate::a::d` makes
//! `a::b` use `a::d`.

use crate::run::{root, step, Result};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

/// Each crate's name in messages, and its source folder from the workspace root.
const CRATES: &[(&str, &str)] = &[
    ("panel", "src"),
    ("protocol", "protocol/src"),
    ("relay", "relay/src"),
    ("testkit", "testkit/src"),
    ("xtask", "xtask/src"),
    ("e2e", "e2e/src"),
];

/// Modules that use nothing from their crate: (crate, module).
const USE_NOTHING: &[(&str, &str)] = &[("relay", "error")];

/// `cargo xtask layering`, and a step of `cargo xtask test`.
pub fn run() -> Result {
    step("Layering: no module imports a module that imports it back");
    let mut problems = Vec::new();
    for &(krate, folder) in CRATES {
        let sources = read(&root().join(folder), folder)?;
        let found = check(krate, &sources);
        if found.is_empty() {
            println!("{krate}: no cycles among its {} files", sources.len());
        }
        problems.extend(found);
    }
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        println!("{problem}");
    }
    Err(format!(
        "{} layering problem{} (above): move what both sides need into the lower module",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
}

/// One source file: its path from the workspace root, with `/`, and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// From the workspace root, as messages name it: `relay/src/apps.rs`.
    pub shown: String,
    /// From the crate's `src/`: `apps.rs`, `audit/mod.rs`.
    pub path: String,
    pub text: String,
}

/// Every `.rs` file under `dir`, `bin/` aside, in a stable order.
fn read(dir: &Path, shown: &str) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|error| format!("cannot read {}: {error}", folder.display()))?;
        for entry in entries {
            let entry =
                entry.map_err(|error| format!("cannot read {}: {error}", folder.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if path.is_dir() {
                if !(prefix.is_empty() && name == "bin") {
                    pending.push((path, format!("{prefix}{name}/")));
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
                sources.push(Source {
                    shown: format!("{shown}/{prefix}{name}"),
                    path: format!("{prefix}{name}"),
                    text,
                });
            }
        }
    }
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(sources)
}

/// A module's path inside its crate: `[]` is the root, `["audit", "chain"]`
/// is `audit::chain`.
type Module = Vec<String>;

fn module_of_file(path: &str) -> Module {
    let path = path.strip_suffix(".rs").unwrap_or(path);
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        return Vec::new();
    }
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "the crate root".into()
    } else {
        module.join("::")
    }
}

/// What `krate`'s sources break of the rule, one message each; none when it holds.
pub fn check(krate: &str, sources: &[Source]) -> Vec<String> {
    let files: Vec<(Module, &Source, Vec<Found>)> = sources
        .iter()
        .map(|source| {
            let module = module_of_file(&source.path);
            let found = paths(&module, &lex(&source.text));
            (module, source, found)
        })
        .collect();

    let mut modules: BTreeSet<Module> = BTreeSet::new();
    for (module, _, _) in &files {
        for len in 0..=module.len() {
            modules.insert(module[..len].to_vec());
        }
    }

    // What each module's (and inline module's) own `use` brings in, by name.
    let mut names: BTreeMap<Module, BTreeMap<String, Module>> = BTreeMap::new();
    for (_, _, found) in &files {
        for path in found {
            if let Some(bound) = &path.binds {
                if let Some(absolute) = absolute(&path.scope, &path.segments, &modules) {
                    names
                        .entry(path.scope.clone())
                        .or_default()
                        .insert(bound.clone(), absolute);
                }
            }
        }
    }

    let mut edges: BTreeMap<(Module, Module), Vec<Use>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (module, source, found) in &files {
        for path in found {
            let Some(absolute) = absolute(&path.scope, &path.segments, &modules) else {
                continue;
            };
            let target = resolve(&absolute, &modules, &names);
            let used = Use {
                file: source.shown.clone(),
                line: path.line,
                written: path.written(),
            };
            for &(rule_crate, rule_module) in USE_NOTHING {
                if rule_crate == krate
                    && module.first().is_some_and(|first| first == rule_module)
                    && target.first().is_none_or(|first| first != rule_module)
                {
                    problems.push(format!(
                        "{krate}: {rule_module} uses nothing from its crate, but {} uses {} ({})",
                        used.place(),
                        used.written,
                        name(&target)
                    ));
                }
            }
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common < module.len() && common < target.len() {
                edges
                    .entry((module[..=common].to_vec(), target[..=common].to_vec()))
                    .or_default()
                    .push(used);
            }
        }
    }
    for uses in edges.values_mut() {
        uses.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        uses.dedup_by(|a, b| a.file == b.file && a.line == b.line);
    }
    for knot in knots(&modules, &edges) {
        problems.extend(cycles(krate, &knot, &edges));
    }
    for &(rule_crate, rule_module) in USE_NOTHING {
        if rule_crate == krate && !modules.contains(&vec![rule_module.to_owned()]) {
            problems.push(format!(
                "{krate}: has no module `{rule_module}` any more; \
                 update the rule in xtask/src/layering.rs (USE_NOTHING)"
            ));
        }
    }
    problems
}

/// Where a use is written, and how.
#[derive(Debug, Clone)]
struct Use {
    file: String,
    line: usize,
    written: String,
}

impl Use {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The strongly connected parts of the "uses" graph with more than one
/// module (Tarjan's algorithm), each sorted.
fn knots(
    modules: &BTreeSet<Module>,
    edges: &BTreeMap<(Module, Module), Vec<Use>>,
) -> Vec<Vec<Module>> {
    let nodes: Vec<&Module> = modules.iter().collect();
    let index_of = |module: &Module| nodes.binary_search(&module).expect("a known module");
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (from, to) in edges.keys() {
        next[index_of(from)].push(index_of(to));
    }

    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(node: usize, next: &[Vec<usize>], state: &mut State) {
        state.index[node] = Some(state.counter);
        state.low[node] = state.counter;
        state.counter += 1;
        state.stack.push(node);
        state.on_stack[node] = true;
        for &to in &next[node] {
            match state.index[to] {
                None => {
                    visit(to, next, state);
                    state.low[node] = state.low[node].min(state.low[to]);
                }
                Some(index) if state.on_stack[to] => state.low[node] = state.low[node].min(index),
                Some(_) => {}
            }
        }
        if Some(state.low[node]) == state.index[node] {
            let mut part = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack[top] = false;
                part.push(top);
                if top == node {
                    break;
                }
            }
            if part.len() > 1 {
                part.sort_unstable();
                state.found.push(part);
            }
        }
    }

    let mut state = State {
        index: vec![None; nodes.len()],
        low: vec![0; nodes.len()],
        on_stack: vec![false; nodes.len()],
        stack: Vec::new(),
        counter: 0,
        found: Vec::new(),
    };
    for node in 0..nodes.len() {
        if state.index[node].is_none() {
            visit(node, &next, &mut state);
        }
    }
    let mut knots: Vec<Vec<Module>> = state
        .found
        .into_iter()
        .map(|part| part.into_iter().map(|node| nodes[node].clone()).collect())
        .collect();
    knots.sort();
    knots
}

/// One message per cycle that, together, name every use inside `knot`:
/// first each pair that uses each other, then for each other use the
/// shortest way back to where it starts.
fn cycles(
    krate: &str,
    knot: &[Module],
    edges: &BTreeMap<(Module, Module), Vec<Use>>,
) -> Vec<String> {
    let inside: Vec<(&Module, &Module)> = edges
        .keys()
        .filter(|(from, to)| knot.contains(from) && knot.contains(to))
        .map(|(from, to)| (from, to))
        .collect();
    let describe = |from: &Module, to: &Module| {
        let uses = &edges[&(from.clone(), to.clone())];
        let mut text = format!("{} uses {}", uses[0].place(), uses[0].written);
        if uses.len() > 1 {
            let more: Vec<String> = uses[1..].iter().map(Use::place).collect();
            text.push_str(&format!(" (also {})", more.join(", ")));
        }
        text
    };

    let mut messages = Vec::new();
    let mut covered: BTreeSet<(&Module, &Module)> = BTreeSet::new();
    for &(from, to) in &inside {
        if from < to && edges.contains_key(&(to.clone(), from.clone())) {
            messages.push(format!(
                "{krate}: {} ↔ {}: {}, {}",
                name(from),
                name(to),
                describe(from, to),
                describe(to, from)
            ));
            covered.insert((from, to));
            covered.insert((to, from));
        }
    }
    for &(from, to) in &inside {
        if covered.contains(&(from, to)) {
            continue;
        }
        // The shortest way from `to` back to `from`, inside the knot.
        let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
        let mut queue = VecDeque::from([to]);
        while let Some(at) = queue.pop_front() {
            if at == from {
                break;
            }
            for &(a, b) in &inside {
                if a == at && b != to && !came_from.contains_key(b) {
                    came_from.insert(b, a);
                    queue.push_back(b);
                }
            }
        }
        let mut way = vec![from];
        let mut at = from;
        while at != to {
            at = came_from[at];
            way.push(at);
        }
        way.reverse();
        way.insert(0, from);
        // `way` is now from → to → … → from.
        let steps: Vec<(&Module, &Module)> =
            way.windows(2).map(|pair| (pair[0], pair[1])).collect();
        let names: Vec<String> = way.iter().map(|module| name(module)).collect();
        let uses: Vec<String> = steps.iter().map(|&(a, b)| describe(a, b)).collect();
        messages.push(format!(
            "{krate}: {}: {}",
            names.join(" → "),
            uses.join(", ")
        ));
        covered.extend(steps);
    }
    messages
}

/// The absolute path that `segments`, written inside `scope`, names; `None`
/// when it leaves the crate (another crate, `std`) or goes above the root.
fn absolute(scope: &[String], segments: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let (first, mut rest) = segments.split_first()?;
    let mut path = scope.to_vec();
    match first.as_str() {
        "crate" => path.clear(),
        "self" => {}
        "super" => {
            path.pop()?;
            while rest.first().is_some_and(|next| next == "super") {
                path.pop()?;
                rest = &rest[1..];
            }
        }
        // A `use` of a child module by its bare name (`pub use config::Config`
        // in lib.rs); any other bare name is another crate's.
        child => {
            path.push(child.to_owned());
            if !modules.contains(&path) {
                return None;
            }
        }
    }
    path.extend(rest.iter().cloned());
    Some(path)
}

/// The module an absolute path ends in: its longest prefix that is a
/// module, followed through names that module's `use` brings in.
fn resolve(
    path: &[String],
    modules: &BTreeSet<Module>,
    names: &BTreeMap<Module, BTreeMap<String, Module>>,
) -> Module {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let known = (0..=path.len())
            .rev()
            .find(|&len| modules.contains(&path[..len]))
            .unwrap_or(0);
        let module = path[..known].to_vec();
        let Some(brought) = path
            .get(known)
            .and_then(|next| names.get(&module)?.get(next))
        else {
            return module;
        };
        let mut followed = brought.clone();
        followed.extend(path[known + 1..].iter().cloned());
        if followed == path {
            return module;
        }
        path = followed;
    }
    Vec::new()
}

/// A Rust token, as far as paths need: the rest is `Other`.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Dollar,
    Other(char),
}

/// The tokens of `text` with their line numbers; comments, strings,
/// characters, lifetimes and numbers dropped.
fn lex(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips to the end of a string whose body starts at `i`, counting lines.
    let skip_string = |mut i: usize, hashes: usize, raw: bool, line: &mut usize| -> usize {
        while i < chars.len() {
            match chars[i] {
                '\\' if !raw => {
                    if at(i + 1) == '\n' {
                        *line += 1;
                    }
                    i += 2;
                    continue;
                }
                '"' if (1..=hashes).all(|k| at(i + k) == '#') => return i + 1 + hashes,
                '\n' => *line += 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => i = skip_string(i + 1, 0, false, &mut line),
            '\'' => {
                if at(i + 1) == '\\' {
                    // An escaped character: up to its closing quote.
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' && chars[i] != '\n' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    // A lifetime or label.
                    i += 1;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() => {
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match (word.as_str(), at(i)) {
                    ("b" | "c", '"') => i = skip_string(i + 1, 0, false, &mut line),
                    ("b", '\'') => {
                        // A byte: the same as a character.
                        i += if at(i + 1) == '\\' { 4 } else { 3 };
                        while at(i - 1) != '\'' && i < chars.len() {
                            i += 1;
                        }
                    }
                    ("r" | "br" | "cr", '"' | '#') => {
                        let mut hashes = 0;
                        while at(i + hashes) == '#' {
                            hashes += 1;
                        }
                        if at(i + hashes) == '"' {
                            i = skip_string(i + hashes + 1, hashes, true, &mut line);
                        } else if word == "r" && hashes == 1 {
                            // A raw identifier: `r#type`.
                            let start = i + 1;
                            i = start;
                            while at(i).is_alphanumeric() || at(i) == '_' {
                                i += 1;
                            }
                            tokens.push((Token::Ident(chars[start..i].iter().collect()), line));
                        } else {
                            tokens.push((Token::Ident(word), line));
                        }
                    }
                    _ => tokens.push((Token::Ident(word), line)),
                }
            }
            ':' if at(i + 1) == ':' => {
                tokens.push((Token::PathSep, line));
                i += 2;
            }
            _ => {
                tokens.push((
                    match c {
                        '{' => Token::Open,
                        '}' => Token::Close,
                        ',' => Token::Comma,
                        '*' => Token::Star,
                        '$' => Token::Dollar,
                        other => Token::Other(other),
                    },
                    line,
                ));
                i += 1;
            }
        }
    }
    tokens
}

/// A path written in a file.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    /// The module it is written in, inline modules included.
    scope: Module,
    /// As written: `["super", "apps", "AppConfig"]`; a glob's ends before `*`.
    segments: Vec<String>,
    glob: bool,
    line: usize,
    /// The name a `use` gives it in `scope`, if any.
    binds: Option<String>,
}

impl Found {
    fn written(&self) -> String {
        let mut text = self.segments.join("::");
        if self.glob {
            text.push_str("::*");
        }
        text
    }
}

/// Every path of `tokens` (a file of `module`) that may lead into the crate.
fn paths(module: &[String], tokens: &[(Token, usize)]) -> Vec<Found> {
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(word), _)) => Some(word.as_str()),
        _ => None,
    };
    let is = |i: usize, token: &Token| tokens.get(i).is_some_and(|(t, _)| t == token);

    let mut found = Vec::new();
    let mut depth = 0usize;
    // Inline modules open here, with the depth their body is at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let scope = |inline: &[(String, usize)]| {
            let mut scope = module.to_vec();
            scope.extend(inline.iter().map(|(name, _)| name.clone()));
            scope
        };
        match &tokens[i].0 {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth.saturating_sub(1);
                while inline.last().is_some_and(|&(_, body)| body > depth) {
                    inline.pop();
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(name), true) = (ident(i + 1), is(i + 2, &Token::Open)) {
                    inline.push((name.to_owned(), depth + 1));
                }
            }
            Token::Ident(word) if word == "use" => {
                let scope = scope(&inline);
                let mut leaves = Vec::new();
                let mut at = i + 1;
                if !is(at, &Token::PathSep) {
                    tree(tokens, &mut at, Vec::new(), &mut leaves);
                }
                for leaf in leaves {
                    found.push(Found {
                        scope: scope.clone(),
                        ..leaf
                    });
                }
                i = at;
                continue;
            }
            Token::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self")
                    && is(i + 1, &Token::PathSep)
                    && !(i > 0 && (is(i - 1, &Token::PathSep) || is(i - 1, &Token::Dollar)))
                    && !(i > 1 && ident(i - 1) == Some("in") && is(i - 2, &Token::Other('('))) =>
            {
                let scope = scope(&inline);
                let mut leaves = Vec::new();
                let mut at = i;
                tree(tokens, &mut at, Vec::new(), &mut leaves);
                for leaf in leaves {
                    found.push(Found {
                        scope: scope.clone(),
                        binds: None,
                        ..leaf
                    });
                }
                i = at;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Reads one use tree (`a::b`, `a::{b, c::*}`, `a as b`) from `tokens[*at]`,
/// after `prefix`, into `leaves`; `*at` ends after it.
fn tree(tokens: &[(Token, usize)], at: &mut usize, prefix: Vec<String>, leaves: &mut Vec<Found>) {
    let line = |i: usize| tokens.get(i).map_or(0, |&(_, line)| line);
    let leaf = |segments: Vec<String>, glob: bool, line: usize, binds: Option<String>| Found {
        scope: Vec::new(),
        segments,
        glob,
        line,
        binds,
    };
    match tokens.get(*at).map(|(token, _)| token) {
        Some(Token::Open) => {
            *at += 1;
            loop {
                match tokens.get(*at).map(|(token, _)| token) {
                    Some(Token::Close) => {
                        *at += 1;
                        break;
                    }
                    None => break,
                    _ => {}
                }
                let before = *at;
                tree(tokens, at, prefix.clone(), leaves);
                match tokens.get(*at).map(|(token, _)| token) {
                    Some(Token::Comma) => *at += 1,
                    Some(Token::Close) => {}
                    _ if *at == before => *at += 1,
                    _ => {}
                }
            }
        }
        Some(Token::Star) => {
            if !prefix.is_empty() {
                leaves.push(leaf(prefix, true, line(*at), None));
            }
            *at += 1;
        }
        Some(Token::Ident(word)) => {
            let word = word.clone();
            let here = line(*at);
            *at += 1;
            let mut segments = prefix;
            let continues = matches!(
                tokens.get(*at + 1).map(|(token, _)| token),
                Some(Token::Ident(_) | Token::Open | Token::Star)
            );
            if matches!(tokens.get(*at), Some((Token::PathSep, _))) && continues {
                segments.push(word);
                *at += 1;
                tree(tokens, at, segments, leaves);
                return;
            }
            // A leaf: `self` names the module before it.
            let mut bound = word.clone();
            if word == "self" && !segments.is_empty() {
                bound = segments.last().cloned().unwrap_or_default();
            } else {
                segments.push(word);
            }
            if matches!(tokens.get(*at), Some((Token::Ident(kw), _)) if kw == "as") {
                if let Some((Token::Ident(alias), _)) = tokens.get(*at + 1) {
                    bound = alias.clone();
                }
                *at += 2;
            }
            let binds = (bound != "_").then_some(bound);
            leaves.push(leaf(segments, false, here, binds));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> Vec<String> {
        let sources: Vec<Source> = files
            .iter()
            .map(|&(path, text)| Source {
                shown: format!("k/src/{path}"),
                path: path.to_owned(),
                text: text.to_owned(),
            })
            .collect();
        check("k", &sources)
    }

    #[test]
    fn modules_are_named_by_their_files() {
        assert_eq!(module_of_file("lib.rs"), Vec::<String>::new());
        assert_eq!(module_of_file("main.rs"), Vec::<String>::new());
        assert_eq!(module_of_file("a.rs"), vec!["a"]);
        assert_eq!(module_of_file("a/mod.rs"), vec!["a"]);
        assert_eq!(module_of_file("a/b.rs"), vec!["a", "b"]);
        assert_eq!(module_of_file("a/lib.rs"), vec!["a", "lib"]);
    }

    #[test]
    fn a_crate_without_cycles_passes() {
        let problems = crate_of(&[
            ("lib.rs", "pub mod a;\npub mod b;\npub use a::A;\n"),
            ("a.rs", "use crate::b::B;\npub struct A(B);\n"),
            ("b.rs", "pub struct B;\n"),
        ]);
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn two_modules_that_use_each_other_are_named_with_both_uses() {
        let problems = crate_of(&[
            ("lib.rs", "mod apps;\nmod config;\n"),
            ("config.rs", "//! Config.\n\nuse crate::apps::Apps;\n"),
            (
                "apps.rs",
                "use std::fmt;\n\n\n\n\n\n\n\n\nfn f() {\n    crate::config::load();\n}\n",
            ),
        ]);
        assert_eq!(
            problems,
            vec![
                "k: apps ↔ config: k/src/apps.rs:11 uses crate::config::load, \
                  k/src/config.rs:3 uses crate::apps::Apps"
            ]
        );
    }

    #[test]
    fn a_cycle_of_three_is_named_in_order_with_each_use() {
        let problems = crate_of(&[
            ("lib.rs", ""),
            ("a.rs", "use crate::b::B;\n"),
            ("b.rs", "use crate::c::C;\n"),
            ("c.rs", "\nuse crate::a::A;\n"),
        ]);
        assert_eq!(
            problems,
            vec![
                "k: a → b → c → a: k/src/a.rs:1 uses crate::b::B, \
                  k/src/b.rs:1 uses crate::c::C, k/src/c.rs:2 uses crate::a::A"
            ]
        );
    }

    #[test]
    fn every_use_in_a_knot_is_named_once_and_several_uses_are_all_listed() {
        let problems = crate_of(&[
            ("a.rs", "use crate::b::B;\nuse crate::c::C;\n"),
            ("b.rs", "use crate::a::A;\nfn f() { crate::a::g() }\n"),
            ("c.rs", "use crate::b::B;\n"),
        ]);
        assert_eq!(
            problems,
            vec![
                "k: a ↔ b: k/src/a.rs:1 uses crate::b::B, \
                 k/src/b.rs:1 uses crate::a::A (also k/src/b.rs:2)",
                "k: a → c → b → a: k/src/a.rs:2 uses crate::c::C, \
                 k/src/c.rs:1 uses crate::b::B, k/src/b.rs:1 uses crate::a::A (also k/src/b.rs:2)",
            ]
        );
    }

    #[test]
    fn a_folder_and_its_own_children_may_use_each_other() {
        let problems = crate_of(&[
            ("lib.rs", "pub mod audit;\npub use audit::Log;\nfn f() { crate::audit::chain::x(); }"),
            (
                "audit/mod.rs",
                "mod chain;\nmod writer;\npub use writer::Log;\nuse crate::audit::chain::Link;\nuse self::writer::W;\n",
            ),
            ("audit/chain.rs", "use super::Log;\nuse crate::audit::Something;\n"),
            ("audit/writer.rs", "pub struct Log;\nuse super::super::audit::Something;\n"),
        ]);
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn a_child_that_uses_its_sibling_that_uses_it_back_is_caught() {
        let problems = crate_of(&[
            ("lib.rs", "pub mod audit;"),
            ("audit/mod.rs", "mod chain;\nmod writer;\n"),
            ("audit/chain.rs", "use super::writer::Log;\n"),
            (
                "audit/writer.rs",
                "\n\nfn f() { crate::audit::chain::link() }\n",
            ),
        ]);
        assert_eq!(
            problems,
            vec![
                "k: audit::chain ↔ audit::writer: k/src/audit/chain.rs:1 uses super::writer::Log, \
                  k/src/audit/writer.rs:3 uses crate::audit::chain::link"
            ]
        );
    }

    #[test]
    fn children_of_different_folders_make_their_folders_use_each_other() {
        let problems = crate_of(&[
            ("a/mod.rs", "mod x;"),
            ("a/x.rs", "use crate::b::y::Y;\n"),
            ("b/mod.rs", "mod y;"),
            ("b/y.rs", "use crate::a::Z;\n"),
        ]);
        assert_eq!(
            problems,
            vec!["k: a ↔ b: k/src/a/x.rs:1 uses crate::b::y::Y, k/src/b/y.rs:1 uses crate::a::Z"]
        );
    }

    #[test]
    fn a_grouped_use_over_several_lines_counts_each_of_its_paths() {
        let problems = crate_of(&[
            (
                "a.rs",
                "use crate::{\n    c::C,\n    b::{\n        self,\n        B1, B2,\n    },\n};\n",
            ),
            ("b.rs", "pub struct B1;"),
            ("c.rs", "fn f() -> crate::a::A { todo!() }"),
        ]);
        assert_eq!(
            problems,
            vec!["k: a ↔ c: k/src/a.rs:2 uses crate::c::C, k/src/c.rs:1 uses crate::a::A"]
        );
        let problems = crate_of(&[
            (
                "a.rs",
                "use crate::{\n    c::C,\n    b::{\n        self,\n        B1, B2,\n    },\n};\n",
            ),
            ("b.rs", "pub struct B1;\nuse crate::a::*;"),
        ]);
        assert_eq!(
            problems,
            vec!["k: a ↔ b: k/src/a.rs:4 uses crate::b (also k/src/a.rs:5), k/src/b.rs:2 uses crate::a::*"]
        );
    }

    #[test]
    fn an_inline_path_counts() {
        let problems = crate_of(&[
            ("change.rs", "use crate::transport::Plan;\n"),
            (
                "transport.rs",
                "fn read(status: u16) -> bool {\n    if crate::change::is_sign_in_page(status, \"text/html\") {\n    }\n    x as crate::change::Kind\n}\n",
            ),
        ]);
        assert_eq!(
            problems,
            vec!["k: change ↔ transport: k/src/change.rs:1 uses crate::transport::Plan, \
                  k/src/transport.rs:2 uses crate::change::is_sign_in_page (also k/src/transport.rs:4)"]
        );
    }

    #[test]
    fn super_counts_from_where_it_is_written() {
        // From a top-level module, `super` is the root: `super::b` is `b`.
        let problems = crate_of(&[
            ("a.rs", "use super::b::B;\n"),
            ("b.rs", "use crate::a::A;\n"),
        ]);
        assert_eq!(
            problems,
            vec!["k: a ↔ b: k/src/a.rs:1 uses super::b::B, k/src/b.rs:1 uses crate::a::A"]
        );
        // Inside an inline `mod tests`, `super` is the file's own module.
        let problems = crate_of(&[
            (
                "a.rs",
                "mod tests {\n    use super::*;\n    use super::super::b::B;\n}\n",
            ),
            ("b.rs", "mod tests { use super::B; }\nuse crate::a::A;\n"),
        ]);
        assert_eq!(
            problems,
            vec!["k: a ↔ b: k/src/a.rs:3 uses super::super::b::B, k/src/b.rs:2 uses crate::a::A"]
        );
    }

    #[test]
    fn comments_strings_and_other_crates_do_not_count() {
        let problems = crate_of(&[
            (
                "a.rs",
                "//! Uses `crate::b` in prose.\n/// See crate::b::B.\n// crate::b::B\n/* crate::b::B /* nested */ crate::b */\n\
                 const S: &str = \"crate::b::B\";\nconst R: &str = r#\"crate::b::B \"quoted\" \"#;\nconst C: char = '\"';\n\
                 fn f<'a>(x: &'a str) -> &'a str { x }\nmacro_rules! m { () => { $crate::b::B } }\nuse other::crate_b;\n\
                 pub(in crate::b) struct Hidden;\n",
            ),
            ("b.rs", "use crate::a::A;\n"),
        ]);
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn a_re_export_counts_as_a_use_of_where_it_comes_from() {
        let problems = crate_of(&[
            (
                "lib.rs",
                "mod config;\nmod apps;\npub use config::{Config, Error as ConfigError};\n",
            ),
            ("config.rs", "use crate::apps::Apps;\n"),
            ("apps.rs", "fn f(e: crate::ConfigError) {}\n"),
        ]);
        assert_eq!(
            problems,
            vec!["k: apps ↔ config: k/src/apps.rs:1 uses crate::ConfigError, k/src/config.rs:1 uses crate::apps::Apps"]
        );
    }

    #[test]
    fn error_uses_nothing_from_the_relay() {
        let sources = |text: &str| {
            vec![
                Source {
                    shown: "relay/src/lib.rs".into(),
                    path: "lib.rs".into(),
                    text: "mod error;\nmod config;\npub struct Root;".into(),
                },
                Source {
                    shown: "relay/src/error.rs".into(),
                    path: "error.rs".into(),
                    text: text.into(),
                },
                Source {
                    shown: "relay/src/config.rs".into(),
                    path: "config.rs".into(),
                    text: "use crate::error::Error;".into(),
                },
            ]
        };
        assert_eq!(
            check(
                "relay",
                &sources("use std::fmt;\nmod tests { use super::*; use crate::error::X; }")
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check("relay", &sources("use crate::config::Limit;\nfn f() -> crate::Root { todo!() }")),
            vec![
                "relay: error uses nothing from its crate, but relay/src/error.rs:1 uses crate::config::Limit (config)",
                "relay: error uses nothing from its crate, but relay/src/error.rs:2 uses crate::Root (the crate root)",
                "relay: config ↔ error: relay/src/config.rs:1 uses crate::error::Error, \
                 relay/src/error.rs:1 uses crate::config::Limit",
            ]
        );
        // The rule only binds the relay.
        assert_eq!(
            check("panel", &sources("fn f() -> crate::Root { todo!() }")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_workspace_files_are_read_with_bin_aside() {
        let sources = read(&root().join("e2e").join("src"), "e2e/src").unwrap();
        let paths: Vec<&str> = sources.iter().map(|source| source.path.as_str()).collect();
        assert!(paths.contains(&"lib.rs"), "{paths:?}");
        assert!(
            paths.iter().all(|path| !path.starts_with("bin/")),
            "{paths:?}"
        );
        assert!(sources
            .iter()
            .all(|source| source.shown == format!("e2e/src/{}", source.path)));
    }

    #[test]
    fn every_file_of_the_workspace_reads_with_balanced_braces() {
        // A literal or comment misread would leave a brace unmatched (and
        // inline modules misplaced): a guard on the reader itself.
        for &(_, folder) in CRATES {
            for source in read(&root().join(folder), folder).unwrap() {
                let tokens = lex(&source.text);
                let open = tokens
                    .iter()
                    .filter(|(token, _)| *token == Token::Open)
                    .count();
                let close = tokens
                    .iter()
                    .filter(|(token, _)| *token == Token::Close)
                    .count();
                assert_eq!(open, close, "{}", source.shown);
                let lines = source.text.lines().count();
                assert!(
                    tokens.last().is_none_or(|&(_, line)| line <= lines),
                    "{}",
                    source.shown
                );
            }
        }
    }
}
