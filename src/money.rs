//! Rules for money shared by the features: amounts, currencies, categories.

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use validator::ValidationError;

/// |amount| ≤ 10^15 minor units, as the contract says.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// The schema of a currency field: the ISO 4217 codes, listed, so that what
/// the document calls valid is exactly what Tally accepts.
pub fn currency_schema(_gen: &mut SchemaGenerator) -> Schema {
    use iso_currency::IntoEnumIterator;
    let mut codes: Vec<&str> = iso_currency::Currency::iter().map(|c| c.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    schema(serde_json::json!({
        "type": "string",
        "description": "ISO 4217 alphabetic code in upper case, e.g. `EUR`.",
        "enum": codes,
    }))
}

/// A movement's amount: a non-zero integer of minor units, |amount| ≤ 10^15.
pub fn amount_schema(_gen: &mut SchemaGenerator) -> Schema {
    schema(serde_json::json!({
        "type": "integer",
        "format": "int64",
        "minimum": -MAX_AMOUNT,
        "maximum": MAX_AMOUNT,
        "not": {"enum": [0]},
    }))
}

fn schema(value: serde_json::Value) -> Schema {
    serde_json::from_value(value).expect("a valid schema")
}

/// A code from the ISO 4217 list (the iso_currency crate), upper case.
pub fn iso_currency(code: &str) -> Result<(), ValidationError> {
    match iso_currency::Currency::from_code(code) {
        Some(_) => Ok(()),
        None => Err(ValidationError::new("currency").with_message("unknown ISO 4217 code".into())),
    }
}

/// Movements record a change: zero is not one.
pub fn non_zero(amount: i64) -> Result<(), ValidationError> {
    if amount == 0 {
        return Err(ValidationError::new("non_zero").with_message("must not be 0".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_come_from_the_iso_list() {
        for ok in ["EUR", "USD", "JPY", "CHF"] {
            assert!(iso_currency(ok).is_ok(), "{ok}");
        }
        for bad in ["eur", "EURO", "ABC", "", "QQQ"] {
            assert!(iso_currency(bad).is_err(), "{bad}");
        }
    }
}
