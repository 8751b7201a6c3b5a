//! Deterministic tests of the session state machine.

mod delivery;

use super::*;

fn config() -> SessionConfig {
    SessionConfig {
        hello_timeout: Duration::from_secs(10),
        heartbeat_interval: Duration::from_secs(15),
        max_in_flight: 2,
        frames_per_sec: 10.0,
        frames_burst: 5.0,
        max_text_chars: 10,
        max_frame_bytes: 1024,
        idle_timeout: Duration::from_secs(45),
        sync_page: 2,
        max_cursors: 3,
        typing_interval: Duration::from_secs(1),
    }
}

fn user() -> User {
    User {
        id: 7,
        username: "ann".into(),
        created_at_ms: 1,
        ..Default::default()
    }
}

/// A call output, as the session boxes it.
fn call(c: Call) -> Output {
    Output::Call(Box::new(c))
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

fn texts(outs: &[Output]) -> Vec<serde_json::Value> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Text(t) => serde_json::from_str(t).ok(),
            _ => None,
        })
        .collect()
}

fn open(now: Instant) -> Session {
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(r#"{"type":"hello","token":"t"}"#, now);
    assert_eq!(
        drain(&mut s),
        vec![call(Call::Authenticate { token: "t".into() })]
    );
    assert!(!s.wants_read(), "no reads while authenticating");
    s.handle_call_result(CallResult::Authenticated(Ok((user(), 99))));
    let outs = drain(&mut s);
    assert_eq!(
        outs,
        vec![
            Output::Register {
                user_id: 7,
                token_id: 99
            },
            call(Call::Ready)
        ]
    );
    assert!(!s.wants_deliveries(), "deliveries wait for the ready state");
    s.handle_call_result(CallResult::Ready(Ok(ready(vec![]))));
    let outs = drain(&mut s);
    assert_eq!(texts(&outs)[0]["type"], "ready");
    assert!(s.wants_deliveries());
    s
}

/// Authentication and the ready state succeed; returns the ready outputs.
fn authenticate(s: &mut Session) {
    s.handle_call_result(CallResult::Authenticated(Ok((user(), 99))));
    drain(s);
    s.handle_call_result(CallResult::Ready(Ok(ready(vec![]))));
}

/// An open session with room for eight calls in flight and a burst of 20
/// frames.
fn open_with_room(now: Instant) -> Session {
    let config = SessionConfig {
        max_in_flight: 8,
        frames_burst: 20.0,
        ..config()
    };
    let mut s = Session::new(1, Arc::new(config), now);
    s.handle_text(r#"{"type":"hello","token":"t"}"#, now);
    authenticate(&mut s);
    drain(&mut s);
    s
}

fn ready(channels: Vec<crate::wire::ChannelState>) -> ReadyLoad {
    ReadyLoad {
        settings: settings(),
        channels,
        users: vec![],
        receipts_max_members: 20,
    }
}

fn settings() -> crate::wire::Settings {
    crate::wire::Settings {
        notifications: crate::wire::Notifications::All,
        muted_channel_ids: vec![],
        invisible: false,
    }
}

/// A channel in `ready` whose newest message is `last_message_id`.
fn ready_channel(id: u64, last_message_id: u64) -> crate::wire::ChannelState {
    crate::wire::ChannelState {
        channel: crate::wire::Channel {
            id,
            kind: crate::wire::ChannelKind::Direct,
            name: String::new(),
            owner_id: 7,
            member_ids: vec![7, 8],
            admin_ids: vec![],
            created_at_ms: 1,
            last_message_id,
        },
        last_read_id: 0,
        unread_count: 1,
        mention_count: 0,
        last_message: None,
    }
}

#[test]
fn hello_then_ready() {
    let s = open(Instant::now());
    assert!(s.wants_read());
}

#[test]
fn a_bad_token_closes_with_4001() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(r#"{"type":"hello","token":"bad"}"#, now);
    drain(&mut s);
    s.handle_call_result(CallResult::Authenticated(Err(CallError::new(
        "invalid_token",
        "nope",
    ))));
    let outs = drain(&mut s);
    assert_eq!(texts(&outs)[0]["code"], "invalid_token");
    assert_eq!(outs.last(), Some(&Output::Close(CloseReason::UNAUTHORIZED)));
}

#[test]
fn anything_but_hello_first_closes_with_4003() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    s.handle_text(
        r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":"x"}"#,
        now,
    );
    let outs = drain(&mut s);
    assert_eq!(texts(&outs)[0]["code"], "hello_required");
    assert_eq!(
        outs.last(),
        Some(&Output::Close(CloseReason::HELLO_REQUIRED))
    );
}

#[test]
fn no_hello_in_time_closes_with_4002() {
    let now = Instant::now();
    let mut s = Session::new(1, Arc::new(config()), now);
    let deadline = s.poll_timeout().expect("deadline");
    s.handle_timeout(deadline - Duration::from_millis(1));
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(deadline);
    assert_eq!(
        drain(&mut s),
        vec![Output::Close(CloseReason::HELLO_TIMEOUT)]
    );
}

#[test]
fn sends_become_calls_and_acks() {
    let now = Instant::now();
    let mut s = open(now);
    s.handle_text(
        r#"{"type":"send","channel_id":"5","client_msg_id":"a","text":"hi"}"#,
        now,
    );
    assert_eq!(
        drain(&mut s),
        vec![call(Call::Send(SendCall {
            channel_id: 5,
            client_msg_id: "a".into(),
            text: "hi".into()
        }))]
    );
    let message = Message {
        id: 100,
        channel_id: 5,
        sender_id: 7,
        text: "hi".into(),
        client_msg_id: "a".into(),
        created_at_ms: 3,
        ..Default::default()
    };
    s.handle_call_result(CallResult::Sent {
        client_msg_id: "a".into(),
        result: Ok((message, false)),
    });
    let frames = texts(&drain(&mut s));
    assert_eq!(frames[0]["type"], "ack");
    assert_eq!(frames[0]["message"]["id"], "100");
}

#[test]
fn reading_pauses_at_the_in_flight_limit() {
    let now = Instant::now();
    let mut s = open(now);
    for key in ["a", "b"] {
        let frame =
            format!(r#"{{"type":"send","channel_id":"5","client_msg_id":"{key}","text":"x"}}"#);
        s.handle_text(&frame, now);
    }
    drain(&mut s);
    assert!(!s.wants_read());
    let err = CallError::new("not_a_member", "no");
    s.handle_call_result(CallResult::Sent {
        client_msg_id: "a".into(),
        result: Err(err),
    });
    assert!(s.wants_read());
    let frames = texts(&drain(&mut s));
    assert_eq!(frames[0]["code"], "not_a_member");
    assert_eq!(frames[0]["client_msg_id"], "a");
}

#[test]
fn bad_frames_get_error_frames_and_the_session_stays_open() {
    let now = Instant::now();
    let mut s = open(now);
    let cases = [
        ("{oops", "malformed_json"),
        (r#"{"type":"dance"}"#, "unknown_type"),
        (
            r#"{"type":"send","client_msg_id":"a","text":"x"}"#,
            "missing_field",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":""}"#,
            "text_empty",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":"12345678901"}"#,
            "text_too_long",
        ),
        (r#"{"type":"hello","token":"t"}"#, "already_authenticated"),
    ];
    for (i, (frame, code)) in cases.iter().enumerate() {
        let t = now + Duration::from_secs(i as u64);
        s.handle_text(frame, t);
        let frames = texts(&drain(&mut s));
        assert_eq!(frames[0]["code"], *code, "{frame}");
    }
    s.handle_binary(now + Duration::from_secs(30));
    assert_eq!(texts(&drain(&mut s))[0]["code"], "binary_not_supported");
    assert!(!s.is_closed());
}

#[test]
fn floods_are_rate_limited() {
    let now = Instant::now();
    let mut s = open(now);
    let codes: Vec<_> = (0..8)
        .map(|_| {
            s.handle_text(r#"{"type":"ping"}"#, now);
            texts(&drain(&mut s))[0]["type"]
                .as_str()
                .unwrap_or("")
                .to_owned()
                + texts(&drain(&mut s)).first().map(|_| "").unwrap_or("")
        })
        .collect();
    // A burst of 5 passes (the hello took one token), then pings are refused.
    assert_eq!(codes.iter().filter(|c| *c == "pong").count(), 4);
    assert_eq!(codes.iter().filter(|c| *c == "error").count(), 4);
}

#[test]
fn deliveries_pass_through_and_close_ends_the_session() {
    let now = Instant::now();
    let mut s = open(now);
    let frame: Arc<str> = Arc::from(r#"{"type":"message"}"#);
    s.handle_delivery(Delivery::Frame(Arc::new(SharedFrame::plain(frame.clone()))));
    assert_eq!(drain(&mut s), vec![Output::Text(frame)]);
    s.handle_delivery(Delivery::Close(&CloseReason::SLOW_CONSUMER));
    assert_eq!(
        drain(&mut s),
        vec![Output::Close(CloseReason::SLOW_CONSUMER)]
    );
    assert!(s.is_closed() && !s.wants_read());
}

#[test]
fn silence_past_the_idle_timeout_closes_with_4004() {
    let start = Instant::now();
    let mut s = open(start);
    assert_eq!(s.poll_timeout(), Some(start + Duration::from_secs(45)));
    let later = start + Duration::from_secs(30);
    s.handle_text(r#"{"type":"ping"}"#, later);
    drain(&mut s);
    s.handle_timeout(start + Duration::from_secs(45));
    assert!(!s.is_closed(), "a ping restarts the clock");
    s.handle_activity(later + Duration::from_secs(40));
    s.handle_timeout(later + Duration::from_secs(45));
    assert!(!s.is_closed(), "so do WebSocket pings");
    let deadline = later + Duration::from_secs(85);
    assert_eq!(s.poll_timeout(), Some(deadline));
    s.handle_timeout(deadline);
    assert_eq!(
        drain(&mut s),
        vec![Output::Close(CloseReason::IDLE_TIMEOUT)]
    );
}

#[test]
fn typing_is_limited_per_channel_and_interval() {
    let now = Instant::now();
    let mut s = open(now);
    s.handle_text(r#"{"type":"typing","channel_id":"5"}"#, now);
    assert_eq!(drain(&mut s), vec![call(Call::Typing { channel_id: 5 })]);
    s.handle_text(r#"{"type":"typing","channel_id":"5"}"#, now);
    let outs = drain(&mut s);
    assert_eq!(texts(&outs)[0]["code"], "rate_limited");
    assert_eq!(texts(&outs)[0]["channel_id"], "5");
    s.handle_text(r#"{"type":"typing","channel_id":"6"}"#, now);
    assert_eq!(drain(&mut s), vec![call(Call::Typing { channel_id: 6 })]);
}

#[test]
fn failed_actions_name_their_channel_and_message() {
    let now = Instant::now();
    let mut s = open(now);
    s.handle_text(
        r#"{"type":"edit","channel_id":"5","message_id":"9","text":"x"}"#,
        now,
    );
    drain(&mut s);
    s.handle_call_result(CallResult::Done {
        channel_id: 5,
        message_id: Some(9),
        result: Err(CallError::new("not_your_message", "no")),
    });
    let frames = texts(&drain(&mut s));
    assert_eq!(frames[0]["code"], "not_your_message");
    assert_eq!(
        (&frames[0]["channel_id"], &frames[0]["message_id"]),
        (&"5".into(), &"9".into())
    );
}

#[test]
fn actions_count_towards_the_in_flight_limit() {
    let now = Instant::now();
    let mut s = open(now);
    s.handle_text(r#"{"type":"read","channel_id":"5","message_id":"9"}"#, now);
    s.handle_text(r#"{"type":"watch_presence","channel_id":"5"}"#, now);
    assert!(!s.wants_read(), "two calls in flight with a limit of two");
    s.handle_call_result(CallResult::Watched {
        channel_id: 5,
        result: Ok(vec![]),
    });
    assert!(s.wants_read());
    let frames = texts(&drain(&mut s));
    assert_eq!(
        frames.last().map(|f| f["type"].clone()),
        Some("presence_list".into())
    );
}

#[test]
fn watches_reach_the_core_one_at_a_time_in_the_order_sent() {
    let now = Instant::now();
    let mut s = open_with_room(now);
    s.handle_text(r#"{"type":"watch_presence","channel_id":"5"}"#, now);
    s.handle_text(r#"{"type":"unwatch_presence","channel_id":"5"}"#, now);
    s.handle_text(r#"{"type":"read","channel_id":"5","message_id":"9"}"#, now);
    s.handle_text(r#"{"type":"watch_presence","channel_id":"6"}"#, now);
    assert_eq!(
        drain(&mut s),
        vec![
            call(Call::Watch { channel_id: 5 }),
            call(Call::MarkRead {
                channel_id: 5,
                message_id: 9
            }),
        ],
        "the unwatch waits for the watch before it; other calls do not"
    );
    s.handle_call_result(CallResult::Watched {
        channel_id: 5,
        result: Ok(vec![]),
    });
    let outs = drain(&mut s);
    assert_eq!(texts(&outs)[0]["type"], "presence_list");
    assert_eq!(outs[1..], [call(Call::Unwatch { channel_id: 5 })]);
    s.handle_call_result(CallResult::Unwatched {
        channel_id: 5,
        result: Ok(()),
    });
    assert_eq!(drain(&mut s), vec![call(Call::Watch { channel_id: 6 })]);
    s.handle_call_result(CallResult::Watched {
        channel_id: 6,
        result: Err(CallError::new("not_a_member", "no")),
    });
    let frames = texts(&drain(&mut s));
    assert_eq!(
        (&frames[0]["code"], &frames[0]["channel_id"]),
        (&"not_a_member".into(), &"6".into())
    );
    s.handle_call_result(CallResult::Done {
        channel_id: 5,
        message_id: Some(9),
        result: Ok(()),
    });
    for n in 0..8 {
        s.handle_text(
            &format!(r#"{{"type":"unwatch_presence","channel_id":"{n}"}}"#),
            now,
        );
    }
    assert!(!s.wants_read(), "queued watches count as in flight");
    assert_eq!(drain(&mut s).len(), 1);
}

#[test]
fn when_presence_moves_the_accepted_watches_are_sent_again() {
    let now = Instant::now();
    let mut s = open_with_room(now);
    for channel in ["5", "6", "7"] {
        let frame = format!(r#"{{"type":"watch_presence","channel_id":"{channel}"}}"#);
        s.handle_text(&frame, now);
    }
    s.handle_text(r#"{"type":"unwatch_presence","channel_id":"7"}"#, now);
    let answers = [
        CallResult::Watched {
            channel_id: 5,
            result: Ok(vec![]),
        },
        CallResult::Watched {
            channel_id: 6,
            result: Err(CallError::new("too_many_watches", "no")),
        },
        CallResult::Watched {
            channel_id: 7,
            result: Ok(vec![]),
        },
        CallResult::Unwatched {
            channel_id: 7,
            result: Ok(()),
        },
    ];
    for answer in answers {
        s.handle_call_result(answer);
    }
    drain(&mut s);
    s.handle_delivery(Delivery::PresenceMoved);
    assert_eq!(
        drain(&mut s),
        vec![call(Call::Watch { channel_id: 5 })],
        "only the watch the core accepted and the client kept"
    );
}

#[test]
fn blank_texts_control_characters_and_bad_keys_are_refused_before_the_core() {
    let now = Instant::now();
    let mut s = open(now);
    let cases = [
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":" \n\t "}"#,
            "text_empty",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"b","text":"a\u0000b"}"#,
            "invalid_text",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"c","text":"a\rb"}"#,
            "invalid_text",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"d\u0007","text":"x"}"#,
            "invalid_client_msg_id",
        ),
    ];
    for (frame, code) in cases {
        s.handle_text(frame, now);
        let outs = drain(&mut s);
        assert_eq!(texts(&outs)[0]["code"], code, "{frame}");
        assert!(
            !outs.iter().any(|o| matches!(o, Output::Call(_))),
            "{frame}"
        );
    }
    s.handle_text(
        r#"{"type":"send","channel_id":"1","client_msg_id":"e","text":"a\n\tb"}"#,
        // Past the frame burst the cases used up.
        now + Duration::from_secs(1),
    );
    assert!(drain(&mut s).iter().any(|o| matches!(o, Output::Call(_))));
}
