//! Movements: income and expenses on an account; the ledger moves its
//! balance with them.

mod model;
mod routes;
mod store;

pub use routes::routes_and_spec;
pub use store::list_sql;
