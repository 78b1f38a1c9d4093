use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::Me;
use crate::auth::{self, AuthUser};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::{accounts, ledger};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![me_view, me_delete]
}

/// # Show the signed-in user
///
/// The user of the bearer token, with every account they own.
#[openapi(tag = "profile")]
#[get("/me")]
pub async fn me_view(user: AuthUser, db: &Db) -> ApiResult<Json<Me>> {
    let found = auth::user(db, user.id)
        .await?
        .ok_or_else(ApiError::user_gone)?;
    let accounts = accounts::of_user(db, user.id).await?;
    Ok(Json(Me::new(found, accounts)))
}

/// # Delete the signed-in user
///
/// Deletes the user and everything they own, for good. Their tokens stop working.
#[openapi(tag = "profile")]
#[delete("/me")]
pub async fn me_delete(user: AuthUser, db: &Db) -> ApiResult<NoContent> {
    db.transaction(&(), move |tx, ()| {
        Box::pin(async move {
            ledger::lock_user(tx, user.id).await?;
            if auth::delete_user(tx, user.id).await? {
                Ok(NoContent)
            } else {
                Err(ApiError::user_gone())
            }
        })
    })
    .await
}
