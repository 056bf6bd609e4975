//! The one-time code a clerk or administrator enrols their first passkey with: 16 characters
//! of an alphabet without look-alikes (no 0/O, no 1/I), printed in groups of four, read back
//! however the person types it. Only its hash is stored.

use sha2::{Digest, Sha256};

/// The characters a code is made of: digits 2-9 and the letters without I and O.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const LEN: usize = 16;

/// A well-formed enrolment code, normalised (upper case, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode(String);

impl std::fmt::Debug for EnrolmentCode {
    // A code is a secret until it is spent: never printed in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentCode(..)")
    }
}

impl EnrolmentCode {
    /// The code `random` stands for: each byte picks one character (32 divides 256, so every
    /// character is equally likely).
    pub fn from_random(random: [u8; LEN]) -> EnrolmentCode {
        EnrolmentCode(
            random
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// Reads a code as typed: spaces and hyphens ignored, any case; `None` when it cannot be
    /// one (wrong length or a character outside the alphabet).
    pub fn parse(typed: &str) -> Option<EnrolmentCode> {
        let code: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(EnrolmentCode(code))
    }

    /// The code as printed for the person: four groups of four.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// What is stored: the hash of the normalised code (it has 80 random bits, so a plain hash
    /// cannot be searched back).
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(format!("staff-enrolment:{}", self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = EnrolmentCode::from_random([7u8; LEN]);
        let printed = code.grouped();
        assert_eq!(printed.len(), 19);
        assert_eq!(printed.matches('-').count(), 3);
        assert_eq!(EnrolmentCode::parse(&printed), Some(code.clone()));
        assert_eq!(
            EnrolmentCode::parse(&printed.to_lowercase().replace('-', " ")),
            Some(code.clone())
        );
        assert_eq!(EnrolmentCode::parse(&printed).unwrap().hash(), code.hash());
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_not_codes() {
        assert!(EnrolmentCode::parse("ABCD-EFGH-JKLM-NPQ").is_none());
        assert!(EnrolmentCode::parse("ABCD-EFGH-JKLM-NPQRS").is_none());
        assert!(EnrolmentCode::parse("ABCD-EFGH-JKLM-NPQ0").is_none());
        assert!(EnrolmentCode::parse("ABCD-EFGH-JKLM-NPQI").is_none());
        assert!(EnrolmentCode::parse("").is_none());
        assert!(EnrolmentCode::parse("ABCD-EFGH-JKLM-NPQ2").is_some());
    }

    #[test]
    fn every_character_of_a_random_code_is_from_the_alphabet_and_codes_differ() {
        let a = EnrolmentCode::from_random(core::array::from_fn(|i| (i as u8).wrapping_mul(37)));
        let b = EnrolmentCode::from_random(core::array::from_fn(|i| {
            (i as u8).wrapping_mul(11).wrapping_add(3)
        }));
        assert!(a.0.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert!(
            !format!("{a:?}").contains(&a.0),
            "a code is never printed in Debug"
        );
    }
}
