//! The catcher: every status Rocket produces on its own becomes a problem,
//! and so do the errors guards stashed. A path that exists with other
//! methods is 405 with `Allow`, not 404.

use rocket::http::Status;
use rocket::{catch, catchers, Catcher, Orbit, Request, Rocket};

use super::methods::{allow_header, allowed, allowed_on};
use crate::error::ApiError;

// ANCHOR: catcher
#[catch(default)]
fn problem(status: Status, req: &Request<'_>) -> ApiError {
    match ApiError::stashed(req) {
        Some(error) if error.status() == status => error,
        // Tally's own 422s are always stashed; an unstashed one is Rocket
        // failing to parse a path parameter, which the contract calls a 400.
        _ if status == Status::UnprocessableEntity => {
            ApiError::BadRequest("a path parameter does not parse (ids are UUIDs)".to_owned())
        }
        _ if status == Status::NotFound => not_here(req, status),
        // Rocket answers a request it cannot take in (a method it does not
        // know, such as `QUERY`; or a target that is not a path, which it
        // replaces with `/`) with a 400 for a salvaged request no route saw.
        _ if status == Status::BadRequest && req.route().is_none() && req.uri().path() != "/" => {
            let path: Vec<&str> = req.uri().path().segments().collect();
            unknown_method(req.rocket(), &path)
        }
        _ => ApiError::from_status(status),
    }
}
// ANCHOR_END: catcher

/// A method Rocket does not know, on `path` (as segments): on any real path
/// that is a method the path does not support, so 405 with `Allow`; on a
/// path no route has, 404. The server's catcher and the Lambda adapter both
/// answer with it.
pub fn unknown_method(rocket: &Rocket<Orbit>, path: &[&str]) -> ApiError {
    match allowed_on(rocket, path) {
        methods if methods.is_empty() => ApiError::from_status(Status::NotFound),
        methods => ApiError::MethodNotAllowed(allow_header(&methods)),
    }
}

/// 405 with `Allow` when some route has the path, else `status`.
fn not_here(req: &Request<'_>, status: Status) -> ApiError {
    match allowed(req) {
        methods if methods.is_empty() => ApiError::from_status(status),
        methods => ApiError::MethodNotAllowed(allow_header(&methods)),
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![problem]
}
