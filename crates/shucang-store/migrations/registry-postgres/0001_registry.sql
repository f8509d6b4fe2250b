-- The filing registry's own database: users, sessions, applications,
-- attachments, filing numbers, the audit trail and the notification outbox.
CREATE TABLE reg_users (
    id BIGSERIAL PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('filer', 'reviewer', 'publisher', 'auditor')),
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    phone_verified BIGINT NOT NULL,
    email_verified BIGINT NOT NULL,
    phone_code_hash TEXT,
    phone_code_attempts BIGINT NOT NULL DEFAULT 0,
    email_token_hash TEXT UNIQUE,
    verify_expires_at BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE reg_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES reg_users(id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE reg_applications (
    id BIGSERIAL PRIMARY KEY,
    filer_id BIGINT NOT NULL REFERENCES reg_users(id),
    state TEXT NOT NULL,
    form TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    submitted_at BIGINT,
    due_date TEXT,
    decision TEXT,
    -- A pending change ({"kind":"change",...}) or cancellation (JSON).
    pending TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reg_applications_state ON reg_applications(state, due_date);
CREATE INDEX reg_applications_filer ON reg_applications(filer_id);

CREATE TABLE reg_attachments (
    id BIGSERIAL PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES reg_applications(id),
    file_name TEXT NOT NULL,
    mime TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX reg_attachments_application ON reg_attachments(application_id);

-- Publication batches (第N批): gathered, published with an objection
-- window, then final.
CREATE TABLE reg_batches (
    id BIGSERIAL PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('gathered', 'objection', 'final')),
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    window_ends TEXT,
    finalised_at BIGINT
);

-- Numbers are never reused: rows are never deleted, serials are unique.
-- The entity and service names are kept with the number for the public
-- search; batch_id is set when a batch gathers the filing.
CREATE TABLE reg_numbers (
    number TEXT PRIMARY KEY,
    serial BIGINT NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES reg_applications(id),
    filer_id BIGINT NOT NULL REFERENCES reg_users(id),
    service_index BIGINT NOT NULL,
    entity_name TEXT NOT NULL,
    service_name TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    batch_id BIGINT REFERENCES reg_batches(id)
);
CREATE INDEX reg_numbers_batch ON reg_numbers(batch_id);

CREATE TABLE reg_objections (
    id BIGSERIAL PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES reg_batches(id),
    number TEXT NOT NULL REFERENCES reg_numbers(number),
    text TEXT NOT NULL,
    contact TEXT NOT NULL,
    recorded_by BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX reg_numbers_application ON reg_numbers(application_id);
CREATE INDEX reg_numbers_filer ON reg_numbers(filer_id);

CREATE TABLE reg_audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    application_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX reg_audit_application ON reg_audit(application_id, id);

CREATE TABLE reg_outbox (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX reg_outbox_due ON reg_outbox(status, next_attempt_at);
CREATE INDEX reg_outbox_recipient ON reg_outbox(recipient, id);

-- Holiday schedules loaded by an administrator for years after the
-- built-in ones; every load is kept (who, when, what) and the latest per
-- year is in force.
CREATE TABLE reg_calendar_loads (
    id BIGSERIAL PRIMARY KEY,
    year BIGINT NOT NULL,
    schedule TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);
CREATE INDEX reg_calendar_loads_year ON reg_calendar_loads(year, id);

-- Periodic check-ins (Art. 14): a window the registry opens, and the
-- filings whose filers confirmed inside it.
CREATE TABLE reg_checkins (
    id BIGSERIAL PRIMARY KEY,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE reg_checkin_confirmations (
    checkin_id BIGINT NOT NULL REFERENCES reg_checkins(id),
    application_id BIGINT NOT NULL REFERENCES reg_applications(id),
    confirmed_by BIGINT NOT NULL,
    note TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (checkin_id, application_id)
);
