//! Every unary call of the core, with whether it is safe to repeat.

use chat_proto::v1 as pb;

use super::CoreClient;
use super::retry::Idempotence::{Safe, Unsafe};
use crate::error::ApiError;

macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident;)*) => {
        impl CoreClient {
            $(
                $(#[$doc])*
                pub async fn $name(&self, req: $req) -> Result<$reply, ApiError> {
                    self.unary($idem, req, |mut grpc, r| async move { grpc.$name(r).await })
                        .await
                }
            )*
        }
    };
}

calls! {
    /// Creates an account and logs it in.
    signup(pb::Credentials) -> pb::AuthReply, Unsafe;
    /// Logs in (a failure counts against the login limits).
    login(pb::Credentials) -> pb::AuthReply, Unsafe;
    /// Ends the token's session.
    logout(pb::TokenRequest) -> pb::Empty, Unsafe;
    /// Resolves a token to its user.
    authenticate(pb::TokenRequest) -> pb::Principal, Safe;
    /// Extends a token's life.
    refresh_token(pb::TokenRequest) -> pb::TokenInfo, Unsafe;
    /// The caller's sessions.
    list_tokens(pb::TokenRequest) -> pb::TokenList, Safe;
    /// Ends one of the caller's sessions.
    revoke_token(pb::RevokeTokenRequest) -> pb::Empty, Unsafe;
    /// Ends every session of the caller.
    revoke_all_tokens(pb::UserRequest) -> pb::Empty, Unsafe;
    /// Changes the caller's password.
    change_password(pb::ChangePasswordRequest) -> pb::Empty, Unsafe;
    /// A user by id or name.
    get_user(pb::GetUserRequest) -> pb::User, Safe;
    /// The 1:1 channel with a peer, created once.
    open_direct(pb::OpenDirectRequest) -> pb::Channel, Safe;
    /// A new group.
    create_group(pb::CreateGroupRequest) -> pb::Channel, Unsafe;
    /// A channel the caller is a member of.
    get_channel(pb::ChannelRequest) -> pb::Channel, Safe;
    /// The caller's channels.
    list_channels(pb::ListChannelsRequest) -> pb::ChannelList, Safe;
    /// Adds a member to a group.
    add_member(pb::MemberRequest) -> pb::Channel, Unsafe;
    /// Removes a member from a group (or the caller leaves).
    remove_member(pb::MemberRequest) -> pb::Channel, Unsafe;
    /// Renames a group.
    rename_channel(pb::RenameChannelRequest) -> pb::Channel, Unsafe;
    /// Makes a member an admin or not.
    set_member_role(pb::MemberRoleRequest) -> pb::Channel, Unsafe;
    /// Passes a group on to another member.
    transfer_ownership(pb::MemberRequest) -> pb::Channel, Unsafe;
    /// Deletes a group.
    delete_channel(pb::ChannelRequest) -> pb::Empty, Unsafe;
    /// Sends a message; the core deduplicates on `client_msg_id`.
    send_message(pb::SendMessageRequest) -> pb::SendMessageReply, Safe;
    /// A page of history.
    history(pb::HistoryRequest) -> pb::HistoryPage, Safe;
    /// Changes which users this edge serves.
    update_interest(pb::InterestRequest) -> pb::Empty, Safe;
    /// The caller's state at connect time.
    get_ready_state(pb::UserRequest) -> pb::ReadyState, Safe;
    /// Moves a read position forward (never back).
    mark_read(pb::MarkReadRequest) -> pb::ReadState, Safe;
    /// Edits a message (each edit is a new version).
    edit_message(pb::EditMessageRequest) -> pb::Message, Unsafe;
    /// Deletes a message.
    delete_message(pb::MessageRef) -> pb::Message, Unsafe;
    /// Every text a message has had.
    message_versions(pb::MessageRef) -> pb::MessageVersionList, Safe;
    /// Messages edited or deleted after a version.
    changes(pb::ChangesRequest) -> pb::HistoryPage, Safe;
    /// The caller is typing.
    typing(pb::ChannelRequest) -> pb::Empty, Unsafe;
    /// A session opened (keyed by its id).
    session_opened(pb::SessionRef) -> pb::Empty, Safe;
    /// A session closed (keyed by its id).
    session_closed(pb::SessionClosedRequest) -> pb::Empty, Safe;
    /// Watches a channel's members' presence from a session.
    watch_presence(pb::WatchRequest) -> pb::PresenceList, Safe;
    /// Stops watching.
    unwatch_presence(pb::WatchRequest) -> pb::Empty, Safe;
    /// Sets profile fields.
    update_profile(pb::UpdateProfileRequest) -> pb::User, Safe;
    /// The caller's settings.
    get_settings(pb::UserRequest) -> pb::Settings, Safe;
    /// Sets settings.
    update_settings(pb::UpdateSettingsRequest) -> pb::Settings, Safe;
    /// The caller's friends, requests and blocks.
    list_relationships(pb::UserRequest) -> pb::RelationshipList, Safe;
    /// Sends, accepts or ends a relationship.
    change_relationship(pb::RelationshipRequest) -> pb::Relationship, Unsafe;
}
