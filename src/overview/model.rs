use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::Total;

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
