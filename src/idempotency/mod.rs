//! `Idempotency-Key`: the same key (per user, 24 hours) with the same request
//! replays the first response and writes nothing; with another request, 409.
//! The key is claimed inside the transaction that does the work, so the work
//! and the stored response commit together or not at all.

mod store;

use chrono::{DateTime, TimeDelta, Utc};
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::response::OpenApiResponderInner;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::ApiError;
use crate::page::optional_parameter;
use crate::reply::Reply;

pub const HEADER: &str = "Idempotency-Key";
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IdempotencyKey {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.headers().get_one(HEADER) {
            None => Outcome::Success(IdempotencyKey(None)),
            Some(key)
                if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Outcome::Success(IdempotencyKey(Some(key.to_owned())))
            }
            Some(_) => ApiError::BadRequest(format!(
                "`{HEADER}` must be 1 to 255 visible ASCII characters"
            ))
            .fail(req),
        }
    }
}

impl<'r> OpenApiFromRequest<'r> for IdempotencyKey {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::Parameter(optional_parameter(
            HEADER,
            "header",
            "Makes a retry safe: the same key with the same request (per user, for 24 hours) \
             returns the first response again and records nothing new; with a different \
             request it is 409.",
            serde_json::from_value(serde_json::json!({
                "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
            }))
            .expect("a schema"),
            Some(serde_json::json!("5f0c6a3e-1b2d-4c8e-9f7a-0d1e2f3a4b5c")),
        )))
    }
}

/// What identifies "the same request": the path and the validated body.
fn fingerprint(path: &str, body: &impl Serialize) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(body).expect("request bodies serialise"));
    hash.finalize().to_vec()
}

/// A response stored under a key, sent again for a retry.
pub struct Stored {
    status: u16,
    location: Option<String>,
    body: String,
}

/// Either the response of this request, or the stored one of the first.
pub enum Idempotent<R> {
    Fresh(R),
    Replay(Stored),
}

/// Claims the request's key, if it has one, inside `tx`: `Ok(None)` means go
/// ahead (and `record` the response before committing); `Ok(Some(stored))` is
/// a retry to answer with `stored`; a different request under the key is 409.
pub async fn claim(
    tx: &mut Tx,
    user: Uuid,
    key: &IdempotencyKey,
    path: &str,
    body: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<Option<Stored>, ApiError> {
    let Some(key) = &key.0 else {
        return Ok(None);
    };
    let fingerprint = fingerprint(path, body);
    if store::insert_claim(tx, user, key, &fingerprint, now, now - RETENTION).await? {
        return Ok(None);
    }
    match store::find(tx, user, key).await? {
        Some(row) if row.fingerprint != fingerprint => Err(ApiError::Conflict(
            "this Idempotency-Key was used with a different request",
        )),
        Some(store::Row {
            status: Some(status),
            body: Some(body),
            location,
            ..
        }) => Ok(Some(Stored {
            status: status as u16,
            location,
            body,
        })),
        _ => Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress",
        )),
    }
}

/// Stores the response of a claimed key, in the same transaction as the work.
pub async fn record<T: Serialize, const STATUS: u16>(
    tx: &mut Tx,
    user: Uuid,
    key: &str,
    reply: &Reply<T, STATUS>,
) -> Result<(), ApiError> {
    let body = serde_json::to_string(&reply.body).map_err(ApiError::internal)?;
    store::record(tx, user, key, STATUS, reply.location.as_deref(), &body).await?;
    Ok(())
}

impl<'r, R: Responder<'r, 'static>> Responder<'r, 'static> for Idempotent<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Idempotent::Fresh(reply) => reply.respond_to(req),
            Idempotent::Replay(stored) => {
                let mut response = Response::build();
                response
                    .status(Status::new(stored.status))
                    .header(ContentType::JSON)
                    .header(Header::new("Idempotent-Replayed", "true"));
                if let Some(location) = stored.location {
                    response.header(Header::new("Location", location));
                }
                response
                    .sized_body(stored.body.len(), std::io::Cursor::new(stored.body))
                    .ok()
            }
        }
    }
}

impl<R: OpenApiResponderInner> OpenApiResponderInner for Idempotent<R> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        R::responses(gen)
    }
}
