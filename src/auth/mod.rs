//! Passwordless sign-in: a code by e-mail, exchanged for a PASETO token; the
//! users it creates, and the guard that names the signed-in one.

mod guard;
mod limit;
pub mod mailer;
mod model;
mod routes;
mod signin;
mod store;
pub mod token;

pub use guard::{AuthUser, GoneUsers};
pub use limit::PerClient;
pub use model::User;
pub use routes::routes_and_spec;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{Pool, Tx};

/// The user `id`, if they still exist.
pub async fn user(pool: &Pool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    store::user(pool, id).await
}

/// Deletes the user, everything they own and their pending codes, in `tx`.
pub async fn delete_user(tx: &mut Tx, id: Uuid) -> Result<bool, sqlx::Error> {
    store::delete_user(tx, id).await
}

/// Deletes sign-in codes and counts that no rule looks at any more (older
/// than the one-hour window); how many rows went.
pub async fn purge(pool: &Pool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    store::purge(pool, now - signin::WINDOW).await
}
