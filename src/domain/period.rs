//! A period on `occurred_at`: `from` inclusive, `to` exclusive, either open.

use chrono::{DateTime, Utc};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Period {
    /// `to` before `from` is 422 on `to`.
    pub fn new(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Self, ApiError> {
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(ApiError::field("to", "range", "must not be before `from`"));
            }
        }
        Ok(Period { from, to })
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| from <= t) && self.to.is_none_or(|to| t < to)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn from_is_inclusive_to_exclusive_and_not_after_from() {
        let at = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        let p = Period::new(Some(at(1)), Some(at(3))).unwrap();
        assert!(p.contains(at(1)) && p.contains(at(2)) && !p.contains(at(3)));
        assert!(Period::new(None, None).unwrap().contains(at(0)));
        assert!(
            Period::new(Some(at(1)), Some(at(1))).is_ok(),
            "empty, not wrong"
        );
        let e = Period::new(Some(at(3)), Some(at(1))).unwrap_err();
        assert_eq!(e.status().code, 422);
    }
}
