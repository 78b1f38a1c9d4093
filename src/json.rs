//! `Valid<T>`: the JSON body guard every handler uses instead of `Json<T>`.
//!
//! The body is checked against the very JSON Schema that the OpenAPI document
//! publishes for `T` (schemars reads the `#[validate]` attributes into it), so
//! every invalid field is reported at once, type errors and unknown fields
//! included; then `validator` runs the rules a schema cannot say (`custom`).

use std::any::TypeId;
use std::collections::HashMap;
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
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// The contract's body limit; larger bodies get 413.
pub const BODY_LIMIT: u64 = 64 * 1024;

/// A JSON request body that has passed its schema and its validation rules.
#[derive(Debug)]
pub struct Valid<T>(pub T);

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for Valid<T>
where
    T: DeserializeOwned + JsonSchema + Validate + Send + 'static,
{
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read::<T>(req, data).await {
            Ok(value) => Outcome::Success(Valid(value)),
            Err(e) => Outcome::Error((e.stash(req), ())),
        }
    }
}

impl<'r, T> OpenApiFromData<'r> for Valid<T>
where
    T: DeserializeOwned + JsonSchema + Validate + Send + 'static,
{
    fn request_body(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        <Json<T> as OpenApiFromData>::request_body(gen)
    }
}

async fn read<T>(req: &Request<'_>, data: Data<'_>) -> Result<T, ApiError>
where
    T: DeserializeOwned + JsonSchema + Validate + 'static,
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

/// Schema first (all structural errors at once), then the type, then the rules.
pub fn check<T>(value: Value) -> Result<T, ApiError>
where
    T: DeserializeOwned + JsonSchema + Validate + 'static,
{
    let compiled = compiled::<T>();
    let mut errors: Vec<FieldError> = compiled
        .validator
        .iter_errors(&value)
        .flat_map(|e| field_errors(&e))
        .collect();
    if errors.is_empty() {
        let parsed = parse::<T>(value).map_err(|e| unprocessable(vec![e]))?;
        return match parsed.validate() {
            Ok(()) => Ok(parsed),
            Err(rules) => Err(unprocessable(flatten(&rules, ""))),
        };
    }
    // The rules the schema does not say (`custom`) still run: a field whose
    // value cannot even deserialise is swapped for the schema's example value,
    // the others keep theirs. A rule's error is more specific than the
    // schema's for the same field (`currency`: "unknown ISO 4217 code" rather
    // than "not in the list"), so it replaces it.
    if let (Value::Object(fields), Some(Value::Object(example))) = (&value, &compiled.example) {
        let mut candidate = example.clone();
        for (name, v) in fields {
            if !errors
                .iter()
                .any(|e| e.field == *name && e.code == "unknown_field")
            {
                candidate.insert(name.clone(), v.clone());
            }
        }
        let mut swapped: Vec<String> = Vec::new();
        let parsed = loop {
            match parse::<T>(Value::Object(candidate.clone())) {
                Ok(parsed) => break Some(parsed),
                Err(e) => match example.get(&e.field) {
                    Some(good) if !swapped.contains(&e.field) => {
                        candidate.insert(e.field.clone(), good.clone());
                        swapped.push(e.field);
                    }
                    _ => {
                        if !errors.iter().any(|known| known.field == e.field) {
                            errors.push(e);
                        }
                        break None;
                    }
                },
            }
        };
        if let Some(Err(rules)) = parsed.map(|p| p.validate()) {
            for e in flatten(&rules, "") {
                if fields.contains_key(&e.field) && !swapped.contains(&e.field) {
                    errors.retain(|known| known.field != e.field);
                    errors.push(e);
                }
            }
        }
    }
    Err(unprocessable(errors))
}

/// Deserialises, naming the field serde stopped at (for what the schema cannot check).
fn parse<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        FieldError::new(field, "type", e.into_inner().to_string())
    })
}

fn unprocessable(mut errors: Vec<FieldError>) -> ApiError {
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    ApiError::Unprocessable(errors)
}

struct Compiled {
    validator: jsonschema::Validator,
    /// The type's `#[schemars(example)]`: a valid body.
    example: Option<Value>,
}

/// One compiled validator per body type, built on first use.
fn compiled<T: JsonSchema + 'static>() -> Arc<Compiled> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<Compiled>>>> = OnceLock::new();
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
    let example = schema
        .schema
        .metadata
        .as_ref()
        .and_then(|m| m.examples.first().cloned());
    let schema = serde_json::to_value(schema).expect("schemars output is JSON");
    // Draft 2019-09 semantics for the formats (draft 7 has no `uuid`).
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schemars output is a valid JSON Schema");
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert_with(|| Arc::new(Compiled { validator, example }))
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

fn field_errors(e: &jsonschema::ValidationError<'_>) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as K;
    let pointer = e.instance_path().as_str();
    let at = pointer_to_field(pointer);
    // Required and unknown fields are named from their parent object.
    let parent = if pointer.is_empty() { "" } else { at.as_str() };
    let one = |code: &str, message: String| vec![FieldError::new(at.clone(), code, message)];
    match e.kind() {
        K::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![FieldError::new(
                join(parent, name),
                "required",
                "is required",
            )]
        }
        K::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                FieldError::new(join(parent, name), "unknown_field", "is not a known field")
            })
            .collect(),
        K::Type { kind } => one("type", format!("must be of type {}", type_name(kind))),
        K::MinLength { limit } => one("length", format!("must be at least {limit} characters")),
        K::MaxLength { limit } => one("length", format!("must be at most {limit} characters")),
        K::Minimum { limit } => one("range", format!("must be at least {limit}")),
        K::Maximum { limit } => one("range", format!("must be at most {limit}")),
        K::ExclusiveMinimum { limit } => one("range", format!("must be greater than {limit}")),
        K::ExclusiveMaximum { limit } => one("range", format!("must be less than {limit}")),
        K::Pattern { pattern } => one("pattern", format!("must match {pattern}")),
        K::Format { format } => one("format", format!("must be a valid {format}")),
        K::Enum { options } => match options.as_array() {
            Some(list) if list.len() > 10 => one(
                "enum",
                format!("must be one of the {} listed values", list.len()),
            ),
            _ => one("enum", format!("must be one of {options}")),
        },
        K::MinItems { limit } => one("length", format!("must have at least {limit} items")),
        K::MinProperties { .. } => one("empty", "must have at least one field".to_owned()),
        K::Not { schema } if *schema == serde_json::json!({"enum": [0]}) => {
            one("non_zero", "must not be 0".to_owned())
        }
        K::MaxItems { limit } => one("length", format!("must have at most {limit} items")),
        _ => one("invalid", e.to_string()),
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

fn flatten(errors: &ValidationErrors, parent: &str) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        // Rules over the whole struct report under `__all__`.
        let field = if *field == "__all__" { "body" } else { field };
        let path = join(parent, field);
        match kind {
            ValidationErrorsKind::Field(list) => {
                if let Some(e) = list.first() {
                    let message = e
                        .message
                        .as_deref()
                        .map(str::to_owned)
                        .unwrap_or_else(|| e.code.to_string());
                    out.push(FieldError::new(path, e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &join(&path, &i.to_string())));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema, Validate)]
    #[serde(deny_unknown_fields)]
    #[schemars(example = "sample_example")]
    struct Sample {
        #[validate(length(min = 1, max = 5))]
        name: String,
        #[validate(range(min = 1))]
        amount: i64,
        #[validate(custom(function = "not_xxx"))]
        code: Option<String>,
    }

    fn sample_example() -> Value {
        json!({"name": "a", "amount": 1})
    }

    fn not_xxx(code: &str) -> Result<(), validator::ValidationError> {
        if code == "XXX" {
            return Err(
                validator::ValidationError::new("code").with_message("must not be XXX".into())
            );
        }
        Ok(())
    }

    fn fields(value: Value) -> Vec<(String, String)> {
        match check::<Sample>(value) {
            Err(ApiError::Unprocessable(errors)) => {
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
    fn schema_constraints_and_custom_rules_are_reported_together() {
        assert_eq!(
            fields(json!({"name": "toolong", "amount": 0, "code": "XXX"})),
            vec![
                pair("amount", "range"),
                pair("code", "code"),
                pair("name", "length")
            ]
        );
    }

    #[test]
    fn custom_rules_still_run_when_another_field_has_the_wrong_type() {
        assert_eq!(
            fields(json!({"name": 5, "amount": 1, "code": "XXX"})),
            vec![pair("code", "code"), pair("name", "type")]
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
        let ok = check::<Sample>(json!({"name": "ok", "amount": 3})).unwrap();
        assert_eq!((ok.name.as_str(), ok.amount, ok.code), ("ok", 3, None));
    }
}
