// ANCHOR: imports
use rocket::serde::json::Json;
use rocket::{get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use uuid::Uuid;

use super::model::{Months, Overview, Summary};
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::domain::time;
use crate::domain::Period;
use crate::error::{ApiError, ApiResult};
use crate::http::{From, Query, To};
// ANCHOR_END: imports

// ANCHOR: routes
pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![overview_view, summary_view]
}
// ANCHOR_END: routes

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
    let (balances, flows) = store::overview(db, user.id, &period).await?;
    if balances.is_empty() {
        user.still_exists(db).await?;
    }
    Ok(Json(Overview::new(balances, flows)))
}

// ANCHOR: handler
/// # Summarise an account by month
///
/// Income, expense and net of one account for each of the last `months`
/// calendar months (UTC), the current one included and empty ones too,
/// newest first; transfers and the opening balance are left out. It reads
/// the ledger's daily totals, so it costs the same for ten movements or a
/// million.
#[openapi(tag = "overview")]
#[get("/accounts/<id>/summary")]
pub async fn summary_view(
    user: AuthUser,
    id: Uuid,
    months: Query<Months>,
    db: &Db,
) -> ApiResult<Json<Summary>> {
    let first = months.0.first_day(time::now().date_naive())?;
    let (currency, days) = store::summary(db, user.id, id, first)
        .await?
        .ok_or(ApiError::NotFound("no such account"))?;
    Ok(Json(Summary::new(id, currency, months.0, first, days)))
}
// ANCHOR_END: handler
