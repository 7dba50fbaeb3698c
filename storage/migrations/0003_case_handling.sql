-- Case handling: who handles each case, what they wrote, what was done, and when
-- something falls due. Also invitations, for municipalities that admit reporters
-- by invitation only, and the audit trail.

-- Reporters admitted by invitation carry the role and department the invitation named.
ALTER TABLE persons ADD COLUMN department TEXT;
ALTER TABLE persons ADD COLUMN admitted_at TEXT;

-- What the coordinators may see of a case: nothing, the content without a name, or the
-- content with the name. Set from the reporter's wish at submission, and afterwards
-- only by the reporter's own consent (or its withdrawal).
ALTER TABLE cases ADD COLUMN register TEXT NOT NULL DEFAULT 'none'
    CHECK (register IN ('none', 'anonymous', 'named', 'withdrawn'));
ALTER TABLE cases ADD COLUMN consent_asked_at TEXT;
ALTER TABLE cases ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN closed_at TEXT;
ALTER TABLE cases ADD COLUMN withdrawn_at TEXT;
ALTER TABLE cases ADD COLUMN last_news_at TEXT;    -- the last time the reporter was told something
ALTER TABLE cases ADD COLUMN department TEXT;      -- the reporter's department at submission, for statistics

UPDATE cases SET register = CASE
    WHEN wish = 'anonymous_register' THEN 'anonymous'
    WHEN wish = 'counsellor_and_register' AND share_name_coordinator = 1 THEN 'named'
    WHEN wish = 'counsellor_and_register' THEN 'anonymous'
    ELSE 'none' END
WHERE status != 'draft';

-- The counsellors on a case. 'assigned': handles it; 'alerted': asked to pick it up
-- because nobody did; 'former': handed it over; 'recused': stepped back (conflict of
-- interest). Only 'assigned' and 'alerted' give access.
CREATE TABLE case_counsellors (
    case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    staff_index  BLOB NOT NULL,              -- keyed HMAC of the counsellor's Telegram id
    state        TEXT NOT NULL CHECK (state IN ('assigned', 'alerted', 'former', 'recused')),
    since        TEXT NOT NULL,
    seen_at      TEXT,                       -- for "unread" in the inbox
    PRIMARY KEY (case_id, staff_index)
);
CREATE INDEX case_counsellors_by_staff ON case_counsellors(staff_index, state);

-- Cases delivered before this version went to every counsellor of the group.
INSERT OR IGNORE INTO case_counsellors (case_id, staff_index, state, since)
SELECT o.case_id, o.recipient_index,
       CASE WHEN c.acknowledged_by IS NULL THEN 'assigned'
            WHEN c.acknowledged_by = o.recipient_index THEN 'assigned'
            ELSE 'former' END,
       o.created_at
FROM outbox o JOIN cases c ON c.id = o.case_id
WHERE o.recipient_role = 'counsellor' AND o.kind = 'case_report';

-- A notification caused by a scheduled item carries that item's id, so running the
-- item twice (after a crash between its effect and its completion) queues it once.
ALTER TABLE outbox ADD COLUMN dedupe TEXT;
CREATE UNIQUE INDEX outbox_dedupe ON outbox(dedupe) WHERE dedupe IS NOT NULL;

-- When a coordinator last looked at a case (for "unread" in the register).
CREATE TABLE coordinator_views (
    case_id     TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    staff_index BLOB NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (case_id, staff_index)
);

-- Messages about a case. thread 'counsellor' and 'coordinator' are conversations
-- between the reporter and that role; 'case' is information the reporter added to
-- the case itself. The text is sealed under the case key.
CREATE TABLE case_messages (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    thread         TEXT NOT NULL CHECK (thread IN ('case', 'counsellor', 'coordinator')),
    author         TEXT NOT NULL CHECK (author IN ('reporter', 'counsellor', 'coordinator')),
    author_index   BLOB,                     -- staff author's keyed HMAC; NULL for the reporter
    body           BLOB,                     -- sealed
    attachment_id  TEXT REFERENCES attachments(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX case_messages_by_case ON case_messages(case_id, created_at);

-- Files added after the report belong to a message, not to the report itself.
ALTER TABLE attachments ADD COLUMN added_later INTEGER NOT NULL DEFAULT 0;

-- A counsellor's private notes: sealed, shown only to counsellors assigned to the case.
CREATE TABLE case_notes (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    author_index  BLOB NOT NULL,
    body          BLOB NOT NULL,             -- sealed
    created_at    TEXT NOT NULL
);
CREATE INDEX case_notes_by_case ON case_notes(case_id, created_at);

-- What the organisation did towards the perpetrator, and what came of it.
CREATE TABLE case_actions (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('conversation', 'warning_letter', 'access_ban', 'service_suspended',
                      'police_report_victim', 'police_report_employer', 'damages_claimed', 'nothing')),
    outcome       TEXT NOT NULL CHECK (outcome IN ('in_progress', 'completed', 'unsuccessful')),
    note          BLOB,                      -- sealed: the reason (for 'nothing') or a word on the outcome
    recorded_by   BLOB NOT NULL,
    recorded_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX case_actions_by_case ON case_actions(case_id, recorded_at);

-- What someone is typing for: the next text a person sends goes to this case and purpose.
-- Kept in the database so a restart between the button and the text loses nothing.
CREATE TABLE composing (
    person_index  BLOB PRIMARY KEY,          -- keyed HMAC of the Telegram id of whoever types
    case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    purpose       TEXT NOT NULL,             -- message, note, addition, action_note
    detail        TEXT,                      -- e.g. the thread or the action id
    started_at    TEXT NOT NULL
);

-- Single-use invitations. Only the keyed HMAC of the code is kept: a copy of the
-- database does not give anyone a working link.
CREATE TABLE invites (
    id           TEXT PRIMARY KEY,
    code_index   BLOB NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('employee', 'council_member', 'alderman', 'mayor', 'other')),
    department   TEXT,
    created_by   BLOB,                       -- the coordinator's keyed HMAC; NULL from the command line
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    used_by      TEXT REFERENCES persons(id) ON DELETE SET NULL
);

-- Things that fall due: escalations now, follow-ups later. The database is the
-- source of truth; the job queue only wakes the bot at the right moment.
CREATE TABLE scheduled (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    case_id        TEXT REFERENCES cases(id) ON DELETE CASCADE,
    due_at         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'done', 'cancelled')),
    claimed_until  TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    done_at        TEXT
);
CREATE INDEX scheduled_due ON scheduled(status, due_at);
CREATE INDEX scheduled_by_case ON scheduled(case_id, kind);

-- Who viewed or changed which case, when. No content, no reporter identity. Each entry
-- carries a keyed hash over itself and the previous entry's hash, so an edited,
-- deleted or reordered entry breaks the chain (meldbot audit verify).
CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_role   TEXT NOT NULL,              -- counsellor, coordinator, reporter, system, operator
    actor        TEXT NOT NULL,              -- staff: the name in the configuration; others: the role
    action       TEXT NOT NULL,
    case_ref     TEXT,                       -- the case reference, if any
    detail       TEXT,                       -- a coarse code (a status, an action kind), never content
    prev_hash    BLOB NOT NULL,
    hash         BLOB NOT NULL
);
