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
pub struct Months(pub u32);

impl QueryParam for Months {
    const NAME: &'static str = "months";
    const DESCRIPTION: &'static str =
        "How many calendar months (UTC), the current one included: 1 to 120 (default 12).";
    const ERRORS: &'static [u16] = &[400, 422];

    fn schema() -> SchemaObject {
        spec::schema(serde_json::json!({
            "type": "integer", "format": "int32", "minimum": 1, "maximum": 120, "default": 12
        }))
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw else {
            return Ok(Months(12));
        };
        let n: i64 = raw.trim().parse().map_err(|_| {
            ApiError::BadRequest(format!("`months` must be an integer, got `{raw}`"))
        })?;
        if !(1..=120).contains(&n) {
            return Err(ApiError::field("months", "range", "must be 1 to 120"));
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
    /// Folds daily totals (`day`, income, expense) into the `months` months
    /// that end with the month of `today`, empty months included.
    pub fn new(
        account_id: Uuid,
        currency: String,
        months: u32,
        today: NaiveDate,
        days: Vec<(NaiveDate, Total, Total)>,
    ) -> Self {
        let mut first = today.with_day(1).expect("day 1 exists");
        let mut months: Vec<Month> = (0..months)
            .map(|i| {
                let month = if i == 0 {
                    first
                } else {
                    first = first
                        .checked_sub_months(chrono::Months::new(1))
                        .expect("within chrono's range");
                    first
                };
                Month {
                    month: month.format("%Y-%m").to_string(),
                    income: Total(0),
                    expense: Total(0),
                    net: Total(0),
                }
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
