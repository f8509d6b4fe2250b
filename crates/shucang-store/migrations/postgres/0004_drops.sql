CREATE TABLE drops (
    id             BIGSERIAL PRIMARY KEY,
    work_id        BIGINT NOT NULL REFERENCES works(id),
    title          TEXT    NOT NULL,
    price_fen      BIGINT NOT NULL CHECK (price_fen >= 0),
    supply         BIGINT NOT NULL CHECK (supply > 0),
    edition_start  BIGINT NOT NULL CHECK (edition_start > 0),
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    per_user_limit BIGINT NOT NULL CHECK (per_user_limit > 0),
    sold           BIGINT NOT NULL DEFAULT 0,
    created_by     BIGINT NOT NULL REFERENCES accounts(id),
    created_at     BIGINT NOT NULL,
    -- The invariant itself, held by the database whatever the code does.
    CHECK (sold >= 0 AND sold <= supply)
);

CREATE TABLE drop_editions (
    drop_id  BIGINT NOT NULL REFERENCES drops(id),
    edition  BIGINT NOT NULL,
    order_id BIGINT,
    PRIMARY KEY (drop_id, edition)
);
CREATE INDEX drop_editions_by_order ON drop_editions(order_id);

CREATE TABLE drop_buyers (
    drop_id    BIGINT NOT NULL REFERENCES drops(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    quantity   BIGINT NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (drop_id, account_id)
);

CREATE TABLE orders (
    id         BIGSERIAL PRIMARY KEY,
    drop_id    BIGINT NOT NULL REFERENCES drops(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    status     TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    editions   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX orders_due ON orders(status, expires_at);
CREATE INDEX orders_by_account ON orders(account_id, id);

CREATE TABLE idempotency_keys (
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    order_id     BIGINT NOT NULL REFERENCES orders(id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
