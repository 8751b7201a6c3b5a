//! The `ChatCore` gRPC trait over the service's methods; errors become
//! `Status` here and nowhere else.

use chat_proto::EventStream;
use chat_proto::v1 as pb;
use chat_proto::v1::chat_core_server::ChatCore;
use tonic::{Request, Response, Status, Streaming};

use super::CoreService;
use super::accounts::Client;
use super::required::{missing, valid};
use crate::hub::Hello;
use crate::store::{HistoryAnchor, ProfileChange, Role, Store};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(r: Result<T, crate::error::CoreError>) -> Reply<T> {
    r.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl<S: Store> ChatCore for CoreService<S> {
    async fn signup(&self, r: Request<pb::Credentials>) -> Reply<pb::AuthReply> {
        let c = valid(r)?;
        let client = Client {
            device: c.device,
            addr: c.client_addr,
        };
        ok(CoreService::signup(self, &c.username, &c.password, client).await)
    }

    async fn login(&self, r: Request<pb::Credentials>) -> Reply<pb::AuthReply> {
        let c = valid(r)?;
        let client = Client {
            device: c.device,
            addr: c.client_addr,
        };
        ok(CoreService::login(self, &c.username, &c.password, client).await)
    }

    async fn refresh_token(&self, r: Request<pb::TokenRequest>) -> Reply<pb::TokenInfo> {
        ok(CoreService::refresh_token(self, &valid(r)?.token).await)
    }

    async fn list_tokens(&self, r: Request<pb::TokenRequest>) -> Reply<pb::TokenList> {
        ok(CoreService::list_tokens(self, &valid(r)?.token).await)
    }

    async fn revoke_token(&self, r: Request<pb::RevokeTokenRequest>) -> Reply<pb::Empty> {
        let r = self.authorized(r).await?;
        ok(CoreService::revoke_token(self, r.actor_id, r.token_id)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn revoke_all_tokens(&self, r: Request<pb::UserRequest>) -> Reply<pb::Empty> {
        ok(
            CoreService::revoke_all_tokens(self, self.authorized(r).await?.actor_id)
                .await
                .map(|()| pb::Empty {}),
        )
    }

    async fn change_password(&self, r: Request<pb::ChangePasswordRequest>) -> Reply<pb::Empty> {
        ok(
            CoreService::change_password(self, self.authorized(r).await?)
                .await
                .map(|()| pb::Empty {}),
        )
    }

    async fn logout(&self, r: Request<pb::TokenRequest>) -> Reply<pb::Empty> {
        ok(CoreService::logout(self, &valid(r)?.token)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn authenticate(&self, r: Request<pb::TokenRequest>) -> Reply<pb::Principal> {
        ok(CoreService::authenticate(self, &valid(r)?.token).await)
    }

    async fn get_user(&self, r: Request<pb::GetUserRequest>) -> Reply<pb::User> {
        ok(CoreService::get_user(self, self.authorized(r).await?.key).await)
    }

    async fn get_users(&self, r: Request<pb::GetUsersRequest>) -> Reply<pb::UserList> {
        let r = self.authorized(r).await?;
        ok(CoreService::get_users(self, &r.ids).await)
    }

    async fn get_profiles(&self, r: Request<pb::GetUsersRequest>) -> Reply<pb::UserList> {
        ok(CoreService::get_users(self, &valid(r)?.ids).await)
    }

    async fn search_users(&self, r: Request<pb::SearchUsersRequest>) -> Reply<pb::UserList> {
        let r = self.authorized(r).await?;
        ok(CoreService::search_users(self, &r.prefix, r.limit).await)
    }

    async fn open_direct(&self, r: Request<pb::OpenDirectRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::open_direct(self, r.actor_id, r.peer_id).await)
    }

    async fn create_group(&self, r: Request<pb::CreateGroupRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::create_group(self, r.actor_id, &r.name, &r.member_ids).await)
    }

    async fn get_channel(&self, r: Request<pb::ChannelRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::get_channel(self, r.actor_id, r.channel_id).await)
    }

    async fn get_channels(&self, r: Request<pb::GetChannelsRequest>) -> Reply<pb::ChannelList> {
        let r = self.authorized(r).await?;
        ok(CoreService::get_channels(self, r.actor_id, &r.channel_ids)
            .await
            .map(|channels| pb::ChannelList { channels }))
    }

    async fn list_channels(&self, r: Request<pb::ListChannelsRequest>) -> Reply<pb::ChannelList> {
        ok(
            CoreService::list_channels(self, self.authorized(r).await?.actor_id)
                .await
                .map(|channels| pb::ChannelList { channels }),
        )
    }

    async fn add_member(&self, r: Request<pb::MemberRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::add_member(self, r.actor_id, r.channel_id, r.user_id).await)
    }

    async fn remove_member(&self, r: Request<pb::MemberRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::remove_member(self, r.actor_id, r.channel_id, r.user_id).await)
    }

    async fn rename_channel(&self, r: Request<pb::RenameChannelRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::rename_channel(self, r.actor_id, r.channel_id, &r.name).await)
    }

    async fn set_member_role(&self, r: Request<pb::MemberRoleRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        let role = match r.role() {
            pb::MemberRole::Admin => Role::Admin,
            pb::MemberRole::Member => Role::Member,
            pb::MemberRole::Unspecified => {
                return Err(
                    crate::error::CoreError::invalid("invalid_role", "unknown role").into(),
                );
            }
        };
        ok(CoreService::set_member_role(self, r.actor_id, r.channel_id, r.user_id, role).await)
    }

    async fn transfer_ownership(&self, r: Request<pb::MemberRequest>) -> Reply<pb::Channel> {
        let r = self.authorized(r).await?;
        ok(CoreService::transfer_ownership(self, r.actor_id, r.channel_id, r.user_id).await)
    }

    async fn delete_channel(&self, r: Request<pb::ChannelRequest>) -> Reply<pb::Empty> {
        let r = self.authorized(r).await?;
        ok(CoreService::delete_channel(self, r.actor_id, r.channel_id)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn message_versions(&self, r: Request<pb::MessageRef>) -> Reply<pb::MessageVersionList> {
        let r = self.authorized(r).await?;
        ok(CoreService::message_versions(self, r.actor_id, r.channel_id, r.message_id).await)
    }

    async fn send_message(
        &self,
        r: Request<pb::SendMessageRequest>,
    ) -> Reply<pb::SendMessageReply> {
        ok(CoreService::send_message(self, self.authorized(r).await?).await)
    }

    async fn history(&self, r: Request<pb::HistoryRequest>) -> Reply<pb::HistoryPage> {
        use pb::history_request::Anchor;
        let r = self.authorized(r).await?;
        let anchor = match r.anchor {
            None => HistoryAnchor::Latest,
            Some(Anchor::Before(id)) => HistoryAnchor::Before(id),
            Some(Anchor::After(id)) => HistoryAnchor::After(id),
            Some(Anchor::Around(id)) => HistoryAnchor::Around(id),
        };
        ok(CoreService::history(self, r.actor_id, r.channel_id, anchor, r.limit).await)
    }

    type SendStreamStream = super::send_stream::OutcomeStream;

    async fn send_stream(
        &self,
        r: Request<tonic::Streaming<pb::SendMessageRequest>>,
    ) -> Reply<Self::SendStreamStream> {
        // Checked once here, so a stream without a live token fails at
        // once, and again for each send, so a revocation stops the rest.
        let token = super::acting::bearer(r.metadata())?.to_owned();
        self.principal(&token).await?;
        let core = self
            .me
            .upgrade()
            .ok_or_else(|| Status::unavailable("shutting down"))?;
        Ok(Response::new(super::send_stream::outcomes(
            core,
            token,
            r.into_inner(),
        )))
    }

    type SubscribeStream = EventStream;

    async fn subscribe(
        &self,
        r: Request<Streaming<pb::EdgeCommand>>,
    ) -> Reply<Self::SubscribeStream> {
        let mut commands = r.into_inner();
        let hello = match commands.message().await? {
            Some(pb::EdgeCommand {
                kind: Some(pb::edge_command::Kind::Hello(hello)),
            }) => valid(Request::new(hello))?,
            _ => return Err(missing("hello")),
        };
        let core = self
            .me
            .upgrade()
            .ok_or_else(|| Status::unavailable("shutting down"))?;
        let (stream, live) = self
            .hub
            .subscribe(
                Hello {
                    edge_id: hello.edge_id,
                    incarnation: hello.incarnation,
                    resume: hello.resume,
                    after_seq: hello.after_seq,
                },
                || self.next_id(),
            )
            .map_err(Status::from)?;
        tracing::info!(edge = stream.edge, "edge subscribed");
        Ok(Response::new(super::edge_feed::feed(
            core, stream, live, commands,
        )))
    }

    async fn update_interest(&self, r: Request<pb::InterestRequest>) -> Reply<pb::Empty> {
        let r = valid(r)?;
        self.hub
            .update_interest(r.edge_id, &r.add_users, &r.remove_users);
        Ok(Response::new(pb::Empty {}))
    }

    async fn get_user_state(&self, r: Request<pb::UserRequest>) -> Reply<pb::UserState> {
        ok(CoreService::user_state(self, self.authorized(r).await?.actor_id).await)
    }

    async fn mark_read(&self, r: Request<pb::MarkReadRequest>) -> Reply<pb::ReadState> {
        let r = self.authorized(r).await?;
        ok(CoreService::mark_read(self, r.actor_id, r.channel_id, r.message_id).await)
    }

    async fn channel_reads(&self, r: Request<pb::ChannelRequest>) -> Reply<pb::ChannelReadList> {
        let r = self.authorized(r).await?;
        ok(CoreService::channel_reads(self, r.actor_id, r.channel_id).await)
    }

    async fn edit_message(&self, r: Request<pb::EditMessageRequest>) -> Reply<pb::Message> {
        let r = self.authorized(r).await?;
        ok(CoreService::edit_message(self, r.actor_id, r.channel_id, r.message_id, r.text).await)
    }

    async fn delete_message(&self, r: Request<pb::MessageRef>) -> Reply<pb::Message> {
        let r = self.authorized(r).await?;
        ok(CoreService::delete_message(self, r.actor_id, r.channel_id, r.message_id).await)
    }

    async fn changes(&self, r: Request<pb::ChangesRequest>) -> Reply<pb::HistoryPage> {
        let r = self.authorized(r).await?;
        ok(CoreService::changes(self, r.actor_id, r.channel_id, r.after_version, r.limit).await)
    }

    async fn typing(&self, r: Request<pb::ChannelRequest>) -> Reply<pb::Empty> {
        let r = self.authorized(r).await?;
        ok(CoreService::typing(self, r.actor_id, r.channel_id)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn session_opened(&self, r: Request<pb::SessionRef>) -> Reply<pb::Empty> {
        let s = valid(r)?;
        ok(
            CoreService::session_opened(self, (s.edge_id, s.session_id), s.user_id)
                .await
                .map(|()| pb::Empty {}),
        )
    }

    async fn session_closed(&self, r: Request<pb::SessionClosedRequest>) -> Reply<pb::Empty> {
        let r = valid(r)?;
        let s = r.session.ok_or_else(|| missing("session"))?;
        let key = (s.edge_id, s.session_id);
        ok(CoreService::session_closed(
            self,
            key,
            s.user_id,
            r.clean,
            r.last_heard_ms,
            r.watches_only,
        )
        .await
        .map(|()| pb::Empty {}))
    }

    async fn watch_presence(&self, r: Request<pb::WatchRequest>) -> Reply<pb::PresenceList> {
        let r = self.authorized(r).await?;
        let s = r.session.ok_or_else(|| missing("session"))?;
        let key = (s.edge_id, s.session_id);
        ok(CoreService::watch_presence(self, key, s.user_id, r.channel_id).await)
    }

    async fn unwatch_presence(&self, r: Request<pb::WatchRequest>) -> Reply<pb::Empty> {
        let r = self.authorized(r).await?;
        let s = r.session.ok_or_else(|| missing("session"))?;
        ok(
            CoreService::unwatch_presence(self, (s.edge_id, s.session_id), r.channel_id)
                .map(|()| pb::Empty {}),
        )
    }

    async fn presence_of(&self, r: Request<pb::PresenceRequest>) -> Reply<pb::PresenceList> {
        let r = self.authorized(r).await?;
        ok(CoreService::presence_of_users(self, r.actor_id, &r.user_ids).await)
    }

    async fn friends_changed(&self, r: Request<pb::RelationshipRequest>) -> Reply<pb::Empty> {
        let r = valid(r)?;
        ok(CoreService::friends_changed(self, r.actor_id, r.user_id)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn members_changed(&self, r: Request<pb::ChannelRequest>) -> Reply<pb::Empty> {
        let r = valid(r)?;
        ok(CoreService::members_changed(self, r.channel_id)
            .await
            .map(|()| pb::Empty {}))
    }

    async fn forget_tokens(&self, r: Request<pb::UserRequest>) -> Reply<pb::Empty> {
        let r = valid(r)?;
        CoreService::forget_tokens(self, r.actor_id).await;
        Ok(Response::new(pb::Empty {}))
    }

    async fn update_profile(&self, r: Request<pb::UpdateProfileRequest>) -> Reply<pb::User> {
        let r = self.authorized(r).await?;
        let change = ProfileChange {
            display_name: r.display_name,
            status_text: r.status_text,
            avatar_url: r.avatar_url,
        };
        ok(CoreService::update_profile(self, r.actor_id, change).await)
    }

    async fn get_settings(&self, r: Request<pb::UserRequest>) -> Reply<pb::Settings> {
        ok(CoreService::get_settings(self, self.authorized(r).await?.actor_id).await)
    }

    async fn update_settings(&self, r: Request<pb::UpdateSettingsRequest>) -> Reply<pb::Settings> {
        ok(CoreService::update_settings(self, self.authorized(r).await?).await)
    }

    async fn list_relationships(&self, r: Request<pb::UserRequest>) -> Reply<pb::RelationshipList> {
        ok(CoreService::list_relationships(self, self.authorized(r).await?.actor_id).await)
    }

    async fn change_relationship(
        &self,
        r: Request<pb::RelationshipRequest>,
    ) -> Reply<pb::Relationship> {
        let r = self.authorized(r).await?;
        let action = r.action();
        ok(CoreService::change_relationship(self, r.actor_id, r.user_id, action).await)
    }

    async fn register_push_target(
        &self,
        r: Request<pb::RegisterPushTargetRequest>,
    ) -> Reply<pb::PushTarget> {
        ok(CoreService::register_push_target(self, self.authorized(r).await?).await)
    }

    async fn list_push_targets(&self, r: Request<pb::UserRequest>) -> Reply<pb::PushTargetList> {
        ok(CoreService::list_push_targets(self, self.authorized(r).await?.actor_id).await)
    }

    async fn remove_push_target(
        &self,
        r: Request<pb::RemovePushTargetRequest>,
    ) -> Reply<pb::Empty> {
        let r = self.authorized(r).await?;
        ok(CoreService::remove_push_target(self, r.actor_id, r.target_id).await)
    }

    async fn get_push_config(&self, r: Request<pb::Empty>) -> Reply<pb::PushConfig> {
        valid(r)?;
        Ok(Response::new(CoreService::push_config(self)))
    }

    async fn create_bot(&self, r: Request<pb::CreateBotRequest>) -> Reply<pb::AuthReply> {
        ok(CoreService::create_bot(self, self.authorized(r).await?).await)
    }

    async fn list_bots(&self, r: Request<pb::UserRequest>) -> Reply<pb::UserList> {
        ok(CoreService::list_bots(self, self.authorized(r).await?.actor_id).await)
    }

    async fn rotate_bot_token(&self, r: Request<pb::BotRequest>) -> Reply<pb::AuthReply> {
        ok(CoreService::rotate_bot_token(self, self.authorized(r).await?).await)
    }

    async fn revoke_bot_tokens(&self, r: Request<pb::BotRequest>) -> Reply<pb::Empty> {
        ok(CoreService::revoke_bot_tokens(self, self.authorized(r).await?).await)
    }

    async fn set_bot_webhook(&self, r: Request<pb::SetBotWebhookRequest>) -> Reply<pb::BotWebhook> {
        ok(CoreService::set_bot_webhook(self, self.authorized(r).await?).await)
    }

    async fn get_bot_webhook(&self, r: Request<pb::BotRequest>) -> Reply<pb::BotWebhook> {
        ok(CoreService::get_bot_webhook(self, self.authorized(r).await?).await)
    }

    async fn remove_bot_webhook(&self, r: Request<pb::BotRequest>) -> Reply<pb::Empty> {
        ok(CoreService::remove_bot_webhook(self, self.authorized(r).await?).await)
    }

    async fn run_command(&self, r: Request<pb::RunCommandRequest>) -> Reply<pb::BotCommand> {
        ok(CoreService::run_command(self, self.authorized(r).await?).await)
    }

    async fn send_ephemeral(
        &self,
        r: Request<pb::SendEphemeralRequest>,
    ) -> Reply<pb::EphemeralMessage> {
        ok(CoreService::send_ephemeral(self, self.authorized(r).await?).await)
    }
}
