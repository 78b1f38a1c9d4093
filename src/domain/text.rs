//! Text for people to read: a length in characters and no control characters,
//! which PostgreSQL's `TEXT` could not even store (NUL) and no name needs.

use std::fmt;

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Keyword, Rule};

/// No C0 control character (U+0000 to U+001F), as a schema `pattern`.
pub const CONTROL_FREE: &str = r"^[^\u0000-\u001F]*$";

pub const RULE: Rule = Rule {
    keyword: Keyword::Pattern(CONTROL_FREE),
    code: "control",
    message: "must not contain control characters (U+0000 to U+001F)",
};

// ANCHOR: text
/// `MIN` to `MAX` characters, none of them a control character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub fn parse(s: String) -> Result<Self, &'static str> {
        let n = s.chars().count();
        if n < MIN || n > MAX {
            return Err("has the wrong length");
        }
        if s.chars().any(|c| c < '\u{20}') {
            return Err(RULE.message);
        }
        Ok(Text(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
// ANCHOR_END: text

impl<const MIN: usize, const MAX: usize> TryFrom<String> for Text<MIN, MAX> {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Text::parse(s)
    }
}

impl<const MIN: usize, const MAX: usize> From<Text<MIN, MAX>> for String {
    fn from(t: Text<MIN, MAX>) -> String {
        t.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ANCHOR: text_schema
impl<const MIN: usize, const MAX: usize> JsonSchema for Text<MIN, MAX> {
    fn is_referenceable() -> bool {
        false
    }

    fn schema_name() -> String {
        format!("Text_{MIN}_{MAX}")
    }

    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        super::schema(serde_json::json!({
            "type": "string",
            "minLength": MIN,
            "maxLength": MAX,
            "pattern": CONTROL_FREE,
        }))
    }
}
// ANCHOR_END: text_schema

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    type Name = Text<1, 5>;

    #[test]
    fn lengths_count_characters_and_control_characters_are_refused() {
        assert!(Name::parse("abcde".into()).is_ok());
        assert!(Name::parse("ééééé".into()).is_ok(), "characters, not bytes");
        for bad in ["", "abcdef", "a\u{0}b", "a\nb", "\t", "a\u{1f}"] {
            assert!(Name::parse(bad.into()).is_err(), "{bad:?}");
        }
        assert!(Name::parse("a\u{7f}b".into()).is_ok(), "DEL is not C0");
    }

    // ANCHOR: schema_agrees
    #[test]
    fn the_schema_says_the_same() {
        crate::domain::tests::agree::<Name>(&[
            json!("abc"),
            json!("ééééé"),
            json!(""),
            json!("abcdef"),
            json!("a\u{0}b"),
            json!("a\nb"),
            json!("a\u{1f}"),
            json!(" "),
            json!(5),
        ]);
    }
    // ANCHOR_END: schema_agrees
}
