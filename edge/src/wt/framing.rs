//! Frames on a WebTransport stream: each JSON frame is its UTF-8 bytes
//! after a 4-byte big-endian length (tokio-util's length-delimited codec).
//! A stream has no message boundaries, so the decoder is incremental: it
//! takes bytes as they arrive and says "incomplete" until a whole frame is in.

pub use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Bytes before each frame's body: its length, big-endian.
pub const HEADER_BYTES: usize = 4;

/// Why the bytes cannot be frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The header announces a frame over the limit.
    #[error("frame exceeds the size limit of {max} bytes")]
    TooBig {
        /// The limit.
        max: usize,
    },
    /// The body is not UTF-8 text.
    #[error("frame is not valid UTF-8")]
    InvalidUtf8,
}

/// Splits a byte stream into text frames, refusing any over `max` bytes.
pub struct FrameDecoder {
    codec: LengthDelimitedCodec,
    max: usize,
}

impl FrameDecoder {
    /// A decoder for frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            codec: codec(max),
            max,
        }
    }

    /// The next whole frame taken from the front of `buf`, or `None` while
    /// it is incomplete (read more into `buf` and call again). After an
    /// error the stream cannot be resynchronised: close it.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<String>, FramingError> {
        match self.codec.decode(buf) {
            Ok(Some(body)) => String::from_utf8(Vec::from(body.freeze()))
                .map(Some)
                .map_err(|_| FramingError::InvalidUtf8),
            Ok(None) => Ok(None),
            // The codec's only error with our settings is the size limit.
            Err(_) => Err(FramingError::TooBig { max: self.max }),
        }
    }
}

/// Writes text frames; one per link, kept for every frame it sends.
pub struct FrameEncoder(LengthDelimitedCodec);

impl Default for FrameEncoder {
    fn default() -> Self {
        Self(codec(usize::MAX))
    }
}

impl FrameEncoder {
    /// Appends `text` as one frame to `out`.
    pub fn encode(&mut self, text: &str, out: &mut BytesMut) {
        // A frame over 4 GiB is the only failure, and no frame is that
        // large (messages are at most 100,000 characters).
        let _ = self.0.encode(text.as_bytes(), out);
    }
}

/// Appends `text` as one frame to `out` (for a one-off frame; a link keeps
/// a [`FrameEncoder`]).
pub fn encode(text: &str, out: &mut BytesMut) {
    FrameEncoder::default().encode(text, out);
}

/// The codec with our header: 4 bytes, big-endian, counting the body only.
fn codec(max: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(HEADER_BYTES)
        .big_endian()
        .max_frame_length(max)
        .new_codec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(texts: &[&str]) -> BytesMut {
        let mut out = BytesMut::new();
        for text in texts {
            encode(text, &mut out);
        }
        out
    }

    #[test]
    fn a_frame_is_its_length_then_its_bytes() {
        assert_eq!(&framed(&["hé"])[..], b"\0\0\0\x03h\xc3\xa9");
    }

    #[test]
    fn frames_split_anywhere_come_out_whole_and_in_order() {
        let texts = ["{\"type\":\"ping\"}", "", "ünïcode ✓", "{}"];
        let all = framed(&texts);
        for chunk in 1..all.len() {
            let mut decoder = FrameDecoder::new(1024);
            let (mut buf, mut out) = (BytesMut::new(), Vec::new());
            for piece in all.chunks(chunk) {
                buf.extend_from_slice(piece);
                while let Some(frame) = decoder.decode(&mut buf).expect("valid frames") {
                    out.push(frame);
                }
            }
            assert_eq!(out, texts, "in pieces of {chunk} bytes");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn an_incomplete_frame_is_incomplete_until_its_last_byte() {
        let all = framed(&["hello"]);
        let mut decoder = FrameDecoder::new(1024);
        let mut buf = BytesMut::from(&all[..all.len() - 1]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.extend_from_slice(&all[all.len() - 1..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some("hello".to_owned())));
    }

    #[test]
    fn a_header_over_the_limit_is_refused_before_its_body_arrives() {
        let mut decoder = FrameDecoder::new(10);
        let mut buf = BytesMut::from(&[0u8, 0, 0, 11][..]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FramingError::TooBig { max: 10 })
        );
        let mut at_limit = framed(&["0123456789"]);
        assert_eq!(
            FrameDecoder::new(10).decode(&mut at_limit),
            Ok(Some("0123456789".to_owned()))
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 2, 0xc3, 0x28][..]);
        assert_eq!(
            FrameDecoder::new(10).decode(&mut buf),
            Err(FramingError::InvalidUtf8)
        );
    }
}
