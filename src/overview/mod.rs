//! The overview: what the caller owns per currency, and where money went.

mod model;
mod routes;
mod store;

pub use routes::routes_and_spec;
