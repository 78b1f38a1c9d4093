use rocket::{post, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::{Transfer, TransferCreate};
use crate::auth::AuthUser;
use crate::db::Db;
use crate::domain::time;
use crate::error::{ApiResult, Fails};
use crate::http::{Reply, Valid};
use crate::idempotency::{idempotent, IdempotencyKey, Idempotent};
use crate::ledger;

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![transfer_create]
}

/// # Transfer money between two accounts
///
/// Both accounts must be yours (else 404), distinct and in the same currency
/// (else 422). Both legs are written in one transaction, or neither. The legs
/// get category `transfer`. There is no transfer resource, so no `Location`.
#[openapi(tag = "transfers")]
#[post("/transfers", data = "<body>")]
pub async fn transfer_create(
    user: AuthUser,
    key: IdempotencyKey,
    body: Valid<TransferCreate>,
    db: &Db,
) -> ApiResult<Idempotent<Reply<Transfer, 201>>, Fails<404>> {
    idempotent(db, user.id, &key, "/v1/transfers", &*body, |tx, new| {
        Box::pin(async move {
            let legs = ledger::transfer(tx, user.id, &new.order(), time::now()).await?;
            Ok(Reply(Transfer::from(legs)))
        })
    })
    .await
    .map_err(Fails)
}
