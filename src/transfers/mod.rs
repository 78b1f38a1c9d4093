//! Transfers: money from one of the caller's accounts to another, as two
//! movements the ledger writes in one transaction.

mod model;
mod routes;

pub use routes::routes_and_spec;
