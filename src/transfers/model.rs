use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{time, Positive, Text};
use crate::ledger::{Legs, Move, Movement};

/// Money to move between two of your accounts in the same currency.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = "create_example")]
pub struct TransferCreate {
    pub from_account_id: Uuid,
    /// Another of your accounts, in the same currency.
    pub to_account_id: Uuid,
    /// Minor units, more than 0 and at most 10^15.
    pub amount: Positive,
    /// 1 to 200 characters; defaults to `Transfer`.
    pub description: Option<Text<1, 200>>,
    /// RFC 3339 with an offset; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl TransferCreate {
    pub fn order(&self) -> Move<'_> {
        Move {
            from: self.from_account_id,
            to: self.to_account_id,
            amount: self.amount,
            description: self.description.as_ref().map(|d| d.as_str()),
            occurred_at: self.occurred_at.map(time::micros),
        }
    }
}

fn create_example() -> serde_json::Value {
    serde_json::json!({
        "from_account_id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
        "to_account_id": "0193a5b2-9d8c-7b6a-8f9e-0d1c2b3a4f5e",
        "amount": 20000,
        "description": "Savings"
    })
}

/// The two legs of a transfer: an expense on one account, income on the other.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "transfer_example")]
pub struct Transfer {
    /// The `transfer_id` of both legs.
    pub id: Uuid,
    /// The negative leg, on `from_account_id`.
    pub from_movement: Movement,
    /// The positive leg, on `to_account_id`.
    pub to_movement: Movement,
}

impl From<Legs> for Transfer {
    fn from(legs: Legs) -> Self {
        Transfer {
            id: legs.id,
            from_movement: legs.from,
            to_movement: legs.to,
        }
    }
}

fn transfer_example() -> serde_json::Value {
    let leg = |id: &str, account: &str, amount: i64| {
        serde_json::json!({
            "id": id, "account_id": account, "amount": amount, "description": "Savings",
            "category": "transfer", "occurred_at": "2026-11-21T10:10:00Z",
            "created_at": "2026-11-21T10:10:00Z", "transfer_id": "0193a5b3-1a2b-7c3d-8e4f-5a6b7c8d9e0f"
        })
    };
    serde_json::json!({
        "id": "0193a5b3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "from_movement": leg("0193a5b3-1a2b-7c3d-8e4f-000000000001", "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", -20000),
        "to_movement": leg("0193a5b3-1a2b-7c3d-8e4f-000000000002", "0193a5b2-9d8c-7b6a-8f9e-0d1c2b3a4f5e", 20000)
    })
}
