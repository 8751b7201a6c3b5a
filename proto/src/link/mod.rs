//! The gRPC link between edge and core: HTTP/2 settings both ends share,
//! and the in-memory link of the single-node server.

pub mod memory;
pub mod tuning;

/// Largest gRPC message either end sends or accepts: a history page of 100
/// messages of 100,000 four-byte characters is 40 MB.
pub const MAX_MESSAGE_BYTES: usize = 128 << 20;
