//! Accounts: where money is kept, each in one currency.

mod model;
mod routes;
mod service;
mod store;

pub use model::{account_example, Account, AccountKind};
pub use routes::routes_and_spec;

use uuid::Uuid;

use crate::db::Pool;

/// Every account of `user`, newest first.
pub async fn of_user(pool: &Pool, user: Uuid) -> Result<Vec<Account>, sqlx::Error> {
    store::all(pool, user).await
}
