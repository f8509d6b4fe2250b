-- Every time a member of staff sees the personal data of an application
-- unmasked (a reviewer opening it, or one of its documents): who, which
-- application, what, when. Auditors read it; nothing updates or deletes it.
CREATE TABLE reg_personal_data_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES reg_users(id),
    application_id INTEGER NOT NULL,
    item TEXT NOT NULL,
    viewed_at INTEGER NOT NULL
);
CREATE INDEX reg_personal_data_views_application ON reg_personal_data_views(application_id, id);
