//! The id parsers of `chat_protocol::wire` (`id_str`, `id_list`, `id_map`),
//! which read every id in frames and REST bodies, on any JSON text.
//!
//! Each is read both from a string (keys and values borrowed) and from a
//! reader (owned), which must agree; what `id_str` and `id_list` accept
//! must survive a round trip through their own output.

#![no_main]

use chat_protocol::wire::{id_list, id_map, id_str};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct One(#[serde(with = "id_str")] u64);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct List(#[serde(with = "id_list")] Vec<u64>);

#[derive(Debug, PartialEq, Deserialize)]
struct Map(#[serde(with = "id_map")] Vec<(u64, u64)>);

fuzz_target!(|data: &[u8]| {
    if let Some(One(id)) = read::<One>(data) {
        let json = serde_json::to_string(&One(id)).expect("an id serialises");
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(read::<One>(json.as_bytes()), Some(One(id)));
    }
    if let Some(list) = read::<List>(data) {
        let json = serde_json::to_string(&list).expect("a list serialises");
        assert_eq!(read::<List>(json.as_bytes()), Some(list));
    }
    // A map has no output of its own to compare with; reading it borrowed
    // and owned (keys with escapes take the owned path) must agree.
    read::<Map>(data);
});

/// Reads `T` from the bytes as a string and as a reader; both must agree.
fn read<T: DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) -> Option<T> {
    let from_reader = serde_json::from_reader::<_, T>(data).ok();
    let from_str = std::str::from_utf8(data)
        .ok()
        .and_then(|text| serde_json::from_str::<T>(text).ok());
    if std::str::from_utf8(data).is_ok() {
        assert_eq!(from_str, from_reader, "{:?}", String::from_utf8_lossy(data));
    }
    from_reader
}
