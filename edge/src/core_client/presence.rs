//! The presence calls that involve more than one core. A user's sessions,
//! online state and invisibility live at their home (the owner of their
//! id); every core keeps every watch, so that whichever core is a watched
//! user's home knows whom to tell. So a watch goes to every live core and
//! each answers for the members it is the home of; a session's end goes to
//! its user's home and ends its watches everywhere else; friends' presence
//! comes from each friend's home.

use std::collections::HashMap;

use chat_proto::v1 as pb;
use tonic::transport::Channel;

use super::retry::Idempotence::Safe;
use super::{AsUser, CoreClient, Key, Route};
use crate::error::ApiError;

type Grpc = pb::chat_core_client::ChatCoreClient<Channel>;

impl CoreClient {
    /// A session closed: its user's home (which may take them offline)
    /// hears of it, and every other core ends its watches.
    pub async fn session_closed(&self, req: pb::SessionClosedRequest) -> Result<(), ApiError> {
        let user = req.session.as_ref().map_or(0, |s| s.user_id);
        let home = self.unary(Safe, None, Key::User(user), req, |mut grpc, r| async move {
            grpc.session_closed(r).await
        });
        let others = self.others_than(user).into_iter().map(|node| {
            let req = pb::SessionClosedRequest {
                watches_only: true,
                ..req
            };
            async move {
                let ended = self
                    .to_node(node, None, req, &|mut grpc: Grpc, r| async move {
                        grpc.session_closed(r).await
                    })
                    .await;
                if let Err(e) = ended {
                    tracing::warn!(error = %e, node, "a core did not end a closed session's watches");
                }
            }
        });
        let (home, _) = futures::join!(home, futures::future::join_all(others));
        home.map(drop)
    }

    /// The live cores other than `user`'s home (none without a cluster).
    fn others_than(&self, user: u64) -> Vec<u64> {
        if matches!(self.route, Route::One(_)) {
            return Vec::new();
        }
        let home = self.owner(user);
        self.nodes()
            .into_iter()
            .filter(|n| Some(*n) != home)
            .collect()
    }
}

impl AsUser<'_> {
    /// Watches a channel's members' presence from a session, at every live
    /// core; the answers (each core's members) make one list. Fails if any
    /// core fails: a watch some core lacks would miss its users' changes.
    pub async fn watch_presence(
        &self,
        req: pb::WatchRequest,
    ) -> Result<pb::PresenceList, ApiError> {
        let lists = self
            .at_every_core(req, &|mut grpc: Grpc, r| async move {
                grpc.watch_presence(r).await
            })
            .await?;
        Ok(merge(lists))
    }

    /// Stops watching, at every live core.
    pub async fn unwatch_presence(&self, req: pb::WatchRequest) -> Result<pb::Empty, ApiError> {
        self.at_every_core(req, &|mut grpc: Grpc, r| async move {
            grpc.unwatch_presence(r).await
        })
        .await?;
        Ok(pb::Empty {})
    }

    /// The caller's friends, requests and blocks, each friend's presence as
    /// their home has it.
    pub async fn list_relationships(
        &self,
        req: pb::UserRequest,
    ) -> Result<pb::RelationshipList, ApiError> {
        let actor_id = req.actor_id;
        let mut list = self
            .core
            .unary(
                Safe,
                Some(self.bearer),
                Key::User(actor_id),
                req,
                |mut grpc, r| async move { grpc.list_relationships(r).await },
            )
            .await?;
        if matches!(self.core.route, Route::One(_)) {
            return Ok(list);
        }
        let mut by_home: HashMap<u64, Vec<u64>> = HashMap::new();
        for r in &list.relationships {
            if let (Some(_), Some(user)) = (&r.presence, &r.user)
                && let Some(home) = self.core.owner(user.id)
            {
                by_home.entry(home).or_default().push(user.id);
            }
        }
        let asks = by_home.into_iter().map(|(node, user_ids)| {
            let req = pb::PresenceRequest { actor_id, user_ids };
            self.core.to_node(
                node,
                Some(self.bearer),
                req,
                &|mut grpc: Grpc, r| async move { grpc.presence_of(r).await },
            )
        });
        let mut known = HashMap::new();
        for answer in futures::future::join_all(asks).await {
            // A home that cannot answer leaves the stored presence shown.
            match answer {
                Ok(found) => known.extend(found.presence.into_iter().map(|p| (p.user_id, p))),
                Err(e) => tracing::warn!(error = %e, "a home core did not say its users' presence"),
            }
        }
        for r in &mut list.relationships {
            if let (Some(presence), Some(user)) = (r.presence.as_mut(), &r.user)
                && let Some(now) = known.remove(&user.id)
            {
                *presence = now;
            }
        }
        Ok(list)
    }

    /// Makes one call at every live core, concurrently, on the caller's
    /// behalf; their answers, or the first failure.
    async fn at_every_core<Req, Rep, F, Fut>(
        &self,
        req: Req,
        call: &F,
    ) -> Result<Vec<Rep>, ApiError>
    where
        Req: Clone,
        F: Fn(Grpc, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Rep>, tonic::Status>>,
    {
        let nodes = self.core.nodes();
        if nodes.is_empty() {
            return Err(ApiError::new(503, "unavailable", "no core is live"));
        }
        let calls = nodes.into_iter().map(|node| {
            self.core
                .to_node(node, Some(self.bearer), req.clone(), call)
        });
        futures::future::join_all(calls).await.into_iter().collect()
    }
}

/// One list, by user id, from each core's: a member two cores answered for
/// (their views of the membership differed for a moment) appears once.
fn merge(lists: Vec<pb::PresenceList>) -> pb::PresenceList {
    let mut presence: Vec<pb::Presence> = lists.into_iter().flat_map(|l| l.presence).collect();
    presence.sort_by_key(|p| p.user_id);
    presence.dedup_by_key(|p| p.user_id);
    pb::PresenceList { presence }
}
