//! What one core changed that the others must hear of before the change is
//! acknowledged: in a cluster the edge that made the change tells them.
//! One core (a single node) has seen its own change, so these do nothing
//! there.

use chat_proto::v1 as pb;

use super::{CoreClient, Route};

type Grpc = pb::chat_core_client::ChatCoreClient<tonic::transport::Channel>;

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

    /// [`Self::tokens_revoked`] for the bot of the call `r`.
    pub(super) async fn bot_tokens_revoked(&self, r: &pb::BotRequest) {
        self.tokens_revoked(r.bot_id).await;
    }

    /// [`Self::friends_changed`] after the call `r`.
    pub(super) async fn friends_changed_by(&self, r: &pb::RelationshipRequest) {
        self.friends_changed(r.actor_id, r.user_id).await;
    }

    /// After a channel's members changed at its owner: every core reads
    /// them again, so its watches show who is a member now. A failure is
    /// logged: the change itself is stored, and a core that joins later
    /// reads the members afresh when the watches are sent again.
    pub async fn members_changed(&self, actor_id: u64, channel_id: u64) {
        let req = pb::ChannelRequest {
            actor_id,
            channel_id,
        };
        self.tell_every_core(
            req,
            "a membership change",
            &|mut grpc: Grpc, r| async move { grpc.members_changed(r).await },
        )
        .await;
    }

    /// After tokens of `user` were revoked at one core: every live core
    /// drops its cached copies, so none accepts them any more. A core that
    /// cannot be reached now keeps its copies at most its principal cache's
    /// time to live. This edge's principal cache drops the user's first.
    pub async fn tokens_revoked(&self, user: u64) {
        crate::principals::user_revoked(user);
        let req = pb::UserRequest { actor_id: user };
        self.tell_every_core(req, "revoked tokens", &|mut grpc: Grpc, r| async move {
            grpc.forget_tokens(r).await
        })
        .await;
    }

    /// After a relationship between `actor_id` and `user_id` changed at the
    /// core that orders them: the home of each shows the other their
    /// presence if they are friends now (that core may not have known it).
    pub async fn friends_changed(&self, actor_id: u64, user_id: u64) {
        if matches!(self.route, Route::One(_)) {
            return;
        }
        let req = pb::RelationshipRequest {
            actor_id,
            user_id,
            action: 0,
        };
        let mut homes: Vec<u64> = [actor_id, user_id]
            .iter()
            .filter_map(|u| self.owner(*u))
            .collect();
        homes.dedup();
        let calls = homes.into_iter().map(|node| {
            async move {
                let told = self
                    .to_node(node, None, req, &|mut grpc: Grpc, r| async move {
                        grpc.friends_changed(r).await
                    })
                    .await;
                if let Err(e) = told {
                    tracing::warn!(error = %e, node, "a home core did not show a new friend's presence");
                }
            }
        });
        futures::future::join_all(calls).await;
    }

    /// Makes one call at every live core, concurrently, logging failures
    /// (of telling the cores of `what`). One core has seen it already.
    async fn tell_every_core<Req, F, Fut>(&self, req: Req, what: &str, call: &F)
    where
        Req: Clone,
        F: Fn(Grpc, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<pb::Empty>, tonic::Status>>,
    {
        if matches!(self.route, Route::One(_)) {
            return;
        }
        let calls = self.nodes().into_iter().map(|node| {
            let req = req.clone();
            async move {
                if let Err(e) = self.to_node(node, None, req, call).await {
                    tracing::warn!(error = %e, node, "a core was not told of {what}");
                }
            }
        });
        futures::future::join_all(calls).await;
    }
}
