use rocket::serde::json::Json;
use rocket::{get, Route};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use super::model::{CategoryTotals, CurrencyTotals, Overview};
use super::store;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::page::{self, Query};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![overview_view]
}

/// # Show the overview
///
/// Balances per currency, and income and expense per currency and category
/// over the period (`from` inclusive, `to` exclusive, on `occurred_at`).
#[openapi(tag = "overview")]
#[get("/overview")]
pub async fn overview_view(
    user: AuthUser,
    from: Query<page::From>,
    to: Query<page::To>,
    db: &Db,
) -> ApiResult<Json<Overview>> {
    let (from, to) = (from.0 .0, to.0 .0);
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(ApiError::field("to", "range", "must not be before `from`"));
        }
    }
    let mut flows = store::flows(db, user.id, from, to).await?;
    // One order on both backends (they sort NULL differently): null category first.
    flows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut balances = store::balances(db, user.id).await?;
    balances.sort();
    let currencies = balances
        .into_iter()
        .map(|(currency, balance, accounts)| {
            let mut totals = Some((0_i64, 0_i64));
            for f in flows.iter().filter(|f| f.0 == currency) {
                totals = totals.and_then(|(i, e)| Some((i.checked_add(f.2)?, e.checked_add(f.3)?)));
            }
            let (income, expense) = totals
                .ok_or_else(|| ApiError::internal("an overview total does not fit in 64 bits"))?;
            Ok(CurrencyTotals {
                currency,
                balance,
                income,
                expense,
                accounts,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let categories = flows
        .into_iter()
        .map(|(currency, category, income, expense)| CategoryTotals {
            currency,
            category,
            income,
            expense,
        })
        .collect();
    Ok(Json(Overview {
        currencies,
        categories,
    }))
}
