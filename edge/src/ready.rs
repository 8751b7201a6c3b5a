//! `hello` → `ready` at the edge. Authentication is answered from the
//! edge's principal cache (as for REST) and the profile from the metadata
//! cache, so a token this edge has seen needs no core call to be checked
//! (the core still checks it on every call made on the user's behalf).
//! The core answers only what is the user's
//! own (settings; per channel where it ends, the read position, the last
//! message): one round trip. The channels (name, members, roles) and the
//! profiles the channel list shows (each 1:1 peer, each last message's
//! author) come from the metadata cache; what it lacks is asked in a second
//! round trip, channels and profiles side by side. So a warm edge starts a
//! session in one round trip to the core, a cold one in two.

use std::collections::HashMap;
use std::time::Instant;

use chat_proto::v1 as pb;

use crate::cache::MetaCache;
use crate::core_client::session::Caches;
use crate::core_client::{Bearer, CoreClient};
use crate::error::ApiError;
use crate::principals::Principal;
use crate::protocol::ReadyLoad;
use crate::wire::{ChannelState, User};

/// The user `token` belongs to and the token's id: cached, or from one
/// `Authenticate`, whose answer fills the principal and profile caches.
pub async fn authenticate(
    core: &CoreClient,
    caches: &Caches,
    token: &str,
) -> Result<(User, u64), ApiError> {
    let stamp = caches.metadata.user_stamp();
    let mut fresh = None;
    let slot = &mut fresh;
    let principal = caches
        .principals
        .resolve(token, || async move {
            let p = core
                .authenticate(pb::TokenRequest {
                    token: token.to_owned(),
                })
                .await?;
            let user = p
                .user
                .ok_or_else(|| ApiError::new(500, "internal", "principal without user"))?;
            let principal = Principal {
                user_id: user.id,
                token_id: p.token_id,
                expires_at_ms: p.expires_at_ms,
            };
            *slot = Some(user);
            Ok(principal)
        })
        .await?;
    let user = match fresh {
        Some(user) => {
            caches.metadata.put_user(user.clone(), stamp).await;
            user
        }
        None => {
            let bearer = Bearer::new(token)?;
            let user = caches
                .metadata
                .user(core, &bearer, principal.user_id)
                .await?;
            user.as_ref().clone()
        }
    };
    Ok((user.into(), principal.token_id))
}

/// The `ready` state of `actor` (the holder of `bearer`).
pub async fn load(
    core: &CoreClient,
    cache: &MetaCache,
    bearer: &Bearer,
    actor: u64,
) -> Result<ReadyLoad, ApiError> {
    let started = Instant::now();
    let state = core
        .as_user(bearer)
        .get_user_state(pb::UserRequest { actor_id: actor })
        .await?;
    let ids: Vec<u64> = state.channels.iter().map(|c| c.channel_id).collect();
    let shown = people_shown(&state.channels, actor);
    let (channels, users) = tokio::try_join!(
        cache.channels(core, bearer, actor, &ids),
        cache.users(core, bearer, &shown),
    )?;
    let round_trips = 1 + u8::from(channels.asked_core || users.asked_core);
    metrics::histogram!("chat_edge_ready_core_round_trips").record(f64::from(round_trips));
    metrics::histogram!("chat_edge_ready_seconds").record(started.elapsed().as_secs_f64());
    let by_id: HashMap<u64, _> = channels.items.into_iter().map(|c| (c.id, c)).collect();
    // A channel left between the two calls is left out.
    let channels = state
        .channels
        .into_iter()
        .filter_map(|p| Some(ChannelState::new(by_id.get(&p.channel_id)?, p)))
        .collect();
    Ok(ReadyLoad {
        settings: state.settings.unwrap_or_default().into(),
        channels,
        users: users
            .items
            .iter()
            .map(|u| User::from(u.as_ref().clone()))
            .collect(),
        receipts_max_members: state.receipts_max_members,
    })
}

/// The people a channel list shows besides `actor`: each 1:1 channel's
/// peer and each last message's author, ascending, once each.
fn people_shown(channels: &[pb::ChannelPosition], actor: u64) -> Vec<u64> {
    let mut shown: Vec<u64> = channels
        .iter()
        .flat_map(|c| {
            [
                c.peer_id,
                c.last_message.as_ref().map_or(0, |m| m.sender_id),
            ]
        })
        .filter(|id| *id != 0 && *id != actor)
        .collect();
    shown.sort_unstable();
    shown.dedup();
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_people_shown_are_peers_and_last_authors_once_each_without_the_actor() {
        let at = |peer_id, sender_id| pb::ChannelPosition {
            peer_id,
            last_message: (sender_id != 0).then(|| pb::Message {
                sender_id,
                ..Default::default()
            }),
            ..Default::default()
        };
        let channels = [at(7, 7), at(0, 1), at(0, 9), at(3, 1), at(0, 0)];
        assert_eq!(people_shown(&channels, 1), [3, 7, 9]);
    }
}
