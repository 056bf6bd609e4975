//! Citizen ID numbers (公民身份号码) per GB 11643-1999.

use std::fmt;

use chrono::NaiveDate;

use super::Sex;

/// An 18-character citizen ID number whose check digit, birth date and form are valid.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must be 18 characters: 17 digits and a digit or X")]
    Format,
    #[error("the birth date is not a real date")]
    BirthDate,
    #[error("the check digit does not match")]
    CheckDigit,
}

impl IdNumberError {
    pub fn code(self) -> &'static str {
        match self {
            IdNumberError::Format => "invalid_id_number",
            IdNumberError::BirthDate => "invalid_id_number_birth_date",
            IdNumberError::CheckDigit => "invalid_id_number_check_digit",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            IdNumberError::Format => "公民身份号码应为18位，最后一位为数字或X",
            IdNumberError::BirthDate => "公民身份号码中的出生日期无效",
            IdNumberError::CheckDigit => "公民身份号码校验位不正确，请核对",
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character for the first 17 digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(CHECK[(sum % 11) as usize])
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let bytes = s.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(IdNumberError::Format);
        }
        let birth =
            NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").map_err(|_| IdNumberError::BirthDate)?;
        let today = chrono::Utc::now().date_naive();
        if birth > today || birth < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(birth) {
            return Err(IdNumberError::BirthDate);
        }
        if check_character(&s[..17]) != Some(bytes[17] as char) {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`.
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// The 17th digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        let digit = self.0.as_bytes()[16] - b'0';
        if digit % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// First 6 and last 4 characters, as shown on screens that need no more.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks an ID number to its first 6 and last 4 characters.
pub fn mask(id: &str) -> String {
    if id.len() < 10 || !id.is_ascii() {
        return "*".repeat(id.chars().count());
    }
    format!(
        "{}{}{}",
        &id[..6],
        "*".repeat(id.len() - 10),
        &id[id.len() - 4..]
    )
}

/// Read as text wherever text is wanted; made only by `parse`, so it is always valid.
impl std::ops::Deref for IdNumber {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a valid ID number for a birth date and sequence, for tests.
    pub fn valid_id(region: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{region}{birth}{seq}");
        let check = check_character(&first17).expect("17 digits");
        format!("{first17}{check}")
    }

    #[test]
    fn accepts_a_valid_number_and_reads_birth_date_and_sex() {
        // The GB 11643 example: 11010519491231002X, a woman born 1949-12-31.
        let id = IdNumber::parse("11010519491231002x").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        let man = IdNumber::parse(&valid_id("330102", "19900101", "123")).expect("valid");
        assert_eq!(man.sex(), Sex::Male);
    }

    #[test]
    fn rejects_a_wrong_check_digit() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
    }

    #[test]
    fn rejects_impossible_birth_dates() {
        let feb30 = valid_id("330102", "19900230", "123");
        assert_eq!(IdNumber::parse(&feb30), Err(IdNumberError::BirthDate));
        let future = valid_id("330102", "29990101", "123");
        assert_eq!(IdNumber::parse(&future), Err(IdNumberError::BirthDate));
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "",
            "1101051949123100",
            "11010519491231002Y",
            "X10105194912310021",
            "１１０１０５１９４９１２３１００２X",
        ] {
            assert_eq!(IdNumber::parse(bad), Err(IdNumberError::Format), "{bad}");
        }
    }

    #[test]
    fn masks_to_first_six_and_last_four() {
        assert_eq!(mask("11010519491231002X"), "110105********002X");
        assert!(
            !format!("{:?}", IdNumber::parse("11010519491231002X").unwrap()).contains("19491231")
        );
    }
}
