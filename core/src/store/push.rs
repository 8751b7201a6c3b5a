//! The push part of storage: the devices' push targets (Web Push
//! subscriptions, FCM and APNs device tokens) each user registered, and
//! the server's own push secrets (its generated VAPID key).

use std::future::Future;

use super::{Id, StoreResult};

/// A push service a target is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushKind {
    /// A browser's Web Push subscription (RFC 8030, 8291, 8292).
    WebPush,
    /// Firebase Cloud Messaging (HTTP v1).
    Fcm,
    /// Apple Push Notification service (HTTP/2, token auth).
    Apns,
}

impl PushKind {
    /// Its number in storage.
    pub fn code(self) -> i16 {
        match self {
            PushKind::WebPush => 1,
            PushKind::Fcm => 2,
            PushKind::Apns => 3,
        }
    }

    /// The kind stored as `code`, if any.
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(PushKind::WebPush),
            2 => Some(PushKind::Fcm),
            3 => Some(PushKind::Apns),
            _ => None,
        }
    }
}

/// One device's push target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTargetRecord {
    /// Its id.
    pub id: Id,
    /// The user it notifies.
    pub user_id: Id,
    /// The service that reaches it.
    pub kind: PushKind,
    /// The subscription's endpoint URL, or the device token: unique per
    /// kind (a device signed in to another account moves to it).
    pub address: String,
    /// Web Push: the browser's P-256 public key (65 bytes, uncompressed).
    pub p256dh: Vec<u8>,
    /// Web Push: the browser's 16-byte authentication secret.
    pub auth: Vec<u8>,
    /// FCM: the Firebase project; APNs: the app's bundle id (the topic).
    pub app_id: String,
    /// The device's platform as the client names it (`web`, `android`, `ios`…).
    pub platform: String,
    /// When it was registered (or registered again).
    pub created_at_ms: i64,
}

/// Push targets. Every method is atomic; a write that returns `Ok` is durable.
pub trait PushStore: Send + Sync + 'static {
    /// Stores `target`. One of the same kind and address is replaced,
    /// whoever it belonged to, and keeps its id; the stored target is
    /// returned. `Conflict("push_targets_full")` if the user already has
    /// `max_per_user` others.
    fn put_push_target(
        &self,
        target: PushTargetRecord,
        max_per_user: usize,
    ) -> impl Future<Output = StoreResult<PushTargetRecord>> + Send;
    /// A user's push targets, by id.
    fn push_targets_of(
        &self,
        user: Id,
    ) -> impl Future<Output = StoreResult<Vec<PushTargetRecord>>> + Send;
    /// Deletes a user's target by id; false if they had none such.
    fn delete_push_target(
        &self,
        user: Id,
        id: Id,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Deletes the target of `kind` at `address` (its service says it is
    /// gone); false if there was none.
    fn delete_push_address(
        &self,
        kind: PushKind,
        address: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// The secret kept under `name`, storing `candidate` first if there is
    /// none: every caller, on every node, gets the same one.
    fn server_secret(
        &self,
        name: &'static str,
        candidate: Vec<u8>,
    ) -> impl Future<Output = StoreResult<Vec<u8>>> + Send;
}
