use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, post, Route, State};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use schemars::schema::SchemaObject;
use uuid::Uuid;

use super::model::{Movement, MovementCreate};
use super::store::{self, BalanceError, Filter, NewMovement};
use crate::auth::AuthUser;
use crate::db::Db;
use crate::docs;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, IdempotencyKey, Idempotent};
use crate::json::Valid;
use crate::page::{self, CursorParam, Cursors, Here, Limit, Paged, Query, QueryParam};
use crate::reply::Created;

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    let (routes, mut spec) = openapi_get_routes_spec![
        movement_list,
        movement_create,
        movement_view,
        movement_delete
    ];
    docs::add_errors(&mut spec, "movement_create", &[409]);
    // Reversing a movement can take a balance out of range (`balance_range`).
    docs::add_errors(&mut spec, "movement_delete", &[422]);
    docs::add_headers(
        &mut spec,
        "movement_create",
        201,
        &[
            ("Location", "The new movement's URL."),
            ("Idempotent-Replayed", "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`."),
        ],
    );
    docs::add_headers(&mut spec, "movement_list", 200, &[page::LINK]);
    (routes, spec)
}

pub(crate) fn balance_error(e: BalanceError) -> ApiError {
    match e {
        BalanceError::NoAccount => ApiError::NotFound("no such account"),
        BalanceError::OutOfRange => ApiError::field(
            "amount",
            "balance_range",
            "would take the balance beyond ±10^18 minor units",
        ),
        BalanceError::Db(e) => e.into(),
    }
}

/// Only movements with this category.
pub struct Category(pub Option<String>);

impl QueryParam for Category {
    const NAME: &'static str = "category";
    const DESCRIPTION: &'static str =
        "Only movements with this category (1 to 50 characters of `a-z 0-9 _ -`).";

    fn schema(_gen: &mut OpenApiGenerator) -> SchemaObject {
        serde_json::from_value(serde_json::json!({
            "type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[a-z0-9_-]+$"
        }))
        .expect("a schema")
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw {
            Some(c)
                if c.is_empty()
                    || c.len() > 50
                    || !c
                        .bytes()
                        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-')) =>
            {
                Err(ApiError::field(
                    "category",
                    "pattern",
                    "must be 1 to 50 characters of a-z 0-9 _ -",
                ))
            }
            other => Ok(Category(other.map(str::to_owned))),
        }
    }
}

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
    cursor: Query<CursorParam>,
    from: Query<page::From>,
    to: Query<page::To>,
    category: Query<Category>,
    here: Here,
    db: &Db,
    cursors: &State<Cursors>,
) -> ApiResult<Paged<Movement>> {
    let (from, to, category) = (from.0 .0, to.0 .0, category.0 .0);
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(ApiError::field("to", "range", "must not be before `from`"));
        }
    }
    let scope = format!(
        "movements|{id}|{from:?}|{to:?}|{}",
        category.as_deref().unwrap_or("")
    );
    let after = match &cursor.0 .0 {
        Some(c) => Some(
            page::position_from(&cursors.decode(&scope, c)?).ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this list issued".into())
            })?,
        ),
        None => None,
    };
    let filter = Filter {
        from,
        to,
        category: category.as_deref(),
        after,
    };
    let limit = limit.0 .0;
    let items = store::list(db, user.id, id, &filter, limit + 1).await?;
    if items.is_empty() && !store::account_exists(db, user.id, id).await? {
        return Err(ApiError::NotFound("no such account"));
    }
    Ok(Paged::new(items, limit, &here, |m| {
        cursors.encode(&scope, &page::position_bytes(m.occurred_at, m.id))
    }))
}

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
    here: Here,
    db: &Db,
) -> ApiResult<Idempotent<Created<Movement>>> {
    let now = crate::time::now();
    let mut tx = db.begin_write().await?;
    if let Some(stored) =
        idempotency::claim(&mut tx, user.id, &key, &here.path, &*body, now).await?
    {
        return Ok(Idempotent::Replay(stored));
    }
    store::add_to_balance(&mut tx, user.id, id, body.amount, now)
        .await
        .map_err(balance_error)?;
    let movement = store::insert(
        &mut tx,
        &NewMovement {
            account_id: id,
            amount: body.amount,
            description: &body.description,
            category: body.category.as_deref(),
            occurred_at: body.occurred_at.map(crate::time::micros).unwrap_or(now),
            transfer_id: None,
        },
        now,
    )
    .await?;
    let location = format!("/v1/accounts/{id}/movements/{}", movement.id);
    let reply = Created::new(movement).location(location);
    if let Some(key) = &key.0 {
        idempotency::record(&mut tx, user.id, key, &reply).await?;
    }
    tx.commit().await?;
    Ok(Idempotent::Fresh(reply))
}

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
/// transfer deletes both.
#[openapi(tag = "movements")]
#[delete("/accounts/<id>/movements/<movement_id>")]
pub async fn movement_delete(
    user: AuthUser,
    id: Uuid,
    movement_id: Uuid,
    db: &Db,
) -> ApiResult<NoContent> {
    let now = crate::time::now();
    let mut tx = db.begin_write().await?;
    // Legs come ordered by account id: a fixed lock order, so two deletions never deadlock.
    let legs = store::legs(&mut tx, user.id, id, movement_id).await?;
    if !legs.iter().any(|(leg, ..)| *leg == movement_id) {
        return Err(ApiError::NotFound("no such movement"));
    }
    for (leg, account, amount) in legs {
        store::add_to_balance(&mut tx, user.id, account, -amount, now)
            .await
            .map_err(balance_error)?;
        if !store::delete(&mut tx, leg).await? {
            // Gone meanwhile: the transaction rolls back, balances untouched.
            return Err(ApiError::NotFound("no such movement"));
        }
    }
    tx.commit().await?;
    Ok(NoContent)
}
