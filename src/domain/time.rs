//! Timestamps are kept to the microsecond, PostgreSQL's precision, so what a
//! response shows is exactly what a later read returns on either backend.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

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
        }
    }
}
