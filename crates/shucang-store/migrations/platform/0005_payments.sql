CREATE TABLE payments (
    id         TEXT    PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    paid_at    INTEGER
) STRICT;
CREATE INDEX payments_by_order ON payments(order_id);

-- The mint outbox: written in the same transaction that marks an order paid.
CREATE TABLE mint_jobs (
    order_id        INTEGER PRIMARY KEY REFERENCES orders(id),
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    tx_hash         TEXT,
    block_height    INTEGER,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER
) STRICT;
CREATE INDEX mint_jobs_due ON mint_jobs(status, next_attempt_at);
