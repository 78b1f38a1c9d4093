//! Money in integer minor units: 12.34 EUR is `1234`.

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// |amount| ≤ 10^15 minor units, as the contract says.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// The largest balance an account may reach, either way: far beyond any real
/// account and well inside a 64-bit integer.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000_000;

fn amount_schema(min: i64, extra: serde_json::Value) -> Schema {
    let mut schema = serde_json::json!({
        "type": "integer",
        "format": "int64",
        "minimum": min,
        "maximum": MAX_AMOUNT,
    });
    if let (Some(schema), Some(extra)) = (schema.as_object_mut(), extra.as_object()) {
        schema.extend(extra.clone());
    }
    super::schema(schema)
}

// ANCHOR: amount
/// A movement's amount: non-zero, positive for income and negative for
/// expense, |amount| ≤ 10^15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

// ANCHOR: amount_check
impl TryFrom<i64> for Amount {
    type Error = &'static str;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        match n {
            0 => Err("must not be 0"),
            n if n.unsigned_abs() <= MAX_AMOUNT as u64 => Ok(Amount(n)),
            _ => Err("must be at most 10^15 either way"),
        }
    }
}
// ANCHOR_END: amount_check
// ANCHOR_END: amount

impl From<Amount> for i64 {
    fn from(a: Amount) -> i64 {
        a.0
    }
}

impl Amount {
    pub fn get(self) -> i64 {
        self.0
    }
}

// ANCHOR: amount_schema
impl JsonSchema for Amount {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Amount".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        amount_schema(-MAX_AMOUNT, serde_json::json!({"not": {"enum": [0]}}))
    }
}
// ANCHOR_END: amount_schema

/// An account's opening balance: |amount| ≤ 10^15, 0 or negative allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Opening(i64);

impl TryFrom<i64> for Opening {
    type Error = &'static str;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        if n.unsigned_abs() <= MAX_AMOUNT as u64 {
            Ok(Opening(n))
        } else {
            Err("must be at most 10^15 either way")
        }
    }
}

impl From<Opening> for i64 {
    fn from(a: Opening) -> i64 {
        a.0
    }
}

impl Opening {
    /// The movement that records it, unless it is 0.
    pub fn amount(self) -> Option<Amount> {
        Amount::try_from(self.0).ok()
    }
}

impl JsonSchema for Opening {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Opening".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        amount_schema(-MAX_AMOUNT, serde_json::json!({"default": 0}))
    }
}

/// An amount to move: more than 0 and at most 10^15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Positive(i64);

impl TryFrom<i64> for Positive {
    type Error = &'static str;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        if (1..=MAX_AMOUNT).contains(&n) {
            Ok(Positive(n))
        } else {
            Err("must be 1 to 10^15")
        }
    }
}

impl From<Positive> for i64 {
    fn from(a: Positive) -> i64 {
        a.0
    }
}

impl Positive {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl JsonSchema for Positive {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Positive".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        amount_schema(1, serde_json::json!({}))
    }
}

/// An exact sum of amounts or balances: 128 bits, so no number of 64-bit
/// values Tally can store makes it overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Total(pub i128);

impl Total {
    /// Sums SQL gives exactly on both backends: the high and the low 32 bits
    /// of each value summed apart (each partial sum fits in 64 bits), put
    /// back together here.
    pub fn from_parts(high: i64, low: i64) -> Total {
        Total((i128::from(high) << 32) + i128::from(low))
    }
}

impl std::ops::Add for Total {
    type Output = Total;
    fn add(self, other: Total) -> Total {
        Total(self.0 + other.0)
    }
}

impl JsonSchema for Total {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        "Total".to_owned()
    }
    fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
        super::schema(serde_json::json!({
            "type": "integer",
            "description": "An exact sum in minor units; it can exceed 64 bits."
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::tests::agree;

    fn edges() -> Vec<serde_json::Value> {
        vec![
            json!(0),
            json!(1),
            json!(-1),
            json!(MAX_AMOUNT),
            json!(-MAX_AMOUNT),
            json!(MAX_AMOUNT + 1),
            json!(-MAX_AMOUNT - 1),
            json!(i64::MAX),
            json!(1.5),
            json!("12"),
            json!(true),
            json!(null),
        ]
    }

    #[test]
    fn an_amount_is_a_non_zero_integer_within_ten_to_the_fifteen() {
        assert!(Amount::try_from(0).is_err());
        assert_eq!(Amount::try_from(-MAX_AMOUNT).unwrap().get(), -MAX_AMOUNT);
        assert!(Amount::try_from(MAX_AMOUNT + 1).is_err());
        assert!(Amount::try_from(i64::MIN).is_err(), "abs would overflow");
        agree::<Amount>(&edges());
    }

    #[test]
    fn an_opening_balance_may_be_zero_or_negative() {
        assert_eq!(Opening::try_from(0).unwrap().amount(), None);
        assert_eq!(
            Opening::try_from(-5).unwrap().amount(),
            Some(Amount::try_from(-5).unwrap())
        );
        agree::<Opening>(&edges());
    }

    #[test]
    fn a_transfer_moves_a_positive_amount() {
        assert!(Positive::try_from(0).is_err());
        assert!(Positive::try_from(-1).is_err());
        agree::<Positive>(&edges());
    }

    #[test]
    fn totals_put_high_and_low_halves_back_together() {
        for v in [
            0_i64,
            1,
            -1,
            MAX_BALANCE,
            -MAX_BALANCE,
            i64::MAX,
            i64::MIN,
            4_294_967_296,
            -4_294_967_297,
        ] {
            // What SQL computes: an arithmetic shift and a mask.
            let (high, low) = (v >> 32, v & 0xFFFF_FFFF);
            assert_eq!(Total::from_parts(high, low), Total(i128::from(v)), "{v}");
        }
        let sum = (0..1000).map(|_| Total::from_parts(i64::MAX >> 32, i64::MAX & 0xFFFF_FFFF));
        assert_eq!(
            sum.fold(Total(0), |a, b| a + b),
            Total(1000 * i128::from(i64::MAX))
        );
    }

    #[test]
    fn balances_leave_room_for_exact_sums() {
        // Summing two balances can never overflow a 64-bit integer.
        assert!(MAX_BALANCE.checked_mul(2).is_some());
    }
}
