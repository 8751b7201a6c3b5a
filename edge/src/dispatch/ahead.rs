//! The profiles sent ahead of a message: its author's and those of the
//! members it mentions, from the metadata cache. A miss is one core call,
//! made by the edge itself, before the message goes out: the stream's
//! later events wait for it, so a profile always comes first.

use chat_proto::v1 as pb;

use crate::cache::MetaCache;
use crate::core_client::CoreClient;
use crate::protocol::shown::fingerprint;
use crate::protocol::{AheadProfile, ServerFrame};
use crate::wire::User;

/// The profiles to send ahead of `message`, author first; none if the
/// core could not be asked (the client can still ask for them).
pub async fn profiles(
    core: &CoreClient,
    cache: &MetaCache,
    message: &pb::Message,
) -> Box<[AheadProfile]> {
    let mut ids = vec![message.sender_id];
    for mention in &message.mentions {
        if !ids.contains(&mention.user_id) {
            ids.push(mention.user_id);
        }
    }
    match cache.profiles(core, &ids).await {
        Ok(found) => found
            .items
            .iter()
            .map(|u| {
                let user = User::from(u.as_ref().clone());
                AheadProfile {
                    user_id: user.id,
                    print: fingerprint(&user),
                    text: ServerFrame::Profile { user }.encode(),
                }
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "no profiles ahead of a message");
            metrics::counter!("chat_edge_ahead_profile_failures_total").increment(1);
            Box::default()
        }
    }
}
