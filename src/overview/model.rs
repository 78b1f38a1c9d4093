// ANCHOR: imports
use chrono::{Datelike, NaiveDate};
use schemars::schema::SchemaObject;
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Total;
use crate::error::ApiError;
use crate::http::QueryParam;
use crate::spec;
// ANCHOR_END: imports

/// Totals per currency and per category. Income and expense leave transfers
/// and opening balances out.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "overview_example")]
pub struct Overview {
    /// One entry per currency of your accounts, by code.
    pub currencies: Vec<CurrencyTotals>,
    /// One entry per currency and category with movements in the period.
    pub categories: Vec<CategoryTotals>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrencyTotals {
    /// ISO 4217 code.
    #[schemars(with = "crate::domain::Currency")]
    pub currency: String,
    /// The current total of the accounts in this currency (not limited to the period).
    pub balance: Total,
    /// The sum of the period's positive movements (≥ 0).
    pub income: Total,
    /// The sum of the period's negative movements, as a positive number (≥ 0).
    pub expense: Total,
    /// How many accounts are in this currency.
    pub accounts: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CategoryTotals {
    #[schemars(with = "crate::domain::Currency")]
    pub currency: String,
    /// `null` groups the movements without a category.
    #[schemars(schema_with = "crate::spec::nullable_string")]
    pub category: Option<String>,
    /// ≥ 0.
    pub income: Total,
    /// ≥ 0.
    pub expense: Total,
}

fn overview_example() -> serde_json::Value {
    serde_json::json!({
        "currencies": [{"currency": "EUR", "balance": 125000, "income": 250000, "expense": 4250, "accounts": 2}],
        "categories": [
            {"currency": "EUR", "category": null, "income": 250000, "expense": 0},
            {"currency": "EUR", "category": "food", "income": 0, "expense": 4250}
        ]
    })
}

impl Overview {
    /// Puts the per-category flows and the per-currency balances together:
    /// every currency of the user's accounts, with the period's flows summed.
    pub fn new(mut balances: Vec<CurrencyTotals>, mut categories: Vec<CategoryTotals>) -> Self {
        // One order on both backends (they sort NULL differently): null category first.
        categories.sort_by(|a, b| (&a.currency, &a.category).cmp(&(&b.currency, &b.category)));
        balances.sort_by(|a, b| a.currency.cmp(&b.currency));
        for totals in &mut balances {
            for flow in categories.iter().filter(|c| c.currency == totals.currency) {
                totals.income = totals.income + flow.income;
                totals.expense = totals.expense + flow.expense;
            }
        }
        Overview {
            currencies: balances,
            categories,
        }
    }
}

// ANCHOR: months
/// How many calendar months a summary covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Months(pub u32);

impl Months {
    pub const DEFAULT: u32 = 12;
    pub const MAX: u32 = 120;

    /// The first day of the earliest month of the summary that ends with
    /// the month of `today`.
    pub fn first_day(self, today: NaiveDate) -> Result<NaiveDate, ApiError> {
        today
            .with_day(1)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(self.0.saturating_sub(1))))
            .ok_or_else(|| ApiError::internal("a month out of chrono's range"))
    }
}

impl QueryParam for Months {
    const NAME: &'static str = "months";
    // The bounds are in the schema too; a unit test keeps this text true.
    const DESCRIPTION: &'static str =
        "How many calendar months (UTC), the current one included: 1 to 120 (default 12).";
    const ERRORS: &'static [u16] = &[400, 422];

    fn schema() -> SchemaObject {
        spec::schema(serde_json::json!({
            "type": "integer", "format": "int32",
            "minimum": 1, "maximum": Self::MAX, "default": Self::DEFAULT
        }))
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw else {
            return Ok(Months(Self::DEFAULT));
        };
        let n: i64 = raw.trim().parse().map_err(|_| {
            ApiError::BadRequest(format!("`months` must be an integer, got `{raw}`"))
        })?;
        if !(1..=i64::from(Self::MAX)).contains(&n) {
            let message = format!("must be 1 to {}", Self::MAX);
            return Err(ApiError::field("months", "range", &message));
        }
        Ok(Months(n as u32))
    }
}
// ANCHOR_END: months

// ANCHOR: summary
/// Income and expense of one account, month by month, newest first.
/// Transfers and the opening balance are left out, as in the overview.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "summary_example")]
pub struct Summary {
    pub account_id: Uuid,
    /// ISO 4217 code of the account.
    #[schemars(with = "crate::domain::Currency")]
    pub currency: String,
    /// Every month of the range, empty ones included, newest first.
    pub months: Vec<Month>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Month {
    /// `YYYY-MM`, in UTC.
    pub month: String,
    /// The sum of the month's positive movements (≥ 0).
    pub income: Total,
    /// The sum of the month's negative movements, as a positive number (≥ 0).
    pub expense: Total,
    /// `income - expense`.
    pub net: Total,
}
// ANCHOR_END: summary

fn summary_example() -> serde_json::Value {
    serde_json::json!({
        "account_id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
        "currency": "EUR",
        "months": [
            {"month": "2026-11", "income": 250000, "expense": 4250, "net": 245750},
            {"month": "2026-10", "income": 0, "expense": 0, "net": 0}
        ]
    })
}

// ANCHOR: by_month
impl Summary {
    /// Folds daily totals (`day`, income, expense) into `months` months from
    /// the one that starts on `first` (see [`Months::first_day`]), empty
    /// months included, newest first.
    pub fn new(
        account_id: Uuid,
        currency: String,
        months: Months,
        first: NaiveDate,
        days: Vec<(NaiveDate, Total, Total)>,
    ) -> Self {
        let mut months: Vec<Month> = (0..months.0)
            .rev()
            .filter_map(|i| first.checked_add_months(chrono::Months::new(i)))
            .map(|month| Month {
                month: month.format("%Y-%m").to_string(),
                income: Total(0),
                expense: Total(0),
                net: Total(0),
            })
            .collect();
        for (day, income, expense) in days {
            let key = day.format("%Y-%m").to_string();
            if let Some(month) = months.iter_mut().find(|m| m.month == key) {
                month.income = month.income + income;
                month.expense = month.expense + expense;
                month.net = Total(month.income.0 - month.expense.0);
            }
        }
        Summary {
            account_id,
            currency,
            months,
        }
    }
}
// ANCHOR_END: by_month

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_default_to_12_and_take_1_to_120() {
        assert_eq!(Months::parse(None).unwrap(), Months(12));
        assert_eq!(Months::parse(Some(" 1")).unwrap(), Months(1));
        assert_eq!(Months::parse(Some("120")).unwrap(), Months(120));
        for out in ["0", "121", "-3", "99999999999"] {
            assert_eq!(
                Months::parse(Some(out)).unwrap_err().status().code,
                422,
                "{out}"
            );
        }
        for garbage in ["x", "1.5", ""] {
            let e = Months::parse(Some(garbage)).unwrap_err();
            assert_eq!(e.status().code, 400, "{garbage}");
        }
        let bounds = format!("1 to {} (default {})", Months::MAX, Months::DEFAULT);
        assert!(Months::DESCRIPTION.contains(&bounds), "{bounds}");
    }

    #[test]
    fn the_first_day_is_the_first_of_the_earliest_month() {
        for (months, today, first) in [
            (1, day(2026, 3, 31), day(2026, 3, 1)),
            (3, day(2026, 3, 31), day(2026, 1, 1)),
            (4, day(2026, 3, 1), day(2025, 12, 1)),
            (120, day(2026, 12, 5), day(2017, 1, 1)),
        ] {
            assert_eq!(Months(months).first_day(today).unwrap(), first, "{months}");
        }
    }

    // ANCHOR: summary_unit_test
    #[test]
    fn a_summary_has_every_month_newest_first_and_sums_each_month_s_days() {
        let first = Months(3).first_day(day(2026, 2, 10)).unwrap();
        let days = vec![
            (day(2025, 12, 1), Total(5), Total(0)),
            (day(2025, 12, 31), Total(0), Total(7)),
            (day(2026, 2, 9), Total(i128::from(i64::MAX)), Total(1)),
            (day(2026, 2, 10), Total(i128::from(i64::MAX)), Total(0)),
        ];
        let s = Summary::new(Uuid::nil(), "EUR".into(), Months(3), first, days);
        let got: Vec<_> = s
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.income.0, m.expense.0, m.net.0))
            .collect();
        let twice_max = 2 * i128::from(i64::MAX);
        assert_eq!(
            got,
            [
                ("2026-02", twice_max, 1, twice_max - 1),
                ("2026-01", 0, 0, 0),
                ("2025-12", 5, 7, -2),
            ]
        );
    }
    // ANCHOR_END: summary_unit_test
}
