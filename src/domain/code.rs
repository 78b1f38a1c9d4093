//! The 6-digit code of a sign-in e-mail.

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Keyword, Rule};

pub const PATTERN: &str = "^[0-9]{6}$";

pub const RULE: Rule = Rule {
    keyword: Keyword::Pattern(PATTERN),
    code: "pattern",
    message: "must be the 6 digits from the e-mail",
};

/// Exactly 6 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SignInCode(String);

impl SignInCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SignInCode {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(SignInCode(s))
        } else {
            Err(RULE.message)
        }
    }
}

impl JsonSchema for SignInCode {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "SignInCode".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        super::schema(serde_json::json!({"type": "string", "pattern": PATTERN}))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_code_is_six_ascii_digits() {
        crate::domain::tests::agree::<super::SignInCode>(&[
            json!("123456"),
            json!("000000"),
            json!("12345"),
            json!("1234567"),
            json!("12345a"),
            json!("١٢٣٤٥٦"),
            json!(123456),
        ]);
    }
}
