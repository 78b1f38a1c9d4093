//! `Idempotency-Key`: the same key (per user, 24 hours) with the same request
//! replays the first response and writes nothing; with another request, 409.
//! [`idempotent`] claims the key inside the transaction that does the work,
//! so the work and the stored response commit together or not at all.

mod store;

use chrono::TimeDelta;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::response::OpenApiResponderInner;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{Pool, Tx, Work};
use crate::domain::time;
use crate::error::ApiError;
use crate::http::{public, Created, Reply};
use crate::spec;

pub use store::purge;

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
        Ok(RequestHeaderInput::Parameter(spec::optional_parameter(
            HEADER,
            "header",
            "Makes a retry safe: the same key with the same request (per user, for 24 hours) \
             returns the first response again and records nothing new; with a different \
             request it is 409.",
            spec::schema(serde_json::json!({
                "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
            })),
            Some(serde_json::json!("5f0c6a3e-1b2d-4c8e-9f7a-0d1e2f3a4b5c")),
        )))
    }

    /// A malformed key is 400; a key reused with another request is 409.
    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(spec::problems(&[400, 409]))
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
    /// From the root of the app, like `Created`'s.
    location: Option<String>,
    body: String,
}

/// A response that can be stored and replayed.
pub trait Replayable {
    fn stored(&self) -> Result<Stored, ApiError>;
}

impl<T: Serialize> Replayable for Json<T> {
    fn stored(&self) -> Result<Stored, ApiError> {
        Ok(Stored {
            status: 200,
            location: None,
            body: serde_json::to_string(&self.0).map_err(ApiError::internal)?,
        })
    }
}

impl<T: Serialize, const S: u16> Replayable for Reply<T, S> {
    fn stored(&self) -> Result<Stored, ApiError> {
        Ok(Stored {
            status: S,
            location: None,
            body: serde_json::to_string(&self.0).map_err(ApiError::internal)?,
        })
    }
}

impl<R: Replayable> Replayable for Created<R> {
    fn stored(&self) -> Result<Stored, ApiError> {
        Ok(Stored {
            status: 201,
            location: Some(self.location.clone()),
            ..self.inner.stored()?
        })
    }
}

/// Either the response of this request, or the stored one of the first.
pub enum Idempotent<R> {
    Fresh(R),
    Replay(Stored),
}

struct Claim<'a, I: ?Sized, F> {
    user: Uuid,
    key: Option<&'a str>,
    fingerprint: Vec<u8>,
    input: &'a I,
    work: &'a F,
}

// ANCHOR: idempotent
/// Runs `work` in a transaction (see `Pool::transaction`), under the
/// request's `Idempotency-Key` when it has one: claims the key first, and
/// either answers a retry with the stored response, refuses a different
/// request under the key (409), or does the work and stores its response,
/// all in that one transaction.
pub async fn idempotent<I, R, F>(
    db: &Pool,
    user: Uuid,
    key: &IdempotencyKey,
    path: &str,
    input: &I,
    work: F,
) -> Result<Idempotent<R>, ApiError>
where
    I: Serialize + Sync + ?Sized,
    R: Replayable + Send,
    F: for<'t> Fn(&'t mut Tx, &'t I) -> Work<'t, R, ApiError> + Sync,
{
    let claim = Claim {
        user,
        key: key.0.as_deref(),
        fingerprint: key
            .0
            .as_ref()
            .map(|_| fingerprint(path, &input))
            .unwrap_or_default(),
        input,
        work: &work,
    };
    db.transaction(&claim, |tx, claim| {
        Box::pin(async move {
            let Some(key) = claim.key else {
                return (claim.work)(tx, claim.input).await.map(Idempotent::Fresh);
            };
            let now = time::now();
            if !store::claim(
                tx,
                claim.user,
                key,
                &claim.fingerprint,
                now,
                now - RETENTION,
            )
            .await?
            {
                return match store::find(tx, claim.user, key).await? {
                    Some(row) if row.fingerprint != claim.fingerprint => Err(ApiError::Conflict(
                        "this Idempotency-Key was used with a different request",
                    )),
                    Some(store::Row {
                        status: Some(status),
                        body: Some(body),
                        location,
                        ..
                    }) => Ok(Idempotent::Replay(Stored {
                        status: status as u16,
                        location,
                        body,
                    })),
                    _ => Err(ApiError::Conflict(
                        "a request with this Idempotency-Key is still in progress",
                    )),
                };
            }
            let reply = (claim.work)(tx, claim.input).await?;
            let stored = reply.stored()?;
            store::record(
                tx,
                claim.user,
                key,
                stored.status,
                stored.location.as_deref(),
                &stored.body,
            )
            .await?;
            Ok(Idempotent::Fresh(reply))
        })
    })
    .await
}
// ANCHOR_END: idempotent

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
                    response.header(Header::new("Location", public(req, &location)));
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
        let mut responses = R::responses(gen)?;
        spec::add_success_header(
            &mut responses,
            "Idempotent-Replayed",
            "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
        );
        Ok(responses)
    }
}
