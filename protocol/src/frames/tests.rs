//! Decoding client frames and encoding server frames.

use super::*;
use crate::wire::User;

#[test]
fn decodes_each_frame_type() {
    assert_eq!(
        decode(r#"{"type":"hello","token":"t"}"#),
        Ok(ClientFrame::Hello {
            token: "t".into(),
            cursors: vec![]
        })
    );
    assert_eq!(
        decode(r#"{"type":"send","channel_id":"42","client_msg_id":"c1","text":"hi"}"#),
        Ok(ClientFrame::Send {
            channel_id: 42,
            client_msg_id: "c1".into(),
            text: "hi".into()
        })
    );
    assert_eq!(
        decode(r#"{"type":"ping"}"#),
        Ok(ClientFrame::Ping { nonce: None })
    );
}

#[test]
fn classifies_bad_frames() {
    let code = |t: &str| decode(t).map_err(|e| e.code);
    assert_eq!(code("{nope"), Err("malformed_json"));
    assert_eq!(code("[1,2]"), Err("malformed_json"));
    assert_eq!(code(r#"{"token":"x"}"#), Err("missing_field"));
    assert_eq!(code(r#"{"type":"shout"}"#), Err("unknown_type"));
    assert_eq!(
        code(r#"{"type":"send","text":"x","client_msg_id":"a"}"#),
        Err("missing_field")
    );
    assert_eq!(
        code(r#"{"type":"send","channel_id":"x1","text":"x","client_msg_id":"a"}"#),
        Err("invalid_field")
    );
    assert_eq!(code(r#"{"type":7}"#), Err("invalid_field"));
}

#[test]
fn refused_sends_keep_their_client_msg_id() {
    let err = decode(r#"{"type":"send","client_msg_id":"k9"}"#).expect_err("missing fields");
    assert_eq!(err.client_msg_id.as_deref(), Some("k9"));
}

#[test]
fn ids_are_strings_on_the_wire() {
    let frame = ServerFrame::Pong { nonce: None }.encode();
    assert_eq!(&*frame, r#"{"type":"pong"}"#);
    let user = User {
        id: u64::MAX,
        username: "a".into(),
        created_at_ms: 1,
        ..Default::default()
    };
    let json = serde_json::to_string(&user).expect("json");
    assert!(json.contains(r#""id":"18446744073709551615""#), "{json}");
}

fn error(text: &str) -> DecodeError {
    decode(text).expect_err("a bad frame")
}

#[test]
fn decodes_every_known_type() {
    let frames = [
        r#"{"type":"hello","token":"t","cursors":{"5":"10","6":7}}"#,
        r#"{"type":"send","channel_id":1,"client_msg_id":"c","text":"x"}"#,
        r#"{"type":"read","channel_id":"1","message_id":"2"}"#,
        r#"{"type":"typing","channel_id":"1"}"#,
        r#"{"type":"edit","channel_id":"1","message_id":"2","text":"t"}"#,
        r#"{"type":"delete","channel_id":"1","message_id":"2"}"#,
        r#"{"type":"watch_presence","channel_id":"1"}"#,
        r#"{"type":"unwatch_presence","channel_id":"1"}"#,
        r#"{"type":"ping","nonce":"n"}"#,
    ];
    assert_eq!(frames.len(), KNOWN_TYPES.len());
    for (frame, kind) in frames.iter().zip(KNOWN_TYPES) {
        assert!(frame.contains(&format!(r#""type":"{kind}""#)));
        assert!(decode(frame).is_ok(), "{frame}: {:?}", decode(frame));
    }
    assert_eq!(
        decode(r#"{"type":"hello","token":"t","cursors":{"5":"10","6":7}}"#),
        Ok(ClientFrame::Hello {
            token: "t".into(),
            cursors: vec![(5, 10), (6, 7)]
        })
    );
}

#[test]
fn type_may_come_anywhere_and_be_escaped() {
    let send = ClientFrame::Send {
        channel_id: 1,
        client_msg_id: "a".into(),
        text: "x".into(),
    };
    assert_eq!(
        decode(r#"{"client_msg_id":"a","channel_id":"1","text":"x","type":"send"}"#),
        Ok(send.clone())
    );
    assert_eq!(
        decode(r#"{"ty\u0070e":"s\u0065nd","channel_id":"1","client_msg_id":"a","text":"x"}"#),
        Ok(send)
    );
    assert_eq!(
        decode(" \n{\"type\":\"ping\",\"extra\":[1,{\"a\":null}]}\t"),
        Ok(ClientFrame::Ping { nonce: None })
    );
}

#[test]
fn only_an_object_is_a_frame() {
    // Serde's internally tagged enums also read `["ping"]` as a ping.
    for text in [
        "",
        "null",
        "true",
        "5",
        r#""ping""#,
        "[]",
        r#"["ping"]"#,
        r#"["typing","5"]"#,
    ] {
        let err = error(text);
        assert_eq!(err.code, "malformed_json", "{text:?}");
        assert!(
            err.message.starts_with("frame is not a JSON object: "),
            "{text:?}: {err:?}"
        );
    }
    assert_eq!(
        error("null").message,
        "frame is not a JSON object: invalid type: null, \
         expected internally tagged enum ClientFrame at line 1 column 4"
    );
}

#[test]
fn broken_json_is_malformed_wherever_it_is() {
    let cases = [
        (
            r#"{"type":"ping"} x"#,
            "trailing characters at line 1 column 17",
        ),
        (r#"{"type":"ping",}"#, "trailing comma at line 1 column 16"),
        (
            r#"{"type":"ping""#,
            "EOF while parsing an object at line 1 column 14",
        ),
        // In fields no variant reads: still checked, as before.
        (
            r#"{"type":"ping","junk":1e400}"#,
            "number out of range at line 1 column 27",
        ),
        (
            r#"{"type":"ping","a":[{"b":"\ud800"}]}"#,
            "lone surrogate \\ud800 in a string at line 1 column 27: \
             JSON strings must be valid Unicode",
        ),
        (
            r#"{"type":"ping","junk":"\x"}"#,
            "invalid escape at line 1 column 25",
        ),
        // The first problem in the document wins over a bad field later on.
        (
            r#"{"type":"send","junk":1e400,"channel_id":"x"}"#,
            "number out of range at line 1 column 27",
        ),
    ];
    for (text, message) in cases {
        let err = error(text);
        assert_eq!(err.code, "malformed_json", "{text}");
        assert_eq!(
            err.message,
            format!("frame is not a JSON object: {message}"),
            "{text}"
        );
    }
}

#[test]
fn a_lone_surrogate_is_reported_as_such_and_the_send_named() {
    let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":"k1","text":"\ud800"}"#);
    assert_eq!(err.code, "malformed_json");
    assert_eq!(
        err.message,
        "frame is not a JSON object: lone surrogate \\ud800 in a string at line 1 \
         column 62: JSON strings must be valid Unicode"
    );
    assert_eq!(err.client_msg_id.as_deref(), Some("k1"));
    // A valid pair is a character, and `\\ud800` is a backslash and text.
    let pair =
        r#"{"type":"send","channel_id":"1","client_msg_id":"k","text":"\ud83d\ude00\\ud800"}"#;
    assert_eq!(
        decode(pair),
        Ok(ClientFrame::Send {
            channel_id: 1,
            client_msg_id: "k".into(),
            text: "\u{1f600}\\ud800".into()
        })
    );
}

#[test]
fn malformed_frames_keep_a_readable_client_msg_id() {
    let cases = [
        r#"{"type":"send","client_msg_id":"k2","junk":1e400}"#,
        r#"{"type":"send","junk":-1e999,"client_msg_id":"k2"}"#,
        r#"{"type":"send","channel_id":"1","client_msg_id":"k2","text":"x"} {}"#,
        r#"{"type":"send","client_msg_id":"k2","text":"no end"#,
        r#"{"type":"send","client_msg_id":"k2","text":"\udc00","more":1}"#,
    ];
    for text in cases {
        let err = error(text);
        assert_eq!(err.code, "malformed_json", "{text}");
        assert_eq!(err.client_msg_id.as_deref(), Some("k2"), "{text}: {err:?}");
    }
    for text in [
        r#"{"type":"send","client_msg_id":"k\ud800"}"#,
        r#"[{"client_msg_id":"k2"}, 1e400]"#,
        r#"{"type":"send","client_msg_id":7,"junk":1e400}"#,
    ] {
        assert_eq!(error(text).client_msg_id, None, "{text}");
    }
}

#[test]
fn the_type_field_is_checked_like_before() {
    let missing = error(r#"{"type":null,"token":"t"}"#);
    assert_eq!(
        (missing.code, missing.message.as_str()),
        ("missing_field", "missing field `type`")
    );
    let unknown = error(r#"{"type":"SEND","client_msg_id":"k"}"#);
    assert_eq!(unknown.code, "unknown_type");
    assert!(
        unknown
            .message
            .starts_with(r#"unknown frame type "SEND"; expected one of ["hello""#)
    );
    assert_eq!(unknown.client_msg_id.as_deref(), Some("k"));
    for text in [r#"{"type":8}"#, r#"{"type":true}"#, r#"{"type":{}}"#] {
        let err = error(text);
        assert_eq!(
            (err.code, err.message.as_str()),
            ("invalid_field", "field `type` must be a string"),
            "{text}"
        );
    }
    let twice = error(r#"{"type":"send","type":"ping","client_msg_id":"k"}"#);
    assert_eq!(twice.code, "invalid_field");
    assert_eq!(twice.message, "duplicate field `type` at line 1 column 21");
    assert_eq!(twice.client_msg_id.as_deref(), Some("k"));
    // Last one wins for classifying, but an unknown first one is reported.
    assert_eq!(
        error(r#"{"type":"ping","type":"shout"}"#).code,
        "unknown_type"
    );
    let first_unknown = error(r#"{"type":"shout","type":"ping"}"#);
    assert_eq!(first_unknown.code, "invalid_field");
    assert!(first_unknown.message.starts_with("unknown variant `shout`"));
}

#[test]
fn field_errors_read_as_before_without_a_position() {
    let cases = [
        (
            r#"{"type":"send","client_msg_id":"k9"}"#,
            "missing_field",
            "missing field `channel_id`",
        ),
        (
            r#"{"type":"hello"}"#,
            "missing_field",
            "missing field `token`",
        ),
        (
            r#"{"type":"edit","channel_id":"1","message_id":"2"}"#,
            "missing_field",
            "missing field `text`",
        ),
        (
            r#"{"type":"read","channel_id":"1","message_id":"z"}"#,
            "invalid_field",
            r#"invalid id "z": expected a decimal u64"#,
        ),
        (
            r#"{"type":"ping","nonce":5}"#,
            "invalid_field",
            "invalid type: integer `5`, expected a string",
        ),
        (
            r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":"x","text":"y"}"#,
            "invalid_field",
            "duplicate field `text`",
        ),
        (
            r#"{"type":"hello","token":"t","cursors":null}"#,
            "invalid_field",
            "invalid type: null, expected a map",
        ),
        (
            r#"{"type":"hello","token":"t","cursors":{"x":"1"}}"#,
            "invalid_field",
            r#"invalid id "x": expected a decimal u64"#,
        ),
        (
            r#"{"type":"delete","channel_id":"1","message_id":-2}"#,
            "invalid_field",
            "invalid value: integer `-2`, expected an id (a decimal u64, as a string or a number)",
        ),
        (
            r#"{"type":"typing","channel_id":1.5}"#,
            "invalid_field",
            "invalid type: floating point `1.5`, expected an id (a decimal u64, as a string or a number)",
        ),
    ];
    for (text, code, message) in cases {
        let err = error(text);
        assert_eq!((err.code, err.message.as_str()), (code, message), "{text}");
    }
    let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":"a","text":5}"#);
    assert_eq!(err.client_msg_id.as_deref(), Some("a"));
    let err = error(r#"{"type":"send","channel_id":"1","client_msg_id":5,"text":"x"}"#);
    assert_eq!(err.client_msg_id, None, "only a string is a client_msg_id");
}
