//! Regenerates the checked-in gRPC code and fails if it drifted from the
//! `.proto` files. Set `CHAT_PROTO_BLESS=1` to write the new code instead.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generated_code_matches_proto_files() {
    let root = root();
    let fds = protox::compile(["chat/core/v1/core.proto"], [root.join("proto")])
        .expect("proto files compile");
    let out = tempfile::tempdir().expect("temp dir");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .out_dir(out.path())
        .compile_fds(fds)
        .expect("code generation");
    let name = "chat.core.v1.rs";
    let fresh = std::fs::read_to_string(out.path().join(name)).expect("generated file");
    let checked_in_path = root.join("src/gen").join(name);
    if std::env::var_os("CHAT_PROTO_BLESS").is_some() {
        std::fs::write(&checked_in_path, &fresh).expect("write generated code");
        return;
    }
    let checked_in = std::fs::read_to_string(&checked_in_path).unwrap_or_default();
    assert!(
        fresh == checked_in,
        "{} is stale: run `CHAT_PROTO_BLESS=1 cargo test -p chat-proto --test codegen`",
        Path::new("proto/src/gen").join(name).display()
    );
}
