//! What a session asks of the core, and the answers.

use std::convert::Infallible;

use crate::CallError;
use crate::wire::{ChannelState, Message, Presence, Settings, User};

/// A request to the core. `S` is what a send carries: a [`SendCall`] as
/// the session asks for it, [`Infallible`] for a call known not to be a
/// send (sends travel on their own stream; see [`Call::into_unary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call<S = SendCall> {
    /// Resolve a token.
    Authenticate {
        /// The bearer token.
        token: String,
    },
    /// Store a message.
    Send(S),
    /// Load the user's settings and channels for `ready`.
    Ready,
    /// Move the read position.
    MarkRead {
        /// The channel.
        channel_id: u64,
        /// The newest message read.
        message_id: u64,
    },
    /// Tell the other members the user is typing.
    Typing {
        /// The channel.
        channel_id: u64,
    },
    /// Replace a message's text.
    Edit {
        /// The channel.
        channel_id: u64,
        /// The message.
        message_id: u64,
        /// The new text.
        text: String,
    },
    /// Delete a message.
    Delete {
        /// The channel.
        channel_id: u64,
        /// The message.
        message_id: u64,
    },
    /// Start watching the presence of a channel's members.
    Watch {
        /// The channel.
        channel_id: u64,
    },
    /// Stop watching.
    Unwatch {
        /// The channel.
        channel_id: u64,
    },
    /// Read the messages of `channel_id` changed after version `after`.
    Changes {
        /// Channel to read.
        channel_id: u64,
        /// Exclusive lower bound of versions.
        after: u64,
        /// Page size.
        limit: u32,
    },
    /// Read the page of `channel_id` after message id `after`.
    History {
        /// Channel to read.
        channel_id: u64,
        /// Exclusive lower bound.
        after: u64,
        /// Page size.
        limit: u32,
    },
}

/// The message a [`Call::Send`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCall {
    /// Target channel.
    pub channel_id: u64,
    /// Idempotency key.
    pub client_msg_id: String,
    /// Body.
    pub text: String,
}

impl Call {
    /// The send this is, or the same call typed as no send, so that what
    /// runs calls other than sends needs no arm for them.
    pub fn into_unary(self) -> Result<Call<Infallible>, SendCall> {
        Ok(match self {
            Call::Send(send) => return Err(send),
            Call::Authenticate { token } => Call::Authenticate { token },
            Call::Ready => Call::Ready,
            Call::MarkRead {
                channel_id,
                message_id,
            } => Call::MarkRead {
                channel_id,
                message_id,
            },
            Call::Typing { channel_id } => Call::Typing { channel_id },
            Call::Edit {
                channel_id,
                message_id,
                text,
            } => Call::Edit {
                channel_id,
                message_id,
                text,
            },
            Call::Delete {
                channel_id,
                message_id,
            } => Call::Delete {
                channel_id,
                message_id,
            },
            Call::Watch { channel_id } => Call::Watch { channel_id },
            Call::Unwatch { channel_id } => Call::Unwatch { channel_id },
            Call::Changes {
                channel_id,
                after,
                limit,
            } => Call::Changes {
                channel_id,
                after,
                limit,
            },
            Call::History {
                channel_id,
                after,
                limit,
            } => Call::History {
                channel_id,
                after,
                limit,
            },
        })
    }
}

/// What `ready` is made of, as the core answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyLoad {
    /// The user's settings.
    pub settings: Settings,
    /// Every channel of the user with their read position.
    pub channels: Vec<ChannelState>,
    /// The profiles the channel list shows: 1:1 peers and last authors.
    pub users: Vec<User>,
    /// Channels of at most this many members have read receipts.
    pub receipts_max_members: u32,
}

/// The core's answer to a [`Call`].
#[derive(Debug, Clone, PartialEq)]
pub enum CallResult {
    /// The answer to `Authenticate`: the user and the token's id.
    Authenticated(Result<(User, u64), CallError>),
    /// The answer to `Send`.
    Sent {
        /// The key of the send.
        client_msg_id: String,
        /// The stored message and whether it was a duplicate.
        result: Result<(Message, bool), CallError>,
    },
    /// The answer to `Ready`.
    Ready(Result<ReadyLoad, CallError>),
    /// The answer to a call whose success needs no frame.
    Done {
        /// The channel the call named.
        channel_id: u64,
        /// The message the call named, if any.
        message_id: Option<u64>,
        /// Nothing, or why it failed.
        result: Result<(), CallError>,
    },
    /// The answer to `Watch`: the members' presence now.
    Watched {
        /// The channel.
        channel_id: u64,
        /// Their presence, or why not.
        result: Result<Vec<Presence>, CallError>,
    },
    /// The answer to `Unwatch`.
    Unwatched {
        /// The channel.
        channel_id: u64,
        /// Nothing, or why it failed.
        result: Result<(), CallError>,
    },
    /// A page of changed messages and whether more exist.
    Changes {
        /// The channel read.
        channel_id: u64,
        /// The page, or why it could not be read.
        result: Result<(Vec<Message>, bool), CallError>,
    },
    /// A catch-up page: the messages and whether newer ones exist.
    History {
        /// The channel read.
        channel_id: u64,
        /// The page, or why it could not be read.
        result: Result<(Vec<Message>, bool), CallError>,
    },
}
