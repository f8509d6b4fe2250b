CREATE TABLE gifts (
    id           BIGSERIAL PRIMARY KEY,
    from_account BIGINT NOT NULL REFERENCES accounts(id),
    to_account   BIGINT NOT NULL REFERENCES accounts(id),
    collection   TEXT    NOT NULL,
    token_id     BIGINT NOT NULL,
    tx_hash      TEXT    NOT NULL UNIQUE,
    day          BIGINT NOT NULL,
    status       TEXT    NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX gifts_by_giver_day ON gifts(from_account, day);
CREATE INDEX gifts_pending ON gifts(status);
