//! Contract checks for pages of history.

use super::super::{HistoryAnchor, HistoryPage, Store};
use super::{FENCE, msg, two_users_and_a_group};

async fn hundred_messages<S: Store>(s: &S) {
    two_users_and_a_group(s).await;
    let batch = (1..=100).map(|i| msg(1000 + i, 10, 1 + i % 2, &format!("k{i}")));
    s.append(FENCE, batch.collect()).await.expect("append");
}

fn ids(page: &HistoryPage) -> Vec<u64> {
    page.messages.iter().map(|m| m.id).collect()
}

/// Latest, before and after return ordered pages with correct flags.
pub async fn history_pages_both_ways<S: Store>(s: &S) {
    hundred_messages(s).await;
    let latest = s.history(10, HistoryAnchor::Latest, 30).await.expect("h");
    assert_eq!(ids(&latest), (1071..=1100).collect::<Vec<_>>());
    assert!(latest.has_more_before && !latest.has_more_after);
    let before = s
        .history(10, HistoryAnchor::Before(1071), 30)
        .await
        .expect("h");
    assert_eq!(ids(&before), (1041..=1070).collect::<Vec<_>>());
    assert!(before.has_more_before && before.has_more_after);
    let first = s
        .history(10, HistoryAnchor::Before(1011), 30)
        .await
        .expect("h");
    assert_eq!(ids(&first), (1001..=1010).collect::<Vec<_>>());
    assert!(!first.has_more_before);
    let after = s
        .history(10, HistoryAnchor::After(1000), 50)
        .await
        .expect("h");
    assert_eq!(ids(&after), (1001..=1050).collect::<Vec<_>>());
    assert!(!after.has_more_before && after.has_more_after);
    let tail = s
        .history(10, HistoryAnchor::After(1090), 50)
        .await
        .expect("h");
    assert_eq!(ids(&tail), (1091..=1100).collect::<Vec<_>>());
    assert!(tail.has_more_before && !tail.has_more_after);
    let empty = s.history(11, HistoryAnchor::Latest, 10).await.expect("h");
    assert!(empty.messages.is_empty() && !empty.has_more_before);
}

/// Around a message returns it in the middle of its neighbours.
pub async fn history_around_a_message<S: Store>(s: &S) {
    hundred_messages(s).await;
    let page = s
        .history(10, HistoryAnchor::Around(1050), 10)
        .await
        .expect("h");
    assert_eq!(ids(&page), (1045..=1054).collect::<Vec<_>>());
    assert!(page.has_more_before && page.has_more_after);
    let start = s
        .history(10, HistoryAnchor::Around(1002), 10)
        .await
        .expect("h");
    assert_eq!(ids(&start), (1001..=1006).collect::<Vec<_>>());
    assert!(!start.has_more_before && start.has_more_after);
}
