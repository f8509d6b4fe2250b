CREATE TABLE works (
    id                 BIGSERIAL PRIMARY KEY,
    title              TEXT   NOT NULL,
    description        TEXT   NOT NULL,
    edition_size       BIGINT NOT NULL,
    issuer             TEXT   NOT NULL,
    copyright_evidence TEXT   NOT NULL,
    image_sha256       TEXT   NOT NULL,
    image_type         TEXT   NOT NULL,
    flags              TEXT   NOT NULL,
    created_by         BIGINT NOT NULL REFERENCES accounts(id),
    created_at         BIGINT NOT NULL,
    status             TEXT   NOT NULL,
    review_reason      TEXT,
    reviewed_by        BIGINT REFERENCES accounts(id),
    reviewed_at        BIGINT,
    collection_id      TEXT UNIQUE,
    chain_tx           TEXT,
    metadata_hash      TEXT
);

CREATE INDEX works_status ON works(status, id);
