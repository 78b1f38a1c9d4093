//! The catcher: every status Rocket produces on its own becomes a problem,
//! and so do the errors guards stashed. A path that exists with other
//! methods is 405 with `Allow`, not 404.

use rocket::http::Status;
use rocket::{catch, catchers, Catcher, Orbit, Request, Rocket};

use super::methods::{allow_header, allowed_on};
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
        _ if status == Status::NotFound => {
            let path: Vec<&str> = req.uri().path().segments().collect();
            not_here(req.rocket(), &path)
        }
        // Rocket hands a method it does not know (`QUERY`) to the 400
        // catcher as a salvaged request that no route saw.
        _ if status == Status::BadRequest && req.route().is_none() => {
            let path: Vec<&str> = req.uri().path().segments().collect();
            unknown_method(req.rocket(), &path)
        }
        _ => ApiError::from_status(status),
    }
}
// ANCHOR_END: catcher

/// A method Rocket does not know, on `path` (as segments): like any method
/// a path lacks, 405 with `Allow` or 404. Only on `/`, which has no route and
/// is where Rocket puts a request target that is not a path (`OPTIONS *`),
/// is it 400. The server's catcher and the Lambda adapter both answer with it.
pub fn unknown_method(rocket: &Rocket<Orbit>, path: &[&str]) -> ApiError {
    if path.is_empty() {
        return ApiError::from_status(Status::BadRequest);
    }
    not_here(rocket, path)
}

/// 405 with `Allow` when some route has the path, else 404.
fn not_here(rocket: &Rocket<Orbit>, path: &[&str]) -> ApiError {
    match allowed_on(rocket, path) {
        methods if methods.is_empty() => ApiError::from_status(Status::NotFound),
        methods => ApiError::MethodNotAllowed(allow_header(&methods)),
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![problem]
}
