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

-- The characters and character pairs of each filing's entity name (ASCII
-- lower-cased), so that the public search by part of a name looks its
-- candidates up by index instead of scanning every filing; filled when a
-- number is issued, and here for the numbers issued before.
CREATE TABLE reg_name_grams (
    gram TEXT NOT NULL,
    number TEXT NOT NULL REFERENCES reg_numbers(number),
    PRIMARY KEY (gram, number)
);
INSERT INTO reg_name_grams (gram, number)
WITH RECURSIVE positions (number, name, i) AS (
    SELECT number, lower(entity_name), 1 FROM reg_numbers WHERE entity_name <> ''
    UNION ALL
    SELECT number, name, i + 1 FROM positions WHERE i < length(name)
)
SELECT DISTINCT substr(name, i, 1), number FROM positions
UNION
SELECT DISTINCT substr(name, i, 2), number FROM positions WHERE i < length(name);
