use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Amount;

/// Income (positive) or expense (negative) on an account.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[schemars(example = "movement_example")]
pub struct Movement {
    /// The movement's id (UUID v7).
    pub id: Uuid,
    pub account_id: Uuid,
    /// Minor units: positive for income, negative for expense; never 0.
    pub amount: i64,
    /// 1 to 200 characters.
    pub description: String,
    /// 1 to 50 characters of `a-z 0-9 _ -`, or `null`. `opening_balance` and
    /// `transfer` are what Tally itself uses for opening balances and transfers.
    #[schemars(schema_with = "crate::spec::nullable_string")]
    pub category: Option<String>,
    /// When it happened (defaults to when it was recorded).
    pub occurred_at: DateTime<Utc>,
    /// When Tally recorded it.
    pub created_at: DateTime<Utc>,
    /// Set on both legs of a transfer.
    #[schemars(schema_with = "crate::spec::nullable_uuid")]
    pub transfer_id: Option<Uuid>,
}

fn movement_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a5b2-8e1f-7a2b-9c3d-4e5f6a7b8c9d",
        "account_id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
        "amount": -4250,
        "description": "Groceries",
        "category": "food",
        "occurred_at": "2026-11-20T18:30:00Z",
        "created_at": "2026-11-21T10:05:00Z",
        "transfer_id": null
    })
}

/// What a movement records, before it has an id.
pub struct Entry<'a> {
    pub amount: Amount,
    pub description: &'a str,
    pub category: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
}

/// Money to move between two of a user's accounts.
pub struct Move<'a> {
    pub from: Uuid,
    pub to: Uuid,
    pub amount: crate::domain::Positive,
    pub description: Option<&'a str>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// The two legs of a transfer.
pub struct Legs {
    /// The `transfer_id` of both.
    pub id: Uuid,
    pub from: Movement,
    pub to: Movement,
}
