//! The client protocol without IO: the wire JSON shapes, frames and their
//! codec, the per-session state machine and its close reasons. Nothing here
//! touches sockets, tasks or the clock, and this crate cannot: it depends on
//! no runtime or network crate (see its Cargo.toml and tests/layering.rs).
//! The edge's link driver feeds inputs in and carries outputs out, the same
//! whether the link is WebSocket or WebTransport.
#![forbid(unsafe_code)]

pub mod call_error;
pub mod catchup;
pub mod close;
pub mod cut;
pub mod events;
pub mod frames;
pub mod json_error;
pub mod ratelimit;
pub mod session;
pub mod shown;
pub mod webhook;
pub mod wire;

pub use call_error::CallError;
pub use close::CloseReason;
pub use frames::{ClientFrame, ServerFrame};
pub use session::{
    AheadProfile, Call, CallResult, Delivery, Output, ReadyLoad, SendCall, Session, SessionConfig,
    SharedFrame,
};
