//! Drivers' mobile numbers, as they sign up and log in with a one-time code: one canonical spelling
//! (E.164, `+8613812345678`) whatever the driver typed, so that one phone is one account.

use serde::{Serialize, Serializer};
use std::fmt;

/// A mobile number in E.164 form: `+`, the country code and the subscriber's number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a typed number is not a mobile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    #[error("a phone number has only digits, spaces, dashes and a leading +")]
    NotDigits,
    #[error("a mainland China mobile number has 11 digits and starts with 1")]
    NotChineseMobile,
    #[error("an international number is + and 8 to 15 digits, with no leading 0")]
    BadLength,
}

/// China's country code: numbers typed without one are mainland mobile numbers.
const CHINA: &str = "86";

impl PhoneNumber {
    /// Reads a number as a driver types it: `13812345678`, `138 1234 5678`, `+86 138-1234-5678`,
    /// `0086…`, or another country's `+44 7700 900123`.
    pub fn parse(typed: &str) -> Result<PhoneNumber, PhoneProblem> {
        let trimmed = typed.trim();
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => match trimmed.strip_prefix("00") {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            },
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(PhoneProblem::NotDigits),
            }
        }
        if !international {
            return Self::mainland(&digits);
        }
        if let Some(national) = digits.strip_prefix(CHINA) {
            return Self::mainland(national);
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneProblem::BadLength);
        }
        Ok(PhoneNumber(format!("+{digits}")))
    }

    fn mainland(national: &str) -> Result<PhoneNumber, PhoneProblem> {
        if national.len() != 11 || !national.starts_with('1') {
            return Err(PhoneProblem::NotChineseMobile);
        }
        Ok(PhoneNumber(format!("+{CHINA}{national}")))
    }

    /// The E.164 form, `+8613812345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The spellings an account made by staff may carry for this number: E.164, and for a mainland
    /// number also the 11 digits alone (how people in China write their number).
    pub fn usernames(&self) -> Vec<String> {
        let mut names = vec![self.0.clone()];
        if let Some(national) = self.0.strip_prefix("+86") {
            names.push(national.to_owned());
        }
        names
    }

    /// The number with its middle hidden, for logs and screens that need only recognize it:
    /// `+86138****5678`.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let (head, tail) = (6.min(chars.len()), 4.min(chars.len().saturating_sub(6)));
        let hidden = chars.len() - head - tail;
        let mut masked: String = chars[..head].iter().collect();
        masked.extend(std::iter::repeat_n('*', hidden));
        masked.extend(&chars[chars.len() - tail..]);
        masked
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mainland_numbers_read_the_same_however_typed() {
        for typed in ["13812345678", " 138 1234 5678 ", "+86 138-1234-5678", "008613812345678", "+8613812345678"] {
            assert_eq!(PhoneNumber::parse(typed).unwrap().as_str(), "+8613812345678", "{typed}");
        }
        assert_eq!(PhoneNumber::parse("+44 7700 900123").unwrap().as_str(), "+447700900123");
    }

    #[test]
    fn what_is_no_mobile_number_says_why() {
        assert_eq!(PhoneNumber::parse("1381234567"), Err(PhoneProblem::NotChineseMobile));
        assert_eq!(PhoneNumber::parse("02312345678"), Err(PhoneProblem::NotChineseMobile));
        assert_eq!(PhoneNumber::parse("+86 010 1234 5678"), Err(PhoneProblem::NotChineseMobile));
        assert_eq!(PhoneNumber::parse("138x1234567"), Err(PhoneProblem::NotDigits));
        assert_eq!(PhoneNumber::parse("+1234"), Err(PhoneProblem::BadLength));
        assert_eq!(PhoneNumber::parse("+0123456789"), Err(PhoneProblem::BadLength));
        assert_eq!(PhoneNumber::parse(""), Err(PhoneProblem::NotChineseMobile));
        assert_eq!(PhoneNumber::parse("+"), Err(PhoneProblem::BadLength));
    }

    #[test]
    fn a_masked_number_keeps_its_ends() {
        assert_eq!(PhoneNumber::parse("13812345678").unwrap().masked(), "+86138****5678");
        assert_eq!(PhoneNumber::parse("+447700900123").unwrap().masked(), "+44770***0123");
        assert_eq!(PhoneNumber::parse("13812345678").unwrap().usernames(), ["+8613812345678", "13812345678"]);
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_its_result_reads_back_unchanged(typed in "\\PC{0,24}") {
            if let Ok(number) = PhoneNumber::parse(&typed) {
                prop_assert_eq!(PhoneNumber::parse(number.as_str()), Ok(number.clone()));
                prop_assert_eq!(number.masked().chars().count(), number.as_str().chars().count());
            }
        }
    }
}
