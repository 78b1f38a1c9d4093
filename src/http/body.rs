//! `Valid<T>`: the JSON body guard every handler uses instead of `Json<T>`.
//!
//! The body is checked against the very JSON Schema that the OpenAPI document
//! publishes for `T` (the domain types put their rules in it), so every
//! invalid field is reported at once, type errors and unknown fields
//! included, in one pass over the body. Only then is it deserialised, into
//! types that cannot hold a bad value.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock};

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::outcome::Outcome;
use rocket::serde::json::Json;
use rocket::Request;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::RequestBody;
use rocket_okapi::request::OpenApiFromData;
use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::{Keyword, RULES};
use crate::error::{ApiError, FieldError};

/// The contract's body limit; larger bodies get 413.
pub const BODY_LIMIT: u64 = 64 * 1024;

// ANCHOR: valid
/// A JSON request body that has passed its schema and parsed into `T`.
#[derive(Debug)]
pub struct Valid<T>(pub T);

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
// ANCHOR_END: valid

#[rocket::async_trait]
impl<'r, T> FromData<'r> for Valid<T>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read::<T>(req, data).await {
            Ok(value) => Outcome::Success(Valid(value)),
            Err(e) => Outcome::Error((e.stash(req), ())),
        }
    }
}

/// Documented as `Json<T>`'s body; its error statuses are `spec::BODY_ERRORS`,
/// which `docs::finish` adds (okapi's `OpenApiFromData` has no responses).
impl<'r, T> OpenApiFromData<'r> for Valid<T>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    fn request_body(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        <Json<T> as OpenApiFromData>::request_body(gen)
    }
}

async fn read<T>(req: &Request<'_>, data: Data<'_>) -> Result<T, ApiError>
where
    T: DeserializeOwned + JsonSchema + 'static,
{
    let is_json = req.content_type().is_some_and(|ct| {
        ct.top() == "application" && (ct.sub() == "json" || ct.sub().as_str().ends_with("+json"))
    });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = data
        .open(BODY_LIMIT.bytes())
        .into_bytes()
        .await
        .map_err(|e| ApiError::BadRequest(format!("the request body could not be read: {e}")))?;
    if !bytes.is_complete() {
        return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    check::<T>(value)
}

// ANCHOR: check
/// The schema first (every error at once, in time linear in the body), then the type.
pub fn check<T>(value: Value) -> Result<T, ApiError>
where
    T: DeserializeOwned + JsonSchema + 'static,
{
    let validator = validator::<T>();
    let mut errors = Vec::new();
    for e in validator.iter_errors(&value) {
        field_errors(&e, &mut errors);
    }
    if errors.is_empty() {
        return parse::<T>(value).map_err(|e| ApiError::invalid(vec![e]));
    }
    Err(ApiError::invalid(explain(errors)))
}
// ANCHOR_END: check

/// A field error, and whether a domain rule explained it.
struct Found {
    error: FieldError,
    ruled: bool,
}

/// Where a domain rule explains a field, its error replaces the generic ones
/// of the same field (`currency`: "unknown ISO 4217 code" rather than "must
/// be one of the 179 listed values").
fn explain(found: Vec<Found>) -> Vec<FieldError> {
    let ruled: HashSet<String> = found
        .iter()
        .filter(|f| f.ruled)
        .map(|f| f.error.field.clone())
        .collect();
    // One error per field: the detail counts fields.
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|f| f.ruled || !ruled.contains(&f.error.field))
        .filter(|f| seen.insert(f.error.field.clone()))
        .map(|f| f.error)
        .collect()
}

/// Deserialises, naming the field serde stopped at (the schema has passed,
/// so this only fails if a type is stricter than its schema).
fn parse<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        FieldError::new(field, "type", e.into_inner().to_string())
    })
}

/// One compiled validator per body type, built on first use.
fn validator<T: JsonSchema + 'static>() -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<T>();
    if let Some(v) = cache.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return v.clone();
    }
    // Draft 7 rather than OpenAPI 3.0's dialect: it has `null` types that
    // jsonschema understands where OpenAPI 3.0 says `nullable`.
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    let schema = serde_json::to_value(schema).expect("schemars output is JSON");
    // Draft 2019-09 semantics for the formats (draft 7 has no `uuid`).
    let mut options = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true);
    for rule in RULES {
        if let Keyword::Format(name, check) = rule.keyword {
            options = options.with_format(name, check);
        }
    }
    let validator = options
        .build(&schema)
        .expect("schemars output is a valid JSON Schema");
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert_with(|| Arc::new(validator))
        .clone()
}

/// `/items/0/name` becomes `items.0.name`; the whole body is `body`.
fn pointer_to_field(pointer: &str) -> String {
    if pointer.is_empty() {
        return "body".to_owned();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

fn field_errors(e: &jsonschema::ValidationError<'_>, out: &mut Vec<Found>) {
    use jsonschema::error::ValidationErrorKind as K;
    // An optional field that refers to a shared schema (`Option<Currency>`)
    // is "null, or the schema": report what the schema said.
    if let K::AnyOf { context } = e.kind() {
        let not_null = context.iter().find(|branch| {
            !branch
                .iter()
                .any(|e| matches!(e.kind(), K::Type { kind: jsonschema::error::TypeKind::Single(t) } if t.to_string() == "null"))
        });
        if let Some(branch) = not_null {
            branch.iter().for_each(|e| field_errors(e, out));
            return;
        }
    }
    let pointer = e.instance_path().as_str();
    let at = pointer_to_field(pointer);
    // Required and unknown fields are named from their parent object.
    let parent = if pointer.is_empty() { "" } else { at.as_str() };
    let mut push = |field: String, code: &str, message: String, ruled: bool| {
        out.push(Found {
            error: FieldError::new(field, code, message),
            ruled,
        })
    };
    let rule = |matches: &dyn Fn(&Keyword) -> bool| RULES.iter().find(|r| matches(&r.keyword));
    match e.kind() {
        K::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            push(join(parent, name), "required", "is required".into(), false)
        }
        K::AdditionalProperties { unexpected } => {
            for name in unexpected {
                push(
                    join(parent, name),
                    "unknown_field",
                    "is not a known field".into(),
                    false,
                );
            }
        }
        K::Format { format } => {
            match rule(&|k| matches!(k, Keyword::Format(f, _) if f == format)) {
                Some(r) => push(at, r.code, r.message.into(), true),
                None => push(at, "format", format!("must be a valid {format}"), false),
            }
        }
        K::Pattern { pattern } => match rule(&|k| matches!(k, Keyword::Pattern(p) if p == pattern))
        {
            Some(r) => push(at, r.code, r.message.into(), true),
            None => push(at, "pattern", format!("must match {pattern}"), false),
        },
        K::Type { kind } => push(
            at,
            "type",
            format!("must be of type {}", type_name(kind)),
            false,
        ),
        K::MinLength { limit } => push(
            at,
            "length",
            format!("must be at least {limit} characters"),
            false,
        ),
        K::MaxLength { limit } => push(
            at,
            "length",
            format!("must be at most {limit} characters"),
            false,
        ),
        K::Minimum { limit } => push(at, "range", format!("must be at least {limit}"), false),
        K::Maximum { limit } => push(at, "range", format!("must be at most {limit}"), false),
        K::ExclusiveMinimum { limit } => {
            push(at, "range", format!("must be greater than {limit}"), false)
        }
        K::ExclusiveMaximum { limit } => {
            push(at, "range", format!("must be less than {limit}"), false)
        }
        K::Enum { options } => match options.as_array() {
            Some(list) if list.len() > 10 => push(
                at,
                "enum",
                format!("must be one of the {} listed values", list.len()),
                false,
            ),
            _ => push(at, "enum", format!("must be one of {options}"), false),
        },
        K::MinItems { limit } => push(
            at,
            "length",
            format!("must have at least {limit} items"),
            false,
        ),
        K::MaxItems { limit } => push(
            at,
            "length",
            format!("must have at most {limit} items"),
            false,
        ),
        K::MinProperties { .. } => push(at, "empty", "must have at least one field".into(), false),
        K::Not { schema } if *schema == serde_json::json!({"enum": [0]}) => {
            push(at, "non_zero", "must not be 0".into(), false)
        }
        _ => push(at, "invalid", e.to_string(), false),
    }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => t.to_string(),
        jsonschema::error::TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .filter(|t| t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::domain::{Amount, Currency, Text};

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: Text<1, 5>,
        amount: Amount,
        currency: Option<Currency>,
    }

    fn fields(value: Value) -> Vec<(String, String)> {
        match check::<Sample>(value) {
            Err(ApiError::Unprocessable(errors, _)) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn every_structural_error_is_reported_at_once() {
        assert_eq!(
            fields(json!({"amount": "12", "ammount": 1})),
            vec![
                pair("ammount", "unknown_field"),
                pair("amount", "type"),
                pair("name", "required")
            ]
        );
    }

    #[test]
    fn domain_rules_explain_their_fields_and_others_keep_the_generic_code() {
        assert_eq!(
            fields(json!({"name": "toolong", "amount": 0, "currency": "XYZ"})),
            vec![
                pair("amount", "non_zero"),
                pair("currency", "currency"),
                pair("name", "length")
            ]
        );
        assert_eq!(
            fields(json!({"name": "a\u{0}b", "amount": 1})),
            vec![pair("name", "control")]
        );
    }

    #[test]
    fn non_integers_are_not_money() {
        for bad in [json!(1.5), json!(true), json!("12"), json!(null)] {
            assert_eq!(
                fields(json!({"name": "a", "amount": bad})),
                vec![pair("amount", "type")]
            );
        }
    }

    #[test]
    fn a_valid_body_parses() {
        let ok = check::<Sample>(json!({"name": "ok", "amount": 3, "currency": "EUR"})).unwrap();
        assert_eq!(
            (
                ok.name.as_str(),
                ok.amount.get(),
                ok.currency.map(|c| c.code())
            ),
            ("ok", 3, Some("EUR"))
        );
    }

    #[test]
    fn thousands_of_unknown_fields_are_counted_and_the_list_is_capped() {
        let mut body = serde_json::Map::new();
        for i in 0..5000 {
            body.insert(format!("f{i}"), json!(i));
        }
        match check::<Sample>(Value::Object(body)) {
            Err(ApiError::Unprocessable(errors, total)) => {
                assert_eq!(errors.len(), crate::error::MAX_FIELD_ERRORS);
                assert_eq!(total, 5002, "5000 unknown and 2 required");
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }
}
