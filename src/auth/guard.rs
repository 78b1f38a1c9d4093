use rocket::request::{FromRequest, Outcome, Request};
use rocket_db_pools::Database;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{Responses, SecurityRequirement};
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use uuid::Uuid;

use super::store;
use super::token::Tokens;
use crate::db::Db;
use crate::error::ApiError;
use crate::spec;

/// The signed-in user, from a valid `Authorization: Bearer` token whose user
/// still exists (so a deleted user's tokens stop working at once).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
}

fn unauthorized(detail: &'static str, invalid_token: bool) -> ApiError {
    ApiError::Unauthorized {
        detail,
        invalid_token,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match authenticate(req).await {
            Ok(user) => Outcome::Success(user),
            Err(e) => e.fail(req),
        }
    }
}

async fn authenticate(req: &Request<'_>) -> Result<AuthUser, ApiError> {
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
    let db = Db::fetch(req.rocket()).ok_or_else(|| ApiError::internal("no database"))?;
    if !store::user_exists(db, id).await? {
        return Err(ApiError::user_gone());
    }
    Ok(AuthUser { id })
}

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
