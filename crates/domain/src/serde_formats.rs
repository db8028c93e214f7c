//! Wire formats for dates and times: commercetools sends DateTime as UTC with exactly three
//! fractional digits (`2022-09-19T14:34:35.843Z`) and Date as `YYYY-MM-DD`.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

const DATETIME_MS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Formats a timestamp the way commercetools does (UTC, millisecond precision, `Z`).
pub fn format_datetime(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(DATETIME_MS)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp (any offset, any fraction length) into UTC.
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

/// Formats a calendar date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    d.format(DATE).unwrap_or_default()
}

/// Parses a calendar date written as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, DATE).ok()
}

/// Serde adapter for `OffsetDateTime` fields in commercetools' DateTime format.
pub mod datetime {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Serializes as `2022-09-19T14:34:35.843Z`.
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_datetime(*t))
    }

    /// Accepts any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_datetime(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid DateTime '{s}'")))
    }
}

/// Serde adapter for `Option<Date>` fields in `YYYY-MM-DD` format.
pub mod date_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    /// Serializes `Some(date)` as `YYYY-MM-DD`; callers skip `None`.
    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_date(*d)),
            None => s.serialize_none(),
        }
    }

    /// Accepts `null` or a `YYYY-MM-DD` string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => super::parse_date(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid Date '{s}'"))),
        }
    }
}
