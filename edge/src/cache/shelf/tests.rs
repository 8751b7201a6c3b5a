use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

fn shelf(bytes: u64) -> Shelf<u64, u32> {
    Shelf::new("test", bytes, |_, _| 1)
}

/// Loads that count themselves and answer `value`.
async fn get(s: &Shelf<u64, u32>, key: u64, value: u32, loads: &AtomicU32) -> (u32, Served) {
    s.get(&key, || async {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok(value)
    })
    .await
    .expect("loads")
}

#[tokio::test]
async fn a_value_is_loaded_once_and_again_after_it_changed() {
    let s = shelf(100);
    let loads = AtomicU32::new(0);
    assert_eq!(get(&s, 1, 10, &loads).await, (10, Served::Loaded));
    assert_eq!(get(&s, 1, 11, &loads).await, (10, Served::Hit));
    s.changed(&1).await;
    assert_eq!(get(&s, 1, 12, &loads).await, (12, Served::Loaded));
    assert_eq!(get(&s, 2, 20, &loads).await, (20, Served::Loaded));
    s.flush();
    assert_eq!(get(&s, 1, 13, &loads).await, (13, Served::Loaded));
    assert_eq!(get(&s, 2, 21, &loads).await, (21, Served::Loaded));
    assert_eq!(loads.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn concurrent_misses_of_one_key_make_one_load() {
    let s = shelf(100);
    let loads = AtomicU32::new(0);
    let (release, wait) = tokio::sync::watch::channel(false);
    let slow = || {
        let mut wait = wait.clone();
        let loads = &loads;
        async move {
            loads.fetch_add(1, Ordering::SeqCst);
            let _ = wait.wait_for(|go| *go).await;
            Ok(7)
        }
    };
    let first = s.get(&1, slow);
    let second = s.get(&1, slow);
    let go = async {
        tokio::task::yield_now().await;
        let _ = release.send(true);
    };
    let (a, b, ()) = tokio::join!(first, second, go);
    let mut served = [a.expect("first").1, b.expect("second").1];
    served.sort_by_key(|s| *s as u8);
    assert_eq!(served, [Served::Loaded, Served::Coalesced]);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_load_that_raced_a_change_is_not_kept() {
    let s = shelf(100);
    let racing = s.get(&1, || async {
        s.changed(&1).await;
        Ok(1)
    });
    // The value arrived stale, so it was asked again.
    assert_eq!(racing.await.expect("loads").0, 1);
    let loads = AtomicU32::new(0);
    assert_eq!(get(&s, 1, 2, &loads).await, (2, Served::Loaded));
    assert_eq!(get(&s, 1, 3, &loads).await, (2, Served::Hit));
}

#[tokio::test]
async fn a_put_after_a_change_it_predates_is_dropped() {
    let s = shelf(100);
    let stamp = s.stamp();
    s.changed(&1).await;
    s.put(1, 5, stamp).await;
    assert_eq!(s.peek(&1).await, None);
    let stamp = s.stamp();
    s.put(1, 6, stamp).await;
    assert_eq!(s.peek(&1).await, Some(6));
}

#[tokio::test]
async fn a_failed_load_is_not_kept() {
    let s = shelf(100);
    let refused = s
        .get(&1, || async {
            Err(ApiError::new(404, "channel_not_found", "no"))
        })
        .await;
    assert_eq!(refused.expect_err("refused").code, "channel_not_found");
    let loads = AtomicU32::new(0);
    assert_eq!(get(&s, 1, 4, &loads).await, (4, Served::Loaded));
}

#[tokio::test]
async fn a_shelf_of_no_bytes_always_loads() {
    let s = shelf(0);
    let loads = AtomicU32::new(0);
    get(&s, 1, 1, &loads).await;
    get(&s, 1, 1, &loads).await;
    s.put(1, 1, s.stamp()).await;
    assert_eq!(s.peek(&1).await, None);
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}
