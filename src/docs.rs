//! The OpenAPI document (assembled from every feature's `routes_and_spec()`),
//! its error responses, and the interactive docs that read it.

use std::collections::BTreeSet;

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, routes, Either, Route, State};
use rocket_okapi::okapi::openapi3::{
    Components, Contact, Header, Info, MediaType, OpenApi, Operation, ParameterValue, RefOr,
    Response, Responses, SecurityScheme, SecuritySchemeData, Server, Tag,
};
use rocket_okapi::okapi::{map, Map};
use rocket_okapi::rapidoc::{make_rapidoc, GeneralConfig, HideShowConfig, RapiDocConfig, UiConfig};
use rocket_okapi::settings::UrlObject;
use rocket_okapi::swagger_ui::{make_swagger_ui, SwaggerUIConfig};
use schemars::gen::SchemaSettings;
use schemars::schema::{InstanceType, Schema, SchemaObject, SingleOrVec};

use crate::error::Problem;

pub const BEARER: &str = "bearerAuth";

/// The path prefix Tally is mounted under, set by the Lambda adapter for an
/// API Gateway stage (or by a reverse proxy): the served spec names it in
/// `servers`, so Try-it-out calls the right URL.
pub const PREFIX_HEADER: &str = "X-Forwarded-Prefix";

/// The served document: rendered once at build time, and again per request
/// only when a path prefix must go into `servers`.
pub struct Spec {
    pub json: String,
    pub document: OpenApi,
}

/// The sanitised `X-Forwarded-Prefix` of the request, if any.
pub struct Prefix(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Prefix {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let prefix = req
            .headers()
            .get_one(PREFIX_HEADER)
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| is_path_prefix(p))
            .map(str::to_owned);
        Outcome::Success(Prefix(prefix))
    }
}

/// `/seg/seg…` of URL-safe characters, nothing a URL could be smuggled in.
fn is_path_prefix(p: &str) -> bool {
    p.len() <= 200
        && p.starts_with('/')
        && p[1..].split('/').all(|seg| {
            !seg.bytes().all(|b| b == b'.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
}

/// Adds a reference to the shared problem response for `status`.
fn add_problem_response(responses: &mut Responses, status: u16) {
    responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::Ref(okapi_ref(status)));
}

fn okapi_ref(status: u16) -> rocket_okapi::okapi::openapi3::Ref {
    rocket_okapi::okapi::openapi3::Ref {
        reference: format!("#/components/responses/{}", response_name(status)),
    }
}

/// Adds error statuses that only the feature knows about (e.g. 429 on sign-in).
pub fn add_errors(spec: &mut OpenApi, operation_id: &str, statuses: &[u16]) {
    let op = operations_mut(spec)
        .find(|(_, op)| op.operation_id.as_deref() == Some(operation_id))
        .map(|(_, op)| op)
        .unwrap_or_else(|| panic!("no operation {operation_id} to add errors to"));
    for &status in statuses {
        add_problem_response(&mut op.responses, status);
    }
}

/// Documents response headers of one operation's success status.
pub fn add_headers(spec: &mut OpenApi, operation_id: &str, status: u16, headers: &[(&str, &str)]) {
    let op = operations_mut(spec)
        .find(|(_, op)| op.operation_id.as_deref() == Some(operation_id))
        .map(|(_, op)| op)
        .unwrap_or_else(|| panic!("no operation {operation_id} to add headers to"));
    if let Some(RefOr::Object(response)) = op.responses.responses.get_mut(&status.to_string()) {
        for (name, description) in headers {
            response.headers.insert(
                (*name).to_owned(),
                header(description, InstanceType::String, false),
            );
        }
    }
}

fn header(description: &str, kind: InstanceType, required: bool) -> RefOr<Header> {
    RefOr::Object(Header {
        description: Some(description.to_owned()),
        required,
        value: ParameterValue::Schema {
            style: None,
            explode: None,
            allow_reserved: false,
            schema: SchemaObject {
                instance_type: Some(SingleOrVec::Single(Box::new(kind))),
                ..Default::default()
            },
            example: None,
            examples: None,
        },
        deprecated: false,
        allow_empty_value: false,
        extensions: Map::new(),
    })
}

const REQUEST_ID: &str =
    "The request's id: the client's own when it sent a sane one, else a new UUID v7.";

fn operations_mut(spec: &mut OpenApi) -> impl Iterator<Item = (&String, &mut Operation)> {
    spec.paths.iter_mut().flat_map(|(path, item)| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .filter_map(move |op| op.as_mut().map(|op| (path, op)))
    })
}

const STATUSES: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Malformed JSON, or a parameter that does not parse.",
    ),
    (
        401,
        "Unauthorized",
        "Missing, malformed, tampered or expired token, or a wrong sign-in code.",
    ),
    (404, "NotFound", "No such resource, or not yours."),
    (
        409,
        "Conflict",
        "`Idempotency-Key` reused with a different request.",
    ),
    (
        412,
        "PreconditionFailed",
        "`If-Match` does not match the current `ETag`.",
    ),
    (413, "PayloadTooLarge", "The request body is over 64 KiB."),
    (
        415,
        "UnsupportedMediaType",
        "The request body is not `application/json`.",
    ),
    (
        422,
        "UnprocessableContent",
        "Well-formed JSON that breaks a rule; `errors` lists every invalid field.",
    ),
    (
        429,
        "TooManyRequests",
        "Rate limit hit; `Retry-After` says how many seconds to wait.",
    ),
    (
        500,
        "InternalServerError",
        "Something unexpected; the cause is logged under `request_id`.",
    ),
    (503, "ServiceUnavailable", "The database does not answer."),
];

fn response_name(status: u16) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, ..)| *s == status)
        .map(|(_, name, _)| *name)
        .unwrap_or_else(|| panic!("no shared response for status {status}"))
}

/// Finishes the merged spec: metadata, tags, the problem schema and the
/// error responses each operation can produce, derived from its shape.
pub fn finish(spec: &mut OpenApi) {
    spec.info = Info {
        title: "Tally".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: Some(include_str!("docs/intro.md").to_owned()),
        contact: Some(Contact {
            name: Some("Tally engineering".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    // Relative to wherever the document was fetched from; behind a path
    // prefix (an API Gateway stage) the served copy names the prefix instead.
    spec.servers = vec![Server {
        url: "/".to_owned(),
        description: Some("This deployment".to_owned()),
        ..Default::default()
    }];
    spec.tags = [
        (
            "auth",
            "Passwordless sign-in: a code by e-mail, exchanged for a bearer token.",
        ),
        ("profile", "The signed-in user."),
        (
            "accounts",
            "Accounts, each in one currency; the balance is the sum of its movements.",
        ),
        (
            "movements",
            "Income (positive) and expenses (negative) on an account.",
        ),
        (
            "transfers",
            "Money moved between two of your accounts, as two movements.",
        ),
        (
            "overview",
            "Balances per currency, income and expense per category.",
        ),
        ("operations", "Health and metrics for operators."),
    ]
    .into_iter()
    .map(|(name, description)| Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    })
    .collect();

    let mut used = BTreeSet::new();
    for (path, op) in operations_mut(spec) {
        let mut statuses = vec![500];
        if op.request_body.is_some() {
            statuses.extend([400, 413, 415, 422]);
        }
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            statuses.push(401);
        }
        if path.contains('{') {
            statuses.extend([400, 404]);
        }
        let has_query = op.parameters.iter().any(|p| {
            matches!(p, RefOr::Object(p) if p.location == "query"
                && matches!(p.value, ParameterValue::Schema { .. }))
        });
        if has_query {
            statuses.extend([400, 422]);
        }
        for status in statuses {
            add_problem_response(&mut op.responses, status);
        }
        for (status, response) in op.responses.responses.iter_mut() {
            if let RefOr::Object(response) = response {
                if response.description.is_empty() {
                    response.description = status
                        .parse()
                        .ok()
                        .and_then(|code| rocket::http::Status::from_code(code)?.reason())
                        .unwrap_or("Success")
                        .to_owned();
                }
                response.headers.insert(
                    "X-Request-Id".to_owned(),
                    header(REQUEST_ID, InstanceType::String, true),
                );
            }
        }
        used.extend(
            op.responses
                .responses
                .keys()
                .filter_map(|k| k.parse::<u16>().ok()),
        );
    }

    let components = spec.components.get_or_insert_with(Components::default);
    let mut gen = SchemaSettings::openapi3().into_generator();
    gen.subschema_for::<Problem>();
    components.schemas.extend(
        gen.take_definitions()
            .into_iter()
            .map(|(k, v)| (k, v.into_object())),
    );
    for (status, name, description) in STATUSES.iter().filter(|(s, ..)| used.contains(s)) {
        components.responses.insert(
            (*name).to_owned(),
            RefOr::Object(problem_response(*status, description)),
        );
    }
    move_examples(components);
    page_examples(components);
}

/// A page's example is a page of its item's example (schemars cannot give a
/// generic type an example of its own).
fn page_examples(components: &mut Components) {
    let pages: Vec<(String, serde_json::Value)> = components
        .schemas
        .iter()
        .filter_map(|(name, _)| {
            let item = components.schemas.get(name.strip_suffix("Page")?)?;
            let example = item.extensions.get("example")?;
            Some((
                name.clone(),
                serde_json::json!({"items": [example], "next_cursor": "AZOlsnxNfo-aCxwtPk9aawAAAAAAAAAA8n3kDvQoKM0"}),
            ))
        })
        .collect();
    for (name, example) in pages {
        if let Some(schema) = components.schemas.get_mut(&name) {
            schema.extensions.insert("example".to_owned(), example);
        }
    }
}

fn problem_response(status: u16, description: &str) -> Response {
    let schema = SchemaObject::new_ref("#/components/schemas/Problem".to_owned());
    let reason = rocket::http::Status::new(status)
        .reason()
        .unwrap_or("Error");
    let mut example = serde_json::json!({
        "type": "about:blank",
        "title": reason,
        "status": status,
        "detail": description.trim_end_matches('.'),
        "request_id": "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
    });
    if status == 422 {
        example["detail"] = "2 fields are invalid".into();
        example["errors"] = serde_json::json!([
            {"field": "email", "code": "required", "message": "is required"},
            {"field": "emial", "code": "unknown_field", "message": "is not a known field"}
        ]);
    }
    if status == 503 {
        example["database"] = "unavailable".into();
    }
    let mut headers = Map::new();
    if status == 401 {
        let text = "`Bearer`, with `error=\"invalid_token\"` when a token was sent.";
        headers.insert(
            "WWW-Authenticate".to_owned(),
            header(text, InstanceType::String, true),
        );
    }
    if status == 429 {
        let text = "Seconds to wait before trying again.";
        headers.insert(
            "Retry-After".to_owned(),
            header(text, InstanceType::Integer, true),
        );
    }
    headers.insert(
        "X-Request-Id".to_owned(),
        header(REQUEST_ID, InstanceType::String, true),
    );
    Response {
        description: description.to_owned(),
        headers,
        content: map! {
            "application/problem+json".to_owned() => MediaType {
                schema: Some(schema),
                example: Some(example),
                ..Default::default()
            }
        },
        ..Default::default()
    }
}

/// OpenAPI 3.0 schemas take one `example`; schemars writes JSON Schema's `examples`.
fn move_examples(components: &mut Components) {
    for schema in components.schemas.values_mut() {
        if let Some(meta) = schema.metadata.as_mut() {
            if let Some(first) = meta.examples.drain(..).next() {
                schema.extensions.insert("example".to_owned(), first);
            }
        }
        if let Some(object) = schema.object.as_mut() {
            for property in object.properties.values_mut() {
                if let Schema::Object(p) = property {
                    if let Some(meta) = p.metadata.as_mut() {
                        if let Some(first) = meta.examples.drain(..).next() {
                            p.extensions.insert("example".to_owned(), first);
                        }
                    }
                }
            }
        }
    }
}

/// A response field that is always present, possibly `null`: required and
/// nullable (the derive would make an `Option` optional), so generated
/// clients type it `T | None` rather than "maybe unset".
pub fn nullable_string(_gen: &mut schemars::gen::SchemaGenerator) -> Schema {
    nullable(serde_json::json!({"type": "string"}))
}

/// As `nullable_string`, for a UUID.
pub fn nullable_uuid(_gen: &mut schemars::gen::SchemaGenerator) -> Schema {
    nullable(serde_json::json!({"type": "string", "format": "uuid"}))
}

fn nullable(mut schema: serde_json::Value) -> Schema {
    schema["nullable"] = true.into();
    serde_json::from_value(schema).expect("a schema")
}

/// The HTTP bearer scheme that `AuthUser` declares, so Swagger UI's Authorize works.
pub fn bearer_scheme() -> SecurityScheme {
    SecurityScheme {
        description: Some(
            "A token from `POST /v1/auth/token`, sent as `Authorization: Bearer <token>`."
                .to_owned(),
        ),
        data: SecuritySchemeData::Http {
            scheme: "bearer".to_owned(),
            bearer_format: Some("PASETO v4.public".to_owned()),
        },
        extensions: Map::new(),
    }
}

/// The OpenAPI document.
#[get("/openapi.json")]
fn openapi_json(spec: &State<Spec>, prefix: Prefix) -> (ContentType, Either<&str, String>) {
    match prefix.0 {
        None => (ContentType::JSON, Either::Left(&spec.json)),
        Some(prefix) => {
            let mut document = spec.document.clone();
            document.servers = vec![Server {
                url: prefix,
                description: Some("This deployment (API Gateway stage)".to_owned()),
                ..Default::default()
            }];
            let json =
                serde_json::to_string_pretty(&document).unwrap_or_else(|_| spec.json.clone());
            (ContentType::JSON, Either::Right(json))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![openapi_json]
}

/// The docs' front door. rocket_okapi's own redirect is absolute
/// (`/swagger-ui/index.html`), which drops an API Gateway stage; a relative
/// one stays below whatever prefix the page was reached under.
#[get("/")]
fn docs_index() -> Redirect {
    Redirect::to("index.html")
}

fn with_relative_index(routes: Vec<Route>) -> Vec<Route> {
    let mut routes: Vec<Route> = routes.into_iter().filter(|r| r.uri.path() != "/").collect();
    routes.extend(routes![docs_index]);
    routes
}

/// Swagger UI and RapiDoc load the spec by a relative URL, so they also work
/// below a path prefix such as an API Gateway stage.
pub fn swagger_ui() -> Vec<Route> {
    with_relative_index(
        make_swagger_ui(&SwaggerUIConfig {
            url: "../openapi.json".to_owned(),
            ..Default::default()
        })
        .into(),
    )
}

pub fn rapidoc() -> Vec<Route> {
    with_relative_index(
        make_rapidoc(&RapiDocConfig {
            title: Some("Tally API".to_owned()),
            general: GeneralConfig {
                spec_urls: vec![UrlObject::new("Tally", "../openapi.json")],
                ..Default::default()
            },
            // RapiDoc would fetch its fonts from Google; the docs must work offline.
            ui: UiConfig {
                load_fonts: false,
                ..Default::default()
            },
            hide_show: HideShowConfig {
                allow_spec_url_load: false,
                allow_spec_file_load: false,
                ..Default::default()
            },
            ..Default::default()
        })
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::is_path_prefix;

    #[test]
    fn only_plain_path_prefixes_reach_the_spec() {
        assert!(is_path_prefix("/Prod"));
        assert!(is_path_prefix("/api/v1.2_x~y"));
        for bad in [
            "",
            "/",
            "Prod",
            "//x",
            "/a b",
            "/x?y",
            "/x#y",
            "/http://evil",
            "/x/../y",
            "/y%2F",
        ] {
            assert!(!is_path_prefix(bad), "{bad}");
        }
    }
}
