CREATE TABLE identities (
    account_id        INTEGER PRIMARY KEY REFERENCES accounts(id),
    name_enc          BLOB    NOT NULL,
    id_number_enc     BLOB    NOT NULL,
    id_number_hash    TEXT    NOT NULL UNIQUE,
    consent_version   TEXT    NOT NULL,
    consent_at        INTEGER NOT NULL,
    consent_ip        TEXT    NOT NULL,
    verified_at       INTEGER NOT NULL,
    wallet_public_key BLOB    NOT NULL,
    wallet_address    TEXT    NOT NULL UNIQUE,
    wallet_secret_enc BLOB    NOT NULL
) STRICT;
