use rocket::response::status::NoContent;
use rocket::{delete, get, patch, post, Route, State};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use uuid::Uuid;

use super::model::{Account, AccountCreate, AccountUpdate};
use super::service::{self, no_account};
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiResult, Fails};
use crate::http::{Created, Cursor, Cursors, IfMatch, Limit, Paged, Query, Tagged, Valid};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![
        account_list,
        account_create,
        account_view,
        account_update,
        account_delete
    ]
}

const SCOPE: &str = "accounts";

/// # List accounts
///
/// Newest first.
#[openapi(tag = "accounts")]
#[get("/accounts")]
pub async fn account_list(
    user: AuthUser,
    limit: Query<Limit>,
    cursor: Query<Cursor>,
    db: &Db,
    cursors: &State<Cursors>,
) -> ApiResult<Paged<Account>> {
    let after = cursors.decode_id(SCOPE, cursor.0 .0.as_deref())?;
    let limit = limit.0 .0;
    let items = store::list(db, user.id, after, limit + 1).await?;
    if items.is_empty() {
        user.still_exists(db).await?;
    }
    Ok(Paged::new(items, limit, |a| cursors.encode_id(SCOPE, a.id)))
}

// ANCHOR: account_create
/// # Create an account
///
/// A non-zero `opening_balance` becomes the account's first movement.
#[openapi(tag = "accounts")]
#[post("/accounts", data = "<body>")]
pub async fn account_create(
    user: AuthUser,
    body: Valid<AccountCreate>,
    db: &Db,
) -> ApiResult<Created<Tagged<Account>>> {
    let account = service::create(db, user.id, &body).await?;
    Ok(Created::at(
        format!("/v1/accounts/{}", account.id),
        Tagged(account),
    ))
}
// ANCHOR_END: account_create

/// # Show an account
///
/// With its current balance; the `ETag` is what `If-Match` takes.
#[openapi(tag = "accounts")]
#[get("/accounts/<id>")]
pub async fn account_view(user: AuthUser, id: Uuid, db: &Db) -> ApiResult<Tagged<Account>> {
    let account = store::find(db, user.id, id).await?.ok_or_else(no_account)?;
    Ok(Tagged(account))
}

/// # Change an account
///
/// Name and kind can change; the currency cannot. Send `If-Match` with the
/// `ETag` you saw to avoid overwriting someone else's change.
#[openapi(tag = "accounts")]
#[patch("/accounts/<id>", data = "<body>")]
pub async fn account_update(
    user: AuthUser,
    id: Uuid,
    if_match: IfMatch,
    body: Valid<AccountUpdate>,
    db: &Db,
) -> ApiResult<Tagged<Account>> {
    let account = service::update(db, user.id, id, &body, &if_match).await?;
    Ok(Tagged(account))
}

/// # Delete an account
///
/// Its movements are deleted with it, and so are the other legs of its
/// transfers (a transfer has both legs or neither), which moves the balances
/// of those other accounts back. 422 when moving one of those balances back
/// would take it out of range; then nothing is deleted.
#[openapi(tag = "accounts")]
#[delete("/accounts/<id>")]
pub async fn account_delete(user: AuthUser, id: Uuid, db: &Db) -> ApiResult<NoContent, Fails<422>> {
    service::delete(db, user.id, id).await.map_err(Fails)?;
    Ok(NoContent)
}
