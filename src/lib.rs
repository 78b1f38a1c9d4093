//! Tally: a personal-finance REST API on Rocket, documented by its own code.
//!
//! [`rocket`] builds the one application that the server, the Lambda adapter,
//! the tests and `tally openapi` all use. The modules, from the bottom up
//! (each uses only those above it in this list):
//!
//! - `telemetry`, `config`, `db`: logs and request ids, settings, the pool
//!   and its transactions;
//! - `error`, `spec`: the one error type with its status table, and the
//!   pieces the OpenAPI document is made of;
//! - `domain`: input parsed once into types that cannot hold a bad value;
//! - `http`: the body guard, query parameters, cursors, links, responses;
//! - `ledger`, `idempotency`: the money invariant, and safe retries;
//! - the features, each a folder with one door (`mod.rs`): `auth`, `health`,
//!   `accounts`, `movements`, `transfers`, `overview`, `profile`;
//! - `docs`, `maintenance`, `lambda`: the document and its UIs, the purge of
//!   expired rows, and the Lambda adapter.

pub mod config;
pub mod db;
pub mod telemetry;

pub mod error;
pub mod spec;

pub mod domain;
pub mod http;

pub mod idempotency;
pub mod ledger;

pub mod accounts;
pub mod auth;
pub mod health;
pub mod metrics;
pub mod movements;
pub mod overview;
pub mod profile;
pub mod transfers;

pub mod docs;
pub mod lambda;
pub mod maintenance;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket, Route};
use rocket_db_pools::Database;
use rocket_okapi::okapi::merge::merge_specs;
use rocket_okapi::okapi::openapi3::OpenApi;

pub use config::Settings;

// ANCHOR: api
/// Every feature's routes, with the base path they are mounted at, and the
/// finished OpenAPI document that describes exactly those routes.
pub fn api() -> (Vec<(&'static str, Vec<Route>)>, OpenApi) {
    let features = [
        ("/", health::routes_and_spec()),
        ("/", metrics::routes_and_spec()),
        ("/v1", auth::routes_and_spec()),
        ("/v1", profile::routes_and_spec()),
        ("/v1", accounts::routes_and_spec()),
        ("/v1", movements::routes_and_spec()),
        ("/v1", transfers::routes_and_spec()),
        ("/v1", overview::routes_and_spec()),
    ];
    let mut spec = OpenApi {
        openapi: "3.0.0".to_owned(),
        ..Default::default()
    };
    let mut mounts = Vec::with_capacity(features.len());
    for (base, (routes, feature_spec)) in features {
        merge_specs(&mut spec, &base.trim_end_matches('/'), &feature_spec)
            .expect("feature specs do not collide");
        mounts.push((base, routes));
    }
    docs::finish(&mut spec);
    (mounts, spec)
}
// ANCHOR_END: api

/// The OpenAPI document as served at `/openapi.json` and printed by `tally openapi`.
pub fn openapi_json() -> String {
    docs::Spec::new(&api().1).json
}

// ANCHOR: rocket
/// Builds the application from checked settings.
pub fn rocket(settings: Settings) -> Rocket<Build> {
    if settings.token_key.ephemeral {
        tracing::warn!(
            "TALLY_TOKEN_KEY is not set: signing tokens with a random key for this run only"
        );
    }
    let (mounts, document) = api();
    let mailer_settings = settings.clone();

    let mut rocket = rocket::custom(settings.figment.clone())
        .attach(telemetry::RequestIds)
        .attach(auth::GoneUsers)
        .attach(db::Db::init())
        .attach(AdHoc::try_on_ignite("Mailer", |rocket| async move {
            match auth::mailer::Mailer::from_settings(&mailer_settings) {
                Ok(mailer) => Ok(rocket.manage(mailer)),
                Err(e) => {
                    tracing::error!("TALLY_SMTP_URL: {e}");
                    Err(rocket)
                }
            }
        }))
        .attach(maintenance::Maintenance::new(settings.lambda))
        .manage(auth::token::Tokens::new(
            &settings.token_key,
            settings.token_ttl,
        ))
        .manage(auth::PerClient(settings.signin_limit_per_ip))
        .manage(http::Network {
            trusted: settings.trusted_proxies.clone(),
            lambda: settings.lambda,
        })
        .manage(http::Cursors::new(&settings.token_key.seed))
        .manage(docs::Spec::new(&document))
        .mount("/", docs::routes())
        .mount("/swagger-ui/", docs::swagger_ui())
        .mount("/rapidoc/", docs::rapidoc())
        .mount("/", http::method_routes())
        .register("/", http::catchers());
    for (base, routes) in mounts {
        let routes: Vec<Route> = routes
            .into_iter()
            .filter(|r| settings.metrics || r.uri.path() != metrics::PATH)
            .collect();
        rocket = rocket.mount(base, routes);
    }
    if !settings.cors_origins.is_empty() {
        rocket = rocket.attach(http::Cors {
            origins: settings.cors_origins.clone(),
        });
    }
    if settings.metrics {
        let backend = if settings.database_url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        };
        rocket = rocket
            .manage(metrics::Metrics::new(backend))
            .attach(metrics::Recorder);
    }
    if settings.auto_migrate {
        rocket = rocket.attach(AdHoc::try_on_ignite("Migrations", db::run_migrations));
    }
    rocket
}
// ANCHOR_END: rocket
