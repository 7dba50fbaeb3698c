-- What the register needs, asked in the intake (issue 9 §1, issue 10 §1).

-- An incident combines forms: the single category becomes a set, kept as the sorted,
-- comma-separated form codes (flows/model.py forms_code), e.g. 'threat,verbal_aggression'.
-- Every old category is a form of the same name.
ALTER TABLE cases ADD COLUMN forms TEXT;
UPDATE cases SET forms = category WHERE category IS NOT NULL;
ALTER TABLE cases DROP COLUMN category;
-- Drafts that stood at the old question stand at its successor.
UPDATE cases SET step = 'forms' WHERE step = 'category';

-- Who the perpetrator was, coarsely (flows/model.py Perpetrator), and whether the reporter
-- knows them by name: codes for the register and statistics, never an identity.
ALTER TABLE cases ADD COLUMN perpetrator TEXT
    CHECK (perpetrator IN ('citizen_client', 'business_owner', 'colleague_or_office_holder', 'other', 'unknown'));
ALTER TABLE cases ADD COLUMN perpetrator_named INTEGER;   -- 1 known by name, 0 not; NULL unanswered
-- The work process the incident happened in ([organisation] work_processes), NULL when skipped.
ALTER TABLE cases ADD COLUMN work_process TEXT;
-- The reporter lets this report be combined with other reports about the same person.
ALTER TABLE cases ADD COLUMN link_consent INTEGER NOT NULL DEFAULT 0;

-- What the incident did to the reporter and whether it influenced a decision they took, asked
-- kindly at the first check-in: coarse codes for statistics and the register export.
ALTER TABLE cases ADD COLUMN consequences TEXT;          -- sorted comma list (flows/model.py Consequence); '' none; NULL not told
ALTER TABLE cases ADD COLUMN influenced_decision INTEGER; -- 1 yes, 0 no; NULL not told (or rather not say)

-- Asked once and remembered: the work process a person usually reports from, and whether
-- they were asked (a skipped question is not asked again).
ALTER TABLE persons ADD COLUMN work_process TEXT;
ALTER TABLE persons ADD COLUMN work_process_asked INTEGER NOT NULL DEFAULT 0;

-- Who did it, kept safely: each detail sealed (bound to this table, column and row) and,
-- beside it, the keyed blind index of its canonical form (flows/perpetrator.py), under a
-- key derived for this purpose only; NULL when the detail cannot identify anyone (a free
-- description, "onbekend", a bare first name). Equal indexes mean equal identifiers.
CREATE TABLE perpetrator_details (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('name', 'handle', 'phone', 'email', 'plate', 'place', 'description')),
    value       BLOB NOT NULL,                -- sealed
    blind_index BLOB,                         -- keyed HMAC of the canonical form, or NULL
    added_by    TEXT NOT NULL CHECK (added_by IN ('reporter', 'counsellor', 'coordinator')),
    created_at  TEXT NOT NULL
);
CREATE INDEX perpetrator_details_of_case ON perpetrator_details(case_id, created_at);
CREATE INDEX perpetrator_details_by_index ON perpetrator_details(kind, blind_index) WHERE blind_index IS NOT NULL;
