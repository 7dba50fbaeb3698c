-- Notifications that must reach someone, kept until Telegram has accepted them.
-- The text is rendered when it is sent, from the (sealed) case, so nothing readable
-- waits here; the recipient is named only by the keyed HMAC of their Telegram id.

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    case_id          TEXT REFERENCES cases(id) ON DELETE CASCADE,
    recipient_index  BLOB NOT NULL,
    recipient_role   TEXT NOT NULL CHECK (recipient_role IN ('counsellor', 'coordinator', 'reporter')),
    kind             TEXT NOT NULL,
    ref              TEXT,                  -- e.g. the attachment this item carries
    seq              INTEGER NOT NULL,      -- order within one case and recipient
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,                  -- an error class, never a message text
    sent_message_id  INTEGER,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_by_case ON outbox(case_id, recipient_index, seq);
