CREATE TABLE drops (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    work_id        INTEGER NOT NULL REFERENCES works(id),
    title          TEXT    NOT NULL,
    price_fen      INTEGER NOT NULL CHECK (price_fen >= 0),
    supply         INTEGER NOT NULL CHECK (supply > 0),
    edition_start  INTEGER NOT NULL CHECK (edition_start > 0),
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL,
    per_user_limit INTEGER NOT NULL CHECK (per_user_limit > 0),
    sold           INTEGER NOT NULL DEFAULT 0,
    created_by     INTEGER NOT NULL REFERENCES accounts(id),
    created_at     INTEGER NOT NULL,
    -- The invariant itself, held by the database whatever the code does.
    CHECK (sold >= 0 AND sold <= supply)
) STRICT;

CREATE TABLE drop_editions (
    drop_id  INTEGER NOT NULL REFERENCES drops(id),
    edition  INTEGER NOT NULL,
    order_id INTEGER,
    PRIMARY KEY (drop_id, edition)
) STRICT;
CREATE INDEX drop_editions_by_order ON drop_editions(order_id);

CREATE TABLE drop_buyers (
    drop_id    INTEGER NOT NULL REFERENCES drops(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (drop_id, account_id)
) STRICT;

CREATE TABLE orders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    drop_id    INTEGER NOT NULL REFERENCES drops(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    editions   TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX orders_due ON orders(status, expires_at);
CREATE INDEX orders_by_account ON orders(account_id, id);

CREATE TABLE idempotency_keys (
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) STRICT;
