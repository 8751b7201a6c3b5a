//! JSON shapes shared by the REST API and the WebSocket frames. Ids are
//! 64-bit and travel as decimal strings, which JavaScript reads exactly.

mod sessions;
mod state;
mod versions;

use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use sessions::Session;
pub use state::{
    ChannelState, Notifications, Presence, PresenceStatus, ReadState, Relationship,
    RelationshipKind, Settings,
};
pub use versions::{Mention, MessageVersion};

/// The OpenAPI schema of an id: a decimal string of a u64, as every id is
/// written. Fields stay `u64` (with [`id_str`] or [`id_list`]) and name it
/// with `#[schema(value_type = Id)]`, path parameters with `= Id`.
pub struct Id;

impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{1,20}$"))
            .description(Some(
                "A 64-bit id written as a decimal string; ids grow with time. Request bodies may give a JSON number instead.",
            ))
            .examples(["250575636375015424"])
            .into()
    }
}

impl ToSchema for Id {}

/// Serde for ids as decimal strings; numbers are accepted on input too.
pub mod id_str {
    use std::fmt;

    use serde::de::{Error, Unexpected, Visitor};
    use serde::{Deserializer, Serializer};

    /// Writes an id as a string.
    pub fn serialize<S: Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(id)
    }

    /// Reads an id from a string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(IdVisitor)
    }

    /// Parses the decimal text of an id.
    pub(super) fn parse<E: Error>(s: &str) -> Result<u64, E> {
        s.parse()
            .map_err(|_| E::custom(format!("invalid id {s:?}: expected a decimal u64")))
    }

    /// Takes the value as the deserializer found it, without buffering.
    /// `visit_borrowed_str` and `visit_string` fall through to `visit_str`
    /// (serde's defaults), so borrowed and owned strings are read in place.
    struct IdVisitor;

    impl Visitor<'_> for IdVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id (a decimal u64, as a string or a number)")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<u64, E> {
            parse(s)
        }
    }
}

/// Serde for lists of ids as strings.
pub mod id_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Id(#[serde(with = "super::id_str")] u64);

    /// Writes ids as strings.
    pub fn serialize<S: Serializer>(ids: &[u64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(|id| Id(*id)))
    }

    /// Reads ids from strings or numbers.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        Ok(Vec::<Id>::deserialize(d)?
            .into_iter()
            .map(|i| i.0)
            .collect())
    }
}

/// A JSON object from id to id (`{"<channel id>": "<message id>"}`), read
/// into pairs in key order.
pub mod id_map {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Error, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    struct Id(#[serde(with = "super::id_str")] u64);

    /// A key, borrowed from the input unless it had escapes.
    struct Key<'a>(Cow<'a, str>);

    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(KeyVisitor)
        }
    }

    struct KeyVisitor;

    impl<'de> Visitor<'de> for KeyVisitor {
        type Value = Key<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Key<'de>, E> {
            Ok(Key(Cow::Borrowed(s)))
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Key<'de>, E> {
            Ok(Key(Cow::Owned(s.to_owned())))
        }

        fn visit_string<E: Error>(self, s: String) -> Result<Key<'de>, E> {
            Ok(Key(Cow::Owned(s)))
        }
    }

    struct PairsVisitor;

    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(u64, u64)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some((Key(key), Id(value))) = map.next_entry()? {
                entries.push((key, value));
            }
            // The order and duplicate handling of a `BTreeMap<String, _>`:
            // keys sorted as strings, the last of equal keys winning.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    kept.1 = later.1;
                }
                same
            });
            entries
                .into_iter()
                .map(|(key, value)| Ok((super::id_str::parse(&key)?, value)))
                .collect()
        }
    }

    /// Reads the object.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, u64)>, D::Error> {
        d.deserialize_map(PairsVisitor)
    }
}

/// A user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// User id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// Name to show instead of the username; empty when unset.
    pub display_name: String,
    /// A short status line; empty when unset.
    pub status_text: String,
    /// An http(s) URL of a picture; empty when unset.
    pub avatar_url: String,
    /// For a bot account, the user who owns it; absent for a person.
    #[serde(default, skip_serializing_if = "is_zero_id", with = "id_str")]
    #[schema(value_type = Id)]
    pub bot_owner_id: u64,
}

/// A stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Message id; ids increase in a channel's order.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// Channel id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub channel_id: u64,
    /// Author's user id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub sender_id: u64,
    /// Body, 1 to 100,000 characters; empty once deleted.
    pub text: String,
    /// The sender's idempotency key.
    pub client_msg_id: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// When the text was last edited (Unix milliseconds); absent if never.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub edited_at_ms: i64,
    /// Present and true for a deleted message (a tombstone).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// Present once edited or deleted: of two copies of a message, keep the
    /// one with the larger version.
    #[serde(default, skip_serializing_if = "is_zero_id", with = "id_str")]
    #[schema(value_type = Id)]
    pub version_id: u64,
    /// Members the text mentions as `@username`, in text order; absent if none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// Present on a tombstone when someone other than the author (an owner
    /// or admin of the group) deleted the message: who did.
    #[serde(default, skip_serializing_if = "is_zero_id", with = "id_str")]
    #[schema(value_type = Id)]
    pub deleted_by: u64,
}

fn is_zero_id(v: &u64) -> bool {
    *v == 0
}

pub(crate) fn is_zero(v: &i64) -> bool {
    *v == 0
}

pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

/// Whether a channel is 1:1 or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Two users, fixed.
    Direct,
    /// Named, with an owner and changing members.
    Group,
}

/// A channel and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    /// Channel id.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// Direct or group.
    pub kind: ChannelKind,
    /// Group name; empty for direct channels.
    pub name: String,
    /// The owner's user id: the creator, until ownership passes on.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub owner_id: u64,
    /// Member user ids, ascending.
    #[serde(with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub member_ids: Vec<u64>,
    /// Members who are admins (besides the owner), ascending.
    #[serde(with = "id_list")]
    #[schema(value_type = Vec<Id>)]
    pub admin_ids: Vec<u64>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    /// Id of the newest message, "0" when there is none.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub last_message_id: u64,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            created_at_ms: u.created_at_ms,
            display_name: u.display_name,
            status_text: u.status_text,
            avatar_url: u.avatar_url,
            bot_owner_id: u.bot_owner_id,
        }
    }
}

impl From<pb::Message> for Message {
    fn from(m: pb::Message) -> Self {
        Self {
            id: m.id,
            channel_id: m.channel_id,
            sender_id: m.sender_id,
            text: m.text,
            client_msg_id: m.client_msg_id,
            created_at_ms: m.created_at_ms,
            edited_at_ms: m.edited_at_ms,
            deleted: m.deleted,
            version_id: m.version_id,
            mentions: m.mentions.into_iter().map(Mention::from).collect(),
            deleted_by: m.deleted_by,
        }
    }
}

impl From<pb::Channel> for Channel {
    fn from(c: pb::Channel) -> Self {
        Self {
            id: c.id,
            kind: if c.kind == pb::ChannelKind::Direct as i32 {
                ChannelKind::Direct
            } else {
                ChannelKind::Group
            },
            name: c.name,
            owner_id: c.owner_id,
            member_ids: c.member_ids,
            admin_ids: c.admin_ids,
            created_at_ms: c.created_at_ms,
            last_message_id: c.last_message_id,
        }
    }
}

#[cfg(test)]
mod tests;
