//! Reading ids: every shape a client may send, and the errors for the rest.

use serde::Deserialize;

use super::{id_list, id_map, id_str};

#[derive(Debug, Deserialize)]
struct One(#[serde(with = "id_str")] u64);

#[derive(Debug, Deserialize)]
struct Many(#[serde(with = "id_list")] Vec<u64>);

#[derive(Debug, Deserialize)]
struct Pairs(#[serde(with = "id_map")] Vec<(u64, u64)>);

fn id(json: &str) -> Result<u64, String> {
    serde_json::from_str::<One>(json)
        .map(|one| one.0)
        .map_err(|e| e.to_string())
}

fn pairs(json: &str) -> Result<Vec<(u64, u64)>, String> {
    serde_json::from_str::<Pairs>(json)
        .map(|p| p.0)
        .map_err(|e| e.to_string())
}

#[test]
fn ids_are_read_from_numbers() {
    assert_eq!(id("0"), Ok(0));
    assert_eq!(id("42"), Ok(42));
    assert_eq!(id("18446744073709551615"), Ok(u64::MAX));
    // serde_json reads "-0" as a float, so it is refused like other floats.
    assert!(id("-0").is_err());
}

#[test]
fn ids_are_read_from_borrowed_and_escaped_strings() {
    assert_eq!(id(r#""42""#), Ok(42));
    assert_eq!(id(r#""18446744073709551615""#), Ok(u64::MAX));
    // An escape makes serde_json hand over a transient string, not a borrowed one.
    assert_eq!(id(r#""\u0034\u0032""#), Ok(42));
    // What `u64::from_str` takes, as before.
    assert_eq!(id(r#""+7""#), Ok(7));
}

#[test]
fn ids_are_read_from_owned_strings() {
    // A `Value` hands strings over owned (`visit_string`).
    let value = serde_json::json!("42");
    let one: One = serde_json::from_value(value).expect("an owned string id");
    assert_eq!(one.0, 42);
    let value = serde_json::json!("4x");
    let err = serde_json::from_value::<One>(value).expect_err("junk");
    assert_eq!(
        err.to_string(),
        r#"invalid id "4x": expected a decimal u64"#
    );
}

#[test]
fn junk_strings_keep_their_error_text() {
    let err = |json| id(json).expect_err("not an id");
    assert!(
        err(r#""abc""#).starts_with(r#"invalid id "abc": expected a decimal u64"#),
        "{}",
        err(r#""abc""#)
    );
    assert!(err(r#""""#).starts_with(r#"invalid id "": expected a decimal u64"#));
    assert!(err(r#"" 1""#).starts_with(r#"invalid id " 1": expected a decimal u64"#));
    assert!(err(r#""-1""#).starts_with(r#"invalid id "-1": expected a decimal u64"#));
    assert!(err(r#""1.5""#).starts_with(r#"invalid id "1.5": expected a decimal u64"#));
}

#[test]
fn overflowing_ids_are_refused() {
    let text = id(r#""18446744073709551616""#).expect_err("one past u64::MAX");
    assert!(
        text.starts_with(r#"invalid id "18446744073709551616": expected a decimal u64"#),
        "{text}"
    );
    // serde_json reads an integer past u64::MAX as a float.
    let number = id("18446744073709551616").expect_err("one past u64::MAX");
    assert!(
        number.starts_with("invalid type: floating point `1.8446744073709552e+19`, expected an id"),
        "{number}"
    );
}

#[test]
fn negative_and_float_numbers_get_a_clear_error() {
    let negative = id("-5").expect_err("negative");
    assert!(
        negative.starts_with(
            "invalid value: integer `-5`, expected an id (a decimal u64, as a string or a number)"
        ),
        "{negative}"
    );
    let float = id("1.5").expect_err("float");
    assert!(
        float.starts_with(
            "invalid type: floating point `1.5`, expected an id (a decimal u64, as a string or a number)"
        ),
        "{float}"
    );
    assert!(id("1.0").is_err(), "a whole float is still a float");
    assert!(id("1e3").is_err());
}

#[test]
fn other_json_types_are_refused() {
    for json in ["null", "true", "[1]", r#"{"id":1}"#] {
        let err = id(json).expect_err(json);
        assert!(err.contains("expected an id"), "{json}: {err}");
    }
}

#[test]
fn id_lists_mix_strings_and_numbers() {
    let many: Many = serde_json::from_str(r#"["1", 2, "\u0033"]"#).expect("ids");
    assert_eq!(many.0, vec![1, 2, 3]);
    assert!(serde_json::from_str::<Many>(r#"["1", -2]"#).is_err());
}

#[test]
fn id_maps_read_in_string_key_order_with_the_last_duplicate_winning() {
    assert_eq!(pairs("{}"), Ok(vec![]));
    assert_eq!(pairs(r#"{"5":"10"}"#), Ok(vec![(5, 10)]));
    assert_eq!(
        pairs(r#"{"10":"1","9":"2","100":3}"#),
        Ok(vec![(10, 1), (100, 3), (9, 2)])
    );
    assert_eq!(
        pairs(r#"{"5":"1","6":"0","5":"2"}"#),
        Ok(vec![(5, 2), (6, 0)])
    );
    // Distinct keys naming the same id stay distinct entries, as before.
    assert_eq!(
        pairs(r#"{"7":"1","007":"2","+7":"3"}"#),
        Ok(vec![(7, 3), (7, 2), (7, 1)])
    );
    assert_eq!(pairs(r#"{"\u0035":"\u0031"}"#), Ok(vec![(5, 1)]));
}

#[test]
fn id_maps_report_bad_keys_and_values() {
    let err = |json| pairs(json).expect_err("bad map");
    assert!(err(r#"{"x":"1"}"#).starts_with(r#"invalid id "x": expected a decimal u64"#));
    assert!(err(r#"{"5":"y"}"#).starts_with(r#"invalid id "y": expected a decimal u64"#));
    // Values are read first, then keys in string order.
    assert!(err(r#"{"x":"y"}"#).starts_with(r#"invalid id "y""#));
    assert!(err(r#"{"b":"1","a":"1"}"#).starts_with(r#"invalid id "a""#));
    assert!(
        err(r#"{"18446744073709551616":"1"}"#).starts_with(r#"invalid id "18446744073709551616""#)
    );
    assert!(err(r#"{"5":-1}"#).starts_with("invalid value: integer `-1`, expected an id"));
    assert!(err(r#"{"5":1.5}"#).starts_with("invalid type: floating point `1.5`, expected an id"));
    assert!(err("null").starts_with("invalid type: null, expected a map"));
    assert!(err("[]").starts_with("invalid type: sequence, expected a map"));
}
