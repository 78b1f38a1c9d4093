//! Rules for money shared by the features: amounts, currencies, categories.

use validator::ValidationError;

/// |amount| ≤ 10^15 minor units, as the contract says.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

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
