use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::{account_example, Account};
use crate::auth::User;

/// The signed-in user.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "me_example")]
pub struct Me {
    /// The user's id (UUID v7).
    pub id: Uuid,
    /// The address the user signs in with, in lower case.
    pub email: String,
    /// When the user first signed in.
    pub created_at: DateTime<Utc>,
    /// Every account of the user, newest first.
    pub accounts: Vec<Account>,
}

impl Me {
    pub fn new(user: User, accounts: Vec<Account>) -> Self {
        Me {
            id: user.id,
            email: user.email,
            created_at: user.created_at,
            accounts,
        }
    }
}

fn me_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a5b2-6b3c-7d4e-8f5a-6b7c8d9e0f1a",
        "email": "ana@example.com",
        "created_at": "2026-11-21T10:00:00Z",
        "accounts": [account_example()]
    })
}
