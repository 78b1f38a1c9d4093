//! Tally's API tests: one binary, every test on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL, each with its own database and SMTP server.

mod helpers;

mod accounts;
mod architecture;
mod auth;
mod cli;
mod concurrency;
mod contract;
mod docs;
mod errors;
mod health;
mod hostile;
mod lambda;
mod maintenance;
mod movements;
mod operations;
mod overview;
mod profile;
mod signin_limits;
mod transfers;
