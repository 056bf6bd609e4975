//! Mainland China mobile numbers.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts 11 digits starting 13-19, optionally after +86 / 0086, written as a person types
    /// them: digit groups separated by spaces or by one hyphen between two digits. Anything
    /// else (a leading minus, a doubled or trailing hyphen, letters) is not a phone number.
    pub fn parse(input: &str) -> Option<Self> {
        let text = input.trim();
        let (text, plus) = match text.strip_prefix('+') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let chars: Vec<char> = text.chars().collect();
        let mut digits = String::with_capacity(15);
        for (i, &c) in chars.iter().enumerate() {
            let between_digits = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            match c {
                '0'..='9' => digits.push(c),
                ' ' if i > 0 => {}
                '-' if between_digits => {}
                _ => return None,
            }
        }
        let digits = if plus {
            digits.strip_prefix("86")?
        } else {
            digits.strip_prefix("0086").unwrap_or(&digits)
        };
        let b = digits.as_bytes();
        let ok = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        ok.then(|| PhoneNumber(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****5678
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

pub fn mask(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "*".repeat(phone.chars().count())
    }
}

/// Read as text wherever text is wanted; made only by `parse`, so it is always valid.
impl std::ops::Deref for PhoneNumber {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mainland_mobiles() {
        assert_eq!(
            PhoneNumber::parse("13812345678").unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(
            PhoneNumber::parse("+86 138-1234-5678").unwrap().as_str(),
            "13812345678"
        );
        for typed in [
            " 138 1234 5678 ",
            "138  1234  5678",
            "138-1234-5678",
            "+8613812345678",
            "+86-138-1234-5678",
            "0086 13812345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(typed).map(|p| p.as_str().to_string()),
                Some("13812345678".to_string()),
                "{typed:?}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
    }

    #[test]
    fn rejects_others() {
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "138123456789",
            "0571-87654321",
            "1381234567a",
            // A JSON number written as text: the minus is no separator.
            "-13800000000",
            "-13812345678",
            "138--1234-5678",
            "138-1234-5678-",
            "-138 1234 5678",
            "138-1234 -5678",
            "+ 86 13812345678",
            "+13812345678",
            "+8713812345678",
            "138.1234.5678",
            "138_1234_5678",
            "138\t1234\t5678",
            "１３８１２３４５６７８",
        ] {
            assert!(PhoneNumber::parse(bad).is_none(), "{bad}");
        }
    }
}
