//! Contract checks for push targets and the server's secrets.

use super::super::{PushKind, PushTargetRecord, Store, StoreError};
use super::two_users_and_a_group;

pub(super) fn target(id: u64, user: u64, kind: PushKind, address: &str) -> PushTargetRecord {
    PushTargetRecord {
        id,
        user_id: user,
        kind,
        address: address.to_owned(),
        p256dh: if kind == PushKind::WebPush {
            vec![4; 65]
        } else {
            Vec::new()
        },
        auth: if kind == PushKind::WebPush {
            vec![7; 16]
        } else {
            Vec::new()
        },
        app_id: String::new(),
        platform: "web".to_owned(),
        created_at_ms: id as i64,
    }
}

/// Targets are stored per user by id; the same kind and address again
/// replaces the target (moving it to the new user) and keeps its id; the
/// limit counts the others; deletes are by owner and id, or by address.
pub async fn push_targets_are_replaced_by_address_and_limited<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let ids = |v: Vec<PushTargetRecord>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let web = target(10, 1, PushKind::WebPush, "https://push.example/a");
    assert_eq!(s.put_push_target(web.clone(), 2).await.expect("put"), web);
    s.put_push_target(target(11, 1, PushKind::Fcm, "tok"), 2)
        .await
        .expect("fcm");
    // The same token for another service is another target.
    let full = s
        .put_push_target(target(12, 1, PushKind::Apns, "tok"), 2)
        .await;
    assert!(
        matches!(full, Err(StoreError::Conflict("push_targets_full"))),
        "{full:?}"
    );
    let renewed = PushTargetRecord {
        created_at_ms: 99,
        p256dh: vec![4; 65],
        ..target(13, 1, PushKind::WebPush, "https://push.example/a")
    };
    let stored = s
        .put_push_target(renewed, 2)
        .await
        .expect("renew at the limit");
    assert_eq!(
        (stored.id, stored.created_at_ms),
        (10, 99),
        "same id, new fields"
    );
    let moved = s
        .put_push_target(target(14, 2, PushKind::Fcm, "tok"), 2)
        .await
        .expect("move");
    assert_eq!((moved.id, moved.user_id), (11, 2));
    assert_eq!(ids(s.push_targets_of(1).await.expect("ann")), vec![10]);
    assert_eq!(s.push_targets_of(2).await.expect("bob"), vec![moved]);
    assert!(!s.delete_push_target(1, 11).await.expect("not ann's"));
    assert!(s.delete_push_target(2, 11).await.expect("bob's"));
    assert!(
        s.delete_push_address(PushKind::WebPush, "https://push.example/a")
            .await
            .expect("gone")
    );
    assert!(
        !s.delete_push_address(PushKind::WebPush, "https://push.example/a")
            .await
            .expect("twice")
    );
    assert!(s.push_targets_of(1).await.expect("none").is_empty());
}

/// The first secret stored under a name is the one every caller gets.
pub async fn a_server_secret_is_stored_once<S: Store>(s: &S) {
    let first = s
        .server_secret("vapid_private_key", vec![1; 32])
        .await
        .expect("first");
    assert_eq!(first, vec![1; 32]);
    let second = s
        .server_secret("vapid_private_key", vec![2; 32])
        .await
        .expect("second");
    assert_eq!(second, first, "the candidate of a later caller is dropped");
    let other = s.server_secret("other", vec![3]).await.expect("other");
    assert_eq!(other, vec![3]);
}
