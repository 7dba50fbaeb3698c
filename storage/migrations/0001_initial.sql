-- Reporters, their cases (drafts included) and attachments.
-- Columns holding what identifies a person or tells the incident are BLOBs sealed
-- with AES-256-GCM (storage/crypto.py); the coarse codes beside them stay plain
-- because routing and statistics need them.

CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE persons (
    id           TEXT PRIMARY KEY,          -- random, carries no meaning
    tg_index     BLOB NOT NULL UNIQUE,      -- keyed HMAC of the Telegram user id
    wrapped_key  BLOB NOT NULL,             -- this person's data key, wrapped by the master key
    telegram_id  BLOB NOT NULL,             -- sealed
    display_name BLOB NOT NULL,             -- sealed
    username     BLOB,                      -- sealed
    language     TEXT NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'en')),
    language_chosen INTEGER NOT NULL DEFAULT 0,   -- 1: set with /language; 0: follows Telegram's setting
    role         TEXT CHECK (role IN ('employee', 'council_member', 'alderman', 'mayor', 'other')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE cases (
    id                     TEXT PRIMARY KEY,
    reference              TEXT NOT NULL UNIQUE,
    person_id              TEXT REFERENCES persons(id) ON DELETE SET NULL,
    wrapped_key            BLOB NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('draft', 'new', 'acknowledged', 'in_progress', 'closed', 'withdrawn')),
    step                   TEXT,            -- where a draft stands; NULL once submitted
    category               TEXT,
    incident_date          TEXT,            -- ISO date
    channel                TEXT,
    role                   TEXT,
    audience               TEXT CHECK (audience IN ('staff', 'office_holders')),
    wish                   TEXT CHECK (wish IN ('counsellor', 'counsellor_and_register', 'anonymous_register')),
    share_name_counsellor  INTEGER NOT NULL DEFAULT 1,
    share_name_coordinator INTEGER NOT NULL DEFAULT 0,
    description            BLOB,            -- sealed
    draft_state            BLOB,            -- sealed JSON: message ids to clean up, where to return
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    submitted_at           TEXT,
    acknowledged_at        TEXT,
    acknowledged_by        BLOB,            -- keyed HMAC of the counsellor who acknowledged
    registered_at          TEXT             -- when a coordinator confirmed the registration
);
CREATE INDEX cases_by_person ON cases(person_id, status);
CREATE INDEX cases_by_status ON cases(status, submitted_at);

CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'voice', 'audio', 'video', 'video_note')),
    size        INTEGER NOT NULL,
    details     BLOB NOT NULL,              -- sealed JSON: file name, MIME type, duration
    content     BLOB NOT NULL,              -- sealed bytes
    created_at  TEXT NOT NULL,
    UNIQUE (case_id, seq)
);
