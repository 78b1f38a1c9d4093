-- Income and expense per account, UTC day and category (`''` for none), kept
-- by the ledger in the same transaction as each movement, so the overview
-- reads days, not movements. Transfers and opening balances are left out,
-- as the overview leaves them out.
CREATE TABLE movement_totals (
    account_id BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    category   TEXT NOT NULL,
    income     INTEGER NOT NULL,
    expense    INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, category)
) WITHOUT ROWID;

INSERT INTO movement_totals (account_id, day, category, income, expense)
SELECT account_id, substr(occurred_at, 1, 10), COALESCE(category, ''),
       COALESCE(SUM(CASE WHEN amount > 0 THEN amount END), 0),
       COALESCE(-SUM(CASE WHEN amount < 0 THEN amount END), 0)
FROM movements
WHERE transfer_id IS NULL AND (category IS NULL OR category <> 'opening_balance')
GROUP BY 1, 2, 3;
