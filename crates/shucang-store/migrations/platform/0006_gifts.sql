CREATE TABLE gifts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    from_account INTEGER NOT NULL REFERENCES accounts(id),
    to_account   INTEGER NOT NULL REFERENCES accounts(id),
    collection   TEXT    NOT NULL,
    token_id     INTEGER NOT NULL,
    tx_hash      TEXT    NOT NULL UNIQUE,
    day          INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX gifts_by_giver_day ON gifts(from_account, day);
CREATE INDEX gifts_pending ON gifts(status);
