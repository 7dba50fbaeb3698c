-- The case file (dossier) for the police: a request waits for the reporter's word on their
-- name (since when, and for which staff member: their keyed index and role, never a name),
-- and the reporter's last word is kept, so that `meldbot dossier` knows whether it may name them.
-- The PDF itself is never stored: it is drawn up when it is sent.
ALTER TABLE cases ADD COLUMN dossier_asked_at TEXT;
ALTER TABLE cases ADD COLUMN dossier_requester BLOB;
ALTER TABLE cases ADD COLUMN dossier_requester_role TEXT CHECK (dossier_requester_role IN ('counsellor', 'coordinator'));
ALTER TABLE cases ADD COLUMN dossier_consent TEXT CHECK (dossier_consent IN ('nm', 'n', 'm', 'x'));
