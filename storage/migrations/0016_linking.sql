-- Reports about the same person (issue 10 §2). Links are not stored: two cases are linked
-- while both let themselves be combined and share a (kind, blind_index) of perpetrator_details,
-- so switching consent off, withdrawing or erasing a case unlinks it at once.

-- When the reporter of a report outside the register was asked whether it may join the
-- registered reports that name the same person ("not alone"): asked once, never again.
ALTER TABLE cases ADD COLUMN not_alone_asked_at TEXT;
