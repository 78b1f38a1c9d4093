//! The signed-in user: who they are, and leaving for good.

mod model;
mod routes;
mod service;

pub use routes::routes_and_spec;
