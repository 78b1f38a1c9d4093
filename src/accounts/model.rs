use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::money;

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

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "checking" => AccountKind::Checking,
            "savings" => AccountKind::Savings,
            "credit_card" => AccountKind::CreditCard,
            "cash" => AccountKind::Cash,
            "investment" => AccountKind::Investment,
            "other" => AccountKind::Other,
            _ => return None,
        })
    }
}

impl TryFrom<String> for AccountKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AccountKind::parse(&s).ok_or_else(|| format!("unknown account kind {s}"))
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

impl Account {
    /// A strong validator that changes whenever any field changes.
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.id.simple(), self.version)
    }
}

pub(crate) fn account_example() -> serde_json::Value {
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

/// A new account.
#[derive(Debug, Serialize, Deserialize, JsonSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schemars(example = "create_example")]
pub struct AccountCreate {
    /// 1 to 100 characters.
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    pub kind: AccountKind,
    /// ISO 4217 alphabetic code in upper case, e.g. `EUR`; fixed for the account's life.
    #[validate(custom(function = "money::iso_currency"))]
    #[schemars(schema_with = "money::currency_schema")]
    pub currency: String,
    /// Recorded as the account's first movement (category `opening_balance`) when not 0;
    /// may be negative. Minor units.
    #[validate(range(min = -1_000_000_000_000_000_i64, max = 1_000_000_000_000_000_i64))]
    #[serde(default)]
    pub opening_balance: i64,
}

fn create_example() -> serde_json::Value {
    serde_json::json!({"name": "Everyday", "kind": "checking", "currency": "EUR", "opening_balance": 125000})
}

/// Changes to an account; at least one field. The currency cannot change.
#[derive(Debug, Serialize, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "not_empty"))]
pub struct AccountUpdate {
    #[validate(length(min = 1, max = 100))]
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<AccountKind>,
}

/// Written by hand because the derive cannot say "at least one field" nor
/// "absent but never null"; `not_empty` and the field rules check the same.
impl JsonSchema for AccountUpdate {
    fn schema_name() -> String {
        "AccountUpdate".to_owned()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let kind = serde_json::to_value(gen.subschema_for::<AccountKind>()).expect("a schema");
        serde_json::from_value(serde_json::json!({
            "description": "Changes to an account; at least one field. The currency cannot change.",
            "type": "object",
            "minProperties": 1,
            "additionalProperties": false,
            "properties": {
                "name": {"description": "1 to 100 characters.", "type": "string", "minLength": 1, "maxLength": 100},
                "kind": kind,
            },
            "examples": [{"name": "Household"}],
        }))
        .expect("a schema")
    }
}

fn not_empty(update: &AccountUpdate) -> Result<(), ValidationError> {
    if update.name.is_none() && update.kind.is_none() {
        return Err(ValidationError::new("empty")
            .with_message("give at least one of `name` and `kind`".into()));
    }
    Ok(())
}
