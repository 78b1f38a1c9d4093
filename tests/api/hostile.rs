//! Input a careless or hostile client sends: every answer is a documented
//! status with a clear problem, the same on both backends, and nothing is
//! half-written.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::accounts::create_account;
use crate::api_test;
use crate::helpers::{Req, TestApp};
use crate::movements::{balance_and_sum, setup};

/// Every C0 control character class a string can smuggle in.
const CONTROLS: [&str; 5] = ["\u{0}", "\n", "\t", "\r", "\u{1f}"];

async fn field_errors_of(app: &TestApp, req: Req<'_>) -> Vec<(String, String)> {
    app.call(req).await.field_errors()
}

api_test!(
    control_characters_in_every_string_field_are_422_on_both_backends,
    |app| {
        let (token, account) = setup(app).await;
        let other = create_account(
            app,
            &token,
            json!({"name": "B", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let id = |path: &str| path.rsplit('/').next().unwrap().to_owned();
        for c in CONTROLS {
            let text = format!("a{c}b");
            let movements = format!("{account}/movements");
            // (method, path, body, the field and code the 422 names)
            let cases: Vec<(Method, String, Value, (&str, &str))> = vec![
                (
                    Method::Post,
                    "/v1/auth/otp".into(),
                    json!({"email": format!("a{c}@example.com")}),
                    ("email", "email"),
                ),
                (
                    Method::Post,
                    "/v1/auth/token".into(),
                    json!({"email": "ana@example.com", "code": format!("12{c}456")}),
                    ("code", "pattern"),
                ),
                (
                    Method::Post,
                    "/v1/accounts".into(),
                    json!({"name": text, "kind": "cash", "currency": "EUR"}),
                    ("name", "control"),
                ),
                (
                    Method::Post,
                    "/v1/accounts".into(),
                    json!({"name": "ok", "kind": "cash", "currency": format!("EU{c}")}),
                    ("currency", "currency"),
                ),
                (
                    Method::Patch,
                    account.clone(),
                    json!({"name": text}),
                    ("name", "control"),
                ),
                (
                    Method::Post,
                    movements.clone(),
                    json!({"amount": 1, "description": text}),
                    ("description", "control"),
                ),
                (
                    Method::Post,
                    movements.clone(),
                    json!({"amount": 1, "description": "ok", "category": format!("fo{c}od")}),
                    ("category", "pattern"),
                ),
                (
                    Method::Post,
                    "/v1/transfers".into(),
                    json!({"from_account_id": id(&account), "to_account_id": other["id"], "amount": 1, "description": text}),
                    ("description", "control"),
                ),
            ];
            for (method, path, body, (field, code)) in cases {
                let errors = field_errors_of(
                    app,
                    Req::new(method, &path)
                        .token(Some(&token))
                        .json(body.clone()),
                )
                .await;
                assert_eq!(
                    errors,
                    vec![(field.to_owned(), code.to_owned())],
                    "{method} {path} {body}"
                );
            }
            let query = format!("{movements}?category=fo{}od", urlencode(c));
            assert_eq!(
                app.get(&query, Some(&token)).await.field_errors(),
                vec![("category".to_owned(), "pattern".to_owned())]
            );
        }
        assert_eq!(
            balance_and_sum(app, &token, &account).await,
            (0, 0),
            "nothing was written"
        );
        let name = app.get(&account, Some(&token)).await.body["name"].clone();
        assert_eq!(name, "A", "the account kept its name");
    }
);

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

api_test!(text_without_control_characters_is_stored_as_sent, |app| {
    let (token, account) = setup(app).await;
    let text = "Café 🎉 \u{7f} \u{a0} naïve — 100% «ok»";
    let reply = app
        .post(
            &format!("{account}/movements"),
            json!({"amount": 1, "description": text}),
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{reply:?}");
    let stored = app
        .get(reply.header("Location").unwrap(), Some(&token))
        .await;
    assert_eq!(stored.body["description"], text);
});

/// Inserts, behind the API's back, `per_account` movements of the largest
/// amount on each of `accounts` new EUR accounts of `token`'s user, with
/// balances and daily totals to match (as the ledger would have written
/// them): sums far beyond 64 bits.
async fn huge_history(app: &TestApp, token: &str, accounts: usize, per_account: i64) {
    const MAX: i64 = 1_000_000_000_000_000;
    for i in 0..accounts {
        let a = create_account(
            app,
            token,
            json!({"name": format!("big{i}"), "kind": "investment", "currency": "EUR"}),
        )
        .await;
        let id = uuid::Uuid::parse_str(a["id"].as_str().unwrap()).unwrap();
        let balance = MAX * per_account;
        match app.pool() {
            tally::db::Pool::Sqlite(p, _) => {
                sqlx::query(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
                     INSERT INTO movements (id, account_id, amount, description, category, occurred_at, created_at)
                     SELECT randomblob(16), $1, $2, 'big', 'big', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n",
                )
                .bind(id)
                .bind(MAX)
                .bind(per_account)
                .execute(p)
                .await
                .unwrap();
                sqlx::query("UPDATE accounts SET balance = $1 WHERE id = $2")
                    .bind(balance)
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO movement_totals (account_id, day, category, income, expense) VALUES ($1, '2026-01-01', 'big', $2, 0)")
                    .bind(id)
                    .bind(balance)
                    .execute(p)
                    .await
                    .unwrap();
            }
            tally::db::Pool::Postgres(p) => {
                sqlx::query(
                    "INSERT INTO movements (id, account_id, amount, description, category, occurred_at, created_at)
                     SELECT gen_random_uuid(), $1, $2, 'big', 'big', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
                     FROM generate_series(1, $3)",
                )
                .bind(id)
                .bind(MAX)
                .bind(per_account as i32)
                .execute(p)
                .await
                .unwrap();
                sqlx::query("UPDATE accounts SET balance = $1 WHERE id = $2")
                    .bind(balance)
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO movement_totals (account_id, day, category, income, expense) VALUES ($1, '2026-01-01', 'big', $2, 0)")
                    .bind(id)
                    .bind(balance)
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
    }
}

api_test!(overview_sums_beyond_64_bits_are_exact_not_a_500, |app| {
    let token = app.sign_in("ana@example.com").await;
    // 10 accounts of 10^18 each: 10^19 in all, more than i64::MAX (9.2 × 10^18).
    huge_history(app, &token, 10, 1000).await;
    let reply = app.get("/v1/overview", Some(&token)).await;
    assert_eq!(reply.status, Status::Ok, "{reply:?}");
    let ten_to_the_19 = 10_000_000_000_000_000_000_u64;
    let eur = &reply.body["currencies"][0];
    assert_eq!(eur["balance"].as_u64(), Some(ten_to_the_19), "{eur}");
    assert_eq!(eur["income"].as_u64(), Some(ten_to_the_19), "{eur}");
    assert_eq!(eur["accounts"], 10);
    let big = &reply.body["categories"][0];
    assert_eq!(
        (big["category"].as_str(), big["income"].as_u64()),
        (Some("big"), Some(ten_to_the_19))
    );
    // A period holding all of it says the same.
    let period = app
        .get(
            "/v1/overview?from=2025-01-01T00:00:00Z&to=2027-01-01T00:00:00Z",
            Some(&token),
        )
        .await;
    assert_eq!(
        period.body["currencies"][0]["income"].as_u64(),
        Some(ten_to_the_19)
    );
});

api_test!(a_balance_cannot_leave_ten_to_the_eighteen, |app| {
    let token = app.sign_in("ana@example.com").await;
    huge_history(app, &token, 1, 1000).await;
    let accounts = app.get("/v1/accounts", Some(&token)).await;
    let path = format!(
        "/v1/accounts/{}/movements",
        accounts.body["items"][0]["id"].as_str().unwrap()
    );
    let reply = app
        .post(
            &path,
            json!({"amount": 1, "description": "one more"}),
            Some(&token),
        )
        .await;
    assert_eq!(
        reply.field_errors(),
        vec![("amount".to_owned(), "balance_range".to_owned())]
    );
});

api_test!(
    a_64_kib_body_of_unknown_fields_is_one_422_listing_100_and_counting_all,
    |app| {
        let mut body = serde_json::Map::new();
        body.insert("email".into(), json!("ana@example.com"));
        let (mut i, mut size) = (0, 30);
        while size < 64 * 1024 - 20 {
            let name = format!("f{i}");
            size += name.len() + 5; // "name":0,
            body.insert(name, json!(0));
            i += 1;
        }
        let reply = app
            .call(Req::new(Method::Post, "/v1/auth/otp").json(Value::Object(body)))
            .await;
        let errors = reply.field_errors();
        assert_eq!(errors.len(), 100, "the list is capped");
        assert!(errors.iter().all(|(_, code)| code == "unknown_field"));
        assert_eq!(
            reply.body["detail"],
            format!("{i} fields are invalid; the first 100 are listed")
        );
    }
);

api_test!(
    edge_inputs_found_by_the_benchmark_peer_are_one_clear_422,
    |app| {
        let (token, account) = setup(app).await;
        let cases = [
            (
                "/v1/auth/otp".to_owned(),
                json!({"email": "q@[127.0.0.1]"}),
                ("email", "email"),
                "an IP-literal address passes HTML5's rule but no mailer takes it",
            ),
            (
                format!("{account}/movements"),
                json!({"amount": 1, "description": "x", "occurred_at": "0000-01-01T00:00:00Z"}),
                ("occurred_at", "format"),
                "year 0 exists in RFC 3339, not in PostgreSQL",
            ),
            (
                "/v1/accounts".to_owned(),
                json!({"name": "A", "kind": null, "currency": "EUR"}),
                ("kind", "type"),
                "one error for one field",
            ),
        ];
        for (path, body, (field, code), why) in cases {
            let reply = app.post(&path, body, Some(&token)).await;
            assert_eq!(
                reply.field_errors(),
                vec![(field.to_owned(), code.to_owned())],
                "{why}"
            );
            assert_eq!(reply.body["detail"], "1 field is invalid", "{why}");
        }
    }
);

/// Sets the account's income in category `x` on `day` 10 short of what 64
/// bits hold, behind the API's back.
async fn income_ten_short_of_64_bits(app: &TestApp, account: &str, day: &str) {
    let id = uuid::Uuid::parse_str(account.rsplit('/').next().unwrap()).unwrap();
    crate::with_pool!(app.pool(), |p| {
        sqlx::query(
            "INSERT INTO movement_totals (account_id, day, category, income, expense) VALUES ($1, $2, 'x', $3, 0)",
        )
        .bind(id)
        .bind(chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap())
        .bind(i64::MAX - 10)
        .execute(p)
        .await
        .unwrap();
    });
}

api_test!(
    deleting_an_account_whose_transfer_leg_cannot_move_back_is_422_and_deletes_nothing,
    |app| {
        let (token, a) = setup(app).await;
        let b = create_account(
            app,
            &token,
            json!({"name": "B", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let b = format!("/v1/accounts/{}", b["id"].as_str().unwrap());
        let id = |path: &str| path.rsplit('/').next().unwrap().to_owned();
        let reply = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": id(&a), "to_account_id": id(&b), "amount": 10}),
                Some(&token),
            )
            .await;
        assert_eq!(reply.status, Status::Created, "{reply:?}");
        // B spent down to the floor after the transfer came in: moving the
        // transfer's leg on B back would take B below -10^18.
        let floor = -tally::domain::MAX_BALANCE;
        let b_id = uuid::Uuid::parse_str(&id(&b)).unwrap();
        crate::with_pool!(app.pool(), |p| {
            sqlx::query("UPDATE accounts SET balance = $1 WHERE id = $2")
                .bind(floor)
                .bind(b_id)
                .execute(p)
                .await
                .unwrap();
        });
        let reply = app
            .call(Req::new(Method::Delete, &a).token(Some(&token)))
            .await;
        let problem = reply.problem(Status::UnprocessableEntity);
        assert_eq!(problem["errors"][0]["code"], "balance_range", "{problem}");
        assert_eq!(app.get(&a, Some(&token)).await.status, Status::Ok);
        assert_eq!(app.get(&b, Some(&token)).await.body["balance"], floor);
        let legs = app.get(&format!("{b}/movements"), Some(&token)).await;
        assert_eq!(legs.body["items"].as_array().unwrap().len(), 1, "{legs:?}");
    }
);

api_test!(
    a_days_total_that_would_leave_64_bits_is_422_and_writes_nothing,
    |app| {
        let (token, account) = setup(app).await;
        let day = "2026-05-01";
        income_ten_short_of_64_bits(app, &account, day).await;
        let reply = app
        .post(
            &format!("{account}/movements"),
            json!({"amount": 11, "description": "one too many", "category": "x", "occurred_at": format!("{day}T10:00:00Z")}),
            Some(&token),
        )
        .await;
        assert_eq!(
            reply.field_errors(),
            vec![("amount".to_owned(), "totals_range".to_owned())]
        );
        assert_eq!(
            balance_and_sum(app, &token, &account).await,
            (0, 0),
            "neither the balance nor a movement was written"
        );
        let ok = app
        .post(
            &format!("{account}/movements"),
            json!({"amount": 10, "description": "fits", "category": "x", "occurred_at": format!("{day}T10:00:00Z")}),
            Some(&token),
        )
        .await;
        assert_eq!(ok.status, Status::Created, "{ok:?}");
    }
);

api_test!(
    a_post_the_database_fails_part_way_writes_nothing_and_the_next_posts_land,
    |app| {
        let (token, account) = setup(app).await;
        boom_on_insert(app).await;
        let path = format!("{account}/movements");
        let failed = app
            .post(
                &path,
                json!({"amount": -500, "description": "boom"}),
                Some(&token),
            )
            .await;
        failed.problem(Status::InternalServerError);
        // Writes land afterwards: no connection went back to the pool inside
        // the failed transaction, holding SQLite's write lock.
        for i in 0..8 {
            let ok = app
                .post(
                    &path,
                    json!({"amount": 100, "description": format!("fine {i}")}),
                    Some(&token),
                )
                .await;
            assert_eq!(ok.status, Status::Created, "post {i}: {ok:?}");
        }
        assert_eq!(balance_and_sum(app, &token, &account).await, (800, 800));
    }
);

/// A fault the service cannot foresee, after the account's update has run:
/// inserting a movement described "boom" fails.
async fn boom_on_insert(app: &TestApp) {
    let trigger = match app.pool() {
        tally::db::Pool::Sqlite(..) => {
            "CREATE TRIGGER boom BEFORE INSERT ON movements WHEN NEW.description = 'boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END"
        }
        tally::db::Pool::Postgres(_) => {
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON movements FOR EACH ROW
                WHEN (NEW.description = 'boom') EXECUTE FUNCTION boom()"
        }
    };
    crate::with_pool!(app.pool(), |p| {
        sqlx::raw_sql(trigger).execute(p).await.unwrap();
    });
}

api_test!(
    posts_sent_together_each_get_their_own_answer_and_one_the_database_fails_takes_none_with_it,
    |app| {
        // On SQLite, posts that wait together share one transaction (group
        // commit): refusals, a failure and successes in one group.
        let (token, account) = setup(app).await;
        boom_on_insert(app).await;
        let day = "2026-05-01";
        income_ten_short_of_64_bits(app, &account, day).await;
        let path = format!("{account}/movements");
        let elsewhere = format!("/v1/accounts/{}/movements", uuid::Uuid::now_v7());
        let token = token.as_str();
        let mut sent = Vec::new();
        for i in 0..16 {
            let (to, body, expected) = match i % 4 {
                0 => (
                    &path,
                    json!({"amount": -5, "description": "boom"}),
                    Status::InternalServerError,
                ),
                1 => (
                    &path,
                    json!({"amount": 11, "description": "too much", "category": "x", "occurred_at": format!("{day}T10:00:00Z")}),
                    Status::UnprocessableEntity,
                ),
                2 => (
                    &elsewhere,
                    json!({"amount": 7, "description": "nowhere"}),
                    Status::NotFound,
                ),
                _ => (
                    &path,
                    json!({"amount": 100, "description": format!("fine {i}")}),
                    Status::Created,
                ),
            };
            sent.push(async move { (i, expected, app.post(to, body, Some(token)).await) });
        }
        // Another writer holds SQLite's write lock while the posts queue
        // up behind it, so that they run in groups when it lets go.
        let holder = app.pool().begin_write().await.unwrap();
        let (replies, ()) = tokio::join!(futures::future::join_all(sent), async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            drop(holder);
        });
        for (i, expected, reply) in replies {
            assert_eq!(reply.status, expected, "post {i}: {reply:?}");
        }
        assert_eq!(
            balance_and_sum(app, token, &account).await,
            (400, 400),
            "the four fine posts landed, and nothing of the others"
        );
    }
);

/// PostgreSQL only: SQLite's busy writers wait in Tally's own queue, and no
/// statement can make SQLite report a deadlock. A trigger reports one
/// (SQLSTATE 40P01) on the inserts of movements described `flaky` while a
/// sequence counts below `fails`, and on every insert described `deadlocked`.
mod a_deadlock_is_retried_and_one_that_persists_is_503_and_writes_nothing {
    use super::*;

    async fn deadlock_on_insert(app: &TestApp, fails: i64) {
        let tally::db::Pool::Postgres(pool) = app.pool() else {
            unreachable!()
        };
        sqlx::raw_sql(&format!(
            "CREATE SEQUENCE flaky;
             CREATE FUNCTION deadlock() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 IF NEW.description = 'deadlocked' OR nextval('flaky') <= {fails} THEN
                     RAISE EXCEPTION 'a deadlock, staged' USING ERRCODE = '40P01';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER deadlock BEFORE INSERT ON movements FOR EACH ROW
                 WHEN (NEW.description IN ('flaky', 'deadlocked')) EXECUTE FUNCTION deadlock()"
        ))
        .execute(pool)
        .await
        .unwrap();
    }

    async fn tries(app: &TestApp) -> i64 {
        let tally::db::Pool::Postgres(pool) = app.pool() else {
            unreachable!()
        };
        sqlx::query_scalar("SELECT last_value FROM flaky")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn postgres() {
        crate::helpers::run(crate::helpers::Backend::Postgres, async |app: &TestApp| {
            let (token, account) = setup(app).await;
            let other = create_account(
                app,
                &token,
                json!({"name": "B", "kind": "cash", "currency": "EUR", "opening_balance": 1000}),
            )
            .await;
            let other = format!("/v1/accounts/{}", other["id"].as_str().unwrap());
            deadlock_on_insert(app, 2).await;
            let path = format!("{account}/movements");

            // A post (one statement of its own) fails twice, then lands.
            let reply = app
                .post(
                    &path,
                    json!({"amount": 70, "description": "flaky"}),
                    Some(&token),
                )
                .await;
            assert_eq!(reply.status, Status::Created, "{reply:?}");
            assert_eq!(tries(app).await, 3, "two failures, then the third try");
            assert_eq!(balance_and_sum(app, &token, &account).await, (70, 70));

            // A transfer (a transaction of several statements) the same way.
            let leg = json!({
                "from_account_id": other.rsplit('/').next().unwrap(),
                "to_account_id": account.rsplit('/').next().unwrap(),
                "amount": 30, "description": "flaky",
            });
            sqlx::query("SELECT setval('flaky', 1, false)")
                .execute(match app.pool() {
                    tally::db::Pool::Postgres(p) => p,
                    _ => unreachable!(),
                })
                .await
                .unwrap();
            let reply = app.post("/v1/transfers", leg, Some(&token)).await;
            assert_eq!(reply.status, Status::Created, "{reply:?}");
            assert_eq!(balance_and_sum(app, &token, &account).await, (100, 100));
            assert_eq!(balance_and_sum(app, &token, &other).await, (970, 970));

            // A deadlock on every try: 503 with Retry-After, nothing written.
            for (to, body) in [
                (
                    path.clone(),
                    json!({"amount": 5, "description": "deadlocked"}),
                ),
                (
                    "/v1/transfers".to_owned(),
                    json!({
                        "from_account_id": account.rsplit('/').next().unwrap(),
                        "to_account_id": other.rsplit('/').next().unwrap(),
                        "amount": 5, "description": "deadlocked",
                    }),
                ),
            ] {
                let reply = app.post(&to, body, Some(&token)).await;
                reply.problem(Status::ServiceUnavailable);
                assert!(reply.header("Retry-After").is_some(), "{reply:?}");
            }
            assert_eq!(balance_and_sum(app, &token, &account).await, (100, 100));
            assert_eq!(balance_and_sum(app, &token, &other).await, (970, 970));
        })
        .await
    }
}
