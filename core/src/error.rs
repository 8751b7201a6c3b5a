//! The core's error type and its one mapping onto gRPC status.

use tonic::{Code, Status};

use crate::store::StoreError;

pub use chat_proto::{ERROR_CODE_KEY, OWNER_KEY, RETRY_AFTER_KEY};

/// Why a core operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A request field is out of its allowed range; `code` names which rule.
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code, e.g. `text_too_long`.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
    /// The username is in use.
    #[error("username is already taken")]
    UsernameTaken,
    /// Wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The token is unknown, malformed or logged out.
    #[error("token is invalid or logged out")]
    InvalidToken,
    /// A call on behalf of a user came without their bearer token.
    #[error("the call carries no bearer token")]
    MissingToken,
    /// The request acts for another user than its token's.
    #[error("the request acts for another user than its token's")]
    ActorMismatch,
    /// No such user.
    #[error("user not found")]
    UserNotFound,
    /// No such channel, or the actor is not a member of it: the two get
    /// the same answer, so nobody learns which channels exist.
    #[error("channel not found")]
    ChannelNotFound,
    /// Only the channel's owner may do this.
    #[error("only the channel's owner can do this")]
    NotChannelOwner,
    /// Only the channel's owner or an admin may do this.
    #[error("only the channel's owner or an admin can do this")]
    NotChannelAdmin,
    /// No such token (signed-in session) of the actor.
    #[error("session not found")]
    SessionNotFound,
    /// No such push target of the actor.
    #[error("push target not found")]
    PushTargetNotFound,
    /// No such bot of the actor (another user's bot gets the same answer).
    #[error("bot not found")]
    BotNotFound,
    /// A bot tried what only a person may do; the text names what.
    #[error("a bot cannot {0}")]
    BotsCannot(&'static str),
    /// A person tried what only a bot may do; the text names what.
    #[error("only a bot can {0}")]
    BotsOnly(&'static str),
    /// No bot of that username is a member of the channel.
    #[error("no bot named {0:?} is a member of this channel")]
    UnknownCommand(String),
    /// The bot has no webhook.
    #[error("the bot has no webhook")]
    WebhookNotFound,
    /// A bot sent faster than its limit allows.
    #[error("a bot may not send this fast; retry in {retry_after_ms} ms")]
    RateLimited {
        /// How long to wait, in milliseconds.
        retry_after_ms: u64,
    },
    /// Another live edge holds the edge id asked for.
    #[error(
        "edge id {0} is held by another running edge; give each edge its own edge_id, or 0 to have one assigned"
    )]
    EdgeIdTaken(u64),
    /// Too many failed logins: wait before trying again.
    #[error("too many failed attempts; try again in {} s", retry_after_ms.div_ceil(1000))]
    TooManyAttempts {
        /// How long to wait, in milliseconds.
        retry_after_ms: u64,
    },
    /// Direct channels have fixed members.
    #[error("members of a direct channel cannot change")]
    DirectChannelFixed,
    /// The group is at its member limit.
    #[error("the channel has reached its limit of {limit} members")]
    ChannelFull {
        /// The configured limit.
        limit: usize,
    },
    /// No such message in the channel.
    #[error("message not found")]
    MessageNotFound,
    /// Only the author may change a message.
    #[error("only the author can edit or delete a message")]
    NotYourMessage,
    /// One of the two users blocked the other.
    #[error("you cannot do this while one of you blocks the other")]
    Blocked,
    /// The request is valid but does not fit the current state.
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable code, e.g. `no_friend_request`.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
    /// This node does not own the channel; `owner` is the node believed to.
    #[error("this core does not own channel {channel}; retry at {}", owner.map_or("the owner once one is live".to_owned(), |o| format!("core node {o}")))]
    NotOwner {
        /// The channel.
        channel: u64,
        /// The owner's node id, if one is known.
        owner: Option<u64>,
    },
    /// The core is overloaded; retry later.
    #[error("server is busy, retry later")]
    Overloaded,
    /// Storage failed; nothing was written.
    #[error("storage unavailable: {0}")]
    Storage(#[from] StoreError),
}

impl CoreError {
    /// A `Conflict` error.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// An `Invalid` error.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// Stable machine-readable code, documented in `docs/protocol.md`.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid { code, .. } => code,
            CoreError::UsernameTaken => "username_taken",
            CoreError::InvalidCredentials => "invalid_credentials",
            CoreError::InvalidToken => "invalid_token",
            CoreError::MissingToken => "missing_token",
            CoreError::ActorMismatch => "actor_mismatch",
            CoreError::UserNotFound => "user_not_found",
            CoreError::ChannelNotFound => "channel_not_found",
            CoreError::NotChannelOwner => "not_channel_owner",
            CoreError::NotChannelAdmin => "not_channel_admin",
            CoreError::SessionNotFound => "session_not_found",
            CoreError::PushTargetNotFound => "push_target_not_found",
            CoreError::BotNotFound => "bot_not_found",
            CoreError::BotsCannot(_) => "bots_cannot",
            CoreError::BotsOnly(_) => "bots_only",
            CoreError::UnknownCommand(_) => "unknown_command",
            CoreError::WebhookNotFound => "webhook_not_found",
            CoreError::RateLimited { .. } => "rate_limited",
            CoreError::EdgeIdTaken(_) => "edge_id_taken",
            CoreError::TooManyAttempts { .. } => "too_many_attempts",
            CoreError::DirectChannelFixed => "direct_channel_fixed",
            CoreError::ChannelFull { .. } => "channel_full",
            CoreError::MessageNotFound => "message_not_found",
            CoreError::NotYourMessage => "not_your_message",
            CoreError::Blocked => "blocked",
            CoreError::Conflict { code, .. } => code,
            CoreError::NotOwner { .. } => "not_owner",
            CoreError::Overloaded => "overloaded",
            CoreError::Storage(StoreError::Conflict(_)) => "conflict",
            CoreError::Storage(StoreError::Backend(_)) => "storage_unavailable",
            CoreError::Storage(StoreError::Fenced { .. }) => "not_owner",
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            CoreError::Invalid { .. } => Code::InvalidArgument,
            CoreError::UsernameTaken | CoreError::EdgeIdTaken(_) => Code::AlreadyExists,
            CoreError::InvalidCredentials | CoreError::InvalidToken | CoreError::MissingToken => {
                Code::Unauthenticated
            }
            CoreError::UserNotFound
            | CoreError::ChannelNotFound
            | CoreError::MessageNotFound
            | CoreError::SessionNotFound
            | CoreError::PushTargetNotFound
            | CoreError::BotNotFound
            | CoreError::UnknownCommand(_)
            | CoreError::WebhookNotFound => Code::NotFound,
            CoreError::NotChannelOwner
            | CoreError::ActorMismatch
            | CoreError::NotChannelAdmin
            | CoreError::NotYourMessage
            | CoreError::BotsCannot(_)
            | CoreError::BotsOnly(_)
            | CoreError::Blocked => Code::PermissionDenied,
            CoreError::DirectChannelFixed
            | CoreError::ChannelFull { .. }
            | CoreError::Conflict { .. } => Code::FailedPrecondition,
            CoreError::Overloaded
            | CoreError::TooManyAttempts { .. }
            | CoreError::RateLimited { .. } => Code::ResourceExhausted,
            CoreError::Storage(StoreError::Conflict(_)) => Code::Aborted,
            // Nothing was written: the same call succeeds at the owner.
            CoreError::NotOwner { .. }
            | CoreError::Storage(StoreError::Backend(_) | StoreError::Fenced { .. }) => {
                Code::Unavailable
            }
        }
    }
}

impl From<crate::ownership::NotOwner> for CoreError {
    fn from(n: crate::ownership::NotOwner) -> Self {
        CoreError::NotOwner {
            channel: n.channel,
            owner: n.owner,
        }
    }
}

impl From<CoreError> for Status {
    fn from(err: CoreError) -> Status {
        let message = match &err {
            // Backend details go to the log, not to clients.
            CoreError::Storage(StoreError::Backend(detail)) => {
                tracing::error!(%detail, "storage failure");
                "storage unavailable, nothing was written".to_owned()
            }
            other => other.to_string(),
        };
        let mut status = Status::new(err.grpc_code(), message);
        if let Ok(value) = err.code().parse() {
            status.metadata_mut().insert(ERROR_CODE_KEY, value);
        }
        let owner = match &err {
            CoreError::NotOwner { owner, .. } => *owner,
            // The newest claim's holder: the owner storage knows of.
            CoreError::Storage(StoreError::Fenced { owner, .. }) => Some(*owner),
            _ => None,
        };
        if let Some(owner) = owner
            && let Ok(value) = owner.to_string().parse()
        {
            status.metadata_mut().insert(OWNER_KEY, value);
        }
        if let CoreError::TooManyAttempts { retry_after_ms }
        | CoreError::RateLimited { retry_after_ms } = err
            && let Ok(value) = retry_after_ms.to_string().parse()
        {
            status.metadata_mut().insert(RETRY_AFTER_KEY, value);
        }
        status
    }
}
