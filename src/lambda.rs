//! AWS Lambda: every event is dispatched through the same ignited Rocket
//! instance, via an untracked `rocket::local` client. lambda_http turns API
//! Gateway (REST v1, HTTP v2), ALB and Function URL events into HTTP requests
//! and back; this adapter maps them onto Rocket (which uses http 0.2 types,
//! hence strings), strips the API Gateway stage from the path, and tells the
//! docs where they are mounted (`X-Forwarded-Prefix`).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{http, Adapter, Body, LambdaEvent, Request, RequestExt, Service};
use rocket::http::uri::Origin;
use rocket::http::{Header, Method};
use rocket::local::asynchronous::Client;

use rocket::{Build, Rocket};

use crate::http::PREFIX_HEADER;

// ANCHOR: lambda_run
/// Serves Lambda events with `app` (from `tally::rocket`) until the runtime stops.
pub async fn run(app: Rocket<Build>) -> Result<(), lambda_http::Error> {
    let client = Arc::new(client(app).await?);
    let adapter = Adapter::from(lambda_http::service_fn(move |req| {
        let client = client.clone();
        async move { Ok::<_, std::convert::Infallible>(dispatch(&client, req).await) }
    }));
    lambda_http::lambda_runtime::run(KeepMultiValueHeaders(adapter)).await
}
// ANCHOR_END: lambda_run

/// API Gateway REST and ALB events carry both `headers` (last value only) and
/// `multiValueHeaders`; lambda_http 1.3 lets the single values overwrite the
/// lists. Dropping the redundant single-value map keeps every value.
pub struct KeepMultiValueHeaders<S>(pub S);

impl<S> Service<LambdaEvent<LambdaRequest>> for KeepMultiValueHeaders<S>
where
    S: Service<LambdaEvent<LambdaRequest>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> S::Future {
        match &mut event.payload {
            LambdaRequest::ApiGatewayV1(e) if !e.multi_value_headers.is_empty() => {
                e.headers.clear()
            }
            LambdaRequest::Alb(e) if !e.multi_value_headers.is_empty() => e.headers.clear(),
            _ => {}
        }
        self.0.call(event)
    }
}

/// The Rocket instance behind the adapter, ignited once per cold start.
pub async fn client(app: Rocket<Build>) -> Result<Client, rocket::Error> {
    Client::untracked(app).await
}

/// One HTTP request from lambda_http, through Rocket, back to lambda_http.
pub async fn dispatch(client: &Client, req: Request) -> http::Response<Body> {
    let stage = Stage::of(&req);
    let path = stage.strip(req.uri().path());
    let Ok(method) = Method::from_str(req.method().as_str()) else {
        // What the server answers for a method Rocket cannot parse.
        let origin = Origin::parse(path).unwrap_or(Origin::ROOT);
        return problem(crate::http::unknown_method(client.rocket(), &origin));
    };
    let uri = match req.uri().query() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    };
    let mut local = client.req(method, uri);
    for (name, value) in req.headers() {
        if name.as_str().eq_ignore_ascii_case(PREFIX_HEADER) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        local.add_header(Header::new(name.as_str().to_owned(), value));
    }
    if let Some(prefix) = stage.public_prefix {
        local.add_header(Header::new(PREFIX_HEADER, prefix));
    }
    if let Some(ip) = source_ip(&req) {
        local.set_remote(SocketAddr::new(ip, 0));
    }
    let body: Vec<u8> = match req.body() {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.clone().into_bytes(),
        Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    };
    if !body.is_empty() {
        local.set_body(body);
    }

    let response = local.dispatch().await;
    let mut out = http::Response::builder().status(response.status().code);
    let mut has_type = false;
    for header in response.headers().iter() {
        has_type |= header.name().as_str().eq_ignore_ascii_case("content-type");
        out = out.header(header.name().as_str(), header.value());
    }
    let bytes = response.into_bytes().await.unwrap_or_default();
    // lambda_http picks text or base64 by Content-Type; without one, binary
    // bytes would be sent as (corrupted) text.
    if !has_type && !bytes.is_empty() {
        out = out.header("content-type", "application/octet-stream");
    }
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes)
    };
    out.body(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "lambda: a response header could not be converted");
        let mut fallback = http::Response::new(Body::Empty);
        *fallback.status_mut() = http::StatusCode::BAD_GATEWAY;
        fallback
    })
}

/// An API Gateway stage. lambda_http puts `/{stage}` in front of the path
/// unless the path already starts with it; Rocket's routes never have it.
struct Stage {
    /// The stage to take off the front of lambda_http's path.
    strip: Option<String>,
    /// `/{stage}` when the client's URL contains it (the API's own
    /// execute-api domain, not a custom domain): the base URL for the docs.
    public_prefix: Option<String>,
}

impl Stage {
    fn of(req: &Request) -> Stage {
        let named =
            |stage: &Option<String>| stage.clone().filter(|s| !s.is_empty() && s != "$default");
        let execute_api = |domain: &Option<String>| {
            domain
                .as_deref()
                .is_some_and(|d| d.contains(".execute-api."))
        };
        let raw = req.raw_http_path();
        // Whether lambda_http put the stage in front of the event's path.
        let added = |stage: &Option<String>| stage.as_deref().is_some_and(|s| !has_prefix(raw, s));
        let (stage, in_url, strip) = match req.request_context_ref() {
            // The v1 `path` never holds the stage.
            Some(RequestContext::ApiGatewayV1(ctx)) => {
                let stage = named(&ctx.stage);
                let strip = added(&stage);
                (stage, execute_api(&ctx.domain_name), strip)
            }
            // The v2 `rawPath` holds the stage exactly when the client called
            // the execute-api URL of a named stage (not a custom domain).
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                let stage = named(&ctx.stage);
                let in_url = execute_api(&ctx.domain_name);
                let strip = in_url || added(&stage);
                (stage, in_url, strip)
            }
            _ => (None, false, false),
        };
        Stage {
            public_prefix: stage.as_ref().filter(|_| in_url).map(|s| format!("/{s}")),
            strip: stage.filter(|_| strip),
        }
    }

    fn strip<'p>(&self, path: &'p str) -> &'p str {
        match &self.strip {
            Some(stage) if has_prefix(path, stage) => match &path[stage.len() + 1..] {
                "" => "/",
                rest => rest,
            },
            _ => path,
        }
    }
}

/// An error answered without Rocket, with the headers Rocket would add.
fn problem(error: crate::error::ApiError) -> http::Response<Body> {
    let request_id = uuid::Uuid::now_v7().to_string();
    let allow = match &error {
        crate::error::ApiError::MethodNotAllowed(allow) => Some(allow.clone()),
        _ => None,
    };
    let problem = error.into_problem(&request_id);
    let mut response = http::Response::builder()
        .status(problem.status)
        .header("content-type", "application/problem+json")
        .header(crate::telemetry::REQUEST_ID_HEADER, request_id);
    if let Some(allow) = allow {
        response = response.header("allow", allow);
    }
    response
        .body(Body::Text(
            serde_json::to_string(&problem).unwrap_or_default(),
        ))
        .expect("a static response")
}

fn has_prefix(path: &str, stage: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn source_ip(req: &Request) -> Option<IpAddr> {
    let from_context = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    // ALB appends the address it saw to X-Forwarded-For: the last entry is
    // the client; anything before it the client may have written itself.
    let forwarded = || {
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .map(|v| v.trim().to_owned())
    };
    from_context.or_else(forwarded)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::has_prefix;

    #[test]
    fn a_stage_prefix_is_a_whole_path_segment() {
        assert!(has_prefix("/Prod/v1/me", "Prod"));
        assert!(has_prefix("/Prod", "Prod"));
        assert!(!has_prefix("/Production/v1", "Prod"));
        assert!(!has_prefix("/v1/Prod", "Prod"));
    }
}
