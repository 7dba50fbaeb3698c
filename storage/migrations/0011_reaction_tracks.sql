-- The register's tracks (issue 9 §2, issue 10 §4): the clock for a reaction towards the
-- perpetrator, the task to secure camera footage, the police track and the damages track.
-- Coarse codes, dates and amounts in plaintext (statistics and exports count them); what a
-- person wrote (the reason for "no reaction", a word on an outcome) and the police report
-- number are sealed under the case's key.

-- The reaction clock (flows/lifecycle.py ReactionState): started when the case enters the
-- register, stopped only by a recorded reaction (or "no reaction, because ..."), by withdrawal
-- or by the reporter taking the case out of the register.
ALTER TABLE cases ADD COLUMN reaction TEXT NOT NULL DEFAULT 'none'
    CHECK (reaction IN ('none', 'due', 'overdue', 'escalated', 'done', 'stopped'));
ALTER TABLE cases ADD COLUMN reaction_since TEXT;    -- when the clock started (entered the register)
ALTER TABLE cases ADD COLUMN reaction_due_at TEXT;
ALTER TABLE cases ADD COLUMN reaction_at TEXT;       -- when the first reaction was recorded

-- Camera footage of an incident in person, to be secured before it is wiped.
ALTER TABLE cases ADD COLUMN footage TEXT NOT NULL DEFAULT 'none'
    CHECK (footage IN ('none', 'due', 'secured', 'no_camera'));
ALTER TABLE cases ADD COLUMN footage_due_at TEXT;
ALTER TABLE cases ADD COLUMN footage_at TEXT;

-- The police track: the date of the police report (yes/no and when, for statistics); each
-- step in case_police_steps.
ALTER TABLE cases ADD COLUMN police_reported_on TEXT;

-- The damages track: the claim as a whole; the cost items in case_cost_items.
ALTER TABLE cases ADD COLUMN damages_claim TEXT NOT NULL DEFAULT 'not_claimed'
    CHECK (damages_claim IN ('not_claimed', 'claimed', 'partly_paid', 'paid', 'rejected'));
ALTER TABLE cases ADD COLUMN damages_insurance_checked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN damages_recovered_cents INTEGER NOT NULL DEFAULT 0;

CREATE TABLE case_police_steps (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    step         TEXT NOT NULL CHECK (step IN ('reported', 'summons', 'settlement', 'conviction', 'dismissal')),
    step_date    TEXT NOT NULL,                 -- the day it happened (ISO date)
    number       BLOB,                          -- sealed: the police report number
    recorded_by  TEXT NOT NULL CHECK (recorded_by IN ('reporter', 'counsellor', 'coordinator')),
    recorded_at  TEXT NOT NULL
);
CREATE INDEX case_police_steps_by_case ON case_police_steps(case_id, recorded_at);

CREATE TABLE case_cost_items (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('property', 'medical', 'lost_time', 'other')),
    amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
    recorded_at   TEXT NOT NULL
);
CREATE INDEX case_cost_items_by_case ON case_cost_items(case_id, recorded_at);

-- The complete reaction menu: contact ban, mediation and civil action join the kinds. SQLite
-- cannot change a CHECK constraint in place, so the table is rebuilt with the same columns.
CREATE TABLE case_actions_new (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('conversation', 'warning_letter', 'access_ban', 'contact_ban',
                      'service_suspended', 'mediation', 'police_report_victim', 'police_report_employer',
                      'damages_claimed', 'civil_action', 'nothing')),
    outcome       TEXT NOT NULL CHECK (outcome IN ('in_progress', 'completed', 'unsuccessful')),
    note          BLOB,                      -- sealed: the reason (for 'nothing') or a word on the outcome
    recorded_by   BLOB NOT NULL,
    recorded_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
INSERT INTO case_actions_new (id, case_id, kind, outcome, note, recorded_by, recorded_at, updated_at)
SELECT id, case_id, kind, outcome, note, recorded_by, recorded_at, updated_at FROM case_actions;
DROP TABLE case_actions;
ALTER TABLE case_actions_new RENAME TO case_actions;
CREATE INDEX case_actions_by_case ON case_actions(case_id, recorded_at);

-- Cases that already had a reaction before the clock existed: when the first one came.
UPDATE cases SET reaction_at = (SELECT MIN(recorded_at) FROM case_actions a WHERE a.case_id = cases.id)
WHERE EXISTS (SELECT 1 FROM case_actions a WHERE a.case_id = cases.id);
UPDATE cases SET reaction = 'done'
WHERE reaction_at IS NOT NULL AND register IN ('anonymous', 'named');

-- Management (sees no case, hears of overdue reactions) and the damages helper (hears the
-- reference and the amounts) receive notifications too: the outbox is rebuilt to name them.
-- 0009's triggers on cases read the outbox: they are set aside while it is rebuilt (SQLite checks
-- every trigger when a table is renamed), and put back unchanged below.
DROP TRIGGER cases_sent_unrouted;
DROP TRIGGER cases_entered_register;
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    case_id          TEXT REFERENCES cases(id) ON DELETE CASCADE,
    recipient_index  BLOB NOT NULL,
    recipient_role   TEXT NOT NULL
                         CHECK (recipient_role IN ('counsellor', 'coordinator', 'reporter', 'management',
                                                   'damages_helper')),
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
-- As in 0009: the first notification to a coordinator marks a register case as routed.
CREATE TRIGGER outbox_routed AFTER INSERT ON outbox
WHEN NEW.recipient_role = 'coordinator' AND NEW.case_id IS NOT NULL
BEGIN
    UPDATE cases SET unrouted = unrouted & ~2 WHERE id = NEW.case_id AND unrouted & 2;
END;

CREATE TRIGGER cases_sent_unrouted AFTER UPDATE OF status ON cases
WHEN OLD.status = 'draft' AND NEW.status != 'draft'
BEGIN
    UPDATE cases SET unrouted =
        (CASE WHEN NEW.wish IN ('counsellor', 'counsellor_and_register')
              AND NOT EXISTS (SELECT 1 FROM case_counsellors cc WHERE cc.case_id = NEW.id) THEN 1 ELSE 0 END)
      | (CASE WHEN NEW.register IN ('anonymous', 'named')
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = NEW.id AND o.recipient_role = 'coordinator')
              THEN 2 ELSE 0 END)
    WHERE id = NEW.id;
END;

CREATE TRIGGER cases_entered_register AFTER UPDATE OF register ON cases
WHEN NEW.status != 'draft' AND OLD.register NOT IN ('anonymous', 'named') AND NEW.register IN ('anonymous', 'named')
BEGIN
    UPDATE cases SET unrouted = unrouted | 2
    WHERE id = NEW.id
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = NEW.id AND o.recipient_role = 'coordinator');
END;
