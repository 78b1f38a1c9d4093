use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Responder;
use rocket::Response;
use rocket_db_pools::Database;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{Responses, SecurityRequirement};
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use uuid::Uuid;

use super::store;
use super::token::Tokens;
use crate::db::{Db, Pool};
use crate::error::ApiError;
use crate::spec;

// ANCHOR: auth_user
/// The signed-in user, from a valid `Authorization: Bearer` token.
///
/// The guard does not ask the database whether the user still exists: every
/// query a handler runs is limited to the user's rows, which go with the
/// user. When such a request finds nothing or is refused, [`GoneUsers`]
/// (or, for an empty list, the handler) asks, and a deleted user's token is
/// 401 on every instance, without a query on the requests that succeed.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
}
// ANCHOR_END: auth_user

impl AuthUser {
    /// `Ok` while the user exists, the 401 of a deleted user's token otherwise:
    /// for a handler whose answer would be an empty list.
    pub async fn still_exists(&self, db: &Pool) -> Result<(), ApiError> {
        if store::user_exists(db, self.id).await? {
            Ok(())
        } else {
            Err(ApiError::user_gone())
        }
    }
}

/// The user a request authenticated as, kept for [`GoneUsers`].
struct Authenticated(Option<Uuid>);

fn unauthorized(detail: &'static str, invalid_token: bool) -> ApiError {
    ApiError::Unauthorized {
        detail,
        invalid_token,
    }
}

// ANCHOR: auth_user_guard
#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match authenticate(req) {
            Ok(user) => {
                req.local_cache(|| Authenticated(Some(user.id)));
                Outcome::Success(user)
            }
            Err(e) => e.fail(req),
        }
    }
}
// ANCHOR_END: auth_user_guard

fn authenticate(req: &Request<'_>) -> Result<AuthUser, ApiError> {
    let header = req
        .headers()
        .get_one("Authorization")
        .ok_or_else(|| unauthorized("a bearer token is required", false))?;
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(unauthorized(
                "the Authorization header must be `Bearer <token>`",
                true,
            ))
        }
    };
    let tokens = req
        .rocket()
        .state::<Tokens>()
        .ok_or_else(|| ApiError::internal("token keys are not managed"))?;
    let id = tokens
        .verify(token)
        .map_err(|_| unauthorized("the token is invalid or expired", true))?;
    Ok(AuthUser { id })
}

/// Turns a 4xx for a signed-in user who no longer exists into the 401 of a
/// deleted user's token (a 404: the resource is gone because its owner is;
/// a 422: the token is the first thing wrong). It asks the database only
/// for requests that are refused anyway.
pub struct GoneUsers;

#[rocket::async_trait]
impl Fairing for GoneUsers {
    fn info(&self) -> Info {
        Info {
            name: "401 for a deleted user's token",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Any refusal: a deleted user's token is refused as such first,
        // whatever else was wrong with the request.
        if !(400..500).contains(&res.status().code) || res.status() == Status::Unauthorized {
            return;
        }
        let Some(user) = req.local_cache(|| Authenticated(None)).0 else {
            return;
        };
        let Some(db) = Db::fetch(req.rocket()) else {
            return;
        };
        let gone = match store::user_exists(db, user).await {
            Ok(exists) => !exists,
            Err(e) => {
                tracing::warn!(error = %e, "could not tell whether a user still exists");
                false
            }
        };
        if gone {
            if let Ok(answer) = ApiError::user_gone().respond_to(req) {
                *res = answer;
            }
        }
    }
}

// ANCHOR: auth_user_docs
impl<'r> OpenApiFromRequest<'r> for AuthUser {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        let mut requirement = SecurityRequirement::new();
        requirement.insert(spec::BEARER.to_owned(), Vec::new());
        Ok(RequestHeaderInput::Security(
            spec::BEARER.to_owned(),
            spec::bearer_scheme(),
            requirement,
        ))
    }

    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(spec::problems(&[401]))
    }
}
// ANCHOR_END: auth_user_docs
