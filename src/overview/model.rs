use schemars::JsonSchema;
use serde::Serialize;

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
    pub balance: i64,
    /// The sum of the period's positive movements (≥ 0).
    pub income: i64,
    /// The sum of the period's negative movements, as a positive number (≥ 0).
    pub expense: i64,
    /// How many accounts are in this currency.
    pub accounts: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CategoryTotals {
    pub currency: String,
    /// `null` groups the movements without a category.
    #[schemars(schema_with = "crate::docs::nullable_string")]
    pub category: Option<String>,
    /// ≥ 0.
    pub income: i64,
    /// ≥ 0.
    pub expense: i64,
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
