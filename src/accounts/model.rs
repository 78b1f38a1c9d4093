use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Currency, Opening, Text};
use crate::http::Versioned;

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Checking,
    Savings,
    CreditCard,
    Cash,
    Investment,
    Other,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Checking => "checking",
            AccountKind::Savings => "savings",
            AccountKind::CreditCard => "credit_card",
            AccountKind::Cash => "cash",
            AccountKind::Investment => "investment",
            AccountKind::Other => "other",
        }
    }
}

impl TryFrom<String> for AccountKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s))
            .map_err(|e| format!("unknown account kind: {e}"))
    }
}

/// An account and its balance.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[schemars(example = "account_example")]
pub struct Account {
    /// The account's id (UUID v7).
    pub id: Uuid,
    /// A name for people, 1 to 100 characters.
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: AccountKind,
    /// ISO 4217 code; fixed at creation.
    #[schemars(with = "crate::domain::Currency")]
    pub currency: String,
    /// The sum of the account's movements, in minor units.
    pub balance: i64,
    pub created_at: DateTime<Utc>,
    /// Changes whenever any field changes, the balance included.
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    #[schemars(skip)]
    pub version: i64,
}

impl Versioned for Account {
    fn etag(&self) -> String {
        format!("\"{}-{}\"", self.id.simple(), self.version)
    }
}

pub fn account_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
        "name": "Everyday",
        "kind": "checking",
        "currency": "EUR",
        "balance": 125000,
        "created_at": "2026-11-21T10:00:00Z",
        "updated_at": "2026-11-21T10:05:00Z"
    })
}

// ANCHOR: account_create_body
/// A new account.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = "create_example")]
pub struct AccountCreate {
    /// 1 to 100 characters.
    pub name: Text<1, 100>,
    pub kind: AccountKind,
    /// Fixed for the account's life.
    pub currency: Currency,
    /// Recorded as the account's first movement (category `opening_balance`) when not 0;
    /// may be negative. Minor units, |amount| ≤ 10^15.
    #[serde(default)]
    pub opening_balance: Opening,
}
// ANCHOR_END: account_create_body

fn create_example() -> serde_json::Value {
    serde_json::json!({"name": "Everyday", "kind": "checking", "currency": "EUR", "opening_balance": 125000})
}

/// Changes to an account; at least one field. The currency cannot change.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    #[serde(default)]
    pub name: Option<Text<1, 100>>,
    #[serde(default)]
    pub kind: Option<AccountKind>,
}

/// Written by hand because the derive cannot say "at least one field" nor
/// "absent but never null".
impl JsonSchema for AccountUpdate {
    fn schema_name() -> String {
        "AccountUpdate".to_owned()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let kind = serde_json::to_value(gen.subschema_for::<AccountKind>()).expect("a schema");
        let mut name = serde_json::to_value(gen.subschema_for::<Text<1, 100>>()).expect("a schema");
        name["description"] = "1 to 100 characters.".into();
        serde_json::from_value(serde_json::json!({
            "description": "Changes to an account; at least one field. The currency cannot change.",
            "type": "object",
            "minProperties": 1,
            "additionalProperties": false,
            "properties": {"name": name, "kind": kind},
            "examples": [{"name": "Household"}],
        }))
        .expect("a schema")
    }
}
