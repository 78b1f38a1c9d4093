//! Passwordless sign-in: a code by e-mail, exchanged for a PASETO token.

mod guard;
pub mod mailer;
mod model;
mod routes;
mod store;
pub mod token;

pub use guard::AuthUser;
pub use routes::routes_and_spec;
