//! Money is never lost, doubled or half-written, whatever the timing.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::accounts::create_account;
use crate::api_test;
use crate::helpers::Req;
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
