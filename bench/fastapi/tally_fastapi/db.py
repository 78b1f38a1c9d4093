"""SQLAlchemy 2 (asyncio, Core) on asyncpg or aiosqlite: the engines, the
schema (Tally's tables and indexes) and the per-backend value adapters.

Reads run in autocommit (no BEGIN/COMMIT round trips); every write is one
transaction (`write.begin()`), which on SQLite starts with BEGIN IMMEDIATE so
two writers never deadlock upgrading a read lock, as in Tally."""

import uuid
from datetime import datetime, timezone

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

UTC = timezone.utc

POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id         UUID PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS otp_codes (
    id          UUID PRIMARY KEY,
    email       TEXT NOT NULL,
    code_hash   BYTEA NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS otp_codes_by_email ON otp_codes (email, created_at);
CREATE TABLE IF NOT EXISTS accounts (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    balance    BIGINT NOT NULL DEFAULT 0,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_by_user ON accounts (user_id, id);
CREATE TABLE IF NOT EXISTS movements (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount      BIGINT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT,
    occurred_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    transfer_id UUID
);
CREATE INDEX IF NOT EXISTS movements_by_account ON movements (account_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS movements_by_account_category ON movements (account_id, category, occurred_at, id);
CREATE INDEX IF NOT EXISTS movements_by_transfer ON movements (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    status      INTEGER,
    location    TEXT,
    body        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
"""

# Ids are 16-byte blobs; timestamps fixed-width RFC 3339 text in UTC
# (`2026-11-21T10:00:00.000000Z`), whose text order is time order.
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id         BLOB PRIMARY KEY NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS otp_codes (
    id          BLOB PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL,
    code_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    consumed_at TEXT
);
CREATE INDEX IF NOT EXISTS otp_codes_by_email ON otp_codes (email, created_at);
CREATE TABLE IF NOT EXISTS accounts (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    balance    INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_by_user ON accounts (user_id, id);
CREATE TABLE IF NOT EXISTS movements (
    id          BLOB PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount      INTEGER NOT NULL,
    description TEXT NOT NULL,
    category    TEXT,
    occurred_at TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    transfer_id BLOB
);
CREATE INDEX IF NOT EXISTS movements_by_account ON movements (account_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS movements_by_account_category ON movements (account_id, category, occurred_at, id);
CREATE INDEX IF NOT EXISTS movements_by_transfer ON movements (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    fingerprint   BLOB NOT NULL,
    status        INTEGER,
    location      TEXT,
    body          TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
"""


def _rfc3339_from_iso(s: str) -> str:
    """`YYYY-MM-DDTHH:MM:SS[.ffffff]` -> RFC 3339 with `Z`, the fraction in
    0, 3 or 6 digits as Tally (chrono's AutoSi) prints it."""
    if len(s) == 19:
        return s + "Z"
    frac = s[20:26]
    if frac == "000000":
        return s[:19] + "Z"
    if frac[3:] == "000":
        return s[:23] + "Z"
    return s[:26] + "Z"


class Postgres:
    name = "postgres"

    @staticmethod
    def id(u: uuid.UUID):
        return u

    @staticmethod
    def id_out(v) -> str:
        return str(v)

    @staticmethod
    def id_in(v) -> uuid.UUID:
        return uuid.UUID(bytes=v.bytes)

    @staticmethod
    def ts(dt: datetime) -> datetime:
        return dt

    @staticmethod
    def ts_out(dt: datetime) -> str:
        # asyncpg returns aware datetimes in UTC.
        return _rfc3339_from_iso(dt.replace(tzinfo=None).isoformat())

    @staticmethod
    def ts_in(v) -> datetime:
        return v

    blob = staticmethod(bytes)


class Sqlite:
    name = "sqlite"

    @staticmethod
    def id(u: uuid.UUID) -> bytes:
        return u.bytes

    @staticmethod
    def id_out(v: bytes) -> str:
        h = v.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @staticmethod
    def id_in(v: bytes) -> uuid.UUID:
        return uuid.UUID(bytes=v)

    @staticmethod
    def ts(dt: datetime) -> str:
        return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    @staticmethod
    def ts_out(v: str) -> str:
        return _rfc3339_from_iso(v[:-1])

    @staticmethod
    def ts_in(v: str) -> datetime:
        return datetime.fromisoformat(v)

    blob = staticmethod(bytes)


class Database:
    def __init__(self, settings):
        self.backend = Postgres if settings.backend == "postgres" else Sqlite
        if settings.backend == "postgres":
            engine = create_async_engine(
                settings.sqlalchemy_url,
                pool_size=settings.pool_size,
                max_overflow=0,
                pool_timeout=5,
                connect_args={"server_settings": {"application_name": "tally-fastapi"}, "ssl": settings.pg_ssl},
            )
            self.read: AsyncEngine = engine.execution_options(isolation_level="AUTOCOMMIT")
            self.write: AsyncEngine = engine
        else:
            engine = create_async_engine(
                settings.sqlalchemy_url,
                pool_size=settings.pool_size,
                max_overflow=0,
                pool_timeout=5,
                # The driver in autocommit mode: SQLAlchemy's "begin" event below
                # emits BEGIN IMMEDIATE for writes, nothing for reads.
                connect_args={"isolation_level": None, "check_same_thread": False},
                # aiosqlite runs every call on the connection's own thread, and each
                # round trip costs a thread hand-off; a read (autocommit) has nothing
                # to roll back, so skip the rollback call when a connection closes.
                skip_autocommit_rollback=True,
            )

            @event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                for pragma in (
                    "PRAGMA busy_timeout=5000",  # first, so the pragmas below wait too
                    "PRAGMA journal_mode=WAL",
                    "PRAGMA synchronous=NORMAL",
                    "PRAGMA foreign_keys=ON",
                ):
                    cursor.execute(pragma)
                cursor.close()

            @event.listens_for(engine.sync_engine, "begin")
            def _begin(conn):
                if conn.get_execution_options().get("tally_write"):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")

            @event.listens_for(engine.sync_engine, "rollback")
            def _rollback(conn):
                # skip_autocommit_rollback would skip this one too: a write's
                # BEGIN IMMEDIATE is ours, so is its ROLLBACK.
                if conn.get_execution_options().get("tally_write"):
                    conn.connection.dbapi_connection.rollback()

            self.read = engine
            self.write = engine.execution_options(tally_write=True)
        self.engine = engine

    async def create_schema(self):
        """Idempotent; run once by `prestart` before the workers start."""
        async with self.write.begin() as conn:
            if self.backend is Postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7467897)"))
                ddl = POSTGRES_SCHEMA
            else:
                ddl = SQLITE_SCHEMA
            for statement in ddl.split(";"):
                if statement.strip():
                    await conn.exec_driver_sql(statement)

    async def dispose(self):
        await self.engine.dispose()
