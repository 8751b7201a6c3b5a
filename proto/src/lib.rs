//! gRPC definitions between edge and core.
//!
//! The Rust code in `src/gen` is generated from `proto/` and checked in, so
//! that builds need no `protoc`; `tests/codegen.rs` regenerates it and fails
//! when it differs.

/// Version 1 of the core service, package `chat.core.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    include!("gen/chat.core.v1.rs");
}
