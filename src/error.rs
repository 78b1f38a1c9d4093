//! One error type, one status table, rendered as RFC 9457 problem details.
//! Request guards that fail stash their `ApiError` in the request so the
//! catcher (which never sees a guard's error value) renders the same body.

use std::io::Cursor;
use std::sync::Mutex;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{Outcome, Request};
use rocket::response::{self, Responder, Response};
use schemars::JsonSchema;
use serde::Serialize;

use crate::db::Transient;
use crate::telemetry::RequestId;

/// An error status Tally answers with: the problem's `title` and the shared
/// response the OpenAPI document names `name`.
pub struct Shared {
    pub code: u16,
    pub name: &'static str,
    /// The RFC 9110 reason phrase.
    pub title: &'static str,
    pub description: &'static str,
}

/// Every error status, once: the problem bodies and the document both read it.
pub const STATUSES: &[Shared] = &[
    Shared {
        code: 400,
        name: "BadRequest",
        title: "Bad Request",
        description: "Malformed JSON, or a parameter that does not parse.",
    },
    Shared {
        code: 401,
        name: "Unauthorized",
        title: "Unauthorized",
        description: "Missing, malformed, tampered or expired token, or a wrong sign-in code.",
    },
    Shared {
        code: 404,
        name: "NotFound",
        title: "Not Found",
        description: "No such resource, or not yours.",
    },
    Shared {
        code: 405,
        name: "MethodNotAllowed",
        title: "Method Not Allowed",
        description: "The path exists but not with this method; `Allow` lists the methods it has.",
    },
    Shared {
        code: 409,
        name: "Conflict",
        title: "Conflict",
        description: "`Idempotency-Key` reused with a different request.",
    },
    Shared {
        code: 412,
        name: "PreconditionFailed",
        title: "Precondition Failed",
        description: "`If-Match` does not match the current `ETag`.",
    },
    Shared {
        code: 413,
        name: "PayloadTooLarge",
        title: "Content Too Large",
        description: "The request body is over 64 KiB.",
    },
    Shared {
        code: 415,
        name: "UnsupportedMediaType",
        title: "Unsupported Media Type",
        description: "The request body is not `application/json`.",
    },
    Shared {
        code: 422,
        name: "UnprocessableContent",
        title: "Unprocessable Content",
        description: "Well-formed JSON that breaks a rule; `errors` lists every invalid field.",
    },
    Shared {
        code: 429,
        name: "TooManyRequests",
        title: "Too Many Requests",
        description: "Rate limit hit; `Retry-After` says how many seconds to wait.",
    },
    Shared {
        code: 500,
        name: "InternalServerError",
        title: "Internal Server Error",
        description: "Something unexpected; the cause is logged under `request_id`.",
    },
    Shared {
        code: 503,
        name: "ServiceUnavailable",
        title: "Service Unavailable",
        description: "The database does not answer, or stayed too busy to finish the request.",
    },
];

/// The table's entry for `code`, if Tally documents it.
pub fn shared(code: u16) -> Option<&'static Shared> {
    STATUSES.iter().find(|s| s.code == code)
}

/// The RFC 9110 reason phrase of `status`.
pub fn title(status: Status) -> &'static str {
    shared(status.code)
        .map(|s| s.title)
        .or_else(|| status.reason())
        .unwrap_or("Error")
}

/// How many field errors a 422 lists at most; `detail` gives the total.
pub const MAX_FIELD_ERRORS: usize = 100;

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
    /// The invalid fields found in the request (422 only), at most 100.
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
    /// `length`, `range`, `pattern`, `format`, `email`, `currency`, `control`, …
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

// ANCHOR: api_error
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
    /// The invalid fields (at most [`MAX_FIELD_ERRORS`]) and how many there were.
    #[error("{}", count(*.1))]
    Unprocessable(Vec<FieldError>, usize),
    #[error("{detail}")]
    TooManyRequests {
        detail: &'static str,
        retry_after: u64,
    },
    /// The path exists, not with this method; the `Allow` header's value.
    #[error("this path does not support this method; it allows {0}")]
    MethodNotAllowed(String),
    #[error("the database does not answer")]
    DatabaseUnavailable,
    #[error("the database stayed too busy to finish the request; try again")]
    DatabaseBusy,
    /// Any status Rocket produces on its own, with a generic detail.
    #[error("{1}")]
    Status(Status, &'static str),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}
// ANCHOR_END: api_error

fn count(n: usize) -> String {
    match n {
        1 => "1 field is invalid".to_owned(),
        n if n > MAX_FIELD_ERRORS => {
            format!("{n} fields are invalid; the first {MAX_FIELD_ERRORS} are listed")
        }
        n => format!("{n} fields are invalid"),
    }
}

impl ApiError {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(e.into())
    }

    /// The token was good, but its user has been deleted (perhaps while
    /// this request was running).
    pub fn user_gone() -> Self {
        ApiError::Unauthorized {
            detail: "the token's user no longer exists",
            invalid_token: true,
        }
    }

    /// One invalid field.
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        ApiError::invalid(vec![FieldError::new(field, code, message)])
    }

    /// A 422 listing `errors` in field order, cut to [`MAX_FIELD_ERRORS`].
    pub fn invalid(mut errors: Vec<FieldError>) -> Self {
        let total = errors.len();
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        errors.truncate(MAX_FIELD_ERRORS);
        ApiError::Unprocessable(errors, total)
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
            ApiError::Unprocessable(..) => Status::UnprocessableEntity,
            ApiError::TooManyRequests { .. } => Status::TooManyRequests,
            ApiError::MethodNotAllowed(_) => Status::MethodNotAllowed,
            ApiError::DatabaseUnavailable | ApiError::DatabaseBusy => Status::ServiceUnavailable,
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

    /// The error a failing guard stashed on `req`, if any.
    pub fn stashed(req: &Request<'_>) -> Option<ApiError> {
        req.local_cache(|| Stash(Mutex::new(None)))
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Fails a request guard with this error.
    pub fn fail<T>(self, req: &Request<'_>) -> Outcome<T, ()> {
        Outcome::Error((self.stash(req), ()))
    }

    pub(crate) fn into_problem(self, request_id: &str) -> Problem {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(_) => "an unexpected error happened; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let (errors, database) = match self {
            ApiError::Unprocessable(errors, _) => (Some(errors), None),
            ApiError::DatabaseUnavailable => (None, Some("unavailable")),
            _ => (None, None),
        };
        Problem {
            kind: "about:blank",
            title: title(status),
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
        if matches!(e, sqlx::Error::PoolTimedOut) {
            crate::db::POOL_TIMEOUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if database_unavailable(&e) {
            tracing::warn!(error = %e, "the database does not answer");
            ApiError::DatabaseUnavailable
        } else {
            ApiError::Internal(Box::new(e))
        }
    }
}

/// No connection, or PostgreSQL closing one (a restart, a failover, an
/// administrator: SQLSTATE classes 08 and 57) or refusing a new one (too
/// many clients: class 53).
fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => d
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| matches!(pg.code().get(..2), Some("08" | "53" | "57"))),
        _ => false,
    }
}

impl Transient for ApiError {
    fn is_transient(&self) -> bool {
        match self {
            ApiError::Internal(e) => e
                .downcast_ref::<sqlx::Error>()
                .is_some_and(Transient::is_transient),
            // A transaction that found the world changed under it (see
            // `ledger::close`) asks to run again.
            ApiError::DatabaseBusy => true,
            _ => false,
        }
    }
}

/// A transient failure that outlived every retry is the database being busy,
/// not a bug: 503, never 500.
pub fn settle(e: ApiError) -> ApiError {
    if e.is_transient() {
        tracing::warn!(error = ?e, "a transaction failed transiently on every attempt");
        ApiError::DatabaseBusy
    } else {
        e
    }
}

struct Stash(Mutex<Option<ApiError>>);

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let request_id = RequestId::of(req);
        let this = settle(self);
        if let ApiError::Internal(cause) = &this {
            tracing::error!(request_id, error = %cause, source = ?cause.source(), "internal error");
        }
        let mut response = Response::build();
        match &this {
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
            ApiError::DatabaseBusy => {
                response.header(Header::new("Retry-After", "1"));
            }
            ApiError::MethodNotAllowed(allow) => {
                response.header(Header::new("Allow", allow.clone()));
            }
            _ => {}
        }
        // Rocket answers a request it cannot parse (e.g. an unknown method)
        // without running fairings, so the id header is set here as well.
        response.header(Header::new(
            crate::telemetry::REQUEST_ID_HEADER,
            request_id.to_owned(),
        ));
        let problem = this.into_problem(request_id);
        let body = serde_json::to_vec(&problem).map_err(|_| Status::InternalServerError)?;
        response
            .status(Status::new(problem.status))
            .header(ContentType::new("application", "problem+json"))
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

pub type ApiResult<T, E = ApiError> = Result<T, E>;

// ANCHOR: fails
/// A handler's error that the OpenAPI document shows as status `S`, for a
/// rule of the handler's own (a wrong sign-in code, an account named in the
/// body) that no guard, body or path parameter already declares:
/// `ApiResult<Json<T>, Fails<404>>`.
#[derive(Debug)]
pub struct Fails<const S: u16>(pub ApiError);

impl<const S: u16> From<ApiError> for Fails<S> {
    fn from(e: ApiError) -> Self {
        Fails(e)
    }
}
// ANCHOR_END: fails

impl<const S: u16> From<sqlx::Error> for Fails<S> {
    fn from(e: sqlx::Error) -> Self {
        Fails(e.into())
    }
}

impl<'r, const S: u16> Responder<'r, 'static> for Fails<S> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.0.respond_to(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_rfc_9110_reason_phrases() {
        assert_eq!(title(Status::UnprocessableEntity), "Unprocessable Content");
        assert_eq!(title(Status::PayloadTooLarge), "Content Too Large");
        assert_eq!(title(Status::NotFound), "Not Found");
        assert_eq!(title(Status::ImATeapot), "I'm a teapot");
    }

    #[test]
    fn every_status_of_the_error_type_is_in_the_table() {
        let errors = [
            ApiError::BadRequest(String::new()),
            ApiError::Unauthorized {
                detail: "",
                invalid_token: false,
            },
            ApiError::NotFound(""),
            ApiError::Conflict(""),
            ApiError::PreconditionFailed,
            ApiError::PayloadTooLarge(1),
            ApiError::UnsupportedMediaType,
            ApiError::invalid(vec![]),
            ApiError::TooManyRequests {
                detail: "",
                retry_after: 1,
            },
            ApiError::DatabaseUnavailable,
            ApiError::DatabaseBusy,
            ApiError::MethodNotAllowed("GET".into()),
            ApiError::internal("x"),
        ];
        for e in errors {
            assert!(shared(e.status().code).is_some(), "{e:?}");
        }
    }

    #[test]
    fn a_422_lists_at_most_100_fields_and_counts_them_all() {
        let many = (0..250)
            .map(|i| FieldError::new(format!("f{i:03}"), "unknown_field", "x"))
            .collect();
        let e = ApiError::invalid(many);
        assert_eq!(
            e.to_string(),
            "250 fields are invalid; the first 100 are listed"
        );
        let ApiError::Unprocessable(listed, total) = e else {
            unreachable!()
        };
        assert_eq!((listed.len(), total), (100, 250));
        assert_eq!(listed[0].field, "f000");
    }
}
