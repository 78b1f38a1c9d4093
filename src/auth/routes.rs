use chrono::TimeDelta;
use rand::Rng;
use rocket::serde::json::Json;
use rocket::{post, Route, State};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use uuid::Uuid;

use super::mailer::Mailer;
use super::model::{AccessToken, OtpRequest, OtpSent, TokenRequest};
use super::store;
use super::token::Tokens;
use crate::db::Db;
use crate::docs;
use crate::error::{ApiError, ApiResult};
use crate::json::Valid;
use crate::reply::Accepted;

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    let (routes, mut spec) = openapi_get_routes_spec![otp_create, token_create];
    docs::add_errors(&mut spec, "otp_create", &[429]);
    docs::add_errors(&mut spec, "token_create", &[401]);
    (routes, spec)
}

/// How long a sign-in code lives.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(10);

fn wrong_code() -> ApiError {
    ApiError::Unauthorized {
        detail: "the code is wrong, expired or used up; ask for a new one",
        invalid_token: false,
    }
}

/// # Send a sign-in code
///
/// E-mails a 6-digit code that `POST /v1/auth/token` exchanges for a token.
/// The answer is the same whether or not the address is known. A new code
/// makes earlier ones useless; an address gets at most 5 codes an hour.
#[openapi(tag = "auth")]
#[post("/auth/otp", data = "<body>")]
pub async fn otp_create(
    body: Valid<OtpRequest>,
    db: &Db,
    tokens: &State<Tokens>,
    mailer: &State<Mailer>,
) -> ApiResult<Accepted<OtpSent>> {
    let email = body.email.to_lowercase();
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let id = Uuid::now_v7();
    let hash = tokens.hash_code(id, &code);
    if let Err(retry_after) =
        store::create_code(db, &email, id, &hash, crate::time::now(), CODE_TTL).await?
    {
        return Err(ApiError::TooManyRequests {
            detail: "too many sign-in codes for this address; try again later",
            retry_after,
        });
    }
    if let Err(e) = mailer.send_code(&email, &code).await {
        // A code nobody received must not count against the hourly limit.
        store::discard_code(db, id).await?;
        return Err(ApiError::internal(e));
    }
    Ok(Accepted::new(OtpSent {
        expires_in: CODE_TTL.num_seconds() as u64,
    }))
}

/// # Exchange a sign-in code for a token
///
/// The first successful sign-in of an address creates its user. A code works
/// once, for 10 minutes; after 5 wrong tries it is burnt.
#[openapi(tag = "auth")]
#[post("/auth/token", data = "<body>")]
pub async fn token_create(
    body: Valid<TokenRequest>,
    db: &Db,
    tokens: &State<Tokens>,
) -> ApiResult<Json<AccessToken>> {
    let email = body.email.to_lowercase();
    let now = crate::time::now();
    let code = store::latest_code(db, &email)
        .await?
        .ok_or_else(wrong_code)?;
    if code.consumed_at.is_some() || code.expires_at <= now || code.attempts >= store::MAX_ATTEMPTS
    {
        return Err(wrong_code());
    }
    if !store::spend_attempt(db, code.id).await?
        || !tokens.code_matches(code.id, &body.code, &code.code_hash)
    {
        return Err(wrong_code());
    }
    let user = store::redeem(db, code.id, &email, now)
        .await?
        .ok_or_else(wrong_code)?;
    Ok(Json(AccessToken {
        access_token: tokens.issue(user).map_err(ApiError::internal)?,
        token_type: "Bearer",
        expires_in: tokens.ttl().as_secs(),
    }))
}
