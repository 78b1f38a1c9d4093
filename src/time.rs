//! Timestamps are kept to the microsecond, PostgreSQL's precision, so what a
//! response shows is exactly what a later read returns on either backend.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

pub fn now() -> DateTime<Utc> {
    micros(Utc::now())
}
