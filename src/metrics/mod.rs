//! `GET /metrics`: Prometheus text for operators. Requests are counted and
//! timed by route template (`/v1/accounts/<id>`, never the raw path), method
//! and status; the pool is read at each scrape. `TALLY_METRICS=false` leaves
//! it all out, and on Lambda it is off by default (see docs/deploy.md).

use std::sync::atomic::Ordering;
use std::time::Instant;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::{get, Data, Request, Response, Route, State};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{MediaType, OpenApi, RefOr, Responses};
use rocket_okapi::response::OpenApiResponderInner;
use rocket_okapi::{openapi, openapi_get_routes_spec};

use crate::db::{Db, Pool};
use crate::spec;

/// Where the metrics are served.
pub const PATH: &str = "/metrics";

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![metrics_view]
}

/// The request latency buckets, in seconds: from a cached read to a slow write.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The registry and its series: one per application instance (managed state).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    waiting: IntGauge,
    pool_timeouts: IntCounter,
}

impl Metrics {
    pub fn new(backend: &str) -> Self {
        let registry = Registry::new();
        let labels = &["route", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("tally_http_requests_total", "HTTP requests answered."),
            labels,
        )
        .expect("a valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tally_http_request_duration_seconds",
                "Time from the request's arrival to its response.",
            )
            .buckets(BUCKETS.to_vec()),
            labels,
        )
        .expect("a valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "tally_db_pool_connections",
                "Database connections by state: open, idle, in_use, max.",
            ),
            &["state"],
        )
        .expect("a valid metric");
        let waiting = IntGauge::new(
            "tally_db_writes_waiting",
            "SQLite writes waiting for the one writer's turn, or in line for a group \
             (until their group has run); always 0 on PostgreSQL.",
        )
        .expect("a valid metric");
        let pool_timeouts = IntCounter::new(
            "tally_db_pool_timeouts_total",
            "Requests that waited for a connection until the acquire timeout (answered 503).",
        )
        .expect("a valid metric");
        let build = IntGaugeVec::new(
            Opts::new("tally_build_info", "Always 1; the labels say what runs."),
            &["version", "backend"],
        )
        .expect("a valid metric");
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION"), backend])
            .set(1);
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(waiting.clone()),
            Box::new(pool_timeouts.clone()),
            Box::new(build),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            waiting,
            pool_timeouts,
        }
    }

    fn render(&self, pool: &Pool) -> String {
        let (open, idle, max) = match pool {
            Pool::Sqlite(p, _) => (p.size(), p.num_idle(), p.options().get_max_connections()),
            Pool::Postgres(p) => (p.size(), p.num_idle(), p.options().get_max_connections()),
        };
        let idle = idle as i64;
        let open = i64::from(open);
        for (state, value) in [
            ("open", open),
            ("idle", idle),
            ("in_use", open - idle),
            ("max", i64::from(max)),
        ] {
            self.pool.with_label_values(&[state]).set(value);
        }
        self.waiting.set(pool.writes_waiting());
        self.pool_timeouts
            .inc_by(crate::db::POOL_TIMEOUTS.swap(0, Ordering::Relaxed));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("the text format encodes");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// Times each request from its arrival.
struct Arrival(Instant);

/// Counts and times every response but those of `/metrics` itself.
pub struct Recorder;

#[rocket::async_trait]
impl Fairing for Recorder {
    fn info(&self) -> Info {
        Info {
            name: "Prometheus metrics",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrival(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(metrics) = req.rocket().state::<Metrics>() else {
            return;
        };
        let route = req.route();
        if route.is_some_and(|r| r.uri.path() == PATH) {
            return;
        }
        let template = match route {
            Some(r) => r.uri.as_str(),
            // A 405's path has routes, under another method.
            None if res.status() == Status::MethodNotAllowed => {
                crate::http::route_template(req).unwrap_or("unmatched")
            }
            None => "unmatched",
        };
        let method = req.method().as_str();
        let status = res.status().code.to_string();
        let labels = [template, method, status.as_str()];
        metrics.requests.with_label_values(&labels).inc();
        let started = req.local_cache(|| Arrival(Instant::now())).0;
        metrics
            .latency
            .with_label_values(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

/// Prometheus' text exposition format.
pub struct PrometheusText(String);

impl<'r> Responder<'r, 'static> for PrometheusText {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        Response::build_from(self.0.respond_to(req)?)
            .header(
                ContentType::new("text", "plain")
                    .with_params([("version", "0.0.4"), ("charset", "utf-8")]),
            )
            .status(Status::Ok)
            .ok()
    }
}

impl OpenApiResponderInner for PrometheusText {
    fn responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Responses::default();
        responses.responses.insert(
            "200".to_owned(),
            RefOr::Object(rocket_okapi::okapi::openapi3::Response {
                description: "Prometheus text exposition format, version 0.0.4.".to_owned(),
                content: rocket_okapi::okapi::map! {
                    "text/plain".to_owned() => MediaType {
                        schema: Some(spec::schema(serde_json::json!({"type": "string"}))),
                        example: Some(serde_json::json!(
                            "# TYPE tally_http_requests_total counter\ntally_http_requests_total{method=\"GET\",route=\"/v1/accounts/<id>\",status=\"200\"} 42\n"
                        )),
                        ..Default::default()
                    }
                },
                ..Default::default()
            }),
        );
        Ok(responses)
    }
}

/// # Read the metrics
///
/// Request counts and latency histograms by route template, method and
/// status (this endpoint's own requests left out), database pool gauges and
/// build info, in Prometheus' text format. 404 when `TALLY_METRICS=false`.
#[openapi(tag = "operations")]
#[get("/metrics")]
pub fn metrics_view(metrics: &State<Metrics>, db: &Db) -> PrometheusText {
    PrometheusText(metrics.render(db))
}
