"""Tally's API in FastAPI: the endpoints the benchmark exercises, with the
same rules, status codes and problem+json errors as Tally (API.md).

Run: uvicorn tally_fastapi.main:app --loop uvloop --http httptools (see bench/README.md).
"""

import asyncio
import hashlib
import logging
import re
import secrets
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Annotated, TypeVar
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from uuid_utils.compat import uuid7

from . import VERSION, config
from .db import Database, Postgres
from .mail import Mailer
from .models import AccountCreate, MovementCreate, OtpRequest, TokenRequest
from .problems import (
    PROBLEM_JSON,
    ApiError,
    bad_request,
    field_error,
    from_validation,
    not_found,
    render,
    unauthorized,
    unprocessable,
)
from .security import BadCursor, Cursors, InvalidToken, Tokens

log = logging.getLogger("tally_fastapi")

settings = config.load()
db = Database(settings)
B = db.backend  # value adapters of the backend (ids, timestamps)
tokens = Tokens(settings.token_seed, settings.token_ttl)
cursors = Cursors(settings.token_seed)
mailer = Mailer(settings)

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CODE_TTL = timedelta(minutes=10)
CODES_PER_HOUR = 5
MAX_ATTEMPTS = 5
BODY_LIMIT = 64 * 1024
MAX_BALANCE = 10**18
IDEMPOTENCY_RETENTION = timedelta(hours=24)
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
I64_MAX = 2**63 - 1
M = TypeVar("M", bound=BaseModel)


def now() -> datetime:
    return datetime.now(UTC)  # microsecond precision, as Tally keeps


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


# --- the app, request ids, errors ---------------------------------------------


@asynccontextmanager
async def lifespan(_app):
    # The schema exists already: `python -m tally_fastapi.prestart` made it.
    yield
    await db.dispose()


# ANCHOR: app
# No redirects for trailing slashes: RequestIds routes `/v1/me/` as `/v1/me`, as Rocket does.
app = FastAPI(title="Tally (FastAPI peer)", version=VERSION, lifespan=lifespan, redirect_slashes=False)
# ANCHOR_END: app

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


# ANCHOR: middleware
class RequestIds:
    """Pure ASGI middleware: every response carries `X-Request-Id` (a sane
    incoming one is kept), and an unexpected exception becomes a 500
    problem that reveals nothing. Empty path segments (`/v1/me/`) are
    ignored for routing, as Rocket ignores them; the path as sent stays in
    `scope["tally_path"]` for `Link` headers and idempotency fingerprints."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        if rid is None or not _SANE_ID.fullmatch(rid):
            rid = str(uuid7())
        scope["request_id"] = rid
        path = scope["path"]
        scope["tally_path"] = path
        if path != "/" and (path.endswith("/") or "//" in path):
            scope["path"] = "/" + "/".join(segment for segment in path.split("/") if segment)
        header = (b"x-request-id", rid.encode())
        started = False

        async def send_with_id(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("internal error, request_id=%s", rid)
            if started:
                raise
            error = ApiError(500, "an unexpected error happened; it has been logged")
            await render(error, rid)(scope, receive, send_with_id)


app.add_middleware(RequestIds)
# ANCHOR_END: middleware


def request_id(request: Request) -> str:
    return request.scope.get("request_id", "")


# ANCHOR: exception_handlers
@app.exception_handler(ApiError)
async def _api_error(request: Request, exc: ApiError):
    # As Tally's `GoneUsers`: a refusal of a signed-in user who no longer
    # exists is the 401 of a deleted user's token. Only refused requests ask.
    user = getattr(request.state, "user", None)
    if user is not None and 400 <= exc.status < 500 and exc.status != 401:
        try:
            async with db.read.connect() as conn:
                if (await conn.execute(USER_EXISTS, {"id": B.id(user)})).first() is None:
                    exc = unauthorized("the token's user no longer exists", True)
        except Exception:
            # As Tally: when the question cannot be asked, the refusal stands.
            log.warning("could not tell whether a user still exists", exc_info=True)
    return render(exc, request_id(request))


_STATUS_DETAILS = {
    400: "the request could not be parsed",
    401: "authentication is required",
    404: "no resource at this path supports this method",
    405: "this method is not allowed on this path",
    413: "the request body is too large",
    415: "the request body must be application/json",
    422: "the request is well-formed but invalid",
    503: "the service is unavailable",
}


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException):
    detail = _STATUS_DETAILS.get(exc.status_code, "the request could not be served")
    return render(ApiError(exc.status_code, detail, headers=exc.headers), request_id(request))
# ANCHOR_END: exception_handlers


@app.exception_handler(RequestValidationError)
async def _request_validation(request: Request, exc: RequestValidationError):
    return render(bad_request("the request could not be parsed"), request_id(request))


# --- request parts --------------------------------------------------------------


# ANCHOR: depends
async def bearer_user(request: Request) -> uuid.UUID:
    """The user id of a genuine, unexpired `Authorization: Bearer` token.
    Whether the user still exists is not asked here: every query is limited
    to the user's rows, which go with the user, and a request that is
    refused asks (`_api_error`), as Tally does."""
    header = request.headers.get("authorization")
    if header is None:
        raise unauthorized("a bearer token is required", False)
    scheme, sep, token = header.partition(" ")
    if not sep or scheme.lower() != "bearer":
        raise unauthorized("the Authorization header must be `Bearer <token>`", True)
    try:
        user = tokens.verify(token.strip())
    except InvalidToken:
        raise unauthorized("the token is invalid or expired", True) from None
    request.state.user = user
    return user


UserId = Annotated[uuid.UUID, Depends(bearer_user)]
# ANCHOR_END: depends

USER_EXISTS = text("SELECT 1 FROM users WHERE id = :id")


async def require_user(conn, user: uuid.UUID):
    """For a write whose foreign key names the user: 401 once the user is gone."""
    if (await conn.execute(USER_EXISTS, {"id": B.id(user)})).first() is None:
        raise unauthorized("the token's user no longer exists", True)


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise bad_request("a path parameter does not parse (ids are UUIDs)") from None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request, model: type[M]) -> M:
    """415 unless JSON, 413 over 64 KiB, 400 malformed, 422 with every invalid field."""
    if not _is_json(request.headers.get("content-type")):
        raise ApiError(415, "the request body must be application/json")
    too_large = ApiError(413, f"the request body is larger than {BODY_LIMIT} bytes")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > BODY_LIMIT:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > BODY_LIMIT:
            raise too_large
        chunks.append(chunk)
    try:
        return model.model_validate_json(b"".join(chunks))
    except ValidationError as e:
        raise from_validation(e) from None


def body_doc(model: type[BaseModel]) -> dict:
    """The request body in the OpenAPI document (bodies are read by read_json)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


_INTEGER = re.compile(r"[+-]?[0-9]+")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.(\d+))?(?:[Zz]|[+-]\d{2}:\d{2})")
_CATEGORY = re.compile(r"[a-z0-9_-]{1,50}")


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    s = raw.strip()
    if not _INTEGER.fullmatch(s) or abs(int(s)) > I64_MAX:
        raise bad_request(f"`limit` must be an integer, got `{raw}`")
    n = int(s)
    if not 1 <= n <= MAX_LIMIT:
        raise unprocessable([field_error("limit", "range", "must be 1 to 200")])
    return n


def parse_time(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    # An unencoded `+` in a query string arrives as a space.
    s = raw.strip().replace(" ", "+")
    m = _RFC3339.fullmatch(s)
    bad = bad_request(f"`{name}` must be an RFC 3339 timestamp with an offset, e.g. 2026-11-21T10:00:00Z")
    if not m:
        raise bad
    if m.group(1) and len(m.group(1)) > 6:  # keep microseconds, like Tally
        s = s[: m.start(1) + 6] + s[m.end(1):]
    try:
        return datetime.fromisoformat(s.replace("z", "Z")).astimezone(UTC)
    except ValueError:
        raise bad from None


def parse_period(from_raw: str | None, to_raw: str | None):
    start, end = parse_time("from", from_raw), parse_time("to", to_raw)
    if start is not None and end is not None and end < start:
        raise unprocessable([field_error("to", "range", "must not be before `from`")])
    return start, end


def parse_category(raw: str | None) -> str | None:
    if raw is not None and not _CATEGORY.fullmatch(raw):
        raise unprocessable([field_error("category", "pattern", "must be 1 to 50 characters of a-z 0-9 _ -")])
    return raw


def next_link(path: str, query: str, cursor: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "cursor"]
    pairs.append(("cursor", cursor))
    return f"{path}?{urlencode(pairs)}"


# --- rows to JSON ----------------------------------------------------------------

ACCOUNT_COLUMNS = "id, name, kind, currency, balance, version, created_at, updated_at"
MOVEMENT_COLUMNS = "id, account_id, amount, description, category, occurred_at, created_at, transfer_id"


def account_json(r) -> dict:
    return {
        "id": B.id_out(r[0]),
        "name": r[1],
        "kind": r[2],
        "currency": r[3],
        "balance": r[4],
        "created_at": B.ts_out(r[6]),
        "updated_at": B.ts_out(r[7]),
    }


def etag(account_id: str, version: int) -> str:
    return f'"{account_id.replace("-", "")}-{version}"'


def movement_json(r) -> dict:
    return {
        "id": B.id_out(r[0]),
        "account_id": B.id_out(r[1]),
        "amount": r[2],
        "description": r[3],
        "category": r[4],
        "occurred_at": B.ts_out(r[5]),
        "created_at": B.ts_out(r[6]),
        "transfer_id": None if r[7] is None else B.id_out(r[7]),
    }


# --- health ------------------------------------------------------------------------

SELECT_1 = text("SELECT 1")


@app.get("/health", tags=["operations"])
async def health():
    try:
        async with asyncio.timeout(2):
            async with db.read.connect() as conn:
                await conn.execute(SELECT_1)
    except Exception as e:
        log.warning("health: database did not answer: %s", e)
        raise ApiError(503, "the database does not answer", database="unavailable") from None
    return json_response({"status": "ok", "database": "ok", "version": VERSION})


# --- sign-in -----------------------------------------------------------------------

LOCK_EMAIL = text("SELECT pg_advisory_xact_lock(hashtextextended(:email, 0))")
DELETE_OLD_CODES = text("DELETE FROM otp_codes WHERE email = :email AND created_at <= :before")
RECENT_CODES = text("SELECT created_at FROM otp_codes WHERE email = :email ORDER BY created_at")
INSERT_CODE = text(
    "INSERT INTO otp_codes (id, email, code_hash, attempts, created_at, expires_at)"
    " VALUES (:id, :email, :hash, 0, :now, :expires)"
)
DISCARD_CODE = text("DELETE FROM otp_codes WHERE id = :id")
LATEST_CODE = text(
    "SELECT id, code_hash, attempts, expires_at, consumed_at FROM otp_codes"
    " WHERE email = :email ORDER BY created_at DESC, id DESC LIMIT 1"
)
SPEND_ATTEMPT = text(
    "UPDATE otp_codes SET attempts = attempts + 1"
    " WHERE id = :id AND attempts < :max AND consumed_at IS NULL"
)
CONSUME_CODE = text("UPDATE otp_codes SET consumed_at = :now WHERE id = :id AND consumed_at IS NULL")
INSERT_USER = text(
    "INSERT INTO users (id, email, created_at) VALUES (:id, :email, :now) ON CONFLICT (email) DO NOTHING"
)
USER_BY_EMAIL = text("SELECT id FROM users WHERE email = :email")


@app.post("/v1/auth/otp", status_code=202, tags=["auth"], openapi_extra=body_doc(OtpRequest))
async def otp_create(request: Request):
    body = await read_json(request, OtpRequest)
    email = body.email.lower()
    code = f"{secrets.randbelow(1_000_000):06d}"
    code_id = uuid7()
    t = now()
    async with db.write.begin() as conn:
        if B is Postgres:
            await conn.execute(LOCK_EMAIL, {"email": email})
        await conn.execute(DELETE_OLD_CODES, {"email": email, "before": B.ts(t - timedelta(hours=1))})
        recent = [B.ts_in(r[0]) for r in await conn.execute(RECENT_CODES, {"email": email})]
        if len(recent) >= CODES_PER_HOUR:
            frees_at = recent[len(recent) - CODES_PER_HOUR] + timedelta(hours=1)
            retry_after = max(int((frees_at - t).total_seconds()), 0) + 1
            raise ApiError(
                429,
                "too many sign-in codes for this address; try again later",
                headers={"Retry-After": str(retry_after)},
            )
        await conn.execute(
            INSERT_CODE,
            {
                "id": B.id(code_id),
                "email": email,
                "hash": tokens.hash_code(code_id, code),
                "now": B.ts(t),
                "expires": B.ts(t + CODE_TTL),
            },
        )
    try:
        await mailer.send_code(email, code)
    except Exception:
        # A code nobody received must not count against the hourly limit.
        async with db.write.begin() as conn:
            await conn.execute(DISCARD_CODE, {"id": B.id(code_id)})
        raise
    return json_response({"expires_in": int(CODE_TTL.total_seconds())}, 202)


def wrong_code() -> ApiError:
    return unauthorized("the code is wrong, expired or used up; ask for a new one", False)


@app.post("/v1/auth/token", tags=["auth"], openapi_extra=body_doc(TokenRequest))
async def token_create(request: Request):
    body = await read_json(request, TokenRequest)
    email = body.email.lower()
    t = now()
    async with db.read.connect() as conn:
        row = (await conn.execute(LATEST_CODE, {"email": email})).first()
        if row is None:
            raise wrong_code()
        code_id, code_hash, attempts, expires_at, consumed_at = row
        if consumed_at is not None or B.ts_in(expires_at) <= t or attempts >= MAX_ATTEMPTS:
            raise wrong_code()
        # Every try counts, atomically, before the comparison.
        spent = await conn.execute(SPEND_ATTEMPT, {"id": code_id, "max": MAX_ATTEMPTS})
        if spent.rowcount != 1 or not tokens.code_matches(B.id_in(code_id), body.code, code_hash):
            raise wrong_code()
    async with db.write.begin() as conn:
        used = await conn.execute(CONSUME_CODE, {"id": code_id, "now": B.ts(t)})
        if used.rowcount != 1:
            raise wrong_code()
        await conn.execute(INSERT_USER, {"id": B.id(uuid7()), "email": email, "now": B.ts(t)})
        user_id = (await conn.execute(USER_BY_EMAIL, {"email": email})).scalar_one()
    return json_response(
        {"access_token": tokens.issue(B.id_in(user_id)), "token_type": "Bearer", "expires_in": tokens.ttl}
    )


# --- profile -----------------------------------------------------------------------

USER_ROW = text("SELECT id, email, created_at FROM users WHERE id = :id")
USER_ACCOUNTS = text(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = :user ORDER BY id DESC")
DELETE_USER_CODES = text("DELETE FROM otp_codes WHERE email = (SELECT email FROM users WHERE id = :id)")
DELETE_USER = text("DELETE FROM users WHERE id = :id")


@app.get("/v1/me", tags=["profile"])
async def me_view(user: UserId):
    uid = B.id(user)
    async with db.read.connect() as conn:
        # The user's row is also the check that the token's user still exists.
        row = (await conn.execute(USER_ROW, {"id": uid})).first()
        if row is None:
            raise unauthorized("the token's user no longer exists", True)
        accounts = (await conn.execute(USER_ACCOUNTS, {"user": uid})).all()
    return json_response(
        {
            "id": B.id_out(row[0]),
            "email": row[1],
            "created_at": B.ts_out(row[2]),
            "accounts": [account_json(a) for a in accounts],
        }
    )


@app.delete("/v1/me", status_code=204, tags=["profile"])
async def me_delete(user: UserId):
    uid = B.id(user)
    async with db.write.begin() as conn:
        await require_user(conn, user)
        await conn.execute(DELETE_USER_CODES, {"id": uid})
        await conn.execute(DELETE_USER, {"id": uid})
    return Response(status_code=204)


# --- accounts ----------------------------------------------------------------------

INSERT_ACCOUNT = text(
    "INSERT INTO accounts (id, user_id, name, kind, currency, balance, version, created_at, updated_at)"
    " VALUES (:id, :user, :name, :kind, :currency, :balance, 1, :now, :now)"
)
INSERT_MOVEMENT = text(
    f"INSERT INTO movements ({MOVEMENT_COLUMNS})"
    " VALUES (:id, :account, :amount, :description, :category, :occurred_at, :now, NULL)"
)
ACCOUNT_ROW = text(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = :id AND user_id = :user")


# ANCHOR: account_create
@app.post("/v1/accounts", status_code=201, tags=["accounts"], openapi_extra=body_doc(AccountCreate))
async def account_create(request: Request, user: UserId):
    body = await read_json(request, AccountCreate)
    account_id = uuid7()
    t = now()
    ts = B.ts(t)
    async with db.write.begin() as conn:
        await require_user(conn, user)
        await conn.execute(
            INSERT_ACCOUNT,
            {
                "id": B.id(account_id),
                "user": B.id(user),
                "name": body.name,
                "kind": body.kind,
                "currency": body.currency,
                "balance": body.opening_balance,
                "now": ts,
            },
        )
        if body.opening_balance != 0:
            await conn.execute(
                INSERT_MOVEMENT,
                {
                    "id": B.id(uuid7()),
                    "account": B.id(account_id),
                    "amount": body.opening_balance,
                    "description": "Opening balance",
                    "category": "opening_balance",
                    "occurred_at": ts,
                    "now": ts,
                },
            )
    aid = str(account_id)
    stamp = B.ts_out(ts)
    account = {
        "id": aid,
        "name": body.name,
        "kind": body.kind,
        "currency": body.currency,
        "balance": body.opening_balance,
        "created_at": stamp,
        "updated_at": stamp,
    }
    return json_response(account, 201, {"Location": f"/v1/accounts/{aid}", "ETag": etag(aid, 1)})
# ANCHOR_END: account_create


# ANCHOR: path_operation
@app.get("/v1/accounts/{account_id}", tags=["accounts"])
async def account_view(user: UserId, account_id: str):
    aid = parse_id(account_id)
    async with db.read.connect() as conn:
        row = (await conn.execute(ACCOUNT_ROW, {"id": B.id(aid), "user": B.id(user)})).first()
    if row is None:
        raise not_found("no such account")
    body = account_json(row)
    return json_response(body, headers={"ETag": etag(body["id"], row[5])})
# ANCHOR_END: path_operation


# --- movements ---------------------------------------------------------------------

_LIST_SQL: dict[tuple, object] = {}


def list_sql(has_from: bool, has_to: bool, has_category: bool, has_after: bool):
    """One statement per filter combination (each a simple index range scan);
    the ownership check is a one-time condition of the same query."""
    key = (has_from, has_to, has_category, has_after)
    stmt = _LIST_SQL.get(key)
    if stmt is None:
        where = ["account_id = :account"]
        if has_from:
            where.append("occurred_at >= :from_")
        if has_to:
            where.append("occurred_at < :to")
        if has_category:
            where.append("category = :category")
        if has_after:
            where.append("(occurred_at, id) < (:after_at, :after_id)")
        where.append("EXISTS (SELECT 1 FROM accounts WHERE id = :account AND user_id = :user)")
        stmt = _LIST_SQL[key] = text(
            f"SELECT {MOVEMENT_COLUMNS} FROM movements WHERE {' AND '.join(where)}"
            " ORDER BY occurred_at DESC, id DESC LIMIT :limit"
        )
    return stmt


ACCOUNT_EXISTS = text("SELECT 1 FROM accounts WHERE id = :id AND user_id = :user")


def position(occurred_at, movement_id) -> bytes:
    t = B.ts_in(occurred_at)
    micros = (t - EPOCH) // timedelta(microseconds=1)
    return micros.to_bytes(8, "big", signed=True) + B.id_in(movement_id).bytes


@app.get("/v1/accounts/{account_id}/movements", tags=["movements"])
async def movement_list(
    request: Request,
    user: UserId,
    account_id: str,
    limit: str | None = None,
    cursor: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    category: str | None = None,
):
    async with db.read.connect() as conn:
        aid = parse_id(account_id)
        n = parse_limit(limit)
        start, end = parse_period(from_, to)
        category = parse_category(category)
        scope = f"movements|{aid}|{start and start.isoformat()}|{end and end.isoformat()}|{category or ''}"
        params = {"account": B.id(aid), "user": B.id(user), "limit": n + 1}
        if start is not None:
            params["from_"] = B.ts(start)
        if end is not None:
            params["to"] = B.ts(end)
        if category is not None:
            params["category"] = category
        if cursor is not None:
            try:
                payload = cursors.decode(scope, cursor)
                if len(payload) != 24:
                    raise BadCursor
                micros = int.from_bytes(payload[:8], "big", signed=True)
                params["after_at"] = B.ts(EPOCH + timedelta(microseconds=micros))
                params["after_id"] = B.id(uuid.UUID(bytes=payload[8:]))
            except (BadCursor, OverflowError):
                raise bad_request("`cursor` is not one this list issued") from None
        stmt = list_sql(start is not None, end is not None, category is not None, cursor is not None)
        rows = (await conn.execute(stmt, params)).all()
        if not rows and (await conn.execute(ACCOUNT_EXISTS, {"id": params["account"], "user": params["user"]})).first() is None:
            raise not_found("no such account")
    headers = None
    next_cursor = None
    if len(rows) > n:
        rows = rows[:n]
        last = rows[-1]
        next_cursor = cursors.encode(scope, position(last[5], last[0]))
        link = next_link(request.scope["tally_path"], request.scope["query_string"].decode("latin-1"), next_cursor)
        headers = {"Link": f'<{link}>; rel="next"'}
    return json_response({"items": [movement_json(r) for r in rows], "next_cursor": next_cursor}, headers=headers)


DELETE_EXPIRED_KEYS = text("DELETE FROM idempotency_keys WHERE user_id = :user AND created_at < :before")
CLAIM_KEY = text(
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES (:user, :key, :fingerprint, :now)"
    " ON CONFLICT (user_id, key) DO NOTHING"
)
FIND_KEY = text("SELECT fingerprint, status, location, body FROM idempotency_keys WHERE user_id = :user AND key = :key")
RECORD_KEY = text(
    "UPDATE idempotency_keys SET status = :status, location = :location, body = :body"
    " WHERE user_id = :user AND key = :key"
)
ADD_TO_BALANCE = text(
    "UPDATE accounts SET balance = balance + :amount, version = version + 1, updated_at = :now"
    " WHERE id = :id AND user_id = :user AND balance + :amount BETWEEN :low AND :high"
)


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise bad_request("`Idempotency-Key` must be 1 to 255 visible ASCII characters")
    return key


@app.post(
    "/v1/accounts/{account_id}/movements", status_code=201, tags=["movements"], openapi_extra=body_doc(MovementCreate)
)
async def movement_create(request: Request, user: UserId, account_id: str):
    aid = parse_id(account_id)
    key = idempotency_key(request)
    body = await read_json(request, MovementCreate)
    t = now()
    ts = B.ts(t)
    uid, account = B.id(user), B.id(aid)
    path = request.scope["tally_path"]
    async with db.write.begin() as conn:
        if key is not None:
            # The key's row names the user (a foreign key).
            await require_user(conn, user)
            fingerprint = hashlib.sha256(path.encode() + b"\0" + body.model_dump_json().encode()).digest()
            await conn.execute(DELETE_EXPIRED_KEYS, {"user": uid, "before": B.ts(t - IDEMPOTENCY_RETENTION)})
            claim = {"user": uid, "key": key, "fingerprint": fingerprint, "now": ts}
            if (await conn.execute(CLAIM_KEY, claim)).rowcount != 1:
                row = (await conn.execute(FIND_KEY, {"user": uid, "key": key})).first()
                if row is not None and bytes(row[0]) != fingerprint:
                    raise ApiError(409, "this Idempotency-Key was used with a different request")
                if row is None or row[1] is None or row[3] is None:
                    raise ApiError(409, "a request with this Idempotency-Key is still in progress")
                headers = {"Idempotent-Replayed": "true"}
                if row[2] is not None:
                    headers["Location"] = row[2]
                return Response(row[3].encode(), row[1], headers, media_type="application/json")
        changed = await conn.execute(
            ADD_TO_BALANCE,
            {"amount": body.amount, "now": ts, "id": account, "user": uid, "low": -MAX_BALANCE, "high": MAX_BALANCE},
        )
        if changed.rowcount != 1:
            if (await conn.execute(ACCOUNT_EXISTS, {"id": account, "user": uid})).first() is None:
                raise not_found("no such account")
            raise unprocessable(
                [field_error("amount", "balance_range", "would take the balance beyond ±10^18 minor units")]
            )
        movement_id = uuid7()
        occurred = B.ts(body.occurred_at.astimezone(UTC)) if body.occurred_at is not None else ts
        await conn.execute(
            INSERT_MOVEMENT,
            {
                "id": B.id(movement_id),
                "account": account,
                "amount": body.amount,
                "description": body.description,
                "category": body.category,
                "occurred_at": occurred,
                "now": ts,
            },
        )
        mid, aid_s = str(movement_id), str(aid)
        movement = {
            "id": mid,
            "account_id": aid_s,
            "amount": body.amount,
            "description": body.description,
            "category": body.category,
            "occurred_at": B.ts_out(occurred),
            "created_at": B.ts_out(ts),
            "transfer_id": None,
        }
        content = orjson.dumps(movement)
        location = f"/v1/accounts/{aid_s}/movements/{mid}"
        if key is not None:
            await conn.execute(
                RECORD_KEY, {"status": 201, "location": location, "body": content.decode(), "user": uid, "key": key}
            )
    return Response(content, 201, {"Location": location}, media_type="application/json")


# --- overview ------------------------------------------------------------------------

BALANCES = text(
    "SELECT currency, CAST(SUM(balance) AS BIGINT), COUNT(*) FROM accounts WHERE user_id = :user GROUP BY currency"
)
_FLOWS_SQL: dict[tuple, object] = {}


def flows_sql(has_from: bool, has_to: bool):
    key = (has_from, has_to)
    stmt = _FLOWS_SQL.get(key)
    if stmt is None:
        period = (" AND m.occurred_at >= :from_" if has_from else "") + (" AND m.occurred_at < :to" if has_to else "")
        stmt = _FLOWS_SQL[key] = text(
            "SELECT a.currency, m.category,"
            " CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount ELSE 0 END), 0) AS BIGINT),"
            " CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN -m.amount ELSE 0 END), 0) AS BIGINT)"
            " FROM movements m JOIN accounts a ON a.id = m.account_id"
            " WHERE a.user_id = :user AND m.transfer_id IS NULL"
            " AND (m.category IS NULL OR m.category <> 'opening_balance')"
            f"{period} GROUP BY a.currency, m.category"
        )
    return stmt


@app.get("/v1/overview", tags=["overview"])
async def overview_view(
    user: UserId,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
):
    async with db.read.connect() as conn:
        start, end = parse_period(from_, to)
        params = {"user": B.id(user)}
        if start is not None:
            params["from_"] = B.ts(start)
        if end is not None:
            params["to"] = B.ts(end)
        flows = (await conn.execute(flows_sql(start is not None, end is not None), params)).all()
        balances = (await conn.execute(BALANCES, {"user": params["user"]})).all()
        if not balances:
            await require_user(conn, user)
    # One order on both backends: by currency, then the null category first.
    flows = sorted(flows, key=lambda f: (f[0], f[1] is not None, f[1] or ""))
    currencies = []
    for currency, balance, accounts in sorted(balances, key=lambda b: b[0]):
        income = sum(f[2] for f in flows if f[0] == currency)
        expense = sum(f[3] for f in flows if f[0] == currency)
        if income > I64_MAX or expense > I64_MAX:
            raise RuntimeError("an overview total does not fit in 64 bits")
        currencies.append(
            {"currency": currency, "balance": balance, "income": income, "expense": expense, "accounts": accounts}
        )
    categories = [{"currency": c, "category": k, "income": i, "expense": e} for c, k, i, e in flows]
    return json_response({"currencies": currencies, "categories": categories})


__all__ = ["app", "PROBLEM_JSON"]
