//! A movement's category: a short slug people choose (`food`, `rent`).

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Keyword, Rule};
use crate::error::ApiError;

pub const PATTERN: &str = "^[a-z0-9_-]+$";

pub const RULE: Rule = Rule {
    keyword: Keyword::Pattern(PATTERN),
    code: "pattern",
    message: "must be made of a-z 0-9 _ -",
};

/// 1 to 50 characters of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

impl Category {
    /// What Tally itself files opening balances under.
    pub const OPENING_BALANCE: &'static str = "opening_balance";
    /// What Tally itself files both legs of a transfer under.
    pub const TRANSFER: &'static str = "transfer";

    pub fn is_valid(s: &str) -> bool {
        (1..=50).contains(&s.len())
            && s.bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
    }

    /// A category from a query parameter: 422 naming `field` when it is not one.
    pub fn parse(field: &str, s: &str) -> Result<Self, ApiError> {
        if Self::is_valid(s) {
            Ok(Category(s.to_owned()))
        } else {
            Err(ApiError::field(field, RULE.code, RULE.message))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Category {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if Category::is_valid(&s) {
            Ok(Category(s))
        } else {
            Err(RULE.message)
        }
    }
}

impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}

impl Category {
    /// The schema of a category, for a query parameter.
    pub fn schema_object() -> schemars::schema::SchemaObject {
        match Self::json_schema(&mut SchemaGenerator::default()) {
            Schema::Object(o) => o,
            Schema::Bool(_) => unreachable!("a category schema is an object"),
        }
    }
}

impl JsonSchema for Category {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Category".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        super::schema(serde_json::json!({
            "type": "string", "minLength": 1, "maxLength": 50, "pattern": PATTERN
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn categories_are_short_lowercase_slugs() {
        for ok in ["food", "a", "x-1_2", &"a".repeat(50)] {
            assert!(Category::is_valid(ok), "{ok}");
        }
        for bad in ["", "Food", "a b", "é", "a\u{0}", &"a".repeat(51)] {
            assert!(!Category::is_valid(bad), "{bad:?}");
            assert_eq!(
                Category::parse("category", bad).unwrap_err().status().code,
                422
            );
        }
        crate::domain::tests::agree::<Category>(&[
            json!("food"),
            json!("Food"),
            json!(""),
            json!("a".repeat(51)),
            json!("a b"),
            json!(7),
        ]);
    }
}
