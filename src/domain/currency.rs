//! A currency: an ISO 4217 alphabetic code, upper case.

use std::fmt;

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Keyword, Rule};

pub const RULE: Rule = Rule {
    keyword: Keyword::Format("iso-4217", Currency::is_valid),
    code: "currency",
    message: "unknown ISO 4217 code",
};

/// A code from the ISO 4217 list of the `iso_currency` crate, e.g. `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn is_valid(code: &str) -> bool {
        iso_currency::Currency::from_code(code).is_some()
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }
}

impl TryFrom<String> for Currency {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        iso_currency::Currency::from_code(&s)
            .map(Currency)
            .ok_or(RULE.message)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One component of the document: every currency field refers to it, and it
/// lists the codes, so what the document calls valid is what Tally accepts.
impl JsonSchema for Currency {
    fn schema_name() -> String {
        "Currency".to_owned()
    }

    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        use iso_currency::IntoEnumIterator;
        let mut codes: Vec<&str> = iso_currency::Currency::iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        super::schema(serde_json::json!({
            "type": "string",
            "format": "iso-4217",
            "description": "ISO 4217 alphabetic code in upper case, e.g. `EUR`.",
            "enum": codes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn currencies_come_from_the_iso_list() {
        for ok in ["EUR", "USD", "JPY", "CHF"] {
            assert!(Currency::is_valid(ok), "{ok}");
        }
        for bad in ["eur", "EURO", "ABC", "", "QQQ"] {
            assert!(!Currency::is_valid(bad), "{bad}");
        }
        crate::domain::tests::agree::<Currency>(&[
            json!("EUR"),
            json!("JPY"),
            json!("eur"),
            json!("XYZ"),
            json!(""),
            json!(978),
        ]);
    }
}
