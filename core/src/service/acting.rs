//! The one check of calls made on behalf of a user. The edge sends the
//! user's bearer token as gRPC metadata (`authorization: Bearer <token>`);
//! the core resolves it to a principal (through the principal cache, else
//! storage) and refuses a request that claims to act for anyone else. So a
//! client of the core's port can act only as the holder of a live token.

use chat_proto::AUTHORIZATION_KEY;
use chat_proto::v1 as pb;
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use super::CoreService;
use super::required::{Required, valid};
use crate::accounts::token_hash;
use crate::error::CoreError;
use crate::principals::Principal;
use crate::store::{Id, Store};

/// A request made on behalf of a user.
pub trait OnBehalf {
    /// The user it acts for; `None` when any signed-in user may make it.
    fn actor(&self) -> Option<Id>;

    /// A token of the caller's it names, which must be the caller's own.
    fn own_token(&self) -> Option<Id> {
        None
    }
}

macro_rules! acts_for_actor_id {
    ($($ty:ident),* $(,)?) => {
        $(impl OnBehalf for pb::$ty {
            fn actor(&self) -> Option<Id> {
                Some(self.actor_id)
            }
        })*
    };
}

acts_for_actor_id!(
    UserRequest,
    RevokeTokenRequest,
    OpenDirectRequest,
    CreateGroupRequest,
    ChannelRequest,
    ListChannelsRequest,
    GetChannelsRequest,
    MemberRequest,
    RenameChannelRequest,
    MemberRoleRequest,
    SendMessageRequest,
    HistoryRequest,
    MarkReadRequest,
    EditMessageRequest,
    MessageRef,
    ChangesRequest,
    UpdateProfileRequest,
    UpdateSettingsRequest,
    RelationshipRequest,
    PresenceRequest,
    RegisterPushTargetRequest,
    RemovePushTargetRequest,
    CreateBotRequest,
    BotRequest,
    SetBotWebhookRequest,
    RunCommandRequest,
    SendEphemeralRequest,
);

impl OnBehalf for pb::ChangePasswordRequest {
    fn actor(&self) -> Option<Id> {
        Some(self.actor_id)
    }

    /// The session that stays signed in must be the one that asks.
    fn own_token(&self) -> Option<Id> {
        (self.keep_token_id != 0).then_some(self.keep_token_id)
    }
}

impl OnBehalf for pb::WatchRequest {
    /// The session's user; a request without a session is refused before.
    fn actor(&self) -> Option<Id> {
        Some(self.session.as_ref().map_or(0, |s| s.user_id))
    }
}

impl OnBehalf for pb::GetUserRequest {
    /// Profiles are for signed-in users, whoever they are.
    fn actor(&self) -> Option<Id> {
        None
    }
}

impl OnBehalf for pb::GetUsersRequest {
    /// Profiles are for signed-in users, whoever they are.
    fn actor(&self) -> Option<Id> {
        None
    }
}

impl OnBehalf for pb::SearchUsersRequest {
    /// The directory is for signed-in users, whoever they are.
    fn actor(&self) -> Option<Id> {
        None
    }
}

/// The bearer token in a call's metadata.
pub fn bearer(meta: &MetadataMap) -> Result<&str, CoreError> {
    let value = meta
        .get(AUTHORIZATION_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or(CoreError::MissingToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(CoreError::MissingToken)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(CoreError::MissingToken);
    }
    Ok(token)
}

/// Refuses `message` when it claims to act for another user than the
/// principal's, or names a token of theirs other than the one used.
pub fn check(message: &impl OnBehalf, principal: &Principal) -> Result<(), CoreError> {
    let other_user = message.actor().is_some_and(|a| a != principal.user_id);
    let other_token = message.own_token().is_some_and(|t| t != principal.token_id);
    if other_user || other_token {
        metrics::counter!("chat_core_actor_mismatch_total").increment(1);
        return Err(CoreError::ActorMismatch);
    }
    Ok(())
}

impl<S: Store> CoreService<S> {
    /// The message of a call on behalf of a user, once its token names a
    /// live principal, its required fields are there and it acts for that
    /// principal's user.
    pub(super) async fn authorized<T: Required + OnBehalf>(
        &self,
        request: Request<T>,
    ) -> Result<T, Status> {
        let principal = self.principal(bearer(request.metadata())?).await?;
        let message = valid(request)?;
        check(&message, &principal)?;
        Ok(message)
    }

    /// Who `token` belongs to: from the cache while the token needs no
    /// storage visit, else used (its life extended when due) and cached.
    pub(super) async fn principal(&self, token: &str) -> Result<Principal, CoreError> {
        let hash = token_hash(token);
        if let Some(cached) = self.principals.get(&hash).await
            && !self.touch_due(cached.expires_at_ms, super::now_ms())
        {
            return Ok(cached);
        }
        let ticket = self.principals.ticket();
        let record = self.use_token(token, false).await?;
        let principal = Principal {
            user_id: record.user_id,
            token_id: record.id,
            expires_at_ms: record.expires_at_ms,
        };
        self.principals.insert(hash, principal, ticket).await;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(value: &str) -> MetadataMap {
        let mut meta = MetadataMap::new();
        meta.insert(AUTHORIZATION_KEY, value.parse().expect("ascii"));
        meta
    }

    #[test]
    fn the_bearer_scheme_is_required_and_case_blind() {
        assert_eq!(bearer(&meta("Bearer abc")).ok(), Some("abc"));
        assert_eq!(bearer(&meta("bearer  abc ")).ok(), Some("abc"));
        for bad in ["Basic abc", "Bearer", "Bearer  ", "abc"] {
            assert!(
                matches!(bearer(&meta(bad)), Err(CoreError::MissingToken)),
                "{bad}"
            );
        }
        assert!(matches!(
            bearer(&MetadataMap::new()),
            Err(CoreError::MissingToken)
        ));
    }

    #[test]
    fn another_users_actor_or_token_is_refused() {
        let me = Principal {
            user_id: 1,
            token_id: 10,
            expires_at_ms: 0,
        };
        let as_me = pb::UserRequest { actor_id: 1 };
        assert!(check(&as_me, &me).is_ok());
        let as_other = pb::UserRequest { actor_id: 2 };
        assert!(matches!(
            check(&as_other, &me),
            Err(CoreError::ActorMismatch)
        ));
        assert!(check(&pb::GetUserRequest { key: None }, &me).is_ok());
        let keep = |keep_token_id| pb::ChangePasswordRequest {
            actor_id: 1,
            keep_token_id,
            ..Default::default()
        };
        assert!(check(&keep(10), &me).is_ok());
        assert!(check(&keep(0), &me).is_ok());
        assert!(matches!(
            check(&keep(11), &me),
            Err(CoreError::ActorMismatch)
        ));
    }
}
