//! Transfers: money from one of the caller's accounts to another, as two
//! movements written in one transaction.

mod model;
mod routes;
mod store;

pub use routes::routes_and_spec;
