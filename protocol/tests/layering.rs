//! The protocol crate stays free of IO: its manifest names only the allowed
//! dependencies, and its sources never name a runtime, a socket or a gRPC
//! client, server or stream. A change that pulls one in fails here, not in review.

use std::fs;
use std::path::{Path, PathBuf};

/// The only crates `chat-protocol` may depend on.
const ALLOWED: &[&str] = &[
    "base64",
    "chat-proto",
    "hmac",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "sha2",
    "thiserror",
    "utoipa",
];

/// Names a source file of the sans-IO layer must never contain.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "tonic",
    "hyper",
    "axum",
    "wtransport",
    "quinn",
    "tungstenite",
    "std::net",
    "std::thread",
    "chat_proto::link",
    "_client::",
    "_server::",
    "EventStream",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The crate names listed under `[dependencies]` in the manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once(['=', '.']) {
            names.push(name.trim().to_string());
        }
    }
    names
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn manifest_names_only_the_allowed_dependencies() {
    let manifest = fs::read_to_string(manifest_dir().join("Cargo.toml")).expect("Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(deps.contains(&"serde".to_string()), "parser saw {deps:?}");
    let extra: Vec<_> = deps
        .iter()
        .filter(|d| !ALLOWED.contains(&d.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "chat-protocol must not depend on {extra:?}: it is the sans-IO layer"
    );
    assert!(
        !manifest.contains("[target."),
        "no target-specific dependencies either"
    );
}

#[test]
fn sources_name_no_runtime_socket_or_grpc_stream() {
    let mut files = Vec::new();
    rust_files(&manifest_dir().join("src"), &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    found.push(format!("{}:{}: {word}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "IO in the sans-IO layer:\n{}",
        found.join("\n")
    );
}

/// Code outside tests never reads the clock: time comes in as an argument.
#[test]
fn non_test_code_reads_no_clock() {
    let mut files = Vec::new();
    rust_files(&manifest_dir().join("src"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let is_test = file
            .components()
            .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "tests.rs");
        if is_test {
            continue;
        }
        let text = fs::read_to_string(file).expect("source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        if code.contains("::now(") {
            found.push(file.display().to_string());
        }
    }
    assert!(found.is_empty(), "clock read outside tests: {found:?}");
}

#[test]
fn the_checks_would_catch_a_violation() {
    let deps = dependencies(
        "[dependencies]\nserde.workspace = true\ntokio = \"1\"\n[dev-dependencies]\nx = \"1\"\n",
    );
    assert_eq!(deps, ["serde", "tokio"]);
    assert!(
        FORBIDDEN
            .iter()
            .any(|w| "use tokio::net::TcpStream;".contains(w))
    );
}
