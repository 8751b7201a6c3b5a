//! `ready` is a consistent cut: a message it already reflects (in the
//! channel's `last_message_id` and unread count) never arrives live again,
//! however busy the channel is while the session connects.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{Api, Server, Ws};

/// Connections made while the channel is busy.
const CONNECTS: usize = 40;
/// Bounds on the senders, whatever happens.
const MAX_SENDS: usize = 4_000;
const MAX_TIME: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_message_counted_in_ready_is_not_delivered_live_again() {
    // The senders go as fast as acks come back, for as long as the 40
    // connects take: past the per-connection frame limit on a fast link.
    let env = [("CHAT_EDGE__FRAMES_BURST", "100000")];
    let server = Server::start_with(support::DataDir::new(), &[], &env).await;
    let api = Api::new(&server);
    let ann = api.signup("ann").await;
    let bob = api.signup("bob").await;
    let dm = api.direct(&ann, &bob).await;
    let stop = Arc::new(AtomicBool::new(false));

    // Two of bob's devices send one message after another, each waiting
    // for its ack: a message every few milliseconds, each one durable.
    let mut senders = Vec::new();
    for device in 0..2 {
        let (mut ws, _) = Ws::connect(&server, &bob.token).await;
        let (dm, stop) = (dm.clone(), stop.clone());
        senders.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) && sent < MAX_SENDS && started.elapsed() < MAX_TIME
            {
                let key = format!("{device}-{sent}");
                let ack = ws.send_message(&dm, &key, "busy").await;
                assert_eq!(ack["type"], "ack", "{ack}");
                sent += 1;
            }
            sent
        }));
    }

    let mut checked = 0;
    for attempt in 0..CONNECTS {
        let (mut ws, ready) = Ws::connect(&server, &ann.token).await;
        let state = ready["channels"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["channel"]["id"] == dm.as_str()))
            .cloned()
            .expect("the channel is in ready");
        let last: u64 = support::api::str_of(&state["channel"]["last_message_id"])
            .parse()
            .expect("numeric id");
        let first = ws.wait_type("message").await;
        let first_id: u64 = support::api::str_of(&first["message"]["id"])
            .parse()
            .expect("numeric id");
        assert!(
            first_id > last,
            "connect {attempt}: message {first_id} came live though ready said the last was \
             {last} (unread {})",
            state["unread_count"]
        );
        checked += 1;
        ws.close().await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for sender in senders {
        total += sender.await.expect("sender");
    }
    assert_eq!(checked, CONNECTS);
    assert!(
        total > CONNECTS,
        "the channel was busy throughout: {total} sends"
    );
}
