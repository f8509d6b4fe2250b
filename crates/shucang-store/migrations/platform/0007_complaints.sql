CREATE TABLE complaints (
    ticket     TEXT    PRIMARY KEY,
    category   TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    contact    TEXT,
    account_id INTEGER REFERENCES accounts(id),
    ip         TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX complaints_by_status ON complaints(status, created_at);
