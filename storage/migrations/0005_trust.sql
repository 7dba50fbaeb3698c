-- What may be sent is decided when it is sent: an outbox item the recipient may no longer
-- receive is 'dropped' (last_error says why: withdrawn, not in the register, readdressed to
-- whoever handles the case now), which is not a failure. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with the same columns.
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    case_id          TEXT REFERENCES cases(id) ON DELETE CASCADE,
    recipient_index  BLOB NOT NULL,
    recipient_role   TEXT NOT NULL CHECK (recipient_role IN ('counsellor', 'coordinator', 'reporter')),
    kind             TEXT NOT NULL,
    ref              TEXT,
    seq              INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,
    sent_message_id  INTEGER,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    dedupe           TEXT
);
INSERT INTO outbox_new (id, case_id, recipient_index, recipient_role, kind, ref, seq, status, attempts,
                        next_attempt_at, claimed_until, last_error, sent_message_id, created_at, sent_at, dedupe)
SELECT id, case_id, recipient_index, recipient_role, kind, ref, seq, status, attempts,
       next_attempt_at, claimed_until, last_error, sent_message_id, created_at, sent_at, dedupe
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_by_case ON outbox(case_id, recipient_index, seq);
CREATE INDEX outbox_by_recipient ON outbox(recipient_index, status);
CREATE UNIQUE INDEX outbox_dedupe ON outbox(dedupe) WHERE dedupe IS NOT NULL;

-- Conflict of interest: people the reporter does not want to see this report (for example
-- the counsellor who is involved). They never receive it, never see it in a list, and are
-- never alerted about it. Staff are named by the keyed HMAC of their Telegram id.
CREATE TABLE case_exclusions (
    case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    staff_index  BLOB NOT NULL,
    PRIMARY KEY (case_id, staff_index)
);
