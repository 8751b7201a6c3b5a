//! Reads a client frame in two passes instead of buffering it into serde's
//! `Content` as an internally tagged enum does: the first pass finds `type`,
//! the second reads that variant's fields straight from the text.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error, IgnoredAny, IntoDeserializer,
    MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::de::StrRead;

use super::{ClientFrame, KNOWN_TYPES};

/// The first pass: the frame's `type`, one of [`KNOWN_TYPES`].
///
/// Errors come in the same order and with the same text as serde's
/// internally tagged enums give: the first problem in the document wins.
pub(super) fn read(text: &str) -> Result<&'static str, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let kind = de.deserialize_map(TagVisitor)?;
    de.end()?;
    Ok(kind)
}

/// The second pass: the fields of the variant `kind`, from the whole object.
pub(super) fn frame(text: &str, kind: &'static str) -> Result<ClientFrame, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    ClientFrame::deserialize(Variant { kind, de: &mut de })
}

/// The message of an error without serde_json's " at line L column C",
/// which the buffered decoding never had for errors in a frame's fields.
pub(super) fn without_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    if err.line() == 0 {
        return message;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match message.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

struct TagVisitor;

impl<'de> Visitor<'de> for TagVisitor {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("internally tagged enum ClientFrame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        while let Some(is_type) = map.next_key_seed(IsType)? {
            if !is_type {
                map.next_value::<Checked>()?;
            } else if kind.is_some() {
                return Err(A::Error::duplicate_field("type"));
            } else {
                kind = Some(map.next_value_seed(Kind)?);
            }
        }
        kind.ok_or_else(|| A::Error::missing_field("type"))
    }
}

/// A key, read as whether it is `type`.
struct IsType;

impl<'de> DeserializeSeed<'de> for IsType {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for IsType {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "type")
    }
}

/// The value of `type`, as the entry of [`KNOWN_TYPES`] it names.
struct Kind;

impl<'de> DeserializeSeed<'de> for Kind {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Kind {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_str<E: Error>(self, kind: &str) -> Result<Self::Value, E> {
        KNOWN_TYPES
            .iter()
            .find(|known| **known == kind)
            .copied()
            .ok_or_else(|| E::unknown_variant(kind, &KNOWN_TYPES))
    }
}

/// Any JSON value, skipped but fully checked: serde_json's fast skipping
/// lets through numbers out of range and unpaired `\u` surrogates, which
/// the buffered decoding refused as malformed.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E: Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E: Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A deserializer that presents a frame as an externally tagged enum:
/// the variant is the `type` read in the first pass, its fields are the
/// frame's object (where `type` is an ignored field).
struct Variant<'a, 'de> {
    kind: &'static str,
    de: &'a mut serde_json::Deserializer<StrRead<'de>>,
}

impl<'de> Deserializer<'de> for Variant<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> EnumAccess<'de> for Variant<'_, 'de> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Self::Error> {
        let kind: de::value::StrDeserializer<'_, Self::Error> = self.kind.into_deserializer();
        Ok((seed.deserialize(kind)?, self))
    }
}

impl<'de> VariantAccess<'de> for Variant<'_, 'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        IgnoredAny::deserialize(&mut *self.de).map(drop)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(visitor)
    }
}
