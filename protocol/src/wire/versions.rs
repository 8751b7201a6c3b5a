//! JSON shapes of mentions and of the versions of an edited message.

use chat_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Id, id_str};

/// A member a message mentions as `@username`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Mention {
    /// The member.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub user_id: u64,
    /// Where the `@` is in the text, in Unicode scalar values.
    pub offset: u32,
    /// How long the mention is, `@` included, in Unicode scalar values.
    pub length: u32,
}

impl From<pb::Mention> for Mention {
    fn from(m: pb::Mention) -> Self {
        Self {
            user_id: m.user_id,
            offset: m.offset,
            length: m.length,
        }
    }
}

/// One text a message has had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageVersion {
    /// `"0"` for the text as first sent, else the `version_id` the edit took.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub version_id: u64,
    /// The text.
    pub text: String,
    /// When it was written, Unix milliseconds.
    pub created_at_ms: i64,
}

impl From<pb::MessageVersion> for MessageVersion {
    fn from(v: pb::MessageVersion) -> Self {
        Self {
            version_id: v.version_id,
            text: v.text,
            created_at_ms: v.created_at_ms,
        }
    }
}
