use rocket::{post, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use uuid::Uuid;

use super::model::{Transfer, TransferCreate};
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::docs;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, IdempotencyKey, Idempotent};
use crate::json::Valid;
use crate::movements::balance_error;
use crate::movements::store::{self as movements, NewMovement};
use crate::page::Here;
use crate::reply::Created;

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    let (routes, mut spec) = openapi_get_routes_spec![transfer_create];
    docs::add_errors(&mut spec, "transfer_create", &[404, 409]);
    docs::add_headers(
        &mut spec,
        "transfer_create",
        201,
        &[("Idempotent-Replayed", "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.")],
    );
    (routes, spec)
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
    here: Here,
    db: &Db,
) -> ApiResult<Idempotent<Created<Transfer>>> {
    let (from, to) = (body.from_account_id, body.to_account_id);
    if from == to {
        return Err(ApiError::field(
            "to_account_id",
            "distinct",
            "must differ from from_account_id",
        ));
    }
    let now = crate::time::now();
    let mut tx = db.begin_write().await?;
    if let Some(stored) =
        idempotency::claim(&mut tx, user.id, &key, &here.path, &*body, now).await?
    {
        return Ok(Idempotent::Replay(stored));
    }
    let found = store::currencies(&mut tx, user.id, [from, to]).await?;
    let currency = |id: Uuid| {
        found
            .iter()
            .find(|(a, _)| *a == id)
            .map(|(_, c)| c.as_str())
    };
    let (Some(from_currency), Some(to_currency)) = (currency(from), currency(to)) else {
        return Err(ApiError::NotFound("no such account"));
    };
    if from_currency != to_currency {
        return Err(ApiError::field(
            "to_account_id",
            "currency",
            "must be in the same currency as from_account_id",
        ));
    }

    // Balances change in account-id order: two opposite transfers lock the same
    // rows in the same order, so they never deadlock on PostgreSQL.
    let mut changes = [(from, -body.amount), (to, body.amount)];
    changes.sort_by_key(|(account, _)| *account);
    for (account, amount) in changes {
        movements::add_to_balance(&mut tx, user.id, account, amount, now)
            .await
            .map_err(balance_error)?;
    }
    let transfer_id = Uuid::now_v7();
    let description = body.description.as_deref().unwrap_or("Transfer");
    let occurred_at = body.occurred_at.map(crate::time::micros).unwrap_or(now);
    let leg = |account_id, amount| NewMovement {
        account_id,
        amount,
        description,
        category: Some("transfer"),
        occurred_at,
        transfer_id: Some(transfer_id),
    };
    let from_movement = movements::insert(&mut tx, &leg(from, -body.amount), now).await?;
    let to_movement = movements::insert(&mut tx, &leg(to, body.amount), now).await?;
    let reply = Created::new(Transfer {
        id: transfer_id,
        from_movement,
        to_movement,
    });
    if let Some(key) = &key.0 {
        idempotency::record(&mut tx, user.id, key, &reply).await?;
    }
    tx.commit().await?;
    Ok(Idempotent::Fresh(reply))
}
