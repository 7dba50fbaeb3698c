-- How many open cases each counsellor handles, kept up to date by the database itself, so
-- that choosing the least-loaded counsellor for a new report reads a few rows whatever the
-- size of the register. "Open" is flows/lifecycle.py's OPEN (new, acknowledged,
-- in_progress); tests/test_storage_load.py checks these counts against a recount after every
-- kind of change.

-- Whether the case a row belongs to is open: each row carries it, so a row counts (state
-- 'assigned' on an open case) by its own values, however and in whatever order rows and
-- cases are deleted.
ALTER TABLE case_counsellors ADD COLUMN case_open INTEGER NOT NULL DEFAULT 0;
UPDATE case_counsellors SET case_open =
    (SELECT status IN ('new', 'acknowledged', 'in_progress') FROM cases WHERE cases.id = case_counsellors.case_id);

CREATE TABLE counsellor_load (
    staff_index  BLOB PRIMARY KEY,
    open_cases   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counsellor_load (staff_index, open_cases)
SELECT staff_index, COUNT(*) FROM case_counsellors WHERE state = 'assigned' AND case_open = 1 GROUP BY staff_index;

-- A new row learns whether its case is open (the update below counts it).
CREATE TRIGGER case_counsellors_learn_open AFTER INSERT ON case_counsellors
BEGIN
    UPDATE case_counsellors
    SET case_open = (SELECT status IN ('new', 'acknowledged', 'in_progress') FROM cases WHERE id = NEW.case_id)
    WHERE case_id = NEW.case_id AND staff_index = NEW.staff_index;
END;

-- A case opening or closing tells its rows.
CREATE TRIGGER cases_tell_open AFTER UPDATE OF status ON cases
WHEN (OLD.status IN ('new', 'acknowledged', 'in_progress')) IS NOT (NEW.status IN ('new', 'acknowledged', 'in_progress'))
BEGIN
    UPDATE case_counsellors SET case_open = (NEW.status IN ('new', 'acknowledged', 'in_progress'))
    WHERE case_id = NEW.id;
END;

-- A row starting or stopping to count.
CREATE TRIGGER counsellor_load_change AFTER UPDATE OF state, case_open ON case_counsellors
WHEN (OLD.state = 'assigned' AND OLD.case_open = 1) IS NOT (NEW.state = 'assigned' AND NEW.case_open = 1)
BEGIN
    INSERT INTO counsellor_load (staff_index, open_cases)
    VALUES (NEW.staff_index, CASE WHEN NEW.state = 'assigned' AND NEW.case_open = 1 THEN 1 ELSE -1 END)
    ON CONFLICT (staff_index) DO UPDATE SET open_cases = open_cases + excluded.open_cases;
END;

-- A counting row deleted (the case erased).
CREATE TRIGGER counsellor_load_delete AFTER DELETE ON case_counsellors
WHEN OLD.state = 'assigned' AND OLD.case_open = 1
BEGIN
    UPDATE counsellor_load SET open_cases = open_cases - 1 WHERE staff_index = OLD.staff_index;
END;

-- Cases waiting to be routed, found at start-up without reading every open case: bit 1, it
-- needs a counsellor and never had one (none was configured, or none may take it); bit 2, it
-- is in the register and never went to a coordinator (none was configured). Set when a case
-- is sent or enters the register, cleared by the first counsellor row or coordinator
-- notification; Cases.without_counsellor and without_coordinator_delivery read them.
ALTER TABLE cases ADD COLUMN unrouted INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET unrouted =
    (CASE WHEN wish IN ('counsellor', 'counsellor_and_register')
          AND NOT EXISTS (SELECT 1 FROM case_counsellors cc WHERE cc.case_id = cases.id) THEN 1 ELSE 0 END)
  | (CASE WHEN register IN ('anonymous', 'named')
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = cases.id AND o.recipient_role = 'coordinator')
          THEN 2 ELSE 0 END)
WHERE status != 'draft';
CREATE INDEX cases_unrouted ON cases(submitted_at, id) WHERE unrouted != 0;

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

CREATE TRIGGER case_counsellors_routed AFTER INSERT ON case_counsellors
BEGIN
    UPDATE cases SET unrouted = unrouted & ~1 WHERE id = NEW.case_id AND unrouted & 1;
END;

CREATE TRIGGER outbox_routed AFTER INSERT ON outbox
WHEN NEW.recipient_role = 'coordinator' AND NEW.case_id IS NOT NULL
BEGIN
    UPDATE cases SET unrouted = unrouted & ~2 WHERE id = NEW.case_id AND unrouted & 2;
END;

-- The register filtered on one status (closed, withdrawn): read on this index, newest first,
-- rather than past every newer case of another status.
CREATE INDEX cases_in_register_by_status ON cases(status, submitted_at, id)
    WHERE register IN ('anonymous', 'named') AND status != 'draft';
