-- The filing registry's own database: users, sessions, applications,
-- attachments, filing numbers, the audit trail and the notification outbox.
CREATE TABLE reg_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL CHECK (role IN ('filer', 'reviewer', 'publisher', 'auditor')),
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    phone_verified INTEGER NOT NULL,
    email_verified INTEGER NOT NULL,
    phone_code_hash TEXT,
    phone_code_attempts INTEGER NOT NULL DEFAULT 0,
    email_token_hash TEXT UNIQUE,
    verify_expires_at INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE reg_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES reg_users(id),
    expires_at INTEGER NOT NULL
);

CREATE TABLE reg_applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filer_id INTEGER NOT NULL REFERENCES reg_users(id),
    state TEXT NOT NULL,
    form TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    submitted_at INTEGER,
    due_date TEXT,
    decision TEXT,
    -- A pending change ({"kind":"change",...}) or cancellation (JSON).
    pending TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX reg_applications_state ON reg_applications(state, due_date);
CREATE INDEX reg_applications_filer ON reg_applications(filer_id);

CREATE TABLE reg_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES reg_applications(id),
    file_name TEXT NOT NULL,
    mime TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX reg_attachments_application ON reg_attachments(application_id);

-- Publication batches (第N批): gathered, published with an objection
-- window, then final.
CREATE TABLE reg_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('gathered', 'objection', 'final')),
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    window_ends TEXT,
    finalised_at INTEGER
);

-- Numbers are never reused: rows are never deleted, serials are unique.
-- The entity and service names are kept with the number for the public
-- search; batch_id is set when a batch gathers the filing.
CREATE TABLE reg_numbers (
    number TEXT PRIMARY KEY,
    serial INTEGER NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES reg_applications(id),
    filer_id INTEGER NOT NULL REFERENCES reg_users(id),
    service_index INTEGER NOT NULL,
    entity_name TEXT NOT NULL,
    service_name TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    batch_id INTEGER REFERENCES reg_batches(id)
);
CREATE INDEX reg_numbers_batch ON reg_numbers(batch_id);

CREATE TABLE reg_objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL REFERENCES reg_batches(id),
    number TEXT NOT NULL REFERENCES reg_numbers(number),
    text TEXT NOT NULL,
    contact TEXT NOT NULL,
    recorded_by INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX reg_numbers_application ON reg_numbers(application_id);
CREATE INDEX reg_numbers_filer ON reg_numbers(filer_id);

CREATE TABLE reg_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX reg_audit_application ON reg_audit(application_id, id);

CREATE TABLE reg_outbox (
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
CREATE INDEX reg_outbox_due ON reg_outbox(status, next_attempt_at);
CREATE INDEX reg_outbox_recipient ON reg_outbox(recipient, id);

-- Holiday schedules loaded by an administrator for years after the
-- built-in ones; every load is kept (who, when, what) and the latest per
-- year is in force.
CREATE TABLE reg_calendar_loads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    year INTEGER NOT NULL,
    schedule TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at INTEGER NOT NULL
);
CREATE INDEX reg_calendar_loads_year ON reg_calendar_loads(year, id);

-- Periodic check-ins (Art. 14): a window the registry opens, and the
-- filings whose filers confirmed inside it.
CREATE TABLE reg_checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE reg_checkin_confirmations (
    checkin_id INTEGER NOT NULL REFERENCES reg_checkins(id),
    application_id INTEGER NOT NULL REFERENCES reg_applications(id),
    confirmed_by INTEGER NOT NULL,
    note TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (checkin_id, application_id)
);
