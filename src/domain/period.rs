//! A period on `occurred_at`: `from` inclusive, `to` exclusive, either open.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

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

    /// The whole UTC days inside the period, if any, and the partial periods
    /// at its edges (at most two, each shorter than a day): what daily totals
    /// cover, and what must be read movement by movement.
    pub fn by_days(&self) -> (Option<Days>, Vec<Period>) {
        let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        let first = self.from.map(|f| {
            let day = f.date_naive();
            if midnight(day) == f {
                day
            } else {
                day + TimeDelta::days(1)
            }
        });
        let end = self.to.map(|t| t.date_naive());
        if let (Some(first), Some(end)) = (first, end) {
            if first >= end {
                let rest = (self.from < self.to).then_some(*self);
                return (None, rest.into_iter().collect());
            }
        }
        let mut edges = Vec::new();
        if let (Some(from), Some(first)) = (self.from, first) {
            if from != midnight(first) {
                edges.push(Period {
                    from: Some(from),
                    to: Some(midnight(first)),
                });
            }
        }
        if let (Some(to), Some(end)) = (self.to, end) {
            if to != midnight(end) {
                edges.push(Period {
                    from: Some(midnight(end)),
                    to: Some(to),
                });
            }
        }
        (Some(Days { first, end }), edges)
    }
}

/// UTC days `[first, end)`, either end open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub first: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
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

    #[test]
    fn a_period_splits_into_whole_days_and_partial_edges() {
        let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 1, d, h, 0, 0).unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let p = |from, to| Period { from, to };
        assert_eq!(
            p(None, None).by_days(),
            (
                Some(Days {
                    first: None,
                    end: None
                }),
                vec![]
            )
        );
        // Midnight to midnight: days only.
        assert_eq!(
            p(Some(t(2, 0)), Some(t(5, 0))).by_days(),
            (
                Some(Days {
                    first: Some(day(2)),
                    end: Some(day(5))
                }),
                vec![]
            )
        );
        // Ragged ends: the whole days between, and an edge on each side.
        assert_eq!(
            p(Some(t(2, 6)), Some(t(5, 18))).by_days(),
            (
                Some(Days {
                    first: Some(day(3)),
                    end: Some(day(5))
                }),
                vec![
                    p(Some(t(2, 6)), Some(t(3, 0))),
                    p(Some(t(5, 0)), Some(t(5, 18)))
                ]
            )
        );
        // Open on one side.
        assert_eq!(
            p(None, Some(t(5, 18))).by_days(),
            (
                Some(Days {
                    first: None,
                    end: Some(day(5))
                }),
                vec![p(Some(t(5, 0)), Some(t(5, 18)))]
            )
        );
        // Less than a whole day: movements only.
        assert_eq!(
            p(Some(t(2, 6)), Some(t(3, 5))).by_days(),
            (None, vec![p(Some(t(2, 6)), Some(t(3, 5)))])
        );
        assert_eq!(p(Some(t(2, 6)), Some(t(2, 6))).by_days(), (None, vec![]));
    }
}
