//! Every unary call of the core, with whether it is safe to repeat and on
//! whose behalf it is made: `User` calls carry the user's bearer token and
//! exist only on [`AsUser`], so none can be made without one; `Edge` calls
//! are the edge's own (its bookkeeping, or a token in the body). Each says
//! which core answers it in a cluster ([`Key`]): a channel's calls go to
//! its owner, a user's presence and settings to their home, login limits
//! and relationships to the one core that orders them ([`Key::Global`]),
//! the rest anywhere. The presence calls that involve several cores are in
//! `presence.rs`.

use chat_proto::v1 as pb;

use super::retry::Idempotence::{Safe, Unsafe};
use super::{AsUser, CoreClient, Key};
use crate::error::ApiError;

macro_rules! call {
    (Edge, $(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident, $key:expr) => {
        impl CoreClient {
            $(#[$doc])*
            pub async fn $name(&self, req: $req) -> Result<$reply, ApiError> {
                let key: fn(&$req) -> Key = $key;
                self.unary($idem, None, key(&req), req, |mut grpc, r| async move {
                    grpc.$name(r).await
                })
                .await
            }
        }
    };
    (User, $(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident, $key:expr $(, then $then:ident)?) => {
        impl AsUser<'_> {
            $(#[$doc])*
            pub async fn $name(&self, req: $req) -> Result<$reply, ApiError> {
                let key: fn(&$req) -> Key = $key;
                // Kept for the hook (named so the repetition knows its count).
                $(let after = (req.clone(), stringify!($then)).0;)?
                let reply = self.core
                    .unary($idem, Some(self.bearer), key(&req), req, |mut grpc, r| async move {
                        grpc.$name(r).await
                    })
                    .await?;
                $(self.core.$then(&after).await;)?
                Ok(reply)
            }
        }
    };
}

/// Each call: `name(request) -> reply, idempotence, scope, key`, and
/// optionally `then hook`: a [`CoreClient`] method the call's request is
/// passed to once it succeeded (telling the other cores of a change).
macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident($req:ty) -> $reply:ty, $idem:ident, $scope:ident, $key:expr $(, then $then:ident)?;)*) => {
        $(call!($scope, $(#[$doc])* $name($req) -> $reply, $idem, $key $(, then $then)?);)*
    };
}

/// Any core answers.
fn any<T>(_: &T) -> Key {
    Key::Any
}

calls! {
    /// Creates an account and logs it in.
    signup(pb::Credentials) -> pb::AuthReply, Unsafe, Edge, |_| Key::Global;
    /// Logs in (a failure counts against the login limits).
    login(pb::Credentials) -> pb::AuthReply, Unsafe, Edge, |_| Key::Global;
    /// Ends the token's session.
    logout(pb::TokenRequest) -> pb::Empty, Unsafe, Edge, any;
    /// Resolves a token to its user.
    authenticate(pb::TokenRequest) -> pb::Principal, Safe, Edge, any;
    /// Extends a token's life.
    refresh_token(pb::TokenRequest) -> pb::TokenInfo, Unsafe, Edge, any;
    /// The caller's sessions.
    list_tokens(pb::TokenRequest) -> pb::TokenList, Safe, Edge, any;
    /// Ends one of the caller's sessions.
    revoke_token(pb::RevokeTokenRequest) -> pb::Empty, Unsafe, User, any, then tokens_revoked_by;
    /// Ends every session of the caller.
    revoke_all_tokens(pb::UserRequest) -> pb::Empty, Unsafe, User, any, then tokens_revoked_by;
    /// Changes the caller's password.
    change_password(pb::ChangePasswordRequest) -> pb::Empty, Unsafe, User, any, then tokens_revoked_by;
    /// A user by id or name.
    get_user(pb::GetUserRequest) -> pb::User, Safe, User, any;
    /// Users by id (those that exist).
    get_users(pb::GetUsersRequest) -> pb::UserList, Safe, User, any;
    /// Users by id, for the edge itself: profiles sent ahead of messages.
    get_profiles(pb::GetUsersRequest) -> pb::UserList, Safe, Edge, any;
    /// Users by the start of their username.
    search_users(pb::SearchUsersRequest) -> pb::UserList, Safe, User, any;
    /// The read positions of a small channel's members.
    channel_reads(pb::ChannelRequest) -> pb::ChannelReadList, Safe, User, |r| Key::Channel(r.channel_id);
    /// The 1:1 channel with a peer, created once.
    open_direct(pb::OpenDirectRequest) -> pb::Channel, Safe, User, any;
    /// A new group.
    create_group(pb::CreateGroupRequest) -> pb::Channel, Unsafe, User, any;
    /// A channel the caller is a member of.
    get_channel(pb::ChannelRequest) -> pb::Channel, Safe, User, |r| Key::Channel(r.channel_id);
    /// Channels of the caller's, by id.
    get_channels(pb::GetChannelsRequest) -> pb::ChannelList, Safe, User, any;
    /// The caller's channels.
    list_channels(pb::ListChannelsRequest) -> pb::ChannelList, Safe, User, any;
    /// Adds a member to a group.
    add_member(pb::MemberRequest) -> pb::Channel, Unsafe, User, |r| Key::Channel(r.channel_id), then members_changed_by;
    /// Removes a member from a group (or the caller leaves).
    remove_member(pb::MemberRequest) -> pb::Channel, Unsafe, User, |r| Key::Channel(r.channel_id), then members_changed_by;
    /// Renames a group.
    rename_channel(pb::RenameChannelRequest) -> pb::Channel, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Makes a member an admin or not.
    set_member_role(pb::MemberRoleRequest) -> pb::Channel, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Passes a group on to another member.
    transfer_ownership(pb::MemberRequest) -> pb::Channel, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Deletes a group.
    delete_channel(pb::ChannelRequest) -> pb::Empty, Unsafe, User, |r| Key::Channel(r.channel_id), then members_changed_by;
    /// Sends a message; the core deduplicates on `client_msg_id`.
    send_message(pb::SendMessageRequest) -> pb::SendMessageReply, Safe, User, |r| Key::Channel(r.channel_id);
    /// A page of history.
    history(pb::HistoryRequest) -> pb::HistoryPage, Safe, User, |r| Key::Channel(r.channel_id);
    /// The caller's own part of `ready` (the edge adds the rest).
    get_user_state(pb::UserRequest) -> pb::UserState, Safe, User, any;
    /// Moves a read position forward (never back).
    mark_read(pb::MarkReadRequest) -> pb::ReadState, Safe, User, |r| Key::Channel(r.channel_id);
    /// Edits a message (each edit is a new version).
    edit_message(pb::EditMessageRequest) -> pb::Message, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Deletes a message.
    delete_message(pb::MessageRef) -> pb::Message, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Every text a message has had.
    message_versions(pb::MessageRef) -> pb::MessageVersionList, Safe, User, |r| Key::Channel(r.channel_id);
    /// Messages edited or deleted after a version.
    changes(pb::ChangesRequest) -> pb::HistoryPage, Safe, User, |r| Key::Channel(r.channel_id);
    /// The caller is typing.
    typing(pb::ChannelRequest) -> pb::Empty, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// A session opened (keyed by its id), at its user's home.
    session_opened(pb::SessionRef) -> pb::Empty, Safe, Edge, |r| Key::User(r.user_id);
    /// Sets profile fields (told to those who watch the user, whom every
    /// core knows), at the user's home so their changes keep their order.
    update_profile(pb::UpdateProfileRequest) -> pb::User, Safe, User, |r| Key::User(r.actor_id);
    /// The caller's settings.
    get_settings(pb::UserRequest) -> pb::Settings, Safe, User, |r| Key::User(r.actor_id);
    /// Sets settings (invisibility is presence state: at the user's home).
    update_settings(pb::UpdateSettingsRequest) -> pb::Settings, Safe, User, |r| Key::User(r.actor_id);
    /// Registers a push target (again: the same address keeps its id).
    register_push_target(pb::RegisterPushTargetRequest) -> pb::PushTarget, Safe, User, |r| Key::User(r.actor_id);
    /// The caller's push targets.
    list_push_targets(pb::UserRequest) -> pb::PushTargetList, Safe, User, |r| Key::User(r.actor_id);
    /// Removes one of the caller's push targets.
    remove_push_target(pb::RemovePushTargetRequest) -> pb::Empty, Safe, User, |r| Key::User(r.actor_id);
    /// The server's push settings clients need (the VAPID public key).
    get_push_config(pb::Empty) -> pb::PushConfig, Safe, Edge, any;
    /// Creates a bot the caller owns, with its first token (a new user:
    /// at the one core that orders sign-ups).
    create_bot(pb::CreateBotRequest) -> pb::AuthReply, Unsafe, User, |_| Key::Global;
    /// The caller's bots.
    list_bots(pb::UserRequest) -> pb::UserList, Safe, User, any;
    /// Ends a bot's tokens and issues a new one; every core forgets them.
    rotate_bot_token(pb::BotRequest) -> pb::AuthReply, Unsafe, User, any, then bot_tokens_revoked;
    /// Ends a bot's tokens; every core forgets them.
    revoke_bot_tokens(pb::BotRequest) -> pb::Empty, Safe, User, any, then bot_tokens_revoked;
    /// Points a bot's webhook at a URL, with a new secret.
    set_bot_webhook(pb::SetBotWebhookRequest) -> pb::BotWebhook, Unsafe, User, any;
    /// A bot's webhook, without its secret.
    get_bot_webhook(pb::BotRequest) -> pb::BotWebhook, Safe, User, any;
    /// Removes a bot's webhook.
    remove_bot_webhook(pb::BotRequest) -> pb::Empty, Safe, User, any;
    /// Sends a slash command to the channel's bot, at the channel's owner
    /// (whose worker delivers its webhook).
    run_command(pb::RunCommandRequest) -> pb::BotCommand, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// A bot's message for one member alone, checked at the channel's owner.
    send_ephemeral(pb::SendEphemeralRequest) -> pb::EphemeralMessage, Unsafe, User, |r| Key::Channel(r.channel_id);
    /// Sends, accepts or ends a relationship, at the one core that orders
    /// them all; the homes of the two then show each other's presence.
    change_relationship(pb::RelationshipRequest) -> pb::Relationship, Unsafe, User, |_| Key::Global, then friends_changed_by;
}

impl CoreClient {
    /// Changes which users this edge serves, at every live core: each
    /// publishes events for them.
    pub async fn update_interest(&self, req: pb::InterestRequest) -> Result<(), ApiError> {
        self.everywhere(
            req,
            |mut grpc, r| async move { grpc.update_interest(r).await },
        )
        .await
    }

    /// Changes which users this edge serves, at core `node` alone (after
    /// its event stream opened again).
    pub async fn update_interest_at(
        &self,
        node: u64,
        req: pb::InterestRequest,
    ) -> Result<(), ApiError> {
        self.to_node(node, None, req, &|mut grpc: pb::chat_core_client::ChatCoreClient<
            tonic::transport::Channel,
        >,
                                   r| async move {
            grpc.update_interest(r).await
        })
        .await
        .map(drop)
    }
}
