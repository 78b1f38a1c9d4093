//! An e-mail address, the one thing a user signs in with.

use std::fmt;

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::Deserialize;
use validator::ValidateEmail;

use super::{Keyword, Rule};

pub const MAX_LEN: usize = 254;

pub const RULE: Rule = Rule {
    keyword: Keyword::Format("email", Email::is_valid),
    code: "email",
    message: "must be an e-mail address",
};

/// A syntactically valid address of at most 254 characters, kept in lower
/// case: addresses compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

impl Email {
    /// The `validator` crate's check (the HTML5 definition), and an address
    /// lettre can send to (an IP literal like `q@[127.0.0.1]` passes the
    /// first, not the second); the schema's `format: email` is this check.
    pub fn is_valid(s: &str) -> bool {
        s.validate_email() && s.parse::<lettre::Address>().is_ok() && !s.ends_with(']')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.chars().count() > MAX_LEN {
            return Err("must be at most 254 characters");
        }
        if !Email::is_valid(&s) {
            return Err(RULE.message);
        }
        Ok(Email(s.to_lowercase()))
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Email {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Email".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        super::schema(serde_json::json!({
            "type": "string", "format": "email", "maxLength": MAX_LEN
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn addresses_are_checked_and_kept_in_lower_case() {
        let e = Email::try_from("Ana@Example.COM".to_owned()).unwrap();
        assert_eq!(e.as_str(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "a b@example.com",
            "a\u{0}@x.io",
            "q@[127.0.0.1]",
        ] {
            assert!(Email::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::try_from(long).is_err());
        crate::domain::tests::agree::<Email>(&[
            json!("ana@example.com"),
            json!("not-an-address"),
            json!(""),
            json!("a\u{0}@x.io"),
            json!(format!("{}@example.com", "a".repeat(250))),
            json!(1),
        ]);
    }
}
