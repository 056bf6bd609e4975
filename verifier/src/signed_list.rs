//! The envelope shared by the trust list and the status list: a COSE_Sign1 whose payload is a
//! CBOR map with text keys, always carrying `iss` (text), `iat` (seconds) and `ttl` (seconds).

use chrono::{DateTime, TimeDelta, Utc};
use ciborium::Value;

/// Why a signed list (trust list or status list) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// Not a well-formed list (COSE, CBOR or a field).
    Malformed(String),
    /// The signer's key is not the pinned root key (trust list) or is not in the trust list
    /// for the list's issue time (status list).
    UnknownSigner,
    /// The signature does not verify.
    BadSignature,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Malformed(why) => write!(f, "malformed list: {why}"),
            ListError::UnknownSigner => f.write_str("list signed by an unknown key"),
            ListError::BadSignature => f.write_str("list signature does not verify"),
        }
    }
}

impl std::error::Error for ListError {}

pub(crate) fn malformed(why: impl Into<String>) -> ListError {
    ListError::Malformed(why.into())
}

/// The most fields a list map may have.
const MAX_FIELDS: usize = 32;

/// The fields of a list payload, by text key.
pub(crate) struct ListFields {
    entries: Vec<(String, Value)>,
}

impl ListFields {
    pub fn parse(payload: &[u8]) -> Result<ListFields, ListError> {
        let value: Value = ciborium::from_reader(payload)
            .map_err(|e| malformed(format!("payload is not CBOR: {e}")))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<ListFields, ListError> {
        let Value::Map(map) = value else {
            return Err(malformed("not a map"));
        };
        // Lists have a handful of fields; this keeps the duplicate check cheap on hostile input.
        if map.len() > MAX_FIELDS {
            return Err(malformed(format!("more than {MAX_FIELDS} fields")));
        }
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(map.len());
        for (k, v) in map {
            let Value::Text(k) = k else {
                return Err(malformed("map key is not text"));
            };
            if entries.iter().any(|(seen, _)| *seen == k) {
                return Err(malformed(format!("duplicate key {k}")));
            }
            entries.push((k, v));
        }
        Ok(ListFields { entries })
    }

    pub fn take(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(at).1)
    }

    pub fn required(&mut self, key: &str) -> Result<Value, ListError> {
        self.take(key)
            .ok_or_else(|| malformed(format!("missing {key}")))
    }

    pub fn text(&mut self, key: &str) -> Result<String, ListError> {
        match self.required(key)? {
            Value::Text(t) => Ok(t),
            _ => Err(malformed(format!("{key} is not text"))),
        }
    }

    pub fn bytes(&mut self, key: &str) -> Result<Vec<u8>, ListError> {
        match self.required(key)? {
            Value::Bytes(b) => Ok(b),
            _ => Err(malformed(format!("{key} is not a byte string"))),
        }
    }

    pub fn uint(&mut self, key: &str) -> Result<u64, ListError> {
        match self.required(key)? {
            Value::Integer(i) => {
                u64::try_from(i).map_err(|_| malformed(format!("{key} is out of range")))
            }
            _ => Err(malformed(format!("{key} is not an unsigned integer"))),
        }
    }

    pub fn time(&mut self, key: &str) -> Result<DateTime<Utc>, ListError> {
        let value = self.required(key)?;
        time_value(value, key)
    }

    pub fn optional_time(&mut self, key: &str) -> Result<Option<DateTime<Utc>>, ListError> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => time_value(v, key).map(Some),
        }
    }

    /// `iss`, `iat` and `ttl`, which every list has.
    pub fn header(&mut self) -> Result<ListHeader, ListError> {
        Ok(ListHeader {
            issuer: self.text("iss")?,
            issued_at: self.time("iat")?,
            ttl_seconds: self.uint("ttl")?,
        })
    }
}

fn time_value(value: Value, key: &str) -> Result<DateTime<Utc>, ListError> {
    let Value::Integer(i) = value else {
        return Err(malformed(format!("{key} is not an integer")));
    };
    i64::try_from(i)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .ok_or_else(|| malformed(format!("{key} is out of range")))
}

/// `iss`, `iat` and `ttl` of a list.
pub(crate) struct ListHeader {
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    pub ttl_seconds: u64,
}

/// `issued_at + ttl`, saturating at the largest representable time.
pub(crate) fn expiry(issued_at: DateTime<Utc>, ttl_seconds: u64) -> DateTime<Utc> {
    i64::try_from(ttl_seconds)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|ttl| issued_at.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(feature = "issue")]
pub(crate) fn encode_payload(
    entries: Vec<(&str, Value)>,
) -> Result<Vec<u8>, crate::issue::IssueError> {
    let map = Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    );
    let mut out = Vec::new();
    ciborium::into_writer(&map, &mut out)
        .map_err(|e| crate::issue::IssueError::Encoding(e.to_string()))?;
    Ok(out)
}
