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
    /// Profile: the name shown instead of the username; empty if unset.
    pub display_name: String,
    /// Profile: a short status line; empty if unset.
    pub status_text: String,
    /// Profile: an http(s) URL of a picture; empty if unset.
    pub avatar_url: String,
    /// When the user was last seen active, Unix milliseconds; 0 if never.
    pub last_active_at_ms: i64,
    /// For a bot account, the user who owns it; 0 for a person.
    pub bot_owner_id: Id,
}

impl UserRecord {
    /// A new account with an empty profile.
    pub fn new(id: Id, username: String, password_hash: String, created_at_ms: i64) -> Self {
        Self {
            id,
            username,
            password_hash,
            created_at_ms,
            display_name: String::new(),
            status_text: String::new(),
            avatar_url: String::new(),
            last_active_at_ms: 0,
            bot_owner_id: 0,
        }
    }

    /// Whether this is a bot account.
    pub fn is_bot(&self) -> bool {
        self.bot_owner_id != 0
    }
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New status text.
    pub status_text: Option<String>,
    /// New avatar URL.
    pub avatar_url: Option<String>,
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
    /// The device it was issued to, as the client named it.
    pub device: String,
    /// When it was last used, Unix milliseconds (to the touch interval).
    pub last_used_at_ms: i64,
    /// When it stops working unless used again, Unix milliseconds; 0 for a
    /// token from before expiry existed, which gets a lifetime at its next use.
    pub expires_at_ms: i64,
}

/// Which of a user's tokens to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFilter {
    /// The one with this id.
    Id(Id),
    /// Every one but this (or every one, with `None`).
    AllExcept(Option<Id>),
    /// Those expired at this time, Unix milliseconds.
    ExpiredBy(i64),
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

/// A member's role in a group; the owner is the channel's `owner_id`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Role {
    /// May read, write, add members and leave.
    #[default]
    Member,
    /// May also rename the group, remove members and delete others' messages.
    Admin,
}

/// A member of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRecord {
    /// The user.
    pub user_id: Id,
    /// Their role.
    pub role: Role,
    /// When they joined, Unix milliseconds.
    pub joined_at_ms: i64,
}

/// Changes to a group's members, applied atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipChange {
    /// A member to remove.
    pub remove: Option<Id>,
    /// A new owner, who must be a member.
    pub owner: Option<Id>,
    /// Members whose role changes.
    pub roles: Vec<(Id, Role)>,
}

/// One `@username` in a message that names a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    /// The member.
    pub user_id: Id,
    /// Where the `@` is, in Unicode scalar values.
    pub offset: u32,
    /// How long the mention is, `@` included, in Unicode scalar values.
    pub length: u32,
}

/// One earlier or current text of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// 0 for the text as first sent, else the version it was written at.
    pub version_id: Id,
    /// The text.
    pub text: String,
    /// When it was written, Unix milliseconds.
    pub created_at_ms: i64,
}

/// A message ready to be written: its id is already assigned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// Snowflake id, greater than every earlier id of the channel.
    pub id: Id,
    /// Channel it belongs to.
    pub channel_id: Id,
    /// Author.
    pub sender_id: Id,
    /// Idempotency key chosen by the client.
    pub client_msg_id: String,
    /// Body; empty once deleted.
    pub text: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// When the text was last edited, Unix milliseconds; 0 if never.
    pub edited_at_ms: i64,
    /// Deleted: a tombstone that keeps its place in history.
    pub deleted: bool,
    /// An id taken when the message was last edited or deleted, 0 if never:
    /// later changes have larger versions than every earlier id.
    pub version_id: Id,
    /// Members the text mentions, in text order.
    pub mentions: Vec<Mention>,
    /// Who deleted it when that was not the author (a moderator), else 0.
    pub deleted_by: Id,
}

/// A stored message.
pub type MessageRecord = NewMessage;

/// A change to a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageChange {
    /// Replace the text (and the mentions it holds); the old text is kept
    /// as a version.
    Edit {
        /// The new text.
        text: String,
        /// The members it mentions.
        mentions: Vec<Mention>,
    },
    /// Remove the text, its versions and its mentions, and mark the
    /// message deleted by `by`.
    Delete {
        /// Who deleted it.
        by: Id,
    },
}

/// Most unread messages counted per channel; more reads as this many.
pub const UNREAD_CAP: u32 = 1000;

/// A user's read position in one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadState {
    /// The channel.
    pub channel_id: Id,
    /// Largest message id read; 0 if none.
    pub last_read_id: Id,
    /// Messages from others after it that are not deleted, at most [`UNREAD_CAP`].
    pub unread_count: u32,
    /// Of those, the ones that mention the user, at most [`UNREAD_CAP`].
    pub mention_count: u32,
}

/// Which messages notify a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NotificationLevel {
    /// Every message.
    #[default]
    All,
    /// Only messages that mention the user.
    Mentions,
    /// None.
    Nothing,
}

/// A user's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsRecord {
    /// Which messages notify.
    pub notifications: NotificationLevel,
    /// Channels that never notify, ascending.
    pub muted_channel_ids: Vec<Id>,
    /// Appear offline to everyone else.
    pub invisible: bool,
}

/// How one user stands with another, from the first user's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    /// Friends, both ways.
    Friend,
    /// The other user asked to be friends.
    Incoming,
    /// This user asked to be friends.
    Outgoing,
    /// This user blocked the other.
    Blocked,
}

/// One side of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationRecord {
    /// The other user.
    pub other_id: Id,
    /// How this user stands with them.
    pub kind: RelationKind,
    /// When it took this form, Unix milliseconds.
    pub since_ms: i64,
}

/// A change to one side of a relationship: `(user, other, kind)`, where
/// `None` removes the user's side.
pub type RelationChange = (Id, Id, Option<RelationKind>);

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
