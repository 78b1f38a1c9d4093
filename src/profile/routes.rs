use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::Me;
use super::service;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::ApiResult;

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![me_view, me_delete]
}

/// # Show the signed-in user
///
/// The user of the bearer token, with every account they own.
#[openapi(tag = "profile")]
#[get("/me")]
pub async fn me_view(user: AuthUser, db: &Db) -> ApiResult<Json<Me>> {
    Ok(Json(service::me(db, user.id).await?))
}

/// # Delete the signed-in user
///
/// Deletes the user and everything they own, for good. Their tokens stop working.
#[openapi(tag = "profile")]
#[delete("/me")]
pub async fn me_delete(user: AuthUser, db: &Db) -> ApiResult<NoContent> {
    service::delete(db, user.id).await?;
    Ok(NoContent)
}
