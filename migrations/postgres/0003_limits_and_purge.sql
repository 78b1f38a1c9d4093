-- Sign-in requests per client address and hour, shared by every instance.
CREATE TABLE signin_hits (
    client       TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (client, window_start)
);
CREATE INDEX signin_hits_by_age ON signin_hits (window_start);
-- The purge finds what is past its window without a full scan.
CREATE INDEX otp_codes_by_age ON otp_codes (created_at);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
