//! Success responses whose status and headers the OpenAPI document shows
//! exactly: each type documents the headers it sets.

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

use super::link;
use crate::spec;

/// A JSON body with status `S`.
pub struct Reply<T, const S: u16>(pub T);

/// `202 Accepted`.
pub type Accepted<T> = Reply<T, 202>;

impl<'r, T: Serialize, const S: u16> Responder<'r, 'static> for Reply<T, S> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.0).respond_to(req)?;
        response.set_status(Status::new(S));
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Send, const S: u16> OpenApiResponderInner for Reply<T, S> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Json::<T>::responses(gen)?;
        set_status_code(&mut responses, S)?;
        Ok(responses)
    }
}

// ANCHOR: created
/// `201 Created`, with `Location`: the new resource's path from the root of
/// the app (the deployment's prefix is added when it is sent).
pub struct Created<R> {
    pub location: String,
    pub inner: R,
}
// ANCHOR_END: created

impl<R> Created<R> {
    pub fn at(location: String, inner: R) -> Self {
        Created { location, inner }
    }
}

impl<'r, R: Responder<'r, 'static>> Responder<'r, 'static> for Created<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.inner.respond_to(req)?;
        response.set_status(Status::Created);
        response.set_header(Header::new("Location", link::public(req, &self.location)));
        Ok(response)
    }
}

// ANCHOR: created_docs
impl<R: OpenApiResponderInner> OpenApiResponderInner for Created<R> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = R::responses(gen)?;
        set_status_code(&mut responses, 201)?;
        let name = resource_name(&responses).unwrap_or_else(|| "resource".to_owned());
        let description = format!("The new {name}'s URL.");
        spec::add_header(&mut responses, 201, "Location", &description);
        Ok(responses)
    }
}
// ANCHOR_END: created_docs

/// What a response body is, in words (`account` for the `Account`
/// schema), read from the schema the inner responder documented.
fn resource_name(responses: &Responses) -> Option<String> {
    use rocket_okapi::okapi::openapi3::RefOr;
    responses.responses.values().find_map(|r| match r {
        RefOr::Object(r) => r.content.values().find_map(|media| {
            let reference = media.schema.as_ref()?.reference.as_deref()?;
            Some(reference.rsplit('/').next()?.to_lowercase())
        }),
        RefOr::Ref(_) => None,
    })
}

/// A resource with a version: its `ETag` changes whenever any field does.
pub trait Versioned {
    /// A strong validator, quoted.
    fn etag(&self) -> String;
}

/// A JSON body with its `ETag`.
pub struct Tagged<T>(pub T);

impl<'r, T: Serialize + Versioned> Responder<'r, 'static> for Tagged<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let etag = self.0.etag();
        let mut response = Json(self.0).respond_to(req)?;
        response.set_header(Header::new("ETag", etag));
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Versioned + Send> OpenApiResponderInner for Tagged<T> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Json::<T>::responses(gen)?;
        let name = T::schema_name().to_lowercase();
        let description = format!("The {name}'s version; send it back in `If-Match`.");
        spec::add_success_header(&mut responses, "ETag", &description);
        Ok(responses)
    }
}

/// A page of items, newest first.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schemars(schema_with = "crate::spec::nullable_string")]
    pub next_cursor: Option<String>,
}

/// A page, with `Link: <…>; rel="next"` when there is a next one.
pub struct Paged<T>(pub Page<T>);

impl<T> Paged<T> {
    /// Cuts `items` (fetched with `limit + 1`) to `limit`; when there was one
    /// more, the cursor of the last kept item leads to the next page.
    pub fn new(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(cursor_of)
        } else {
            None
        };
        Paged(Page { items, next_cursor })
    }
}

impl<'r, T: Serialize> Responder<'r, 'static> for Paged<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let link = self
            .0
            .next_cursor
            .as_deref()
            .map(|cursor| format!("<{}>; rel=\"next\"", link::with_cursor(req, cursor)));
        let mut response = Json(self.0).respond_to(req)?;
        if let Some(link) = link {
            response.set_header(Header::new("Link", link));
        }
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Send> OpenApiResponderInner for Paged<T> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Json::<Page<T>>::responses(gen)?;
        spec::add_success_header(
            &mut responses,
            "Link",
            "`<URL of the next page>; rel=\"next\"`, when there is a next page.",
        );
        Ok(responses)
    }
}
