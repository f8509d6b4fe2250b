CREATE TABLE payments (
    id         TEXT    PRIMARY KEY,
    order_id   BIGINT NOT NULL REFERENCES orders(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    status     TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    paid_at    BIGINT
);
CREATE INDEX payments_by_order ON payments(order_id);

-- The mint outbox: written in the same transaction that marks an order paid.
CREATE TABLE mint_jobs (
    order_id        BIGINT PRIMARY KEY REFERENCES orders(id),
    status          TEXT    NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    tx_hash         TEXT,
    block_height    BIGINT,
    created_at      BIGINT NOT NULL,
    done_at         BIGINT
);
CREATE INDEX mint_jobs_due ON mint_jobs(status, next_attempt_at);
