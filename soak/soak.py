"""Mixed concurrent load against a running Tally, then invariant checks.

    python soak/soak.py --backend sqlite|postgres --base URL --inbox DIR \
        --server-pid PID --server-log FILE --database DATABASE_URL \
        --duration SECONDS --workers N --out DIR [--seed N]

scripts/soak starts the server (and e2e/smtp_sink.py) and calls this; see its
header for what is checked. Exit 0 only when everything held. Writes
OUT/summary.txt (one line) and OUT/report.json.

Every request names its operation (the operationId of the served OpenAPI
document) and the statuses the situation allows. A status is:
  - a failure when it is 5xx, or not listed for the operation by the document;
  - a contract violation when it is listed but the situation rules it out
    (401 for a user nobody deleted, 404 for an account nobody deleted, 201 for a
    cross-currency transfer, ...). The client knows what it deleted: a user,
    account or movement is marked before the request that deletes it goes out,
    so every request that may race with a deletion is allowed its 401 or 404.
"""

import argparse
import array
import asyncio
import collections
import datetime as dt
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid

import httpx

sys.dont_write_bytecode = True  # no __pycache__ left in e2e/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import inbox  # noqa: E402  (e2e/inbox.py: reads sign-in codes from the SMTP sink's mails)

# The operationIds of the served OpenAPI document that the soak calls.
OPERATIONS = ("otp_create", "token_create", "me_view", "me_delete", "account_list", "account_create",
              "account_view", "account_update", "account_delete", "movement_list", "movement_create",
              "movement_view", "movement_delete", "transfer_create", "overview_view")
MIB = 1024 * 1024
EXAMPLES = 5  # examples kept per failure kind
CATEGORIES = ["food", "rent", "salary", "fun", "travel", "health"]
KINDS = ["checking", "savings", "credit_card", "cash", "investment", "other"]
RSS_GROWTH_RATIO = 1.5  # RSS "grew" when it is over 150% of the warm RSS ...
RSS_GROWTH_BYTES = 20 * MIB  # ... and more than 20 MiB above it


# --- what the client knows it created and deleted -----------------------------
class User:
    def __init__(self, email, token, anchor=False):
        self.email = email
        self.token = token
        self.anchor = anchor  # never deleted, so its data piles up for the whole run
        self.accounts = {}  # id -> Account (live ones; a doomed account leaves at once)
        self.doomed = False  # DELETE /v1/me sent (or about to be)

    @property
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"}


class Account:
    def __init__(self, id, user, currency):
        self.id = id
        self.user = user
        self.currency = currency
        self.movements = {}  # id -> Movement, newest last, bounded
        self.doomed = False  # DELETE /v1/accounts/{id} sent (or about to be)
        self.deletes = 0  # DELETE /v1/accounts/{id} requests sent
        self.anchor = False  # a user's first EUR account: never deleted but with its user

    @property
    def gone(self):
        return self.doomed or self.user.doomed

    def add(self, m):
        self.movements[m.id] = m
        while len(self.movements) > 300:
            self.movements.pop(next(iter(self.movements)))


class Transfer:
    def __init__(self, id):
        self.id = id
        self.legs = ()


class Movement:
    def __init__(self, id, account, transfer=None):
        self.id = id
        self.account = account
        self.transfer = transfer
        self.deleted = False  # DELETE of this movement sent (or about to be)

    @property
    def gone(self):
        if self.deleted or self.account.gone:
            return True
        return bool(self.transfer) and any(leg.deleted or leg.account.gone for leg in self.transfer.legs)


def now_utc():
    return dt.datetime.now(dt.timezone.utc)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def short(value, n=400):
    s = value if isinstance(value, str) else json.dumps(value)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def quantile(sorted_values, q):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


# --- the soak ------------------------------------------------------------------
class Soak:
    def __init__(self, args):
        self.args = args
        self.backend = args.backend
        self.rng = random.Random(args.seed)
        self.run_id = uuid.uuid4().hex[:8]
        self.documented = {}  # operationId -> set of statuses
        self.phase = "load"
        self.stats = {  # per phase: requests by (op, status), latencies
            "load": {"by": collections.Counter(), "lat": array.array("d")},
            "checks": {"by": collections.Counter(), "lat": array.array("d")},
        }
        self.failures = collections.defaultdict(list)  # kind -> examples
        self.failure_counts = collections.Counter()
        self.fivexx_by_op = collections.Counter()
        self.events = collections.Counter()
        self.users = []  # live users, ready for load
        self.transfers = {}  # id -> Transfer
        self.accounts_deleted = set()  # account ids the soak deleted
        self.movements_deleted = set()  # movement ids the soak deleted itself
        self.counter = 0
        self.stop = asyncio.Event()
        self.rss = []  # (seconds since start, bytes)
        self.rss_warm = None
        self.rss_end = None
        self.server_gone = False
        self.problems = []  # reasons for failing, short
        self.details = []  # lines explaining broken invariants, printed with the report

    def next_n(self):
        self.counter += 1
        return self.counter

    def log(self, msg):
        print(f"[{self.backend}] {msg}", flush=True)

    # --- failures -----------------------------------------------------------------
    def fail(self, kind, example, key=None):
        """Counts a failure; keeps the first examples (at most 2 per `key` when given)."""
        self.failure_counts[kind] += 1
        kept = self.failures[kind]
        if key is not None:
            if len(kept) < 2 * EXAMPLES and sum(ex.get("op") == key for ex in kept) < 2:
                kept.append(example)
        elif len(kept) < EXAMPLES:
            kept.append(example)

    def violation(self, what, detail):
        self.fail("contract violation", {"what": what, "detail": detail})

    # --- one request ----------------------------------------------------------------
    async def call(self, op, method, path, *, user=None, ok=(), json_body=None, headers=None,
                   params=None, accounts=(), movement=None):
        """Sends one request; checks its status; returns the response or None.

        `ok` are the statuses this situation allows (or a function giving them when
        the answer is in); 401 and 404 are added when
        the user, one of `accounts` or `movement` may be gone by the time the
        answer comes (checked then, so a deletion racing with it counts).
        """
        hdrs = dict(user.auth) if user else {}
        hdrs.update(headers or {})
        t0 = time.perf_counter()
        try:
            r = await self.client.request(method, path, json=json_body, headers=hdrs, params=params)
        except (httpx.TransportError, httpx.TimeoutException) as e:
            self.fail("no answer", {"request": f"{method} {path}", "params": params,
                                    "body": json_body, "error": f"{type(e).__name__}: {e}"})
            self.stats[self.phase]["by"][(op, "none")] += 1
            return None
        elapsed = time.perf_counter() - t0
        st = r.status_code
        stats = self.stats[self.phase]
        stats["by"][(op, st)] += 1
        stats["lat"].append(elapsed)

        allowed = set(ok() if callable(ok) else ok)
        if user is not None and user.doomed:
            allowed |= {401, 404}
        if any(a.gone for a in accounts) or (movement is not None and movement.gone):
            allowed.add(404)

        def example():
            return {"op": op, "request": f"{method} {r.request.url.raw_path.decode()}",
                    "body": json_body, "if_match": hdrs.get("If-Match"),
                    "idempotency_key": hdrs.get("Idempotency-Key"),
                    "status": st, "allowed": sorted(allowed), "request_id": r.headers.get("x-request-id"),
                    "response": short(r.text, 600)}

        if st >= 500:
            self.fivexx_by_op[op] += 1
            self.fail("5xx", example(), key=op)
        elif st not in self.documented.get(op, ()):
            self.fail("undocumented status", example())
        elif st not in allowed:
            self.fail("contract violation", {"what": f"status {st} not expected here", **example()})
        if "x-request-id" not in r.headers:
            self.violation("no X-Request-Id", example())
        if st >= 400 and not r.headers.get("content-type", "").startswith("application/problem+json"):
            self.violation("error without application/problem+json", example())
        if st == 401 and not r.headers.get("www-authenticate", "").startswith("Bearer"):
            self.violation("401 without WWW-Authenticate: Bearer", example())
        return r

    # --- sign-in and accounts -----------------------------------------------------
    async def sign_in(self, anchor=False):
        n = self.next_n()
        email = f"soak-{self.run_id}-{n}@example.com"
        # Addresses compare case-insensitively: now and then ask with another case.
        asked = email.upper() if self.rng.random() < 0.2 else email
        before = await asyncio.to_thread(inbox.last_message, self.args.inbox)
        r = await self.call("otp_create", "POST", "/v1/auth/otp", ok={202}, json_body={"email": asked})
        if r is None or r.status_code != 202:
            return None
        try:
            code, _ = await asyncio.to_thread(inbox.read_code, self.args.inbox, email, before, 30.0)
        except (TimeoutError, AssertionError) as e:
            self.fail("sign-in mail", {"email": email, "error": str(e)})
            return None
        r = await self.call("token_create", "POST", "/v1/auth/token", ok={200},
                            json_body={"email": email, "code": code})
        if r is None or r.status_code != 200:
            return None
        user = User(email, r.json()["access_token"], anchor)
        self.events["users signed in"] += 1
        created = await asyncio.gather(*[self.create_account(user, c) for c in ("EUR", "EUR", "EUR", "USD")])
        if created[0] is not None:
            created[0].anchor = True
        return user

    async def create_account(self, user, currency):
        body = {"name": f"soak {self.next_n()}", "kind": self.rng.choice(KINDS), "currency": currency}
        if self.rng.random() < 0.6:
            body["opening_balance"] = self.rng.randint(-50_000, 500_000)
        r = await self.call("account_create", "POST", "/v1/accounts", user=user, ok={201}, json_body=body)
        if r is None or r.status_code != 201:
            return None
        a = Account(r.json()["id"], user, currency)
        if r.json().get("balance") != body.get("opening_balance", 0):
            self.violation("opening balance", {"body": body, "response": short(r.text)})
        if not user.doomed:
            user.accounts[a.id] = a
        self.events["accounts created"] += 1
        return a

    async def ensure_accounts(self, user):
        """Keeps at least two EUR accounts and one USD account, as others get deleted."""
        live = list(user.accounts.values())
        need = []
        if sum(a.currency == "EUR" for a in live) < 3:
            need.append("EUR")
        if not any(a.currency == "USD" for a in live):
            need.append("USD")
        if need and not user.doomed:
            await asyncio.gather(*[self.create_account(user, c) for c in need])

    def pick_account(self, user, currency=None):
        live = [a for a in user.accounts.values() if currency is None or a.currency == currency]
        return self.rng.choice(live) if live else None

    def pick_pair(self, user):
        by = collections.defaultdict(list)
        for a in user.accounts.values():
            by[a.currency].append(a)
        pairs = [v for v in by.values() if len(v) >= 2]
        if not pairs:
            return None
        return tuple(self.rng.sample(self.rng.choice(pairs), 2))

    def pick_movement(self, user, legs_only=False):
        candidates = []
        for a in user.accounts.values():
            candidates.extend(m for m in a.movements.values()
                              if not m.deleted and (m.transfer or not legs_only))
        return self.rng.choice(candidates) if candidates else None

    # --- bodies ----------------------------------------------------------------------
    def movement_body(self):
        amount = self.rng.randint(1, 100_000) * self.rng.choice((1, -1, -1))
        body = {"amount": amount, "description": f"soak movement {self.next_n()}"}
        if self.rng.random() < 0.8:
            body["category"] = self.rng.choice(CATEGORIES)
        if self.rng.random() < 0.5:
            body["occurred_at"] = rfc3339(now_utc() - dt.timedelta(seconds=self.rng.randint(0, 60 * 86400)))
        return body

    def transfer_body(self, a, b):
        body = {"from_account_id": a.id, "to_account_id": b.id, "amount": self.rng.randint(1, 50_000)}
        if self.rng.random() < 0.3:
            body["description"] = "soak transfer"
        return body

    # --- recording what was created -------------------------------------------------
    def record_movement(self, a, r):
        m = r.json()
        if m["account_id"] != a.id:
            self.violation("movement on another account", {"account": a.id, "response": short(r.text)})
        if m["id"] not in a.movements:
            self.events["movements posted"] += 1
            if not a.gone:
                a.add(Movement(m["id"], a))
        return m["id"]

    def record_transfer(self, body, a, b, r):
        t = r.json()
        fm, tm = t["from_movement"], t["to_movement"]
        if not (fm["amount"] == -body["amount"] and tm["amount"] == body["amount"]
                and fm["transfer_id"] == t["id"] == tm["transfer_id"]
                and fm["account_id"] == a.id and tm["account_id"] == b.id):
            self.violation("transfer legs", {"body": body, "response": short(r.text)})
        if t["id"] not in self.transfers:
            tr = Transfer(t["id"])
            tr.legs = (Movement(fm["id"], a, tr), Movement(tm["id"], b, tr))
            self.transfers[t["id"]] = tr
            a.add(tr.legs[0])
            b.add(tr.legs[1])
            self.events["transfers made"] += 1
        return t["id"]

    # --- the actions ------------------------------------------------------------------
    async def act_post_movement(self, u):
        a = self.pick_account(u)
        if not a:
            return
        headers = {"Idempotency-Key": f"soak-{uuid.uuid4()}"} if self.rng.random() < 0.3 else None
        r = await self.call("movement_create", "POST", f"/v1/accounts/{a.id}/movements", user=u, ok={201},
                            json_body=self.movement_body(), headers=headers, accounts=[a])
        if r is not None and r.status_code == 201:
            self.record_movement(a, r)

    async def act_list_movements(self, u, a=None, max_pages=5):
        a = a or self.pick_account(u)
        if not a:
            return
        params = {"limit": self.rng.choice((1, 2, 5, 20, 50, 200))}
        if self.rng.random() < 0.3:
            params["category"] = self.rng.choice(CATEGORIES)
        lo = hi = None
        if self.rng.random() < 0.3:
            hi = now_utc().replace(microsecond=0) - dt.timedelta(days=self.rng.randint(0, 30))
            lo = hi - dt.timedelta(days=self.rng.randint(1, 30))
            params["from"], params["to"] = rfc3339(lo), rfc3339(hi)
        last = None
        for page in range(max_pages):
            r = await self.call("movement_list", "GET", f"/v1/accounts/{a.id}/movements", user=u, ok={200},
                                params=params, accounts=[a])
            if r is None or r.status_code != 200:
                return
            body = r.json()
            items, cursor = body["items"], body["next_cursor"]
            problems = []
            if len(items) > params["limit"]:
                problems.append(f"{len(items)} items for limit {params['limit']}")
            if bool(cursor) != ("link" in r.headers):
                problems.append("Link header and next_cursor disagree")
            for m in items:
                key = (parse_time(m["occurred_at"]), m["id"])
                if m["account_id"] != a.id:
                    problems.append(f"movement {m['id']} of account {m['account_id']}")
                if "category" in params and m["category"] != params["category"]:
                    problems.append(f"movement {m['id']} has category {m['category']}")
                if lo and not (lo <= key[0] < hi):
                    problems.append(f"movement {m['id']} occurred_at {m['occurred_at']} outside [from, to)")
                if last is not None and not key < last:
                    problems.append(f"order: {m['id']} ({m['occurred_at']}) after {last[1]} ({last[0]})")
                last = key
            if problems:
                self.violation("movement list", {"account": a.id, "params": params, "page": page,
                                                 "problems": problems[:5]})
            if not cursor:
                return
            params = {**params, "cursor": cursor}

    async def act_view(self, u):
        what = self.rng.random()
        if what < 0.25:
            r = await self.call("me_view", "GET", "/v1/me", user=u, ok={200})
            if r is not None and r.status_code == 200 and r.json()["email"] != u.email:
                self.violation("profile", {"email": u.email, "response": short(r.text)})
        elif what < 0.45:
            params = {"limit": self.rng.choice((1, 2, 50))}
            for _ in range(3):
                r = await self.call("account_list", "GET", "/v1/accounts", user=u, ok={200}, params=params)
                if r is None or r.status_code != 200 or not r.json()["next_cursor"]:
                    return
                params = {**params, "cursor": r.json()["next_cursor"]}
        elif what < 0.7:
            a = self.pick_account(u)
            if a:
                r = await self.call("account_view", "GET", f"/v1/accounts/{a.id}", user=u, ok={200}, accounts=[a])
                if r is not None and r.status_code == 200 and "etag" not in r.headers:
                    self.violation("account without ETag", {"account": a.id})
        else:
            m = self.pick_movement(u)
            if m:
                await self.call("movement_view", "GET", f"/v1/accounts/{m.account.id}/movements/{m.id}",
                                user=u, ok={200}, movement=m)

    async def transfer(self, u, a, b, idempotency_key=None):
        body = self.transfer_body(a, b)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        r = await self.call("transfer_create", "POST", "/v1/transfers", user=u, ok={201}, json_body=body,
                            headers=headers, accounts=[a, b])
        if r is not None and r.status_code == 201:
            self.record_transfer(body, a, b, r)
        return r

    async def act_transfer(self, u):
        pair = self.pick_pair(u)
        if pair:
            key = f"soak-{uuid.uuid4()}" if self.rng.random() < 0.2 else None
            await self.transfer(u, *pair, idempotency_key=key)

    async def act_bad_transfer(self, u):
        eur, usd = self.pick_account(u, "EUR"), self.pick_account(u, "USD")
        if eur and usd and self.rng.random() < 0.5:
            (a, b), why = (eur, usd) if self.rng.random() < 0.5 else (usd, eur), "cross-currency"
        elif eur:
            a, b, why = eur, eur, "same account"
        else:
            return
        body = self.transfer_body(a, b)
        r = await self.call("transfer_create", "POST", "/v1/transfers", user=u, ok={422}, json_body=body,
                            accounts=[a, b])
        if r is not None and r.status_code == 201:
            self.record_transfer(body, a, b, r)  # so the invariant check knows about it
        if r is not None and r.status_code == 422:
            self.events[f"{why} transfers refused"] += 1

    async def delete_movement(self, u, m, copies=1):
        m.deleted = True
        if m.transfer:
            for leg in m.transfer.legs:
                leg.deleted = True
        rs = await asyncio.gather(*[
            self.call("movement_delete", "DELETE", f"/v1/accounts/{m.account.id}/movements/{m.id}", user=u,
                      ok={204, 404}, movement=m)
            for _ in range(copies)])
        deleted = sum(1 for r in rs if r is not None and r.status_code == 204)
        if deleted > 1:
            self.violation("one movement deleted twice", {"movement": m.id, "204s": deleted, "copies": copies})
        if deleted:
            self.movements_deleted.add(m.id)
            self.events["legs deleted (both)" if m.transfer else "movements deleted"] += 1
        for leg in (m.transfer.legs if m.transfer else (m,)):
            leg.account.movements.pop(leg.id, None)

    async def act_delete_movement(self, u):
        m = self.pick_movement(u, legs_only=self.rng.random() < 0.4)
        if m:
            copies = 1 if self.rng.random() < 0.7 else self.rng.randint(2, 3)
            await self.delete_movement(u, m, copies)

    async def act_transfer_storm(self, u):
        """Transfers back and forth between two accounts while legs of earlier ones are deleted."""
        pair = self.pick_pair(u)
        if not pair:
            return
        a, b = pair
        legs = [m for m in list(a.movements.values()) + list(b.movements.values())
                if m.transfer and not m.deleted]
        victims = self.rng.sample(legs, min(len(legs), self.rng.randint(1, 4)))

        async def transfer_then_delete():
            r = await self.transfer(u, b, a)
            if r is not None and r.status_code == 201:
                tr = self.transfers[r.json()["id"]]
                if not tr.legs[0].deleted:
                    await self.delete_movement(u, self.rng.choice(tr.legs))

        tasks = [self.transfer(u, *self.rng.sample(pair, 2)) for _ in range(self.rng.randint(2, 5))]
        tasks += [self.delete_movement(u, m) for m in victims]
        tasks.append(transfer_then_delete())
        self.rng.shuffle(tasks)
        await asyncio.gather(*tasks)

    async def act_account_storm(self, u):
        """Deletes an account while movements are posted to it, its movements and legs
        are deleted and transfers use it; then a new account takes its place."""
        pair = self.pick_pair(u)
        if not pair:
            return
        a, b = pair if not pair[0].anchor else pair[::-1]
        if a.anchor:
            return
        # Its movements, and legs on the other account whose partner is on this one.
        victims = [m for m in a.movements.values() if not m.deleted]
        victims += [m for m in b.movements.values()
                    if not m.deleted and m.transfer and any(leg.account is a for leg in m.transfer.legs)]
        victims = self.rng.sample(victims, min(len(victims), self.rng.randint(2, 6)))

        async def delete_account():
            await asyncio.sleep(self.rng.random() * 0.02)
            # Another storm may be deleting this account too: then one of them gets 404.
            a.deletes += 1
            ok = lambda: {204, 404} if a.deletes > 1 else {204}  # noqa: E731 (evaluated at the answer)
            a.doomed = True
            u.accounts.pop(a.id, None)
            self.accounts_deleted.add(a.id)
            r = await self.call("account_delete", "DELETE", f"/v1/accounts/{a.id}", user=u, ok=ok)
            if r is not None and r.status_code == 204:
                self.events["accounts deleted"] += 1

        async def post():
            r = await self.call("movement_create", "POST", f"/v1/accounts/{a.id}/movements", user=u, ok={201},
                                json_body=self.movement_body(), accounts=[a])
            if r is not None and r.status_code == 201:
                self.record_movement(a, r)

        tasks = [delete_account()]
        tasks += [post() for _ in range(self.rng.randint(2, 5))]
        tasks += [self.delete_movement(u, m) for m in victims]
        tasks += [self.transfer(u, *self.rng.sample(pair, 2)) for _ in range(self.rng.randint(1, 3))]
        tasks.append(self.act_list_movements(u, a, max_pages=2))
        self.rng.shuffle(tasks)
        await asyncio.gather(*tasks)
        await self.ensure_accounts(u)

    async def act_idempotent(self, u):
        """The same Idempotency-Key again: in sequence (replayed), concurrently (201 or 409,
        one resource), or with another body (409)."""
        key = f"soak-{uuid.uuid4()}"
        headers = {"Idempotency-Key": key}
        pair = self.pick_pair(u)
        if pair and self.rng.random() < 0.35:
            op, path, accounts = "transfer_create", "/v1/transfers", list(pair)
            body = self.transfer_body(*pair)
            other = {**body, "amount": body["amount"] + 1}

            def record(r):
                return self.record_transfer(body, *pair, r)
        else:
            a = self.pick_account(u)
            if not a:
                return
            op, path, accounts = "movement_create", f"/v1/accounts/{a.id}/movements", [a]
            body = self.movement_body()
            other = {**body, "description": body["description"] + " (changed)"}

            def record(r):
                return self.record_movement(a, r)

        def send(b, ok):
            return self.call(op, "POST", path, user=u, ok=ok, json_body=b, headers=headers, accounts=accounts)

        mode = self.rng.choice(("sequential", "concurrent", "conflict"))
        if mode == "concurrent":
            rs = await asyncio.gather(*[send(body, {201, 409}) for _ in range(self.rng.randint(2, 4))])
            ids = {r.json()["id"] for r in rs if r is not None and r.status_code == 201}
            if len(ids) > 1:
                self.violation("idempotency", {"key": key, "mode": mode, "ids": sorted(ids)})
            for r in rs:
                if r is not None and r.status_code == 201:
                    record(r)
            first_id = next(iter(ids), None)
        else:
            r = await send(body, {201})
            if r is None or r.status_code != 201:
                return
            first_id = record(r)
        retry = await send(other if mode == "conflict" else body, {409} if mode == "conflict" else {201})
        if mode != "conflict" and retry is not None and retry.status_code == 201:
            if first_id is not None and retry.json()["id"] != first_id:
                self.violation("idempotency", {"key": key, "mode": mode, "first": first_id,
                                               "retry": retry.json()["id"]})
            elif first_id is not None and retry.headers.get("idempotent-replayed") != "true":
                self.violation("idempotency", {"key": key, "mode": mode, "detail": "replay without "
                                               "Idempotent-Replayed: true"})
            else:
                self.events["idempotent replays"] += 1
        elif mode == "conflict" and retry is not None and retry.status_code == 409:
            self.events["idempotency conflicts (409)"] += 1

    async def act_overview(self, u):
        params = {}
        if self.rng.random() < 0.4:
            hi = now_utc() - dt.timedelta(days=self.rng.randint(0, 20))
            params = {"from": rfc3339(hi - dt.timedelta(days=self.rng.randint(1, 40))), "to": rfc3339(hi)}
        r = await self.call("overview_view", "GET", "/v1/overview", user=u, ok={200}, params=params)
        if r is not None and r.status_code == 200:
            bad = [c for c in r.json()["currencies"] if c["income"] < 0 or c["expense"] < 0]
            if bad:
                self.violation("overview", {"params": params, "currencies": bad})

    async def act_patch(self, u):
        a = self.pick_account(u)
        if not a:
            return
        body = {}
        if self.rng.random() < 0.7:
            body["name"] = f"soak renamed {self.next_n()}"
        if not body or self.rng.random() < 0.4:
            body["kind"] = self.rng.choice(KINDS)
        path = f"/v1/accounts/{a.id}"
        mode = self.rng.choice(("fresh", "fresh", "stale", "star", "none"))
        if mode == "fresh":
            r = await self.call("account_view", "GET", path, user=u, ok={200}, accounts=[a])
            if r is None or r.status_code != 200:
                return
            etag = r.headers.get("etag")
            # The balance changes the ETag too, so a concurrent movement makes this 412.
            r = await self.call("account_update", "PATCH", path, user=u, ok={200, 412}, json_body=body,
                                headers={"If-Match": etag}, accounts=[a])
            if r is not None and r.status_code == 200:
                if "name" in body and r.headers.get("etag") == etag:
                    self.violation("ETag unchanged by PATCH", {"account": a.id, "body": body, "etag": etag})
                self.events["PATCH with If-Match (200)"] += 1
            elif r is not None and r.status_code == 412:
                self.events["PATCH with If-Match (412)"] += 1
        elif mode == "stale":
            await self.call("account_update", "PATCH", path, user=u, ok={412}, json_body=body,
                            headers={"If-Match": f'"{a.id}-0"'}, accounts=[a])
        else:
            headers = {"If-Match": "*"} if mode == "star" else None
            r = await self.call("account_update", "PATCH", path, user=u, ok={200}, json_body=body,
                                headers=headers, accounts=[a])
            if r is not None and r.status_code == 200 and "name" in body and r.json()["name"] != body["name"]:
                self.violation("PATCH not applied", {"account": a.id, "body": body, "response": short(r.text)})

    async def me_storm(self, u):
        """DELETE /v1/me while the user's requests are in flight; then the token must get 401."""
        u.doomed = True
        if u in self.users:
            self.users.remove(u)

        async def delete_me():
            await asyncio.sleep(self.rng.random() * 0.03)
            r = await self.call("me_delete", "DELETE", "/v1/me", user=u, ok={204})
            if r is not None and r.status_code == 204:
                self.events["users deleted (DELETE /v1/me)"] += 1

        others = [self.act_post_movement, self.act_transfer, self.act_idempotent, self.act_list_movements,
                  self.act_overview, self.act_patch, self.act_view, self.act_delete_movement,
                  lambda u: self.create_account(u, "EUR")]
        tasks = [delete_me()] + [self.rng.choice(others)(u) for _ in range(self.rng.randint(4, 8))]
        await asyncio.gather(*tasks)
        r = await self.call("me_view", "GET", "/v1/me", user=u, ok={401})
        if r is not None and r.status_code != 401:
            self.violation("token of a deleted user still works", {"email": u.email, "status": r.status_code})
        a = next(iter(u.accounts.values()), None)
        if a:
            await self.call("account_view", "GET", f"/v1/accounts/{a.id}", user=u, ok={401})

    ACTIONS = (  # (weight, method name)
        (24, "act_post_movement"),
        (12, "act_list_movements"),
        (10, "act_view"),
        (9, "act_transfer"),
        (3, "act_bad_transfer"),
        (6, "act_delete_movement"),
        (3, "act_transfer_storm"),
        (8, "act_idempotent"),
        (6, "act_overview"),
        (6, "act_patch"),
        (4, "act_account_storm"),
    )

    # --- the load ---------------------------------------------------------------------
    async def guarded(self, coro, what):
        try:
            await coro
        except Exception as e:  # a bug here, or a 2xx body without its fields
            self.fail("soak error", {"in": what, "error": f"{type(e).__name__}: {e}",
                                     "traceback": traceback.format_exc(limit=3)[-800:]})

    async def worker(self):
        names = [name for _, name in self.ACTIONS]
        weights = [w for w, _ in self.ACTIONS]
        while not self.stop.is_set():
            if not self.users:
                await asyncio.sleep(0.05)
                continue
            u = self.rng.choice(self.users)
            name = self.rng.choices(names, weights)[0]
            await self.guarded(getattr(self, name)(u), name)

    async def churn(self, target, period):
        """Signs new users in all along; beyond `target` users, deletes one while its requests fly."""
        while not self.stop.is_set():
            u = await self.sign_in()
            if u is not None and not self.stop.is_set():
                self.users.append(u)
            if len(self.users) > target:
                victim = self.rng.choice([u for u in self.users[:-2] if not u.anchor] or self.users[:-2])
                await self.guarded(self.me_storm(victim), "me_storm")
            try:
                await asyncio.wait_for(self.stop.wait(), period)
            except asyncio.TimeoutError:
                pass

    def read_rss(self):
        try:
            with open(f"/proc/{self.args.server_pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        self.server_gone = True
        return None

    async def sample_rss(self, t0):
        while not self.stop.is_set():
            rss = self.read_rss()
            if rss is not None:
                self.rss.append((round(time.monotonic() - t0, 1), rss))
            try:
                await asyncio.wait_for(self.stop.wait(), 2)
            except asyncio.TimeoutError:
                pass

    async def load(self):
        args = self.args
        target = max(6, args.workers // 4)
        warmup = min(20.0, args.duration / 5)
        self.log(f"signing in {target} users through the e-mail flow")
        # Half of them stay all along (as do their first accounts), so that data piles up.
        first = await asyncio.gather(*[self.sign_in(anchor=i < target // 2) for i in range(target)])
        self.users.extend(u for u in first if u is not None)
        if not self.users:
            self.problems.append("no user could sign in")
            return 0.0
        t0 = time.monotonic()
        tasks = [asyncio.create_task(self.worker()) for _ in range(args.workers)]
        tasks.append(asyncio.create_task(self.churn(target, 2.5)))
        tasks.append(asyncio.create_task(self.sample_rss(t0)))
        self.log(f"load: {args.duration} s, {args.workers} workers, {target} users at a time "
                 f"(RSS measured after a {warmup:.0f} s warm-up)")
        await asyncio.sleep(warmup)
        self.rss_warm = self.read_rss()
        next_note = 60
        while (left := args.duration - (time.monotonic() - t0)) > 0:
            await asyncio.sleep(min(left, 1.0))
            if self.server_gone:
                self.problems.append("the server exited during the load")
                break
            if time.monotonic() - t0 >= next_note:
                next_note += 60
                n = sum(self.stats["load"]["by"].values())
                self.log(f"  {time.monotonic() - t0:.0f} s: {n} requests, "
                         f"{self.failure_counts['5xx']} 5xx, RSS {(self.read_rss() or 0) / MIB:.1f} MiB")
        self.stop.set()
        done, pending = await asyncio.wait(tasks, timeout=60)
        for t in pending:
            t.cancel()
        if pending:
            self.problems.append(f"{len(pending)} tasks still busy 60 s after the load ended")
            await asyncio.sleep(2)
        elapsed = time.monotonic() - t0
        self.rss_end = self.read_rss()
        return elapsed

    # --- invariants in the database -------------------------------------------------------
    def db_rows(self, sql):
        url = self.args.database
        if self.backend == "sqlite":
            path = re.sub(r"^sqlite:(//)?", "", url).split("?")[0]
            con = sqlite3.connect(path, timeout=30)
            try:
                return [tuple(str(v) if v is not None else None for v in row) for row in con.execute(sql)]
            finally:
                con.commit()
                con.close()
        out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtX", "-F", "\t", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(None if v == "" else v for v in line.split("\t")) for line in out.splitlines()]

    def id_sql(self, col):
        return f"lower(hex({col}))" if self.backend == "sqlite" else f"{col}::text"

    def id_literal(self, value):
        u = uuid.UUID(value)
        return f"X'{u.hex}'" if self.backend == "sqlite" else f"'{u}'::uuid"

    def check_database(self, sabotage_account):
        """Returns (facts, problems): every balance is the sum of its movements; every
        transfer_id has exactly two legs (opposite amounts, distinct accounts of one
        user and one currency); no orphans."""
        problems = []
        if sabotage_account:
            self.db_rows(f"UPDATE accounts SET balance = balance + 1 WHERE id = {self.id_literal(sabotage_account)}")
            self.log(f"SOAK_SABOTAGE=1: added 1 to the balance of account {sabotage_account} in the database, "
                     "behind the API's back; the invariant check must fail")
        i = self.id_sql
        accounts = self.db_rows(
            f"SELECT {i('a.id')}, a.balance, "
            "(SELECT COALESCE(SUM(m.amount), 0) FROM movements m WHERE m.account_id = a.id), "
            "(SELECT COUNT(*) FROM movements m WHERE m.account_id = a.id) FROM accounts a")
        bad = [(str(uuid.UUID(a)), int(b), int(s), int(n)) for a, b, s, n in accounts if int(b) != int(s)]
        if bad:
            problems.append(f"{plural(len(bad), 'account')} whose balance != sum of movements")
            for a, b, s, n in bad[:EXAMPLES]:
                self.details.append(f"  account {a}: balance {b}, sum of its {n} movements {s} (off by {b - s})")
        legs = collections.defaultdict(list)
        for tid, mid, acc, amount, cur, user in self.db_rows(
                f"SELECT {i('m.transfer_id')}, {i('m.id')}, {i('m.account_id')}, m.amount, a.currency, "
                f"{i('a.user_id')} FROM movements m LEFT JOIN accounts a ON a.id = m.account_id "
                "WHERE m.transfer_id IS NOT NULL"):
            legs[str(uuid.UUID(tid))].append((str(uuid.UUID(mid)), str(uuid.UUID(acc)), int(amount), cur, user))
        kinds = collections.defaultdict(list)
        for tid, ls in legs.items():
            if len(ls) == 1:
                kinds["one leg only"].append(tid)
            elif len(ls) > 2:
                kinds["more than two legs"].append(tid)
            else:
                (_, a1, x1, c1, u1), (_, a2, x2, c2, u2) = ls
                if x1 + x2 != 0 or x1 == 0:
                    kinds["legs not opposite amounts"].append(tid)
                elif a1 == a2:
                    kinds["both legs on one account"].append(tid)
                elif c1 != c2:
                    kinds["legs in different currencies"].append(tid)
                elif u1 != u2:
                    kinds["legs of different users"].append(tid)
        for kind, tids in kinds.items():
            problems.append(f"{plural(len(tids), 'transfer')} with {kind}")
            self.details.append(f"  {len(tids)} transfer_ids with {kind}, e.g.:")
            for tid in tids[:EXAMPLES]:
                self.details.append(f"    transfer {tid}: " + ", ".join(
                    f"movement {m} on account {a}: {x} {c}" for m, a, x, c, _ in legs[tid]))
            if kind == "one leg only":
                self.explain_one_leg(tids, legs)
        orphans = {
            "movements without their account": "SELECT COUNT(*) FROM movements m WHERE NOT EXISTS "
                                               "(SELECT 1 FROM accounts a WHERE a.id = m.account_id)",
            "accounts without their user": "SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS "
                                           "(SELECT 1 FROM users u WHERE u.id = a.user_id)",
            "idempotency keys without their user": "SELECT COUNT(*) FROM idempotency_keys k WHERE NOT EXISTS "
                                                   "(SELECT 1 FROM users u WHERE u.id = k.user_id)",
        }
        for what, sql in orphans.items():
            n = int(self.db_rows(sql)[0][0])
            if n:
                problems.append(f"{n} {what}")
        users = int(self.db_rows("SELECT COUNT(*) FROM users")[0][0])
        movements = sum(int(n) for *_, n in accounts)
        facts = {"users": users, "accounts": len(accounts), "movements": movements, "transfers": len(legs)}
        return facts, problems

    def explain_one_leg(self, tids, legs):
        """What the client knows about the missing legs of one-legged transfers."""
        why = collections.Counter()
        for tid in tids:
            tr = self.transfers.get(tid)
            present = {m for m, *_ in legs[tid]}
            missing = [leg for leg in (tr.legs if tr else ()) if leg.id not in present]
            if not tr or not missing:
                why["unknown to the soak"] += 1
            elif missing[0].account.id in self.accounts_deleted:
                why["the other leg's account was deleted (DELETE /v1/accounts/{id})"] += 1
            elif missing[0].id in self.movements_deleted:
                why["the other leg was deleted by DELETE .../movements/{id} (must take both)"] += 1
            else:
                why["the other leg vanished otherwise"] += 1
        for reason, n in why.most_common():
            self.details.append(f"    {n} of them: {reason}")

    # --- invariants through the API -----------------------------------------------------------
    async def check_api(self, sample):
        """For each account: GET's balance == the sum of its movements over all pages."""
        problems, pages, movements = [], 0, 0
        for a in sample:
            r = await self.call("account_view", "GET", f"/v1/accounts/{a.id}", user=a.user, ok={200})
            if r is None or r.status_code != 200:
                problems.append(f"GET /v1/accounts/{a.id}: {r.status_code if r is not None else 'no answer'}")
                continue
            balance = r.json()["balance"]
            params = {"limit": self.rng.choice((200, 200, 37))}
            total, seen = 0, set()
            while True:
                r = await self.call("movement_list", "GET", f"/v1/accounts/{a.id}/movements", user=a.user,
                                    ok={200}, params=params)
                if r is None or r.status_code != 200:
                    problems.append(f"listing account {a.id}: {r.status_code if r is not None else 'no answer'}")
                    break
                pages += 1
                page = r.json()
                for m in page["items"]:
                    if m["id"] in seen:
                        problems.append(f"account {a.id}: movement {m['id']} listed twice")
                    seen.add(m["id"])
                    total += m["amount"]
                if not page["next_cursor"]:
                    break
                params = {**params, "cursor": page["next_cursor"]}
            movements += len(seen)
            if total != balance:
                problems.append(f"account {a.id}: GET balance {balance} != {total}, the sum of its "
                                f"{len(seen)} listed movements")
        return {"accounts": len(sample), "movements": movements, "pages": pages}, problems

    # --- report ------------------------------------------------------------------------------------
    def print_failures(self):
        for kind in ("5xx", "undocumented status", "contract violation", "no answer", "sign-in mail",
                     "soak error"):
            n = self.failure_counts[kind]
            if not n:
                continue
            self.log(f"{kind}: {n}" + (f" (by operation: {dict(self.fivexx_by_op.most_common())})"
                                       if kind == "5xx" else "") + "; examples:")
            for ex in self.failures[kind]:
                self.log("  " + short(ex, 1500))
                if kind == "5xx" and ex.get("request_id"):
                    for line in self.server_log_lines(ex["request_id"]):
                        self.log("    server log: " + short(line, 1200))

    def server_log_errors(self):
        """The causes of the server's logged errors, counted."""
        causes = collections.Counter()
        try:
            with open(self.args.server_log, errors="replace") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(entry, dict) and entry.get("level") == "ERROR":
                        causes[short(str(entry.get("error") or entry.get("message")), 200)] += 1
        except OSError:
            pass
        return causes

    def server_log_lines(self, request_id, limit=3):
        found = []
        try:
            with open(self.args.server_log, errors="replace") as f:
                for line in f:
                    if request_id in line and ("ERROR" in line or "error" in line.lower()):
                        found.append(line.strip())
                        if len(found) >= limit:
                            break
        except OSError:
            pass
        return found

    def print_stats(self, elapsed):
        by = self.stats["load"]["by"]
        total = sum(by.values())
        classes = collections.Counter()
        codes = collections.Counter()
        for (op, st), n in by.items():
            classes["none" if st == "none" else f"{str(st)[0]}xx"] += n
            codes[st] += n
        lat = sorted(self.stats["load"]["lat"])
        self.log(f"requests: {total} in {elapsed:.0f} s, {total / max(elapsed, 1e-9):.0f} req/s")
        self.log("statuses by class: " + ", ".join(f"{c} {n}" for c, n in sorted(classes.items())))
        self.log("statuses by code: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items(), key=str)))
        self.log(f"latency: p50 {quantile(lat, 0.5) * 1000:.1f} ms, p99 {quantile(lat, 0.99) * 1000:.1f} ms, "
                 f"max {(lat[-1] if lat else 0) * 1000:.0f} ms")
        ops = sorted({op for op, _ in by})
        for op in ops:
            row = {st: n for (o, st), n in by.items() if o == op}
            self.log(f"  {op:<16} {sum(row.values()):>7}  " +
                     " ".join(f"{st}:{n}" for st, n in sorted(row.items(), key=lambda kv: str(kv[0]))))
        self.log("events: " + ", ".join(f"{k} {v}" for k, v in sorted(self.events.items())))
        return total, classes, codes, lat

    async def run(self):
        args = self.args
        limits = httpx.Limits(max_connections=args.workers * 4, max_keepalive_connections=args.workers * 2)
        async with httpx.AsyncClient(base_url=args.base, limits=limits,
                                     timeout=httpx.Timeout(30.0, connect=10.0)) as client:
            self.client = client
            spec = (await client.get("/openapi.json")).json()
            for path, ops in spec["paths"].items():
                for method, op in ops.items():
                    if isinstance(op, dict) and "operationId" in op:
                        self.documented[op["operationId"]] = {int(s) for s in op["responses"] if s.isdigit()}
            missing = sorted(set(OPERATIONS) - set(self.documented))
            if missing:
                self.problems.append(f"the served /openapi.json lacks the operations {', '.join(missing)}")
                return self.finish(0.0, None, None)
            elapsed = await self.load()
            if elapsed == 0.0:
                return self.finish(0.0, None, None)

            self.phase = "checks"
            # The long-lived accounts, and others at random.
            live = [a for u in self.users for a in u.accounts.values() if not a.gone]
            anchors = [a for a in live if a.anchor and a.user.anchor]
            others = [a for a in live if a not in anchors]
            sample = anchors + self.rng.sample(others, max(0, min(len(others), 20 - len(anchors))))
            sabotage = None
            if os.environ.get("SOAK_SABOTAGE") == "1":
                sabotage = sample[0].id if sample else None
                if sabotage is None:
                    self.problems.append("SOAK_SABOTAGE=1 but no account to sabotage")
            try:
                db_facts, db_problems = self.check_database(sabotage)
            except (sqlite3.Error, subprocess.CalledProcessError) as e:
                db_facts, db_problems = {}, [f"the database check could not run: {e} "
                                             f"{getattr(e, 'stderr', '') or ''}".strip()]
            api_facts, api_problems = await self.check_api(sample)
            return self.finish(elapsed, (db_facts, db_problems), (api_facts, api_problems))

    def finish(self, elapsed, db, api):
        total, classes, codes, lat = self.print_stats(elapsed)
        warm, end = self.rss_warm, self.rss_end
        peak = max((r for _, r in self.rss), default=0)
        rss_text = "RSS unknown"
        if warm and end:
            grew = end > warm * RSS_GROWTH_RATIO and end - warm > RSS_GROWTH_BYTES
            rss_text = f"RSS {warm / MIB:.0f}\u2192{end / MIB:.0f} MiB"
            self.log(f"RSS: {warm / MIB:.1f} MiB after warm-up, {end / MIB:.1f} MiB at the end "
                     f"(peak {peak / MIB:.1f} MiB): " + ("GREW" if grew else "flat"))
            if grew:
                self.problems.append(f"RSS grew from {warm / MIB:.1f} to {end / MIB:.1f} MiB")
        else:
            self.problems.append("RSS could not be read (did the server exit?)")

        invariants = "invariants not checked"
        if db is not None:
            (db_facts, db_problems), (api_facts, api_problems) = db, api
            self.log(f"database: {db_facts.get('users', '?')} users, {db_facts.get('accounts', '?')} accounts, "
                     f"{db_facts.get('movements', '?')} movements, {db_facts.get('transfers', '?')} transfer_ids: "
                     + ("; ".join(db_problems) if db_problems else "every balance is the sum of its movements, "
                        "every transfer has both legs, no orphans"))
            for line in self.details:
                self.log(line)
            self.log(f"API: {api_facts['accounts']} accounts, {api_facts['movements']} movements over "
                     f"{api_facts['pages']} pages: " + (plural(len(api_problems), "problem") if api_problems
                                                        else "every balance is the sum of its listed movements"))
            for p in api_problems[:EXAMPLES]:
                self.log(f"  {p}")
            broken = db_problems + ([f"API: {plural(len(api_problems), 'problem')} in {api_facts['accounts']} "
                                     "accounts"] if api_problems else [])
            invariants = "invariants hold" if not broken else "invariants BROKEN (" + "; ".join(broken[:4]) + ")"
            if broken:
                self.problems.append("invariants broken")

        self.print_failures()
        causes = self.server_log_errors()
        if causes:
            self.log("server log errors: " + "; ".join(f"{c} x{n}" for c, n in causes.most_common(8)))
        n5 = self.failure_counts["5xx"]
        n5_text = f"{n5} 5xx" + (" (" + ", ".join(f"{op} {n}" for op, n in self.fivexx_by_op.most_common())
                                 + ")" if n5 else "")
        for kind in ("5xx", "undocumented status", "contract violation", "no answer", "sign-in mail",
                     "soak error"):
            if self.failure_counts[kind]:
                self.problems.append(f"{self.failure_counts[kind]} {kind}")
        extra = [f"{self.failure_counts[k]} {k}" for k in ("undocumented status", "contract violation",
                                                           "no answer") if self.failure_counts[k]]
        line = (f"soak {self.backend}: {total} requests ({total / max(elapsed, 1e-9):.0f} req/s), {n5_text}, "
                + "".join(e + ", " for e in extra) + f"{invariants}, {rss_text}")
        if self.problems:
            reasons = [p for p in self.problems if p != "invariants broken"]
            line += " -- FAILED" + (f" ({'; '.join(reasons)})" if reasons else "")
        with open(os.path.join(self.args.out, "summary.txt"), "w") as f:
            f.write(line + "\n")
        with open(os.path.join(self.args.out, "report.json"), "w") as f:
            json.dump({
                "backend": self.backend, "seconds": elapsed, "requests": total,
                "statuses_by_class": dict(classes), "statuses_by_code": {str(k): v for k, v in codes.items()},
                "by_operation": {f"{op} {st}": n for (op, st), n in sorted(self.stats["load"]["by"].items(), key=str)},
                "latency_ms": {"p50": quantile(lat, 0.5) * 1000, "p99": quantile(lat, 0.99) * 1000},
                "rss_bytes": {"warm": warm, "end": end, "samples": self.rss},
                "events": self.events, "failure_counts": self.failure_counts,
                "failures": self.failures, "problems": self.problems,
                "database": db[0] if db else None, "database_problems": db[1] if db else None,
                "api_problems": api[1] if api else None,
            }, f, indent=1, default=str)
        self.log(line)
        return 0 if not self.problems else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", required=True, choices=("sqlite", "postgres"))
    p.add_argument("--base", required=True)
    p.add_argument("--inbox", required=True)
    p.add_argument("--server-pid", required=True, type=int)
    p.add_argument("--server-log", required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--workers", type=int, default=32)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    sys.exit(asyncio.run(Soak(args).run()))


if __name__ == "__main__":
    main()
