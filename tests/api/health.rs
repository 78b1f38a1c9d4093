use rocket::http::Status;
use serde_json::json;

use crate::api_test;

api_test!(health_is_ok_when_the_database_answers, |app| {
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(
        reply.body,
        json!({"status": "ok", "database": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
});

api_test!(health_is_503_problem_when_the_database_is_gone, |app| {
    rocket_db_pools::Pool::close(app.pool()).await;
    let reply = app.get("/health", None).await;
    let problem = reply.problem(Status::ServiceUnavailable);
    assert_eq!(problem["database"], "unavailable");
});
