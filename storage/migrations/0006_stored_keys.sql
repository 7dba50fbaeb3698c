-- From this version the blind-index key and the audit chain's key are stored in meta,
-- wrapped by the master key (names 'index_key' and 'audit_key'), so that a new master
-- key (meldbot rotate-key) keeps every blind index and the audit chain valid; and the
-- audit trail has a genesis entry (seq 0), so that a wiped trail is noticed.
-- Both need the master key, so storage/__init__.py writes them, in one transaction, the
-- first time it opens a database at this version: a new database gets random sub-keys
-- and a genesis entry marked 'new'; an existing one keeps the sub-keys it always used
-- (derived from its master key) and a genesis entry 'upgraded:N' that adopts its N
-- entries unchanged (storage/audit.py).
SELECT 1;
