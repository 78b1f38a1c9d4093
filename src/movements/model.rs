use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{time, Amount, Category, Text};
use crate::ledger::Entry;

// ANCHOR: movement_create
/// A new movement.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = "create_example")]
pub struct MovementCreate {
    /// Minor units, non-zero: positive for income, negative for expense; |amount| ≤ 10^15.
    pub amount: Amount,
    /// 1 to 200 characters.
    pub description: Text<1, 200>,
    /// 1 to 50 characters of `a-z 0-9 _ -`.
    pub category: Option<Category>,
    /// RFC 3339 with an offset; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
}
// ANCHOR_END: movement_create

impl MovementCreate {
    /// The ledger entry this body asks for, at `now` unless it says when.
    pub fn entry(&self, now: DateTime<Utc>) -> Entry<'_> {
        Entry {
            amount: self.amount,
            description: self.description.as_str(),
            category: self.category.as_ref().map(Category::as_str),
            occurred_at: self.occurred_at.map(time::micros).unwrap_or(now),
        }
    }
}

fn create_example() -> serde_json::Value {
    serde_json::json!({"amount": -4250, "description": "Groceries", "category": "food", "occurred_at": "2026-11-20T18:30:00Z"})
}
