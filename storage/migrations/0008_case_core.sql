-- Lists that cost the same whatever the size of the register: each is read page by page on
-- an index, newest first, starting after (or before) a case (keyset paging).

-- A counsellor's inbox is read from case_counsellors in order of the cases' submission.
ALTER TABLE case_counsellors ADD COLUMN case_submitted_at TEXT;
UPDATE case_counsellors SET case_submitted_at = (SELECT submitted_at FROM cases WHERE cases.id = case_counsellors.case_id);
CREATE INDEX case_counsellors_inbox ON case_counsellors(staff_index, case_submitted_at, case_id)
    WHERE state IN ('assigned', 'alerted');

-- When the reporter last wrote: "something new" in a list without reading the messages.
ALTER TABLE cases ADD COLUMN last_reporter_at TEXT;
UPDATE cases SET last_reporter_at =
    (SELECT MAX(created_at) FROM case_messages m WHERE m.case_id = cases.id AND m.author = 'reporter');

-- The coordinators' register and a reporter's own cases.
CREATE INDEX cases_in_register ON cases(submitted_at, id)
    WHERE register IN ('anonymous', 'named') AND status != 'draft';
CREATE INDEX cases_of_person ON cases(person_id, submitted_at, id) WHERE status != 'draft';
