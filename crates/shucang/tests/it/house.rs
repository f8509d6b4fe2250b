//! House rules as tests: what ARCHITECTURE.md says a crate must not
//! depend on, read from `cargo metadata`, and the rules a source reading
//! can check (no SQL outside the store, a `//!` doc on every module, no
//! file over 1,000 lines, no function over 150 lines, no `macro_rules!`
//! in the store). Each failure names the file or crate and the rule.
//!
//! A new crate fails [`every_crate_is_described_and_has_a_row`] until it
//! has its section in ARCHITECTURE.md and its row in [`CRATES`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What a workspace crate may depend on, from its ARCHITECTURE.md section.
struct CrateRule {
    name: &'static str,
    /// The workspace crates it may depend on (any kind of dependency).
    ours: &'static [&'static str],
    /// Its external (normal and build) dependencies: only the listed ones,
    /// or any that [`RESTRICTED`] does not keep for other crates.
    theirs: Theirs,
    /// The invariant, as ARCHITECTURE.md states it.
    why: &'static str,
}

enum Theirs {
    Only(&'static [&'static str]),
    Any,
}

const TYPES: &str = "shucang-types";
const VERIFY: &str = "shucang-verify";
const CHAIN: &str = "shucang-chain";
const CALENDAR: &str = "shucang-calendar";
const CERTIFICATE: &str = "shucang-certificate";
const NOTIFY: &str = "shucang-notify";
const CONFIG: &str = "shucang-config";
const AUTH: &str = "shucang-auth";
const FILES: &str = "shucang-files";
const REGISTRY: &str = "shucang-registry";
const PLATFORM: &str = "shucang-platform";
const STORE: &str = "shucang-store";
const WEB: &str = "shucang-web";
const BINARY: &str = "shucang";

/// One row per workspace crate, bottom to top.
const CRATES: &[CrateRule] = &[
    CrateRule {
        name: TYPES,
        ours: &[],
        theirs: Theirs::Only(&["thiserror"]),
        why: "no I/O, no HTTP, no SQL, no serde; depends on thiserror only",
    },
    CrateRule {
        name: VERIFY,
        ours: &[],
        // thiserror derives the error enum; it adds no I/O.
        theirs: Theirs::Only(&["base64", "ed25519-dalek", "sha2", "sm2", "sm3", "thiserror"]),
        why: "depends only on hashing, signature and base64 crates; no I/O, no clock, no serde",
    },
    CrateRule {
        name: CHAIN,
        ours: &[VERIFY],
        theirs: Theirs::Only(&[
            "crc32fast",
            "ed25519-dalek",
            "hex",
            "sm2",
            "thiserror",
            "tokio",
        ]),
        why: "depends only on shucang-verify (plus crypto, CRC and tokio's oneshot channel); \
              knows nothing of HTTP, SQL, JSON or users",
    },
    CrateRule {
        name: CALENDAR,
        ours: &[TYPES],
        theirs: Theirs::Only(&["thiserror"]),
        why: "no I/O, no clock: dates in, answers out",
    },
    CrateRule {
        name: CERTIFICATE,
        ours: &[],
        theirs: Theirs::Only(&["ab_glyph", "png", "qrcode", "thiserror"]),
        why: "no HTTP, storage or translations; the only I/O is reading the font file",
    },
    CrateRule {
        name: NOTIFY,
        ours: &[TYPES, AUTH],
        theirs: Theirs::Any,
        why: "no domain, no HTTP, no SQL",
    },
    CrateRule {
        name: CONFIG,
        ours: &[TYPES],
        theirs: Theirs::Any,
        why: "knows nothing of HTTP, SQL or the domain",
    },
    CrateRule {
        name: AUTH,
        ours: &[TYPES],
        theirs: Theirs::Any,
        why: "no HTTP, no SQL, no clock",
    },
    CrateRule {
        name: FILES,
        ours: &[],
        theirs: Theirs::Any,
        why: "bytes in, hash out: no content sniffing, no domain, no HTTP, no SQL",
    },
    CrateRule {
        name: REGISTRY,
        ours: &[TYPES, CALENDAR, NOTIFY, AUTH, FILES],
        theirs: Theirs::Any,
        why: "shares only infrastructure with the platform; no HTTP, no SQL",
    },
    CrateRule {
        name: PLATFORM,
        ours: &[TYPES, AUTH, FILES, CHAIN, VERIFY, NOTIFY],
        theirs: Theirs::Any,
        why: "knows nothing of HTTP, HTML or SQL; the chain only through shucang_chain::Chain",
    },
    CrateRule {
        name: STORE,
        ours: &[TYPES, NOTIFY, PLATFORM, REGISTRY],
        theirs: Theirs::Any,
        why: "only SQL and row mapping, implementing the domains' storage traits; no HTTP",
    },
    CrateRule {
        name: WEB,
        ours: &[
            TYPES,
            AUTH,
            CERTIFICATE,
            CHAIN,
            VERIFY,
            PLATFORM,
            REGISTRY,
            CALENDAR,
            NOTIFY,
        ],
        theirs: Theirs::Any,
        why: "holds no business rule; reaches storage only through domain services",
    },
    CrateRule {
        name: BINARY,
        ours: &[
            TYPES,
            VERIFY,
            CHAIN,
            CALENDAR,
            CERTIFICATE,
            NOTIFY,
            CONFIG,
            AUTH,
            FILES,
            REGISTRY,
            PLATFORM,
            STORE,
            WEB,
        ],
        theirs: Theirs::Any,
        why: "the one place that chooses back ends and wires everything together",
    },
];

/// External crates only some workspace crates may use (normal and build
/// dependencies; tests may use what they need).
const RESTRICTED: &[(&[&str], &[&str], &str)] = &[
    (
        &["sqlx", "rusqlite", "postgres", "tokio-postgres", "diesel"],
        &[STORE],
        "nothing but the store crate knows SQL",
    ),
    (
        &["axum", "hyper", "tower", "tower-http", "minijinja"],
        &[WEB, BINARY],
        "only the web crate and the binary know HTTP serving and templates",
    ),
    (
        &["utoipa"],
        &[WEB, BINARY, REGISTRY],
        "the OpenAPI documents are the web crate's; the registry's form derives \
         its own schema behind the optional `openapi` feature, so the document \
         can never drift from what the form accepts",
    ),
    (
        &["reqwest"],
        &[WEB, BINARY],
        "nothing below the web crate knows it is serving HTTP",
    ),
    (
        &["anyhow"],
        &[BINARY],
        "anyhow only in the binary crate; libraries have typed errors",
    ),
];

/// The workspace root (two levels above this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `cargo metadata --format-version 1 --no-deps` for the workspace.
fn metadata() -> Value {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// A workspace crate's dependencies: name → kinds (`normal`, `dev`, `build`).
type Dependencies = BTreeMap<String, BTreeSet<String>>;

/// Every workspace crate with its dependencies.
fn workspace() -> BTreeMap<String, Dependencies> {
    let meta = metadata();
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let mut crates = BTreeMap::new();
    for package in meta["packages"].as_array().unwrap() {
        if !members.contains(package["id"].as_str().unwrap()) {
            continue;
        }
        let mut deps = Dependencies::new();
        for dep in package["dependencies"].as_array().unwrap() {
            let kind = dep["kind"].as_str().unwrap_or("normal").to_owned();
            deps.entry(dep["name"].as_str().unwrap().to_owned())
                .or_default()
                .insert(kind);
        }
        crates.insert(package["name"].as_str().unwrap().to_owned(), deps);
    }
    crates
}

/// Fails with every broken rule, one a line.
fn report(rule: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "house rule broken: {rule}\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn every_crate_is_described_and_has_a_row() {
    let crates = workspace();
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut failures = Vec::new();
    for name in crates.keys() {
        if !CRATES.iter().any(|r| r.name == name) {
            failures.push(format!(
                "crate {name} has no row: describe what it may depend on in ARCHITECTURE.md \
                 (a `### `{name}`` section with its invariant) and add that as a row of CRATES \
                 in crates/shucang/tests/it/house.rs"
            ));
        }
        if !architecture.contains(&format!("### `{name}`")) {
            failures.push(format!(
                "crate {name} has no `### `{name}`` section in ARCHITECTURE.md"
            ));
        }
    }
    for rule in CRATES {
        if !crates.contains_key(rule.name) {
            failures.push(format!(
                "CRATES in crates/shucang/tests/it/house.rs has a row for {}, which is not a \
                 workspace crate: remove it (and its ARCHITECTURE.md section)",
                rule.name
            ));
        }
    }
    report(
        "every workspace crate is in ARCHITECTURE.md and the table",
        failures,
    );
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let crates = workspace();
    let mut failures = Vec::new();
    for (name, deps) in &crates {
        let Some(rule) = CRATES.iter().find(|r| r.name == name) else {
            continue; // every_crate_is_described_and_has_a_row names it
        };
        for (dep, kinds) in deps {
            let shipped = kinds.iter().any(|k| k != "dev");
            if crates.contains_key(dep) {
                if !rule.ours.contains(&dep.as_str()) {
                    failures.push(format!(
                        "crates/{name}/Cargo.toml: {name} depends on {dep} ({}); \
                         ARCHITECTURE.md: {}",
                        kinds.iter().cloned().collect::<Vec<_>>().join(", "),
                        rule.why
                    ));
                }
                continue;
            }
            if !shipped {
                continue;
            }
            if let Theirs::Only(allowed) = rule.theirs
                && !allowed.contains(&dep.as_str())
            {
                failures.push(format!(
                    "crates/{name}/Cargo.toml: {name} depends on {dep}, not one of {allowed:?}; \
                     ARCHITECTURE.md: {}",
                    rule.why
                ));
            }
            for (names, owners, why) in RESTRICTED {
                if names.contains(&dep.as_str()) && !owners.contains(&name.as_str()) {
                    failures.push(format!(
                        "crates/{name}/Cargo.toml: {name} depends on {dep}, which only \
                         {owners:?} may use; ARCHITECTURE.md: {why}"
                    ));
                }
            }
        }
    }
    report(
        "crates depend only on what ARCHITECTURE.md allows",
        failures,
    );
}

/// A Rust source file of the workspace: its path from the root and text.
struct Source {
    path: String,
    text: String,
}

impl Source {
    fn in_crate(&self, name: &str) -> bool {
        self.path.starts_with(&format!("crates/{name}/"))
    }

    fn is_library_source(&self) -> bool {
        self.path.starts_with("crates/") && self.path.contains("/src/")
    }
}

/// Every `.rs` file under `crates/` and `fuzz/` (not under `target`).
fn sources() -> Vec<Source> {
    let root = root();
    let mut out = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("fuzz")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let rel = path.strip_prefix(&root).unwrap();
                let path = rel.to_string_lossy().replace('\\', "/");
                out.push(Source { path, text });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The text with comments, string literals and character literals blanked
/// to spaces (line breaks kept), so that searches see only code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            blank(&mut out, start, i);
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            blank(&mut out, start, i);
        } else if let Some(end) = raw_string_end(b, i) {
            i = end;
            blank(&mut out, start, i);
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            blank(&mut out, start, i);
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{7b}', '{'), or a lifetime.
            let width = text[i + 1..].chars().next().map_or(1, char::len_utf8);
            if b.get(i + 1) == Some(&b'\\') {
                // Past the backslash and the escaped character (which may
                // be a quote), then to the closing quote.
                i += 3;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
                blank(&mut out, start, i);
            } else if b.get(i + 1 + width) == Some(&b'\'') {
                i += 2 + width;
                blank(&mut out, start, i);
            } else {
                i += 1;
            }
        } else if ident(b[i]) {
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starting at `i` ends.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if b[j] == b'b' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = j + 1;
    let end = b[body..].windows(close.len()).position(|w| w == close)?;
    Some(body + end + close.len())
}

/// A function item found by [`functions`]: its name, first line and length.
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// The function items of a file with a body, by a simple scan of the code
/// (comments and literals blanked by [`code_only`]): the keyword `fn`
/// followed by a name starts an item; its body is the first `{` outside
/// parentheses and brackets after it (a `;` first means no body, as in a
/// trait's declaration), and ends at the matching `}`. The length counts
/// the lines from the `fn` line to the closing brace's, both included; a
/// nested function counts within its parent and on its own.
fn functions(text: &str) -> Vec<Function> {
    let code = code_only(text);
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let line_of = |at: usize| b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(at) = code[i..].find("fn").map(|p| p + i) {
        i = at + 2;
        let before = at.checked_sub(1).map(|p| b[p]);
        if before.is_some_and(ident) || !b.get(at + 2).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let name_start = at
            + 2
            + b[at + 2..]
                .iter()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        let name_len = b[name_start..].iter().take_while(|&&c| ident(c)).count();
        if name_len == 0 {
            continue;
        }
        let Some(open) = body_start(b, name_start + name_len) else {
            continue;
        };
        let Some(close) = matching_brace(b, open) else {
            continue;
        };
        let line = line_of(at);
        found.push(Function {
            name: code[name_start..name_start + name_len].to_owned(),
            line,
            lines: line_of(close) - line + 1,
        });
    }
    found
}

/// The `{` that opens the body after a function's name, or `None` when a
/// `;` (no body) comes first.
fn body_start(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, &c) in b.iter().enumerate().skip(from) {
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'{' if depth == 0 => return Some(k),
            b';' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

fn matching_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// The lines of code (comments and literals blanked) that contain `needle`.
fn lines_with(source: &Source, needle: &str) -> Vec<usize> {
    code_only(&source.text)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(n, _)| n + 1)
        .collect()
}

/// The longest a source file may be, in lines.
const FILE_LINES_MAX: usize = 1_000;
/// The longest a function may be, in lines (from `fn` to its closing brace).
const FUNCTION_LINES_MAX: usize = 150;

#[test]
fn no_source_file_is_over_1000_lines() {
    let failures = sources()
        .iter()
        .map(|s| (s, s.text.lines().count()))
        .filter(|(_, n)| *n > FILE_LINES_MAX)
        .map(|(s, n)| format!("{}: {n} lines", s.path))
        .collect();
    report(
        "no source file over 1,000 lines (split it into modules by topic)",
        failures,
    );
}

#[test]
fn no_function_is_over_150_lines() {
    let mut failures = Vec::new();
    for source in sources() {
        for f in functions(&source.text) {
            if f.lines > FUNCTION_LINES_MAX {
                failures.push(format!(
                    "{}:{}: fn {} is {} lines",
                    source.path, f.line, f.name, f.lines
                ));
            }
        }
    }
    report(
        "no function over 150 lines (move its steps into named helpers)",
        failures,
    );
}

#[test]
fn every_module_starts_with_its_doc() {
    let failures = sources()
        .iter()
        .filter(|s| s.is_library_source())
        .filter(|s| {
            let first = s.text.lines().find(|l| !l.trim().is_empty());
            !first.is_some_and(|l| l.trim_start().starts_with("//!"))
        })
        .map(|s| format!("{}: the first line is not a `//!` doc", s.path))
        .collect();
    report(
        "every src/**/*.rs module starts with a `//!` doc saying what it is for",
        failures,
    );
}

/// Files outside the store that may name `sqlx`: the test harness reads
/// the SQLite file as an outsider would, to show what is (and is not)
/// stored, e.g. that personal data is encrypted at rest.
const SQLX_OUTSIDE_THE_STORE: &[&str] = &["crates/shucang/tests/it/harness.rs"];

#[test]
fn nothing_but_the_store_knows_sql() {
    let mut failures = Vec::new();
    for source in sources() {
        if source.in_crate(STORE) || SQLX_OUTSIDE_THE_STORE.contains(&source.path.as_str()) {
            continue;
        }
        for line in lines_with(&source, "sqlx::") {
            failures.push(format!(
                "{}:{line}: sqlx:: outside shucang-store",
                source.path
            ));
        }
    }
    report(
        "no `sqlx::` outside crates/shucang-store (ARCHITECTURE.md: nothing but the store \
         crate knows SQL)",
        failures,
    );
}

#[test]
fn the_store_has_no_macro_rules() {
    let mut failures = Vec::new();
    for source in sources().iter().filter(|s| s.in_crate(STORE)) {
        for line in lines_with(source, "macro_rules!") {
            failures.push(format!("{}:{line}: macro_rules! in the store", source.path));
        }
    }
    report(
        "no `macro_rules!` in crates/shucang-store (plain functions that rust-analyzer can \
         check and navigate)",
        failures,
    );
}

#[test]
fn pure_crates_do_no_io() {
    let mut failures = Vec::new();
    let pure = [TYPES, VERIFY, CALENDAR];
    for source in sources()
        .iter()
        .filter(|s| s.is_library_source() && pure.iter().any(|c| s.in_crate(c)))
    {
        for needle in ["std::fs", "std::net", "std::process", "tokio::"] {
            for line in lines_with(source, needle) {
                failures.push(format!("{}:{line}: {needle}", source.path));
            }
        }
    }
    for source in sources()
        .iter()
        .filter(|s| s.is_library_source() && s.in_crate(CHAIN))
    {
        let code = code_only(&source.text);
        for (n, line) in code.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("tokio::") {
                if !rest[at..].starts_with("tokio::sync::oneshot") {
                    failures.push(format!(
                        "{}:{}: tokio beyond its oneshot channel",
                        source.path,
                        n + 1
                    ));
                }
                rest = &rest[at + "tokio::".len()..];
            }
        }
    }
    report(
        "shucang-types, -verify and -calendar do no I/O; shucang-chain uses tokio only for \
         its oneshot channel",
        failures,
    );
}

/// The scanner itself, on the cases that would fool a careless one.
#[test]
fn the_function_scan_sees_only_code() {
    let text = r##"
/// fn not_this() { in a comment }
fn one() -> &'static str {
    let c = '{';
    let q = ['\'', '\\', '\u{7d}'];
    let s = "} fn fake() {";
    let r = r#"}"#;
    s
}
trait T {
    fn declared(&self);
    fn given(&self) -> Option<fn(u8) -> u8> {
        None
    }
}
"##;
    let found: Vec<(String, usize, usize)> = functions(text)
        .into_iter()
        .map(|f| (f.name, f.line, f.lines))
        .collect();
    assert_eq!(
        found,
        [("one".to_owned(), 3, 7), ("given".to_owned(), 12, 3)]
    );
    let code = code_only("let x = \"sqlx::query\"; // sqlx::\nsqlx::query(q)");
    assert_eq!(code.lines().filter(|l| l.contains("sqlx::")).count(), 1);
}
