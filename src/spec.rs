//! Building blocks for the OpenAPI document, used by the guards, bodies and
//! responders that document themselves: references to the shared problem
//! responses, header and parameter objects, nullable schemas.

use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{
    Header, MediaType, Object, Parameter, ParameterValue, Ref, RefOr, Response, Responses,
};
use rocket_okapi::okapi::{map, Map};
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::response::OpenApiResponderInner;
use schemars::schema::{InstanceType, Schema, SchemaObject, SingleOrVec};

use crate::db::Db;
use crate::error::{self, Fails};

/// The error statuses a JSON request body can cause (`http::Valid`).
pub const BODY_ERRORS: &[u16] = &[400, 413, 415, 422];
/// The error statuses a path parameter can cause: it does not parse, or
/// names nothing of yours.
pub const PATH_ERRORS: &[u16] = &[400, 404];
/// Every operation can fail unexpectedly.
pub const ALWAYS: &[u16] = &[500];

/// The shared response of `status`, as a reference.
pub fn problem_ref(status: u16) -> RefOr<Response> {
    let shared = error::shared(status)
        .unwrap_or_else(|| panic!("status {status} is not in error::STATUSES"));
    RefOr::Ref(Ref {
        reference: format!("#/components/responses/{}", shared.name),
    })
}

/// `Responses` holding a reference to the shared response of each status.
pub fn problems(statuses: &[u16]) -> Responses {
    let mut responses = Responses::default();
    add_problems(&mut responses, statuses);
    responses
}

/// Adds references to the shared responses, keeping any already there.
pub fn add_problems(responses: &mut Responses, statuses: &[u16]) {
    for &status in statuses {
        responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem_ref(status));
    }
}

/// The shared problem response of `status`, in full (for `components`).
pub fn problem_response(status: u16) -> Response {
    let shared = error::shared(status)
        .unwrap_or_else(|| panic!("status {status} is not in error::STATUSES"));
    let schema = SchemaObject::new_ref("#/components/schemas/Problem".to_owned());
    let mut example = serde_json::json!({
        "type": "about:blank",
        "title": shared.title,
        "status": status,
        "detail": shared.description.trim_end_matches('.'),
        "request_id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
    });
    if status == 422 {
        example["detail"] = "2 fields are invalid".into();
        example["errors"] = serde_json::json!([
            {"field": "email", "code": "required", "message": "is required"},
            {"field": "emial", "code": "unknown_field", "message": "is not a known field"}
        ]);
    }
    if status == 503 {
        example["database"] = "unavailable".into();
    }
    let mut headers = Map::new();
    if status == 401 {
        let text = "`Bearer`, with `error=\"invalid_token\"` when a token was sent.";
        headers.insert(
            "WWW-Authenticate".to_owned(),
            header(text, InstanceType::String, true),
        );
    }
    if status == 405 {
        let text = "The methods this path supports, e.g. `GET, PATCH, DELETE`.";
        headers.insert("Allow".to_owned(), header(text, InstanceType::String, true));
    }
    if matches!(status, 429 | 503) {
        let text = "Seconds to wait before trying again.";
        headers.insert(
            "Retry-After".to_owned(),
            header(text, InstanceType::Integer, status == 429),
        );
    }
    headers.insert(
        "X-Request-Id".to_owned(),
        header(REQUEST_ID, InstanceType::String, true),
    );
    Response {
        description: shared.description.to_owned(),
        headers,
        content: map! {
            "application/problem+json".to_owned() => MediaType {
                schema: Some(schema),
                example: Some(example),
                ..Default::default()
            }
        },
        ..Default::default()
    }
}

pub const REQUEST_ID: &str =
    "The request's id: the client's own when it sent a sane one, else a new UUID v7.";

/// A response header object.
pub fn header(description: &str, kind: InstanceType, required: bool) -> RefOr<Header> {
    RefOr::Object(Header {
        description: Some(description.to_owned()),
        required,
        value: ParameterValue::Schema {
            style: None,
            explode: None,
            allow_reserved: false,
            schema: SchemaObject {
                instance_type: Some(SingleOrVec::Single(Box::new(kind))),
                ..Default::default()
            },
            example: None,
            examples: None,
        },
        deprecated: false,
        allow_empty_value: false,
        extensions: Map::new(),
    })
}

/// Adds a string header to the response of `status` (which must be there).
pub fn add_header(responses: &mut Responses, status: u16, name: &str, description: &str) {
    if let Some(RefOr::Object(response)) = responses.responses.get_mut(&status.to_string()) {
        response.headers.insert(
            name.to_owned(),
            header(description, InstanceType::String, false),
        );
    }
}

/// Adds a string header to every success response.
pub fn add_success_header(responses: &mut Responses, name: &str, description: &str) {
    for (status, response) in responses.responses.iter_mut() {
        if let (true, RefOr::Object(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                name.to_owned(),
                header(description, InstanceType::String, false),
            );
        }
    }
}

/// An optional query or header parameter, for request guards' documentation.
pub fn optional_parameter(
    name: &str,
    location: &str,
    description: &str,
    schema: SchemaObject,
    example: Option<serde_json::Value>,
) -> Parameter {
    Parameter {
        name: name.to_owned(),
        location: location.to_owned(),
        description: Some(description.to_owned()),
        required: false,
        deprecated: false,
        allow_empty_value: false,
        value: ParameterValue::Schema {
            style: None,
            explode: None,
            allow_reserved: false,
            schema,
            example,
            examples: None,
        },
        extensions: Object::default(),
    }
}

/// A schema from its JSON form.
pub fn schema(value: serde_json::Value) -> SchemaObject {
    serde_json::from_value(value).expect("a valid schema")
}

/// A response field that is always present, possibly `null`: required and
/// nullable (the derive would make an `Option` optional), so generated
/// clients type it `T | None` rather than "maybe unset".
pub fn nullable_string(_gen: &mut schemars::gen::SchemaGenerator) -> Schema {
    nullable(serde_json::json!({"type": "string"}))
}

/// As `nullable_string`, for a UUID.
pub fn nullable_uuid(_gen: &mut schemars::gen::SchemaGenerator) -> Schema {
    nullable(serde_json::json!({"type": "string", "format": "uuid"}))
}

fn nullable(mut value: serde_json::Value) -> Schema {
    value["nullable"] = true.into();
    Schema::Object(schema(value))
}

// ANCHOR: db_docs
/// The database answers, or the request is 503 (`Retry-After` when it was
/// only busy).
impl<'r> OpenApiFromRequest<'r> for &'r Db {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }

    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(problems(&[503]))
    }
}
// ANCHOR_END: db_docs

// ANCHOR: fails_docs
/// Okapi merges an error type's responses into the success ones only as
/// full objects; `docs::finish` turns them into the shared references.
impl<const S: u16> OpenApiResponderInner for Fails<S> {
    fn responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Responses::default();
        responses
            .responses
            .insert(S.to_string(), RefOr::Object(problem_response(S)));
        Ok(responses)
    }
}
// ANCHOR_END: fails_docs

impl OpenApiResponderInner for error::ApiError {
    fn responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(Responses::default())
    }
}

/// The name of the HTTP bearer scheme `auth::AuthUser` declares.
pub const BEARER: &str = "bearerAuth";

/// The HTTP bearer scheme, so Swagger UI's Authorize button works.
pub fn bearer_scheme() -> rocket_okapi::okapi::openapi3::SecurityScheme {
    rocket_okapi::okapi::openapi3::SecurityScheme {
        description: Some(
            "A token from `POST /v1/auth/token`, sent as `Authorization: Bearer <token>`."
                .to_owned(),
        ),
        data: rocket_okapi::okapi::openapi3::SecuritySchemeData::Http {
            scheme: "bearer".to_owned(),
            bearer_format: Some("PASETO v4.public".to_owned()),
        },
        extensions: Map::new(),
    }
}
