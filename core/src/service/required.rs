//! Fields the edge must fill in. Protobuf sends a left-out number as 0, and
//! no user, edge or session has id 0, so 0 in one of these is a request
//! built wrongly: it is refused with `missing_field` rather than served as
//! "user 0". Ids that come from clients (a channel, a message, a peer) are
//! not listed: 0 there is an id that does not exist, answered as such.

use chat_proto::v1 as pb;
use tonic::{Request, Status};

use crate::error::CoreError;

/// A request whose required fields can be checked.
pub trait Required {
    /// The first required field left out, if any.
    fn missing(&self) -> Option<&'static str>;
}

/// The request's message, or `InvalidArgument` naming the missing field.
pub fn valid<T: Required>(request: Request<T>) -> Result<T, Status> {
    let message = request.into_inner();
    match message.missing() {
        None => Ok(message),
        Some(field) => Err(missing(field)),
    }
}

/// The `InvalidArgument` status for a left-out `field`.
pub fn missing(field: &str) -> Status {
    CoreError::invalid("missing_field", format!("{field} is required")).into()
}

fn session(s: &Option<pb::SessionRef>) -> Option<&'static str> {
    match s {
        None => Some("session"),
        Some(s) => s.missing(),
    }
}

macro_rules! required {
    ($($ty:ident { $($field:ident),* } $(+ $session:ident)?;)*) => {
        $(impl Required for pb::$ty {
            fn missing(&self) -> Option<&'static str> {
                $(if self.$field == 0 {
                    return Some(stringify!($field));
                })*
                $(if let Some(field) = session(&self.$session) {
                    return Some(field);
                })?
                None
            }
        })*
    };
}

required! {
    Credentials {};
    TokenRequest {};
    GetUserRequest {};
    GetUsersRequest {};
    GetChannelsRequest { actor_id };
    SearchUsersRequest {};
    RevokeTokenRequest { actor_id };
    UserRequest { actor_id };
    ChangePasswordRequest { actor_id };
    OpenDirectRequest { actor_id };
    CreateGroupRequest { actor_id };
    ChannelRequest { actor_id };
    ListChannelsRequest { actor_id };
    MemberRequest { actor_id };
    RenameChannelRequest { actor_id };
    MemberRoleRequest { actor_id };
    SendMessageRequest { actor_id };
    HistoryRequest { actor_id };
    SubscribeRequest { incarnation };
    InterestRequest { edge_id };
    MarkReadRequest { actor_id };
    EditMessageRequest { actor_id };
    MessageRef { actor_id };
    ChangesRequest { actor_id };
    SessionRef { edge_id, session_id, user_id };
    SessionClosedRequest {} + session;
    WatchRequest {} + session;
    UpdateProfileRequest { actor_id };
    UpdateSettingsRequest { actor_id };
    RelationshipRequest { actor_id };
    PresenceRequest { actor_id };
    RegisterPushTargetRequest { actor_id };
    RemovePushTargetRequest { actor_id, target_id };
    CreateBotRequest { actor_id };
    BotRequest { actor_id, bot_id };
    SetBotWebhookRequest { actor_id, bot_id };
    RunCommandRequest { actor_id, channel_id };
    SendEphemeralRequest { actor_id, channel_id, user_id };
    Empty {};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(status: &Status) -> &str {
        status
            .metadata()
            .get(chat_proto::ERROR_CODE_KEY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[test]
    fn a_left_out_actor_or_session_is_refused_by_name() {
        let err = valid(Request::new(pb::UserRequest { actor_id: 0 })).expect_err("no actor");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert_eq!(code(&err), "missing_field");
        assert_eq!(err.message(), "actor_id is required");

        let err = valid(Request::new(pb::WatchRequest {
            session: None,
            channel_id: 5,
        }))
        .expect_err("no session");
        assert_eq!(err.message(), "session is required");

        let half = pb::SessionRef {
            edge_id: 1,
            session_id: 0,
            user_id: 7,
        };
        let err = valid(Request::new(pb::SessionClosedRequest {
            session: Some(half),
            clean: true,
            last_heard_ms: 0,
            watches_only: false,
        }))
        .expect_err("no session id");
        assert_eq!(err.message(), "session_id is required");
    }

    #[test]
    fn complete_requests_and_client_chosen_zero_ids_pass() {
        let ok = valid(Request::new(pb::ChannelRequest {
            actor_id: 3,
            channel_id: 0,
        }))
        .expect("channel 0 is for the service to call not found");
        assert_eq!(ok.actor_id, 3);
    }
}
