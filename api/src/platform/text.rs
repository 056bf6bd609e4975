//! Strict text at the edge: every text field of a request is a [`Text`] (one line) or a
//! [`MultiLineText`] (a note typed into a text area).
//!
//! poem-openapi's `String` turns a JSON number or boolean into text, so `{"phone": 13812345678}`
//! would pass as a phone; and a control character (a NUL, an escape) reaches the database, where
//! PostgreSQL refuses a NUL with an error that became a 503. These types take JSON strings only
//! and refuse every control character (Unicode Cc); a multi-line text also takes line feeds and
//! tabs. Their schema is the plain `type: string` of `String`, so the document is unchanged.
//!
//! A refusal names the kind and a fingerprint of the value; the edge
//! (`platform::web::refused_text`) finds the field of the body that holds that value and
//! answers `422` with it, since poem-openapi's error does not name the field.

use std::borrow::Cow;
use std::fmt;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Marks a refusal in poem-openapi's error text: `text_refused:<kind>:<fingerprint>`.
pub const MARKER: &str = "text_refused:";

/// Why a value is not acceptable text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JSON string (a number, a boolean, an object, an array).
    NotText,
    /// A control character (a line break in a one-line field).
    ControlCharacter,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotText => "not_text",
            Refusal::ControlCharacter => "control",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "not_text" => Some(Refusal::NotText),
            "control" => Some(Refusal::ControlCharacter),
            _ => None,
        }
    }
}

/// A short fingerprint of a JSON scalar, to find which field held it. Objects and arrays all
/// get one fixed print (no field is named for them): hashing every nested value of a large
/// body would cost far more than the request.
pub fn fingerprint(value: &Value) -> String {
    if matches!(value, Value::Array(_) | Value::Object(_)) {
        return "0".repeat(16);
    }
    let digest = Sha256::digest(value.to_string().as_bytes());
    hex::encode(&digest[..8])
}

/// The path (`name`, `items[2].name`) of the first scalar in `body` with print `print`.
pub fn field_holding(body: &Value, print: &str) -> Option<String> {
    fn walk(v: &Value, path: &str, print: &str) -> Option<String> {
        match v {
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &p, print)
            }),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &format!("{path}[{i}]"), print)),
            scalar => (!path.is_empty() && fingerprint(scalar) == print).then(|| path.to_string()),
        }
    }
    walk(body, "", print)
}

/// Reads a refusal from poem-openapi's error text.
pub fn refusal_in(reason: &str) -> Option<(Refusal, &str)> {
    let rest = &reason[reason.find(MARKER)? + MARKER.len()..];
    let (kind, rest) = rest.split_once(':')?;
    let print = rest.get(..16)?;
    Some((Refusal::parse(kind)?, print))
}

/// Whether `text` is acceptable: no control character, except `\n` and `\t` when multi-line,
/// and none of the invisible characters that reorder or break what a clerk reads on screen or
/// on a slip (bidirectional overrides and marks, line and paragraph separators, a stray BOM).
pub fn acceptable(text: &str, multi_line: bool) -> bool {
    text.chars().all(|c| {
        let hidden = matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        );
        !hidden && (!c.is_control() || (multi_line && matches!(c, '\n' | '\t')))
    })
}

fn refuse<T: Type>(kind: Refusal, value: &Value) -> ParseError<T> {
    ParseError::custom(format!("{MARKER}{}:{}", kind.as_str(), fingerprint(value)))
}

fn parse<T: Type>(value: Option<Value>, multi_line: bool) -> Result<String, ParseError<T>> {
    match value {
        Some(Value::String(s)) if acceptable(&s, multi_line) => Ok(s),
        Some(v @ Value::String(_)) => Err(refuse(Refusal::ControlCharacter, &v)),
        None | Some(Value::Null) => Err(ParseError::expected_input()),
        Some(v) => Err(refuse(Refusal::NotText, &v)),
    }
}

macro_rules! strict_text {
    ($(#[$doc:meta])* $name:ident, multi_line = $multi:expr) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` by the same rule as the JSON parser (for tests and callers that
            /// build one by hand).
            pub fn new(text: impl Into<String>) -> Option<Self> {
                let text = text.into();
                acceptable(&text, $multi).then_some(Self(text))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// For views that show stored text in a schema a request shares (the address of a
        /// residence registration): the parser is what checks requests.
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<$name> for String {
            fn from(t: $name) -> String {
                t.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        /// Debug shows the text as `String` would (request bodies are never logged whole).
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
            }

            fn as_raw_value(&self) -> Option<&String> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(std::iter::once(&self.0))
            }

            fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                parse(value, $multi).map(Self)
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                if acceptable(value, $multi) {
                    Ok(Self(value.to_string()))
                } else {
                    Err(refuse(Refusal::ControlCharacter, &Value::String(value.into())))
                }
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

strict_text!(
    /// One line of text: a JSON string without any control character.
    Text,
    multi_line = false
);

strict_text!(
    /// Text typed into a text area (a clerk's note): line feeds and tabs are allowed, no other
    /// control character.
    MultiLineText,
    multi_line = true
);

/// An optional text field of a request that may be left out or sent as JSON `null` (the same
/// thing), and whose schema says so (`nullable`): poem-openapi's plain `Option` accepts `null`
/// while documenting only a string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Nullable<T>(pub Option<T>);

impl<T> Nullable<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    fn from(value: Option<T>) -> Self {
        Self(value)
    }
}

impl<T> std::ops::Deref for Nullable<T> {
    type Target = Option<T>;
    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Nullable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = false;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(mut schema) => {
                schema.nullable = true;
                MetaSchemaRef::Inline(schema)
            }
            reference => reference,
        }
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self(None)),
            value => T::parse_from_json(value)
                .map(|v| Self(Some(v)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        match &self.0 {
            Some(value) => value.to_json(),
            None => Some(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(v: Value) -> ParseResult<Text> {
        Text::parse_from_json(Some(v))
    }

    #[test]
    fn only_json_strings_are_text() {
        assert_eq!(text(json!("13812345678")).unwrap(), "13812345678");
        for v in [
            json!(13812345678u64),
            json!(-13800000000i64),
            json!(true),
            json!(["a"]),
            json!({"a": 1}),
        ] {
            let err = text(v.clone()).expect_err("not text");
            assert_eq!(
                refusal_in(err.message()),
                Some((Refusal::NotText, fingerprint(&v).as_str())),
                "{v}"
            );
        }
        assert!(text(Value::Null).is_err());
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_in_multi_line_text() {
        for bad in [
            "a\u{0}b",
            "\u{1}",
            "a\u{1f}",
            "\u{7f}",
            "\u{85}",
            "a\nb",
            "\t",
            "\r",
            // Invisible characters that reorder or break what is shown.
            "路\u{202E}号1",
            "\u{2066}a",
            "a\u{2069}",
            "\u{200F}",
            "a\u{2028}b",
            "\u{2029}",
            "\u{FEFF}张三",
        ] {
            let err = text(json!(bad)).expect_err(bad);
            assert_eq!(
                refusal_in(err.message()).map(|r| r.0),
                Some(Refusal::ControlCharacter)
            );
            assert!(Text::parse_from_parameter(bad).is_err(), "{bad:?}");
        }
        assert_eq!(text(json!("张小明 Zhang-2")).unwrap(), "张小明 Zhang-2");
        let note = MultiLineText::parse_from_json(Some(json!("第一行\n\t第二行"))).unwrap();
        assert_eq!(note.as_str(), "第一行\n\t第二行");
        for bad in ["a\u{0}", "a\rb", "\u{1b}[31m"] {
            assert!(
                MultiLineText::parse_from_json(Some(json!(bad))).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_field_holding_a_refused_value_is_found_by_its_print() {
        let body = json!({"name": "张三", "items": [{"phone": 13812345678u64}], "note": "a\u{0}"});
        let err = text(json!(13812345678u64)).unwrap_err();
        let (_, print) = refusal_in(err.message()).unwrap();
        assert_eq!(
            field_holding(&body, print).as_deref(),
            Some("items[0].phone")
        );
        let err = text(json!("a\u{0}")).unwrap_err();
        let (_, print) = refusal_in(err.message()).unwrap();
        assert_eq!(field_holding(&body, print).as_deref(), Some("note"));
        assert_eq!(field_holding(&body, &fingerprint(&json!([1]))), None);
    }

    #[test]
    fn the_schema_is_a_plain_string() {
        assert_eq!(Text::name(), "string");
        let MetaSchemaRef::Inline(schema) = Text::schema_ref() else {
            panic!("an inline schema");
        };
        assert_eq!((schema.ty, schema.format), ("string", None));
    }

    #[test]
    fn an_optional_text_may_be_left_out_or_null_and_its_schema_says_so() {
        type Note = Nullable<Text>;
        assert_eq!(Note::parse_from_json(None).unwrap(), Nullable(None));
        assert_eq!(
            Note::parse_from_json(Some(json!(null))).unwrap(),
            Nullable(None)
        );
        assert_eq!(
            Note::parse_from_json(Some(json!("我的手机")))
                .unwrap()
                .as_deref(),
            Some("我的手机")
        );
        assert!(Note::parse_from_json(Some(json!(13812345678u64))).is_err());
        assert!(Note::parse_from_json(Some(json!("a\u{0}b"))).is_err());
        const { assert!(!Note::IS_REQUIRED) };
        let MetaSchemaRef::Inline(schema) = Note::schema_ref() else {
            panic!("an inline schema")
        };
        assert!(schema.nullable, "null is documented as accepted");
        assert_eq!(schema.ty, "string");
    }
}
