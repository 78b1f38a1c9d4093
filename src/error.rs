//! One error type, one status mapping, rendered as RFC 9457 problem details.
//! Request guards that fail stash their `ApiError` in the request so the
//! catcher (which never sees a guard's error value) renders the same body.

use std::io::Cursor;
use std::sync::Mutex;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{catch, catchers, Catcher};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::response::OpenApiResponderInner;
use schemars::JsonSchema;
use serde::Serialize;

use crate::telemetry::RequestId;

/// An RFC 9457 problem details object.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "problem_example")]
pub struct Problem {
    /// Always `about:blank`: the status code says what kind of problem this is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The HTTP reason phrase of `status`.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person to read.
    pub detail: String,
    /// The `X-Request-Id` of this exchange; quote it when reporting a problem.
    pub request_id: String,
    /// Every invalid field found in the request (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// `unavailable` when `/health` cannot reach the database (503 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

fn problem_example() -> serde_json::Value {
    serde_json::json!({
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "1 field is invalid",
        "request_id": "01936d1e-5f0a-7cc3-9f4e-2a1b3c4d5e6f",
        "errors": [{"field": "email", "code": "email", "message": "must be an e-mail address"}]
    })
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    /// The field's name; nested fields are joined with dots (`items.0.name`).
    pub field: String,
    /// A stable, machine-readable code: `required`, `unknown_field`, `type`,
    /// `length`, `range`, `pattern`, `format`, `email`, `currency`, …
    pub code: String,
    /// What the field must be, for a person to read.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// `invalid_token` adds `error="invalid_token"` to the challenge (RFC 6750).
    #[error("{detail}")]
    Unauthorized {
        detail: &'static str,
        invalid_token: bool,
    },
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("If-Match does not match the current ETag")]
    PreconditionFailed,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(u64),
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("{} invalid", count(.0.len()))]
    Unprocessable(Vec<FieldError>),
    #[error("{detail}")]
    TooManyRequests {
        detail: &'static str,
        retry_after: u64,
    },
    #[error("the database does not answer")]
    DatabaseUnavailable,
    /// Any status Rocket produces on its own, with a generic detail.
    #[error("{1}")]
    Status(Status, &'static str),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn count(n: usize) -> String {
    match n {
        1 => "1 field is".to_owned(),
        n => format!("{n} fields are"),
    }
}

impl ApiError {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(e.into())
    }

    /// One invalid field.
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        ApiError::Unprocessable(vec![FieldError::new(field, code, message)])
    }

    pub fn status(&self) -> Status {
        match self {
            ApiError::BadRequest(_) => Status::BadRequest,
            ApiError::Unauthorized { .. } => Status::Unauthorized,
            ApiError::NotFound(_) => Status::NotFound,
            ApiError::Conflict(_) => Status::Conflict,
            ApiError::PreconditionFailed => Status::PreconditionFailed,
            ApiError::PayloadTooLarge(_) => Status::PayloadTooLarge,
            ApiError::UnsupportedMediaType => Status::UnsupportedMediaType,
            ApiError::Unprocessable(_) => Status::UnprocessableEntity,
            ApiError::TooManyRequests { .. } => Status::TooManyRequests,
            ApiError::DatabaseUnavailable => Status::ServiceUnavailable,
            ApiError::Status(status, _) => *status,
            ApiError::Internal(_) => Status::InternalServerError,
        }
    }

    /// A problem for a status Rocket produced on its own (no route, bad form, …).
    pub fn from_status(status: Status) -> Self {
        let detail = match status.code {
            400 => "the request could not be parsed",
            401 => "authentication is required",
            404 => "no resource at this path supports this method",
            405 => "this method is not allowed on this path",
            413 => "the request body is too large",
            415 => "the request body must be application/json",
            422 => "the request is well-formed but invalid",
            500 => "an unexpected error happened; it has been logged",
            503 => "the service is unavailable",
            _ => "the request could not be served",
        };
        match status.code {
            500 => ApiError::Internal("an error reached the default catcher".into()),
            _ => ApiError::Status(status, detail),
        }
    }

    /// Keeps this error on the request for the catcher to render, and returns
    /// the status a failing guard reports.
    pub fn stash(self, req: &Request<'_>) -> Status {
        let status = self.status();
        *req.local_cache(|| Stash(Mutex::new(None)))
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(self);
        status
    }

    /// Fails a request guard with this error.
    pub fn fail<T>(self, req: &Request<'_>) -> Outcome<T, ()> {
        Outcome::Error((self.stash(req), ()))
    }

    fn into_problem(self, request_id: &str) -> Problem {
        let status = self.status();
        let title = status.reason().unwrap_or("Error");
        let detail = match &self {
            ApiError::Internal(_) => "an unexpected error happened; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let (errors, database) = match self {
            ApiError::Unprocessable(errors) => (Some(errors), None),
            ApiError::DatabaseUnavailable => (None, Some("unavailable")),
            _ => (None, None),
        };
        Problem {
            kind: "about:blank",
            title,
            status: status.code,
            detail,
            request_id: request_id.to_owned(),
            errors,
            database,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

struct Stash(Mutex<Option<ApiError>>);

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let request_id = RequestId::of(req);
        if let ApiError::Internal(cause) = &self {
            tracing::error!(request_id, error = %cause, source = ?cause.source(), "internal error");
        }
        let mut response = Response::build();
        match &self {
            ApiError::Unauthorized { invalid_token, .. } => {
                response.header(Header::new(
                    "WWW-Authenticate",
                    if *invalid_token {
                        r#"Bearer error="invalid_token""#
                    } else {
                        "Bearer"
                    },
                ));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                response.header(Header::new("Retry-After", retry_after.to_string()));
            }
            _ => {}
        }
        // Rocket answers a request it cannot parse (e.g. an unknown method)
        // without running fairings, so the id header is set here as well.
        response.header(Header::new(
            crate::telemetry::REQUEST_ID_HEADER,
            request_id.to_owned(),
        ));
        let problem = self.into_problem(request_id);
        let body = serde_json::to_vec(&problem).map_err(|_| Status::InternalServerError)?;
        response
            .status(Status::new(problem.status))
            .header(ContentType::new("application", "problem+json"))
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

/// Error responses are added by `docs::finish`, from each operation's shape
/// (body, parameters, security) and its feature's extra statuses: rocket_okapi
/// cannot merge the shared `$ref` responses here.
impl OpenApiResponderInner for ApiError {
    fn responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(Responses::default())
    }
}

/// Renders every status Rocket produces on its own, and the errors stashed by guards.
#[catch(default)]
fn problem(status: Status, req: &Request<'_>) -> ApiError {
    let stashed = req
        .local_cache(|| Stash(Mutex::new(None)))
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match stashed {
        Some(error) if error.status() == status => error,
        // Tally's own 422s are always stashed; an unstashed one is Rocket
        // failing to parse a path parameter, which the contract calls a 400.
        _ if status == Status::UnprocessableEntity => {
            ApiError::BadRequest("a path parameter does not parse (ids are UUIDs)".to_owned())
        }
        _ => ApiError::from_status(status),
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![problem]
}

pub type ApiResult<T> = Result<T, ApiError>;
