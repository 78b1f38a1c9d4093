use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, post, Route, State};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use uuid::Uuid;

use super::model::MovementCreate;
use super::store::{self, Filter};
use crate::auth::AuthUser;
use crate::db::Db;
use crate::domain::{time, Period};
use crate::error::{ApiError, ApiResult, Fails};
use crate::http::{CategoryFilter, Created, Cursor, Cursors, From, Limit, Paged, Query, To, Valid};
use crate::idempotency::{idempotent, IdempotencyKey, Idempotent};
use crate::ledger::{self, Movement};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![
        movement_list,
        movement_create,
        movement_view,
        movement_delete
    ]
}

// ANCHOR: movement_list
/// # List an account's movements
///
/// Newest `occurred_at` first. `from` is inclusive and `to` exclusive.
#[openapi(tag = "movements")]
#[get("/accounts/<id>/movements")]
#[allow(clippy::too_many_arguments)]
pub async fn movement_list(
    user: AuthUser,
    id: Uuid,
    limit: Query<Limit>,
    cursor: Query<Cursor>,
    from: Query<From>,
    to: Query<To>,
    category: Query<CategoryFilter>,
    db: &Db,
    cursors: &State<Cursors>,
) -> ApiResult<Paged<Movement>> {
    let period = Period::new(from.0 .0, to.0 .0)?;
    let category = category.0 .0;
    let scope = format!(
        "movements|{id}|{:?}|{:?}|{}",
        period.from,
        period.to,
        category.as_ref().map_or("", |c| c.as_str())
    );
    let filter = Filter {
        period,
        category: category.as_ref().map(|c| c.as_str()),
        after: cursors.decode_position(&scope, cursor.0 .0.as_deref())?,
    };
    let limit = limit.0 .0;
    let items = store::page(db, user.id, id, &filter, limit + 1)
        .await?
        .ok_or(ApiError::NotFound("no such account"))?;
    Ok(Paged::new(items, limit, |m| {
        cursors.encode_position(&scope, m.occurred_at, m.id)
    }))
}
// ANCHOR_END: movement_list

// ANCHOR: movement_create
/// # Record a movement
///
/// The balance changes in the same transaction. Send an `Idempotency-Key` to
/// make retries safe.
#[openapi(tag = "movements")]
#[post("/accounts/<id>/movements", data = "<body>")]
pub async fn movement_create(
    user: AuthUser,
    id: Uuid,
    key: IdempotencyKey,
    body: Valid<MovementCreate>,
    db: &Db,
) -> ApiResult<Idempotent<Created<Json<Movement>>>> {
    if key.0.is_none() {
        // Nothing to claim, so nothing else in its transaction.
        let now = time::now();
        let movement = ledger::post_alone(db, user.id, id, &body.entry(now), now).await?;
        return Ok(Idempotent::Fresh(created(movement)));
    }
    let path = format!("/v1/accounts/{id}/movements");
    idempotent(db, user.id, &key, &path, &*body, |tx, new| {
        Box::pin(async move {
            let now = time::now();
            let movement = ledger::post(tx, user.id, id, &new.entry(now), now).await?;
            Ok(created(movement))
        })
    })
    .await
}

fn created(movement: Movement) -> Created<Json<Movement>> {
    let location = format!(
        "/v1/accounts/{}/movements/{}",
        movement.account_id, movement.id
    );
    Created::at(location, Json(movement))
}
// ANCHOR_END: movement_create

/// # Show a movement
///
/// Only under the account it belongs to.
#[openapi(tag = "movements")]
#[get("/accounts/<id>/movements/<movement_id>")]
pub async fn movement_view(
    user: AuthUser,
    id: Uuid,
    movement_id: Uuid,
    db: &Db,
) -> ApiResult<Json<Movement>> {
    store::find(db, user.id, id, movement_id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("no such movement"))
}

/// # Delete a movement
///
/// The balance changes back in the same transaction. Deleting either leg of a
/// transfer deletes both. 422 when moving a balance back would take it out of
/// range.
#[openapi(tag = "movements")]
#[delete("/accounts/<id>/movements/<movement_id>")]
pub async fn movement_delete(
    user: AuthUser,
    id: Uuid,
    movement_id: Uuid,
    db: &Db,
) -> ApiResult<NoContent, Fails<422>> {
    db.transaction(&(), |tx, ()| {
        Box::pin(async move {
            ledger::reverse(tx, user.id, id, movement_id, time::now()).await?;
            Ok(NoContent)
        })
    })
    .await
    .map_err(Fails)
}
