-- Expired sessions are purged by expiry.
CREATE INDEX reg_sessions_expiry ON reg_sessions(expires_at);

-- Fixed-window counters of what a stranger can make the registry do
-- (registrations per address, messages per e-mail address): one row per
-- scope, subject and window, counted and limited in one statement.
CREATE TABLE reg_rate_counts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);
CREATE INDEX reg_rate_counts_window ON reg_rate_counts(window_start);
