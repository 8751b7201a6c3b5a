//! Sessions coming and going, presence watches, and publishing changes.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::error::CoreError;
use crate::hub::Hub;
use crate::presence::{Closed, Presence, SessionKey, Status};
use crate::store::{Id, RelationKind, Store, UserRecord};

fn presence(s: Status) -> pb::Presence {
    pb::Presence {
        user_id: s.user_id,
        status: if s.online {
            pb::PresenceStatus::Online
        } else {
            pb::PresenceStatus::Offline
        } as i32,
        last_active_at_ms: s.last_active_ms,
    }
}

/// Locks the presence state.
pub(super) fn lock(state: &Mutex<Presence>) -> MutexGuard<'_, Presence> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Who sees `user`'s presence and profile: their friends, and the users
/// watching a channel they are in, except those `user` blocks.
pub(super) async fn audience<S: Store>(
    store: &S,
    state: &Mutex<Presence>,
    user: Id,
) -> Result<Vec<Id>, CoreError> {
    let mut audience = lock(state).watchers_of(user);
    let relations = store.relations(user).await?;
    audience.extend(
        relations
            .iter()
            .filter(|r| r.kind == RelationKind::Friend)
            .map(|r| r.other_id),
    );
    let blocked: Vec<Id> = relations
        .iter()
        .filter(|r| r.kind == RelationKind::Blocked)
        .map(|r| r.other_id)
        .collect();
    audience.retain(|id| !blocked.contains(id));
    audience.sort_unstable();
    audience.dedup();
    Ok(audience)
}

async fn publish<S: Store>(
    store: &S,
    hub: &Hub,
    state: &Mutex<Presence>,
    status: Status,
) -> Result<(), CoreError> {
    let audience = audience(store, state, status.user_id).await?;
    hub.publish(&audience, event::Kind::Presence(presence(status)))
        .await;
    Ok(())
}

async fn went_offline<S: Store>(
    store: &S,
    hub: &Hub,
    state: &Mutex<Presence>,
    status: Status,
) -> Result<(), CoreError> {
    metrics::gauge!("chat_presence_online_users").decrement(1.0);
    store
        .set_last_active(status.user_id, status.last_active_ms)
        .await?;
    publish(store, hub, state, status).await
}

impl<S: Store> CoreService<S> {
    /// The presence state, locked.
    pub(super) fn presence(&self) -> MutexGuard<'_, Presence> {
        lock(&self.presence)
    }

    /// Friends and presence watchers of `user`: who sees their presence and profile.
    pub(super) async fn audience_of(&self, user: Id) -> Result<Vec<Id>, CoreError> {
        audience(&*self.store, &self.presence, user).await
    }

    /// A session of `user` opened on an edge.
    pub async fn session_opened(&self, key: SessionKey, user: Id) -> Result<(), CoreError> {
        self.home_of(user)?;
        // Only a user's first session needs to know whether they hide.
        let invisible = if self.presence().is_new(user) {
            self.store.settings(user).await?.invisible
        } else {
            false
        };
        let change = self.presence().opened(key, user, now_ms(), invisible);
        if let Some(status) = change {
            metrics::gauge!("chat_presence_online_users").increment(1.0);
            self.publish_presence(status).await?;
        }
        Ok(())
    }

    /// A session of `user` closed; `clean` when the client closed or logged
    /// out. With `watches_only` (at a core that is not the user's home)
    /// only its watches end.
    pub async fn session_closed(
        &self,
        key: SessionKey,
        user: Id,
        clean: bool,
        last_heard_ms: i64,
        watches_only: bool,
    ) -> Result<(), CoreError> {
        if watches_only {
            self.presence().end_watches(key);
            return Ok(());
        }
        self.home_of(user)?;
        let closed = self.presence().closed(key, clean, last_heard_ms, now_ms());
        match closed {
            Closed::Nothing => {}
            Closed::Offline(status) => self.went_offline(status).await?,
            Closed::Later { user_id, at_ms } => self.expire_later(user_id, at_ms),
        }
        Ok(())
    }

    fn expire_later(&self, user: Id, at_ms: i64) {
        let (store, hub, state) = (self.store.clone(), self.hub.clone(), self.presence.clone());
        let wait = Duration::from_millis(u64::try_from(at_ms - now_ms()).unwrap_or(0));
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let change = lock(&state).expire(user, now_ms());
            if let Some(status) = change
                && let Err(e) = went_offline(&*store, &hub, &state, status).await
            {
                tracing::warn!(error = %e, user, "could not publish offline presence");
            }
        });
    }

    async fn went_offline(&self, status: Status) -> Result<(), CoreError> {
        went_offline(&*self.store, &self.hub, &self.presence, status).await
    }

    async fn publish_presence(&self, status: Status) -> Result<(), CoreError> {
        publish(&*self.store, &self.hub, &self.presence, status).await
    }

    /// The user turned invisibility on or off: tell those who see them,
    /// and keep the time they went out of sight as their last activity.
    pub(super) async fn invisibility_changed(
        &self,
        user: Id,
        invisible: bool,
    ) -> Result<(), CoreError> {
        let change = self.presence().set_invisible(user, invisible, now_ms());
        if let Some(status) = change {
            // The gauge counts users others see online.
            let gauge = metrics::gauge!("chat_presence_online_users");
            if invisible {
                gauge.decrement(1.0);
            } else {
                gauge.increment(1.0);
            }
            if invisible {
                self.store
                    .set_last_active(user, status.last_active_ms)
                    .await?;
            }
            self.publish_presence(status).await?;
        }
        Ok(())
    }

    /// The presence of a stored user, as others may see it.
    pub(super) fn presence_of(&self, user: &UserRecord) -> pb::Presence {
        let status = self.presence().status(user.id).unwrap_or(Status {
            user_id: user.id,
            online: false,
            last_active_ms: user.last_active_at_ms,
        });
        presence(status)
    }

    /// Sends the session's user presence changes of `channel`'s members, and
    /// returns their presence now.
    pub async fn watch_presence(
        &self,
        key: SessionKey,
        actor: Id,
        channel: Id,
    ) -> Result<pb::PresenceList, CoreError> {
        // Every core keeps every watch, channels live at their owners: the
        // members as storage has them where this core does not own it.
        let members = self.members_anywhere(channel).await?;
        if !members.contains(actor) {
            return Err(CoreError::ChannelNotFound);
        }
        let max = self.config.max_watched_channels;
        if !self.presence().watch(key, actor, channel, &members, max) {
            return Err(CoreError::conflict(
                "too_many_watches",
                format!("a session may watch at most {max} channels"),
            ));
        }
        // Members who block the watcher show as offline, never seen; each
        // member's presence is answered by their home alone.
        let hidden = self.store.blocked_by(actor).await?;
        let mut list = Vec::with_capacity(members.len());
        for member in members.iter().filter(|m| self.homes(**m)) {
            if hidden.binary_search(member).is_ok() {
                list.push(presence(Status {
                    user_id: *member,
                    online: false,
                    last_active_ms: 0,
                }));
            } else if let Some(user) = self.store.user_by_id(*member).await? {
                list.push(self.presence_of(&user));
            }
        }
        Ok(pb::PresenceList { presence: list })
    }

    /// `channel`'s members changed at another node (its owner): read them
    /// again for the watches here. Nothing to do where nobody watches it.
    pub async fn members_changed(&self, channel: Id) -> Result<(), CoreError> {
        if !self.presence().watched(channel) {
            return Ok(());
        }
        // A deleted channel has no members left: its watches end.
        let members = self.members.read(channel).await?;
        self.presence().set_members(channel, &members);
        Ok(())
    }

    /// Another node revoked tokens of `user`: no call here may pass on a
    /// cached copy of any of them.
    pub async fn forget_tokens(&self, user: Id) {
        self.principals.forget_user(user).await;
    }

    /// Stops a watch.
    pub fn unwatch_presence(&self, key: SessionKey, channel: Id) -> Result<(), CoreError> {
        self.presence().unwatch(key, channel);
        Ok(())
    }

    /// The presence of those of `users` this core is the home of and
    /// `actor` may see: their friends who do not block them.
    pub async fn presence_of_users(
        &self,
        actor: Id,
        users: &[Id],
    ) -> Result<pb::PresenceList, CoreError> {
        let friends: Vec<Id> = self
            .store
            .relations(actor)
            .await?
            .into_iter()
            .filter(|r| r.kind == RelationKind::Friend)
            .map(|r| r.other_id)
            .collect();
        let mut list = Vec::new();
        for id in users {
            if !self.homes(*id) || !friends.contains(id) {
                continue;
            }
            if let Some(user) = self.store.user_by_id(*id).await? {
                list.push(self.presence_of(&user));
            }
        }
        Ok(pb::PresenceList { presence: list })
    }

    /// `a` and `b` may have become friends: each of them this core is the
    /// home of shows the other their presence, which the core that made
    /// them friends may not have known.
    pub async fn friends_changed(&self, a: Id, b: Id) -> Result<(), CoreError> {
        let friends = self
            .store
            .relation(a, b)
            .await?
            .is_some_and(|r| r.kind == RelationKind::Friend);
        if !friends {
            return Ok(());
        }
        for (user, other) in [(a, b), (b, a)] {
            if !self.homes(user) {
                continue;
            }
            if let Some(record) = self.store.user_by_id(user).await? {
                let presence = self.presence_of(&record);
                self.hub
                    .publish(&[other], event::Kind::Presence(presence))
                    .await;
            }
        }
        Ok(())
    }
}
