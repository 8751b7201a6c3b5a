//! The edge's metadata cache (Slack's Flannel): user profiles, usernames,
//! autocomplete answers and channels (name, kind, owner, members, roles),
//! so a client far from the core browses from its nearby edge.
//!
//! Loaded on first use; concurrent misses of one entry make one core call.
//! Kept fresh by the core's `MetadataChanged` events, which every core
//! sends every edge after a change commits (a profile, a signup, a channel
//! renamed, a member added or removed, a role, an owner, a deletion): the
//! event drops the entry, so an answer is never stale for longer than the
//! event takes to arrive, and never goes back (the next read asks the core,
//! which has the change). A write made through this edge drops its entry at
//! once, so its caller reads what it wrote. The events are numbered like
//! user events, so a resumed stream misses none; when a stream cannot be
//! resumed, or a core leaves, the edge cannot tell what it missed and
//! drops everything ([`MetaCache::flush`]).
//!
//! A cached channel's `last_message_id` is not metadata (it moves with
//! every message) and is never served from here.

pub mod shelf;

use std::sync::Arc;

use chat_proto::v1 as pb;

use crate::core_client::{Bearer, CoreClient};
use crate::error::ApiError;
pub use shelf::Found;
use shelf::{Shelf, arc_bytes, weight};

/// Most users one search answers (the core's limit too).
pub const SEARCH_LIMIT_MAX: u32 = 50;
/// Longest username, so the longest prefix a search can match.
const USERNAME_MAX: usize = 32;

/// Profiles, usernames, searches and channels.
pub struct MetaCache {
    users: Shelf<u64, Arc<pb::User>>,
    names: Shelf<String, u64>,
    prefixes: Shelf<String, Arc<Vec<pb::User>>>,
    channels: Shelf<u64, Arc<pb::Channel>>,
}

fn user_bytes(u: &pb::User) -> usize {
    u.username.len() + u.display_name.len() + u.status_text.len() + u.avatar_url.len()
}

impl MetaCache {
    /// A cache of about `bytes` in all (0: off, every read asks the core).
    pub fn new(bytes: u64) -> Self {
        let part = |n: u64| {
            if bytes == 0 {
                0
            } else {
                (bytes / 16 * n).max(1)
            }
        };
        Self {
            users: Shelf::new("user", part(4), |_, u| {
                weight(arc_bytes::<pb::User>(user_bytes(u)) + 8)
            }),
            names: Shelf::new("username", part(1), |k, _| weight(k.len() + 32)),
            prefixes: Shelf::new("search", part(3), |k, list| {
                let users: usize = list
                    .iter()
                    .map(|u| std::mem::size_of::<pb::User>() + user_bytes(u))
                    .sum();
                weight(arc_bytes::<Vec<pb::User>>(users) + k.len())
            }),
            channels: Shelf::new("channel", part(8), |_, c| {
                let ids = (c.member_ids.len() + c.admin_ids.len()) * 8;
                weight(arc_bytes::<pb::Channel>(ids + c.name.len()) + 8)
            }),
        }
    }

    /// User `id`'s profile.
    pub async fn user(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        id: u64,
    ) -> Result<Arc<pb::User>, ApiError> {
        let load = || async {
            let key = Some(pb::get_user_request::Key::Id(id));
            let user = core
                .as_user(bearer)
                .get_user(pb::GetUserRequest { key })
                .await?;
            Ok(Arc::new(user))
        };
        Ok(self.users.get(&id, load).await?.0)
    }

    /// The profiles of `ids` that exist, in the order asked: cached, and the
    /// rest in one core call on behalf of the holder of `bearer`.
    pub async fn users(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        ids: &[u64],
    ) -> Result<Found<Arc<pb::User>>, ApiError> {
        self.users_or(ids, |ids| async move {
            core.as_user(bearer)
                .get_users(pb::GetUsersRequest { ids })
                .await
        })
        .await
    }

    /// The same for the edge itself, which shows profiles ahead of the
    /// messages it delivers.
    pub async fn profiles(
        &self,
        core: &CoreClient,
        ids: &[u64],
    ) -> Result<Found<Arc<pb::User>>, ApiError> {
        self.users_or(ids, |ids| async move {
            core.get_profiles(pb::GetUsersRequest { ids }).await
        })
        .await
    }

    /// The cached profiles of `ids`, and the rest from `load`.
    async fn users_or<F, Fut>(&self, ids: &[u64], load: F) -> Result<Found<Arc<pb::User>>, ApiError>
    where
        F: FnOnce(Vec<u64>) -> Fut,
        Fut: Future<Output = Result<pb::UserList, ApiError>>,
    {
        let load = |ids| async { Ok(load(ids).await?.users.into_iter().map(Arc::new).collect()) };
        self.users.get_many(ids, |_| true, |u| u.id, load).await
    }

    /// The channels of `ids` that `actor` is a member of, in the order
    /// asked: cached, and the rest in one core call. A cached channel that
    /// does not list `actor` is asked again: they may have just joined.
    pub async fn channels(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        actor: u64,
        ids: &[u64],
    ) -> Result<Found<Arc<pb::Channel>>, ApiError> {
        let member = |c: &Arc<pb::Channel>| c.member_ids.binary_search(&actor).is_ok();
        let load = |channel_ids| async move {
            let req = pb::GetChannelsRequest {
                actor_id: actor,
                channel_ids,
            };
            let channels = core.as_user(bearer).get_channels(req).await?.channels;
            Ok(channels.into_iter().map(Arc::new).collect())
        };
        self.channels.get_many(ids, member, |c| c.id, load).await
    }

    /// The user named `username` (any case).
    pub async fn user_by_name(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        username: &str,
    ) -> Result<Arc<pb::User>, ApiError> {
        let key = username.to_lowercase();
        let load = || async {
            let stamp = self.users.stamp();
            let key = Some(pb::get_user_request::Key::Username(username.to_owned()));
            let user = core
                .as_user(bearer)
                .get_user(pb::GetUserRequest { key })
                .await?;
            let id = user.id;
            self.users.put(id, Arc::new(user), stamp).await;
            Ok(id)
        };
        // A username names one account for good: the entry never goes stale.
        let (id, _) = self.names.get(&key, load).await?;
        self.user(core, bearer, id).await
    }

    /// Up to `limit` users whose username starts with `prefix`, ascending
    /// by username. Each prefix is asked of the core once, for the most a
    /// search answers, and any smaller limit is cut from that; a limit out
    /// of range goes to the core, which says what is wrong.
    pub async fn search(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<pb::User>, ApiError> {
        let ask = |limit: u32| async move {
            let req = pb::SearchUsersRequest {
                prefix: prefix.to_owned(),
                limit,
            };
            core.as_user(bearer).search_users(req).await
        };
        if !(1..=SEARCH_LIMIT_MAX).contains(&limit) {
            return Ok(ask(limit).await?.users);
        }
        let load = || async {
            let stamp = self.users.stamp();
            let users = ask(SEARCH_LIMIT_MAX).await?.users;
            for user in &users {
                self.users.put(user.id, Arc::new(user.clone()), stamp).await;
            }
            Ok(Arc::new(users))
        };
        let (all, _) = self.prefixes.get(&prefix.to_lowercase(), load).await?;
        Ok(all.iter().take(limit as usize).cloned().collect())
    }

    /// Channel `id`, if `actor` (the holder of `bearer`) is a member; its
    /// `last_message_id` may be old.
    pub async fn channel(
        &self,
        core: &CoreClient,
        bearer: &Bearer,
        actor: u64,
        id: u64,
    ) -> Result<Arc<pb::Channel>, ApiError> {
        let load = || async {
            let req = pb::ChannelRequest {
                actor_id: actor,
                channel_id: id,
            };
            Ok(Arc::new(core.as_user(bearer).get_channel(req).await?))
        };
        let (channel, _) = self.channels.get(&id, load).await?;
        // Loaded for another member, maybe, or before `actor` left.
        if channel.member_ids.binary_search(&actor).is_err() {
            // What the core answers anyone outside a channel.
            return Err(ApiError::new(404, "channel_not_found", "channel not found"));
        }
        Ok(channel)
    }

    /// Keeps `user`'s profile as the core just answered it, read after
    /// `stamp` ([`Self::user_stamp`]).
    pub async fn put_user(&self, user: pb::User, stamp: u64) {
        self.users.put(user.id, Arc::new(user), stamp).await;
    }

    /// The counter to pass to [`Self::put_user`] for a profile read next.
    pub fn user_stamp(&self) -> u64 {
        self.users.stamp()
    }

    /// Keeps `channel` as the core just answered it, read after `stamp`.
    pub async fn put_channel(&self, channel: pb::Channel, stamp: u64) {
        self.channels
            .put(channel.id, Arc::new(channel), stamp)
            .await;
    }

    /// The counter to pass to [`Self::put_channel`] for a channel read next.
    pub fn channel_stamp(&self) -> u64 {
        self.channels.stamp()
    }

    /// Drops what a `MetadataChanged` event names.
    pub async fn changed(&self, change: &pb::MetadataChanged) {
        for user in &change.users {
            self.user_changed(user.id, &user.username).await;
        }
        for channel in &change.channel_ids {
            self.channels.changed(channel).await;
        }
    }

    /// Drops user `id`'s profile and the searches their name answers.
    pub async fn user_changed(&self, id: u64, username: &str) {
        self.users.changed(&id).await;
        let name = username.to_lowercase();
        for (at, _) in name.char_indices().skip(1).take(USERNAME_MAX - 1) {
            self.prefixes.changed(&name[..at].to_owned()).await;
        }
        if name.chars().count() <= USERNAME_MAX {
            self.prefixes.changed(&name).await;
        }
    }

    /// Drops channel `id`: a write through this edge changed it.
    pub async fn channel_changed(&self, id: u64) {
        self.channels.changed(&id).await;
    }

    /// Drops everything: this edge may have missed changes.
    pub fn flush(&self) {
        self.users.flush();
        self.names.flush();
        self.prefixes.flush();
        self.channels.flush();
        tracing::info!("metadata cache flushed");
    }
}
