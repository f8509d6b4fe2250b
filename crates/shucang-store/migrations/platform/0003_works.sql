CREATE TABLE works (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    title              TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    edition_size       INTEGER NOT NULL,
    issuer             TEXT    NOT NULL,
    copyright_evidence TEXT    NOT NULL,
    image_sha256       TEXT    NOT NULL,
    image_type         TEXT    NOT NULL,
    flags              TEXT    NOT NULL,
    created_by         INTEGER NOT NULL REFERENCES accounts(id),
    created_at         INTEGER NOT NULL,
    status             TEXT    NOT NULL,
    review_reason      TEXT,
    reviewed_by        INTEGER REFERENCES accounts(id),
    reviewed_at        INTEGER,
    collection_id      TEXT UNIQUE,
    chain_tx           TEXT,
    metadata_hash      TEXT
) STRICT;

CREATE INDEX works_status ON works(status, id);
