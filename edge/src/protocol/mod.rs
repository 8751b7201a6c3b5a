//! The client protocol without IO: frames, their codec and the per-session
//! state machine. Nothing here touches sockets, tasks or the clock; the
//! WebSocket driver feeds inputs in and carries outputs out.

pub mod catchup;
pub mod cut;
pub mod events;
pub mod frames;
pub mod json_error;
pub mod ratelimit;
pub mod session;
pub mod shown;

pub use frames::{ClientFrame, ServerFrame};
pub use session::{
    AheadProfile, Call, CallResult, Delivery, Output, ReadyLoad, SendCall, Session, SessionConfig,
    SharedFrame,
};
