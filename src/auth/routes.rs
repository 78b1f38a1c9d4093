use rocket::serde::json::Json;
use rocket::{post, Route, State};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::limit::SignInLimit;
use super::mailer::Mailer;
use super::model::{AccessToken, OtpRequest, OtpSent, TokenRequest};
use super::signin;
use super::token::Tokens;
use crate::db::Db;
use crate::error::{ApiResult, Fails};
use crate::http::{Accepted, Reply, Valid};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![otp_create, token_create]
}

/// # Send a sign-in code
///
/// E-mails a 6-digit code that `POST /v1/auth/token` exchanges for a token.
/// The answer is the same whether or not the address is known. A new code
/// makes earlier ones useless; an address gets at most 5 codes an hour.
#[openapi(tag = "auth")]
#[post("/auth/otp", data = "<body>")]
pub async fn otp_create(
    _limit: SignInLimit,
    body: Valid<OtpRequest>,
    db: &Db,
    tokens: &State<Tokens>,
    mailer: &State<Mailer>,
) -> ApiResult<Accepted<OtpSent>> {
    Ok(Reply(
        signin::send_code(db, tokens, mailer, &body.email).await?,
    ))
}

// ANCHOR: token_create
/// # Exchange a sign-in code for a token
///
/// The first successful sign-in of an address creates its user. A code works
/// once, for 10 minutes; after 5 wrong tries it is burnt, and an address gets
/// at most 10 tries an hour over all its codes.
#[openapi(tag = "auth")]
#[post("/auth/token", data = "<body>")]
pub async fn token_create(
    _limit: SignInLimit,
    body: Valid<TokenRequest>,
    db: &Db,
    tokens: &State<Tokens>,
) -> ApiResult<Json<AccessToken>, Fails<401>> {
    Ok(Json(
        signin::redeem(db, tokens, &body.email, &body.code).await?,
    ))
}
// ANCHOR_END: token_create
