//! Helpers shared by the integration tests: reading our JSON vectors (here), building
//! sessions (`session`), driving them round by round (`protocol`) and through the codec
//! (`wire`).
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;

/// Parses one of the files under tests/vectors/ (passed in with `include_str!`).
pub fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("vector file is valid JSON")
}

/// The `tests` array of a vector file.
pub fn tests(file: &Value) -> &[Value] {
    file["tests"].as_array().expect("a `tests` array")
}

/// A string field.
pub fn str_field<'a>(t: &'a Value, key: &str) -> &'a str {
    t[key]
        .as_str()
        .unwrap_or_else(|| panic!("tc {}: string field {key}", t["tcId"]))
}

/// A hex field, decoded.
pub fn bytes(t: &Value, key: &str) -> Vec<u8> {
    hex::decode(str_field(t, key)).unwrap_or_else(|e| panic!("tc {}: {key}: {e}", t["tcId"]))
}

/// A hex field of exactly `N` bytes.
pub fn array<const N: usize>(t: &Value, key: &str) -> [u8; N] {
    bytes(t, key)
        .try_into()
        .unwrap_or_else(|_| panic!("tc {}: {key} is not {N} bytes", t["tcId"]))
}

/// An unsigned integer field.
pub fn uint(t: &Value, key: &str) -> u64 {
    t[key]
        .as_u64()
        .unwrap_or_else(|| panic!("tc {}: integer field {key}", t["tcId"]))
}

/// A boolean field.
pub fn bool_field(t: &Value, key: &str) -> bool {
    t[key]
        .as_bool()
        .unwrap_or_else(|| panic!("tc {}: boolean field {key}", t["tcId"]))
}

/// A u32 field.
pub fn u32_field(t: &Value, key: &str) -> u32 {
    u32::try_from(uint(t, key)).unwrap()
}

/// The test's id, for messages.
pub fn tc(t: &Value) -> u64 {
    uint(t, "tcId")
}

/// The name of an `Error` variant ([`secagg::Error::name`]).
pub fn variant_name(e: &secagg::Error) -> String {
    e.name().to_string()
}

pub mod protocol;
pub mod session;
pub mod wire;
