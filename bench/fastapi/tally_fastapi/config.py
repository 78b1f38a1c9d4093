"""Settings from the same environment variables Tally reads, so the bench
harness starts both apps the same way."""

import os
import sys
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Settings:
    backend: str  # "sqlite" or "postgres"
    sqlalchemy_url: str
    token_seed: bytes
    token_ttl: int
    smtp_host: str
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_tls: str  # "none", "starttls" or "implicit"
    mail_from: str
    pool_size: int
    pg_ssl: str = "prefer"  # libpq's sslmode, as in DATABASE_URL


def fail(variable: str, why: str):
    print(f"{variable}: {why}", file=sys.stderr)
    raise SystemExit(2)


# ANCHOR: settings
def load() -> Settings:
    url = os.environ.get("DATABASE_URL", "sqlite://tally-fastapi.db")
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].split("?", 1)[0]
        if not path or ":memory:" in path:
            fail("DATABASE_URL", "the benchmark peer needs a SQLite file (sqlite:///abs/path.db)")
        backend, sa_url = "sqlite", f"sqlite+aiosqlite:///{path}"
    elif url.startswith(("postgres://", "postgresql://")):
        base, _, query = url.split("://", 1)[1].partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        backend, sa_url = "postgres", "postgresql+asyncpg://" + base
    else:
        fail("DATABASE_URL", "expected sqlite:///path.db or postgres://…")

    key = os.environ.get("TALLY_TOKEN_KEY", "")
    try:
        seed = bytes.fromhex(key)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        fail("TALLY_TOKEN_KEY", "required: an Ed25519 seed as 64 hex characters")

    smtp = os.environ.get("TALLY_SMTP_URL")
    if not smtp:
        fail("TALLY_SMTP_URL", "required: smtp://host:port (smtps:// for implicit TLS, ?tls=starttls)")
    parts = urlsplit(smtp)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        fail("TALLY_SMTP_URL", "expected smtp://user:pass@host:port or smtps://…")
    tls = "implicit" if parts.scheme == "smtps" else ("starttls" if "tls=starttls" in parts.query else "none")

    return Settings(
        backend=backend,
        sqlalchemy_url=sa_url,
        token_seed=seed,
        token_ttl=int(os.environ.get("TALLY_TOKEN_TTL", "3600")),
        smtp_host=parts.hostname,
        smtp_port=parts.port or (465 if tls == "implicit" else 25),
        smtp_user=unquote(parts.username) if parts.username else None,
        smtp_password=unquote(parts.password) if parts.password else None,
        smtp_tls=tls,
        mail_from=os.environ.get("TALLY_MAIL_FROM", "Tally <no-reply@localhost>"),
        # Per worker process. Tally: 10 on PostgreSQL; on SQLite 3 pooled plus its writers' own.
        pool_size=int(os.environ.get("FASTAPI_POOL_SIZE", "10" if backend == "postgres" else "4")),
        pg_ssl=params.get("sslmode", "prefer") if backend == "postgres" else "prefer",
    )
# ANCHOR_END: settings
