//! Profiles, settings, friends and blocks.

use chat_proto::v1 as pb;
use chat_proto::v1::event;

use super::{CoreService, now_ms};
use crate::convert;
use crate::error::CoreError;
use crate::store::{Id, ProfileChange, RelationChange, RelationKind, Store};

/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 64;
/// Longest status text, in characters.
pub const STATUS_TEXT_MAX: usize = 140;
/// Longest avatar URL, in bytes.
pub const AVATAR_URL_MAX: usize = 2048;

pub(super) fn check_field(
    code: &'static str,
    value: &Option<String>,
    max: usize,
) -> Result<(), CoreError> {
    match value {
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
            Err(CoreError::invalid(
                code,
                format!("at most {max} characters, no control characters"),
            ))
        }
        _ => Ok(()),
    }
}

fn check_avatar(url: &Option<String>) -> Result<(), CoreError> {
    let Some(url) = url.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > AVATAR_URL_MAX || url.chars().any(char::is_whitespace) {
        return Err(CoreError::invalid(
            "invalid_avatar_url",
            format!("avatar_url must be an http(s) URL of at most {AVATAR_URL_MAX} bytes"),
        ));
    }
    Ok(())
}

impl<S: Store> CoreService<S> {
    /// Changes `actor`'s profile; their sessions, friends and watchers see it.
    pub async fn update_profile(
        &self,
        actor: Id,
        change: ProfileChange,
    ) -> Result<pb::User, CoreError> {
        check_field(
            "invalid_display_name",
            &change.display_name,
            DISPLAY_NAME_MAX,
        )?;
        check_field("invalid_status_text", &change.status_text, STATUS_TEXT_MAX)?;
        check_avatar(&change.avatar_url)?;
        let user = self
            .store
            .update_profile(actor, change)
            .await?
            .ok_or(CoreError::UserNotFound)?;
        let user = convert::user(&user);
        let mut audience = self.audience_of(actor).await?;
        // The user may watch their own channels, and so be there already.
        if let Err(at) = audience.binary_search(&actor) {
            audience.insert(at, actor);
        }
        self.hub
            .publish(&audience, event::Kind::Profile(user.clone()))
            .await;
        self.metadata_changed(vec![user.clone()], Vec::new()).await;
        Ok(user)
    }

    /// `actor`'s settings.
    pub async fn get_settings(&self, actor: Id) -> Result<pb::Settings, CoreError> {
        Ok(convert::settings(&self.store.settings(actor).await?))
    }

    /// Changes `actor`'s settings; their other sessions see it.
    pub async fn update_settings(
        &self,
        req: pb::UpdateSettingsRequest,
    ) -> Result<pb::Settings, CoreError> {
        let actor = req.actor_id;
        // Invisibility is presence state, kept at the user's home.
        if req.invisible.is_some() {
            self.home_of(actor)?;
        }
        for channel in &req.mute {
            self.members_for(actor, *channel).await?;
        }
        let _order = self.social.lock().await;
        let mut settings = self.store.settings(actor).await?;
        if let Some(level) = convert::notification_level(req.notifications()) {
            settings.notifications = level;
        }
        let was_invisible = settings.invisible;
        if let Some(invisible) = req.invisible {
            settings.invisible = invisible;
        }
        let muted = &mut settings.muted_channel_ids;
        muted.extend(&req.mute);
        muted.retain(|c| !req.unmute.contains(c));
        muted.sort_unstable();
        muted.dedup();
        self.store.put_settings(actor, settings.clone()).await?;
        if settings.invisible != was_invisible {
            self.invisibility_changed(actor, settings.invisible).await?;
        }
        let out = convert::settings(&settings);
        self.hub
            .publish(&[actor], event::Kind::Settings(out.clone()))
            .await;
        Ok(out)
    }

    /// Every relationship of `actor`, friends with their presence.
    pub async fn list_relationships(&self, actor: Id) -> Result<pb::RelationshipList, CoreError> {
        let mut relationships = Vec::new();
        for r in self.store.relations(actor).await? {
            relationships.push(
                self.relationship(r.other_id, Some(r.kind), r.since_ms)
                    .await?,
            );
        }
        Ok(pb::RelationshipList { relationships })
    }

    async fn relationship(
        &self,
        other: Id,
        kind: Option<RelationKind>,
        since_ms: i64,
    ) -> Result<pb::Relationship, CoreError> {
        let user = self
            .store
            .user_by_id(other)
            .await?
            .ok_or(CoreError::UserNotFound)?;
        let presence = match kind {
            Some(RelationKind::Friend) => Some(self.presence_of(&user)),
            _ => None,
        };
        Ok(pb::Relationship {
            user: Some(convert::user(&user)),
            kind: convert::relation_kind(kind) as i32,
            since_ms,
            presence,
        })
    }

    /// Acts on `actor`'s relationship with `other`; both see the outcome.
    pub async fn change_relationship(
        &self,
        actor: Id,
        other: Id,
        action: pb::RelationshipAction,
    ) -> Result<pb::Relationship, CoreError> {
        use RelationKind::{Blocked, Friend, Incoming, Outgoing};
        self.person(actor, "have friends or blocks").await?;
        use pb::RelationshipAction as A;
        if actor == other {
            return Err(CoreError::invalid(
                "invalid_user",
                "you cannot have a relationship with yourself",
            ));
        }
        if self.store.user_by_id(other).await?.is_none() {
            return Err(CoreError::UserNotFound);
        }
        let _order = self.social.lock().await;
        let mine = self.store.relation(actor, other).await?.map(|r| r.kind);
        let theirs = self.store.relation(other, actor).await?.map(|r| r.kind);
        let blocked = mine == Some(Blocked) || theirs == Some(Blocked);
        let both = |kind: Option<RelationKind>, back: Option<RelationKind>| {
            vec![(actor, other, kind), (other, actor, back)]
        };
        let changes: Vec<RelationChange> = match (action, mine) {
            (A::Request, _) if blocked => return Err(CoreError::Blocked),
            (A::Request, Some(Friend)) => {
                return Err(CoreError::conflict(
                    "already_friends",
                    "you are already friends",
                ));
            }
            (A::Request | A::Accept, Some(Incoming)) => both(Some(Friend), Some(Friend)),
            (A::Request, Some(Outgoing)) | (A::Accept, Some(Friend)) => vec![],
            (A::Request, _) => both(Some(Outgoing), Some(Incoming)),
            (A::Decline, Some(Incoming | Outgoing)) => both(None, None),
            (A::Accept | A::Decline, _) => {
                return Err(CoreError::conflict(
                    "no_friend_request",
                    "there is no friend request between you",
                ));
            }
            (A::Remove, Some(Friend)) => both(None, None),
            (A::Remove, _) => {
                return Err(CoreError::conflict("not_friends", "you are not friends"));
            }
            (A::Block, _) => both(Some(Blocked), theirs.filter(|k| *k == Blocked)),
            (A::Unblock, Some(Blocked)) => vec![(actor, other, None)],
            (A::Unblock, _) => {
                return Err(CoreError::conflict(
                    "not_blocked",
                    "you have not blocked this user",
                ));
            }
            (A::Unspecified, _) => {
                return Err(CoreError::invalid("invalid_action", "unknown action"));
            }
        };
        let at = now_ms();
        if changes.is_empty() {
            let since = self
                .store
                .relation(actor, other)
                .await?
                .map_or(0, |r| r.since_ms);
            return self.relationship(other, mine, since).await;
        }
        self.store.change_relations(changes.clone(), at).await?;
        self.blocks.changed();
        let mut out = None;
        for (user, peer, kind) in changes {
            let before = if user == actor { mine } else { theirs };
            let rel = self.relationship(peer, kind, at).await?;
            if user == actor {
                out = Some(rel.clone());
            }
            if user == actor || before != kind {
                self.hub
                    .publish(&[user], event::Kind::Relationship(rel))
                    .await;
            }
        }
        match out {
            Some(rel) => Ok(rel),
            None => self.relationship(other, mine, at).await,
        }
    }
}
