-- One-time SMS codes that prove a caller holds a mobile number before an
-- account is made for it: one live code per number and purpose, stored as
-- a keyed hash, with the attempts spent on it counted in the row.
CREATE TABLE phone_codes (
    phone TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (phone, purpose)
);
CREATE INDEX phone_codes_expiry ON phone_codes(expires_at);

-- Messages to send (SMS, e-mail), written with the decision they report
-- and delivered by the notifier's worker; bodies sealed at rest.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(recipient, id);
