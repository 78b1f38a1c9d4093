use rocket::serde::json::Json;
use rocket::{get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::Overview;
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::domain::Period;
use crate::error::ApiResult;
use crate::http::{From, Query, To};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![overview_view]
}

/// # Show the overview
///
/// Balances per currency, and income and expense per currency and category
/// over the period (`from` inclusive, `to` exclusive, on `occurred_at`).
/// Totals are exact integers of minor units and can exceed 64 bits.
#[openapi(tag = "overview")]
#[get("/overview")]
pub async fn overview_view(
    user: AuthUser,
    from: Query<From>,
    to: Query<To>,
    db: &Db,
) -> ApiResult<Json<Overview>> {
    let period = Period::new(from.0 .0, to.0 .0)?;
    let flows = store::flows(db, user.id, &period).await?;
    let balances = store::balances(db, user.id).await?;
    if balances.is_empty() {
        user.still_exists(db).await?;
    }
    Ok(Json(Overview::new(balances, flows)))
}
