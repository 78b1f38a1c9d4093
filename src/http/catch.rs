//! The catcher: every status Rocket produces on its own becomes a problem,
//! and so do the errors guards stashed. A path that exists with other
//! methods is 405 with `Allow`, not 404.

use rocket::http::uri::Origin;
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
        _ if status == Status::NotFound => not_here(req.rocket(), req.uri()),
        // Rocket hands a method it does not know (`QUERY`) to the 400
        // catcher as a salvaged request that no route saw.
        _ if status == Status::BadRequest && req.route().is_none() => {
            unknown_method(req.rocket(), req.uri())
        }
        _ => ApiError::from_status(status),
    }
}
// ANCHOR_END: catcher

/// A method Rocket does not know, on the path of `uri`: like any method
/// a path lacks, 405 with `Allow` or 404. Only on `/`, which has no route and
/// is where Rocket puts a request target that is not a path (`OPTIONS *`),
/// is it 400. The server's catcher and the Lambda adapter both answer with it.
pub fn unknown_method(rocket: &Rocket<Orbit>, uri: &Origin<'_>) -> ApiError {
    if uri.path().segments().next().is_none() {
        return ApiError::from_status(Status::BadRequest);
    }
    not_here(rocket, uri)
}

/// 405 with `Allow` when some route has the path, else 404.
fn not_here(rocket: &Rocket<Orbit>, uri: &Origin<'_>) -> ApiError {
    match allowed_on(rocket, uri) {
        methods if methods.is_empty() => ApiError::from_status(Status::NotFound),
        methods => ApiError::MethodNotAllowed(allow_header(&methods)),
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![problem]
}
