//! Query parameters as request guards: each parses itself (so a bad one is a
//! clear 400 or 422) and documents itself, its error statuses included.

use chrono::{DateTime, Utc};
use rocket::request::{FromRequest, Outcome, Request};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use schemars::schema::SchemaObject;

use crate::domain::{time, Category};
use crate::error::ApiError;
use crate::spec;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

// ANCHOR: query_param
/// A query parameter that parses itself; `Query<P>` is its request guard.
pub trait QueryParam: Sized + Send + Sync {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    /// The statuses `parse` can fail with.
    const ERRORS: &'static [u16];
    fn schema() -> SchemaObject;
    /// `raw` is the decoded value, `None` when the parameter is absent.
    fn parse(raw: Option<&str>) -> Result<Self, ApiError>;
}

/// A parsed query parameter.
pub struct Query<P>(pub P);
// ANCHOR_END: query_param

#[rocket::async_trait]
impl<'r, P: QueryParam> FromRequest<'r> for Query<P> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let raw = match req.query_value::<String>(P::NAME) {
            None => None,
            Some(Ok(value)) => Some(value),
            Some(Err(_)) => {
                return ApiError::BadRequest(format!("`{}` is not valid UTF-8", P::NAME)).fail(req)
            }
        };
        match P::parse(raw.as_deref()) {
            Ok(value) => Outcome::Success(Query(value)),
            Err(e) => e.fail(req),
        }
    }
}

// ANCHOR: query_docs
impl<'r, P: QueryParam> OpenApiFromRequest<'r> for Query<P> {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::Parameter(spec::optional_parameter(
            P::NAME,
            "query",
            P::DESCRIPTION,
            P::schema(),
            None,
        )))
    }

    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(spec::problems(P::ERRORS))
    }
}
// ANCHOR_END: query_docs

/// Page size.
pub struct Limit(pub u32);

impl QueryParam for Limit {
    const NAME: &'static str = "limit";
    // The bounds are in the schema too; a unit test keeps this text true.
    const DESCRIPTION: &'static str = "Items per page, 1 to 200 (default 50).";
    const ERRORS: &'static [u16] = &[400, 422];

    fn schema() -> SchemaObject {
        spec::schema(serde_json::json!({
            "type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT
        }))
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw else {
            return Ok(Limit(DEFAULT_LIMIT));
        };
        let n: i64 = raw.trim().parse().map_err(|_| {
            ApiError::BadRequest(format!("`limit` must be an integer, got `{raw}`"))
        })?;
        if !(1..=i64::from(MAX_LIMIT)).contains(&n) {
            let message = format!("must be 1 to {MAX_LIMIT}");
            return Err(ApiError::field("limit", "range", &message));
        }
        Ok(Limit(n as u32))
    }
}

/// The `cursor` from the previous page, still opaque (its list decodes it).
pub struct Cursor(pub Option<String>);

impl QueryParam for Cursor {
    const NAME: &'static str = "cursor";
    const DESCRIPTION: &'static str =
        "Opaque `next_cursor` of the previous page; omit it for the first page.";
    const ERRORS: &'static [u16] = &[400];

    fn schema() -> SchemaObject {
        spec::schema(serde_json::json!({"type": "string", "minLength": 1}))
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        Ok(Cursor(raw.map(str::to_owned)))
    }
}

fn parse_time(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    time::parse_rfc3339(raw).map(Some).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`{name}` must be an RFC 3339 timestamp with an offset, e.g. 2026-11-21T10:00:00Z"
        ))
    })
}

fn time_schema() -> SchemaObject {
    spec::schema(serde_json::json!({"type": "string", "format": "date-time"}))
}

/// Start of the period on `occurred_at`, inclusive.
pub struct From(pub Option<DateTime<Utc>>);

impl QueryParam for From {
    const NAME: &'static str = "from";
    const DESCRIPTION: &'static str =
        "Only movements that occurred at or after this instant (inclusive).";
    const ERRORS: &'static [u16] = &[400];
    fn schema() -> SchemaObject {
        time_schema()
    }
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_time(Self::NAME, raw).map(From)
    }
}

/// End of the period on `occurred_at`, exclusive; not before `from` (422).
pub struct To(pub Option<DateTime<Utc>>);

impl QueryParam for To {
    const NAME: &'static str = "to";
    const DESCRIPTION: &'static str =
        "Only movements that occurred before this instant (exclusive); not before `from`.";
    const ERRORS: &'static [u16] = &[400, 422];
    fn schema() -> SchemaObject {
        time_schema()
    }
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_time(Self::NAME, raw).map(To)
    }
}

/// Only movements with this category.
pub struct CategoryFilter(pub Option<Category>);

impl QueryParam for CategoryFilter {
    const NAME: &'static str = "category";
    const DESCRIPTION: &'static str =
        "Only movements with this category (1 to 50 characters of `a-z 0-9 _ -`).";
    const ERRORS: &'static [u16] = &[422];

    fn schema() -> SchemaObject {
        Category::schema_object()
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        raw.map(|c| Category::parse(Self::NAME, c))
            .transpose()
            .map(CategoryFilter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_s_description_names_its_bounds() {
        let bounds = format!("1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})");
        assert!(Limit::DESCRIPTION.contains(&bounds), "{bounds}");
    }

    #[test]
    fn limits_outside_the_range_are_422_and_non_numbers_400() {
        assert_eq!(Limit::parse(None).unwrap().0, 50);
        assert_eq!(Limit::parse(Some("200")).unwrap().0, 200);
        for (raw, status) in [
            ("0", 422),
            ("201", 422),
            ("-1", 422),
            ("abc", 400),
            ("1.5", 400),
            ("", 400),
        ] {
            assert_eq!(
                Limit::parse(Some(raw)).err().unwrap().status().code,
                status,
                "{raw}"
            );
        }
    }

    #[test]
    fn each_parameter_fails_only_with_the_statuses_it_documents() {
        fn check<P: QueryParam>(samples: &[&str]) {
            for raw in samples {
                if let Err(e) = P::parse(Some(raw)) {
                    assert!(P::ERRORS.contains(&e.status().code), "{} {raw}", P::NAME);
                }
            }
        }
        let junk = ["", "x", "-1", "99999", "2026-01-01", "A B", "\u{0}"];
        check::<Limit>(&junk);
        check::<Cursor>(&junk);
        check::<From>(&junk);
        check::<To>(&junk);
        check::<CategoryFilter>(&junk);
    }
}
