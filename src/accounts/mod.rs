//! Accounts: where money is kept, each in one currency.

mod model;
mod routes;
pub(crate) mod store;

pub(crate) use model::account_example;
pub use model::{Account, AccountKind};
pub use routes::routes_and_spec;
