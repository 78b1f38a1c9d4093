//! The test harness: every test gets its own app, its own database (a SQLite
//! file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set) and
//! its own real SMTP server on loopback, which receives the sign-in mail.

use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket_db_pools::Database;
use serde_json::Value;
use tally::db::{Db, Pool};
use tally::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$p` bound to the test app's native pool, for tests
/// that look at or change the database behind the API's back.
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            tally::db::Pool::Sqlite($p, _) => $body,
            tally::db::Pool::Postgres($p) => $body,
        }
    };
}

// ANCHOR: api_test
/// Declares one test per backend: `NAME::sqlite` and `NAME::postgres`;
/// `configure = |settings| …` changes the app's settings first.
#[macro_export]
macro_rules! api_test {
    ($(#[$meta:meta])* $name:ident, configure = $configure:expr, |$app:ident| $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::helpers::run_with($crate::helpers::Backend::Sqlite, $configure, |r| r, async |$app: &$crate::helpers::TestApp| $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::helpers::run_with($crate::helpers::Backend::Postgres, $configure, |r| r, async |$app: &$crate::helpers::TestApp| $body).await
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, |$app:ident| $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::helpers::run($crate::helpers::Backend::Sqlite, async |$app: &$crate::helpers::TestApp| $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::helpers::run($crate::helpers::Backend::Postgres, async |$app: &$crate::helpers::TestApp| $body).await
            }
        }
    };
}
// ANCHOR_END: api_test

pub struct TestApp {
    pub client: Client,
    pub token_key: [u8; 32],
    settings: Settings,
    inbox: Inbox,
    _dir: tempfile::TempDir,
}

/// Runs a test on a fresh app of `backend`, and removes its database afterwards,
/// whether the test passed or not.
pub async fn run(backend: Backend, test: impl AsyncFnOnce(&TestApp)) {
    run_custom(backend, |rocket| rocket, test).await
}

/// `run`, with extra routes or state added to the app before it ignites.
pub async fn run_custom(
    backend: Backend,
    customize: impl FnOnce(rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build>,
    test: impl AsyncFnOnce(&TestApp),
) {
    run_with(backend, |_| {}, customize, test).await
}

/// `run_custom` on SQLite, with the app in Lambda mode (as the tally binary
/// is under `AWS_LAMBDA_RUNTIME_API`): it believes the adapter's headers.
pub async fn run_lambda(
    customize: impl FnOnce(rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build>,
    test: impl AsyncFnOnce(&TestApp),
) {
    run_with(Backend::Sqlite, |s| s.lambda = true, customize, test).await
}

/// `run_custom`, with the settings changed first.
pub async fn run_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
    customize: impl FnOnce(rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build>,
    test: impl AsyncFnOnce(&TestApp),
) {
    let admin_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                eprintln!("skipped: TEST_DATABASE_URL is not set, so the PostgreSQL backend is not tested");
                return;
            }
        },
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_name) = match &admin_url {
        None => (format!("sqlite://{}/tally.db", dir.path().display()), None),
        Some(admin) => {
            let name = format!("tally_test_{}", uuid::Uuid::now_v7().simple());
            pg_admin(admin, &format!("CREATE DATABASE \"{name}\"")).await;
            let mut url = url::Url::parse(admin).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&name);
            (url.to_string(), Some(name))
        }
    };
    let app = TestApp::spawn(database_url, dir, configure, customize).await;
    let outcome = AssertUnwindSafe(test(&app)).catch_unwind().await;
    drop(app);
    if let (Some(admin), Some(name)) = (&admin_url, &pg_name) {
        pg_admin(
            admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .await;
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn pg_admin(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("TEST_DATABASE_URL must reach PostgreSQL");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
}

impl TestApp {
    // ANCHOR: spawn
    async fn spawn(
        database_url: String,
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut Settings),
        customize: impl FnOnce(rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build>,
    ) -> TestApp {
        let inbox = Inbox::start();
        let mut token_key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut token_key);
        let figment = rocket::Config::figment()
            .merge(("log_level", "off"))
            .merge(("database_url", &database_url))
            .merge(("token_key", hex::encode(token_key)))
            .merge(("smtp_url", format!("smtp://127.0.0.1:{}", inbox.port)))
            // Every test signs in from loopback; the limit has tests of its own.
            .merge(("signin_limit_per_ip", 0));
        let mut settings = Settings::from_figment(figment).expect("test settings are valid");
        configure(&mut settings);
        let client = Client::untracked(customize(tally::rocket(settings.clone())))
            .await
            .expect("the app ignites");
        TestApp {
            client,
            token_key,
            settings,
            inbox,
            _dir: dir,
        }
    }
    // ANCHOR_END: spawn

    // ANCHOR: twin
    /// Another instance of the app on the same database and keys, as a
    /// second server behind a load balancer would be.
    pub async fn twin(&self) -> TestApp {
        let client = Client::untracked(tally::rocket(self.settings.clone()))
            .await
            .expect("the twin ignites");
        TestApp {
            client,
            token_key: self.token_key,
            settings: self.settings.clone(),
            inbox: self.inbox.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    // ANCHOR_END: twin

    pub fn pool(&self) -> &Pool {
        Db::fetch(self.client.rocket()).expect("the pool is managed")
    }

    /// Sends a request and returns status, headers we care about and the JSON body.
    pub async fn call(&self, req: Req<'_>) -> Reply {
        let mut request = self.client.req(req.method, req.path.to_owned());
        if let Some(remote) = req.remote {
            request = request.remote(remote);
        }
        if let Some(token) = req.token {
            request = request.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        for (name, value) in req.headers {
            request = request.header(Header::new(name.to_owned(), value.to_owned()));
        }
        if req.json {
            request = request.header(ContentType::JSON);
        }
        if let Some(body) = req.body {
            request = request.body(body);
        }
        Reply::read(request.dispatch().await).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Req::new(rocket::http::Method::Get, path).token(token))
            .await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        self.call(
            Req::new(rocket::http::Method::Post, path)
                .json(body)
                .token(token),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Req::new(rocket::http::Method::Delete, path).token(token))
            .await
    }

    /// Asks for a code and reads it from the e-mail the SMTP server received.
    pub async fn request_code(&self, email: &str) -> String {
        let before = self.inbox.count_for(email);
        let reply = self
            .post("/v1/auth/otp", serde_json::json!({ "email": email }), None)
            .await;
        assert_eq!(reply.status, Status::Accepted, "{reply:?}");
        self.inbox.code_after(email, before).await
    }

    // ANCHOR: sign_in
    /// Signs in through the e-mail flow and returns the access token.
    pub async fn sign_in(&self, email: &str) -> String {
        let code = self.request_code(email).await;
        let reply = self
            .post(
                "/v1/auth/token",
                serde_json::json!({ "email": email, "code": code }),
                None,
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "{reply:?}");
        reply.body["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }
    // ANCHOR_END: sign_in

    pub fn mails_to(&self, email: &str) -> Vec<Mail> {
        self.inbox.mails_to(email)
    }

    /// From now on the SMTP server refuses every recipient (550).
    pub fn refuse_mail(&self) {
        self.inbox.refuse.store(true, Ordering::SeqCst);
    }
}

pub struct Req<'a> {
    remote: Option<std::net::SocketAddr>,
    method: rocket::http::Method,
    path: &'a str,
    token: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<String>,
    json: bool,
}

impl<'a> Req<'a> {
    pub fn new(method: rocket::http::Method, path: &'a str) -> Self {
        Req {
            remote: None,
            method,
            path,
            token: None,
            headers: Vec::new(),
            body: None,
            json: false,
        }
    }
    pub fn token(mut self, token: Option<&'a str>) -> Self {
        self.token = token;
        self
    }
    /// The socket address the request comes from.
    pub fn remote(mut self, addr: &str) -> Self {
        self.remote = Some(addr.parse().expect("ip:port"));
        self
    }
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self.json = true;
        self
    }
    /// A raw body, sent with whatever `Content-Type` the test sets (none by default).
    pub fn raw(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self.json = false;
        self
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    async fn read(response: LocalResponse<'_>) -> Reply {
        let status = response.status();
        let content_type = response.content_type().map(|ct| ct.to_string());
        let headers = response
            .headers()
            .iter()
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect();
        let text = response.into_string().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    // ANCHOR: problem
    /// Asserts an RFC 9457 problem with this status, and returns it.
    #[track_caller]
    pub fn problem(&self, status: Status) -> &Value {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["type"], "about:blank", "{self:?}");
        assert_eq!(self.body["status"], status.code, "{self:?}");
        assert_eq!(self.body["title"], rfc9110_title(status), "{self:?}");
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{self:?}"
        );
        assert_eq!(
            self.body["request_id"].as_str(),
            self.header("X-Request-Id"),
            "the problem names the response's request id"
        );
        &self.body
    }
    // ANCHOR_END: problem

    /// The `(field, code)` pairs of a 422 problem.
    #[track_caller]
    pub fn field_errors(&self) -> Vec<(String, String)> {
        let problem = self.problem(Status::UnprocessableEntity);
        problem["errors"]
            .as_array()
            .expect("422 lists errors")
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The reason phrase RFC 9110 gives `status` (Rocket 0.5 still says
/// "Unprocessable Entity" and "Payload Too Large", RFC 7231's words).
pub fn rfc9110_title(status: Status) -> &'static str {
    match status.code {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.reason().unwrap(),
    }
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub raw: String,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.raw
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim())
    }

    /// The standalone 6-digit number in the body.
    pub fn code(&self) -> Option<String> {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b)?;
        body.lines()
            .map(str::trim)
            .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
    }
}

/// A real SMTP server (mailin) listening on a loopback port of its own.
#[derive(Clone)]
pub struct Inbox {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicBool>,
}

#[derive(Clone)]
struct SmtpHandler {
    mails: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicBool>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpHandler {
    fn rcpt(&mut self, _to: &str) -> mailin_embedded::Response {
        if self.refuse.load(Ordering::SeqCst) {
            mailin_embedded::response::NO_MAILBOX
        } else {
            mailin_embedded::response::OK
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.iter().map(|t| t.to_ascii_lowercase()).collect();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mail = Mail {
            to: std::mem::take(&mut self.to),
            raw: String::from_utf8_lossy(&self.data).into_owned(),
        };
        self.mails.lock().unwrap().push(mail);
        mailin_embedded::response::OK
    }
}

impl Inbox {
    pub fn start() -> Inbox {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let refuse = Arc::new(AtomicBool::new(false));
        let mut server = mailin_embedded::Server::new(SmtpHandler {
            mails: mails.clone(),
            refuse: refuse.clone(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("inbox.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Inbox {
            port,
            mails,
            refuse,
        }
    }

    fn mails_to(&self, email: &str) -> Vec<Mail> {
        let email = email.to_ascii_lowercase();
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to.contains(&email))
            .cloned()
            .collect()
    }

    fn count_for(&self, email: &str) -> usize {
        self.mails_to(email).len()
    }

    pub async fn code_after(&self, email: &str, before: usize) -> String {
        for _ in 0..100 {
            if let Some(mail) = self.mails_to(email).get(before) {
                return mail.code().expect("the mail carries a 6-digit code");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no sign-in mail reached {email}");
    }
}
