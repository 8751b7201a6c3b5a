//! Plain records that cross the storage boundary.

use super::Id;

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Snowflake id.
    pub id: Id,
    /// Display form of the unique username.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// A stored session token; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Snowflake id, safe to log and to name in revocation events.
    pub id: Id,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// Whose token it is.
    pub user_id: Id,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// Whether a channel is 1:1 or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Two users (or one user with themself), fixed membership.
    Direct,
    /// A named group with an owner.
    Group,
}

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// Snowflake id.
    pub id: Id,
    /// Direct or group.
    pub kind: ChannelKind,
    /// Group name; empty for direct channels.
    pub name: String,
    /// Creator.
    pub owner_id: Id,
    /// For direct channels, `"{low}:{high}"` of the two user ids.
    pub direct_key: Option<String>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// Largest message id, 0 if none; filled in by reads.
    pub last_message_id: Id,
}

/// A message ready to be written: its id is already assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Snowflake id, greater than every earlier id of the channel.
    pub id: Id,
    /// Channel it belongs to.
    pub channel_id: Id,
    /// Author.
    pub sender_id: Id,
    /// Idempotency key chosen by the client.
    pub client_msg_id: String,
    /// Body.
    pub text: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// A stored message.
pub type MessageRecord = NewMessage;

/// The outcome of appending one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Written now.
    Inserted(MessageRecord),
    /// Its idempotency key was used before; this is the stored message.
    Duplicate(MessageRecord),
}

impl Appended {
    /// The stored message, new or old.
    pub fn message(&self) -> &MessageRecord {
        match self {
            Appended::Inserted(m) | Appended::Duplicate(m) => m,
        }
    }
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAnchor {
    /// The newest messages.
    Latest,
    /// Messages with smaller ids.
    Before(Id),
    /// Messages with larger ids.
    After(Id),
    /// About half before, the rest from this id on.
    Around(Id),
}

/// A page of history, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    /// Messages in id order.
    pub messages: Vec<MessageRecord>,
    /// Older messages exist beyond this page.
    pub has_more_before: bool,
    /// Newer messages exist beyond this page.
    pub has_more_after: bool,
}
