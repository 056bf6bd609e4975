//! Reading the definite-length CBOR items (RFC 8949) of a credential in place: no value tree,
//! no copies of the payload. This is the hot path of verification, where building ciborium
//! value trees cost more than a tenth of an Ed25519 verification; the COSE headers are still
//! parsed by coset, and the lists and the issuing side use ciborium's value model.

/// How deeply unknown items may nest before they are rejected.
const MAX_DEPTH: u32 = 16;

/// The head of a CBOR item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    /// Major type 2, definite length.
    Bytes(u64),
    /// Major type 3, definite length.
    Text(u64),
    /// Major type 4, definite length.
    Array(u64),
    /// Major type 5, definite length.
    Map(u64),
    /// Major type 6.
    Tag(u64),
    /// Major type 7: simple values and floats (the argument, uninterpreted).
    Simple(u64),
}

/// A cursor over one CBOR-encoded byte slice.
pub(crate) struct CborReader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> CborReader<'a> {
    pub fn new(input: &'a [u8]) -> CborReader<'a> {
        CborReader { input, pos: 0 }
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| "truncated CBOR".to_owned())?;
        self.pos += 1;
        Ok(b)
    }

    /// The next item's head. Indefinite lengths and reserved values are rejected.
    pub fn head(&mut self) -> Result<Head, String> {
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let mut arg = 0u64;
                for _ in 0..(1u32 << (info - 24)) {
                    arg = (arg << 8) | u64::from(self.byte()?);
                }
                arg
            }
            _ => return Err("indefinite-length or reserved CBOR item".into()),
        };
        Ok(match major {
            0 => Head::Uint(arg),
            1 => Head::Nint(arg),
            2 => Head::Bytes(arg),
            3 => Head::Text(arg),
            4 => Head::Array(arg),
            5 => Head::Map(arg),
            6 => Head::Tag(arg),
            _ => Head::Simple(arg),
        })
    }

    /// The next head without consuming it.
    pub fn peek(&mut self) -> Result<Head, String> {
        let pos = self.pos;
        let head = self.head();
        self.pos = pos;
        head
    }

    /// Whether every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos == self.input.len()
    }

    /// The next `len` bytes, in place.
    fn take(&mut self, len: u64) -> Result<&'a [u8], String> {
        let contents = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .and_then(|end| self.input.get(self.pos..end))
            .ok_or_else(|| "truncated CBOR".to_owned())?;
        self.pos += contents.len();
        Ok(contents)
    }

    /// A byte string, in place.
    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], String> {
        match self.head()? {
            Head::Bytes(len) => self.take(len),
            _ => Err(format!("{what} is not a byte string")),
        }
    }

    /// A UTF-8 text string, in place.
    pub fn text(&mut self, what: &str) -> Result<&'a str, String> {
        match self.head()? {
            Head::Text(len) => std::str::from_utf8(self.take(len)?)
                .map_err(|_| format!("{what} is not valid UTF-8")),
            _ => Err(format!("{what} is not a text string")),
        }
    }

    /// An unsigned integer.
    pub fn uint(&mut self, what: &str) -> Result<u64, String> {
        match self.head()? {
            Head::Uint(n) => Ok(n),
            _ => Err(format!("{what} is not an unsigned integer")),
        }
    }

    /// An integer that fits in i64.
    pub fn int(&mut self, what: &str) -> Result<i64, String> {
        let value = match self.head()? {
            Head::Uint(n) => i64::try_from(n).ok(),
            Head::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => return Err(format!("{what} is not an integer")),
        };
        value.ok_or_else(|| format!("{what} is out of range"))
    }

    /// A map head; its number of entries, bounded by the bytes left.
    pub fn map(&mut self, what: &str) -> Result<usize, String> {
        match self.head()? {
            Head::Map(n) => usize::try_from(n)
                .ok()
                .filter(|n| *n <= self.input.len())
                .ok_or_else(|| format!("{what} has more entries than bytes")),
            _ => Err(format!("{what} is not a map")),
        }
    }

    /// Skips one complete item and returns its encoding, in place.
    pub fn item(&mut self) -> Result<&'a [u8], String> {
        let start = self.pos;
        self.skip(0)?;
        self.input
            .get(start..self.pos)
            .ok_or_else(|| "truncated CBOR".to_owned())
    }

    fn skip(&mut self, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("CBOR nested too deeply".into());
        }
        let count = |n: u64, per: u64| -> Result<u64, String> {
            n.checked_mul(per)
                .filter(|n| *n <= self.input.len() as u64)
                .ok_or_else(|| "CBOR item has more entries than bytes".to_owned())
        };
        match self.head()? {
            Head::Uint(_) | Head::Nint(_) | Head::Simple(_) => Ok(()),
            Head::Bytes(len) | Head::Text(len) => self.take(len).map(|_| ()),
            Head::Tag(_) => self.skip(depth + 1),
            Head::Array(n) => (0..count(n, 1)?).try_for_each(|_| self.skip(depth + 1)),
            Head::Map(n) => (0..count(n, 2)?).try_for_each(|_| self.skip(depth + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_and_items() {
        // {1: "ab", -2: [h'00', 1.5], 3: 1000000}
        let bytes = [
            0xa3, 0x01, 0x62, b'a', b'b', 0x21, 0x82, 0x41, 0x00, 0xf9, 0x3e, 0x00, 0x03, 0x1a,
            0x00, 0x0f, 0x42, 0x40,
        ];
        let mut r = CborReader::new(&bytes);
        assert_eq!(r.map("m"), Ok(3));
        assert_eq!(r.int("k"), Ok(1));
        assert_eq!(r.text("t"), Ok("ab"));
        assert_eq!(r.int("k"), Ok(-2));
        assert_eq!(r.item(), Ok(&bytes[6..12]));
        assert_eq!(r.peek(), Ok(Head::Uint(3)));
        assert_eq!(r.uint("k"), Ok(3));
        assert_eq!(r.uint("v"), Ok(1_000_000));
        assert!(r.at_end());
    }

    #[test]
    fn rejects_truncation_indefinite_lengths_and_huge_counts() {
        assert!(CborReader::new(&[0x62, b'a']).text("t").is_err());
        assert!(CborReader::new(&[0x5f, 0x41, 0x00, 0xff]).item().is_err());
        assert!(
            CborReader::new(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .item()
                .is_err()
        );
        assert!(
            CborReader::new(&[0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .map("m")
                .is_err()
        );
        let deep = [0x81u8; 40];
        assert!(CborReader::new(&deep).item().is_err());
    }
}
