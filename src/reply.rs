//! Success responses whose status the OpenAPI document must show exactly.

use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::Request;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::response::OpenApiResponderInner;
use rocket_okapi::util::set_status_code;
use schemars::JsonSchema;
use serde::Serialize;

/// `202 Accepted` with a JSON body.
pub struct Accepted<T>(pub T);

impl<'r, T: Serialize> Responder<'r, 'static> for Accepted<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.0).respond_to(req)?;
        response.set_status(Status::Accepted);
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Send> OpenApiResponderInner for Accepted<T> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Json::<T>::responses(gen)?;
        set_status_code(&mut responses, 202)?;
        Ok(responses)
    }
}
