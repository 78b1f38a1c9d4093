//! The OpenAPI document, assembled from every feature's `routes_and_spec()`,
//! and the interactive docs that read it.

use std::collections::BTreeSet;

use rocket::http::ContentType;
use rocket::response::Redirect;
use rocket::{get, routes, Either, Route, State};
use rocket_okapi::okapi::openapi3::{
    Components, Contact, Info, License, OpenApi, Operation, RefOr, Server, Tag,
};
use rocket_okapi::rapidoc::{make_rapidoc, GeneralConfig, HideShowConfig, RapiDocConfig, UiConfig};
use rocket_okapi::settings::UrlObject;
use rocket_okapi::swagger_ui::{make_swagger_ui, SwaggerUIConfig};
use schemars::gen::SchemaSettings;
use schemars::schema::{InstanceType, Schema};

use crate::error::{Problem, STATUSES};
use crate::http;
use crate::spec::{self, ALWAYS, BODY_ERRORS, PATH_ERRORS, REQUEST_ID};

/// The served document: rendered once at build time, and again per request
/// only when a path prefix must go into `servers`.
pub struct Spec {
    pub json: String,
    pub document: serde_json::Value,
}

impl Spec {
    pub fn new(document: &OpenApi) -> Self {
        let document = render(document);
        let json = serde_json::to_string_pretty(&document).expect("the spec serialises");
        Spec { json, document }
    }
}

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

/// Finishes the merged spec: metadata, tags, the problem schema, and the
/// error responses that okapi's traits cannot carry: those of a request body
/// (`http::Valid`), of a path parameter, and 500. Guards and responders
/// documented the rest themselves; error responses arrive as full objects
/// from error types (`Fails`) and become references to the shared ones here.
pub fn finish(spec: &mut OpenApi) {
    spec.info = Info {
        title: "Tally".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: Some(include_str!("docs/intro.md").to_owned()),
        contact: Some(Contact {
            name: Some("Tally engineering".to_owned()),
            ..Default::default()
        }),
        license: Some(License {
            name: env!("CARGO_PKG_LICENSE").to_owned(),
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
            "Passwordless sign-in: a code by e-mail, exchanged for a bearer token. \
             Limited per e-mail address and per client address (429 with `Retry-After`).",
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
        let responses = &mut op.responses;
        // Error objects from error types become the shared references.
        for (status, response) in responses.responses.iter_mut() {
            let code: u16 = status.parse().unwrap_or(0);
            if code >= 400 && matches!(response, RefOr::Object(_)) {
                *response = spec::problem_ref(code);
            }
        }
        spec::add_problems(responses, ALWAYS);
        if op.request_body.is_some() {
            spec::add_problems(responses, BODY_ERRORS);
        }
        if path.contains('{') {
            spec::add_problems(responses, PATH_ERRORS);
        }
        // Readers look a status up in order; okapi keeps insertion order.
        responses.responses.sort_keys();
        for (status, response) in responses.responses.iter_mut() {
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
                    spec::header(REQUEST_ID, InstanceType::String, true),
                );
            }
        }
        used.extend(
            responses
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
    for shared in STATUSES.iter().filter(|s| used.contains(&s.code)) {
        components.responses.insert(
            shared.name.to_owned(),
            RefOr::Object(spec::problem_response(shared.code)),
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

/// The document as JSON. schemars writes every numeric bound as a float
/// (`200.0`), and bounds of integer schemas must be integers. That is fixed in
/// the JSON: okapi's types cannot hold an integer bound, and reading JSON back
/// into them copies every flattened field into `extensions` (duplicate keys).
pub fn render(spec: &OpenApi) -> serde_json::Value {
    let mut value = serde_json::to_value(spec).expect("the spec serialises");
    fix_bounds(&mut value);
    value
}

fn fix_bounds(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("integer") {
                for key in ["minimum", "maximum", "default"] {
                    if let Some(n) = map.get(key).and_then(|v| v.as_f64()) {
                        if n.fract() == 0.0 && n.abs() < 9.0e15 {
                            map.insert(key.to_owned(), serde_json::json!(n as i64));
                        }
                    }
                }
            }
            map.values_mut().for_each(fix_bounds);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(fix_bounds),
        _ => {}
    }
}

/// The OpenAPI document.
#[get("/openapi.json")]
fn openapi_json(spec: &State<Spec>, prefix: http::Prefix) -> (ContentType, Either<&str, String>) {
    match prefix.0 {
        None => (ContentType::JSON, Either::Left(&spec.json)),
        Some(prefix) => {
            let mut document = spec.document.clone();
            document["servers"] = serde_json::json!([{
                "url": prefix,
                "description": "This deployment (API Gateway stage)",
            }]);
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

// ANCHOR: swagger_ui
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
// ANCHOR_END: swagger_ui

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
    use super::fix_bounds;

    #[test]
    fn integer_bounds_are_integers() {
        let mut v = serde_json::json!({"type": "integer", "minimum": 1.0, "maximum": 200.0,
            "properties": {"x": {"type": "integer", "maximum": 1e15}, "f": {"type": "number", "minimum": 0.5}}});
        fix_bounds(&mut v);
        assert_eq!(v["minimum"], serde_json::json!(1));
        assert_eq!(v["maximum"], serde_json::json!(200));
        assert_eq!(
            v["properties"]["x"]["maximum"],
            serde_json::json!(1_000_000_000_000_000_i64)
        );
        assert_eq!(v["properties"]["f"]["minimum"], serde_json::json!(0.5));
    }
}
