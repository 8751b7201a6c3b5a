//! What reaches the client besides answers: catch-up from cursors joined
//! to live delivery, the `ready` cut, and profiles sent ahead of messages.

use super::*;

fn message(channel_id: u64, id: u64) -> Message {
    Message {
        id,
        channel_id,
        sender_id: 8,
        text: format!("m{id}"),
        client_msg_id: format!("c{id}"),
        created_at_ms: 1,
        ..Default::default()
    }
}

fn live(s: &mut Session, channel_id: u64, id: u64) {
    let text: Arc<str> = Arc::from(format!(r#"{{"type":"message","id":{id}}}"#));
    s.handle_delivery(Delivery::Frame(Arc::new(SharedFrame {
        text,
        position: Some((channel_id, id)),
        ahead: Box::default(),
    })));
}

fn history_call(outs: &[Output]) -> Option<(u64, u64)> {
    outs.iter().find_map(|o| match o {
        Output::Call(c) => match **c {
            Call::History {
                channel_id, after, ..
            } => Some((channel_id, after)),
            _ => None,
        },
        _ => None,
    })
}

/// Ids of message frames, from pages (`"message":{"id":"…"}`) or live (`"id":…`).
fn message_ids(outs: &[Output]) -> Vec<u64> {
    texts(outs)
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| {
            f["message"]["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .or(f["id"].as_u64())
        })
        .collect()
}

#[test]
fn cursors_catch_up_then_join_live_without_gap_or_duplicate() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(r#"{"type":"hello","token":"t","cursors":{"5":"10"}}"#, now);
    drain(&mut s);
    authenticate(&mut s);
    let outs = drain(&mut s);
    assert_eq!(history_call(&outs), Some((5, 10)));

    live(&mut s, 5, 13); // arrives while catching up: held back
    live(&mut s, 6, 1); // another channel: straight through
    assert_eq!(message_ids(&drain(&mut s)), vec![1]);

    let page = vec![message(5, 11), message(5, 12)];
    s.handle_call_result(CallResult::History {
        channel_id: 5,
        result: Ok((page, false)),
    });
    let outs = drain(&mut s);
    assert_eq!(message_ids(&outs), vec![11, 12]);
    assert_eq!(
        history_call(&outs),
        Some((5, 12)),
        "13 was seen live: read on"
    );

    s.handle_call_result(CallResult::History {
        channel_id: 5,
        result: Ok((vec![message(5, 13)], false)),
    });
    let outs = drain(&mut s);
    assert_eq!(message_ids(&outs), vec![13]);
    let changes = outs.iter().find_map(|o| match o {
        Output::Call(c) => match **c {
            Call::Changes {
                channel_id, after, ..
            } => Some((channel_id, after)),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(changes, Some((5, 10)), "then edits since the cursor");
    let edited = Message {
        version_id: 20,
        edited_at_ms: 5,
        ..message(5, 9)
    };
    s.handle_call_result(CallResult::Changes {
        channel_id: 5,
        result: Ok((vec![edited], false)),
    });
    let frames = texts(&drain(&mut s));
    assert_eq!(frames[0]["type"], "message_edited");
    assert_eq!(frames[0]["message"]["version_id"], "20");
    assert_eq!(frames[1]["type"], "synced");
    assert_eq!(
        (&frames[1]["messages"], &frames[1]["changes"]),
        (&3.into(), &1.into())
    );

    live(&mut s, 5, 13); // the same message again, live: dropped
    live(&mut s, 5, 14);
    assert_eq!(message_ids(&drain(&mut s)), vec![14]);
}

#[test]
fn a_refused_cursor_gets_an_error_and_the_rest_goes_on() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(
        r#"{"type":"hello","token":"t","cursors":{"5":"0","6":"0"}}"#,
        now,
    );
    drain(&mut s);
    authenticate(&mut s);
    assert_eq!(history_call(&drain(&mut s)), Some((5, 0)));
    let err = CallError::new("not_a_member", "no");
    s.handle_call_result(CallResult::History {
        channel_id: 5,
        result: Err(err),
    });
    let outs = drain(&mut s);
    let frames = texts(&outs);
    assert_eq!(frames[0]["code"], "not_a_member");
    assert_eq!(frames[0]["channel_id"], "5");
    assert_eq!(history_call(&outs), Some((6, 0)));
}

#[test]
fn too_many_cursors_are_refused_before_authenticating() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(
        r#"{"type":"hello","token":"t","cursors":{"1":"0","2":"0","3":"0","4":"0"}}"#,
        now,
    );
    let frames = texts(&drain(&mut s));
    assert_eq!(frames[0]["code"], "too_many_cursors");
    assert!(s.wants_read(), "the client may say hello again");
}

#[test]
fn a_message_ready_reflected_is_not_delivered_live_again() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(r#"{"type":"hello","token":"t","cursors":{"6":"3"}}"#, now);
    drain(&mut s);
    s.handle_call_result(CallResult::Authenticated(Ok((user(), 99))));
    drain(&mut s);
    // Published before the ready state was read, delivered after it.
    let channels = vec![
        ready_channel(5, 40),
        ready_channel(6, 9),
        ready_channel(7, 0),
    ];
    s.handle_call_result(CallResult::Ready(Ok(ready(channels))));
    drain(&mut s);
    live(&mut s, 5, 39);
    live(&mut s, 5, 40);
    live(&mut s, 7, 1);
    assert_eq!(
        message_ids(&drain(&mut s)),
        vec![1],
        "5's are counted in ready"
    );
    live(&mut s, 5, 41);
    live(&mut s, 5, 42);
    assert_eq!(message_ids(&drain(&mut s)), vec![41, 42]);
}

fn profile(id: u64, name: &str) -> crate::wire::User {
    crate::wire::User {
        id,
        username: name.into(),
        ..Default::default()
    }
}

/// A live message of channel 5 with the profiles of `ahead` to send first.
fn live_from(s: &mut Session, id: u64, ahead: &[crate::wire::User]) {
    let ahead = ahead
        .iter()
        .map(|u| super::AheadProfile {
            user_id: u.id,
            print: crate::shown::fingerprint(u),
            text: Arc::from(format!("profile of {}", u.username)),
        })
        .collect();
    s.handle_delivery(Delivery::Frame(Arc::new(SharedFrame {
        text: Arc::from(format!("message {id}")),
        position: Some((5, id)),
        ahead,
    })));
}

#[test]
fn a_profile_goes_just_before_the_first_message_that_needs_it_and_again_once_changed() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(r#"{"type":"hello","token":"t"}"#, now);
    s.handle_call_result(CallResult::Authenticated(Ok((user(), 99))));
    drain(&mut s);
    let bob = profile(8, "bob");
    let cat = profile(9, "cat");
    let load = ReadyLoad {
        users: vec![bob.clone()],
        ..ready(vec![ready_channel(5, 0)])
    };
    s.handle_call_result(CallResult::Ready(Ok(load)));
    drain(&mut s);
    live_from(&mut s, 1, &[bob.clone(), cat.clone()]);
    assert_eq!(
        texts_raw(&drain(&mut s)),
        ["profile of cat", "message 1"],
        "bob came in ready"
    );
    live_from(&mut s, 2, std::slice::from_ref(&cat));
    assert_eq!(texts_raw(&drain(&mut s)), ["message 2"]);
    let renamed = crate::wire::User {
        display_name: "Cat".into(),
        ..cat
    };
    live_from(&mut s, 3, &[renamed]);
    assert_eq!(texts_raw(&drain(&mut s)), ["profile of cat", "message 3"]);
}

fn texts_raw(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .collect()
}
