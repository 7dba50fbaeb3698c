-- The safety pulse for office holders (flows/pulse.py): answers are kept only as counts.

-- One row per period, question and answer: how many gave it. No row per person, no time of
-- answering, no rowid (WITHOUT ROWID: the order of insertion is not kept either).
CREATE TABLE pulse_counts (
    period    TEXT NOT NULL,     -- e.g. 2026q4 (flows/pulse.py period_key)
    question  TEXT NOT NULL,
    answer    TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (period, question, answer)
) WITHOUT ROWID;

-- Whose pulse of a period is closed (answered, declined or muted: the marker does not say
-- which), so nobody answers twice. The marker is a keyed hash of the Telegram id and the
-- period, different from the person's index in persons: the database alone cannot join it
-- to anyone. Only the current period's markers are kept.
CREATE TABLE pulse_closed (
    period    TEXT NOT NULL,
    marker    BLOB NOT NULL,
    PRIMARY KEY (period, marker)
) WITHOUT ROWID;

-- The rounds sent: a period's pulse goes out once.
CREATE TABLE pulse_rounds (
    period    TEXT PRIMARY KEY,
    opened_at TEXT NOT NULL
) WITHOUT ROWID;

-- "Never ask me again", kept on the person.
ALTER TABLE persons ADD COLUMN pulse_muted INTEGER NOT NULL DEFAULT 0;

-- Timers without a case (the pulse round) are found without reading every follow-up.
CREATE INDEX scheduled_without_case ON scheduled(kind, status) WHERE case_id IS NULL;
