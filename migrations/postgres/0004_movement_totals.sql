-- Income and expense per account, UTC day and category (`''` for none), kept
-- by the ledger in the same transaction as each movement, so the overview
-- reads days, not movements. Transfers and opening balances are left out,
-- as the overview leaves them out.
CREATE TABLE movement_totals (
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    category   TEXT NOT NULL,
    income     BIGINT NOT NULL,
    expense    BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, category)
);

INSERT INTO movement_totals (account_id, day, category, income, expense)
SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date, COALESCE(category, ''),
       COALESCE(SUM(amount) FILTER (WHERE amount > 0), 0),
       COALESCE(-SUM(amount) FILTER (WHERE amount < 0), 0)
FROM movements
WHERE transfer_id IS NULL AND (category IS NULL OR category <> 'opening_balance')
GROUP BY 1, 2, 3;
