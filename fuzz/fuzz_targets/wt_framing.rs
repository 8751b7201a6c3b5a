//! The WebTransport frame decoder (`chat_edge::wt::framing`), on any bytes
//! arriving in any pieces.
//!
//! The first byte chooses the piece sizes; the rest is the stream. Fed
//! whole or in pieces, the decoder must give the same frames and the same
//! error; it says "incomplete" rather than guess; and the frames it gives,
//! encoded again, are exactly the bytes it consumed.

#![no_main]

use chat_edge::wt::framing::BytesMut;
use chat_edge::wt::framing::{FrameDecoder, FramingError, encode};
use libfuzzer_sys::fuzz_target;

/// Small, so frames over the limit are easy to reach.
const MAX: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = decode(stream, &[stream.len().max(1)]);
    let sizes = [usize::from(seed % 7) + 1, usize::from(seed / 7 % 5) + 1];
    let pieces = decode(stream, &sizes);
    assert_eq!(whole, pieces, "whole and in pieces of {sizes:?}");
    let (frames, _) = whole;
    let mut again = BytesMut::new();
    for text in &frames {
        encode(text, &mut again);
    }
    assert!(
        stream.starts_with(&again),
        "re-encoded frames are the input's start"
    );
});

/// Feeds `stream` in pieces of the given sizes (cycled), taking every whole
/// frame as soon as it is in; stops at the first error.
fn decode(stream: &[u8], sizes: &[usize]) -> (Vec<String>, Option<FramingError>) {
    let mut decoder = FrameDecoder::new(MAX);
    let (mut buf, mut frames) = (BytesMut::new(), Vec::new());
    let mut rest = stream;
    let mut size = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*size.next().unwrap_or(&1)).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(text)) => {
                    assert!(text.len() <= MAX);
                    frames.push(text);
                }
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}
