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

/// Closes every connection the app holds to its database, from the server's
/// side, as a restart, a failover or an idle timeout would.
async fn postgres_closes_the_apps_connections(app: &crate::helpers::TestApp) {
    use sqlx::Connection;
    let tally::db::Pool::Postgres(pool) = app.pool() else {
        unreachable!("run on PostgreSQL")
    };
    let mut admin = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    let closed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(closed > 0, "the app held no connection");
}

/// PostgreSQL only: SQLite has no server to close a connection.
mod a_connection_postgresql_closed_while_it_rested_is_replaced_before_use {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        crate::helpers::run(crate::helpers::Backend::Postgres, async |app| {
            assert_eq!(app.get("/health", None).await.status, Status::Ok);
            postgres_closes_the_apps_connections(app).await;
            // Rested longer than the pool trusts a connection without a ping.
            tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
            assert_eq!(app.get("/health", None).await.status, Status::Ok);
        })
        .await
    }
}

/// PostgreSQL only: SQLite has no server to close a connection.
mod a_connection_postgresql_closed_under_load_is_503_then_replaced_never_500 {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        crate::helpers::run(crate::helpers::Backend::Postgres, async |app| {
            let token = app.sign_in("ana@example.com").await;
            assert_eq!(app.get("/v1/me", Some(&token)).await.status, Status::Ok);
            postgres_closes_the_apps_connections(app).await;
            // Each closed connection may fail the one request that finds it
            // (503: try again), and is then replaced; none is ever a 500.
            let mut statuses = Vec::new();
            for _ in 0..=10 {
                let reply = app.get("/v1/me", Some(&token)).await;
                if reply.status == Status::ServiceUnavailable {
                    reply.problem(Status::ServiceUnavailable);
                }
                statuses.push(reply.status.code);
                if reply.status == Status::Ok {
                    break;
                }
            }
            let (last, before) = statuses.split_last().unwrap();
            assert!(
                *last == 200 && before.iter().all(|s| *s == 503),
                "{statuses:?}"
            );
        })
        .await
    }
}
