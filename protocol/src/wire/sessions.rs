//! JSON shapes of a user's signed-in sessions (their tokens).

use chat_proto::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Id, id_str};

/// One signed-in device: a token, never shown again after sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Session {
    /// The token's id, to end it with `DELETE /api/v1/auth/sessions/{id}`.
    #[serde(with = "id_str")]
    #[schema(value_type = Id)]
    pub id: u64,
    /// The device name given at sign-in (or the browser's User-Agent).
    pub device: String,
    /// When it was issued, Unix milliseconds.
    pub created_at_ms: i64,
    /// When it was last used, Unix milliseconds (to the hour).
    pub last_used_at_ms: i64,
    /// When it stops working unless used again, Unix milliseconds.
    pub expires_at_ms: i64,
    /// True for the token this request used.
    pub current: bool,
}

impl Session {
    /// A token as its owner sees it.
    pub fn from_pb(t: pb::TokenInfo, current: u64) -> Self {
        Self {
            current: t.id == current,
            id: t.id,
            device: t.device,
            created_at_ms: t.created_at_ms,
            last_used_at_ms: t.last_used_at_ms,
            expires_at_ms: t.expires_at_ms,
        }
    }
}
