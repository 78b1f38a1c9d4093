//! Success responses whose status and headers the OpenAPI document must show exactly.

use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::Request;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::response::OpenApiResponderInner;
use rocket_okapi::util::set_status_code;
use schemars::JsonSchema;
use serde::Serialize;

/// A JSON body with a status and optional `Location` and `ETag` headers.
pub struct Reply<T, const STATUS: u16> {
    pub body: T,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// `201 Created`.
pub type Created<T> = Reply<T, 201>;
/// `202 Accepted`.
pub type Accepted<T> = Reply<T, 202>;
/// `200 OK`, for bodies that carry an `ETag`.
pub type Tagged<T> = Reply<T, 200>;

impl<T, const STATUS: u16> Reply<T, STATUS> {
    pub fn new(body: T) -> Self {
        Reply {
            body,
            location: None,
            etag: None,
        }
    }

    pub fn location(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }

    pub fn etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }
}

impl<'r, T: Serialize, const STATUS: u16> Responder<'r, 'static> for Reply<T, STATUS> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.body).respond_to(req)?;
        response.set_status(Status::new(STATUS));
        if let Some(location) = self.location {
            response.set_header(Header::new("Location", location));
        }
        if let Some(etag) = self.etag {
            response.set_header(Header::new("ETag", etag));
        }
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Send, const STATUS: u16> OpenApiResponderInner
    for Reply<T, STATUS>
{
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Json::<T>::responses(gen)?;
        set_status_code(&mut responses, STATUS)?;
        Ok(responses)
    }
}
