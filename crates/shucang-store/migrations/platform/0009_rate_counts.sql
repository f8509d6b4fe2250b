-- Fixed-window counters of what a stranger can make the platform do
-- (registrations per address): one row per scope, subject and window,
-- counted and limited in one statement.
CREATE TABLE rate_counts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);
CREATE INDEX rate_counts_window ON rate_counts(window_start);
