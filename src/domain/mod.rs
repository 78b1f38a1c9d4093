//! Domain types: input checked once, at the edge, into types that cannot hold
//! a bad value. Each type carries the JSON Schema that documents it (and that
//! `http::Valid` validates bodies against) and the check behind it, written
//! once, beside its unit tests.

mod amount;
mod category;
mod code;
mod currency;
mod email;
mod period;
mod text;
pub mod time;

pub use amount::{Amount, Opening, Positive, Total, MAX_AMOUNT, MAX_BALANCE};
pub use category::Category;
pub use code::SignInCode;
pub use currency::Currency;
pub use email::Email;
pub use period::{Days, Period};
pub use text::Text;

/// A rule that a schema keyword states and Tally explains: a field failing
/// it is reported with this `code` and `message` rather than the keyword's
/// generic ones.
pub struct Rule {
    pub keyword: Keyword,
    pub code: &'static str,
    pub message: &'static str,
}

pub enum Keyword {
    /// A custom `format`, checked by this function.
    Format(&'static str, fn(&str) -> bool),
    /// A `pattern`, as it appears in the schema.
    Pattern(&'static str),
}

/// Every rule of the domain types, for `http::Valid`.
pub const RULES: &[Rule] = &[
    email::RULE,
    currency::RULE,
    category::RULE,
    code::RULE,
    text::RULE,
    time::RULE,
];

/// A schema from its JSON form (domain types build theirs from their constants).
fn schema(value: serde_json::Value) -> schemars::schema::Schema {
    serde_json::from_value(value).expect("a valid schema")
}

#[cfg(test)]
mod tests {
    /// Validates `value` against `T`'s schema (with the domain formats), as `http::Valid` does.
    pub fn schema_accepts<T: schemars::JsonSchema>(value: &serde_json::Value) -> bool {
        let schema = schemars::gen::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<T>();
        let schema = serde_json::to_value(schema).unwrap();
        let mut options = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft201909)
            .should_validate_formats(true);
        for rule in super::RULES {
            if let super::Keyword::Format(name, check) = rule.keyword {
                options = options.with_format(name, check);
            }
        }
        options.build(&schema).unwrap().is_valid(value)
    }

    // ANCHOR: agree
    /// The schema and the parser agree on every sample.
    pub fn agree<T: schemars::JsonSchema + serde::de::DeserializeOwned>(
        samples: &[serde_json::Value],
    ) {
        for value in samples {
            let parsed = serde_json::from_value::<T>(value.clone()).is_ok();
            assert_eq!(
                schema_accepts::<T>(value),
                parsed,
                "schema and parser disagree on {value}"
            );
        }
    }
    // ANCHOR_END: agree
}
