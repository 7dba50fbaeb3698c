-- Staff enrolled by invitation, and the erasure of cases kept past the retention period.

-- A single-use link that enrols whoever opens it as staff. The code travels only in the
-- link; the database keeps its keyed HMAC. The name the link was made for is sealed with a
-- key derived from the code itself, so the database alone cannot read it.
CREATE TABLE staff_invites (
    id           TEXT PRIMARY KEY,
    code_index   BLOB NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('counsellor', 'coordinator', 'management')),
    name         BLOB,                       -- sealed with the code's key; cleared once used
    serves       TEXT NOT NULL DEFAULT '',   -- counsellors: 'staff', 'office_holders' or both, comma-separated
    language     TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    created_by   BLOB,                       -- the coordinator's keyed HMAC; NULL from the command line
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);

-- Staff beside those in the configuration. Who they are is the person row (Telegram id and
-- name sealed with the person's key); the name they go by as staff is sealed with that key too.
CREATE TABLE enrolled_staff (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    staff_index  BLOB NOT NULL,              -- keyed HMAC of the Telegram id (as persons.tg_index)
    role         TEXT NOT NULL CHECK (role IN ('counsellor', 'coordinator', 'management')),
    name         BLOB NOT NULL,              -- sealed with the person's key
    serves       TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    enrolled_at  TEXT NOT NULL,
    UNIQUE (staff_index, role)
);

-- How many cases the retention erased, per month (UTC) of erasure: a line in the statistics
-- that says nothing about the cases but their number.
CREATE TABLE retention_erasures (
    period       TEXT PRIMARY KEY,           -- 'YYYY-MM'
    erased       INTEGER NOT NULL
) WITHOUT ROWID;
