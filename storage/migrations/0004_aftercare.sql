-- Aftercare and outcome feedback: check-ins with the reporter, their answers, and
-- what they thought of it all when the case closed.

-- Which step of a plan a scheduled item is (a check-in's number, say).
ALTER TABLE scheduled ADD COLUMN detail TEXT;

-- Where the reporter stands with the check-ins: 'active'; 'paused' for a while;
-- 'stopped' (they declined: offered once more later); 'declined' (and said no again,
-- or did not answer: left in peace).
ALTER TABLE cases ADD COLUMN aftercare TEXT NOT NULL DEFAULT 'active'
    CHECK (aftercare IN ('active', 'paused', 'stopped', 'declined'));

-- How the reporter said they were. Health information: sealed under the case key,
-- shown to the counsellor on the case only, never to coordinators.
CREATE TABLE checkin_answers (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    step         INTEGER NOT NULL,
    answer       BLOB NOT NULL,              -- sealed: fine, bothers, talk, stop
    answered_at  TEXT NOT NULL
);
CREATE INDEX checkin_answers_by_case ON checkin_answers(case_id, answered_at);

-- "Was the aftercare and feedback enough?", asked when a case closes. The answer is
-- a coarse code for the statistics; an optional comment is sealed.
CREATE TABLE surveys (
    case_id      TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    answer       TEXT CHECK (answer IN ('yes', 'partly', 'no')),
    comment      BLOB,
    asked_at     TEXT NOT NULL,
    answered_at  TEXT
);
