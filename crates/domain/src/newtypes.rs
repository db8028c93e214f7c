//! Parse-don't-validate newtypes for constrained values. Each has private fields and a `parse`
//! that returns `Result`, so a value of the type is valid by construction.

use crate::error::DomainError;
use std::fmt;

/// An email address as stored: the customer's text in Unicode NFKC (case preserved), never
/// empty, without control characters.
///
/// Uniqueness compares [`Email::lowercase`]. Credential flows compare more strictly, with
/// [`Email::same_address`]: letter case only, never another character that lowercases alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts any non-blank string of at most 256 characters without control characters;
    /// commercetools does not check the address syntax, so neither do we. Compatibility
    /// characters are replaced by their NFKC forms (KELVIN SIGN → `K`, full-width `ｋ` → `k`,
    /// the ligature `ﬁ` → `fi`), so a compatibility look-alike of an existing address is the
    /// same address to uniqueness (`DuplicateField`) and can never become a second account.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        use unicode_normalization::UnicodeNormalization;
        let normalized: String = s.nfkc().collect();
        if normalized.trim().is_empty()
            || normalized.chars().count() > 256
            || normalized.chars().any(char::is_control)
        {
            return Err(DomainError::InvalidInput(
                "Invalid email. It may be a non-empty string up to 256".to_owned(),
            ));
        }
        Ok(Email(normalized))
    }

    /// The lowercased form used for case-insensitive matching and uniqueness.
    pub fn lowercase(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether a credential flow given `given` may act on the account whose email is `stored`:
    /// the same characters, each either equal or its simple upper/lower-case partner
    /// (`K`/`k`). KELVIN SIGN lowercases to `k` but is not `K`'s partner (`k` uppercases to
    /// `K`), so `\u{212A}ate@…` is not `kate@…` here although uniqueness treats them alike.
    pub fn same_address(stored: &str, given: &str) -> bool {
        stored.chars().count() == given.chars().count()
            && stored
                .chars()
                .zip(given.chars())
                .all(|(a, b)| a == b || case_partners(a, b) || case_partners(b, a))
    }
}

/// `lower` is the one-character lowercase of `upper`, and `upper` its one-character uppercase.
fn case_partners(upper: char, lower: char) -> bool {
    let mut down = upper.to_lowercase();
    let mut up = lower.to_uppercase();
    down.next() == Some(lower)
        && down.next().is_none()
        && up.next() == Some(upper)
        && up.next().is_none()
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user-defined key: 2..=256 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    /// Checks length and alphabet; `field` names the field in the error message.
    pub fn parse(s: &str, field: &str) -> Result<Self, DomainError> {
        let ok_len = (2..=256).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok_len && ok_chars {
            Ok(Key(s.to_owned()))
        } else {
            Err(DomainError::InvalidInput(format!(
                "Invalid {field} '{s}'. It may be a string of 2 to 256 characters of the alphabet [A-Za-z0-9_-]."
            )))
        }
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resource version: a positive integer, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// The version of a newly created resource.
    pub const FIRST: Version = Version(1);

    /// Accepts any integer ≥ 1.
    pub fn parse(v: i64) -> Result<Self, DomainError> {
        u64::try_from(v)
            .ok()
            .filter(|v| *v >= 1)
            .map(Version)
            .ok_or_else(|| DomainError::InvalidInput(format!("Invalid version '{v}'.")))
    }

    /// The version after one more change.
    pub fn next(self) -> Version {
        Version(self.0.saturating_add(1))
    }

    /// The number itself.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        Version::parse(v).map_err(serde::de::Error::custom)
    }
}

/// Validates a two-letter ISO 3166-1 country code (`^[A-Z]{2}$`).
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_stored_in_nfkc_and_matched_by_letter_case_only() {
        assert_eq!(
            Email::parse("\u{212A}ate@x.com").unwrap().as_ref(),
            "Kate@x.com"
        );
        assert_eq!(
            Email::parse("\u{FF4B}\u{FF41}te@x.com").unwrap().as_ref(),
            "kate@x.com"
        );
        assert_eq!(
            Email::parse("\u{FB01}ona@x.com").unwrap().as_ref(),
            "fiona@x.com"
        );
        // Cyrillic а is a letter of its own.
        assert_eq!(
            Email::parse("k\u{430}te@x.com").unwrap().as_ref(),
            "k\u{430}te@x.com"
        );
        assert!(Email::parse("a\u{0}@x.com").is_err());
        assert!(Email::parse("a\n@x.com").is_err());
        assert!(Email::same_address("kate@x.com", "KATE@X.COM"));
        assert!(Email::same_address("Jürgen@x.com", "JÜRGEN@x.com"));
        assert!(!Email::same_address("kate@x.com", "\u{212A}ate@x.com"));
        assert!(!Email::same_address("Kate@x.com", "\u{212A}ate@x.com"));
        assert!(!Email::same_address("kate@x.com", "k\u{430}te@x.com"));
        assert!(!Email::same_address("fiona@x.com", "\u{FB01}ona@x.com"));
        assert!(!Email::same_address("kate@x.com", "\u{FF4B}ate@x.com"));
        assert!(!Email::same_address("strasse@x.com", "straße@x.com"));
    }

    #[test]
    fn key_rejects_short_long_and_foreign_characters() {
        assert!(Key::parse("a", "key").is_err());
        assert!(Key::parse(&"a".repeat(257), "key").is_err());
        assert!(Key::parse("a b", "key").is_err());
        assert!(Key::parse("ab", "key").is_ok());
        assert!(Key::parse("A-z_09", "key").is_ok());
    }

    #[test]
    fn version_starts_at_one() {
        assert!(Version::parse(0).is_err());
        assert!(Version::parse(-1).is_err());
        assert_eq!(Version::parse(1).unwrap(), Version::FIRST);
        assert_eq!(Version::FIRST.next().get(), 2);
    }

    #[test]
    fn email_keeps_case_and_lowercases_for_matching() {
        let e = Email::parse("John@Example.COM").unwrap();
        assert_eq!(e.as_ref(), "John@Example.COM");
        assert_eq!(e.lowercase(), "john@example.com");
        assert!(Email::parse("  ").is_err());
    }

    proptest! {
        #[test]
        fn key_accepts_exactly_its_alphabet(s in "[A-Za-z0-9_-]{2,256}") {
            prop_assert!(Key::parse(&s, "key").is_ok());
        }

        #[test]
        fn key_rejects_any_other_character(a in "[A-Za-z0-9]{1,10}", c in "[^A-Za-z0-9_-]", b in "[A-Za-z0-9]{1,10}") {
            let bad = format!("{a}{c}{b}");
            prop_assert!(Key::parse(&bad, "key").is_err());
        }
    }
}
