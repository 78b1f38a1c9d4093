//! Keeping tables bounded: sign-in codes and counts past their window and
//! idempotency keys past their 24 hours are purged while Tally serves, every
//! few minutes on a server, and on Lambda (where nothing runs between
//! events) during an event at most once a minute per instance.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Orbit, Request, Response, Rocket};
use rocket_db_pools::Database;

use crate::db::{Db, Pool};
use crate::domain::time;
use crate::{auth, idempotency};

/// How often a server purges.
pub const SERVER_EVERY: Duration = Duration::from_secs(300);
/// At most how often a Lambda instance purges.
pub const LAMBDA_EVERY: Duration = Duration::from_secs(60);

// ANCHOR: purge
/// Deletes what no rule looks at any more; how many rows went.
pub async fn purge(pool: &Pool) -> Result<u64, sqlx::Error> {
    let now = time::now();
    let codes = auth::purge(pool, now).await?;
    let keys = idempotency::purge(pool, now - idempotency::RETENTION).await?;
    if codes + keys > 0 {
        tracing::info!(codes, keys, "purged expired rows");
    }
    Ok(codes + keys)
}
// ANCHOR_END: purge

/// A clock that says "due" at most once per period, to one caller.
pub struct Due {
    every: i64,
    last: AtomicI64,
}

impl Due {
    pub fn new(every: Duration) -> Self {
        Due {
            every: every.as_secs() as i64,
            last: AtomicI64::new(0),
        }
    }

    /// `true` for the first caller once `every` has passed since the last `true`.
    pub fn take(&self, now_secs: i64) -> bool {
        let last = self.last.load(Ordering::Relaxed);
        now_secs - last >= self.every
            && self
                .last
                .compare_exchange(last, now_secs, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }
}

/// Runs the purge: on a timer for a server, during responses on Lambda.
pub struct Maintenance {
    lambda: bool,
    due: Due,
}

impl Maintenance {
    pub fn new(lambda: bool) -> Self {
        Maintenance {
            lambda,
            due: Due::new(LAMBDA_EVERY),
        }
    }
}

async fn purge_logged(pool: &Pool) {
    if let Err(e) = purge(pool).await {
        tracing::warn!(error = %e, "purging expired rows failed; will try again");
    }
}

#[rocket::async_trait]
impl Fairing for Maintenance {
    fn info(&self) -> Info {
        Info {
            name: "Purge of expired rows",
            kind: Kind::Liftoff | Kind::Response,
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if self.lambda {
            return;
        }
        let Some(db) = Db::fetch(rocket) else { return };
        let pool = (**db).clone();
        let mut shutdown = rocket.shutdown();
        rocket::tokio::spawn(async move {
            let mut ticks = rocket::tokio::time::interval(SERVER_EVERY);
            loop {
                rocket::tokio::select! {
                    _ = ticks.tick() => purge_logged(&pool).await,
                    _ = &mut shutdown => break,
                }
            }
        });
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, _res: &mut Response<'r>) {
        if self.lambda && self.due.take(time::now().timestamp()) {
            if let Some(db) = Db::fetch(req.rocket()) {
                purge_logged(db).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purging_is_due_once_per_period() {
        let due = Due::new(Duration::from_secs(60));
        assert!(due.take(1_000));
        assert!(!due.take(1_030));
        assert!(!due.take(1_059));
        assert!(due.take(1_060));
        assert!(!due.take(1_061));
    }
}
