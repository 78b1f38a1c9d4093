-- Ids are UUID v7 (16-byte blobs), timestamps RFC 3339 text in UTC, so the
-- same sqlx row types read both backends.
CREATE TABLE users (
    id         BLOB PRIMARY KEY NOT NULL,
    email      TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- One row per code sent; only the newest row of an address can sign in.
CREATE TABLE otp_codes (
    id          BLOB PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL,
    code_hash   BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    consumed_at TEXT
);
CREATE INDEX otp_codes_by_email ON otp_codes (email, created_at);
