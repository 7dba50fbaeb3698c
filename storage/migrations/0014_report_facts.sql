-- The coarse facts of every submitted report, for the statistics (flows/statistics.py,
-- flows/lifecycle.py SubmittedFacts and FactsUpdate): codes and whole hours, never content or
-- identity, and in plain sight no link to the case or the person. The row's random id is kept
-- only inside its case's sealed state (cases.draft_state), so a change to the case can update
-- its facts while the case exists; once the case is erased, its key and with it that link are
-- gone, and the row stays as a count that belongs to no one. WITHOUT ROWID on a random key:
-- the order of the rows says nothing about the order of the reports. No time stamps: a month,
-- and durations in whole hours.
-- Reports filed before this migration are not counted: their month in the municipality's time
-- zone and their link cannot be worked out in SQL (the statistics start with this version).
CREATE TABLE report_facts (
    id                  TEXT PRIMARY KEY,
    month               TEXT NOT NULL,               -- 'YYYY-MM' it was sent, in the municipality's time zone
    forms               TEXT NOT NULL,               -- sorted, comma-separated form codes
    channel             TEXT NOT NULL,
    role                TEXT NOT NULL,
    department          TEXT,
    work_process        TEXT,
    perpetrator         TEXT,                        -- NULL: not asked
    in_register         INTEGER NOT NULL,
    acknowledged_hours  INTEGER,                     -- the first acknowledgement, hours after sending
    reaction_hours      INTEGER,                     -- the first reaction towards the perpetrator, hours after registration
    police_report       INTEGER NOT NULL DEFAULT 0,
    damages_claimed     INTEGER NOT NULL DEFAULT 0,
    survey              TEXT,                        -- was the aftercare and feedback enough? yes/partly/no
    latest_checkin      TEXT                         -- the latest check-in answer
) WITHOUT ROWID;

-- A number that changes whenever a fact of a month that has ended changes (storage/facts.py
-- update_in), so that /stats can reuse what it worked out while none did. A new report, and
-- a change to one of this month, leave it alone: the statistics show whole months only.
CREATE TABLE report_facts_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO report_facts_version (id, version) VALUES (1, 0);
