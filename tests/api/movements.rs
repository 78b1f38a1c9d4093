use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::accounts::create_account;
use crate::api_test;
use crate::helpers::{Req, TestApp};

/// A signed-in user with one EUR account: `(token, account path)`.
pub async fn setup(app: &TestApp) -> (String, String) {
    let token = app.sign_in("ana@example.com").await;
    let account = create_account(
        app,
        &token,
        json!({"name": "A", "kind": "checking", "currency": "EUR"}),
    )
    .await;
    (
        token,
        format!("/v1/accounts/{}", account["id"].as_str().unwrap()),
    )
}

pub async fn balance_and_sum(app: &TestApp, token: &str, account: &str) -> (i64, i64) {
    let balance = app.get(account, Some(token)).await.body["balance"]
        .as_i64()
        .unwrap();
    let id = account.rsplit('/').next().unwrap();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let sum: i64 = crate::with_pool!(app.pool(), |p| {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM movements WHERE account_id = $1",
        )
        .bind(id)
        .fetch_one(p)
        .await
        .unwrap()
    });
    (balance, sum)
}

api_test!(
    a_movement_is_recorded_with_location_and_moves_the_balance,
    |app| {
        let (token, account) = setup(app).await;
        let reply = app
        .post(&format!("{account}/movements"), json!({"amount": -4250, "description": "Groceries", "category": "food", "occurred_at": "2026-11-20T19:30:00+01:00"}), Some(&token))
        .await;
        assert_eq!(reply.status, Status::Created, "{reply:?}");
        let id = reply.body["id"].as_str().unwrap();
        assert_eq!(
            reply.header("Location"),
            Some(format!("{account}/movements/{id}").as_str())
        );
        assert_eq!(
            reply.body["occurred_at"], "2026-11-20T18:30:00Z",
            "stored in UTC"
        );
        assert_eq!(reply.body["transfer_id"], Value::Null);
        let view = app
            .get(&format!("{account}/movements/{id}"), Some(&token))
            .await;
        assert_eq!(view.body, reply.body);

        let defaulted = app
            .post(
                &format!("{account}/movements"),
                json!({"amount": 100, "description": "Pay"}),
                Some(&token),
            )
            .await;
        assert_eq!(defaulted.body["category"], Value::Null);
        assert_eq!(
            defaulted.body["occurred_at"], defaulted.body["created_at"],
            "occurred_at defaults to now"
        );
        assert_eq!(balance_and_sum(app, &token, &account).await, (-4150, -4150));
    }
);

api_test!(movement_bodies_are_validated_all_at_once, |app| {
    let (token, account) = setup(app).await;
    let path = format!("{account}/movements");
    let cases = [
        (
            json!({"amount": 0, "description": ""}),
            vec![("amount", "non_zero"), ("description", "length")],
            "zero and empty",
        ),
        (
            json!({"amount": "12", "description": "x", "category": "Food!"}),
            vec![("amount", "type"), ("category", "pattern")],
            "string money, bad category",
        ),
        (
            json!({"amount": 1, "description": "x", "occurred_at": "2026-11-20T18:30:00"}),
            vec![("occurred_at", "format")],
            "no offset",
        ),
        (
            json!({"amount": 1_000_000_000_000_001_i64, "description": "x".repeat(201)}),
            vec![("amount", "range"), ("description", "length")],
            "too big, too long",
        ),
        (
            json!({"ammount": 5, "description": "x"}),
            vec![("ammount", "unknown_field"), ("amount", "required")],
            "a typo",
        ),
        (
            json!({"amount": 5, "description": "x", "category": "c".repeat(51)}),
            vec![("category", "length")],
            "long category",
        ),
    ];
    for (body, expected, why) in cases {
        let reply = app.post(&path, body, Some(&token)).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.into(), c.into()))
            .collect();
        assert_eq!(reply.field_errors(), expected, "{why}");
    }
    assert_eq!(
        balance_and_sum(app, &token, &account).await,
        (0, 0),
        "nothing was written"
    );
});

api_test!(deleting_a_movement_moves_the_balance_back, |app| {
    let (token, account) = setup(app).await;
    let a = app
        .post(
            &format!("{account}/movements"),
            json!({"amount": 500, "description": "a"}),
            Some(&token),
        )
        .await;
    app.post(
        &format!("{account}/movements"),
        json!({"amount": -200, "description": "b"}),
        Some(&token),
    )
    .await;
    let path = format!("{account}/movements/{}", a.body["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&path, Some(&token)).await.status,
        Status::NoContent
    );
    app.get(&path, Some(&token)).await.problem(Status::NotFound);
    app.delete(&path, Some(&token))
        .await
        .problem(Status::NotFound);
    assert_eq!(balance_and_sum(app, &token, &account).await, (-200, -200));
});

api_test!(movements_of_another_user_are_not_found, |app| {
    let (token, account) = setup(app).await;
    let m = app
        .post(
            &format!("{account}/movements"),
            json!({"amount": 500, "description": "a"}),
            Some(&token),
        )
        .await;
    let path = format!("{account}/movements/{}", m.body["id"].as_str().unwrap());
    let bob = app.sign_in("bob@example.com").await;
    app.get(&path, Some(&bob)).await.problem(Status::NotFound);
    app.delete(&path, Some(&bob))
        .await
        .problem(Status::NotFound);
    // The movement under another of ana's accounts' paths is not found either.
    let other = create_account(
        app,
        &token,
        json!({"name": "B", "kind": "cash", "currency": "EUR"}),
    )
    .await;
    let wrong = format!(
        "/v1/accounts/{}/movements/{}",
        other["id"].as_str().unwrap(),
        m.body["id"].as_str().unwrap()
    );
    app.get(&wrong, Some(&token))
        .await
        .problem(Status::NotFound);
    assert_eq!(balance_and_sum(app, &token, &account).await, (500, 500));
});

async fn post_at(
    app: &TestApp,
    token: &str,
    account: &str,
    amount: i64,
    at: &str,
    category: Option<&str>,
) -> Value {
    let mut body = json!({"amount": amount, "description": format!("at {at}"), "occurred_at": at});
    if let Some(c) = category {
        body["category"] = json!(c);
    }
    let reply = app
        .post(&format!("{account}/movements"), body, Some(token))
        .await;
    assert_eq!(reply.status, Status::Created, "{reply:?}");
    reply.body
}

api_test!(
    a_walk_over_all_pages_returns_every_movement_once_in_order,
    |app| {
        let (token, account) = setup(app).await;
        let mut expected = Vec::new();
        // 23 movements, several sharing an occurred_at, posted out of order.
        for i in 0..23 {
            let day = [5, 1, 3, 3, 2, 4, 1][i % 7];
            let m = post_at(
                app,
                &token,
                &account,
                i as i64 + 1,
                &format!("2026-11-0{day}T12:00:00Z"),
                None,
            )
            .await;
            expected.push((
                m["occurred_at"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
            ));
        }
        expected.sort();
        expected.reverse();
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

        let mut seen = Vec::new();
        let mut next = Some(format!("{account}/movements?limit=4"));
        let mut pages = 0;
        while let Some(path) = next {
            let page = app.get(&path, Some(&token)).await;
            assert_eq!(page.status, Status::Ok, "{page:?}");
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= 4);
            seen.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
            next = page.header("Link").map(|l| {
                l.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned()
            });
            pages += 1;
        }
        assert_eq!(pages, 6);
        assert_eq!(
            seen, expected,
            "every movement exactly once, newest occurred_at first"
        );
    }
);

api_test!(filters_from_inclusive_to_exclusive_and_category, |app| {
    let (token, account) = setup(app).await;
    for (day, category) in [
        (1, Some("food")),
        (2, Some("rent")),
        (3, Some("food")),
        (4, None),
    ] {
        post_at(
            app,
            &token,
            &account,
            10 * day,
            &format!("2026-11-0{day}T00:00:00Z"),
            category,
        )
        .await;
    }
    let amounts = |reply: &crate::helpers::Reply| -> Vec<i64> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["amount"].as_i64().unwrap())
            .collect()
    };
    let period = app
        .get(
            &format!("{account}/movements?from=2026-11-02T00:00:00Z&to=2026-11-04T00:00:00Z"),
            Some(&token),
        )
        .await;
    assert_eq!(amounts(&period), vec![30, 20]);
    let offset = app
        .get(
            &format!("{account}/movements?from=2026-11-02T01:00:00%2B01:00"),
            Some(&token),
        )
        .await;
    assert_eq!(amounts(&offset), vec![40, 30, 20], "offsets are honoured");
    let food = app
        .get(&format!("{account}/movements?category=food"), Some(&token))
        .await;
    assert_eq!(amounts(&food), vec![30, 10]);
    let paged = app
        .get(
            &format!("{account}/movements?category=food&limit=1"),
            Some(&token),
        )
        .await;
    let link = paged.header("Link").unwrap();
    assert!(
        link.contains("category=food") && link.contains("limit=1"),
        "{link}"
    );
    let cursor = paged.body["next_cursor"].as_str().unwrap();
    let reused = app
        .get(
            &format!("{account}/movements?category=rent&cursor={cursor}"),
            Some(&token),
        )
        .await;
    reused.problem(Status::BadRequest);
});

api_test!(bad_list_parameters_are_400_or_422, |app| {
    let (token, account) = setup(app).await;
    for (query, status) in [
        ("from=yesterday", Status::BadRequest),
        ("to=2026-11-02", Status::BadRequest),
        ("limit=x", Status::BadRequest),
        ("limit=500", Status::UnprocessableEntity),
        ("category=Food", Status::UnprocessableEntity),
        (
            "from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z",
            Status::UnprocessableEntity,
        ),
        ("cursor=AAAA", Status::BadRequest),
    ] {
        app.get(&format!("{account}/movements?{query}"), Some(&token))
            .await
            .problem(status);
    }
});

api_test!(
    the_same_idempotency_key_replays_and_a_different_body_conflicts,
    |app| {
        let (token, account) = setup(app).await;
        let path = format!("{account}/movements");
        let body = json!({"amount": 700, "description": "Salary"});
        let post = |body: Value, key: &'static str| {
            let path = path.clone();
            let token = token.clone();
            async move {
                app.call(
                    Req::new(Method::Post, &path)
                        .token(Some(&token))
                        .header("Idempotency-Key", key)
                        .json(body),
                )
                .await
            }
        };
        let first = post(body.clone(), "key-1").await;
        assert_eq!(first.status, Status::Created);
        let again = post(body.clone(), "key-1").await;
        assert_eq!(again.status, Status::Created);
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("Location"), first.header("Location"));
        assert_eq!(again.header("Idempotent-Replayed"), Some("true"));

        let different = post(json!({"amount": 701, "description": "Salary"}), "key-1").await;
        different.problem(Status::Conflict);
        let other_key = post(body.clone(), "key-2").await;
        assert_eq!(other_key.status, Status::Created);
        assert_ne!(other_key.body["id"], first.body["id"]);
        assert_eq!(balance_and_sum(app, &token, &account).await, (1400, 1400));

        // Keys are per user: bob's key-1 is his own.
        let bob = app.sign_in("bob@example.com").await;
        let bobs = create_account(
            app,
            &bob,
            json!({"name": "B", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let reply = app
            .call(
                Req::new(
                    Method::Post,
                    &format!("/v1/accounts/{}/movements", bobs["id"].as_str().unwrap()),
                )
                .token(Some(&bob))
                .header("Idempotency-Key", "key-1")
                .json(body),
            )
            .await;
        assert_eq!(reply.status, Status::Created);
    }
);

api_test!(an_idempotency_key_expires_after_24_hours, |app| {
    let (token, account) = setup(app).await;
    let path = format!("{account}/movements");
    let req = || {
        Req::new(Method::Post, &path)
            .token(Some(&token))
            .header("Idempotency-Key", "k")
            .json(json!({"amount": 1, "description": "x"}))
    };
    let first = app.call(req()).await;
    let past = chrono::Utc::now() - chrono::TimeDelta::hours(25);
    crate::with_pool!(app.pool(), |p| {
        sqlx::query("UPDATE idempotency_keys SET created_at = $1")
            .bind(past)
            .execute(p)
            .await
            .unwrap();
    });
    let second = app.call(req()).await;
    assert_eq!(second.status, Status::Created);
    assert_ne!(
        second.body["id"], first.body["id"],
        "an expired key records anew"
    );
});

api_test!(a_bad_idempotency_key_is_400, |app| {
    let (token, account) = setup(app).await;
    let long = "k".repeat(256);
    for key in ["has space", long.as_str()] {
        let reply = app
            .call(
                Req::new(Method::Post, &format!("{account}/movements"))
                    .token(Some(&token))
                    .header("Idempotency-Key", key)
                    .json(json!({"amount": 1, "description": "x"})),
            )
            .await;
        reply.problem(Status::BadRequest);
    }
});

/// PostgreSQL only: SQLite's planner is not what production runs. Under
/// `plan_cache_mode = force_generic_plan` (what a reused prepared statement
/// gets), every shape of the list's filters walks an index backwards and
/// stops at the limit, with no sort.
mod every_shape_of_the_movement_list_uses_an_index_that_stops_at_the_limit {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        crate::helpers::run(crate::helpers::Backend::Postgres, async |app: &TestApp| {
            let (token, account) = setup(app).await;
            let id = uuid::Uuid::parse_str(account.rsplit('/').next().unwrap()).unwrap();
            let me = app.get("/v1/me", Some(&token)).await;
            let user = me.body["id"].as_str().unwrap().to_owned();
            let tally::db::Pool::Postgres(pool) = app.pool() else {
                unreachable!()
            };
            let mut c = pool.acquire().await.unwrap();
            // A long history: 20,000 movements over two weeks, half of them food.
            sqlx::query(
                "INSERT INTO movements (id, account_id, amount, description, category, occurred_at, created_at)
                 SELECT gen_random_uuid(), $1, 1, 'm', CASE WHEN g % 2 = 0 THEN 'food' END,
                        TIMESTAMPTZ '2026-11-01T00:00:00Z' + make_interval(mins => g), now()
                 FROM generate_series(1, 20000) AS g",
            )
            .bind(id)
            .execute(&mut *c)
            .await
            .unwrap();
            sqlx::query("ANALYZE movements").execute(&mut *c).await.unwrap();
            sqlx::query("SET plan_cache_mode = force_generic_plan")
                .execute(&mut *c)
                .await
                .unwrap();
            for shape in 0..16 {
                let mut args = vec![format!("'{id}'"), format!("'{user}'")];
                if shape & 1 != 0 {
                    args.push("'2026-11-02T00:00:00Z'".into());
                }
                if shape & 2 != 0 {
                    args.push("'2026-11-12T00:00:00Z'".into());
                }
                if shape & 4 != 0 {
                    args.push("'food'".into());
                }
                if shape & 8 != 0 {
                    args.push("'2026-11-10T00:00:00Z'".into());
                    args.push("'ffffffff-ffff-7fff-bfff-ffffffffffff'".into());
                }
                args.push("51".into());
                let sql = tally::movements::list_sql(shape);
                sqlx::raw_sql(&format!("PREPARE list_{shape} AS {sql}"))
                    .execute(&mut *c)
                    .await
                    .unwrap();
                let plan: Vec<String> = sqlx::query_scalar(&format!(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE list_{shape}({})",
                    args.join(", ")
                ))
                .fetch_all(&mut *c)
                .await
                .unwrap();
                let plan = plan.join("\n");
                let index = if shape & 4 != 0 {
                    "Index Scan Backward using movements_by_account_category on movements"
                } else {
                    "Index Scan Backward using movements_by_account on movements"
                };
                assert!(plan.contains(index), "shape {shape}: {plan}");
                assert!(plan.contains("Limit (actual rows=51 loops=1)"), "shape {shape}: {plan}");
                let scanned = plan
                    .lines()
                    .find(|l| l.contains("Index Scan Backward"))
                    .and_then(|l| l.split("actual rows=").nth(1))
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(u32::MAX);
                assert!(scanned <= 51, "shape {shape}: the scan stops at the limit: {plan}");
                for bad in ["Sort", "Bitmap", "Seq Scan on movements"] {
                    assert!(!plan.contains(bad), "shape {shape}: {bad}: {plan}");
                }
            }
        })
        .await;
    }
}
