//! Push targets: registered, listed and removed by their own user; and the
//! public VAPID key browsers subscribe with.

use chat_proto::v1 as pb;

use super::{CoreService, now_ms};
use crate::error::CoreError;
use crate::push::target;
use crate::store::{Id, PushKind, PushTargetRecord, Store, StoreError};

impl<S: Store> CoreService<S> {
    /// Registers one of the actor's devices (again: the same endpoint or
    /// token keeps its id, and moves to the actor if another user had it).
    pub async fn register_push_target(
        &self,
        req: pb::RegisterPushTargetRequest,
    ) -> Result<pb::PushTarget, CoreError> {
        let push = &self.config.push;
        let checked = target::check(&req, push)?;
        let record = PushTargetRecord {
            id: self.next_id(),
            user_id: req.actor_id,
            kind: checked.kind,
            address: checked.address,
            p256dh: checked.p256dh,
            auth: checked.auth,
            app_id: checked.app_id,
            platform: checked.platform,
            created_at_ms: now_ms(),
        };
        match self
            .store
            .put_push_target(record, push.max_targets_per_user)
            .await
        {
            Ok(stored) => Ok(to_pb(&stored)),
            Err(StoreError::Conflict("push_targets_full")) => Err(CoreError::conflict(
                "too_many_push_targets",
                format!(
                    "at most {} push targets per user; remove one first",
                    push.max_targets_per_user
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The actor's push targets, oldest first.
    pub async fn list_push_targets(&self, actor: Id) -> Result<pb::PushTargetList, CoreError> {
        let targets = self.store.push_targets_of(actor).await?;
        Ok(pb::PushTargetList {
            targets: targets.iter().map(to_pb).collect(),
        })
    }

    /// Removes one of the actor's push targets.
    pub async fn remove_push_target(&self, actor: Id, id: Id) -> Result<pb::Empty, CoreError> {
        if self.store.delete_push_target(actor, id).await? {
            Ok(pb::Empty {})
        } else {
            Err(CoreError::PushTargetNotFound)
        }
    }

    /// What clients need to subscribe to push.
    pub fn push_config(&self) -> pb::PushConfig {
        pb::PushConfig {
            web_push_public_key: self.vapid.public_key().to_owned(),
        }
    }
}

/// A stored target as the API shows it (its keys stay inside).
fn to_pb(t: &PushTargetRecord) -> pb::PushTarget {
    pb::PushTarget {
        id: t.id,
        kind: match t.kind {
            PushKind::WebPush => pb::PushKind::WebPush,
            PushKind::Fcm => pb::PushKind::Fcm,
            PushKind::Apns => pb::PushKind::Apns,
        } as i32,
        address: t.address.clone(),
        app_id: t.app_id.clone(),
        platform: t.platform.clone(),
        created_at_ms: t.created_at_ms,
    }
}
