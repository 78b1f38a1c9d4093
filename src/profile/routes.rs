use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::Me;
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![me_view, me_delete]
}

/// # Show the signed-in user
///
/// The user of the bearer token, with every account they own.
#[openapi(tag = "profile")]
#[get("/me")]
pub async fn me_view(user: AuthUser, db: &Db) -> ApiResult<Json<Me>> {
    let mut me = store::find(db, user.id)
        .await?
        .ok_or(ApiError::NotFound("no such user"))?;
    me.accounts = crate::accounts::store::all(db, user.id).await?;
    Ok(Json(me))
}

/// # Delete the signed-in user
///
/// Deletes the user and everything they own, for good. Their tokens stop working.
#[openapi(tag = "profile")]
#[delete("/me")]
pub async fn me_delete(user: AuthUser, db: &Db) -> ApiResult<NoContent> {
    store::delete(db, user.id).await?;
    Ok(NoContent)
}
