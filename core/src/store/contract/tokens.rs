//! Contract checks for session tokens and password changes.

use super::super::{Store, StoreError, TokenFilter, TokenRecord};
use super::{token, two_users_and_a_group};

/// A user's tokens are listed by id, touched, and deleted by id, by expiry
/// or all but one; each delete returns what it deleted.
pub async fn tokens_are_listed_touched_and_revoked<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    for t in [
        token(1, 1, 100),
        token(2, 1, 0),
        token(3, 1, 500),
        token(4, 2, 100),
    ] {
        s.insert_token(t).await.expect("insert");
    }
    let ids = |v: Vec<TokenRecord>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(s.tokens_of(1).await.expect("list")), vec![1, 2, 3]);
    s.touch_token(3, 40, 900).await.expect("touch");
    let touched = s.token_by_hash([3; 32]).await.expect("q").expect("found");
    assert_eq!((touched.last_used_at_ms, touched.expires_at_ms), (40, 900));
    let expired = s
        .delete_tokens(1, TokenFilter::ExpiredBy(100))
        .await
        .expect("expired");
    assert_eq!(ids(expired), vec![1], "0 is not an expiry");
    let none = s
        .delete_tokens(2, TokenFilter::Id(3))
        .await
        .expect("other's");
    assert!(none.is_empty(), "only the user's own tokens");
    assert_eq!(
        ids(s.delete_tokens(1, TokenFilter::Id(3)).await.expect("one")),
        vec![3]
    );
    assert_eq!(
        ids(s
            .delete_tokens(1, TokenFilter::AllExcept(None))
            .await
            .expect("all")),
        vec![2]
    );
    assert!(s.tokens_of(1).await.expect("list").is_empty());
    assert_eq!(ids(s.tokens_of(2).await.expect("bob")), vec![4]);
}

/// The new password and the end of every other token are one write.
pub async fn a_password_change_ends_the_other_tokens_at_once<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    for t in [
        token(1, 1, 0),
        token(2, 1, 0),
        token(3, 1, 0),
        token(4, 2, 0),
    ] {
        s.insert_token(t).await.expect("insert");
    }
    let gone = s
        .change_password(1, "$argon2id$new".into(), Some(2))
        .await
        .expect("change");
    assert_eq!(gone.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 3]);
    let ann = s.user_by_id(1).await.expect("q").expect("ann");
    assert_eq!(ann.password_hash, "$argon2id$new");
    assert_eq!(s.tokens_of(1).await.expect("list").len(), 1);
    assert_eq!(s.tokens_of(2).await.expect("bob").len(), 1);
    let unknown = s.change_password(99, "x".into(), None).await;
    assert!(
        matches!(unknown, Err(StoreError::Conflict(_))),
        "{unknown:?}"
    );
}
