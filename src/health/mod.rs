//! `GET /health`, for load balancers and operators.

use std::time::Duration;

use rocket::get;
use rocket::serde::json::Json;
use rocket::Route;
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use schemars::JsonSchema;
use serde::Serialize;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![health_view]
}

/// The service and its database answer.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "health_example")]
pub struct Health {
    /// Always `ok` in a 200 answer.
    pub status: &'static str,
    /// `ok` when the database answered a query.
    pub database: &'static str,
    /// The running version of Tally.
    pub version: &'static str,
}

fn health_example() -> serde_json::Value {
    serde_json::json!({"status": "ok", "database": "ok", "version": env!("CARGO_PKG_VERSION")})
}

// ANCHOR: health_view
/// # Check health
///
/// 200 when the service can reach its database, 503 otherwise.
#[openapi(tag = "operations")]
#[get("/health")]
pub async fn health_view(db: &Db) -> ApiResult<Json<Health>> {
    match tokio::time::timeout(Duration::from_secs(2), db.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ok",
            database: "ok",
            version: env!("CARGO_PKG_VERSION"),
        })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health: database query failed");
            Err(ApiError::DatabaseUnavailable)
        }
        Err(_) => {
            tracing::warn!("health: database did not answer within 2 s");
            Err(ApiError::DatabaseUnavailable)
        }
    }
}
// ANCHOR_END: health_view
