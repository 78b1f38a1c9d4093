//! Movements: income and expenses on an account; its balance moves with them.

mod model;
mod routes;
pub mod store;

pub use model::Movement;
pub(crate) use routes::balance_error;
pub use routes::routes_and_spec;
