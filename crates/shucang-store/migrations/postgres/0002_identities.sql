CREATE TABLE identities (
    account_id        BIGINT PRIMARY KEY REFERENCES accounts(id),
    name_enc          BYTEA  NOT NULL,
    id_number_enc     BYTEA  NOT NULL,
    id_number_hash    TEXT   NOT NULL UNIQUE,
    consent_version   TEXT   NOT NULL,
    consent_at        BIGINT NOT NULL,
    consent_ip        TEXT   NOT NULL,
    verified_at       BIGINT NOT NULL,
    wallet_public_key BYTEA  NOT NULL,
    wallet_address    TEXT   NOT NULL UNIQUE,
    wallet_secret_enc BYTEA  NOT NULL
);
