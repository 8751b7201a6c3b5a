//! Micro-benchmarks of the WebSocket frame codec: decoding client frames
//! (a `send` with 100 characters of text, a `hello` with 100 cursors),
//! encoding a `message` server frame, and `encode_event`, which turns a
//! core message event into the one shared frame every recipient gets.
//!
//! Run with `cargo bench -p chat-edge --bench frames`.

use std::hint::black_box;

use chat_edge::protocol::events::encode_event;
use chat_edge::protocol::frames::{self, ClientFrame, ServerFrame};
use chat_edge::wire;
use chat_proto::v1 as pb;
use chat_proto::v1::event::Kind;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// Snowflake-sized ids, so their decimal strings are as long as real ones.
const CHANNEL_ID: u64 = 368_934_881_474_191_032;
const MESSAGE_ID: u64 = 368_934_881_474_195_456;
const SENDER_ID: u64 = 368_934_881_474_187_264;
const SEND_AT_MS: i64 = 1_763_900_000_000;

/// A 100-character chat line.
fn text_100() -> String {
    let text: String = "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(100)
        .collect();
    assert_eq!(text.chars().count(), 100);
    text
}

/// A `send` frame as a client writes it.
fn send_json() -> String {
    serde_json::json!({
        "type": "send",
        "channel_id": CHANNEL_ID.to_string(),
        "client_msg_id": "0b7f6c1e-5d2a-4f0e-9a43-2c1d8e7f6a5b",
        "text": text_100(),
    })
    .to_string()
}

/// A `hello` frame with a token and a cursor for each of 100 channels.
fn hello_json() -> String {
    let cursors: serde_json::Map<String, serde_json::Value> = (0..100_u64)
        .map(|i| {
            (
                (CHANNEL_ID + i * 4_096).to_string(),
                serde_json::Value::String((MESSAGE_ID + i * 8_192).to_string()),
            )
        })
        .collect();
    serde_json::json!({
        "type": "hello",
        // The shape of a real token: 256 bits, base64url without padding.
        "token": "q3J8cV1x0bS4m7Qe2Wk9ZpR6tYh5Lg0N1aUoEiDfVcX",
        "cursors": cursors,
    })
    .to_string()
}

/// The core's record of a 100-character message.
fn pb_message() -> pb::Message {
    pb::Message {
        id: MESSAGE_ID,
        channel_id: CHANNEL_ID,
        sender_id: SENDER_ID,
        text: text_100(),
        client_msg_id: "0b7f6c1e-5d2a-4f0e-9a43-2c1d8e7f6a5b".to_owned(),
        created_at_ms: SEND_AT_MS,
        ..Default::default()
    }
}

fn decode(c: &mut Criterion) {
    let send = send_json();
    let hello = hello_json();
    // Check the inputs once, so the loops measure success paths only.
    match frames::decode(&send) {
        Ok(ClientFrame::Send { text, .. }) => assert_eq!(text.len(), 100),
        other => panic!("the send frame should decode: {other:?}"),
    }
    match frames::decode(&hello) {
        Ok(ClientFrame::Hello { cursors, .. }) => assert_eq!(cursors.len(), 100),
        other => panic!("the hello frame should decode: {other:?}"),
    }

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(send.len() as u64));
    group.bench_function("send_100_chars", |b| {
        b.iter(|| frames::decode(black_box(&send)));
    });
    group.throughput(Throughput::Bytes(hello.len() as u64));
    group.bench_function("hello_100_cursors", |b| {
        b.iter(|| frames::decode(black_box(&hello)));
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let frame = ServerFrame::Message {
        message: wire::Message::from(pb_message()),
    };
    let event = Kind::Message(pb::MessageCreated {
        message: Some(pb_message()),
        origin_session: 0,
    });
    let (encoded, position) = encode_event(event.clone()).expect("a message event is a frame");
    assert_eq!(position, Some((CHANNEL_ID, MESSAGE_ID)));
    assert_eq!(encoded, frame.encode(), "both paths give the same frame");

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    // Serialising a ready `ServerFrame`.
    group.bench_function("server_frame_message", |b| {
        b.iter(|| black_box(&frame).encode());
    });
    // What dispatch pays once per event: protobuf message to wire form
    // (moving its strings) and then to JSON. Dispatch owns the event, so the
    // clone that hands each iteration its own copy is setup, not measured.
    group.bench_function("event_message", |b| {
        b.iter_batched(
            || event.clone(),
            |event| encode_event(black_box(event)),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
