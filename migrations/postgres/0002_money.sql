-- `version` counts every change of the row (the balance included); the ETag is built from it.
CREATE TABLE accounts (
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
-- Lists a user's accounts newest first (ids are UUID v7, so id order is time order).
CREATE INDEX accounts_by_user ON accounts (user_id, id);

CREATE TABLE movements (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount      BIGINT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT,
    occurred_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    transfer_id UUID
);
-- The movement list and the overview's period filter: newest occurred_at first.
CREATE INDEX movements_by_account ON movements (account_id, occurred_at, id);
CREATE INDEX movements_by_account_category ON movements (account_id, category, occurred_at, id);
-- Finds the other leg of a transfer.
CREATE INDEX movements_by_transfer ON movements (transfer_id) WHERE transfer_id IS NOT NULL;

-- One row per Idempotency-Key and user for 24 hours: the request's
-- fingerprint and the first response, replayed for the same request.
CREATE TABLE idempotency_keys (
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    status      INTEGER,
    location    TEXT,
    body        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
