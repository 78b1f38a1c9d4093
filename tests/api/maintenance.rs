//! Tables stay bounded: what no rule looks at any more is purged.

use chrono::{TimeDelta, Utc};
use rocket::http::Method;
use serde_json::json;

use crate::api_test;
use crate::helpers::{run_lambda, Req, TestApp};
use crate::movements::setup;

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    crate::with_pool!(app.pool(), |p| sqlx::query_scalar(&sql)
        .fetch_one(p)
        .await
        .unwrap())
}

/// Two of everything: one row that is past its window, one that is not.
async fn old_and_new_rows(app: &TestApp) {
    let (token, account) = setup(app).await;
    for key in ["old", "new"] {
        let r = app
            .call(
                Req::new(Method::Post, &format!("{account}/movements"))
                    .token(Some(&token))
                    .header("Idempotency-Key", key)
                    .json(json!({"amount": 1, "description": key})),
            )
            .await;
        assert_eq!(r.status.code, 201);
    }
    app.request_code("bob@example.com").await;
    let long_ago = Utc::now() - TimeDelta::hours(25);
    crate::with_pool!(app.pool(), |p| {
        sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE key = 'old'")
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
        sqlx::query("UPDATE otp_codes SET created_at = $1 WHERE email = 'ana@example.com'")
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
        sqlx::query("INSERT INTO signin_hits (client, window_start, hits) VALUES ('203.0.113.1', $1, 3), ('203.0.113.2', $2, 1)")
            .bind(long_ago)
            .bind(Utc::now())
            .execute(p)
            .await
            .unwrap();
    });
}

async fn counts(app: &TestApp) -> [i64; 3] {
    [
        count(app, "otp_codes").await,
        count(app, "idempotency_keys").await,
        count(app, "signin_hits").await,
    ]
}

api_test!(
    the_purge_removes_expired_codes_counts_and_keys_and_keeps_live_ones,
    |app| {
        old_and_new_rows(app).await;
        assert_eq!(counts(app).await, [2, 2, 2]);
        let purged = tally::maintenance::purge(app.pool()).await.unwrap();
        assert_eq!(purged, 3);
        assert_eq!(
            counts(app).await,
            [1, 1, 1],
            "the tables shrank to what is live"
        );
    }
);

/// Rows past their window, written behind the API's back.
async fn old_rows(app: &TestApp) {
    let long_ago = Utc::now() - TimeDelta::hours(25);
    let user = uuid::Uuid::now_v7();
    crate::with_pool!(app.pool(), |p| {
        sqlx::query("INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(format!("{user}@example.com"))
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
        sqlx::query("INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES ($1, 'k', $2, $3)")
            .bind(user)
            .bind(vec![0_u8; 32])
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
        sqlx::query("INSERT INTO otp_codes (id, email, code_hash, attempts, created_at, expires_at) VALUES ($1, 'x@example.com', $2, 0, $3, $3)")
            .bind(uuid::Uuid::now_v7())
            .bind(vec![0_u8; 32])
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
        sqlx::query("INSERT INTO signin_hits (client, window_start, hits) VALUES ($1, $2, 1)")
            .bind(user.to_string())
            .bind(long_ago)
            .execute(p)
            .await
            .unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_lambda_an_event_purges_at_most_once_a_minute() {
    run_lambda(
        |r| r,
        async |app: &TestApp| {
            old_rows(app).await;
            assert_eq!(counts(app).await, [1, 1, 1]);
            app.get("/health", None).await;
            assert_eq!(counts(app).await, [0, 0, 0], "the first event purged");
            old_rows(app).await;
            app.get("/health", None).await;
            assert_eq!(counts(app).await, [1, 1, 1], "not again within the minute");
        },
    )
    .await
}
