//! The hub's routing, detaching and resuming.

use super::*;
use chat_proto::v1::TokenRevoked;

fn hello(edge_id: Id, incarnation: u64) -> Hello {
    Hello {
        edge_id,
        incarnation,
        resume: false,
        after_seq: 0,
    }
}

fn kind() -> event::Kind {
    event::Kind::TokenRevoked(TokenRevoked { token_ids: vec![9] })
}

/// Opens edge `id`'s stream and takes its registration event.
fn open(hub: &Hub, id: Id) -> EdgeStream {
    let (got, mut rx) = hub.subscribe(hello(id, id), || 99).expect("free id");
    assert_eq!(got.edge, id);
    let first = rx.try_recv().expect("registration").expect("ok");
    assert!(matches!(first.kind, Some(event::Kind::Registered(r)) if r.edge_id == id));
    rx
}

#[tokio::test]
async fn a_live_edge_id_is_refused_to_another_edge_but_not_to_a_reconnect() {
    let hub = Hub::new(8);
    let first = open(&hub, 1);
    let err = hub
        .subscribe(hello(1, 2), || 99)
        .expect_err("another incarnation");
    assert!(matches!(err, CoreError::EdgeIdTaken(1)));
    let (id, _again) = hub
        .subscribe(hello(1, 1), || 99)
        .expect("the same edge reconnects");
    assert_eq!(id.edge, 1);
    drop(first);
    let (assigned, _) = hub.subscribe(hello(0, 7), || 42).expect("assigned");
    assert_eq!(assigned.edge, 42);
}

#[test]
fn an_id_whose_edge_is_gone_can_be_taken() {
    let hub = Hub::new(8);
    drop(open(&hub, 3));
    assert!(hub.subscribe(hello(3, 9), || 99).is_ok());
}

#[tokio::test]
async fn a_full_edge_loses_its_stream_and_nobody_waits_for_it() {
    let hub = Hub::new(2);
    let mut stuck = open(&hub, 1);
    let mut reader = open(&hub, 2);
    hub.update_interest(1, &[10], &[]);
    hub.update_interest(2, &[10], &[]);
    for _ in 0..10 {
        let publish = hub.publish(&[10], kind());
        tokio::time::timeout(std::time::Duration::from_secs(1), publish)
            .await
            .expect("publish never waits for a full edge");
        reader
            .recv()
            .await
            .expect("the reading edge gets it")
            .expect("ok");
    }
    // The stuck edge keeps what it buffered, then its stream ends.
    assert!(stuck.recv().await.is_some());
    assert!(stuck.recv().await.is_some());
    assert!(stuck.recv().await.is_none(), "its stream ended");
    assert!(!hub.state().edges[&1].is_live(), "detached");
    assert!(hub.state().edges[&2].is_live());
}

#[tokio::test]
async fn events_go_once_per_edge_to_interested_users_only() {
    let hub = Hub::new(8);
    let mut a = open(&hub, 1);
    let mut b = open(&hub, 2);
    hub.update_interest(1, &[10, 11], &[]);
    hub.update_interest(2, &[12], &[]);
    hub.publish(&[10, 11, 13], kind()).await;
    let ev = a.recv().await.expect("event").expect("ok");
    let mut got = ev.recipients.clone();
    got.sort_unstable();
    assert_eq!(got, vec![10, 11]);
    assert!(b.try_recv().is_err(), "edge 2 serves none of them");
    assert!(a.try_recv().is_err(), "one event per edge");
}

fn typing(channel: Id) -> event::Kind {
    event::Kind::Typing(chat_proto::v1::TypingStarted {
        channel_id: channel,
        user_id: 1,
        expires_in_ms: 1,
    })
}

#[tokio::test]
async fn channel_events_go_to_watching_edges_with_every_recipient() {
    let hub = Hub::new(8);
    let (a_id, mut a) = hub.subscribe(hello(1, 1), || 99).expect("edge 1");
    let (_, mut b) = hub.subscribe(hello(2, 2), || 99).expect("edge 2");
    a.try_recv().expect("registered").expect("ok");
    b.try_recv().expect("registered").expect("ok");
    // Edge 2 serves the users but does not watch the channel.
    hub.update_interest(2, &[10, 11], &[]);
    hub.watch(a_id, &[7]);
    hub.publish(&[10, 11], typing(7)).await;
    let ev = a.try_recv().expect("the watcher gets it").expect("ok");
    assert_eq!(ev.recipients, vec![10, 11]);
    assert!(b.try_recv().is_err(), "interest alone is not a watch");
    hub.unwatch(a_id, &[7]);
    hub.publish(&[10], typing(7)).await;
    assert!(a.try_recv().is_err(), "unwatched");
}

#[tokio::test]
async fn a_replaced_stream_cannot_watch_or_close_for_the_new_one() {
    let hub = Hub::new(8);
    let (old, _old_rx) = hub.subscribe(hello(1, 1), || 99).expect("first stream");
    let (new, mut rx) = hub.subscribe(hello(1, 1), || 99).expect("reconnect");
    rx.try_recv().expect("registered").expect("ok");
    hub.watch(old, &[7]);
    hub.publish(&[10], typing(7)).await;
    assert!(rx.try_recv().is_err(), "the old stream's watch is ignored");
    hub.close(old);
    hub.watch(new, &[7]);
    hub.publish(&[10], typing(7)).await;
    assert!(rx.try_recv().is_ok(), "the new stream is open and watching");
    hub.close(new);
    assert!(!hub.state().edges[&1].is_live(), "detached");
}

#[tokio::test]
async fn removed_interest_and_closed_edges_get_nothing() {
    let hub = Hub::new(8);
    let mut a = open(&hub, 1);
    hub.update_interest(1, &[10], &[]);
    hub.update_interest(1, &[], &[10]);
    hub.publish(&[10], kind()).await;
    assert!(a.try_recv().is_err());
    let b = open(&hub, 2);
    hub.update_interest(2, &[10], &[]);
    drop(b);
    hub.publish(&[10], kind()).await;
    assert!(!hub.state().edges[&2].is_live(), "detached");
}

fn resume(edge_id: Id, incarnation: u64, after_seq: u64) -> Hello {
    Hello {
        resume: true,
        after_seq,
        ..hello(edge_id, incarnation)
    }
}

/// The registration event of a fresh stream: whether it resumed.
fn registered(rx: &mut EdgeStream) -> bool {
    match rx.try_recv().expect("registered").expect("ok").kind {
        Some(event::Kind::Registered(r)) => r.resumed,
        other => panic!("expected registered, got {other:?}"),
    }
}

#[tokio::test]
async fn user_events_sent_while_detached_are_resumed_after_the_last_seq() {
    let hub = Hub::new(64);
    let (first, mut rx) = hub.subscribe(hello(1, 5), || 99).expect("edge");
    assert!(registered(&mut rx), "a first stream is whole");
    hub.update_interest(1, &[10], &[]);
    hub.watch(first, &[7]);
    hub.publish(&[10], kind()).await;
    let got = rx.try_recv().expect("live").expect("ok");
    assert_eq!(got.seq, 1);
    hub.publish(&[10], typing(7)).await;
    assert_eq!(
        rx.try_recv().expect("live").expect("ok").seq,
        0,
        "channel events are not numbered"
    );
    // The stream breaks; two user events happen meanwhile.
    drop(rx);
    hub.close(first);
    hub.publish(&[10], kind()).await;
    hub.publish(&[10], kind()).await;
    hub.publish(&[10], typing(7)).await;
    let (_, mut rx) = hub.subscribe(resume(1, 5, 1), || 99).expect("resume");
    assert!(registered(&mut rx), "resumed whole");
    let seqs: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|e| e.expect("ok").seq)
        .collect();
    assert_eq!(
        seqs,
        vec![2, 3],
        "the missed user events, not the channel's"
    );
}

#[tokio::test]
async fn a_stream_is_not_resumable_past_the_ring_or_in_another_process() {
    let hub = Hub::new(RING_EVENTS * 2);
    let (first, rx) = hub.subscribe(hello(1, 5), || 99).expect("edge");
    hub.update_interest(1, &[10], &[]);
    drop(rx);
    hub.close(first);
    for _ in 0..RING_EVENTS + 1 {
        hub.publish(&[10], kind()).await;
    }
    let (_, mut rx) = hub.subscribe(resume(1, 5, 0), || 99).expect("resume");
    assert!(!registered(&mut rx), "the first missed event was dropped");
    let other = Hub::new(8);
    let (_, mut rx) = other.subscribe(resume(1, 5, 3), || 99).expect("resume");
    assert!(!registered(&mut rx), "this process never had the stream");
}

#[tokio::test]
async fn a_detached_edge_id_goes_to_another_incarnation_which_starts_afresh() {
    let hub = Hub::new(8);
    let (first, rx) = hub.subscribe(hello(1, 5), || 99).expect("edge");
    hub.update_interest(1, &[10], &[]);
    drop(rx);
    hub.close(first);
    let (_, mut rx) = hub.subscribe(hello(1, 6), || 99).expect("a new process");
    assert!(registered(&mut rx));
    hub.publish(&[10], kind()).await;
    assert!(
        rx.try_recv().is_err(),
        "the old process's users are not routed here"
    );
}

#[tokio::test]
async fn users_without_a_live_edge_are_unserved() {
    let hub = Hub::new(8);
    let live = open(&hub, 1);
    let gone = open(&hub, 2);
    hub.update_interest(1, &[10], &[]);
    hub.update_interest(2, &[11], &[]);
    assert_eq!(hub.unserved(&[10, 11, 12]), vec![12]);
    drop(gone);
    assert_eq!(
        hub.unserved(&[10, 11, 12]),
        vec![11, 12],
        "an edge whose stream ended serves nobody"
    );
    hub.update_interest(1, &[], &[10]);
    assert_eq!(hub.unserved(&[10]), vec![10]);
    drop(live);
}
