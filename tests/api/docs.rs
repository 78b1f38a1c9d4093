//! The OpenAPI document and the interactive docs that read it.

use rocket::http::Status;
use serde_json::Value;

use crate::api_test;

const REGENERATE: &str = "cargo run -- openapi > openapi/openapi.json";

// ANCHOR: spec_snapshot
#[test]
fn the_committed_spec_matches_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let generated = tally::openapi_json();
    assert!(
        committed.trim_end() == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with `{REGENERATE}` and review the diff"
    );
}
// ANCHOR_END: spec_snapshot

/// Reads JSON like `serde_json::Value` does, but fails on a key that an
/// object repeats, which `Value` would silently collapse.
struct NoRepeatedKeys;

impl<'de> serde::Deserialize<'de> for NoRepeatedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoRepeatedKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for NoRepeatedKeys {
    type Value = NoRepeatedKeys;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("key {key:?} repeated")));
            }
            map.next_value::<NoRepeatedKeys>()?;
        }
        Ok(NoRepeatedKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<NoRepeatedKeys>()?.is_some() {}
        Ok(NoRepeatedKeys)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(NoRepeatedKeys)
    }
}

#[test]
fn no_object_in_the_spec_repeats_a_key() {
    let generated = tally::openapi_json();
    if let Err(e) = serde_json::from_str::<NoRepeatedKeys>(&generated) {
        panic!("the spec repeats a key, which strict parsers reject: {e}");
    }
}

fn spec() -> Value {
    serde_json::from_str(&tally::openapi_json()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    ops
}

#[test]
fn every_operation_is_named_tagged_summarised_and_documents_its_errors() {
    let spec = spec();
    for (method, path, op) in operations(&spec) {
        let name = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            id.contains('_') && id == id.to_lowercase(),
            "{name}: resource_action id, got {id:?}"
        );
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{name}: tagged"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: summary"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("500"), "{name}: documents 500");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let target = response["$ref"].as_str().unwrap_or_default();
                let shared = target.rsplit('/').next().unwrap();
                let content =
                    &spec["components"]["responses"][shared]["content"]["application/problem+json"];
                assert_eq!(
                    content["schema"]["$ref"], "#/components/schemas/Problem",
                    "{name} {status}"
                );
                assert_eq!(
                    content["example"]["status"].as_u64(),
                    status.parse().ok(),
                    "{name} {status}"
                );
            }
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    responses.contains_key(status),
                    "{name}: a body can fail with {status}"
                );
            }
        }
    }
}

#[test]
fn everything_under_v1_but_auth_requires_the_bearer_scheme() {
    let spec = spec();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    for (method, path, op) in operations(&spec) {
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        let should = path.starts_with("/v1/") && !path.starts_with("/v1/auth/");
        assert_eq!(secured, should, "{method} {path}");
        if secured {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path}: documents 401"
            );
        }
    }
}

#[test]
fn validation_rules_are_schema_constraints_with_examples() {
    let spec = spec();
    let token = &spec["components"]["schemas"]["TokenRequest"];
    assert_eq!(token["properties"]["code"]["pattern"], "^[0-9]{6}$");
    assert_eq!(token["properties"]["email"]["format"], "email");
    assert_eq!(token["properties"]["email"]["maxLength"], 254);
    assert_eq!(token["additionalProperties"], false);
    // Every request body and every success body shows an example.
    for (method, path, op) in operations(&spec) {
        let mut refs =
            vec![op["requestBody"]["content"]["application/json"]["schema"]["$ref"].clone()];
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                refs.push(response["content"]["application/json"]["schema"]["$ref"].clone());
            }
        }
        for r in refs.iter().filter_map(|r| r.as_str()) {
            let name = r.rsplit('/').next().unwrap();
            assert!(
                spec["components"]["schemas"][name].get("example").is_some(),
                "{method} {path}: {name} has an example"
            );
        }
    }
}

api_test!(the_served_spec_is_the_generated_one, |app| {
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert_eq!(reply.body, spec());
});

api_test!(swagger_ui_and_rapidoc_are_served_by_tally_itself, |app| {
    for (path, needle) in [
        ("/swagger-ui/index.html", "swagger-ui"),
        ("/swagger-ui/swagger-ui-bundle.js", "SwaggerUIBundle"),
        ("/swagger-ui/swagger-ui.css", "swagger-ui"),
        ("/swagger-ui/swagger-ui-config.json", "../openapi.json"),
        ("/rapidoc/index.html", "rapi-doc"),
    ] {
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        let text = response.into_string().await.unwrap();
        assert!(text.contains(needle), "{path} contains {needle}");
        if path.ends_with(".html") {
            assert!(
                !text.contains("src=\"http"),
                "{path} loads nothing from the internet"
            );
            assert!(
                !text.contains("href=\"http"),
                "{path} loads nothing from the internet"
            );
        }
    }
    let redirect = app.client.get("/swagger-ui/").dispatch().await;
    assert!(redirect.status().class().is_redirection() || redirect.status() == Status::Ok);
});
