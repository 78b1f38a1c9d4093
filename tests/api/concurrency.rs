//! Money is never lost, doubled or half-written, whatever the timing.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::accounts::create_account;
use crate::api_test;
use crate::helpers::{Reply, Req, TestApp};
use crate::movements::{balance_and_sum, setup};

api_test!(
    fifty_concurrent_posts_leave_balance_equal_to_the_sum,
    |app| {
        let (token, account) = setup(app).await;
        let path = format!("{account}/movements");
        let posts = (1..=50).map(|i| {
            let amount = if i % 3 == 0 { -i * 7 } else { i * 11 };
            app.post(
                &path,
                json!({"amount": amount, "description": format!("m{i}")}),
                Some(&token),
            )
        });
        let replies = futures::future::join_all(posts).await;
        assert!(
            replies.iter().all(|r| r.status == Status::Created),
            "{:?}",
            replies.iter().find(|r| r.status != Status::Created)
        );
        let expected: i64 = (1..=50)
            .map(|i| if i % 3 == 0 { -i * 7 } else { i * 11 })
            .sum();
        assert_eq!(
            balance_and_sum(app, &token, &account).await,
            (expected, expected)
        );
    }
);

api_test!(
    twenty_concurrent_transfers_back_and_forth_keep_the_total,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let a = create_account(
            app,
            &token,
            json!({"name": "a", "kind": "cash", "currency": "EUR", "opening_balance": 1_000}),
        )
        .await;
        let b = create_account(
            app,
            &token,
            json!({"name": "b", "kind": "cash", "currency": "EUR", "opening_balance": 1_000}),
        )
        .await;
        let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
        let transfers = (0..20).map(|i| {
            let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
            app.post(
                "/v1/transfers",
                json!({"from_account_id": from, "to_account_id": to, "amount": 10 + i}),
                Some(&token),
            )
        });
        let replies = futures::future::join_all(transfers).await;
        assert!(
            replies.iter().all(|r| r.status == Status::Created),
            "{:?}",
            replies.iter().find(|r| r.status != Status::Created)
        );
        let (a_balance, a_sum) = balance_and_sum(app, &token, &format!("/v1/accounts/{a}")).await;
        let (b_balance, b_sum) = balance_and_sum(app, &token, &format!("/v1/accounts/{b}")).await;
        assert_eq!((a_balance, b_balance), (a_sum, b_sum));
        assert_eq!(a_balance + b_balance, 2_000);
        let net: i64 = (0..20)
            .map(|i| if i % 2 == 0 { -(10 + i) } else { 10 + i })
            .sum();
        assert_eq!(a_balance, 1_000 + net);
    }
);

api_test!(
    ten_concurrent_requests_with_one_idempotency_key_record_one_movement,
    |app| {
        let (token, account) = setup(app).await;
        let path = format!("{account}/movements");
        let requests = (0..10).map(|_| {
            app.call(
                Req::new(Method::Post, &path)
                    .token(Some(&token))
                    .header("Idempotency-Key", "same")
                    .json(json!({"amount": 4_200, "description": "Rent"})),
            )
        });
        let replies = futures::future::join_all(requests).await;
        let created: Vec<_> = replies
            .iter()
            .filter(|r| r.status == Status::Created)
            .collect();
        for r in &replies {
            assert!(matches!(r.status.code, 201 | 409), "{r:?}");
        }
        assert!(!created.is_empty());
        assert!(
            created
                .iter()
                .all(|r| r.body["id"] == created[0].body["id"]),
            "replays return the first movement"
        );
        assert_eq!(
            balance_and_sum(app, &token, &account).await,
            (4_200, 4_200),
            "exactly one movement"
        );
    }
);

api_test!(
    concurrent_deletions_of_one_movement_reverse_it_once,
    |app| {
        let (token, account) = setup(app).await;
        let path = format!("{account}/movements");
        let kept = app
            .post(
                &path,
                json!({"amount": 300, "description": "kept"}),
                Some(&token),
            )
            .await;
        assert_eq!(kept.status, Status::Created);
        let gone = app
            .post(
                &path,
                json!({"amount": 1_000, "description": "gone"}),
                Some(&token),
            )
            .await;
        let target = format!("{path}/{}", gone.body["id"].as_str().unwrap());
        let replies =
            futures::future::join_all((0..30).map(|_| app.delete(&target, Some(&token)))).await;
        let deleted = replies
            .iter()
            .filter(|r| r.status == Status::NoContent)
            .count();
        assert_eq!(deleted, 1, "{replies:?}");
        assert!(
            replies.iter().all(|r| matches!(r.status.code, 204 | 404)),
            "{replies:?}"
        );
        assert_eq!(balance_and_sum(app, &token, &account).await, (300, 300));
    }
);

/// Every balance is the sum of its account's movements, and every transfer
/// has both legs or neither, read straight from the database.
async fn assert_the_ledger_holds(app: &TestApp) {
    let (off_balance, half_transfers): (i64, i64) = crate::with_pool!(app.pool(), |p| {
        let off: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM accounts a
             WHERE a.balance <> (SELECT COALESCE(SUM(m.amount), 0) FROM movements m WHERE m.account_id = a.id)",
        )
        .fetch_one(p)
        .await
        .unwrap();
        let half: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT transfer_id FROM movements WHERE transfer_id IS NOT NULL
             GROUP BY transfer_id HAVING COUNT(*) <> 2 OR SUM(amount) <> 0) t",
        )
        .fetch_one(p)
        .await
        .unwrap();
        (off, half)
    });
    assert_eq!(
        off_balance, 0,
        "accounts whose balance is not the sum of their movements"
    );
    assert_eq!(
        half_transfers, 0,
        "transfers without exactly two opposite legs"
    );
}

/// Fails with every reply whose status is not one of `allowed`.
#[track_caller]
fn only(replies: &[Reply], allowed: &[u16], what: &str) {
    let odd: Vec<&Reply> = replies
        .iter()
        .filter(|r| !allowed.contains(&r.status.code))
        .collect();
    assert!(odd.is_empty(), "{what}: undocumented statuses {odd:#?}");
}

async fn account(app: &TestApp, token: &str, name: &str, opening: i64) -> String {
    let a = create_account(
        app,
        token,
        json!({"name": name, "kind": "cash", "currency": "EUR", "opening_balance": opening}),
    )
    .await;
    format!("/v1/accounts/{}", a["id"].as_str().unwrap())
}

/// `n` movements on `account`, and their paths.
async fn movements(app: &TestApp, token: &str, account: &str, n: i64) -> Vec<String> {
    let mut paths = Vec::new();
    for i in 1..=n {
        let r = app
            .post(
                &format!("{account}/movements"),
                json!({"amount": i * 10, "description": format!("m{i}")}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, Status::Created, "{r:?}");
        paths.push(r.header("Location").unwrap().to_owned());
    }
    paths
}

/// `n` transfers from `a` to `b`, and the paths of their legs on `a`.
/// `n` transfers from `a` to `b`: the paths of each one's two legs.
async fn transfers(app: &TestApp, token: &str, a: &str, b: &str, n: i64) -> Vec<(String, String)> {
    let id = |path: &str| path.rsplit('/').next().unwrap().to_owned();
    let mut legs = Vec::new();
    for i in 1..=n {
        let r = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": id(a), "to_account_id": id(b), "amount": i}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, Status::Created, "{r:?}");
        let leg = |account: &str, side: &str| {
            format!(
                "{account}/movements/{}",
                r.body[side]["id"].as_str().unwrap()
            )
        };
        legs.push((leg(a, "from_movement"), leg(b, "to_movement")));
    }
    legs
}

api_test!(
    movement_and_leg_deletions_racing_an_account_deletion_answer_only_documented_statuses,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        for round in 0..4 {
            let a = account(app, &token, &format!("a{round}"), 1_000).await;
            let b = account(app, &token, &format!("b{round}"), 1_000).await;
            let mut targets = movements(app, &token, &a, 20).await;
            // Half the transfers by their leg on a, half by their leg on b.
            let legs = transfers(app, &token, &a, &b, 10).await;
            targets.extend(
                legs.into_iter()
                    .enumerate()
                    .map(|(i, (from, to))| if i % 2 == 0 { from } else { to }),
            );
            let deletions = targets.iter().map(|m| app.delete(m, Some(&token)));
            let (replies, closed) = futures::join!(
                futures::future::join_all(deletions),
                app.delete(&a, Some(&token))
            );
            only(&replies, &[204, 404], "movement deletions");
            only(&[closed], &[204], "the account deletion");
            assert_the_ledger_holds(app).await;
            let (balance, sum) = balance_and_sum(app, &token, &b).await;
            assert_eq!((balance, sum), (1_000, 1_000), "b's legs went with a");
        }
    }
);

api_test!(
    movement_deletions_and_posts_racing_the_users_deletion_answer_only_documented_statuses,
    |app| {
        for round in 0..3 {
            let token = app.sign_in(&format!("u{round}@example.com")).await;
            let a = account(app, &token, "a", 500).await;
            let b = account(app, &token, "b", 500).await;
            let mut targets = movements(app, &token, &a, 15).await;
            let legs = transfers(app, &token, &a, &b, 10).await;
            targets.extend(legs.into_iter().map(|(from, _)| from));
            let deletions = targets.iter().map(|m| app.delete(m, Some(&token)));
            let posts = (0..10).map(|i| {
                let key = format!("k{i}");
                let path = format!("{a}/movements");
                let token = token.clone();
                async move {
                    app.call(
                        Req::new(Method::Post, &path)
                            .token(Some(&token))
                            .header("Idempotency-Key", &key)
                            .json(json!({"amount": 7, "description": "late"})),
                    )
                    .await
                }
            });
            let creates = (0..5).map(|i| {
                app.post(
                    "/v1/accounts",
                    json!({"name": format!("n{i}"), "kind": "cash", "currency": "EUR", "opening_balance": 9}),
                    Some(&token),
                )
            });
            let (deleted, posted, created, me) = futures::join!(
                futures::future::join_all(deletions),
                futures::future::join_all(posts),
                futures::future::join_all(creates),
                app.delete("/v1/me", Some(&token))
            );
            only(&deleted, &[204, 401, 404], "movement deletions");
            only(&posted, &[201, 401, 404], "posts");
            only(&created, &[201, 401], "account creations");
            only(&[me], &[204], "the user's deletion");
            app.get("/v1/me", Some(&token))
                .await
                .problem(Status::Unauthorized);
            assert_the_ledger_holds(app).await;
        }
    }
);

api_test!(
    transfers_racing_deletions_of_their_legs_keep_both_legs_or_neither,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let a = account(app, &token, "a", 10_000).await;
        let b = account(app, &token, "b", 10_000).await;
        let legs = transfers(app, &token, &a, &b, 20).await;
        let id = |path: &str| path.rsplit('/').next().unwrap().to_owned();
        let new_transfers = (0..20).map(|i| {
            let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            app.post(
                "/v1/transfers",
                json!({"from_account_id": id(from), "to_account_id": id(to), "amount": 100 + i}),
                Some(&token),
            )
        });
        // Each old transfer is deleted twice at once, once from each side.
        let deletions = legs
            .iter()
            .flat_map(|(from, to)| [from, to])
            .map(|leg| app.delete(leg, Some(&token)));
        let (made, deleted) = futures::join!(
            futures::future::join_all(new_transfers),
            futures::future::join_all(deletions)
        );
        only(&made, &[201], "transfers");
        only(&deleted, &[204, 404], "leg deletions");
        assert_eq!(
            deleted
                .iter()
                .filter(|r| r.status == Status::NoContent)
                .count(),
            legs.len(),
            "each transfer is deleted exactly once"
        );
        assert_the_ledger_holds(app).await;
        let (a_balance, _) = balance_and_sum(app, &token, &a).await;
        let (b_balance, _) = balance_and_sum(app, &token, &b).await;
        assert_eq!(a_balance + b_balance, 20_000, "transfers create no money");
    }
);
