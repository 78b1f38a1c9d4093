//! Timestamps are kept to the microsecond, PostgreSQL's precision, so what a
//! response shows is exactly what a later read returns on either backend.

use chrono::{DateTime, Datelike, DurationRound, TimeDelta, Utc};

use super::{Keyword, Rule};

/// Timestamps in bodies: RFC 3339 with an offset, years 1 to 9999 (what
/// both backends store; PostgreSQL has no year 0).
pub const RULE: Rule = Rule {
    keyword: Keyword::Format("date-time", is_valid),
    code: "format",
    message: "must be an RFC 3339 timestamp with an offset, years 0001 to 9999",
};

pub fn is_valid(s: &str) -> bool {
    // JSON Schema's `date-time` is RFC 3339's `date-time` production: a `T`
    // between date and time (chrono would also take a space).
    matches!(s.as_bytes().get(10), Some(b'T' | b't'))
        && DateTime::parse_from_rfc3339(s)
            .is_ok_and(|t| (1..=9999).contains(&t.with_timezone(&Utc).year()))
}

pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

pub fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

/// An RFC 3339 timestamp with an offset, as a query string carries it (an
/// unencoded `+` arrives as a space).
pub fn parse_rfc3339(raw: &str) -> Option<DateTime<Utc>> {
    let fixed = raw.trim().replace(' ', "+");
    DateTime::parse_from_rfc3339(&fixed)
        .ok()
        .map(|t| micros(t.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_need_an_offset_and_keep_microseconds() {
        let t = parse_rfc3339("2026-11-21T10:00:00.1234567+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-21T09:00:00.123456+00:00");
        assert_eq!(
            parse_rfc3339("2026-11-21T10:00:00 01:00"),
            parse_rfc3339("2026-11-21T10:00:00+01:00")
        );
        for bad in ["2026-11-21T10:00:00", "2026-11-21", "yesterday", ""] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
            assert!(!is_valid(bad), "{bad}");
        }
        assert!(is_valid("2026-11-21T10:00:00+01:00"));
        assert!(!is_valid("0000-01-01T00:00:00Z"), "no year 0");
        assert!(is_valid("0001-01-01T00:00:00Z"));
        assert!(!is_valid("2026-11-21 10:00:00Z"), "a T, not a space");
    }
}
