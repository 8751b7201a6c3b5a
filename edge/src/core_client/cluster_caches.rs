//! What one core changed that the others must hear of before the change is
//! acknowledged: in a cluster the edge that made the change tells them.
//! One core (a single node) has seen its own change, so these do nothing
//! there.

use chat_proto::v1 as pb;

use super::{CoreClient, Key, Route};

/// A request made by an actor.
pub(super) trait Acting {
    /// The actor.
    fn actor(&self) -> u64;
}

/// A request about one channel.
pub(super) trait OfChannel: Acting {
    /// The channel.
    fn channel(&self) -> u64;
}

macro_rules! acting {
    ($($t:ty),*) => { $(impl Acting for $t { fn actor(&self) -> u64 { self.actor_id } })* };
}
acting!(
    pb::UserRequest,
    pb::RevokeTokenRequest,
    pb::ChangePasswordRequest,
    pb::MemberRequest,
    pb::ChannelRequest
);
impl OfChannel for pb::MemberRequest {
    fn channel(&self) -> u64 {
        self.channel_id
    }
}
impl OfChannel for pb::ChannelRequest {
    fn channel(&self) -> u64 {
        self.channel_id
    }
}

impl CoreClient {
    /// [`Self::members_changed`] after the call `r`.
    pub(super) async fn members_changed_by(&self, r: &impl OfChannel) {
        self.members_changed(r.actor(), r.channel()).await;
    }

    /// [`Self::tokens_revoked`] after the call `r`.
    pub(super) async fn tokens_revoked_by(&self, r: &impl Acting) {
        self.tokens_revoked(r.actor()).await;
    }

    /// After a channel's members changed at its owner: the presence core
    /// reads them again, so its watches show who is a member now. A failure
    /// is logged: the change itself is stored, and a presence core that
    /// takes over reads the members afresh when the watches are sent again.
    pub async fn members_changed(&self, actor_id: u64, channel_id: u64) {
        if matches!(self.route, Route::One(_)) {
            return;
        }
        let req = pb::ChannelRequest {
            actor_id,
            channel_id,
        };
        let sent = self
            .unary(
                super::Idempotence::Safe,
                None,
                Key::Global,
                req,
                |mut grpc, r| async move { grpc.members_changed(r).await },
            )
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, channel_id, "presence core not told of a membership change");
        }
    }

    /// After tokens of `user` were revoked at one core: every live core
    /// drops its cached copies, so none accepts them any more. A core that
    /// cannot be reached now keeps its copies at most its principal cache's
    /// time to live.
    pub async fn tokens_revoked(&self, user: u64) {
        if matches!(self.route, Route::One(_)) {
            return;
        }
        let req = pb::UserRequest { actor_id: user };
        let calls = self.nodes().into_iter().map(|node| async move {
            let forgot = self
                .to_node(
                    node,
                    req,
                    &|mut grpc: pb::chat_core_client::ChatCoreClient<tonic::transport::Channel>,
                      r| async move { grpc.forget_tokens(r).await },
                )
                .await;
            if let Err(e) = forgot {
                tracing::warn!(error = %e, node, user, "a core did not drop revoked tokens");
            }
        });
        futures::future::join_all(calls).await;
    }
}
