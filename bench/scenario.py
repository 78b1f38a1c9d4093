"""The shared scenario: one client script that both apps must answer alike.

    python bench/scenario.py run BASE_URL INBOX_DIR
    python bench/scenario.py compare TALLY_URL TALLY_INBOX FASTAPI_URL FASTAPI_INBOX

It signs in through the real e-mail flow (POST /v1/auth/otp, the code from
the SMTP sink's inbox, POST /v1/auth/token) and exercises the benchmark's
endpoints and their error cases: validation 422s with their field lists, 404
for another user's account, bad limit 422, bad cursor 400, idempotent replay
and 409, keyset pagination through the Link header, the overview, a deleted
user's token. Every step checks the status API.md requires (both modes), and
`compare` then checks that the two apps gave the same answers: statuses,
the headers that carry meaning, and bodies after ids, generated timestamps,
cursors, tokens and request ids are replaced by placeholders (ids by order of
first appearance, so the relations between them still have to match).
It exits non-zero, printing every difference, when they do not agree.
Each app needs a fresh database (fixed e-mail addresses are used).
"""

import json
import os
import re
import sys
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from inbox import last_message, read_code  # noqa: E402  (the e2e SMTP sink's reader)

JSON = {"Content-Type": "application/json"}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ETAG_RE = re.compile(r'^"([0-9a-f]{32})-(\d+)"$')
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
KEPT_HEADERS = (
    "content-type",
    "location",
    "etag",
    "link",
    "www-authenticate",
    "idempotent-replayed",
    "retry-after",
)
SENT_REQUEST_ID = "bench-scenario.request-1"

# Explicit occurred_at values the scenario sends; responses must show these
# instants (in UTC), so they are compared literally, not as placeholders.
MOVEMENTS = [
    ("2026-01-05T08:00:00Z", -4250, "Groceries", "food"),
    ("2026-01-10T12:30:00Z", 250000, "Salary", "salary"),
    ("2026-01-12T19:00:00.5Z", -1299, "Cinema", "fun"),
    ("2026-02-01T09:15:00+01:00", -3000, "Groceries", "food"),
    ("2026-02-03T10:00:00.123456Z", -800, "Coffee", None),
    ("2026-02-10T07:00:00Z", 15000, "Refund", None),
    ("2026-02-10T07:00:00Z", -15000, "Same instant as the refund", "fun"),
]


def instant(s: str) -> datetime | None:
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:  # outside Python's years 1-9999
        return None


EXPLICIT_INSTANTS = {instant(t) for t, *_ in MOVEMENTS} | {
    instant("2026-02-01T08:15:00Z"),
    instant("2026-01-01T00:00:00Z"),
    instant("2026-03-01T10:00:00Z"),
    instant("2026-03-02T09:00:00.123456Z"),
}


class ScenarioError(AssertionError):
    pass


class Runner:
    """Sends the scenario's requests to one app and records every exchange."""

    def __init__(self, base: str, inbox: str, label: str):
        self.base = base.rstrip("/")
        self.inbox = inbox
        self.label = label
        self.http = httpx.Client(base_url=self.base, timeout=20)
        self.steps: list[dict] = []

    def call(self, name, method, path, *, token=None, body=None, content=None, headers=None, expect=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            content = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        r = self.http.request(method, path, content=content, headers=h)
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = {"<not json>": r.text[:200]}
        step = {
            "name": name,
            "status": r.status_code,
            "headers": {k: r.headers[k] for k in KEPT_HEADERS if k in r.headers},
            "request_id": r.headers.get("x-request-id"),
            "body": parsed,
        }
        self.steps.append(step)
        if expect is not None and r.status_code != expect:
            raise ScenarioError(
                f"[{self.label}] {name}: {method} {path} answered {r.status_code}, expected {expect}: {r.text[:500]}"
            )
        if step["request_id"] is None:
            raise ScenarioError(f"[{self.label}] {name}: no X-Request-Id header")
        if r.status_code >= 400:
            ctype = r.headers.get("content-type", "")
            if not ctype.startswith("application/problem+json"):
                raise ScenarioError(f"[{self.label}] {name}: error {r.status_code} is not problem+json ({ctype})")
            keys = {"type", "title", "status", "detail", "request_id"}
            if not isinstance(parsed, dict) or not keys <= parsed.keys() or parsed["status"] != r.status_code:
                raise ScenarioError(f"[{self.label}] {name}: not an RFC 9457 problem: {parsed}")
            if (r.status_code == 422) != ("errors" in parsed):
                raise ScenarioError(f"[{self.label}] {name}: `errors` must be present exactly on 422: {parsed}")
            if parsed["request_id"] != step["request_id"]:
                raise ScenarioError(f"[{self.label}] {name}: problem request_id differs from X-Request-Id")
        return r

    def check(self, ok: bool, what: str):
        if not ok:
            raise ScenarioError(f"[{self.label}] {what}")

    # -- sign-in through the mail --------------------------------------------------------
    def request_code(self, name, email):
        before = last_message(self.inbox)
        self.call(name, "POST", "/v1/auth/otp", body={"email": email}, expect=202)
        code, _ = read_code(self.inbox, email.lower(), after=before)
        return code

    def sign_in(self, name, email):
        code = self.request_code(f"{name}: otp", email)
        r = self.call(f"{name}: token", "POST", "/v1/auth/token", body={"email": email, "code": code}, expect=200)
        body = r.json()
        self.check(body["token_type"] == "Bearer" and body["expires_in"] == 3600, f"{name}: token body {body}")
        return body["access_token"]


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def fields(r: httpx.Response) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in r.json().get("errors", [])]


def scenario(r: Runner):
    # --- operations, request ids, unknown routes -----------------------------------
    r.call("health", "GET", "/health", expect=200)
    resp = r.call("request id kept", "GET", "/health", headers={"X-Request-Id": SENT_REQUEST_ID}, expect=200)
    r.check(resp.headers["x-request-id"] == SENT_REQUEST_ID, "a sane X-Request-Id is kept")
    resp = r.call("request id replaced", "GET", "/health", headers={"X-Request-Id": "bad id with spaces"}, expect=200)
    r.check(resp.headers["x-request-id"] != "bad id with spaces", "an insane X-Request-Id is replaced")
    r.call("unknown route", "GET", "/v1/no-such-thing", expect=404)

    # --- sign-in ---------------------------------------------------------------------
    resp = r.call("otp: bad e-mail", "POST", "/v1/auth/otp", body={"email": "not-an-email"}, expect=422)
    r.check(fields(resp) == [("email", "email")], f"otp: bad e-mail fields {fields(resp)}")
    resp = r.call("otp: unknown field", "POST", "/v1/auth/otp", body={"email": "a@example.com", "mail": 1}, expect=422)
    r.check(fields(resp) == [("mail", "unknown_field")], f"otp: unknown field {fields(resp)}")
    r.call("otp: no content type", "POST", "/v1/auth/otp", content='{"email": "a@example.com"}', expect=415)
    resp = r.call("otp: double dot", "POST", "/v1/auth/otp", body={"email": "a..b@example.com"}, expect=422)
    r.check(fields(resp) == [("email", "email")], f"otp: double dot {fields(resp)}")

    code = r.request_code("ana: otp", "Ana@Example.com")
    resp = r.call(
        "token: not 6 digits", "POST", "/v1/auth/token", body={"email": "ana@example.com", "code": "12345"}, expect=422
    )
    r.check(fields(resp) == [("code", "pattern")], f"token: not 6 digits {fields(resp)}")
    resp = r.call(
        "token: wrong code",
        "POST",
        "/v1/auth/token",
        body={"email": "ana@example.com", "code": other_code(code)},
        expect=401,
    )
    r.check(resp.headers.get("www-authenticate") == "Bearer", "a wrong code's challenge is plain Bearer")
    resp = r.call("token: ana", "POST", "/v1/auth/token", body={"email": "ANA@example.com", "code": code}, expect=200)
    ana = resp.json()["access_token"]
    r.call("token: code used twice", "POST", "/v1/auth/token", body={"email": "ana@example.com", "code": code}, expect=401)

    # A code is burnt after 5 wrong tries; only the newest code works.
    code = r.request_code("carl: otp", "carl@example.com")
    for i in range(5):
        r.call(
            f"carl: wrong try {i + 1}",
            "POST",
            "/v1/auth/token",
            body={"email": "carl@example.com", "code": other_code(code)},
            expect=401,
        )
    r.call("carl: burnt code", "POST", "/v1/auth/token", body={"email": "carl@example.com", "code": code}, expect=401)
    first = r.request_code("carl: otp again", "carl@example.com")
    second = r.request_code("carl: newest otp", "carl@example.com")
    if first != second:
        r.call("carl: older code", "POST", "/v1/auth/token", body={"email": "carl@example.com", "code": first}, expect=401)
    r.call("carl: newest code", "POST", "/v1/auth/token", body={"email": "carl@example.com", "code": second}, expect=200)

    # At most 5 codes per address and hour, then 429 with Retry-After.
    for i in range(5):
        r.call(f"erin: otp {i + 1}", "POST", "/v1/auth/otp", body={"email": "erin@example.com"}, expect=202)
    resp = r.call("erin: sixth otp in the hour", "POST", "/v1/auth/otp", body={"email": "Erin@example.com"}, expect=429)
    r.check(resp.headers.get("retry-after", "").isdigit(), "429 carries Retry-After in seconds")

    bob = r.sign_in("bob", "bob@example.com")

    # --- the token ---------------------------------------------------------------------
    resp = r.call("me: no token", "GET", "/v1/me", expect=401)
    r.check(resp.headers.get("www-authenticate") == "Bearer", "no token: plain Bearer challenge")
    resp = r.call("me: bad token", "GET", "/v1/me", token="v4.public.bm90IGEgdG9rZW4", expect=401)
    r.check("invalid_token" in resp.headers.get("www-authenticate", ""), "bad token: invalid_token challenge")
    r.call("me: not bearer", "GET", "/v1/me", headers={"Authorization": "Basic YW5hOnB3"}, expect=401)
    r.call("me: trailing slash", "GET", "/v1/me/", token=ana, expect=200)
    resp = r.call("me: no accounts yet", "GET", "/v1/me", token=ana, expect=200)
    r.check(resp.json()["email"] == "ana@example.com" and resp.json()["accounts"] == [], "me: lower-case e-mail")

    # --- accounts --------------------------------------------------------------------
    bad = {"name": "", "kind": "bank", "currency": "EUX", "opening_balance": "12", "ammount": 1}
    resp = r.call("account: invalid fields", "POST", "/v1/accounts", token=ana, body=bad, expect=422)
    r.check(
        fields(resp)
        == [
            ("ammount", "unknown_field"),
            ("currency", "currency"),
            ("kind", "enum"),
            ("name", "length"),
            ("opening_balance", "type"),
        ],
        f"account: invalid fields {fields(resp)}",
    )
    resp = r.call("account: missing fields", "POST", "/v1/accounts", token=ana, body={}, expect=422)
    r.check(
        fields(resp) == [("currency", "required"), ("kind", "required"), ("name", "required")],
        f"account: missing fields {fields(resp)}",
    )
    for label, value in (("float", 1.5), ("string", "100"), ("boolean", True), ("too large", 10**15 + 1)):
        body = {"name": "Money", "kind": "cash", "currency": "EUR", "opening_balance": value}
        r.call(f"account: opening balance {label}", "POST", "/v1/accounts", token=ana, body=body, expect=422)
    r.call("account: not an object", "POST", "/v1/accounts", token=ana, body=[], expect=422)
    r.call("account: malformed JSON", "POST", "/v1/accounts", token=ana, content='{"name":', headers=JSON, expect=400)
    r.call("account: no content type", "POST", "/v1/accounts", token=ana, content='{"name": "x"}', expect=415)
    r.call(
        "account: text/plain",
        "POST",
        "/v1/accounts",
        token=ana,
        content='{"name": "x"}',
        headers={"Content-Type": "text/plain"},
        expect=415,
    )
    big = json.dumps({"name": "x" * 70_000, "kind": "cash", "currency": "EUR"})
    r.call("account: body over 64 KiB", "POST", "/v1/accounts", token=ana, content=big, headers=JSON, expect=413)

    everyday = r.call(
        "account: everyday",
        "POST",
        "/v1/accounts",
        token=ana,
        body={"name": "Everyday", "kind": "checking", "currency": "EUR", "opening_balance": 120000},
        expect=201,
    ).json()
    r.check(r.steps[-1]["headers"].get("location") == f"/v1/accounts/{everyday['id']}", "account: Location")
    r.call(
        "account: savings",
        "POST",
        "/v1/accounts",
        token=ana,
        body={"name": "Rainy day", "kind": "savings", "currency": "EUR"},
        expect=201,
    )
    wallet = r.call(
        "account: wallet",
        "POST",
        "/v1/accounts",
        token=ana,
        body={"name": "Wallet ünïcode", "kind": "cash", "currency": "USD", "opening_balance": -500},
        expect=201,
    ).json()
    bobs = r.call(
        "account: bob's",
        "POST",
        "/v1/accounts",
        token=bob,
        body={"name": "Bob's", "kind": "credit_card", "currency": "JPY", "opening_balance": 7},
        expect=201,
    ).json()
    acc = f"/v1/accounts/{everyday['id']}"
    resp = r.call("account: view", "GET", acc, token=ana, expect=200)
    r.check(resp.headers.get("etag", "").startswith('"'), "account: ETag")
    r.call("account: another user's", "GET", f"/v1/accounts/{bobs['id']}", token=ana, expect=404)
    r.call("account: missing", "GET", "/v1/accounts/0190a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", token=ana, expect=404)
    r.call("account: id not a uuid", "GET", "/v1/accounts/not-a-uuid", token=ana, expect=400)

    # --- movements ---------------------------------------------------------------------
    bad = {"amount": 0, "description": "", "category": "Food!", "occurred_at": "2026-01-01T10:00:00", "note": "x"}
    resp = r.call("movement: invalid fields", "POST", f"{acc}/movements", token=ana, body=bad, expect=422)
    r.check(
        fields(resp)
        == [
            ("amount", "non_zero"),
            ("category", "pattern"),
            ("description", "length"),
            ("note", "unknown_field"),
            ("occurred_at", "format"),
        ],
        f"movement: invalid fields {fields(resp)}",
    )
    resp = r.call("movement: missing fields", "POST", f"{acc}/movements", token=ana, body={}, expect=422)
    r.check(fields(resp) == [("amount", "required"), ("description", "required")], f"{fields(resp)}")
    for label, value in (("float", 1.5), ("string", "12"), ("boolean", True), ("null", None), ("over 10^15", 10**15 + 1)):
        resp = r.call(
            f"movement: amount {label}",
            "POST",
            f"{acc}/movements",
            token=ana,
            body={"amount": value, "description": "x"},
            expect=422,
        )
        r.check(fields(resp) == [("amount", "range" if label == "over 10^15" else "type")], f"{label}: {fields(resp)}")
    r.call(
        "movement: description too long",
        "POST",
        f"{acc}/movements",
        token=ana,
        body={"amount": 1, "description": "d" * 201},
        expect=422,
    )
    r.call(
        "movement: on another user's account",
        "POST",
        f"/v1/accounts/{bobs['id']}/movements",
        token=ana,
        body={"amount": 1, "description": "not mine"},
        expect=404,
    )
    for at, amount, description, category in MOVEMENTS:
        body = {"amount": amount, "description": description, "occurred_at": at}
        if category is not None:
            body["category"] = category
        resp = r.call(f"movement: {description} at {at}", "POST", f"{acc}/movements", token=ana, body=body, expect=201)
        m = resp.json()
        r.check(resp.headers.get("location") == f"{acc}/movements/{m['id']}", "movement: Location")
        r.check(instant(m["occurred_at"]) == instant(at), "movement: occurred_at kept")
    # RFC 3339 exactly: lower-case t/z and long fractions (kept to the
    # microsecond) are fine; ISO 8601 variants are not.
    wallet_movements = f"/v1/accounts/{wallet['id']}/movements"
    for label, at, status in (
        ("lower-case t and z", "2026-03-01t10:00:00z", 201),
        ("nanoseconds", "2026-03-02T10:00:00.123456789+01:00", 201),
        ("offset without colon", "2026-03-03T10:00:00+0100", 422),
        ("no seconds", "2026-03-04T10:00Z", 422),
        ("space separator", "2026-03-05 10:00:00Z", 422),
        ("not a date", "2026-02-30T10:00:00Z", 422),
    ):
        resp = r.call(
            f"movement: occurred_at {label}",
            "POST",
            wallet_movements,
            token=ana,
            body={"amount": 1, "description": label, "occurred_at": at},
            expect=status,
        )
        if status == 422:
            r.check(fields(resp) == [("occurred_at", "format")], f"{label}: {fields(resp)}")
    r.call(
        "movement: duplicate key, the last wins",
        "POST",
        wallet_movements,
        token=ana,
        content='{"amount": 0, "amount": 2, "description": "dup"}',
        headers=JSON,
        expect=201,
    )
    r.call("movement: body null", "POST", wallet_movements, token=ana, content="null", headers=JSON, expect=422)
    r.call(
        "movement: JSON with charset",
        "POST",
        wallet_movements,
        token=ana,
        content='{"amount": 3, "description": "charset"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
        expect=201,
    )
    r.call(
        "movement: a +json type",
        "POST",
        wallet_movements,
        token=ana,
        content='{"amount": 4, "description": "vnd"}',
        headers={"Content-Type": "application/vnd.api+json"},
        expect=201,
    )
    r.call(
        "movement: now, on the wallet",
        "POST",
        f"/v1/accounts/{wallet['id']}/movements",
        token=ana,
        body={"amount": -250, "description": "Snack", "category": "food"},
        expect=201,
    )

    # Idempotency: same key and body replays; another body is 409; recorded once.
    key = {"Idempotency-Key": "bench-groceries-1"}
    body = {"amount": -4250, "description": "Groceries (idempotent)", "category": "food", "occurred_at": "2026-02-20T18:30:00Z"}
    first = r.call("idempotent: first", "POST", f"{acc}/movements", token=ana, body=body, headers=key, expect=201)
    again = r.call("idempotent: replay", "POST", f"{acc}/movements", token=ana, body=body, headers=key, expect=201)
    r.check(again.json() == first.json(), "idempotent: replay returns the first response")
    r.check(again.headers.get("idempotent-replayed") == "true", "idempotent: Idempotent-Replayed header")
    r.check(again.headers.get("location") == first.headers.get("location"), "idempotent: same Location")
    r.call(
        "idempotent: other body",
        "POST",
        f"{acc}/movements",
        token=ana,
        body={**body, "amount": -4251},
        headers=key,
        expect=409,
    )
    r.call(
        "idempotent: key too long",
        "POST",
        f"{acc}/movements",
        token=ana,
        body=body,
        headers={"Idempotency-Key": "k" * 256},
        expect=400,
    )
    resp = r.call("account: after movements", "GET", acc, token=ana, expect=200)
    expected = 120000 + sum(m[1] for m in MOVEMENTS) - 4250
    r.check(resp.json()["balance"] == expected, f"balance {resp.json()['balance']} != {expected}")

    # --- the movement list: pages through Link, filters, errors ------------------------
    r.call("list: first page, default limit", "GET", f"{acc}/movements", token=ana, expect=200)
    url, pages = f"{acc}/movements?limit=3", 0
    first_cursor = None
    while url:
        resp = r.call(f"list: page {pages + 1} of 3", "GET", url, token=ana, expect=200)
        page = resp.json()
        link = resp.headers.get("link")
        r.check((link is None) == (page["next_cursor"] is None), "list: Link iff next_cursor")
        if link:
            m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
            r.check(m is not None, f"list: Link header {link}")
            url = m.group(1)
            r.check(dict(parse_qsl(urlsplit(url).query))["cursor"] == page["next_cursor"], "list: Link has the cursor")
            first_cursor = first_cursor or page["next_cursor"]
        else:
            url = None
        pages += 1
        r.check(pages < 10, "list: too many pages")
    r.check(pages == 3, f"list: 9 movements in pages of 3 should be 3 pages, got {pages}")
    r.call("list: limit 0", "GET", f"{acc}/movements?limit=0", token=ana, expect=422)
    resp = r.call("list: limit 201", "GET", f"{acc}/movements?limit=201", token=ana, expect=422)
    r.check(fields(resp) == [("limit", "range")], f"limit 201: {fields(resp)}")
    r.call("list: limit not a number", "GET", f"{acc}/movements?limit=abc", token=ana, expect=400)
    r.call("list: cursor not issued", "GET", f"{acc}/movements?cursor=bm90LWEtY3Vyc29y", token=ana, expect=400)
    r.call(
        "list: cursor of another list",
        "GET",
        f"{acc}/movements?limit=3&category=food&cursor={first_cursor}",
        token=ana,
        expect=400,
    )
    r.call("list: from not a time", "GET", f"{acc}/movements?from=yesterday", token=ana, expect=400)
    r.call("list: from without offset", "GET", f"{acc}/movements?from=2026-01-01T00:00:00", token=ana, expect=400)
    r.call(
        "list: to before from",
        "GET",
        f"{acc}/movements?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        token=ana,
        expect=422,
    )
    r.call("list: bad category", "GET", f"{acc}/movements?category=Food", token=ana, expect=422)
    resp = r.call(
        "list: period, to exclusive",
        "GET",
        f"{acc}/movements?from=2026-01-01T00:00:00Z&to=2026-02-01T08:15:00Z",
        token=ana,
        expect=200,
    )
    r.check(len(resp.json()["items"]) == 3, f"period: {len(resp.json()['items'])} items")
    resp = r.call(
        "list: period, + as space",
        "GET",
        f"{acc}/movements?from=2026-02-01T09:15:00+01:00",
        token=ana,
        expect=200,
    )
    url, pages = f"{acc}/movements?category=food&limit=1&from=2026-01-01T00%3A00%3A00Z", 0
    while url:
        resp = r.call(f"list: food, page {pages + 1}", "GET", url, token=ana, expect=200)
        link = resp.headers.get("link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None
        pages += 1
        r.check(pages < 10, "list: too many pages")
    r.check(pages == 3, f"list: 3 food movements on everyday, got {pages} pages")
    r.call("list: another user's account", "GET", f"/v1/accounts/{bobs['id']}/movements", token=ana, expect=404)
    r.call(
        "list: missing account", "GET", "/v1/accounts/0190a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b/movements", token=ana, expect=404
    )
    r.call("list: empty account", "GET", f"/v1/accounts/{bobs['id']}/movements?category=food", token=bob, expect=200)

    # --- overview and profile ----------------------------------------------------------
    resp = r.call("overview", "GET", "/v1/overview", token=ana, expect=200)
    eur = next(c for c in resp.json()["currencies"] if c["currency"] == "EUR")
    r.check(eur["accounts"] == 2 and eur["balance"] == expected, f"overview EUR: {eur}")
    r.call(
        "overview: period",
        "GET",
        "/v1/overview?from=2026-01-10T12:30:00Z&to=2026-02-10T07:00:00Z",
        token=ana,
        expect=200,
    )
    r.call("overview: from not a time", "GET", "/v1/overview?from=2026-13-01T00:00:00Z", token=ana, expect=400)
    r.call(
        "overview: to before from",
        "GET",
        "/v1/overview?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        token=ana,
        expect=422,
    )
    r.call("overview: bob", "GET", "/v1/overview", token=bob, expect=200)
    resp = r.call("me: with accounts", "GET", "/v1/me", token=ana, expect=200)
    r.check([a["name"] for a in resp.json()["accounts"]] == ["Wallet ünïcode", "Rainy day", "Everyday"], "me: newest first")

    # --- a deleted user's token -------------------------------------------------------------
    dave = r.sign_in("dave", "dave@example.com")
    daves = r.call(
        "dave: account", "POST", "/v1/accounts", token=dave, body={"name": "D", "kind": "other", "currency": "CHF"}, expect=201
    ).json()
    r.call("dave: delete me", "DELETE", "/v1/me", token=dave, expect=204)
    resp = r.call("dave: token after delete", "GET", "/v1/me", token=dave, expect=401)
    r.check("invalid_token" in resp.headers.get("www-authenticate", ""), "deleted user: invalid_token challenge")
    r.call("dave: account after delete", "GET", f"/v1/accounts/{daves['id']}", token=dave, expect=401)
    r.call(
        "dave: invalid body after delete",
        "POST",
        "/v1/accounts",
        token=dave,
        body={"name": ""},
        expect=401,
    )


# --- normalisation and comparison ------------------------------------------------------------


class Normaliser:
    """Replaces what legitimately differs between two runs by placeholders."""

    def __init__(self):
        self.ids: dict[str, str] = {}

    def id(self, u: str) -> str:
        return self.ids.setdefault(u, f"<id{len(self.ids) + 1}>")

    def text(self, s: str) -> str:
        return UUID_RE.sub(lambda m: self.id(m.group(0)), s)

    def value(self, v, key=None):
        if isinstance(v, dict):
            return {k: self.value(v[k], k) for k in sorted(v)}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, str):
            return v
        if key == "request_id":
            return v if v == SENT_REQUEST_ID else "<request-id>"
        if key in ("next_cursor",):
            return "<cursor>"
        if key == "access_token":
            return "<token>"
        if key == "version":
            return "<version>"
        if TIME_RE.match(v):
            return v if instant(v) in EXPLICIT_INSTANTS else "<time>"
        return self.text(v)

    def header(self, name: str, v: str) -> str:
        if name == "etag":
            m = ETAG_RE.match(v)
            if m:
                h = m.group(1)
                u = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
                return f'"{self.id(u)}-{m.group(2)}"'
        if name == "link":
            return self.text(re.sub(r"cursor=[A-Za-z0-9_-]+", "cursor=<cursor>", v))
        if name == "content-type":
            return v.split(";")[0].strip()
        if name == "retry-after" and v.isdigit() and 3500 <= int(v) <= 3601:
            return "<about an hour>"
        return self.text(v)

    def step(self, s: dict) -> dict:
        body = s["body"]
        if isinstance(body, dict) and "status" in body and "title" in body:
            body = dict(body)
            body["errors"] = [{k: e[k] for k in ("field", "code")} for e in body.get("errors", [])] or None
            if body["errors"] is None:
                del body["errors"]
            # Details are the apps' own wording for 400s (e.g. a JSON parser's message).
            if body.get("status") == 400:
                body["detail"] = "<detail>"
        return {
            "name": s["name"],
            "status": s["status"],
            "headers": {k: self.header(k, v) for k, v in sorted(s["headers"].items())},
            "body": self.value(body),
        }


def normalise(steps):
    n = Normaliser()
    return [n.step(s) for s in steps]


def compare(a_label, a_steps, b_label, b_steps) -> list[str]:
    diffs = []
    na, nb = normalise(a_steps), normalise(b_steps)
    if len(na) != len(nb):
        diffs.append(f"{a_label} ran {len(na)} steps, {b_label} {len(nb)}")
    for x, y in zip(na, nb):
        if x == y:
            continue
        lines = [f"step {x['name']!r}:"]
        for part in ("status", "headers", "body"):
            if x[part] != y[part]:
                lines.append(f"  {part}:\n    {a_label}: {json.dumps(x[part], ensure_ascii=False)}")
                lines.append(f"    {b_label}: {json.dumps(y[part], ensure_ascii=False)}")
        diffs.append("\n".join(lines))
    return diffs


def run_one(base, inbox, label) -> Runner:
    r = Runner(base, inbox, label)
    scenario(r)
    return r


def main(argv):
    if len(argv) == 3 and argv[0] == "run":
        r = run_one(argv[1], argv[2], argv[1])
        print(f"scenario: {len(r.steps)} steps, every status as API.md says")
        return 0
    if len(argv) == 5 and argv[0] == "compare":
        apps = []
        for label, base, inbox in (("tally", argv[1], argv[2]), ("fastapi", argv[3], argv[4])):
            try:
                apps.append(run_one(base, inbox, label))
            except ScenarioError as e:
                print(f"scenario FAILED: {e}", file=sys.stderr)
                return 1
        diffs = compare("tally", apps[0].steps, "fastapi", apps[1].steps)
        if diffs:
            print(f"scenario: the apps DISAGREE on {len(diffs)} of {len(apps[0].steps)} steps:", file=sys.stderr)
            for d in diffs:
                print(d, file=sys.stderr)
            return 1
        print(f"scenario: both apps agree on all {len(apps[0].steps)} steps")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
