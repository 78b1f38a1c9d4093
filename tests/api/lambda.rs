//! The Lambda adapter: real-shaped events of every source, through lambda_http
//! and the same Rocket instance, and the tally binary under a Lambda Runtime API.

use std::convert::Infallible;

use base64::Engine;
use lambda_http::request::LambdaRequest;
use lambda_http::{service_fn, Adapter, Context, LambdaEvent, Service};
use rocket::http::CookieJar;
use rocket::response::{self, Responder, Response};
use rocket::{Build, Request, Rocket};
use serde_json::{json, Value};
use tally::lambda::KeepMultiValueHeaders;

use crate::helpers::{run_lambda, TestApp};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/lambda/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Sends an event through lambda_http's own adapter (as the runtime does) and
/// returns the response event it would hand back to AWS.
async fn invoke(app: &TestApp, event: Value) -> Value {
    let event: LambdaRequest = serde_json::from_value(event).expect("a Lambda HTTP event");
    let client = &app.client;
    let mut adapter = KeepMultiValueHeaders(Adapter::from(service_fn(|req| async move {
        Ok::<_, Infallible>(tally::lambda::dispatch(client, req).await)
    })));
    let response = adapter
        .call(LambdaEvent::new(event, Context::default()))
        .await
        .expect("the adapter answers");
    serde_json::to_value(response).unwrap()
}

fn body_json(response: &Value) -> Value {
    let body = response["body"].as_str().unwrap_or_default();
    let text = if response["isBase64Encoded"] == true {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap(),
        )
        .unwrap()
    } else {
        body.to_owned()
    };
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// What Rocket saw of a request, and two cookies set on the way out.
#[rocket::route(GET, uri = "/echo/<_..>", data = "<body>")]
async fn echo_get(req: Echo, body: Vec<u8>) -> Value {
    req.with_body(body)
}
#[rocket::route(POST, uri = "/echo/<_..>", data = "<body>")]
async fn echo_post(req: Echo, body: Vec<u8>) -> Value {
    req.with_body(body)
}
#[rocket::route(PUT, uri = "/echo/<_..>", data = "<body>")]
async fn echo_put(req: Echo, body: Vec<u8>) -> Value {
    req.with_body(body)
}
#[rocket::route(DELETE, uri = "/echo/<_..>", data = "<body>")]
async fn echo_delete(req: Echo, body: Vec<u8>) -> Value {
    req.with_body(body)
}

struct Echo(Value);

impl Echo {
    fn with_body(mut self, body: Vec<u8>) -> Value {
        self.0["body_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        self.0
    }
}

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Echo {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, ()> {
        let cookies: &CookieJar<'_> = req.cookies();
        cookies.add(rocket::http::Cookie::new("first", "1"));
        cookies.add(rocket::http::Cookie::new("second", "2"));
        let all = |name: &str| {
            req.headers()
                .get(name)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        rocket::request::Outcome::Success(Echo(json!({
            "method": req.method().as_str(),
            "path": req.uri().path().as_str(),
            "query": req.uri().query().map(|q| q.as_str().to_owned()),
            "x_tag": all("x-tag"),
            "cookie": all("cookie"),
            "content_type": all("content-type"),
            "prefix": all("x-forwarded-prefix"),
            "remote": req.remote().map(|r| r.ip().to_string()),
        })))
    }
}

/// Bytes with no Content-Type at all.
struct RawBytes;

impl<'r> Responder<'r, 'static> for RawBytes {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let bytes = vec![0u8, 159, 146, 150, 255];
        Response::build()
            .sized_body(bytes.len(), std::io::Cursor::new(bytes))
            .ok()
    }
}

#[rocket::get("/binary")]
fn binary() -> RawBytes {
    RawBytes
}

fn with_echo(rocket: Rocket<Build>) -> Rocket<Build> {
    rocket.mount(
        "/",
        rocket::routes![echo_get, echo_post, echo_put, echo_delete, binary],
    )
}

/// Query pairs, in order within a key (v1 and ALB events carry the query as a map).
fn query_pairs(echo: &Value) -> Vec<(String, String)> {
    let query = echo["query"].as_str().unwrap_or_default();
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

fn expected_query() -> Vec<(String, String)> {
    [("q", "a b&c"), ("tag", "a"), ("tag", "b")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn set_cookies(response: &Value) -> Vec<String> {
    let from = |v: &Value| {
        v.as_array().map(|a| {
            a.iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
    };
    from(&response["cookies"])
        .or_else(|| from(&response["multiValueHeaders"]["set-cookie"]))
        .unwrap_or_default()
}

#[tokio::test]
async fn rest_v1_with_a_stage_keeps_method_path_query_headers_body_and_caller() {
    run_lambda(with_echo, async |app: &TestApp| {
        let response = invoke(app, fixture("rest_v1_prod")).await;
        assert_eq!(response["statusCode"], 200, "{response}");
        let echo = body_json(&response);
        assert_eq!(echo["method"], "POST");
        assert_eq!(
            echo["path"], "/echo/items",
            "the stage is not part of Rocket's path"
        );
        assert_eq!(query_pairs(&echo), expected_query());
        assert_eq!(echo["x_tag"], json!(["a", "b"]), "multi-value headers");
        assert_eq!(echo["remote"], "203.0.113.7");
        assert_eq!(
            echo["prefix"],
            json!(["/Prod"]),
            "the client's own X-Forwarded-Prefix is replaced"
        );
        let body = base64::engine::general_purpose::STANDARD
            .decode(echo["body_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(body, br#"{"hello": "rest"}"#);
        assert_eq!(response["isBase64Encoded"], false);
        assert_eq!(
            response["multiValueHeaders"]["content-type"],
            json!(["application/json"])
        );
        assert_eq!(
            set_cookies(&response).len(),
            2,
            "both Set-Cookie headers: {response}"
        );
        assert!(response["multiValueHeaders"]["x-request-id"].is_array());
    })
    .await;
}

#[tokio::test]
async fn http_v2_default_stage_keeps_a_binary_body_and_cookies() {
    run_lambda(with_echo, async |app: &TestApp| {
        let response = invoke(app, fixture("http_v2_default")).await;
        assert_eq!(response["statusCode"], 200, "{response}");
        let echo = body_json(&response);
        assert_eq!(echo["method"], "PUT");
        assert_eq!(echo["path"], "/echo/items");
        assert_eq!(
            echo["query"], "tag=a&tag=b&q=a%20b%26c",
            "the raw query, untouched"
        );
        assert_eq!(echo["body_base64"], "AAH+/w==", "binary body bytes intact");
        assert_eq!(echo["cookie"], json!(["session=abc; theme=dark"]));
        assert_eq!(echo["prefix"], json!([]), "no stage prefix on $default");
        assert_eq!(echo["remote"], "198.51.100.23");
        let mut cookies = set_cookies(&response);
        cookies.sort();
        assert_eq!(cookies.len(), 2, "{response}");
        assert!(
            cookies[0].starts_with("first=1") && cookies[1].starts_with("second=2"),
            "{cookies:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn alb_and_function_url_events_reach_rocket_intact() {
    run_lambda(with_echo, async |app: &TestApp| {
        let alb = invoke(app, fixture("alb")).await;
        assert_eq!(alb["statusCode"], 200, "{alb}");
        assert_eq!(alb["statusDescription"], "200 OK");
        let echo = body_json(&alb);
        assert_eq!(
            (echo["method"].as_str(), echo["path"].as_str()),
            (Some("POST"), Some("/echo/items"))
        );
        assert_eq!(
            query_pairs(&echo),
            expected_query(),
            "ALB's encoded query is decoded once"
        );
        assert_eq!(echo["x_tag"], json!(["a", "b"]));
        assert_eq!(
            echo["remote"], "192.0.2.44",
            "the address ALB appended to X-Forwarded-For"
        );
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(echo["body_base64"].as_str().unwrap())
                .unwrap(),
            b"plain text body"
        );
        assert_eq!(set_cookies(&alb).len(), 2, "{alb}");

        let url = invoke(app, fixture("function_url")).await;
        assert_eq!(url["statusCode"], 200, "{url}");
        let echo = body_json(&url);
        assert_eq!(
            (echo["method"].as_str(), echo["path"].as_str()),
            (Some("DELETE"), Some("/echo/items"))
        );
        assert_eq!(query_pairs(&echo), expected_query());
        assert_eq!(echo["remote"], "203.0.113.99");
        assert_eq!(echo["prefix"], json!([]));
        assert_eq!(set_cookies(&url).len(), 2, "{url}");
    })
    .await;
}

#[tokio::test]
async fn a_binary_response_without_content_type_is_base64_encoded() {
    run_lambda(with_echo, async |app: &TestApp| {
        let mut event = fixture("http_v2_default");
        event["rawPath"] = json!("/binary");
        event["rawQueryString"] = json!("");
        event["requestContext"]["http"]["method"] = json!("GET");
        event["body"] = Value::Null;
        let response = invoke(app, event).await;
        assert_eq!(response["statusCode"], 200, "{response}");
        assert_eq!(response["isBase64Encoded"], true);
        assert_eq!(
            response["headers"]["content-type"],
            "application/octet-stream"
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(response["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, vec![0u8, 159, 146, 150, 255]);
    })
    .await;
}

fn openapi_event_rest_v1() -> Value {
    let mut event = fixture("rest_v1_prod");
    event["path"] = json!("/openapi.json");
    event["httpMethod"] = json!("GET");
    event["requestContext"]["path"] = json!("/Prod/openapi.json");
    event["requestContext"]["httpMethod"] = json!("GET");
    event["multiValueQueryStringParameters"] = Value::Null;
    event["queryStringParameters"] = Value::Null;
    event["body"] = Value::Null;
    event
}

#[tokio::test]
async fn a_stage_named_like_a_path_segment_is_stripped_only_when_it_is_in_the_path() {
    run_lambda(with_echo, async |app: &TestApp| {
        let event = |domain: &str, raw_path: &str| {
            let mut event = fixture("http_v2_named_stage");
            event["requestContext"]["stage"] = json!("echo");
            event["requestContext"]["domainName"] = json!(domain);
            event["headers"]["host"] = json!(domain);
            event["rawPath"] = json!(raw_path);
            event["requestContext"]["http"]["path"] = json!(raw_path);
            event
        };
        // A custom domain: the stage is not in the URL, `/echo/x` is the app's path.
        let custom = body_json(&invoke(app, event("api.example.com", "/echo/x")).await);
        assert_eq!(custom["path"], "/echo/x", "{custom}");
        assert_eq!(custom["prefix"], json!([]));
        // The execute-api URL of stage `echo`: `/echo/echo/x` is stage + app path.
        let host = "k3j5h2g1f0.execute-api.eu-west-1.amazonaws.com";
        let direct = body_json(&invoke(app, event(host, "/echo/echo/x")).await);
        assert_eq!(direct["path"], "/echo/x", "{direct}");
        assert_eq!(direct["prefix"], json!(["/echo"]));
    })
    .await;
}

#[tokio::test]
async fn an_unknown_method_is_405_with_allow_or_404_as_on_the_server() {
    run_lambda(with_echo, async |app: &TestApp| {
        for (method, path, status, allow) in [
            ("QUERY", "/v1/me", 405, Some("GET, HEAD, DELETE, OPTIONS")),
            (
                "FOO",
                "/echo/items",
                405,
                Some("GET, HEAD, POST, PUT, DELETE, OPTIONS"),
            ),
            ("QUERY", "/nowhere", 404, None),
        ] {
            let mut event = fixture("http_v2_default");
            event["rawPath"] = json!(path);
            event["requestContext"]["http"]["method"] = json!(method);
            let response = invoke(app, event).await;
            assert_eq!(
                response["statusCode"], status,
                "{method} {path}: {response}"
            );
            assert_eq!(
                response["headers"]["content-type"],
                "application/problem+json"
            );
            assert_eq!(
                response["headers"]["allow"].as_str(),
                allow,
                "{method} {path}"
            );
            let problem = body_json(&response);
            assert_eq!(problem["status"], status);
            assert_eq!(problem["request_id"], response["headers"]["x-request-id"]);
        }
    })
    .await;
}

#[tokio::test]
async fn behind_a_stage_the_spec_names_it_and_the_docs_load_it_relatively() {
    run_lambda(
        |r| r,
        async |app: &TestApp| {
            let rest = invoke(app, openapi_event_rest_v1()).await;
            assert_eq!(rest["statusCode"], 200, "{rest}");
            let spec = body_json(&rest);
            assert_eq!(spec["servers"][0]["url"], "/Prod");
            assert!(spec["paths"]["/v1/me"].is_object());

            let named = invoke(app, fixture("http_v2_named_stage")).await;
            assert_eq!(named["statusCode"], 200, "{named}");
            assert_eq!(body_json(&named)["servers"][0]["url"], "/live");

            let mut custom_domain = openapi_event_rest_v1();
            custom_domain["requestContext"]["path"] = json!("/openapi.json");
            custom_domain["requestContext"]["domainName"] = json!("api.example.com");
            let spec = body_json(&invoke(app, custom_domain).await);
            assert_eq!(
                spec["servers"][0]["url"], "/",
                "behind a custom domain the stage is not in the URL"
            );

            let get = |path: &str| {
                let mut event = openapi_event_rest_v1();
                event["path"] = json!(path);
                event["requestContext"]["path"] = json!(format!("/Prod{path}"));
                invoke(app, event)
            };
            let config = body_json(&get("/swagger-ui/swagger-ui-config.json").await);
            assert_eq!(
                config["url"], "../openapi.json",
                "/Prod/swagger-ui/ loads /Prod/openapi.json"
            );
            let redirect = get("/swagger-ui/").await;
            assert_eq!(
                redirect["statusCode"]
                    .as_u64()
                    .map(|s| (300..400).contains(&s)),
                Some(true),
                "{redirect}"
            );
            let location = redirect["multiValueHeaders"]["location"][0]
                .as_str()
                .unwrap();
            assert!(
                !location.starts_with('/'),
                "a relative redirect stays under the stage: {location}"
            );
            let rapidoc = get("/rapidoc/index.html").await;
            assert!(rapidoc["body"]
                .as_str()
                .unwrap()
                .contains("../openapi.json"));
            let me = get("/v1/me").await;
            assert_eq!(
                me["statusCode"], 401,
                "API routes match under the stage too"
            );
        },
    )
    .await;
}

/// A Lambda Runtime API on loopback: hands out events, collects responses.
mod runtime_api {
    use rocket::http::Header;
    use rocket::tokio::sync::{mpsc, Mutex};
    use rocket::{get, post, routes, State};

    pub struct Queue {
        pub events: Mutex<mpsc::Receiver<String>>,
        pub responses: mpsc::Sender<String>,
    }

    #[derive(rocket::Responder)]
    pub struct Next {
        body: String,
        request_id: Header<'static>,
        deadline: Header<'static>,
        arn: Header<'static>,
        trace: Header<'static>,
    }

    #[get("/2018-06-01/runtime/invocation/next")]
    async fn next(queue: &State<Queue>) -> Option<Next> {
        let body = queue.events.lock().await.recv().await?;
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        Some(Next {
            body,
            request_id: Header::new(
                "Lambda-Runtime-Aws-Request-Id",
                uuid::Uuid::now_v7().to_string(),
            ),
            deadline: Header::new("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
            arn: Header::new(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:tally",
            ),
            trace: Header::new(
                "Lambda-Runtime-Trace-Id",
                "Root=1-6745a3c1-0123456789abcdef01234567",
            ),
        })
    }

    #[post("/2018-06-01/runtime/invocation/<_id>/response", data = "<body>")]
    async fn response(_id: &str, body: String, queue: &State<Queue>) -> &'static str {
        let _ = queue.responses.send(body).await;
        "{}"
    }

    #[post("/2018-06-01/runtime/invocation/<_id>/error", data = "<body>")]
    async fn error(_id: &str, body: String, queue: &State<Queue>) -> &'static str {
        let _ = queue
            .responses
            .send(format!("{{\"runtime_error\": {body}}}"))
            .await;
        "{}"
    }

    pub fn routes() -> Vec<rocket::Route> {
        routes![next, response, error]
    }
}

/// The tally binary in Lambda mode, under a Runtime API on loopback.
struct Function {
    events: rocket::tokio::sync::mpsc::Sender<String>,
    responses: rocket::tokio::sync::mpsc::Receiver<String>,
    child: tokio::process::Child,
    shutdown: rocket::Shutdown,
    _dir: tempfile::TempDir,
}

impl Function {
    async fn start(env: &[(&str, String)]) -> Function {
        use rocket::tokio::sync::{mpsc, Mutex};

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (event_tx, event_rx) = mpsc::channel::<String>(4);
        let (response_tx, response_rx) = mpsc::channel::<String>(4);
        let config = rocket::Config {
            port,
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            log_level: rocket::config::LogLevel::Off,
            // Responses carry whole documents (the spec is tens of KiB).
            limits: rocket::data::Limits::default()
                .limit("string", rocket::data::ToByteUnit::mebibytes(8)),
            ..rocket::Config::debug_default()
        };
        let harness = rocket::custom(config)
            .manage(runtime_api::Queue {
                events: Mutex::new(event_rx),
                responses: response_tx,
            })
            .mount("/", runtime_api::routes())
            .ignite()
            .await
            .unwrap();
        let shutdown = harness.shutdown();
        tokio::spawn(harness.launch());

        let dir = tempfile::tempdir().unwrap();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"));
        command
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "tally")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/21/[$LATEST]0123456789abcdef",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/tally")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/lambda.db", dir.path().display()),
            )
            .env("TALLY_TOKEN_KEY", "ab".repeat(32))
            .env_remove("ROCKET_PROFILE")
            .env_remove("TALLY_AUTO_MIGRATE")
            .env_remove("TALLY_SMTP_URL")
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        Function {
            events: event_tx,
            responses: response_rx,
            child: command.spawn().unwrap(),
            shutdown,
            _dir: dir,
        }
    }

    /// Sends one HTTP API v2 event and returns the function's answer.
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Value {
        let mut event = fixture("http_v2_default");
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!("");
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["http"]["path"] = json!(path);
        event["cookies"] = Value::Null;
        event["headers"]["content-type"] = json!("application/json");
        event["isBase64Encoded"] = json!(false);
        event["body"] = body.map(|b| json!(b.to_string())).unwrap_or(Value::Null);
        if let Some(token) = token {
            event["headers"]["authorization"] = json!(format!("Bearer {token}"));
        }
        self.events.send(event.to_string()).await.unwrap();
        let answer =
            tokio::time::timeout(std::time::Duration::from_secs(60), self.responses.recv())
                .await
                .expect("the function answers within a minute")
                .unwrap();
        serde_json::from_str(&answer).unwrap()
    }

    async fn stop(mut self) {
        self.child.kill().await.unwrap();
        self.shutdown.notify();
    }
}

#[tokio::test]
async fn the_tally_binary_serves_lambda_events_through_the_runtime_api() {
    let inbox = crate::helpers::Inbox::start();
    let mut function = Function::start(&[
        ("TALLY_AUTO_MIGRATE", "true".to_owned()),
        ("TALLY_SMTP_URL", format!("smtp://127.0.0.1:{}", inbox.port)),
    ])
    .await;
    let otp = function
        .call(
            "POST",
            "/v1/auth/otp",
            Some(json!({"email": "lambda@example.com"})),
            None,
        )
        .await;
    assert_eq!(otp["statusCode"], 202, "{otp}");
    let code = inbox.code_after("lambda@example.com", 0).await;
    let token = function
        .call(
            "POST",
            "/v1/auth/token",
            Some(json!({"email": "lambda@example.com", "code": code})),
            None,
        )
        .await;
    assert_eq!(token["statusCode"], 200, "{token}");
    let token = body_json(&token)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = function.call("GET", "/v1/me", None, Some(&token)).await;
    assert_eq!(me["statusCode"], 200, "{me}");
    assert_eq!(body_json(&me)["email"], "lambda@example.com");
    function.stop().await;
}

#[tokio::test]
async fn in_lambda_mode_the_pool_connects_lazily_and_migrations_wait_to_be_asked() {
    // The database does not answer: a cold start must not wait for it.
    let mut function = Function::start(&[(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:1/none".to_owned(),
    )])
    .await;
    let spec = function.call("GET", "/openapi.json", None, None).await;
    assert_eq!(spec["statusCode"], 200, "{spec}");
    let health = function.call("GET", "/health", None, None).await;
    assert_eq!(health["statusCode"], 503, "{health}");
    function.stop().await;

    // Without TALLY_AUTO_MIGRATE=true, Lambda mode leaves the schema alone.
    let mut function = Function::start(&[]).await;
    let otp = function
        .call(
            "POST",
            "/v1/auth/otp",
            Some(json!({"email": "x@example.com"})),
            None,
        )
        .await;
    assert_eq!(otp["statusCode"], 500, "no tables yet: {otp}");
    function.stop().await;
}

/// A sign-in code request as API Gateway (HTTP v2) delivers it, from `source_ip`,
/// with a header the client wrote itself.
fn otp_event(source_ip: &str, email: &str, forged: &str) -> Value {
    let mut event = fixture("http_v2_default");
    event["rawPath"] = json!("/v1/auth/otp");
    event["rawQueryString"] = json!("");
    event["requestContext"]["http"]["method"] = json!("POST");
    event["requestContext"]["http"]["path"] = json!("/v1/auth/otp");
    event["requestContext"]["http"]["sourceIp"] = json!(source_ip);
    event["headers"]["content-type"] = json!("application/json");
    event["headers"]["x-forwarded-for"] = json!(forged);
    event["body"] = json!(json!({"email": email}).to_string());
    event["isBase64Encoded"] = json!(false);
    event.as_object_mut().unwrap().remove("cookies");
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("content-length");
    event
}

#[tokio::test]
async fn on_lambda_the_sign_in_limit_counts_the_events_source_ip() {
    crate::helpers::run_with(
        crate::helpers::Backend::Sqlite,
        |s| {
            s.lambda = true;
            s.signin_limit_per_ip = 1;
        },
        |r| r,
        async |app: &TestApp| {
            let first = invoke(app, otp_event("198.51.100.23", "a@example.com", "1.1.1.1")).await;
            assert_eq!(first["statusCode"], 202, "{first}");
            // Another X-Forwarded-For does not make it another client.
            let again = invoke(app, otp_event("198.51.100.23", "b@example.com", "2.2.2.2")).await;
            assert_eq!(again["statusCode"], 429, "{again}");
            assert!(again["headers"]["retry-after"].is_string(), "{again}");
            let other = invoke(app, otp_event("203.0.113.50", "c@example.com", "1.1.1.1")).await;
            assert_eq!(other["statusCode"], 202, "{other}");
        },
    )
    .await;
}

/// A REST API (v1) event on stage `Prod` of the execute-api domain, or of a
/// custom domain (no stage in the URL).
fn rest_event(
    method: &str,
    path: &str,
    query: Option<&str>,
    token: &str,
    body: Option<Value>,
    domain: &str,
) -> Value {
    let mut event = fixture("rest_v1_prod");
    event["path"] = json!(path);
    event["httpMethod"] = json!(method);
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["path"] = json!(format!("/Prod{path}"));
    event["requestContext"]["domainName"] = json!(domain);
    let (single, multi): (Value, Value) = match query {
        Some(q) => {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect();
            (
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), json!([v])))
                    .collect::<serde_json::Map<_, _>>()
                    .into(),
            )
        }
        None => (Value::Null, Value::Null),
    };
    event["queryStringParameters"] = single;
    event["multiValueQueryStringParameters"] = multi;
    let auth = format!("Bearer {token}");
    event["headers"] =
        json!({"Authorization": auth, "Content-Type": "application/json", "Host": domain});
    event["multiValueHeaders"] =
        json!({"Authorization": [auth], "Content-Type": ["application/json"], "Host": [domain]});
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    event
}

/// An HTTP API (v2) event on the named stage `live` of the execute-api domain.
fn live_event(method: &str, path: &str, query: &str, token: &str, body: Option<Value>) -> Value {
    let mut event = fixture("http_v2_named_stage");
    let raw = format!("/live{path}");
    event["rawPath"] = json!(raw);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(raw);
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    event["headers"]["content-type"] = json!("application/json");
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("content-length");
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    event["isBase64Encoded"] = json!(false);
    event
}

fn header<'v>(response: &'v Value, name: &str) -> &'v str {
    response["headers"][name]
        .as_str()
        .or_else(|| response["multiValueHeaders"][name][0].as_str())
        .unwrap_or_else(|| panic!("no {name} in {response}"))
}

const EXECUTE_API: &str = "abc123defg.execute-api.eu-west-1.amazonaws.com";

#[tokio::test]
async fn location_and_link_keep_the_stage_of_the_url_the_client_called() {
    run_lambda(
        |r| r,
        async |app: &TestApp| {
            let token = app.sign_in("ana@example.com").await;
            let account = json!({"name": "A", "kind": "cash", "currency": "EUR"});
            // REST API, stage Prod, on its execute-api URL.
            for _ in 0..2 {
                let created = invoke(
                    app,
                    rest_event(
                        "POST",
                        "/v1/accounts",
                        None,
                        &token,
                        Some(account.clone()),
                        EXECUTE_API,
                    ),
                )
                .await;
                assert_eq!(created["statusCode"], 201, "{created}");
                let location = header(&created, "location");
                assert!(location.starts_with("/Prod/v1/accounts/"), "{location}");
            }
            let page = invoke(
                app,
                rest_event(
                    "GET",
                    "/v1/accounts",
                    Some("limit=1"),
                    &token,
                    None,
                    EXECUTE_API,
                ),
            )
            .await;
            assert_eq!(page["statusCode"], 200, "{page}");
            let link = header(&page, "link");
            assert!(
                link.starts_with("</Prod/v1/accounts?limit=1&cursor="),
                "{link}"
            );

            // The same API behind a custom domain: no stage in the URL, none in the links.
            let custom = invoke(
                app,
                rest_event(
                    "POST",
                    "/v1/accounts",
                    None,
                    &token,
                    Some(account.clone()),
                    "api.example.com",
                ),
            )
            .await;
            assert!(
                header(&custom, "location").starts_with("/v1/accounts/"),
                "{custom}"
            );
            let page = invoke(
                app,
                rest_event(
                    "GET",
                    "/v1/accounts",
                    Some("limit=1"),
                    &token,
                    None,
                    "api.example.com",
                ),
            )
            .await;
            assert!(
                header(&page, "link").starts_with("</v1/accounts?limit=1&cursor="),
                "{page}"
            );

            // HTTP API, named stage live.
            let created = invoke(
                app,
                live_event("POST", "/v1/accounts", "", &token, Some(account)),
            )
            .await;
            assert_eq!(created["statusCode"], 201, "{created}");
            let location = header(&created, "location");
            assert!(location.starts_with("/live/v1/accounts/"), "{location}");
            let id = location.rsplit('/').next().unwrap();
            let moved = invoke(
                app,
                live_event(
                    "POST",
                    &format!("/v1/accounts/{id}/movements"),
                    "",
                    &token,
                    Some(json!({"amount": 5, "description": "x"})),
                ),
            )
            .await;
            assert!(
                header(&moved, "location")
                    .starts_with(&format!("/live/v1/accounts/{id}/movements/")),
                "{moved}"
            );
            let page = invoke(
                app,
                live_event("GET", "/v1/accounts", "limit=1", &token, None),
            )
            .await;
            assert!(
                header(&page, "link").starts_with("</live/v1/accounts?limit=1&cursor="),
                "{page}"
            );
        },
    )
    .await;
}
