//! Every unary call of the core, with whether it is safe to repeat and on
//! whose behalf it is made: `User` calls carry the user's bearer token and
//! exist only on [`AsUser`], so none can be made without one; `Edge` calls
//! are the edge's own (its bookkeeping, or a token in the body).

use chat_proto::v1 as pb;

use super::retry::Idempotence::{Safe, Unsafe};
use super::{AsUser, CoreClient};
use crate::error::ApiError;

macro_rules! call {
    (Edge, $(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident) => {
        impl CoreClient {
            $(#[$doc])*
            pub async fn $name(&self, req: $req) -> Result<$reply, ApiError> {
                self.unary($idem, None, req, |mut grpc, r| async move { grpc.$name(r).await })
                    .await
            }
        }
    };
    (User, $(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident) => {
        impl AsUser<'_> {
            $(#[$doc])*
            pub async fn $name(&self, req: $req) -> Result<$reply, ApiError> {
                self.core
                    .unary($idem, Some(self.bearer), req, |mut grpc, r| async move {
                        grpc.$name(r).await
                    })
                    .await
            }
        }
    };
}

macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident, $scope:ident;)*) => {
        $(call!($scope, $(#[$doc])* $name($req) -> $reply, $idem);)*
    };
}

calls! {
    /// Creates an account and logs it in.
    signup(pb::Credentials) -> pb::AuthReply, Unsafe, Edge;
    /// Logs in (a failure counts against the login limits).
    login(pb::Credentials) -> pb::AuthReply, Unsafe, Edge;
    /// Ends the token's session.
    logout(pb::TokenRequest) -> pb::Empty, Unsafe, Edge;
    /// Resolves a token to its user.
    authenticate(pb::TokenRequest) -> pb::Principal, Safe, Edge;
    /// Extends a token's life.
    refresh_token(pb::TokenRequest) -> pb::TokenInfo, Unsafe, Edge;
    /// The caller's sessions.
    list_tokens(pb::TokenRequest) -> pb::TokenList, Safe, Edge;
    /// Ends one of the caller's sessions.
    revoke_token(pb::RevokeTokenRequest) -> pb::Empty, Unsafe, User;
    /// Ends every session of the caller.
    revoke_all_tokens(pb::UserRequest) -> pb::Empty, Unsafe, User;
    /// Changes the caller's password.
    change_password(pb::ChangePasswordRequest) -> pb::Empty, Unsafe, User;
    /// A user by id or name.
    get_user(pb::GetUserRequest) -> pb::User, Safe, User;
    /// Users by the start of their username.
    search_users(pb::SearchUsersRequest) -> pb::UserList, Safe, User;
    /// The read positions of a small channel's members.
    channel_reads(pb::ChannelRequest) -> pb::ChannelReadList, Safe, User;
    /// The 1:1 channel with a peer, created once.
    open_direct(pb::OpenDirectRequest) -> pb::Channel, Safe, User;
    /// A new group.
    create_group(pb::CreateGroupRequest) -> pb::Channel, Unsafe, User;
    /// A channel the caller is a member of.
    get_channel(pb::ChannelRequest) -> pb::Channel, Safe, User;
    /// The caller's channels.
    list_channels(pb::ListChannelsRequest) -> pb::ChannelList, Safe, User;
    /// Adds a member to a group.
    add_member(pb::MemberRequest) -> pb::Channel, Unsafe, User;
    /// Removes a member from a group (or the caller leaves).
    remove_member(pb::MemberRequest) -> pb::Channel, Unsafe, User;
    /// Renames a group.
    rename_channel(pb::RenameChannelRequest) -> pb::Channel, Unsafe, User;
    /// Makes a member an admin or not.
    set_member_role(pb::MemberRoleRequest) -> pb::Channel, Unsafe, User;
    /// Passes a group on to another member.
    transfer_ownership(pb::MemberRequest) -> pb::Channel, Unsafe, User;
    /// Deletes a group.
    delete_channel(pb::ChannelRequest) -> pb::Empty, Unsafe, User;
    /// Sends a message; the core deduplicates on `client_msg_id`.
    send_message(pb::SendMessageRequest) -> pb::SendMessageReply, Safe, User;
    /// A page of history.
    history(pb::HistoryRequest) -> pb::HistoryPage, Safe, User;
    /// Changes which users this edge serves.
    update_interest(pb::InterestRequest) -> pb::Empty, Safe, Edge;
    /// The caller's state at connect time.
    get_ready_state(pb::UserRequest) -> pb::ReadyState, Safe, User;
    /// Moves a read position forward (never back).
    mark_read(pb::MarkReadRequest) -> pb::ReadState, Safe, User;
    /// Edits a message (each edit is a new version).
    edit_message(pb::EditMessageRequest) -> pb::Message, Unsafe, User;
    /// Deletes a message.
    delete_message(pb::MessageRef) -> pb::Message, Unsafe, User;
    /// Every text a message has had.
    message_versions(pb::MessageRef) -> pb::MessageVersionList, Safe, User;
    /// Messages edited or deleted after a version.
    changes(pb::ChangesRequest) -> pb::HistoryPage, Safe, User;
    /// The caller is typing.
    typing(pb::ChannelRequest) -> pb::Empty, Unsafe, User;
    /// A session opened (keyed by its id).
    session_opened(pb::SessionRef) -> pb::Empty, Safe, Edge;
    /// A session closed (keyed by its id).
    session_closed(pb::SessionClosedRequest) -> pb::Empty, Safe, Edge;
    /// Watches a channel's members' presence from a session.
    watch_presence(pb::WatchRequest) -> pb::PresenceList, Safe, User;
    /// Stops watching.
    unwatch_presence(pb::WatchRequest) -> pb::Empty, Safe, User;
    /// Sets profile fields.
    update_profile(pb::UpdateProfileRequest) -> pb::User, Safe, User;
    /// The caller's settings.
    get_settings(pb::UserRequest) -> pb::Settings, Safe, User;
    /// Sets settings.
    update_settings(pb::UpdateSettingsRequest) -> pb::Settings, Safe, User;
    /// The caller's friends, requests and blocks.
    list_relationships(pb::UserRequest) -> pb::RelationshipList, Safe, User;
    /// Sends, accepts or ends a relationship.
    change_relationship(pb::RelationshipRequest) -> pb::Relationship, Unsafe, User;
}
